// goethe-fanout-probe: the floor under live-tail fan-out that gRPC sets on this machine.
//
// A stand-in for goethe-server with no log at all, for `goethe-bench tail-fanout` to run against
// (docs/benchmarks.md, "Live-tail fan-out"): CreateTopic does nothing, ProduceStream numbers each
// batch's events in memory and hands the one response to every subscribed Consume stream at once,
// on the producer's thread, each stream queueing what arrives while it still writes. No store
// read, no wake-up, no window, no auth: what is left is the cost of gRPC's callback API writing to
// N streams, the part goethe-server cannot avoid. Not a server to use: every other call is
// UNIMPLEMENTED.
//
// usage: goethe-fanout-probe [--listen 127.0.0.1:PORT]   (port 0: a free one, printed on stdout)
#include <csignal>
#include <deque>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

#include <grpcpp/grpcpp.h>

#include "goethe/v1/goethe.grpc.pb.h"

namespace {

using goethe::v1::ConsumeRequest;
using goethe::v1::ConsumeResponse;

class TailStream;

// The subscribed streams; Publish hands each a batch.
class Subscribers {
 public:
  void Add(TailStream* stream) {
    std::lock_guard lock(mutex_);
    streams_.insert(stream);
  }
  void Remove(TailStream* stream) {
    std::lock_guard lock(mutex_);
    streams_.erase(stream);
  }
  void Publish(const std::shared_ptr<const ConsumeResponse>& batch);

 private:
  std::mutex mutex_;
  std::unordered_set<TailStream*> streams_;
};

// One read-only tail: answers the subscribe, then writes every published batch in order and
// reads (and ignores) the client's acks until it ends.
class TailStream final : public grpc::ServerBidiReactor<ConsumeRequest, ConsumeResponse> {
 public:
  explicit TailStream(Subscribers& subscribers) : subscribers_(subscribers) { StartRead(&request_); }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    if (request_.has_subscribe() && !subscribed_) {
      subscribed_ = true;
      auto answer = std::make_shared<ConsumeResponse>();
      answer->mutable_subscribed()->set_window(request_.subscribe().window());
      Send(std::move(answer));
      subscribers_.Add(this);
    }
    StartRead(&request_);
  }

  void Send(std::shared_ptr<const ConsumeResponse> message) {
    std::lock_guard lock(mutex_);
    if (writing_ != nullptr) {
      queued_.push_back(std::move(message));
      return;
    }
    writing_ = std::move(message);
    StartWrite(writing_.get());
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mutex_);
    writing_.reset();
    if (!ok || queued_.empty()) return;
    writing_ = std::move(queued_.front());
    queued_.pop_front();
    StartWrite(writing_.get());
  }

  void OnDone() override {
    subscribers_.Remove(this);
    delete this;
  }

 private:
  Subscribers& subscribers_;
  ConsumeRequest request_;
  bool subscribed_ = false;
  std::mutex mutex_;
  std::shared_ptr<const ConsumeResponse> writing_;
  std::deque<std::shared_ptr<const ConsumeResponse>> queued_;
};

void Subscribers::Publish(const std::shared_ptr<const ConsumeResponse>& batch) {
  std::lock_guard lock(mutex_);
  for (TailStream* stream : streams_) stream->Send(batch);
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
    return new TailStream(subscribers_);
  }

 private:
  Subscribers subscribers_;
  std::mutex offsets_;
  std::uint64_t next_offset_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:50071";
  if (argc == 3 && std::string(argv[1]) == "--listen") {
    listen = argv[2];
  } else if (argc != 1) {
    std::cerr << "usage: goethe-fanout-probe [--listen 127.0.0.1:PORT]\n";
    return 2;
  }
  // Blocked before gRPC starts its threads, so that only sigwait below takes them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  ProbeService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, 100000);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "goethe-fanout-probe: cannot listen on " << listen << "\n";
    return 1;
  }
  // The port as bound (the address may name port 0), on stdout as goethe-server says it.
  std::cout << "goethe-fanout-probe listening on " << listen.substr(0, listen.rfind(':') + 1) << port << std::endl;
  int signal = 0;
  sigwait(&stop, &signal);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}
