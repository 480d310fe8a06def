#include "goethe_service.h"

#include "status_mapping.h"

namespace goethe::server {

void GoetheService::BeginShutdown() { context_.streams->CloseAll(); }

grpc::ServerUnaryReactor* GoetheService::FinishNow(grpc::CallbackServerContext* call, const Status& status) {
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
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
