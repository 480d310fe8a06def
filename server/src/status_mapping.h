// The one place where engine statuses become gRPC statuses. The engine's codes carry the meanings
// of gRPC's (absl's) codes, so each maps to the code of the same name and keeps its message.
#pragma once

#include <grpcpp/support/status.h>

#include <string>

#include "goethe/engine/status.h"

namespace goethe::server {

grpc::StatusCode ToGrpcCode(StatusCode code);
grpc::Status ToGrpcStatus(const Status& status);

// "OK", "INVALID_ARGUMENT", ...: the code's name, as metrics and the HTTP API's errors show it.
std::string GrpcCodeName(grpc::StatusCode code);
// The HTTP status of a gRPC code, as Google's HTTP mapping (and grpc-gateway) has it: 400, 404, ...
int HttpStatusOf(grpc::StatusCode code);

}  // namespace goethe::server
