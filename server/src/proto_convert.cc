#include "proto_convert.h"

#include <limits>

namespace goethe::server {
namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;

// Saturates instead of overflowing: a time far outside int64 nanoseconds (years beyond 2262)
// still means "before everything" or "after everything" to the nearest rule.
std::int64_t ToNanos(std::int64_t seconds, std::int64_t nanos) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  if (seconds > kMax / kNanosPerSecond - 1) return kMax;
  if (seconds < kMin / kNanosPerSecond + 1) return kMin;
  // Valid messages keep nanos within a second, but the wire allows any int32 (about ±2 s), which
  // can still carry a time at the edge of that range past it.
  std::int64_t total = 0;
  if (__builtin_add_overflow(seconds * kNanosPerSecond, nanos, &total)) return nanos > 0 ? kMax : kMin;
  return total;
}

ResetPolicy FromProto(v1::ResetPolicy policy) {
  switch (policy) {
    case v1::RESET_POLICY_LATEST: return ResetPolicy::kLatest;
    case v1::RESET_POLICY_ERROR: return ResetPolicy::kError;
    default: return ResetPolicy::kEarliest;
  }
}
v1::ResetPolicy ToProto(ResetPolicy policy) {
  switch (policy) {
    case ResetPolicy::kLatest: return v1::RESET_POLICY_LATEST;
    case ResetPolicy::kError: return v1::RESET_POLICY_ERROR;
    case ResetPolicy::kEarliest: break;
  }
  return v1::RESET_POLICY_EARLIEST;
}

std::int64_t ToNanos(const google::protobuf::Duration& d) { return ToNanos(d.seconds(), d.nanos()); }

void ToDuration(std::int64_t nanos, google::protobuf::Duration* out) {
  out->set_seconds(nanos / kNanosPerSecond);
  out->set_nanos(static_cast<std::int32_t>(nanos % kNanosPerSecond));
}

}  // namespace

Result<StartPosition> FromProto(const v1::StartPosition& proto, const std::string& consumer) {
  StartPosition position;
  position.consumer = consumer;
  switch (proto.position_case()) {
    case v1::StartPosition::POSITION_NOT_SET:
    case v1::StartPosition::kBeginning:
      position.kind = StartPosition::Kind::kBeginning;
      break;
    case v1::StartPosition::kEnd:
      position.kind = StartPosition::Kind::kEnd;
      break;
    case v1::StartPosition::kOffset:
      position.kind = StartPosition::Kind::kOffset;
      position.offset = proto.offset();
      break;
    case v1::StartPosition::kTime:
      position.kind = StartPosition::Kind::kTime;
      position.time_ns = ToNanos(proto.time().seconds(), proto.time().nanos());
      break;
    case v1::StartPosition::kTimeUnixNanos:
      position.kind = StartPosition::Kind::kTime;
      position.time_ns = proto.time_unix_nanos();
      break;
    case v1::StartPosition::kCursor: {
      if (consumer.empty())
        return InvalidArgument("start position 'cursor' needs a consumer name");
      position.kind = StartPosition::Kind::kCursor;
      const v1::CursorStart& cursor = proto.cursor();
      position.fallback = cursor.fallback() == v1::CURSOR_FALLBACK_END ? StartPosition::Kind::kEnd
                                                                        : StartPosition::Kind::kBeginning;
      position.reset = FromProto(cursor.reset_policy());
      break;
    }
  }
  return position;
}

TopicSettings FromProto(const v1::TopicSettings& proto) {
  TopicSettings settings;
  if (proto.has_retention_age()) settings.retention_age_ns = ToNanos(proto.retention_age());
  settings.retention_bytes = proto.retention_bytes();
  settings.retention_events = proto.retention_events();
  if (proto.has_index_granularity()) settings.index_granularity_ns = ToNanos(proto.index_granularity());
  return settings;
}

void ToProto(const TopicInfo& info, std::int64_t default_granularity_ns, v1::Topic* out) {
  out->set_name(info.name);
  out->set_id(info.id);
  v1::TopicSettings* settings = out->mutable_settings();
  if (info.settings.retention_age_ns > 0) ToDuration(info.settings.retention_age_ns, settings->mutable_retention_age());
  settings->set_retention_bytes(info.settings.retention_bytes);
  settings->set_retention_events(info.settings.retention_events);
  const std::int64_t granularity =
      info.settings.index_granularity_ns > 0 ? info.settings.index_granularity_ns : default_granularity_ns;
  if (granularity > 0) ToDuration(granularity, settings->mutable_index_granularity());
  out->set_created_unix_nanos(info.created_ns);
  out->set_first_offset(info.first_offset);
  out->set_next_offset(info.next_offset);
  out->set_event_count(info.event_count);
  out->set_bytes(info.bytes);
  out->set_first_timestamp_unix_nanos(info.first_timestamp_ns);
  out->set_last_timestamp_unix_nanos(info.last_timestamp_ns);
}

