// tail-fanout's streams on gRPC's callback API: one reactor per stream, the connections made by
// the caller's StubFactory, the streams spread over them in turn.
#include <mutex>
#include <optional>
#include <vector>

#include "tail_clients.h"

namespace goethe::load {
namespace {

// One tailing consumer. gRPC runs its read callbacks one at a time, so the tally needs no lock.
class TailReader final : public grpc::ClientBidiReactor<v1::ConsumeRequest, v1::ConsumeResponse> {
 public:
  TailReader(Stub& stub, const v1::ConsumeRequest& subscribe, Roll& roll)
      : roll_(roll), tally_(subscribe.subscribe().window()) {
    stub.async()->Consume(&context_, this);
    write_ = subscribe;
    writing_ = true;
    StartWrite(&write_);
    StartRead(&response_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream ended: OnDone follows
    if (response_.has_subscribed()) roll_.Subscribed();
    if (const std::optional<std::uint64_t> ack = tally_.Record(response_)) Ack(*ack);
    StartRead(&response_);
  }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard lock(ack_mutex_);
      writing_ = false;
      if (!ok || !TakePendingAck()) return;
    }
    StartWrite(&write_);
  }

  void OnDone(const grpc::Status& status) override {
    status_ = status;
    roll_.Ended();
  }

  void Cancel() { context_.TryCancel(); }
  const TailTally& tally() const { return tally_; }
  const grpc::Status& status() const { return status_; }

 private:
  // One write at a time on a stream: an ack that comes while one is under way waits, and a later
  // one replaces it (acks are cumulative). StartWrite is called without the lock held.
  void Ack(std::uint64_t offset) {
    {
      std::lock_guard lock(ack_mutex_);
      pending_ack_ = offset + 1;  // +1: 0 means none
      if (writing_ || !TakePendingAck()) return;
    }
    StartWrite(&write_);
  }
  // Under the lock: moves the pending ack into `write_`; false when there is none.
  bool TakePendingAck() {
    if (pending_ack_ == 0) return false;
    write_.Clear();
    write_.mutable_ack()->set_offset(pending_ack_ - 1);
    pending_ack_ = 0;
    writing_ = true;
    return true;
  }

  Roll& roll_;
  TailTally tally_;  // read callbacks only
  grpc::ClientContext context_;
  v1::ConsumeRequest write_;
  v1::ConsumeResponse response_;
  std::mutex ack_mutex_;  // reads and write completions may run on different threads
  bool writing_ = false;
  std::uint64_t pending_ack_ = 0;
  grpc::Status status_;
};

class GrpcTails final : public TailClients {
 public:
  GrpcTails(Stub& first, const StubFactory& connect, const LoadOptions& options, const v1::ConsumeRequest& subscribe,
            Roll& roll)
      : roll_(roll) {
    std::vector<Stub*> stubs = {&first};
    for (std::uint32_t i = 1; i < std::max<std::uint32_t>(options.connections, 1); ++i)
      stubs.push_back(connections_.emplace_back(connect()).get());
    for (std::uint32_t i = 0; i < options.consumers; ++i) {
      readers_.push_back(std::make_unique<TailReader>(*stubs[i % stubs.size()], subscribe, roll));
      tallies_.push_back(&readers_.back()->tally());
    }
  }

  void Stop() override {
    for (const auto& reader : readers_) reader->Cancel();
    roll_.WaitEnded(readers_.size(), std::chrono::seconds(30));
  }

 private:
  std::string FirstError() const override {
    for (const auto& reader : readers_) {
      const grpc::Status& status = reader->status();
      if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) return status.error_message();
    }
    return "";
  }

  Roll& roll_;
  std::vector<std::unique_ptr<Stub>> connections_;  // all but the first
  std::vector<std::unique_ptr<TailReader>> readers_;
};

}  // namespace

std::unique_ptr<TailClients> StartGrpcTails(Stub& first, const StubFactory& connect, const LoadOptions& options,
                                            const v1::ConsumeRequest& subscribe, Roll& roll) {
  return std::make_unique<GrpcTails>(first, connect, options, subscribe, roll);
}

}  // namespace goethe::load
