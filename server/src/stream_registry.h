// StreamRegistry: the open ProduceStream and Consume streams, so that the server can refuse a
// stream over `server.max_concurrent_streams` and close every stream when it shuts down.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "goethe/engine/status.h"

namespace goethe::server {

// What a stream offers the registry: a way to be closed from another thread. Implementations
// must tolerate being called after their stream has finished.
class ShutdownTarget {
 public:
  virtual ~ShutdownTarget() = default;
  virtual void CloseForShutdown() = 0;
};

class StreamRegistry {
 public:
  explicit StreamRegistry(std::uint32_t max_streams) : max_streams_(max_streams) {}

  // Admits a new stream, or says why not: RESOURCE_EXHAUSTED at the limit, UNAVAILABLE when the
  // server is shutting down.
  Status Admit(std::shared_ptr<ShutdownTarget> stream);
  // Forgets a stream (when it is done); a stream not admitted is ignored.
  void Remove(const ShutdownTarget* stream);
  // Refuses new streams from now on and asks every open one to close.
  void CloseAll();
  // Asks every open stream to close (UNAVAILABLE; clients subscribe again) and goes on admitting
  // new ones: a cluster node whose store a copy of its leader's replaces.
  void CloseOpen();

  std::size_t size() const;

 private:
  const std::uint32_t max_streams_;
  mutable std::mutex mutex_;
  bool closing_ = false;
  std::unordered_map<const ShutdownTarget*, std::shared_ptr<ShutdownTarget>> streams_;
};

}  // namespace goethe::server
