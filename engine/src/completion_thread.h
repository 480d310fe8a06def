// CompletionThread: runs the callers' completion callbacks of each commit, in commit order, on a
// thread of its own, so that the commit loop can start writing the next batch at once instead of
// waking every caller of the last one first.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace goethe {

class CompletionThread {
 public:
  CompletionThread();
  ~CompletionThread();  // Stop()s

  // Queues the callbacks of one commit; they run in the order given, after earlier commits'.
  void Post(std::vector<std::function<void()>> callbacks);
  // Runs the callbacks on the calling thread, after everything posted before them (order is kept).
  void RunInOrder(std::vector<std::function<void()>> callbacks);
  // Runs everything queued, then ends the thread. Idempotent.
  void Stop();

 private:
  void Run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<std::vector<std::function<void()>>> pending_;
  std::size_t running_ = 0;  // batches taken by the thread and not yet finished
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace goethe
