// Conversions between the engine's plain values and the goethe.v1 messages. No policy lives here:
// limits and validation are the service's, storage rules the engine's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <grpcpp/support/status.h>

#include "goethe/engine/event_log.h"
#include "goethe/engine/status.h"
#include "goethe/engine/types.h"
#include "goethe/v1/goethe.pb.h"

namespace goethe::server {

// The engine's start position for `proto` (unset: beginning). A cursor position needs `consumer`.
Result<StartPosition> FromProto(const v1::StartPosition& proto, const std::string& consumer);

TopicSettings FromProto(const v1::TopicSettings& proto);

// `default_granularity_ns` fills in the time-index granularity of a topic that uses the default.
void ToProto(const TopicInfo& info, std::int64_t default_granularity_ns, v1::Topic* out);
void ToProto(const CursorInfo& cursor, v1::Cursor* out);
// Reuses the capacity of `out`'s strings and header messages (a response's events are reused).
void ToProto(const EventView& event, v1::Event* out);
void ToProto(Event&& event, v1::Event* out);
void ToProto(const AppendResult& result, std::uint64_t next_offset, v1::ProduceResponse* out);
void ToProto(const MultiAppendOutcome& outcome, v1::ProduceMultiResponse* out);
GroupSettings FromProto(const v1::GroupSettings& proto);  // as given; request_validation.h checks it
void ToProto(const GroupInfo& info, v1::Group* out);
void ToProto(const GroupPendingEvent& pending, v1::PendingEvent* out);
// The filter as given; request_validation.h checks it.
EventFilter FromProto(const v1::EventFilter& proto);
// A refused stream batch's error (its code and message).
void ToProto(const grpc::Status& status, v1::Error* out);

}  // namespace goethe::server
