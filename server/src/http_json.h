// The HTTP side's JSON: protobuf's own mapping of the goethe.v1 messages, with payloads as
// base64 (bytes fields, as the mapping has them) or, with ?payload=text, as UTF-8 text.
#pragma once

#include <string>

#include <google/protobuf/message.h>
#include <google/protobuf/struct.pb.h>

namespace goethe::server {

// `message` as JSON (every field present, lowerCamelCase names). With `text_payloads`, each
// event's payload that is UTF-8 is text, and each event says which it got in "payloadEncoding"
// ("text" or "base64").
std::string ToJson(const google::protobuf::Message& message, bool text_payloads);

// A produce body whose payloads ("payloads", "events[].payload") are text: made base64, as the
// JSON mapping of bytes wants them.
void TextPayloadsToBase64(google::protobuf::Struct& body);

}  // namespace goethe::server