void ToProto(const CursorInfo& cursor, v1::Cursor* out) {
  out->set_consumer(cursor.consumer);
  out->set_offset(cursor.offset);
  out->set_updated_unix_nanos(cursor.updated_ns);
  out->set_lag(cursor.lag);
}

void ToProto(const EventView& event, v1::Event* out) {
  out->set_offset(event.offset);
  out->set_timestamp_unix_nanos(event.timestamp_ns);
  out->set_payload(event.payload.data(), event.payload.size());  // reuses the string's capacity
  out->set_key(event.key.data(), event.key.size());
  for (const HeaderView& h : *event.headers) {
    v1::Header* header = out->add_headers();
    header->set_name(h.name.data(), h.name.size());
    header->set_value(h.value.data(), h.value.size());
  }
}

void ToProto(Event&& event, v1::Event* out) {
  out->set_offset(event.offset);
  out->set_timestamp_unix_nanos(event.timestamp_ns);
  out->set_payload(std::move(event.payload));
  out->set_key(std::move(event.key));
  out->mutable_headers()->Reserve(static_cast<int>(event.headers.size()));
  for (Header& h : event.headers) {
    v1::Header* header = out->add_headers();
    header->set_name(std::move(h.name));
    header->set_value(std::move(h.value));
  }
}

void ToProto(const AppendResult& result, std::uint64_t next_offset, v1::ProduceResponse* out) {
  out->set_first_offset(result.first_offset);
  out->set_event_count(static_cast<std::uint32_t>(result.timestamps.size()));
  out->mutable_timestamps_unix_nanos()->Reserve(static_cast<int>(result.timestamps.size()));
  for (TimestampNs ts : result.timestamps) out->add_timestamps_unix_nanos(ts);
  out->set_duplicate(result.duplicate);
  out->set_next_offset(next_offset);
}

void ToProto(const MultiAppendOutcome& outcome, v1::ProduceMultiResponse* out) {
  bool duplicate = !outcome.parts.empty();
  for (const AppendOutcome& part : outcome.parts) {
    ToProto(part.result, part.next_offset, out->add_topics());
    duplicate = duplicate && part.result.duplicate;
  }
  out->set_duplicate(duplicate);
}


GroupSettings FromProto(const v1::GroupSettings& proto) {
  GroupSettings settings;
  settings.ack_wait = std::chrono::nanoseconds(proto.has_ack_wait() ? ToNanos(proto.ack_wait()) : 0);
  settings.max_deliveries = proto.max_deliveries();
  settings.dead_letter_topic = proto.dead_letter_topic();
  settings.ordered_by_key = proto.ordered_by_key();
  settings.reset = FromProto(proto.reset_policy());
  settings.max_pending = proto.max_pending();
  return settings;
}

void ToProto(const GroupInfo& info, v1::Group* out) {
  out->set_name(info.name);
  v1::GroupSettings* settings = out->mutable_settings();
  ToDuration(info.settings.ack_wait.count(), settings->mutable_ack_wait());
  settings->set_max_deliveries(info.settings.max_deliveries);
  settings->set_dead_letter_topic(info.settings.dead_letter_topic);
  settings->set_ordered_by_key(info.settings.ordered_by_key);
  settings->set_reset_policy(ToProto(info.settings.reset));
  settings->set_max_pending(info.settings.max_pending);
  out->set_created_unix_nanos(info.created_ns);
  out->set_ack_floor(info.ack_floor);
  out->set_dispatched_to(info.dispatched_to);
  out->set_lag(info.lag);
  out->set_in_flight(info.in_flight);
  out->set_members(info.members);
  out->set_redeliveries(info.redeliveries);
  out->set_dead_lettered(info.dead_lettered);
  out->set_lost_to_retention(info.lost_to_retention);
}

void ToProto(const GroupPendingEvent& pending, v1::PendingEvent* out) {
  out->set_offset(pending.offset);
  out->set_member(pending.member);
  out->set_delivery_count(pending.deliveries);
  out->set_delivered_unix_nanos(pending.delivered_ns);
  out->set_not_before_unix_nanos(pending.not_before_ns);
}

EventFilter FromProto(const v1::EventFilter& proto) {
  EventFilter filter;
  if (proto.has_key()) filter.key = proto.key();
  for (const v1::Header& h : proto.headers()) filter.headers.push_back({h.name(), h.value()});
  return filter;
}

void ToProto(const grpc::Status& status, v1::Error* out) {
  out->set_code(static_cast<std::int32_t>(status.error_code()));
  out->set_message(status.error_message());
}

}  // namespace goethe::server
