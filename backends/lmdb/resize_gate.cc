#include "resize_gate.h"

#include <algorithm>

namespace goethe::kv::lmdb_backend {

void ResizeGate::LockShared() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] {
    return !writer_active_ && !hold_back_ && !(writers_waiting_ > 0 && readers_ == 0);
  });
  ++readers_;
}

void ResizeGate::UnlockShared() {
  std::lock_guard lock(mu_);
  if (--readers_ == 0 && writers_waiting_ > 0) cv_.notify_all();
}

bool ResizeGate::TryLockFor(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const auto free = [this] { return readers_ == 0 && !writer_active_; };
  ++writers_waiting_;
  hold_back_ = true;
  bool acquired = cv_.wait_for(lock, std::min(timeout, kHoldBack), free);
  if (!acquired) {
    hold_back_ = false;  // readers inside are slow (or one is ours): let new readers go on
    cv_.notify_all();
    acquired = cv_.wait_until(lock, deadline, free);
  }
  hold_back_ = false;
  --writers_waiting_;
  if (acquired) {
    writer_active_ = true;
  } else {
    cv_.notify_all();  // readers held back for this writer may go on
  }
  return acquired;
}

void ResizeGate::Unlock() {
  std::lock_guard lock(mu_);
  writer_active_ = false;
  cv_.notify_all();
}

}  // namespace goethe::kv::lmdb_backend
