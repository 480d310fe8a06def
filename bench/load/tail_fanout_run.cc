// Live-tail fan-out: N read-only Consume streams tail one topic from its end while a producer
// appends at a fixed rate, each payload carrying its send time; every consumer measures how long
// each event took to reach it. The consumers are gRPC callback reactors on a few connections, so
// the client's own cost stays small (it reports its CPU use beside the latencies).
#include <sys/resource.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "load_runs.h"
#include "load_stats.h"

namespace goethe::load {
namespace {

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Counts the readers subscribed and ended, for the run to wait on.
class Roll {
 public:
  void Subscribed() { Bump(subscribed_); }
  void Ended() { Bump(ended_); }
  bool WaitSubscribed(std::size_t n, std::chrono::seconds at_most) { return WaitFor(subscribed_, n, at_most); }
  bool WaitEnded(std::size_t n, std::chrono::seconds at_most) { return WaitFor(ended_, n, at_most); }
  std::size_t subscribed() {
    std::lock_guard lock(mutex_);
    return subscribed_;
  }

 private:
  void Bump(std::size_t& count) {
    std::lock_guard lock(mutex_);
    ++count;
    changed_.notify_all();
  }
  bool WaitFor(std::size_t& count, std::size_t n, std::chrono::seconds at_most) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, at_most, [&] { return count >= n; });
  }
  std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t subscribed_ = 0, ended_ = 0;
};

