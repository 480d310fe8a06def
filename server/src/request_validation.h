// The checks each RPC makes on its request before anything reaches the engine, as pure functions of
// the request and the server's limits. The handlers and stream reactors call them, and so does the
// fuzz target tests/fuzz/fuzz_requests.cc: the fuzzer runs exactly the server's checks.
//
// Every refusal is INVALID_ARGUMENT unless said otherwise. Access control (access_policy.h) is not
// here: it runs first, on the caller and the topic. Produce and each ProduceStream batch go through
// ToAppendRequest (produce_validation.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "goethe/engine/status.h"
#include "goethe/engine/groups.h"
#include "goethe/engine/types.h"
#include "goethe/v1/goethe.pb.h"
#include "produce_validation.h"

namespace goethe::server {

// What a Read page holds when the request leaves it open (0), and at most.
constexpr std::uint32_t kDefaultReadEvents = 100;
constexpr std::uint32_t kMaxReadEvents = 10000;
constexpr std::uint64_t kDefaultReadBytes = 1 << 20;
constexpr std::uint64_t kMaxReadBytes = 16 << 20;

// The most header matches one filter may ask for.
constexpr int kMaxFilterHeaders = 16;

// A filter of Read or Consume: a key of at most 255 bytes, at most kMaxFilterHeaders headers with
// valid names.
Result<EventFilter> ToEventFilter(const v1::EventFilter& proto);

// Read: a valid topic and filter; the page size with defaults filled in and caps applied.
Result<ReadRequest> ToReadRequest(const v1::ReadRequest& request);

// Seek: a valid topic, a valid consumer when one is named, and a start position (a cursor start
// needs the consumer).
Result<StartPosition> ToStartPosition(const v1::SeekRequest& request);

// Consume's subscribe: as Seek, a window no larger than `max_consume_window`, and a valid filter
// (ToEventFilter).
Result<StartPosition> ToStartPosition(const v1::Subscribe& subscribe, std::uint32_t max_consume_window);

// Consume's subscribe with `group`: what JoinGroup takes. The topic, group name, window and
// settings are checked; `consumer`, `read_only` and `filter` must be unset; the start may not be a
// cursor.
struct GroupSubscription {
  std::string group;
  GroupSettings settings;  // defaults filled in
  StartPosition start;
};
Result<GroupSubscription> ToGroupSubscription(const v1::Subscribe& subscribe, std::uint32_t max_consume_window);

// A nack's delay: not negative, at most 7 days.
Result<std::chrono::nanoseconds> ToNackDelay(const v1::Nack& nack);

// Group RPCs: a valid topic and group; settings in range (defaults filled in); a start that is not
// a cursor. DescribeGroup's page of pending events: 0 means 100, capped at 10000.
Result<GroupSettings> ToGroupSettings(const std::string& topic, const std::string& group, const v1::GroupSettings& proto);
Result<StartPosition> ToGroupStart(const std::string& topic, const std::string& group, const v1::StartPosition& start);
Status ValidateGroupNames(const std::string& topic, const std::string& group);
std::size_t PendingPageSize(const v1::DescribeGroupRequest& request);

// Consume's ack: only an offset the stream has delivered, i.e. below `next_offset`, the next one
// it would deliver.
Status ValidateAck(std::uint64_t offset, std::uint64_t next_offset);

// Cursors: a valid topic, and a valid consumer where the RPC names one.
Status Validate(const v1::GetCursorRequest& request);
Status Validate(const v1::CommitCursorRequest& request);
Status Validate(const v1::ListCursorsRequest& request);
Status Validate(const v1::DeleteCursorRequest& request);

// CreateTopic: a valid topic; no negative retention age; an index granularity that is positive
// when set.
Result<TopicSettings> ToTopicSettings(const v1::CreateTopicRequest& request);

// DeleteTopic and DescribeTopic: a valid topic. ListTopics has nothing to check.
Status Validate(const v1::DeleteTopicRequest& request);
Status Validate(const v1::DescribeTopicRequest& request);

}  // namespace goethe::server
