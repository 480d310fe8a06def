// goethe-grpc-probe: the floor that gRPC sets on this machine under two of goethe-server's
// workloads, with no log at all behind it (docs/benchmarks.md, "Live-tail fan-out" and "Catch-up
// reads"). It answers goethe-bench as a server would, and nothing else (every other call is
// UNIMPLEMENTED: not a server to use):
// - tail-fanout: CreateTopic does nothing; ProduceStream numbers each batch's events in memory and
//   hands the one response to every tailing Consume stream at once, on the producer's thread.
//   No store read, no wake-up, no auth: what is left is gRPC's callback API writing to N streams.
//   With --tail-api cq the tailing streams are served on gRPC's completion-queue API instead, one
//   thread draining each of --cq-threads queues (bench/probes/cq_tails.h; tails only then).
// - consume: a stream subscribed from anywhere but the end catches up over offsets 0 up to
//   --catch-up-events, windowed and acknowledged like the server's, from a reused message.
//
// usage: goethe-grpc-probe [--listen 127.0.0.1:PORT] [--catch-up-events N] [--tail-api callback|cq]
//                          [--cq-threads 2]
//        (port 0: a free one; the address is printed on stdout as goethe-server prints it)
#include <algorithm>
#include <charconv>
#include <csignal>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include <grpcpp/grpcpp.h>

#include "cq_tails.h"
#include "goethe/v1/goethe.grpc.pb.h"
#include "probe_topic.h"

namespace {

using goethe::probe::ProbeTail;
using goethe::probe::ProbeTopic;
using goethe::v1::ConsumeRequest;
using goethe::v1::ConsumeResponse;

// One Consume stream. A subscribe from the end is a tail: it gets every appended batch in order.
// Any other start is a catch-up: offsets 0 up to `catch_up_events` in batches of at most 1,000,
// never more than the window unacknowledged, each batch the same reused message with its offsets
// renumbered (the server reuses its messages too). One write at a time; a tail queues the rest.
class ConsumeStream final : public grpc::ServerBidiReactor<ConsumeRequest, ConsumeResponse>, public ProbeTail {
 public:
  ConsumeStream(ProbeTopic& topic, std::uint64_t catch_up_events) : topic_(topic), head_(catch_up_events) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The client half-closed: no more batches, and the end once the write under way is done.
      topic_.Unsubscribe(this);
      std::lock_guard lock(mutex_);
      closing_ = true;
      if (!writes_.busy()) Finish(grpc::Status::OK);
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
      if (catching_up_) {
        SendLocked(std::move(answer));
      } else {
        // A tail hears "subscribed" only once the topic knows it: a client that starts producing
        // when every stream has subscribed must not find one of them missing the first event.
        // The topic's lock is taken without the stream's, as Append takes them the other way round.
        writes_.Hold(std::move(answer));
        lock.unlock();
        topic_.Subscribe(this);
        lock.lock();
        StartWrite(writes_.Release());
      }
    } else if (request_.has_ack() && catching_up_) {
      acked_ = std::max(acked_, request_.ack().offset() + 1);
      ContinueCatchUpLocked();
    }
    StartRead(&request_);
  }

  void Send(std::shared_ptr<const ConsumeResponse> message) override {
    std::lock_guard lock(mutex_);
    SendLocked(std::move(message));
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mutex_);
    writes_.Done();
    if (closing_) return Finish(grpc::Status::OK);
    if (!ok) return;  // the call is ending: OnDone follows
    if (const ConsumeResponse* next = writes_.Next()) {
      StartWrite(next);
    } else if (catching_up_) {
      ContinueCatchUpLocked();
    }
  }

  void OnDone() override {
    topic_.Unsubscribe(this);
    delete this;
  }

 private:
  void SendLocked(std::shared_ptr<const ConsumeResponse> message) {
    if (closing_) return;
    if (const ConsumeResponse* now = writes_.Add(std::move(message))) StartWrite(now);
  }

  void ContinueCatchUpLocked() {
    if (writes_.busy() || closing_ || next_ >= head_) return;
    const std::uint64_t in_flight = next_ - acked_;
    if (in_flight >= window_) return;
    const std::uint64_t count = std::min({std::uint64_t{1000}, window_ - in_flight, head_ - next_});
    auto* events = batch_.mutable_events()->mutable_events();
    while (static_cast<std::uint64_t>(events->size()) > count) events->RemoveLast();
    while (static_cast<std::uint64_t>(events->size()) < count) events->Add()->set_payload(RandomPayload());
    for (goethe::v1::Event& event : *events) event.set_offset(next_++);
    batch_.mutable_events()->set_head(head_);
    batch_.mutable_events()->set_next_offset(next_);
    writes_.StartOwn();
    StartWrite(&batch_);
  }

  // 100 incompressible bytes, as goethe-bench --random-payloads writes them.
  std::string RandomPayload() {
    std::string payload(100, '\0');
    for (char& c : payload) c = static_cast<char>(random_() & 0xff);
    return payload;
  }

  ProbeTopic& topic_;
  const std::uint64_t head_;  // a catch-up's end
  ConsumeRequest request_;
  std::mutex mutex_;  // reads and write completions may run on different threads
  bool subscribed_ = false;
  bool catching_up_ = false;
  bool closing_ = false;
  std::uint64_t window_ = 0;
  std::uint64_t next_ = 0, acked_ = 0;  // a catch-up's next offset and the first not acknowledged
  ConsumeResponse batch_;               // a catch-up's reused message
  std::minstd_rand random_{42};
  goethe::probe::TailWrites writes_;  // a tail's batches; a catch-up's writes count as under way there
};

