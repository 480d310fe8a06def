#include "http_api.h"

#include <openssl/evp.h>

#include <chrono>
#include <functional>
#include <map>
#include <string_view>
#include <vector>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "goethe/v1/goethe.grpc.pb.h"
#include "status_mapping.h"

namespace goethe::server {
namespace {

namespace pb = google::protobuf;
using Params = std::map<std::string, std::string>;

constexpr std::chrono::seconds kCallDeadline{30};

std::string PercentDecoded(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

// "/v1/topics/t" -> {"v1", "topics", "t"}
std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> segments;
  for (std::size_t start = 1; start <= path.size();) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    segments.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return segments;
}

Params QueryParams(const std::string& query) {
  Params params;
  std::size_t start = 0;
  while (start < query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    const std::string_view pair(query.data() + start, end - start);
    const std::size_t equals = pair.find('=');
    if (!pair.empty())
      params[PercentDecoded(pair.substr(0, equals))] =
          equals == std::string_view::npos ? "" : PercentDecoded(pair.substr(equals + 1));
    start = end + 1;
  }
  return params;
}

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

// The field at the dotted `path` ("start.offset") of `into`, making the objects on the way.
pb::Value& FieldAt(pb::Struct& into, const std::string& path) {
  pb::Struct* object = &into;
  std::size_t start = 0;
  for (std::size_t dot; (dot = path.find('.', start)) != std::string::npos; start = dot + 1)
    object = (*object->mutable_fields())[path.substr(start, dot - start)].mutable_struct_value();
  return (*object->mutable_fields())[path.substr(start)];
}

// With ?payload=text, a produce body's payloads ("payloads", and "events" items' "payload") are
// text: stored as their UTF-8 bytes.
void TextPayloadsToBase64(pb::Struct& body) {
  auto& fields = *body.mutable_fields();
  if (auto it = fields.find("payloads"); it != fields.end() && it->second.has_list_value()) {
    for (pb::Value& payload : *it->second.mutable_list_value()->mutable_values()) {
      if (payload.has_string_value()) payload.set_string_value(Base64(payload.string_value()));
    }
  }
  if (auto it = fields.find("events"); it != fields.end() && it->second.has_list_value()) {
    for (pb::Value& event : *it->second.mutable_list_value()->mutable_values()) {
      if (!event.has_struct_value()) continue;
      auto payload = event.mutable_struct_value()->mutable_fields()->find("payload");
      if (payload != event.mutable_struct_value()->mutable_fields()->end() && payload->second.has_string_value())
        payload->second.set_string_value(Base64(payload->second.string_value()));
    }
  }
}

// With ?payload=text, every event's payload that is UTF-8 is shown as text; each event says which
// it got in "payloadEncoding" ("text" or "base64").
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

HttpResponse Json(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.body += '\n';
  return response;
}

}  // namespace

// One route: its method and path (":name" segments are parameters, set as request fields of that
// name) and the call it makes with the request's JSON.
struct HttpApi::Routes {
  using Call = std::function<HttpResponse(const std::string& json, const HttpRequest& request, bool text_payloads)>;
  struct Route {
    std::string method;
    std::vector<std::string> path;
    Call call;
    bool produce = false;  // its body's payloads may be text (?payload=text)
  };

  std::unique_ptr<v1::Goethe::Stub> stub;
  std::vector<Route> all;

