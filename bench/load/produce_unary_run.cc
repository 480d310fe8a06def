// Unary Produce, one event per call, `concurrency` calls in flight (the callback API: no thread
// per caller); per-call latency percentiles. With `round_trip_only`, DescribeTopic calls instead:
// a gRPC round trip that does no storage work, the floor under a unary Produce.
#include <condition_variable>
#include <functional>
#include <mutex>

#include "load_runs.h"
#include "load_stats.h"

namespace goethe::load {
namespace {

// One caller: sends a Produce, and when it is answered, the next, until the shared budget is spent.
struct UnaryCaller {
  Stub* stub;
  const LoadOptions* options;
  std::mutex* mutex;
  std::condition_variable* done;
  std::uint64_t* started;
  std::uint64_t* finished;
  std::uint64_t* failures;
  std::uint32_t* running;  // callers with a call out or a callback still running
  Latencies* latencies;
  Progress* progress;
  PayloadSource* payloads;

  std::unique_ptr<grpc::ClientContext> context;  // one per call
  v1::ProduceRequest request;
  v1::ProduceResponse response;
  v1::DescribeTopicRequest describe;
  v1::DescribeTopicResponse described;
  Clock::time_point sent;

  // Sends the next call, or when the budget is spent, retires this caller. The run's locals live
  // until every caller has retired: none is touched after that.
  void Next() {
    {
      std::lock_guard lock(*mutex);
      if (*started >= options->events) {
        --*running;
        done->notify_all();
        return;
      }
      ++*started;
    }
    context = std::make_unique<grpc::ClientContext>();
    auto answered = [this](grpc::Status status) {
      const double micros = std::chrono::duration<double, std::micro>(Clock::now() - sent).count();
      {
        std::lock_guard lock(*mutex);
        latencies->Add(micros);
        if (!status.ok()) ++*failures;
        ++*finished;
        progress->Update(*finished);
        done->notify_all();
      }
      Next();
    };
    if (options->round_trip_only) {
      describe.set_topic(options->topic);
      sent = Clock::now();
      stub->async()->DescribeTopic(context.get(), &describe, &described, std::move(answered));
      return;
    }
    request.Clear();
    request.set_topic(options->topic);
    request.add_payloads(payloads->Next());
    sent = Clock::now();
    stub->async()->Produce(context.get(), &request, &response, std::move(answered));
  }
};

}  // namespace

int RunProduceUnary(Stub& stub, const LoadOptions& options) {
  const std::string what = options.round_trip_only ? "round-trip" : "produce-unary";
  if (options.round_trip_only) CreateTopic(stub, options.topic);
  std::mutex mutex;
  std::condition_variable done;
  std::uint64_t started = 0, finished = 0, failures = 0;
  std::uint32_t running = options.concurrency;
  Latencies latencies;
  Progress progress(what, options.events);
  PayloadSource payloads(options.payload_bytes, options.random_payloads);
  std::vector<std::unique_ptr<UnaryCaller>> callers;
  const auto start = Clock::now();
  for (std::uint32_t i = 0; i < options.concurrency; ++i) {
    callers.push_back(std::make_unique<UnaryCaller>(UnaryCaller{&stub, &options, &mutex, &done, &started, &finished,
                                                                &failures, &running, &latencies, &progress, &payloads,
                                                                nullptr, {}, {}, {}, {}, {}}));
  }
  for (auto& caller : callers) caller->Next();
  std::unique_lock lock(mutex);
  done.wait(lock, [&] { return finished >= options.events; });
  const double seconds = SecondsSince(start);
  done.wait(lock, [&] { return running == 0; });
  if (failures > 0) {
    std::fprintf(stderr, "%s: %llu calls failed\n", what.c_str(), static_cast<unsigned long long>(failures));
    return 1;
  }
  const double rate = finished / seconds;
  std::fprintf(stderr, "%s: %llu calls in %.2f s = %.0f calls/s, %u in flight, p50 %.0f us p99 %.0f us\n",
               what.c_str(), static_cast<unsigned long long>(finished), seconds, rate, options.concurrency,
               latencies.Percentile(50), latencies.Percentile(99));
  PrintResult(what + "-c" + std::to_string(options.concurrency),
              {{"n", std::to_string(finished)}, {"secs", Fixed(seconds, 3)}, {"rate", Fixed(rate, 0)},
               {"p50_us", Fixed(latencies.Percentile(50))}, {"p99_us", Fixed(latencies.Percentile(99))},
               {"max_us", Fixed(latencies.Percentile(100))}});
  return 0;
}

}  // namespace goethe::load