// Acknowledges each batch once it is handed to every tail, one batch at a time.
class ProducerStream final
    : public grpc::ServerBidiReactor<goethe::v1::ProduceStreamRequest, goethe::v1::ProduceStreamResponse> {
 public:
  explicit ProducerStream(ProbeTopic& topic) : topic_(topic) { StartRead(&request_); }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    const auto& payloads = request_.batch().payloads();
    const std::uint64_t first = topic_.Append(payloads);
    response_.Clear();
    response_.set_batch_id(request_.batch_id());
    goethe::v1::ProduceResponse* result = response_.mutable_result();
    result->set_first_offset(first);
    result->set_event_count(static_cast<std::uint32_t>(payloads.size()));
    result->set_next_offset(first + static_cast<std::uint64_t>(payloads.size()));
    StartWrite(&response_);
  }

  void OnWriteDone(bool ok) override {
    if (ok) StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  ProbeTopic& topic_;
  goethe::v1::ProduceStreamRequest request_;
  goethe::v1::ProduceStreamResponse response_;
};

class ProbeService final : public goethe::v1::Goethe::CallbackService {
 public:
  // With `consume_on_queues` Consume is left to a goethe::probe::CqConsumeService.
  ProbeService(std::uint64_t catch_up_events, bool consume_on_queues) : catch_up_events_(catch_up_events) {
    if (consume_on_queues) MarkMethodGeneric(goethe::probe::ConsumeMethodIndex());
  }
  ProbeTopic& topic() { return topic_; }

  grpc::ServerUnaryReactor* CreateTopic(grpc::CallbackServerContext* call, const goethe::v1::CreateTopicRequest*,
                                        goethe::v1::CreateTopicResponse*) override {
    grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerBidiReactor<goethe::v1::ProduceStreamRequest, goethe::v1::ProduceStreamResponse>* ProduceStream(
      grpc::CallbackServerContext*) override {
    return new ProducerStream(topic_);
  }
  grpc::ServerBidiReactor<ConsumeRequest, ConsumeResponse>* Consume(grpc::CallbackServerContext*) override {
    return new ConsumeStream(topic_, catch_up_events_);
  }

 private:
  const std::uint64_t catch_up_events_;
  ProbeTopic topic_;
};

// True when `text` is a whole decimal number, stored in `*value`.
bool ParseCount(std::string_view text, std::uint64_t* value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && end == text.data() + text.size() && !text.empty();
}

int Usage() {
  std::cerr << "usage: goethe-grpc-probe [--listen 127.0.0.1:PORT] [--catch-up-events N] [--tail-api callback|cq]"
               " [--cq-threads N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:50071";
  bool tails_on_queues = false;  // --tail-api cq
  std::uint64_t catch_up_events = 2'000'000;
  std::uint64_t cq_threads = 2;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) return Usage();
    const std::string_view value = argv[i + 1];
    if (flag == "--listen") {
      listen = value;
    } else if (flag == "--tail-api" && (value == "callback" || value == "cq")) {
      tails_on_queues = value == "cq";
    } else if (!(flag == "--catch-up-events" && ParseCount(value, &catch_up_events)) &&
               !(flag == "--cq-threads" && ParseCount(value, &cq_threads) && cq_threads > 0 && cq_threads <= 64)) {
      return Usage();
    }
  }
  // Blocked before gRPC starts its threads, so that only sigwait below takes them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  ProbeService service(catch_up_events, tails_on_queues);
  std::optional<goethe::probe::CqConsumeService> consume_service;
  // Never asked for anything: every method is one of the two services'. gRPC wants one, as each
  // service leaves the other's methods to a generic service.
  grpc::AsyncGenericService no_generic_calls;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> queues;
  if (tails_on_queues) {
    builder.RegisterService(&consume_service.emplace());
    builder.RegisterAsyncGenericService(&no_generic_calls);
    for (std::uint64_t i = 0; i < cq_threads; ++i) queues.push_back(builder.AddCompletionQueue());
  }
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, 100000);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "goethe-grpc-probe: cannot listen on " << listen << "\n";
    return 1;
  }
  std::unique_ptr<goethe::probe::CqTails> tails;
  if (tails_on_queues) {
    tails = std::make_unique<goethe::probe::CqTails>(service.topic(), *consume_service, std::move(queues));
    tails->Start();
  }
  // The port as bound (the address may name port 0), on stdout as goethe-server says it.
  std::cout << "goethe-grpc-probe listening on " << listen.substr(0, listen.rfind(':') + 1) << port << std::endl;
  int signal = 0;
  sigwait(&stop, &signal);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  if (tails) tails->Stop();  // the queues drained before the server goes
  server.reset();
  return 0;
}
