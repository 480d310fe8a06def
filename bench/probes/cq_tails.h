// Tailing Consume streams served on gRPC's completion-queue API instead of its callback API
// (goethe-grpc-probe --tail-api cq): the same fan-out with gRPC's other asynchronous API, to tell
// what the callback API costs from what gRPC itself does (docs/benchmarks.md, "Live-tail fan-out").
// Tails only: a subscribe from anywhere but the end is refused with UNIMPLEMENTED.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "goethe/v1/goethe.grpc.pb.h"
#include "probe_topic.h"

namespace goethe::probe {

// Consume's index among the service's methods, as gRPC numbers them (the proto's order).
int ConsumeMethodIndex();

// The Goethe service with Consume alone, on the completion-queue API: every other method is left
// to another service registered beside it (gRPC calls them generic here).
class CqConsumeService final : public v1::Goethe::WithAsyncMethod_Consume<v1::Goethe::Service> {
 public:
  CqConsumeService();
};

class CqTails {
 public:
  // One thread drains each of `queues`; each keeps `waiting_calls` calls waiting for a client.
  CqTails(ProbeTopic& topic, CqConsumeService& service,
          std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> queues, int waiting_calls = 8);
  ~CqTails();

  void Start();
  // Call after the server's Shutdown and before it is destroyed: shuts the queues down and joins
  // their threads.
  void Stop();

 private:
  void Drain(grpc::ServerCompletionQueue* queue);

  ProbeTopic& topic_;
  CqConsumeService& service_;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> queues_;
  const int waiting_calls_;
  std::vector<std::thread> threads_;
  bool stopped_ = false;
};

}  // namespace goethe::probe
