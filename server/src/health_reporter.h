// HealthReporter: the gRPC health service's answer, kept in step with the node's place in its
// cluster. A single node serves from the moment it listens. A cluster member reports SERVING
// only while it reaches etcd and is the leader or in sync with it; NOT_SERVING while it cannot
// reach etcd or is still catching up (it still answers reads: health is for load balancers).
#pragma once

#include <mutex>

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "goethe/cluster/coordinator.h"

namespace goethe::server {

class HealthReporter {
 public:
  // Reports `coordinator`'s changes from then on (call before it starts; it must outlive Shutdown).
  void Follow(cluster::Coordinator* coordinator);
  // The listener's health service, from the moment it serves.
  void Attach(grpc::HealthCheckServiceInterface* health);
  // NOT_SERVING for good, and no more updates (the listener is about to go).
  void Shutdown();
  // What the health service says now (false before Attach and after Shutdown): for HTTP's /healthz.
  bool Serving();

 private:
  void Update();

  std::mutex mutex_;
  cluster::Coordinator* coordinator_ = nullptr;
  grpc::HealthCheckServiceInterface* health_ = nullptr;
  bool last_ = false;
  bool reported_ = false;
};

}  // namespace goethe::server
