#include "request_validation.h"

#include <algorithm>
#include <string>

#include "goethe/engine/event_log.h"
#include "proto_convert.h"

namespace goethe::server {
namespace {

Status ValidateNames(const std::string& topic, const std::string& consumer) {
  if (Status s = EventLog::ValidateTopicName(topic); !s.ok()) return s;
  return EventLog::ValidateConsumerName(consumer);
}

// Seek and subscribe name a consumer only to start at its cursor (or, subscribing, to commit acks).
Status ValidateNamesConsumerOptional(const std::string& topic, const std::string& consumer) {
  if (consumer.empty()) return EventLog::ValidateTopicName(topic);
  return ValidateNames(topic, consumer);
}

}  // namespace

Result<EventFilter> ToEventFilter(const v1::EventFilter& proto) {
  if (proto.key().size() > 255)
    return InvalidArgument("filter.key is " + std::to_string(proto.key().size()) + " bytes; keys are at most 255");
  if (proto.headers_size() > kMaxFilterHeaders)
    return InvalidArgument("filter.headers names " + std::to_string(proto.headers_size()) + " headers; at most " +
                           std::to_string(kMaxFilterHeaders));
  for (const v1::Header& h : proto.headers()) {
    if (Status s = EventLog::ValidateHeaderName(h.name()); !s.ok()) return InvalidArgument("filter.headers: " + s.message());
  }
  return FromProto(proto);
}

Result<ReadRequest> ToReadRequest(const v1::ReadRequest& request) {
  if (Status s = EventLog::ValidateTopicName(request.topic()); !s.ok()) return s;
  Result<EventFilter> filter = ToEventFilter(request.filter());
  if (!filter.ok()) return filter.status();
  ReadRequest read;
  read.filter = std::move(filter).value();
  read.topic = request.topic();
  read.from_offset = request.from_offset();
  read.max_events = request.max_events() == 0 ? kDefaultReadEvents : std::min(request.max_events(), kMaxReadEvents);
  read.max_bytes = request.max_bytes() == 0 ? kDefaultReadBytes : std::min(request.max_bytes(), kMaxReadBytes);
  return read;
}

Result<StartPosition> ToStartPosition(const v1::SeekRequest& request) {
  if (Status s = ValidateNamesConsumerOptional(request.topic(), request.consumer()); !s.ok()) return s;
  return FromProto(request.start(), request.consumer());
}

Result<StartPosition> ToStartPosition(const v1::Subscribe& subscribe, std::uint32_t max_consume_window) {
  if (Status s = ValidateNamesConsumerOptional(subscribe.topic(), subscribe.consumer()); !s.ok()) return s;
  if (subscribe.window() > max_consume_window)
    return InvalidArgument("window " + std::to_string(subscribe.window()) + " is above the server's limit of " +
                           std::to_string(max_consume_window) + " (server.max_consume_window)");
  if (Result<EventFilter> filter = ToEventFilter(subscribe.filter()); !filter.ok()) return filter.status();
  return FromProto(subscribe.start(), subscribe.consumer());
}

Status ValidateGroupNames(const std::string& topic, const std::string& group) {
  if (Status s = EventLog::ValidateTopicName(topic); !s.ok()) return s;
  return EventLog::ValidateGroupName(group);
}

Result<GroupSettings> ToGroupSettings(const std::string& topic, const std::string& group, const v1::GroupSettings& proto) {
  if (proto.ack_wait().seconds() < 0 || proto.ack_wait().nanos() < 0)
    return InvalidArgument("group setting ack_wait must not be negative");
  GroupSettings settings = FromProto(proto);
  if (Status s = EventLog::ValidateGroupSettings(topic, group, &settings); !s.ok()) return s;
  return settings;
}

Result<StartPosition> ToGroupStart(const std::string& topic, const std::string& group, const v1::StartPosition& start) {
  if (Status s = ValidateGroupNames(topic, group); !s.ok()) return s;
  if (start.has_cursor())
    return InvalidArgument("a group starts at the beginning, the end, an offset or a time, not at a cursor");
  return FromProto(start, "");
}

Result<GroupSubscription> ToGroupSubscription(const v1::Subscribe& subscribe, std::uint32_t max_consume_window) {
  if (!subscribe.consumer().empty() || subscribe.read_only() || subscribe.has_filter())
    return InvalidArgument("a group subscribe takes no consumer, read_only or filter: the group keeps the position");
  if (subscribe.window() > max_consume_window)
    return InvalidArgument("window " + std::to_string(subscribe.window()) + " is above the server's limit of " +
                           std::to_string(max_consume_window) + " (server.max_consume_window)");
  GroupSubscription subscription;
  subscription.group = subscribe.group().name();
  Result<StartPosition> start = ToGroupStart(subscribe.topic(), subscription.group, subscribe.start());
  if (!start.ok()) return start.status();
  subscription.start = *start;
  Result<GroupSettings> settings = ToGroupSettings(subscribe.topic(), subscription.group, subscribe.group().settings());
  if (!settings.ok()) return settings.status();
  subscription.settings = std::move(settings).value();
  return subscription;
}

Result<std::chrono::nanoseconds> ToNackDelay(const v1::Nack& nack) {
  const auto& d = nack.delay();
  if (d.seconds() < 0 || d.nanos() < 0) return InvalidArgument("nack delay must not be negative");
  if (d.seconds() > 7 * 24 * 3600) return InvalidArgument("nack delay must be at most 7d");
  return std::chrono::seconds(d.seconds()) + std::chrono::nanoseconds(d.nanos());
}

std::size_t PendingPageSize(const v1::DescribeGroupRequest& request) {
  return request.max_pending() == 0 ? 100 : std::min<std::size_t>(request.max_pending(), 10000);
}

Status ValidateAck(std::uint64_t offset, std::uint64_t next_offset) {
  if (offset < next_offset) return Status::Ok();
  return InvalidArgument("ack of offset " + std::to_string(offset) +
                         ", which this stream has not delivered (the next offset to deliver is " +
                         std::to_string(next_offset) + ")");
}

Status Validate(const v1::GetCursorRequest& request) { return ValidateNames(request.topic(), request.consumer()); }
Status Validate(const v1::CommitCursorRequest& request) { return ValidateNames(request.topic(), request.consumer()); }
Status Validate(const v1::ListCursorsRequest& request) { return EventLog::ValidateTopicName(request.topic()); }
Status Validate(const v1::DeleteCursorRequest& request) { return ValidateNames(request.topic(), request.consumer()); }

Result<TopicSettings> ToTopicSettings(const v1::CreateTopicRequest& request) {
  if (Status s = EventLog::ValidateTopicName(request.topic()); !s.ok()) return s;
  const v1::TopicSettings& proto = request.settings();
  if (proto.retention_age().seconds() < 0 || proto.retention_age().nanos() < 0)
    return InvalidArgument("settings.retention_age must not be negative");
  TopicSettings settings = FromProto(proto);
  if (proto.index_granularity().seconds() < 0 || proto.index_granularity().nanos() < 0 ||
      (proto.has_index_granularity() && settings.index_granularity_ns == 0))
    return InvalidArgument("settings.index_granularity must be positive when set");
  return settings;
}

Status Validate(const v1::DeleteTopicRequest& request) { return EventLog::ValidateTopicName(request.topic()); }
Status Validate(const v1::DescribeTopicRequest& request) { return EventLog::ValidateTopicName(request.topic()); }

}  // namespace goethe::server
