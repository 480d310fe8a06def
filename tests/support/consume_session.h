// ConsumeSession: a Consume stream whose events a test takes one by one with a timeout, so that no
// test can hang on a read. Its reader thread keeps every event with the time it arrived, and every
// batch as it came (empty progress batches included); `on_batch`, if given, runs in that thread
// for each batch before the test sees its events, and with auto-ack on each batch is acked as soon
// as it arrives. Works for a named cursor's stream and for a group member's alike.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "goethe/v1/goethe.grpc.pb.h"

namespace goethe::testing {

class ConsumeSession {
 public:
  using Clock = std::chrono::steady_clock;
  using BatchHook = std::function<void(ConsumeSession&, const v1::EventBatch&)>;
  struct Received {
    v1::Event event;
    Clock::time_point at;
  };

  ConsumeSession(v1::Goethe::Stub& stub, const v1::Subscribe& subscribe, BatchHook on_batch = {},
                 std::chrono::milliseconds lifetime = std::chrono::seconds(120))
      : on_batch_(std::move(on_batch)) {
    call_.set_deadline(std::chrono::system_clock::now() + lifetime);
    stream_ = stub.Consume(&call_);
    v1::ConsumeRequest request;
    *request.mutable_subscribe() = subscribe;
    stream_->Write(request);
    reader_ = std::thread([this] { ReadAll(); });
  }
  ConsumeSession(v1::Goethe::Stub& stub, const v1::Subscribe& subscribe, std::chrono::milliseconds lifetime)
      : ConsumeSession(stub, subscribe, {}, lifetime) {}

  ~ConsumeSession() {
    if (!finished_) {
      call_.TryCancel();
      Finish();
    }
  }
  ConsumeSession(const ConsumeSession&) = delete;
  ConsumeSession& operator=(const ConsumeSession&) = delete;

  // The subscribe's answer, or nullopt when the stream ended first (see Finish()).
  std::optional<v1::Subscribed> Subscribed(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [this] { return subscribed_.has_value() || ended_; });
    return subscribed_;
  }

