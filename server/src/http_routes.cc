#include "http_routes.h"

#include <string_view>

namespace goethe::server {
namespace {

// 401 unless the request's bearer token is one the server knows (always, without server.auth).
std::optional<HttpResponse> Unauthenticated(const AccessPolicy& access, const HttpRequest& request) {
  grpc::Status refusal;
  std::optional<std::string_view> authorization;
  if (request.authorization) authorization = *request.authorization;
  if (access.Authenticate(authorization, &refusal) != nullptr) return std::nullopt;
  HttpResponse response = JsonError(401, "UNAUTHENTICATED", refusal.error_message());
  response.headers.emplace_back("WWW-Authenticate", "Bearer");
  return response;
}

}  // namespace

HttpHandler MakeHttpRoutes(HttpRoutesContext context) {
  return [context = std::move(context)](const HttpRequest& request) -> HttpResponse {
    if (context.console != nullptr) {
      if (std::optional<HttpResponse> file = context.console->Serve(request)) return *file;
    }
    if (context.api != nullptr) {
      if (std::optional<HttpResponse> answer = context.api->Handle(request)) return *answer;
    }
    const bool known = request.path == "/metrics" || request.path == "/healthz";
    if (!known) return JsonError(404, "NOT_FOUND", "no route " + request.path + " (see docs/http.md)");
    if (request.method != "GET" && request.method != "HEAD") {
      HttpResponse response = JsonError(405, "UNIMPLEMENTED", request.path + " answers GET only");
      response.headers.emplace_back("Allow", "GET, HEAD");
      return response;
    }
    if (!context.open_metrics) {
      if (std::optional<HttpResponse> refused = Unauthenticated(*context.access, request)) return *refused;
    }
    HttpResponse response;
    if (request.path == "/metrics") {
      response.content_type = "text/plain; version=0.0.4; charset=utf-8";
      response.body = context.metrics();
      return response;
    }
    const bool serving = context.serving();
    response.status = serving ? 200 : 503;
    response.body = serving ? "{\"status\":\"SERVING\"}\n" : "{\"status\":\"NOT_SERVING\"}\n";
    return response;
  };
}

}  // namespace goethe::server
