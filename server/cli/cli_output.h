// What goethe-cli prints: readable lines by default, or one JSON object per line with --json
// (numbers as numbers, times as RFC 3339 plus unix nanoseconds, a payload as "payload" when it is
// UTF-8 text and as "payload_base64" otherwise; so too an event's key and header values).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include <grpcpp/support/status.h>

#include "goethe/v1/goethe.pb.h"

namespace goethe::cli {

// Builds one JSON object, key by key, in insertion order.
class JsonObject {
 public:
  JsonObject& String(std::string_view key, std::string_view utf8);
  JsonObject& Unsigned(std::string_view key, std::uint64_t value);
  JsonObject& Signed(std::string_view key, std::int64_t value);
  JsonObject& Bool(std::string_view key, bool value);
  JsonObject& Time(std::string_view key, std::int64_t unix_nanos);  // key (RFC 3339) and key_unix_nanos
  // Bytes as `key` when valid UTF-8, else base64 as `key`_base64.
  JsonObject& Bytes(std::string_view key, std::string_view bytes);
  JsonObject& Raw(std::string_view key, std::string_view json);  // `json` must be valid JSON
  std::string str() const { return "{" + body_ + "}"; }

 private:
  void Key(std::string_view key);
  std::string body_;
};

// An RFC 3339 time, or "-" for 0.
std::string TimeOrDash(std::int64_t unix_nanos);
// "30s", "5m", "1d"; "none" for zero.
std::string DurationText(const google::protobuf::Duration& d);

// "INVALID_ARGUMENT" for grpc::StatusCode::INVALID_ARGUMENT, and so on.
std::string_view StatusCodeName(grpc::StatusCode code);

// Prints "error: CODE: message" on stderr.
void PrintError(const grpc::Status& status);

class Output {
 public:
  explicit Output(bool json, std::FILE* out = stdout) : json_(json), out_(out) {}

  bool json() const { return json_; }

  void Event(const v1::Event& event);
  void Produced(const std::string& topic, const v1::ProduceResponse& response);
  void Subscribed(const std::string& topic, const v1::Subscribed& subscribed);
  void Topic(const v1::Topic& topic);            // one line (lists)
  void TopicDetails(const v1::Topic& topic);     // key: value lines
  void Cursor(const std::string& topic, const v1::Cursor& cursor);
  void Group(const std::string& topic, const v1::Group& group);         // one line (lists)
  void GroupDetails(const std::string& topic, const v1::Group& group);  // key: value lines
  void Pending(const std::string& group, const v1::PendingEvent& pending);
  void Seek(const std::string& topic, const v1::SeekResponse& seek);
  // The cluster and a table of its members; with --json, protobuf's JSON of the response.
  void ClusterStatus(const v1::ClusterStatusResponse& status);
  // A change with nothing to show but what happened, e.g. ("deleted", "topic", "orders").
  void Done(std::string_view action, std::string_view what, std::string_view name);

  void Line(const std::string& line);

 private:
  bool json_;
  std::FILE* out_;
};

}  // namespace goethe::cli
