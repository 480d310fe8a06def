#include "cli_output.h"

#include "payload_text.h"
#include "time_text.h"

namespace goethe::cli {
std::string TimeOrDash(std::int64_t unix_nanos) { return unix_nanos == 0 ? "-" : FormatRfc3339(unix_nanos); }

std::string DurationText(const google::protobuf::Duration& d) {
  const std::int64_t nanos = d.seconds() * 1'000'000'000 + d.nanos();
  if (nanos == 0) return "none";
  static constexpr std::pair<const char*, std::int64_t> kUnits[] = {
      {"d", 86400'000'000'000}, {"h", 3600'000'000'000}, {"m", 60'000'000'000},
      {"s", 1'000'000'000},     {"ms", 1'000'000},       {"us", 1'000}};
  for (const auto& [unit, size] : kUnits) {
    if (nanos % size == 0) return std::to_string(nanos / size) + unit;
  }
  return std::to_string(nanos) + "ns";
}

namespace {

std::string LimitText(std::uint64_t value) { return value == 0 ? "none" : std::to_string(value); }

}  // namespace

void JsonObject::Key(std::string_view key) {
  if (!body_.empty()) body_ += ',';
  body_ += JsonString(key);
  body_ += ':';
}

JsonObject& JsonObject::String(std::string_view key, std::string_view utf8) {
  Key(key);
  body_ += JsonString(utf8);
  return *this;
}

JsonObject& JsonObject::Unsigned(std::string_view key, std::uint64_t value) {
  Key(key);
  body_ += std::to_string(value);
  return *this;
}

JsonObject& JsonObject::Signed(std::string_view key, std::int64_t value) {
  Key(key);
  body_ += std::to_string(value);
  return *this;
}

JsonObject& JsonObject::Bool(std::string_view key, bool value) {
  Key(key);
  body_ += value ? "true" : "false";
  return *this;
}

JsonObject& JsonObject::Time(std::string_view key, std::int64_t unix_nanos) {
  String(key, FormatRfc3339(unix_nanos));
  return Signed(std::string(key) + "_unix_nanos", unix_nanos);
}

std::string_view StatusCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN";
  }
}

void PrintError(const grpc::Status& status) {
  std::fprintf(stderr, "error: %s: %s\n", std::string(StatusCodeName(status.error_code())).c_str(),
               status.error_message().c_str());
}

JsonObject& JsonObject::Bytes(std::string_view key, std::string_view bytes) {
  if (IsValidUtf8(bytes)) return String(key, bytes);
  return String(std::string(key) + "_base64", Base64(bytes));
}

JsonObject& JsonObject::Raw(std::string_view key, std::string_view json) {
  Key(key);
  body_ += json;
  return *this;
}

void Output::Line(const std::string& line) {
  std::fputs(line.c_str(), out_);
  std::fputc('\n', out_);
}

void Output::Event(const v1::Event& event) {
  if (json_) {
    JsonObject object;
    object.Unsigned("offset", event.offset()).Time("timestamp", event.timestamp_unix_nanos());
    if (event.delivery_count() != 0) object.Unsigned("delivery_count", event.delivery_count());
    if (!event.key().empty()) object.Bytes("key", event.key());
    if (event.headers_size() > 0) {
      std::string headers = "[";
      for (const v1::Header& h : event.headers()) {
        if (headers.size() > 1) headers += ',';
        headers += JsonObject().String("name", h.name()).Bytes("value", h.value()).str();
      }
      object.Raw("headers", headers + "]");
    }
    object.Bytes("payload", event.payload());
    return Line(object.str());
  }
  // offset  time  [key=K]  [NAME=VALUE ...]  payload: key and headers only when the event has them.
  std::string line = std::to_string(event.offset()) + "  " + FormatRfc3339(event.timestamp_unix_nanos()) + "  ";
  if (event.delivery_count() > 1) line += "delivery=" + std::to_string(event.delivery_count()) + "  ";
  if (!event.key().empty()) line += "key=" + ShowPayload(event.key()) + "  ";
  for (const v1::Header& h : event.headers()) line += ShowPayload(h.name()) + "=" + ShowPayload(h.value()) + " ";
  if (event.headers_size() > 0) line += " ";
  Line(line + ShowPayload(event.payload()));
}

void Output::Produced(const std::string& topic, const v1::ProduceResponse& response) {
  for (std::uint32_t i = 0; i < response.event_count(); ++i) {
    const std::uint64_t offset = response.first_offset() + i;
    const std::int64_t time = i < static_cast<std::uint32_t>(response.timestamps_unix_nanos_size())
                                  ? response.timestamps_unix_nanos(static_cast<int>(i))
                                  : 0;
    if (json_) {
      Line(JsonObject()
               .String("topic", topic)
               .Unsigned("offset", offset)
               .Time("timestamp", time)
               .Bool("duplicate", response.duplicate())
               .str());
    } else {
      Line(topic + "  " + std::to_string(offset) + "  " + FormatRfc3339(time) +
           (response.duplicate() ? "  (duplicate: already stored, nothing written)" : ""));
    }
  }
}

