// HttpApi: the JSON API under /v1 (docs/http.md). Each route is one call of the gRPC service over
// the server's in-process channel, so HTTP gets exactly gRPC's request checks, access control (the
// Authorization header travels as the call's metadata), leader routing and status codes. Bodies
// and answers are protobuf's own JSON mapping of the goethe.v1 messages: payloads are base64, or
// UTF-8 text with ?payload=text.
#pragma once

#include <memory>
#include <optional>

#include <grpcpp/grpcpp.h>

#include "http_listener.h"

namespace goethe::server {

class HttpApi {
 public:
  explicit HttpApi(std::shared_ptr<grpc::Channel> channel);
  ~HttpApi();

  // The answer when `request.path` is an API route; nullopt when it is none.
  std::optional<HttpResponse> Handle(const HttpRequest& request) const;

  struct Routes;

 private:
  // GET .../events?follow=true: Server-Sent Events from a read-only Consume stream.
  HttpResponse Tail(const std::string& json, const HttpRequest& request, bool text_payloads) const;

  std::unique_ptr<Routes> routes_;
};

}  // namespace goethe::server
