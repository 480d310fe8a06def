#include "goethe_service.h"

#include "leader_gate.h"
#include "status_mapping.h"

namespace goethe::server {

GoetheService::GoetheService(ServiceContext context) : context_(context) {
  // As gRPC's WithRawCallbackMethod_Consume would, in place of the typed handler that
  // CallbackService registered; the method keeps its index, its order in the proto.
  const int consume = v1::ConsumeRequest::descriptor()->file()->FindServiceByName("Goethe")->FindMethodByName("Consume")->index();
  MarkMethodRawCallback(consume, new grpc::internal::CallbackBidiHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
                                     [this](grpc::CallbackServerContext* call) { return ConsumeRaw(call); }));
}

void GoetheService::BeginShutdown() { context_.streams->CloseAll(); }

grpc::ServerUnaryReactor* GoetheService::FinishNow(grpc::CallbackServerContext* call, const Status& status) {
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

grpc::ServerUnaryReactor* GoetheService::FinishNow(grpc::CallbackServerContext* call, const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

const Principal* GoetheService::Caller(grpc::CallbackServerContext* call, grpc::ServerUnaryReactor** refused) {
  grpc::Status refusal;
  const Principal* caller = context_.access->Authenticate(*call, &refusal);
  if (caller == nullptr) *refused = FinishNow(call, refusal);
  return caller;
}

grpc::ServerUnaryReactor* GoetheService::Refuse(grpc::CallbackServerContext* call, Permission permission,
                                                const std::string& topic) {
  grpc::ServerUnaryReactor* refused = nullptr;
  const Principal* caller = Caller(call, &refused);
  if (caller == nullptr) return refused;
  const grpc::Status checked = context_.access->Check(*caller, permission, topic);
  return checked.ok() ? nullptr : FinishNow(call, checked);
}

grpc::ServerUnaryReactor* GoetheService::RefuseWrite(grpc::CallbackServerContext* call, Permission permission,
                                                     const std::string& topic) {
  if (grpc::ServerUnaryReactor* refused = Refuse(call, permission, topic)) return refused;
  std::optional<grpc::Status> not_leader = RefuseUnlessLeader(context_.cluster, *call);
  return not_leader ? FinishNow(call, *not_leader) : nullptr;
}

grpc::ServerUnaryReactor* GoetheService::RefuseUnlessVisible(grpc::CallbackServerContext* call,
                                                             const std::string& topic) {
  grpc::ServerUnaryReactor* refused = nullptr;
  const Principal* caller = Caller(call, &refused);
  if (caller == nullptr) return refused;
  const grpc::Status checked = context_.access->CheckVisible(*caller, topic);
  return checked.ok() ? nullptr : FinishNow(call, checked);
}

grpc::ServerUnaryReactor* GoetheService::FinishOnBlockingPool(grpc::CallbackServerContext* call,
                                                             std::function<Status()> work) {
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  context_.blocking_pool->Post([reactor, work = std::move(work)] { reactor->Finish(ToGrpcStatus(work())); });
  return reactor;
}

std::int64_t GoetheService::DefaultGranularityNs() const {
  return context_.log->options().default_index_granularity.count();
}

}  // namespace goethe::server
