// ServerInfo: the answering server's version, backend, uptime, store size and traffic totals.
#include "goethe_service.h"

namespace goethe::server {

grpc::ServerUnaryReactor* GoetheService::ServerInfo(grpc::CallbackServerContext* call,
                                                    const v1::ServerInfoRequest*,
                                                    v1::ServerInfoResponse* response) {
  grpc::ServerUnaryReactor* refused = nullptr;
  if (Caller(call, &refused) == nullptr) return refused;  // any authenticated caller may ask
  const ServerFacts& facts = context_.facts;
  response->set_version(GOETHE_VERSION);
  response->set_backend(facts.backend);
  response->set_sync(facts.sync);
  response->set_started_unix_nanos(facts.started_unix_nanos);
  if (context_.metrics != nullptr) {
    const TrafficTotals totals = context_.metrics->Totals();
    response->set_events_appended(totals.events_appended);
    response->set_bytes_appended(totals.bytes_appended);
    response->set_events_delivered(totals.events_delivered);
    response->set_bytes_delivered(totals.bytes_delivered);
  }
  if (context_.streams != nullptr) response->set_open_streams(static_cast<std::uint32_t>(context_.streams->size()));
  if (context_.cluster != nullptr) {
    response->set_node(context_.cluster->View().self);
  } else if (context_.node_address != nullptr) {
    response->set_node(context_.node_address->Get());
  }
  // Listing topics and walking the store's files take a while on a large store: not on gRPC's thread.
  return FinishOnBlockingPool(call, [this, response] {
    response->set_topics(context_.log->ListTopics().size());
    if (!context_.facts.data_path.empty()) response->set_store_bytes(BytesUnder(context_.facts.data_path));
    return Status::Ok();
  });
}

}  // namespace goethe::server
