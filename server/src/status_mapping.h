// The one place where engine statuses become gRPC statuses. The engine's codes carry the meanings
// of gRPC's (absl's) codes, so each maps to the code of the same name and keeps its message.
#pragma once

#include <grpcpp/support/status.h>

#include "goethe/engine/status.h"

namespace goethe::server {

grpc::StatusCode ToGrpcCode(StatusCode code);
grpc::Status ToGrpcStatus(const Status& status);

}  // namespace goethe::server
