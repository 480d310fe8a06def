#include "http_api.h"

#include <chrono>
#include <functional>
#include <map>
#include <string_view>
#include <vector>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "goethe/v1/goethe.grpc.pb.h"
#include "http_json.h"
#include "http_tail.h"
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

// The field at the dotted `path` ("start.offset") of `into`, making the objects on the way.
pb::Value& FieldAt(pb::Struct& into, const std::string& path) {
  pb::Struct* object = &into;
  std::size_t start = 0;
  for (std::size_t dot; (dot = path.find('.', start)) != std::string::npos; start = dot + 1)
    object = (*object->mutable_fields())[path.substr(start, dot - start)].mutable_struct_value();
  return (*object->mutable_fields())[path.substr(start)];
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
    bool tails = false;    // ?follow=true makes it a live tail
  };

  std::unique_ptr<v1::Goethe::Stub> stub;
  std::vector<Route> all;

  template <typename Request, typename Response>
  void Add(std::string method, const std::string& path,
           grpc::Status (v1::Goethe::Stub::*rpc)(grpc::ClientContext*, const Request&, Response*),
           bool produce = false, bool tails = false) {
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
      return Json(200, ToJson(response, text_payloads));
    };
    all.push_back({std::move(method), std::move(segments), std::move(call), produce, tails});
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
  r.Add("GET", "/v1/topics/:topic/events", &S::Read, false, true);
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
  r.Add("GET", "/v1/server", &S::ServerInfo);
}

HttpApi::~HttpApi() = default;

HttpResponse HttpApi::Tail(const std::string& json, const HttpRequest& request, bool text_payloads) const {
  v1::Subscribe subscribe;
  if (pb::util::Status parsed = pb::util::JsonStringToMessage(json, &subscribe); !parsed.ok())
    return JsonError(400, "INVALID_ARGUMENT", "the request does not fit goethe.v1.Subscribe: " + std::string(parsed.message()));
  auto opened = HttpTail::Open(*routes_->stub, std::move(subscribe), request.authorization, text_payloads);
  if (auto* refused = std::get_if<HttpResponse>(&opened)) return std::move(*refused);
  HttpResponse response;
  response.content_type = "text/event-stream";
  response.stream = std::get<std::shared_ptr<HttpTail>>(std::move(opened));
  return response;
}

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
    // ?follow=true on the events route: a live tail (Server-Sent Events) from `from`.
    const bool follow = route.tails && query.count("follow") > 0 && query["follow"] == "true";
    query.erase("follow");
    if (follow) {
      if (auto from = query.find("from"); from != query.end()) {
        if (from->second == "end" || from->second == "beginning") query["start." + from->second] = "true";
        else query["start.offset"] = from->second;
        query.erase("from");
      }
    }
    if (text && route.produce) TextPayloadsToBase64(fields);
    for (const auto& [name, value] : query) {
      if (value == "true" || value == "false") FieldAt(fields, name).set_bool_value(value == "true");  // ?reset=true
      else FieldAt(fields, name).set_string_value(value);  // numbers too: protobuf's JSON takes "5" for 5
    }
    for (const auto& [name, value] : path_params) FieldAt(fields, name).set_string_value(value);
    std::string json;
    (void)pb::util::MessageToJsonString(fields, &json);
    if (follow) return Tail(json, request, text);
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
