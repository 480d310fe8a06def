// Unary Produce, one event per call, `concurrency` calls in flight (the callback API: no thread
// per caller); per-call latency percentiles. With `round_trip_only`, DescribeTopic calls instead:
// a gRPC round trip that does no storage work, the floor under a unary Produce.
//
// With several servers every event carries an idempotency key of its own, and a call that fails
// with UNAVAILABLE follows the leader (the refusal's hint, or ClusterStatus) and is sent again,
// until --failover-timeout: an event the old leader stored is then answered as a duplicate, and
// every event counts once. The wait and the ClusterStatus calls run on the gRPC callback thread
// that saw the failure: rare, bounded, and none of them needs that thread.
#include <unistd.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "load_runs.h"
#include "load_stats.h"

namespace goethe::load {
namespace {

// One caller: sends a Produce, and when it is answered, the next, until the shared budget is spent.
struct UnaryCaller {
  client::LeaderRouter* router;
  const LoadOptions* options;
  std::string key_prefix;  // idempotency keys are this and the event's number; empty: none
  std::mutex* mutex;
  std::condition_variable* done;
  std::uint64_t* started;
  std::uint64_t* finished;
  std::uint64_t* failures;
  std::uint64_t* resent;
  std::uint32_t* running;  // callers with a call out or a callback still running
  Latencies* latencies;
  Progress* progress;
  PayloadSource* payloads;

  std::unique_ptr<grpc::ClientContext> context;  // one per call
  client::Route route;                           // where the call out went
  v1::ProduceRequest request;
  v1::ProduceResponse response;
  v1::DescribeTopicRequest describe;
  v1::DescribeTopicResponse described;
  Clock::time_point sent;  // the first send: a re-sent call's latency includes the failover
  std::optional<Clock::time_point> failover_deadline;

  // Sends the next call, or when the budget is spent, retires this caller. The run's locals live
  // until every caller has retired: none is touched after that.
  void Next() {
    std::uint64_t number = 0;
    {
      std::lock_guard lock(*mutex);
      if (*started >= options->events) {
        --*running;
        done->notify_all();
        return;
      }
      number = (*started)++;
    }
    failover_deadline.reset();
    if (options->round_trip_only) {
      describe.set_topic(options->topic);
    } else {
      request.Clear();
      request.set_topic(options->topic);
      request.add_payloads(payloads->Next());
      if (!key_prefix.empty()) request.set_idempotency_key(key_prefix + std::to_string(number));
    }
    sent = Clock::now();
    Send();
  }

  // Sends the current call (again, after a failover) where the router routes now.
  void Send() {
    route = router->Current();
    context = std::make_unique<grpc::ClientContext>();
    auto answered = [this](grpc::Status status) {
      if (FollowLeader(status)) {
        {
          std::lock_guard lock(*mutex);
          ++*resent;
        }
        return Send();
      }
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
      route.stub->async()->DescribeTopic(context.get(), &describe, &described, std::move(answered));
      return;
    }
    route.stub->async()->Produce(context.get(), &request, &response, std::move(answered));
  }

  // After an UNAVAILABLE with several servers: waits ~100 ms, follows the leader and returns true
  // (send again); false for one server, another outcome, or once the failover time is spent.
  bool FollowLeader(const grpc::Status& status) {
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE || !router->routing()) return false;
    const auto now = Clock::now();
    if (!failover_deadline) {
      failover_deadline = now + std::chrono::milliseconds(static_cast<std::int64_t>(options->failover_seconds * 1000));
    }
    if (now >= *failover_deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    router->Follow(route, client::LeaderHint(*context));
    return true;
  }
};

}  // namespace

int RunProduceUnary(client::LeaderRouter& router, const LoadOptions& options) {
  const std::string what = options.round_trip_only ? "round-trip" : "produce-unary";
  if (options.round_trip_only) CreateTopic(*router.Current().stub, options.topic);
  // Unique to this run: the process and the start time.
  const std::string key_prefix =
      router.routing() ? "goethe-bench-" + std::to_string(getpid()) + "-" +
                             std::to_string(std::chrono::system_clock::now().time_since_epoch().count()) + "-"
                       : "";
  std::mutex mutex;
  std::condition_variable done;
  std::uint64_t started = 0, finished = 0, failures = 0, resent = 0;
  std::uint32_t running = options.concurrency;
  Latencies latencies;
  Progress progress(what, options.events);
  PayloadSource payloads(options.payload_bytes, options.random_payloads);
  std::vector<std::unique_ptr<UnaryCaller>> callers;
  const auto start = Clock::now();
  for (std::uint32_t i = 0; i < options.concurrency; ++i) {
    callers.push_back(std::make_unique<UnaryCaller>(UnaryCaller{&router, &options, key_prefix, &mutex, &done, &started,
                                                                &finished, &failures, &resent, &running, &latencies,
                                                                &progress, &payloads}));
  }
  for (auto& caller : callers) caller->Next();
  std::unique_lock lock(mutex);
  done.wait(lock, [&] { return finished >= options.events; });
  const double seconds = SecondsSince(start);
  done.wait(lock, [&] { return running == 0; });
  if (resent > 0) {
    std::fprintf(stderr, "%s: %llu calls sent again after a failover (now at %s)\n", what.c_str(),
                 static_cast<unsigned long long>(resent), router.Current().address.c_str());
  }
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
