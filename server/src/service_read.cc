// Consume, Read and Seek.
#include "consume_reactor.h"
#include "goethe_service.h"
#include "proto_convert.h"
#include "refused_stream.h"
#include "request_validation.h"
#include "status_mapping.h"

namespace goethe::server {

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* GoetheService::ConsumeRaw(grpc::CallbackServerContext* call) {
  // Authenticated here; the subscribe's topic is checked when it arrives.
  grpc::Status refusal;
  const Principal* caller = context_.access->Authenticate(*call, &refusal);
  if (caller == nullptr) return new RefusedStream<grpc::ByteBuffer, grpc::ByteBuffer>(refusal);
  return new ConsumeReactor(context_, *caller, call);
}

grpc::ServerUnaryReactor* GoetheService::Read(grpc::CallbackServerContext* call, const v1::ReadRequest* request,
                                              v1::ReadResponse* response) {
  if (auto* refused = Refuse(call, Permission::kConsume, request->topic())) return refused;
  Result<ReadRequest> read = ToReadRequest(*request);
  if (!read.ok()) return FinishNow(call, read.status());
  Result<ReadResult> result = context_.log->Read(*read);
  if (!result.ok()) return FinishNow(call, result.status());
  response->mutable_events()->Reserve(static_cast<int>(result->events.size()));
  for (Event& event : result->events) ToProto(std::move(event), response->add_events());
  if (context_.metrics != nullptr) context_.metrics->Delivered(request->topic(), response->events());
  response->set_resolved_offset(result->resolved_offset);
  response->set_next_offset(result->next_offset);
  response->set_head(result->head);
  return FinishNow(call, Status::Ok());
}

grpc::ServerUnaryReactor* GoetheService::Seek(grpc::CallbackServerContext* call, const v1::SeekRequest* request,
                                              v1::SeekResponse* response) {
  if (auto* refused = Refuse(call, Permission::kConsume, request->topic())) return refused;
  Result<StartPosition> start = ToStartPosition(*request);
  if (!start.ok()) return FinishNow(call, start.status());
  Result<ResolvedPosition> resolved = context_.log->Resolve(request->topic(), *start);
  if (!resolved.ok()) return FinishNow(call, resolved.status());
  response->set_resolved_offset(resolved->offset);
  response->set_exact(resolved->exact);
  response->set_first_offset(resolved->first_offset);
  response->set_head(resolved->head);
  return FinishNow(call, Status::Ok());
}

}  // namespace goethe::server