void Output::Subscribed(const std::string& topic, const v1::Subscribed& subscribed) {
  if (json_) return;  // scripts get events only; the resolved start is for people
  std::fprintf(stderr, "consuming %s from offset %llu%s (first %llu, head %llu)\n", topic.c_str(),
               static_cast<unsigned long long>(subscribed.resolved_offset()),
               subscribed.exact() ? "" : " (nearest)", static_cast<unsigned long long>(subscribed.first_offset()),
               static_cast<unsigned long long>(subscribed.head()));
}

void Output::Topic(const v1::Topic& topic) {
  if (json_) {
    const v1::TopicSettings& s = topic.settings();
    Line(JsonObject()
             .String("name", topic.name())
             .Unsigned("id", topic.id())
             .Unsigned("first_offset", topic.first_offset())
             .Unsigned("next_offset", topic.next_offset())
             .Unsigned("event_count", topic.event_count())
             .Unsigned("bytes", topic.bytes())
             .Time("created", topic.created_unix_nanos())
             .Time("first_timestamp", topic.first_timestamp_unix_nanos())
             .Time("last_timestamp", topic.last_timestamp_unix_nanos())
             .Signed("retention_age_seconds", s.retention_age().seconds())
             .Unsigned("retention_bytes", s.retention_bytes())
             .Unsigned("retention_events", s.retention_events())
             .Signed("index_granularity_seconds", s.index_granularity().seconds())
             .str());
    return;
  }
  Line(topic.name() + "  events=" + std::to_string(topic.event_count()) + "  offsets=" +
       std::to_string(topic.first_offset()) + ".." + std::to_string(topic.next_offset()) +
       "  bytes=" + std::to_string(topic.bytes()) + "  last=" + TimeOrDash(topic.last_timestamp_unix_nanos()));
}

void Output::TopicDetails(const v1::Topic& topic) {
  if (json_) return Topic(topic);
  const v1::TopicSettings& s = topic.settings();
  Line("name:              " + topic.name());
  Line("id:                " + std::to_string(topic.id()));
  Line("created:           " + TimeOrDash(topic.created_unix_nanos()));
  Line("first offset:      " + std::to_string(topic.first_offset()));
  Line("next offset:       " + std::to_string(topic.next_offset()));
  Line("events:            " + std::to_string(topic.event_count()));
  Line("bytes:             " + std::to_string(topic.bytes()));
  Line("first event time:  " + TimeOrDash(topic.first_timestamp_unix_nanos()));
  Line("last event time:   " + TimeOrDash(topic.last_timestamp_unix_nanos()));
  Line("retention age:     " + DurationText(s.retention_age()));
  Line("retention bytes:   " + LimitText(s.retention_bytes()));
  Line("retention events:  " + LimitText(s.retention_events()));
  Line("index granularity: " + DurationText(s.index_granularity()));
}

void Output::Cursor(const std::string& topic, const v1::Cursor& cursor) {
  if (json_) {
    Line(JsonObject()
             .String("topic", topic)
             .String("consumer", cursor.consumer())
             .Unsigned("offset", cursor.offset())
             .Unsigned("lag", cursor.lag())
             .Time("updated", cursor.updated_unix_nanos())
             .str());
    return;
  }
  Line(cursor.consumer() + "  offset=" + std::to_string(cursor.offset()) + "  lag=" + std::to_string(cursor.lag()) +
       "  updated=" + TimeOrDash(cursor.updated_unix_nanos()));
}

void Output::Seek(const std::string& topic, const v1::SeekResponse& seek) {
  if (json_) {
    Line(JsonObject()
             .String("topic", topic)
             .Unsigned("resolved_offset", seek.resolved_offset())
             .Bool("exact", seek.exact())
             .Unsigned("first_offset", seek.first_offset())
             .Unsigned("head", seek.head())
             .str());
    return;
  }
  Line(std::to_string(seek.resolved_offset()) + (seek.exact() ? "  (exact)" : "  (nearest)") + "  first=" +
       std::to_string(seek.first_offset()) + "  head=" + std::to_string(seek.head()) +
       (seek.resolved_offset() == seek.head() ? "  (the end: new events only)" : ""));
}

void Output::Done(std::string_view action, std::string_view what, std::string_view name) {
  if (json_) {
    Line(JsonObject().String("action", action).String("kind", what).String("name", name).str());
    return;
  }
  Line(std::string(action) + " " + std::string(what) + " " + std::string(name));
}

}  // namespace goethe::cli
