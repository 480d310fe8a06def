// goethe-grpc-probe: the floor that gRPC sets on this machine under two of goethe-server's
// workloads, with no log at all behind it (docs/benchmarks.md, "Live-tail fan-out" and "Catch-up
// reads"). It answers goethe-bench as a server would, and nothing else (every other call is
// UNIMPLEMENTED: not a server to use):
// - tail-fanout: CreateTopic does nothing; ProduceStream numbers each batch's events in memory and
//   hands the one response to every tailing Consume stream at once, on the producer's thread.
//   No store read, no wake-up, no auth: what is left is gRPC's callback API writing to N streams.
// - consume: a stream subscribed from anywhere but the end catches up over offsets 0 up to
//   --catch-up-events, windowed and acknowledged like the server's, from a reused message.
//
// usage: goethe-grpc-probe [--listen 127.0.0.1:PORT] [--catch-up-events N]
//        (port 0: a free one; the address is printed on stdout as goethe-server prints it)
#include <algorithm>
#include <charconv>
#include <csignal>
#include <deque>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <unordered_set>

#include <grpcpp/grpcpp.h>

#include "goethe/v1/goethe.grpc.pb.h"

namespace {

using goethe::v1::ConsumeRequest;
using goethe::v1::ConsumeResponse;

class ConsumeStream;

// The subscribed streams; Publish hands each a batch.
class Subscribers {
 public:
  void Add(ConsumeStream* stream) {
    std::lock_guard lock(mutex_);
    streams_.insert(stream);
  }
  void Remove(ConsumeStream* stream) {
    std::lock_guard lock(mutex_);
    streams_.erase(stream);
  }
  void Publish(const std::shared_ptr<const ConsumeResponse>& batch);

 private:
  std::mutex mutex_;
  std::unordered_set<ConsumeStream*> streams_;
};

// One Consume stream. A subscribe from the end is a tail: it gets every published batch in
// order. Any other start is a catch-up: offsets 0 up to `catch_up_events` in batches of at most
// 1,000, never more than the window unacknowledged, each batch the same reused message with its
// offsets renumbered (the server reuses its messages too).
class ConsumeStream final : public grpc::ServerBidiReactor<ConsumeRequest, ConsumeResponse> {
 public:
  ConsumeStream(Subscribers& subscribers, std::uint64_t catch_up_events)
      : subscribers_(subscribers), head_(catch_up_events) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    std::unique_lock lock(mutex_);
    if (request_.has_subscribe() && !subscribed_) {
      subscribed_ = true;
      const goethe::v1::Subscribe& subscribe = request_.subscribe();
      window_ = subscribe.window() == 0 ? 10000 : subscribe.window();
      catching_up_ = !subscribe.start().end();
      auto answer = std::make_shared<ConsumeResponse>();
      answer->mutable_subscribed()->set_window(window_);
      answer->mutable_subscribed()->set_head(catching_up_ ? head_ : 0);
      SendLocked(std::move(answer));
      if (!catching_up_) {
        lock.unlock();
        subscribers_.Add(this);
      }
    } else if (request_.has_ack() && catching_up_) {
      acked_ = std::max(acked_, request_.ack().offset() + 1);
      ContinueCatchUpLocked();
    }
    StartRead(&request_);
  }

  // Queues a tail's batch behind the one being written.
  void Send(std::shared_ptr<const ConsumeResponse> message) {
    std::lock_guard lock(mutex_);
    SendLocked(std::move(message));
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mutex_);
    writing_.reset();
    catch_up_writing_ = false;
    if (!ok) return;
    if (!queued_.empty()) {
      writing_ = std::move(queued_.front());
      queued_.pop_front();
      StartWrite(writing_.get());
      return;
    }
    if (catching_up_) ContinueCatchUpLocked();
  }

  void OnDone() override {
    subscribers_.Remove(this);
    delete this;
  }

 private:
  void SendLocked(std::shared_ptr<const ConsumeResponse> message) {
    if (writing_ != nullptr || catch_up_writing_) {
      queued_.push_back(std::move(message));
      return;
    }
    writing_ = std::move(message);
    StartWrite(writing_.get());
  }

  void ContinueCatchUpLocked() {
    if (writing_ != nullptr || catch_up_writing_ || next_ >= head_) return;
    const std::uint64_t in_flight = next_ - acked_;
    if (in_flight >= window_) return;
    const std::uint64_t count = std::min({std::uint64_t{1000}, window_ - in_flight, head_ - next_});
    auto* events = batch_.mutable_events()->mutable_events();
    while (static_cast<std::uint64_t>(events->size()) > count) events->RemoveLast();
    while (static_cast<std::uint64_t>(events->size()) < count) events->Add()->set_payload(RandomPayload());
    for (goethe::v1::Event& event : *events) event.set_offset(next_++);
    batch_.mutable_events()->set_head(head_);
    batch_.mutable_events()->set_next_offset(next_);
    catch_up_writing_ = true;
    StartWrite(&batch_);
  }

  // 100 incompressible bytes, as goethe-bench --random-payloads writes them.
  std::string RandomPayload() {
    std::string payload(100, '\0');
    for (char& c : payload) c = static_cast<char>(random_() & 0xff);
    return payload;
  }

  Subscribers& subscribers_;
  const std::uint64_t head_;  // a catch-up's end
  ConsumeRequest request_;
  std::mutex mutex_;  // reads and write completions may run on different threads
  bool subscribed_ = false;
  bool catching_up_ = false;
  std::uint64_t window_ = 0;
  std::uint64_t next_ = 0, acked_ = 0;  // a catch-up's next offset and the first not acknowledged
  ConsumeResponse batch_;               // a catch-up's reused message
  bool catch_up_writing_ = false;
  std::minstd_rand random_{42};
  std::shared_ptr<const ConsumeResponse> writing_;
  std::deque<std::shared_ptr<const ConsumeResponse>> queued_;
};

