// What every request handler and stream reactor shares: the engine, the server's limits, its
// access policy and its worker pools. Everything here outlives every call (the server shuts down
// first).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "access_policy.h"
#include "goethe/cluster/coordinator.h"
#include "goethe/engine/event_log.h"
#include "produce_validation.h"
#include "server_metrics.h"
#include "stream_registry.h"
#include "work_pool.h"

namespace goethe::server {

// Where clients reach this node: known once the listener has bound its port (which may have been
// 0, for the kernel to pick), while calls may already arrive.
class NodeAddress {
 public:
  void Set(std::string address) {
    std::lock_guard lock(mutex_);
    address_ = std::move(address);
  }
  std::string Get() const {
    std::lock_guard lock(mutex_);
    return address_;
  }

 private:
  mutable std::mutex mutex_;
  std::string address_;
};

// What ServerInfo reports of the process and its store, fixed at start.
struct ServerFacts {
  std::string backend;             // storage.backend
  bool sync = false;               // storage.sync
  std::string data_path;           // storage.path, absolute
  std::int64_t started_unix_nanos = 0;
};

struct ServiceContext {
  EventLog* log = nullptr;
  ProduceLimits produce_limits;
  std::uint32_t max_consume_window = 0;
  WorkPool* blocking_pool = nullptr;  // engine calls that wait for a commit
  WorkPool* wake_pool = nullptr;      // live-tail wake-ups the engine's thread could not run at once
  StreamRegistry* streams = nullptr;
  const AccessPolicy* access = &AccessPolicy::Open();  // who may call what (open: everyone)
  const cluster::Coordinator* cluster = nullptr;       // nullptr: a single node, which always writes
  const NodeAddress* node_address = nullptr;           // where clients reach this node (ClusterStatus)
  ServerMetrics* metrics = nullptr;                    // nullptr: nothing is counted
  ServerFacts facts;
};

}  // namespace goethe::server
