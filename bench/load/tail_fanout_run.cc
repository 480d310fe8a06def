// Live-tail fan-out: N read-only Consume streams tail one topic from its end while a producer
// appends at a fixed rate, each payload carrying its send time; every consumer measures how long
// each event took to reach it. The consumers are gRPC callback reactors, or with `--client h2` raw
// HTTP/2 streams on one thread (tail_clients.h); the run reports the client's CPU use beside the
// latencies, to show whether the client's own cost is small.
#include <sys/resource.h>

#include <thread>

#include "load_runs.h"
#include "load_stats.h"
#include "tail_clients.h"

namespace goethe::load {
namespace {

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace

int RunTailFanout(const StubFactory& connect, const TailTarget& target, const LoadOptions& options) {
  const std::unique_ptr<Stub> producer_stub = connect();
  CreateTopic(*producer_stub, options.topic);

  v1::ConsumeRequest subscribe;
  subscribe.mutable_subscribe()->set_topic(options.topic);
  subscribe.mutable_subscribe()->mutable_start()->set_end(true);
  subscribe.mutable_subscribe()->set_window(options.window);
  subscribe.mutable_subscribe()->set_read_only(true);
  Roll roll;
  const auto subscribing = Clock::now();
  std::unique_ptr<TailClients> tails;
  if (options.fanout_client == "h2") {
    std::string error;
    tails = StartH2Tails(target.address, target.token, options, subscribe, roll, &error);
    if (!tails) {
      std::fprintf(stderr, "tail-fanout: %s\n", error.c_str());
      return 1;
    }
  } else {
    tails = StartGrpcTails(*producer_stub, connect, options, subscribe, roll);
  }
  const bool all_subscribed = roll.WaitSubscribed(options.consumers, std::chrono::seconds(60));
  const double subscribe_seconds = SecondsSince(subscribing);

  const auto total = static_cast<std::uint64_t>(options.rate * options.seconds);
  bool producer_failed = false;
  const double cpu_before = CpuSeconds();
  const auto started = Clock::now();
  if (all_subscribed) {
    // Each event is acknowledged before the next is sent, at the fixed rate (as in e2e).
    grpc::ClientContext context;
    auto stream = producer_stub->ProduceStream(&context);
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
  while (all_subscribed && !producer_failed && !tails->AllReceived(total) && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const double seconds = SecondsSince(started);
  const double client_cpu = CpuSeconds() - cpu_before;
  tails->Stop();
  TailSummary summary = tails->Summary();
  Latencies& all = summary.latencies;
  const std::uint64_t received = summary.received;
  const std::string& first_error = summary.first_error;
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
