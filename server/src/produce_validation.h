// Checks a produce against the server's limits and turns it into an engine append. Shared by the
// unary Produce and ProduceStream so both refuse the same requests with the same words.
#pragma once

#include <cstdint>

#include "goethe/engine/event_log.h"
#include "goethe/engine/status.h"
#include "goethe/engine/types.h"
#include "goethe/v1/goethe.pb.h"

namespace goethe::server {

struct ProduceLimits {
  std::uint64_t max_events_per_produce = 0;
  std::uint64_t max_event_bytes = 0;
  bool auto_create_topics = true;
};

// INVALID_ARGUMENT: bad topic name, no events, both `payloads` and `events`, an event over
// max_event_bytes (payload, key and headers; naming its index, size and the limit).
// RESOURCE_EXHAUSTED: more events than max_events_per_produce. The events are moved out of
// `request`. (Keys and header names are checked by the engine.)
Result<AppendRequest> ToAppendRequest(v1::ProduceRequest&& request, const ProduceLimits& limits);

// As ToAppendRequest for each topic, the error naming the topic; max_events_per_produce counts the
// events of all topics. INVALID_ARGUMENT: no topics.
Result<MultiAppendRequest> ToMultiAppendRequest(v1::ProduceMultiRequest&& request, const ProduceLimits& limits);

// The next offset of the topic whose part failed an append across topics (0 when no single part
// failed), for AppendFailure and the `goethe-next-offset` trailer.
std::uint64_t FailedNextOffset(const MultiAppendOutcome& outcome);

// The status to report for a failed append: the engine's, with the topic's actual next offset
// spelled out on an expected-offset conflict (ABORTED) if the engine's message lacks it.
Status AppendFailure(const Status& status, std::uint64_t next_offset);

}  // namespace goethe::server
