#include "completion_thread.h"

namespace goethe {

CompletionThread::CompletionThread() : thread_([this] { Run(); }) {}

CompletionThread::~CompletionThread() { Stop(); }

void CompletionThread::Post(std::vector<std::function<void()>> callbacks) {
  std::lock_guard lock(mutex_);
  pending_.push_back(std::move(callbacks));
  wake_.notify_one();
}

void CompletionThread::RunInOrder(std::vector<std::function<void()>> callbacks) {
  {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return pending_.empty() && running_ == 0; });
  }
  for (auto& callback : callbacks) callback();
}

void CompletionThread::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

void CompletionThread::Run() {
  for (;;) {
    std::deque<std::vector<std::function<void()>>> ready;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;
      ready.swap(pending_);
      running_ = ready.size();
    }
    for (auto& callbacks : ready) {
      for (auto& callback : callbacks) callback();
    }
    std::lock_guard lock(mutex_);
    running_ = 0;
    idle_.notify_all();
  }
}

}  // namespace goethe
