// GatedStore: a kv::Store decorator whose writes can be held at a gate, so that a test can park
// the engine's commit loop inside a write and queue work behind it — and so observe group
// commit deterministically. It also counts the writes that reached the real store.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <utility>

#include "goethe/kv/store.h"

namespace goethe::testing {

class GatedStore : public kv::Store {
 public:
  explicit GatedStore(std::shared_ptr<kv::Store> inner) : inner_(std::move(inner)) {}
  ~GatedStore() override { OpenGate(); }

  // From now on, writes wait at the gate until OpenGate().
  void CloseGate() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  void OpenGate() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = false;
    cv_.notify_all();
  }
  // True once a writer waits at the closed gate (within `timeout`).
  bool WaitUntilBlocked(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return blocked_ > 0; });
  }
  std::uint64_t writes() {
    std::lock_guard<std::mutex> lock(mu_);
    return writes_;
  }
  // The thread that made the last write: the commit loop's, or a blocking Append's own.
  std::thread::id last_writer() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_writer_;
  }

  kv::Status Write(const kv::WriteOptions& options, const kv::WriteBatch& batch) override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (closed_) {
        ++blocked_;
        cv_.notify_all();
        // Bounded: a test that forgets to open the gate fails instead of hanging.
        cv_.wait_for(lock, std::chrono::seconds(60), [&] { return !closed_; });
        --blocked_;
      }
    }
    kv::Status s = inner_->Write(options, batch);
    std::lock_guard<std::mutex> lock(mu_);
    ++writes_;
    last_writer_ = std::this_thread::get_id();
    return s;
  }
  kv::Status Get(const kv::ReadOptions& options, std::string_view key, std::string* value) override {
    return inner_->Get(options, key, value);
  }
  std::unique_ptr<kv::Iterator> NewIterator(const kv::ReadOptions& options) override {
    return inner_->NewIterator(options);
  }
  std::unique_ptr<kv::Snapshot> GetSnapshot() override { return inner_->GetSnapshot(); }
  kv::Status ApproximateSize(std::string_view begin, std::string_view end, std::uint64_t* bytes) override {
    return inner_->ApproximateSize(begin, end, bytes);
  }
  kv::Status Flush() override { return inner_->Flush(); }

 private:
  std::shared_ptr<kv::Store> inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  int blocked_ = 0;
  std::uint64_t writes_ = 0;
  std::thread::id last_writer_;
};

}  // namespace goethe::testing
