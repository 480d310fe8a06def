// RefusedStream: a bidi stream refused before it starts (its caller failed authentication); it
// finishes at once with the refusal and reads nothing.
#pragma once

#include <grpcpp/grpcpp.h>

namespace goethe::server {

template <typename Request, typename Response>
class RefusedStream final : public grpc::ServerBidiReactor<Request, Response> {
 public:
  explicit RefusedStream(const grpc::Status& refusal) { this->Finish(refusal); }
  void OnDone() override { delete this; }
};

}  // namespace goethe::server