void Subscribers::Publish(const std::shared_ptr<const ConsumeResponse>& batch) {
  std::lock_guard lock(mutex_);
  for (ConsumeStream* stream : streams_) stream->Send(batch);
}

// Acknowledges each batch after publishing it, one batch at a time, as the log's offsets.
class ProducerStream final
    : public grpc::ServerBidiReactor<goethe::v1::ProduceStreamRequest, goethe::v1::ProduceStreamResponse> {
 public:
  ProducerStream(Subscribers& subscribers, std::uint64_t& next_offset, std::mutex& offsets)
      : subscribers_(subscribers), next_offset_(next_offset), offsets_(offsets) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    auto batch = std::make_shared<ConsumeResponse>();
    std::uint64_t first = 0;
    {
      std::lock_guard lock(offsets_);
      first = next_offset_;
      next_offset_ += static_cast<std::uint64_t>(request_.batch().payloads_size());
    }
    std::uint64_t offset = first;
    for (const std::string& payload : request_.batch().payloads()) {
      goethe::v1::Event* event = batch->mutable_events()->add_events();
      event->set_offset(offset++);
      event->set_payload(payload);
    }
    batch->mutable_events()->set_head(offset);
    batch->mutable_events()->set_next_offset(offset);
    subscribers_.Publish(batch);
    response_.Clear();
    response_.set_batch_id(request_.batch_id());
    response_.mutable_result()->set_first_offset(first);
    response_.mutable_result()->set_event_count(static_cast<std::uint32_t>(request_.batch().payloads_size()));
    response_.mutable_result()->set_next_offset(offset);
    StartWrite(&response_);
  }

  void OnWriteDone(bool ok) override {
    if (ok) StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  Subscribers& subscribers_;
  std::uint64_t& next_offset_;
  std::mutex& offsets_;
  goethe::v1::ProduceStreamRequest request_;
  goethe::v1::ProduceStreamResponse response_;
};

class ProbeService final : public goethe::v1::Goethe::CallbackService {
 public:
  explicit ProbeService(std::uint64_t catch_up_events) : catch_up_events_(catch_up_events) {}

  grpc::ServerUnaryReactor* CreateTopic(grpc::CallbackServerContext* call, const goethe::v1::CreateTopicRequest*,
                                        goethe::v1::CreateTopicResponse*) override {
    grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerBidiReactor<goethe::v1::ProduceStreamRequest, goethe::v1::ProduceStreamResponse>* ProduceStream(
      grpc::CallbackServerContext*) override {
    return new ProducerStream(subscribers_, next_offset_, offsets_);
  }
  grpc::ServerBidiReactor<ConsumeRequest, ConsumeResponse>* Consume(grpc::CallbackServerContext*) override {
    return new ConsumeStream(subscribers_, catch_up_events_);
  }

 private:
  const std::uint64_t catch_up_events_;
  Subscribers subscribers_;
  std::mutex offsets_;
  std::uint64_t next_offset_ = 0;
};

// True when `text` is a whole decimal number, stored in `*value`.
bool ParseCount(std::string_view text, std::uint64_t* value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && end == text.data() + text.size() && !text.empty();
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:50071";
  std::uint64_t catch_up_events = 2'000'000;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    const bool has_value = i + 1 < argc;
    if (has_value && flag == "--listen") {
      listen = argv[i + 1];
    } else if (!has_value || flag != "--catch-up-events" || !ParseCount(argv[i + 1], &catch_up_events)) {
      std::cerr << "usage: goethe-grpc-probe [--listen 127.0.0.1:PORT] [--catch-up-events N]\n";
      return 2;
    }
  }
  // Blocked before gRPC starts its threads, so that only sigwait below takes them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  ProbeService service(catch_up_events);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, 100000);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "goethe-grpc-probe: cannot listen on " << listen << "\n";
    return 1;
  }
  // The port as bound (the address may name port 0), on stdout as goethe-server says it.
  std::cout << "goethe-grpc-probe listening on " << listen.substr(0, listen.rfind(':') + 1) << port << std::endl;
  int signal = 0;
  sigwait(&stop, &signal);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}
