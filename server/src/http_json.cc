#include "http_json.h"

#include <openssl/evp.h>

#include <optional>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

namespace goethe::server {
namespace {

namespace pb = google::protobuf;

bool IsUtf8(const std::string& text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (length == 0 || i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2) return false;
    }
    i += length;
  }
  return true;
}

std::string Base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> FromBase64(const std::string& text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(3 * text.size() / 4 + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  std::size_t size = static_cast<std::size_t>(n);
  for (std::size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) --size;  // EVP counts the padding too
  out.resize(size);
  return out;
}

// Every event's payload that is UTF-8 becomes text; each event says which it got in
// "payloadEncoding" ("text" or "base64").
void PayloadsToText(pb::Value& value) {
  if (value.has_list_value()) {
    for (pb::Value& item : *value.mutable_list_value()->mutable_values()) PayloadsToText(item);
    return;
  }
  if (!value.has_struct_value()) return;
  auto& fields = *value.mutable_struct_value()->mutable_fields();
  if (auto payload = fields.find("payload"); payload != fields.end() && fields.count("offset") > 0) {
    std::optional<std::string> bytes = FromBase64(payload->second.string_value());
    const bool text = bytes && IsUtf8(*bytes);
    if (text) payload->second.set_string_value(*bytes);
    fields["payloadEncoding"].set_string_value(text ? "text" : "base64");
  }
  for (auto& [name, field] : fields) PayloadsToText(field);
}

void PayloadToBase64(pb::Value& payload) {
  if (payload.has_string_value()) payload.set_string_value(Base64(payload.string_value()));
}

}  // namespace

void TextPayloadsToBase64(pb::Struct& body) {
  auto& fields = *body.mutable_fields();
  if (auto it = fields.find("payloads"); it != fields.end() && it->second.has_list_value()) {
    for (pb::Value& payload : *it->second.mutable_list_value()->mutable_values()) PayloadToBase64(payload);
  }
  if (auto it = fields.find("events"); it != fields.end() && it->second.has_list_value()) {
    for (pb::Value& event : *it->second.mutable_list_value()->mutable_values()) {
      if (!event.has_struct_value()) continue;
      auto& event_fields = *event.mutable_struct_value()->mutable_fields();
      if (auto payload = event_fields.find("payload"); payload != event_fields.end()) PayloadToBase64(payload->second);
    }
  }
}

std::string ToJson(const pb::Message& message, bool text_payloads) {
  pb::util::JsonPrintOptions print;
  print.always_print_primitive_fields = true;
  std::string out;
  (void)pb::util::MessageToJsonString(message, &out, print);
  if (!text_payloads) return out;
  pb::Value value;
  if (!pb::util::JsonStringToMessage(out, &value).ok()) return out;
  PayloadsToText(value);
  out.clear();
  (void)pb::util::MessageToJsonString(value, &out);
  return out;
}

}  // namespace goethe::server
