#include "grpc_listener.h"

#include <algorithm>
#include <limits>

#include <grpc/grpc.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

namespace goethe::server {
namespace {

// "host:0" with the bound port in place of the configured one.
std::string WithPort(const std::string& address, int port) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos) return address + ":" + std::to_string(port);
  return address.substr(0, colon + 1) + std::to_string(port);
}

}  // namespace

int MaxRequestBytes(std::uint64_t max_event_bytes) {
  constexpr std::uint64_t kFraming = 1 << 20;
  const std::uint64_t limit = std::numeric_limits<int>::max();
  if (max_event_bytes >= (limit - kFraming) / kEventsPerRequestBound) return static_cast<int>(limit);
  return static_cast<int>(max_event_bytes * kEventsPerRequestBound + kFraming);
}

Result<Listener> StartListener(const std::string& address, std::shared_ptr<grpc::ServerCredentials> credentials,
                               grpc::Service* service, std::uint64_t max_event_bytes, grpc::Service* peer_service,
                               InterceptorFactories interceptors) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(address, std::move(credentials), &bound_port);
  // gRPC sets SO_REUSEPORT by default, so a second server on a taken port would start and take a
  // share of its connections: clients would see two stores. A taken port must fail the start.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(service);
  if (peer_service != nullptr) builder.RegisterService(peer_service);
  if (!interceptors.empty()) builder.experimental().SetInterceptorCreators(std::move(interceptors));
  // gRPC has one limit per server: a cluster node's must let its leader's commits through.
  builder.SetMaxReceiveMessageSize(peer_service != nullptr ? std::max(MaxRequestBytes(max_event_bytes), kMaxPeerMessageBytes)
                                                           : MaxRequestBytes(max_event_bytes));
  builder.SetMaxSendMessageSize(-1);

  Listener listener;
  listener.server = builder.BuildAndStart();
  if (listener.server == nullptr || bound_port == 0) {
    if (listener.server != nullptr) listener.server->Shutdown();
    return Unavailable("cannot listen on " + address + ": the address is in use, not local, or malformed");
  }
  listener.address = WithPort(address, bound_port);
  return listener;
}

}  // namespace goethe::server
