// Builds and starts the gRPC server: the Goethe service, health checking, reflection and the
// message-size limit, on one listening address, plaintext or TLS.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_interceptor.h>

#include "goethe/engine/status.h"

namespace goethe::server {

struct Listener {
  std::unique_ptr<grpc::Server> server;
  std::string address;  // as configured, with the port actually bound (port 0 picks one)
};

// The largest request gRPC accepts: room for kEventsPerRequestBound events of the maximum size,
// plus framing. A bigger message is refused by gRPC with RESOURCE_EXHAUSTED (gRPC 1.51 only
// after reading it whole: grpc/grpc#43012); an event just over the limit still reaches the
// server, which names sizes.
constexpr std::uint64_t kEventsPerRequestBound = 16;
int MaxRequestBytes(std::uint64_t max_event_bytes);

// A cluster node's replication messages carry whole commits: up to this many bytes.
constexpr int kMaxPeerMessageBytes = 256 << 20;

// Starts serving `service` (and `peer_service`, a cluster node's replication, when not null) on
// `address` with `credentials` (plaintext or TLS, tls_credentials.h). Fails (UNAVAILABLE, one
// line) when the address cannot be bound: in use, not local, or malformed.
// `interceptors` (may be empty) see every call, e.g. to count it (server_metrics.h).
using InterceptorFactories = std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>;
Result<Listener> StartListener(const std::string& address, std::shared_ptr<grpc::ServerCredentials> credentials,
                               grpc::Service* service, std::uint64_t max_event_bytes,
                               grpc::Service* peer_service = nullptr, InterceptorFactories interceptors = {});

}  // namespace goethe::server