  // The next event with its arrival time, or nullopt when none arrives within `timeout` or the
  // stream ended.
  std::optional<Received> NextReceived(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [this] { return !queue_.empty() || ended_; });
    if (queue_.empty()) return std::nullopt;
    Received received = std::move(queue_.front());
    queue_.pop_front();
    return received;
  }

  std::optional<v1::Event> Next(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::optional<Received> received = NextReceived(timeout);
    if (!received) return std::nullopt;
    return std::move(received->event);
  }

  // Up to `n` events, stopping early when one does not arrive within `timeout`.
  std::vector<v1::Event> Take(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::vector<v1::Event> events;
    while (events.size() < n) {
      std::optional<v1::Event> event = Next(timeout);
      if (!event) break;
      events.push_back(std::move(*event));
    }
    return events;
  }

  // Every event received so far, the ones Next() took included.
  std::vector<v1::Event> All() {
    std::lock_guard lock(mutex_);
    return all_;
  }

  std::vector<v1::EventBatch> Batches() {
    std::lock_guard lock(mutex_);
    return batches_;
  }

  // The first batch received so far or within `timeout` for which `wanted` holds.
  std::optional<v1::EventBatch> WaitForBatch(const std::function<bool(const v1::EventBatch&)>& wanted,
                                             std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::unique_lock lock(mutex_);
    std::optional<v1::EventBatch> found;
    changed_.wait_for(lock, timeout, [&] {
      for (const v1::EventBatch& batch : batches_) {
        if (wanted(batch)) {
          found = batch;
          return true;
        }
      }
      return ended_;
    });
    return found;
  }

  // Acks from then on every batch that arrives (its last offset). A session that must ack its very
  // first batch passes AckEachBatch() to the constructor instead: the first batch can arrive first.
  void SetAutoAck(bool on) { auto_ack_.store(on); }
  static BatchHook AckEachBatch() {
    return [](ConsumeSession& session, const v1::EventBatch& batch) {
      if (batch.events_size() > 0) session.Ack(batch.events(batch.events_size() - 1).offset());
    };
  }

  bool Ack(std::uint64_t offset) {
    v1::ConsumeRequest request;
    request.mutable_ack()->set_offset(offset);
    return Write(request);
  }

  // A group member's acks: single offsets and (first, last) ranges.
  bool GroupAck(const std::vector<std::uint64_t>& offsets,
                const std::vector<std::pair<std::uint64_t, std::uint64_t>>& ranges = {}) {
    v1::ConsumeRequest request;
    for (std::uint64_t offset : offsets) request.mutable_group_ack()->add_offsets(offset);
    for (const auto& [first, last] : ranges) {
      v1::OffsetRange* range = request.mutable_group_ack()->add_ranges();
      range->set_first(first);
      range->set_last(last);
    }
    return Write(request);
  }

  bool Nack(const std::vector<std::uint64_t>& offsets, std::chrono::milliseconds delay = std::chrono::milliseconds(0),
            const std::string& reason = "") {
    v1::ConsumeRequest request;
    for (std::uint64_t offset : offsets) request.mutable_nack()->add_offsets(offset);
    if (delay.count() > 0) {
      request.mutable_nack()->mutable_delay()->set_seconds(delay.count() / 1000);
      request.mutable_nack()->mutable_delay()->set_nanos(static_cast<std::int32_t>((delay.count() % 1000) * 1'000'000));
    }
    request.mutable_nack()->set_reason(reason);
    return Write(request);
  }

  bool Extend(const std::vector<std::uint64_t>& offsets) {
    v1::ConsumeRequest request;
    for (std::uint64_t offset : offsets) request.mutable_extend()->add_offsets(offset);
    return Write(request);
  }

  bool Write(const v1::ConsumeRequest& request) {
    std::lock_guard lock(write_mutex_);
    return stream_->Write(request);
  }

  void Cancel() { call_.TryCancel(); }

  bool ended() {
    std::lock_guard lock(mutex_);
    return ended_;
  }

  // Waits up to `timeout` for the server to end the stream; true when it did.
  bool WaitEnded(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [this] { return ended_; });
  }

  // Half-closes (the server commits the last acks and finishes) and returns the final status.
  grpc::Status Close() {
    {
      std::lock_guard lock(write_mutex_);
      stream_->WritesDone();
    }
    return Finish();
  }

  // Waits for the stream to end and returns its status.
  grpc::Status Finish() {
    if (finished_) return status_;
    reader_.join();
    status_ = stream_->Finish();
    finished_ = true;
    return status_;
  }

 private:
  void ReadAll() {
    v1::ConsumeResponse response;
    while (stream_->Read(&response)) {
      const Clock::time_point at = Clock::now();
      if (response.has_subscribed()) {
        std::lock_guard lock(mutex_);
        subscribed_ = response.subscribed();
        changed_.notify_all();
        continue;
      }
      const v1::EventBatch& batch = response.events();
      if (on_batch_) on_batch_(*this, batch);
      if (auto_ack_.load() && batch.events_size() > 0) Ack(batch.events(batch.events_size() - 1).offset());
      std::lock_guard lock(mutex_);
      for (const v1::Event& event : batch.events()) {
        queue_.push_back({event, at});
        all_.push_back(event);
      }
      batches_.push_back(batch);
      changed_.notify_all();
    }
    std::lock_guard lock(mutex_);
    ended_ = true;
    changed_.notify_all();
  }

  BatchHook on_batch_;
  grpc::ClientContext call_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::ConsumeRequest, v1::ConsumeResponse>> stream_;
  std::thread reader_;
  std::atomic<bool> auto_ack_{false};
  std::mutex write_mutex_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<v1::Subscribed> subscribed_;
  std::deque<Received> queue_;
  std::vector<v1::Event> all_;
  std::vector<v1::EventBatch> batches_;
  bool ended_ = false;
  bool finished_ = false;
  grpc::Status status_;
};

}  // namespace goethe::testing
