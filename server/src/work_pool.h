// WorkPool: a few threads that run posted tasks in order of posting.
//
// The server uses two: one for engine calls that wait for a commit (cursor commits, topic
// changes), so that gRPC's callback threads never block on a sync, and one for live-tail wake-ups,
// so that the engine's commit thread only posts and returns. The thread count is fixed: no thread
// belongs to a stream.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace goethe::server {

class WorkPool {
 public:
  WorkPool(std::string name, std::size_t threads);
  ~WorkPool();  // Stop()s
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // Queues `task`. After Stop() tasks are dropped: nothing is left to serve.
  void Post(std::function<void()> task);

  // Runs every task already queued, then joins the threads. Idempotent.
  void Stop();

 private:
  void Run();

  const std::string name_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace goethe::server