// One tailing consumer. gRPC runs its callbacks one at a time, so its own state needs no lock;
// `received()` is read by the run's thread, hence atomic.
class TailReader final : public grpc::ClientBidiReactor<v1::ConsumeRequest, v1::ConsumeResponse> {
 public:
  TailReader(Stub& stub, const v1::ConsumeRequest& subscribe, Roll& roll)
      : roll_(roll), window_(subscribe.subscribe().window() == 0 ? 10000 : subscribe.subscribe().window()) {
    stub.async()->Consume(&context_, this);
    write_ = subscribe;
    writing_ = true;
    StartWrite(&write_);
    StartRead(&response_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream ended: OnDone follows
    const std::int64_t now = NowNs();
    if (response_.has_subscribed()) roll_.Subscribed();
    const auto& events = response_.events().events();
    for (const v1::Event& event : events) latencies_.Add((now - SentAt(event.payload())) / 1000.0);
    if (!events.empty()) {
      received_.fetch_add(static_cast<std::uint64_t>(events.size()), std::memory_order_relaxed);
      // A tailing client acks to keep its window open, but not every event: once half the window
      // is unacked, as a client library would (an ack per event doubles the server's messages).
      unacked_ += static_cast<std::uint64_t>(events.size());
      if (unacked_ * 2 >= window_) {
        Ack(events.rbegin()->offset());
        unacked_ = 0;
      }
    }
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
  std::uint64_t received() const { return received_.load(std::memory_order_relaxed); }
  Latencies& latencies() { return latencies_; }
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
  const std::uint64_t window_;
  std::uint64_t unacked_ = 0;  // delivered since the last ack (read callbacks only)
  grpc::ClientContext context_;
  v1::ConsumeRequest write_;
  v1::ConsumeResponse response_;
  std::mutex ack_mutex_;  // reads and write completions may run on different threads
  bool writing_ = false;
  std::uint64_t pending_ack_ = 0;
  Latencies latencies_;
  std::atomic<std::uint64_t> received_{0};
  grpc::Status status_;
};

}  // namespace

int RunTailFanout(const StubFactory& connect, const LoadOptions& options) {
  std::vector<std::unique_ptr<Stub>> connections;
  for (std::uint32_t i = 0; i < std::max<std::uint32_t>(options.connections, 1); ++i) connections.push_back(connect());
  Stub& producer_stub = *connections.front();
  CreateTopic(producer_stub, options.topic);

  v1::ConsumeRequest subscribe;
  subscribe.mutable_subscribe()->set_topic(options.topic);
  subscribe.mutable_subscribe()->mutable_start()->set_end(true);
  subscribe.mutable_subscribe()->set_window(options.window);
  subscribe.mutable_subscribe()->set_read_only(true);
  Roll roll;
  std::vector<std::unique_ptr<TailReader>> readers;
  const auto subscribing = Clock::now();
  for (std::uint32_t i = 0; i < options.consumers; ++i)
    readers.push_back(std::make_unique<TailReader>(*connections[i % connections.size()], subscribe, roll));
  const bool all_subscribed = roll.WaitSubscribed(options.consumers, std::chrono::seconds(60));
  const double subscribe_seconds = SecondsSince(subscribing);

  const auto total = static_cast<std::uint64_t>(options.rate * options.seconds);
  bool producer_failed = !all_subscribed;
  const double cpu_before = CpuSeconds();
  const auto started = Clock::now();
  if (all_subscribed) {
    // Each event is acknowledged before the next is sent, at the fixed rate (as in e2e).
    grpc::ClientContext context;
    auto stream = producer_stub.ProduceStream(&context);
    v1::ProduceStreamRequest request;
    v1::ProduceStreamResponse ack;
    request.mutable_batch()->set_topic(options.topic);
    PayloadSource payloads(std::max<std::uint32_t>(options.payload_bytes, 8), options.random_payloads);
    SendPaced(options.rate, total, payloads, [&](std::uint64_t i, std::string payload) {
      request.mutable_batch()->clear_payloads();
      request.mutable_batch()->add_payloads(std::move(payload));
      request.set_batch_id(i);
      producer_failed = !(stream->Write(request) && stream->Read(&ack) && ack.has_result());
      return !producer_failed;
    });
    stream->WritesDone();
    if (!stream->Finish().ok()) producer_failed = true;
  }
  // Every reader gets every event, or the time is up.
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  auto all_received = [&] {
    for (const auto& reader : readers) {
      if (reader->received() < total) return false;
    }
    return true;
  };
  while (!producer_failed && !all_received() && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const double seconds = SecondsSince(started);
  const double client_cpu = CpuSeconds() - cpu_before;
  for (const auto& reader : readers) reader->Cancel();
  roll.WaitEnded(readers.size(), std::chrono::seconds(30));

  Latencies all;
  std::uint64_t received = 0;
  std::string first_error;
  for (const auto& reader : readers) {
    received += reader->received();
    all.Merge(reader->latencies());
    const grpc::Status& status = reader->status();
    if (first_error.empty() && !status.ok() && status.error_code() != grpc::StatusCode::CANCELLED)
      first_error = status.error_message();
  }
  const std::uint64_t expected = total * options.consumers;
  if (!all_subscribed || producer_failed || received < expected) {
    std::fprintf(stderr, "tail-fanout: %zu of %u consumers subscribed, %llu of %llu deliveries%s%s%s\n",
                 roll.subscribed(), options.consumers, static_cast<unsigned long long>(received),
                 static_cast<unsigned long long>(expected), producer_failed ? ", a produce failed" : "",
                 first_error.empty() ? "" : "; a consumer ended with: ", first_error.c_str());
    return 1;
  }
  const double cpu_share = 100.0 * client_cpu / seconds;
  std::fprintf(stderr,
               "tail-fanout: %u consumers x %.0f events/s for %.0f s (%u connections): p50 %.0f us, p99 %.0f us, "
               "p99.9 %.0f us; subscribing took %.2f s; client CPU %.2f s = %.0f %% of one core\n",
               options.consumers, options.rate, options.seconds, std::max<std::uint32_t>(options.connections, 1),
               all.Percentile(50), all.Percentile(99), all.Percentile(99.9), subscribe_seconds, client_cpu, cpu_share);
  PrintResult("tail-fanout", {{"consumers", std::to_string(options.consumers)}, {"rate_target", Fixed(options.rate, 0)},
                              {"connections", std::to_string(std::max<std::uint32_t>(options.connections, 1))},
                              {"n", std::to_string(received)}, {"p50_us", Fixed(all.Percentile(50))},
                              {"p99_us", Fixed(all.Percentile(99))}, {"p999_us", Fixed(all.Percentile(99.9))},
                              {"client_cpu_pct", Fixed(cpu_share)}});
  return 0;
}

}  // namespace goethe::load