  template <typename Request, typename Response>
  void Add(std::string method, const std::string& path,
           grpc::Status (v1::Goethe::Stub::*rpc)(grpc::ClientContext*, const Request&, Response*),
           bool produce = false) {
    std::vector<std::string> segments = Segments(path);
    Call call = [this, rpc](const std::string& json, const HttpRequest& http, bool text_payloads) {
      Request request;
      pb::util::JsonParseOptions parse;
      if (pb::util::Status parsed = pb::util::JsonStringToMessage(json, &request, parse); !parsed.ok())
        return JsonError(400, "INVALID_ARGUMENT", "the request does not fit " + Request::descriptor()->full_name() +
                                                      ": " + std::string(parsed.message()));
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
      if (http.authorization) context.AddMetadata("authorization", *http.authorization);
      Response response;
      const grpc::Status status = (stub.get()->*rpc)(&context, request, &response);
      if (!status.ok()) {
        HttpResponse error =
            JsonError(HttpStatusOf(status.error_code()), GrpcCodeName(status.error_code()), status.error_message());
        const auto& trailing = context.GetServerTrailingMetadata();
        if (auto leader = trailing.find("goethe-leader"); leader != trailing.end())
          error.headers.emplace_back("Goethe-Leader", std::string(leader->second.data(), leader->second.size()));
        return error;
      }
      pb::util::JsonPrintOptions print;
      print.always_print_primitive_fields = true;
      std::string out;
      (void)pb::util::MessageToJsonString(response, &out, print);
      if (text_payloads) {
        pb::Value value;
        if (pb::util::JsonStringToMessage(out, &value).ok()) {
          PayloadsToText(value);
          out.clear();
          (void)pb::util::MessageToJsonString(value, &out);
        }
      }
      return Json(200, std::move(out));
    };
    all.push_back({std::move(method), std::move(segments), std::move(call), produce});
  }
};

HttpApi::HttpApi(std::shared_ptr<grpc::Channel> channel) : routes_(std::make_unique<Routes>()) {
  using S = v1::Goethe::Stub;
  Routes& r = *routes_;
  r.stub = v1::Goethe::NewStub(std::move(channel));
  r.Add("GET", "/v1/topics", &S::ListTopics);
  r.Add("POST", "/v1/topics", &S::CreateTopic);
  r.Add("GET", "/v1/topics/:topic", &S::DescribeTopic);
  r.Add("DELETE", "/v1/topics/:topic", &S::DeleteTopic);
  r.Add("POST", "/v1/topics/:topic/events", &S::Produce, true);
  r.Add("GET", "/v1/topics/:topic/events", &S::Read);
  r.Add("GET", "/v1/topics/:topic/seek", &S::Seek);
  r.Add("GET", "/v1/topics/:topic/cursors", &S::ListCursors);
  r.Add("GET", "/v1/topics/:topic/cursors/:consumer", &S::GetCursor);
  r.Add("PUT", "/v1/topics/:topic/cursors/:consumer", &S::CommitCursor);
  r.Add("DELETE", "/v1/topics/:topic/cursors/:consumer", &S::DeleteCursor);
  r.Add("GET", "/v1/topics/:topic/groups", &S::ListGroups);
  r.Add("POST", "/v1/topics/:topic/groups", &S::CreateGroup);
  r.Add("GET", "/v1/topics/:topic/groups/:group", &S::DescribeGroup);
  r.Add("DELETE", "/v1/topics/:topic/groups/:group", &S::DeleteGroup);
  r.Add("POST", "/v1/topics/:topic/groups/:group/reset", &S::ResetGroup);
  r.Add("POST", "/v1/produce", &S::ProduceMulti);
  r.Add("GET", "/v1/cluster", &S::ClusterStatus);
}

HttpApi::~HttpApi() = default;

std::optional<HttpResponse> HttpApi::Handle(const HttpRequest& request) const {
  if (!request.path.starts_with("/v1/") && request.path != "/v1") return std::nullopt;
  std::vector<std::string> segments = Segments(request.path);
  for (std::string& segment : segments) segment = PercentDecoded(segment);
  std::vector<std::string> allowed;
  for (const Routes::Route& route : routes_->all) {
    if (route.path.size() != segments.size()) continue;
    Params path_params;
    bool matches = true;
    for (std::size_t i = 0; i < segments.size() && matches; ++i) {
      if (route.path[i].starts_with(':')) path_params[route.path[i].substr(1)] = segments[i];
      else matches = route.path[i] == segments[i];
    }
    if (!matches) continue;
    if (route.method != request.method && !(route.method == "GET" && request.method == "HEAD")) {
      allowed.push_back(route.method);
      continue;
    }
    // The request: the body's fields, then the query's (dotted names reach into messages), then
    // the path's.
    pb::Struct fields;
    if (!request.body.empty()) {
      if (pb::util::Status parsed = pb::util::JsonStringToMessage(request.body, &fields); !parsed.ok())
        return JsonError(400, "INVALID_ARGUMENT", "the body is not a JSON object: " + std::string(parsed.message()));
    }
    Params query = QueryParams(request.query);
    const bool text = query.count("payload") > 0 && query["payload"] == "text";
    if (query.count("payload") > 0 && query["payload"] != "text" && query["payload"] != "base64")
      return JsonError(400, "INVALID_ARGUMENT", "payload must be 'text' or 'base64', got '" + query["payload"] + "'");
    query.erase("payload");
    if (text && route.produce) TextPayloadsToBase64(fields);
    for (const auto& [name, value] : query) {
      if (value == "true" || value == "false") FieldAt(fields, name).set_bool_value(value == "true");  // ?reset=true
      else FieldAt(fields, name).set_string_value(value);  // numbers too: protobuf's JSON takes "5" for 5
    }
    for (const auto& [name, value] : path_params) FieldAt(fields, name).set_string_value(value);
    std::string json;
    (void)pb::util::MessageToJsonString(fields, &json);
    return route.call(json, request, text);
  }
  if (!allowed.empty()) {
    std::string list;
    for (const std::string& method : allowed) list += (list.empty() ? "" : ", ") + method;
    HttpResponse response = JsonError(405, "UNIMPLEMENTED", request.path + " answers " + list);
    response.headers.emplace_back("Allow", list);
    return response;
  }
  return JsonError(404, "NOT_FOUND", "no route " + request.method + " " + request.path + " (see docs/http.md)");
}

}  // namespace goethe::server
