// The workloads goethe-bench runs against a server. Each returns 0 on success and prints its
// figures (a readable line on stderr and a RESULT line on stdout).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "goethe/v1/goethe.grpc.pb.h"
#include "leader_router.h"

namespace goethe::load {

struct LoadOptions {
  std::string topic = "bench";
  std::uint64_t events = 100000;
  std::uint32_t batch = 100;       // events per produce (stream) batch
  std::uint32_t in_flight = 40;    // unacknowledged stream batches: 4,000 events, as NATS's 4,096
  std::uint32_t concurrency = 1;   // unary produce calls in flight
  std::uint32_t payload_bytes = 100;
  std::uint32_t window = 10000;    // consume window
  std::string consumer = "bench";
  double rate = 1000;              // e2e events per second
  double seconds = 5;              // e2e duration
  std::string e2e_producer = "stream";  // e2e: "stream" (one open ProduceStream) or "unary"
  std::string consume_server;      // e2e: the node the consumer tails (empty: the producer's server)
  bool random_payloads = false;    // incompressible payloads instead of repeated 'x' bytes
  bool round_trip_only = false;    // produce-unary's loop with DescribeTopic calls: no storage work
  std::uint32_t headers = 0;       // produce-stream: headers on every event (0: plain payloads)
  std::uint32_t members = 4;       // group: members, each with its own connection
  std::uint32_t consumers = 100;   // tail-fanout: tailing Consume streams
  std::uint32_t connections = 1;   // tail-fanout: connections the streams are spread over
  std::string fanout_client = "grpc";  // tail-fanout: "grpc" (callback reactors) or "h2" (raw HTTP/2, tail_clients.h)
  std::uint32_t topics = 1;        // produce-stream: topics written round-robin, one batch each in turn
  double failover_seconds = 15;    // produce-unary with several servers: how long one call may look for a leader
};

using Stub = v1::Goethe::Stub;
// A stub on a connection of its own.
using StubFactory = std::function<std::unique_ptr<Stub>()>;

// Creates `topic` when it does not exist (ALREADY_EXISTS is fine): a consumer needs it to subscribe.
inline void CreateTopic(Stub& stub, const std::string& topic) {
  grpc::ClientContext context;
  v1::CreateTopicRequest create;
  v1::CreateTopicResponse created;
  create.set_topic(topic);
  stub.CreateTopic(&context, create, &created);
}

int RunProduceStream(Stub& stub, const LoadOptions& options);
// Calls go where `router` routes them; with several servers an UNAVAILABLE call follows the leader
// and is sent again (a produce with its idempotency key, so that it is not stored twice).
int RunProduceUnary(client::LeaderRouter& router, const LoadOptions& options);
int RunConsume(Stub& stub, const LoadOptions& options);
// The producer writes through `stub`, the consumer tails through `consume_stub` (the same stub, or
// another node of the cluster: a follower serves read-only Consume).
int RunEndToEnd(Stub& stub, Stub& consume_stub, const LoadOptions& options);
int RunGroup(const StubFactory& connect, const LoadOptions& options);
int RunGroupLive(const StubFactory& connect, const LoadOptions& options);
int RunGroupRedelivery(Stub& stub, const LoadOptions& options);
// Where tail-fanout's raw HTTP/2 client connects (it does not use gRPC's channel): plaintext only.
struct TailTarget {
  std::string address;  // host:port
  std::string token;    // sent as `authorization: Bearer <token>` when not empty
};
// `consumers` read-only streams tail `topic` from its end, spread over `connections` connections,
// while one producer appends at `rate` for `seconds`: delivery latency over all of them.
int RunTailFanout(const StubFactory& connect, const TailTarget& target, const LoadOptions& options);

}  // namespace goethe::load
