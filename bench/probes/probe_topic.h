// The one topic goethe-grpc-probe serves (bench/probes/grpc_probe.cc): it numbers each produced batch
// in memory and hands the one response to every tailing stream, whichever gRPC API serves the stream.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

#include "goethe/v1/goethe.pb.h"

namespace goethe::probe {

// A tailing Consume stream as the topic sees it.
class ProbeTail {
 public:
  virtual ~ProbeTail() = default;
  // Writes `batch` to the stream, or queues it behind the write under way. Called with the topic's
  // lock held, so that every tail gets the batches in offset order.
  virtual void Send(std::shared_ptr<const v1::ConsumeResponse> batch) = 0;
};

// A tail's batches in order, one write at a time: the write under way and those waiting for it.
// Not locked: its stream's lock guards it.
class TailWrites {
 public:
  // Queues `batch`; returns it when it is to be written now, nullptr when a write is under way.
  const v1::ConsumeResponse* Add(std::shared_ptr<const v1::ConsumeResponse> batch) {
    queued_.push_back(std::move(batch));
    return Next();
  }
  // The next batch to write, nullptr while a write is under way or when none waits.
  const v1::ConsumeResponse* Next() {
    if (busy_ || queued_.empty()) return nullptr;
    busy_ = true;
    written_ = std::move(queued_.front());
    queued_.pop_front();
    return written_.get();
  }
  // The write under way is done.
  void Done() {
    busy_ = false;
    written_.reset();
  }
  // A write of a message of the stream's own (a catch-up's) starts.
  void StartOwn() { busy_ = true; }
  // Queues `first` with nothing written until Release: a tail's "subscribed" waits so, while the
  // stream joins its topic, ahead of any batch the topic sends meanwhile. Only with no write under way.
  void Hold(std::shared_ptr<const v1::ConsumeResponse> first) {
    busy_ = true;
    queued_.push_back(std::move(first));
  }
  // Ends the hold; returns the batch to write now (the held one), as Next does.
  const v1::ConsumeResponse* Release() {
    busy_ = false;
    return Next();
  }
  bool busy() const { return busy_; }
  // Drops the batches not written yet.
  void Clear() { queued_.clear(); }

 private:
  bool busy_ = false;
  std::shared_ptr<const v1::ConsumeResponse> written_;  // alive while written
  std::deque<std::shared_ptr<const v1::ConsumeResponse>> queued_;
};

class ProbeTopic {
 public:
  void Subscribe(ProbeTail* tail) {
    std::lock_guard lock(mutex_);
    tails_.insert(tail);
  }
  // Once it returns, `tail` gets no more Send calls.
  void Unsubscribe(ProbeTail* tail) {
    std::lock_guard lock(mutex_);
    tails_.erase(tail);
  }
  // Returns the offset of the first of `payloads`.
  std::uint64_t Append(const google::protobuf::RepeatedPtrField<std::string>& payloads) {
    auto batch = std::make_shared<v1::ConsumeResponse>();
    std::lock_guard lock(mutex_);
    const std::uint64_t first = next_offset_;
    for (const std::string& payload : payloads) {
      v1::Event* event = batch->mutable_events()->add_events();
      event->set_offset(next_offset_++);
      event->set_payload(payload);
    }
    batch->mutable_events()->set_head(next_offset_);
    batch->mutable_events()->set_next_offset(next_offset_);
    for (ProbeTail* tail : tails_) tail->Send(batch);
    return first;
  }

 private:
  std::mutex mutex_;
  std::uint64_t next_offset_ = 0;
  std::unordered_set<ProbeTail*> tails_;
};

}  // namespace goethe::probe
