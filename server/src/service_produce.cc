// Produce and ProduceStream.
#include <string>

#include "goethe_service.h"
#include "leader_gate.h"
#include "produce_stream_reactor.h"
#include "refused_stream.h"
#include "produce_validation.h"
#include "proto_convert.h"
#include "status_mapping.h"

namespace goethe::server {

grpc::ServerUnaryReactor* GoetheService::Produce(grpc::CallbackServerContext* call, const v1::ProduceRequest* request,
                                                 v1::ProduceResponse* response) {
  if (auto* refused = RefuseWrite(call, Permission::kProduce, request->topic())) return refused;
  // gRPC owns the request and reads it no more: moving the payloads out spares a copy of each.
  auto* owned = const_cast<v1::ProduceRequest*>(request);
  Result<AppendRequest> append = ToAppendRequest(std::move(*owned), context_.produce_limits);
  if (!append.ok()) return FinishNow(call, append.status());

  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  ServerMetrics* metrics = context_.metrics;
  AppendTally tally = metrics != nullptr ? TallyOf(*append) : AppendTally{};
  // Completed by the group commit, on the engine's commit thread, so that no gRPC thread waits for
  // a sync; with sync off and the loop idle, on this thread at once (CommitOn::kCallerIfIdle).
  auto done = [call, reactor, response, metrics, tally = std::move(tally)](AppendOutcome outcome) {
    if (!outcome.status.ok()) {
      if (outcome.status.code() == StatusCode::kAborted)
        call->AddTrailingMetadata("goethe-next-offset", std::to_string(outcome.next_offset));
      reactor->Finish(ToGrpcStatus(AppendFailure(outcome.status, outcome.next_offset)));
      return;
    }
    if (metrics != nullptr && !outcome.result.duplicate) metrics->Appended(tally);
    ToProto(outcome.result, outcome.next_offset, response);
    reactor->Finish(grpc::Status::OK);
  };
  context_.log->AppendAsync(std::move(append).value(), std::move(done), CommitOn::kCallerIfIdle);
  return reactor;
}

grpc::ServerUnaryReactor* GoetheService::ProduceMulti(grpc::CallbackServerContext* call,
                                                      const v1::ProduceMultiRequest* request,
                                                      v1::ProduceMultiResponse* response) {
  grpc::ServerUnaryReactor* refused = nullptr;
  const Principal* caller = Caller(call, &refused);
  if (caller == nullptr) return refused;
  for (const v1::ProduceRequest& part : request->topics()) {
    if (grpc::Status denied = context_.access->Check(*caller, Permission::kProduce, part.topic()); !denied.ok())
      return FinishNow(call, denied);
  }
  if (std::optional<grpc::Status> not_leader = RefuseUnlessLeader(context_.cluster, *call)) return FinishNow(call, *not_leader);
  auto* owned = const_cast<v1::ProduceMultiRequest*>(request);
  Result<MultiAppendRequest> append = ToMultiAppendRequest(std::move(*owned), context_.produce_limits);
  if (!append.ok()) return FinishNow(call, append.status());

  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  ServerMetrics* metrics = context_.metrics;
  AppendTally tally = metrics != nullptr ? TallyOf(*append) : AppendTally{};
  context_.log->AppendMultiAsync(std::move(append).value(), [call, reactor, response, metrics,
                                                             tally = std::move(tally)](MultiAppendOutcome outcome) {
    if (!outcome.status.ok()) {
      const std::uint64_t next_offset = FailedNextOffset(outcome);
      if (outcome.status.code() == StatusCode::kAborted)
        call->AddTrailingMetadata("goethe-next-offset", std::to_string(next_offset));
      reactor->Finish(ToGrpcStatus(AppendFailure(outcome.status, next_offset)));
      return;
    }
    if (metrics != nullptr && !WroteNothing(outcome)) metrics->Appended(tally);
    ToProto(outcome, response);
    reactor->Finish(grpc::Status::OK);
  }, CommitOn::kCallerIfIdle);
  return reactor;
}

grpc::ServerBidiReactor<v1::ProduceStreamRequest, v1::ProduceStreamResponse>* GoetheService::ProduceStream(
    grpc::CallbackServerContext* call) {
  // Authenticated here, once; each batch's topic is checked as the batch arrives.
  grpc::Status refusal;
  const Principal* caller = context_.access->Authenticate(*call, &refusal);
  if (caller == nullptr) return new RefusedStream<v1::ProduceStreamRequest, v1::ProduceStreamResponse>(refusal);
  // A follower refuses the stream at once; a leader that loses its leadership later refuses
  // each batch from then on.
  if (std::optional<grpc::Status> not_leader = RefuseUnlessLeader(context_.cluster, *call))
    return new RefusedStream<v1::ProduceStreamRequest, v1::ProduceStreamResponse>(*not_leader);
  return new ProduceStreamReactor(context_, *caller);
}

}  // namespace goethe::server
