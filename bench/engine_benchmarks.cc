// The engine in-process: appends (batches, sync on/off), concurrent appenders (group commit),
// catch-up reads and seeks by time.
#include <benchmark/benchmark.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <semaphore>

#include "bench_env.h"
#include "benchmarks.h"

namespace goethe::bench {
namespace {

// Append requests made ahead of their appends, outside the timed region. The engine takes its
// payloads as strings it owns (the server hands it those a request was parsed into), and the raw
// baseline writes values made before its loop: so engine/raw compares the writes, not the making
// of the input. Made in runs of about 16,000 events, so that pausing the clock costs little.
class PreparedRequests {
 public:
  PreparedRequests(benchmark::State& state, std::size_t batch_size)
      : state_(state), batch_size_(batch_size), run_(std::max<std::size_t>(1, 16384 / batch_size)) {}

  AppendRequest Next() {
    if (next_ == ready_.size()) Refill();
    return std::move(ready_[next_++]);
  }

 private:
  void Refill() {
    state_.PauseTiming();
    ready_.clear();
    for (std::size_t i = 0; i < run_; ++i) ready_.push_back({.topic = "bench", .payloads = Payloads(batch_size_)});
    next_ = 0;
    state_.ResumeTiming();
  }

  benchmark::State& state_;
  const std::size_t batch_size_;
  const std::size_t run_;
  std::vector<AppendRequest> ready_;
  std::size_t next_ = 0;
};

void EngineAppend(benchmark::State& state, const std::string& backend, std::size_t batch_size, bool sync) {
  auto log = OpenFreshLog(backend, "append", sync);
  PreparedRequests requests(state, batch_size);
  std::int64_t items = 0;
  for (auto _ : state) {
    AppendOutcome outcome = log->Append(requests.Next());
    if (!outcome.status.ok()) state.SkipWithError(outcome.status.ToString().c_str());
    items += static_cast<std::int64_t>(batch_size);
  }
  state.SetItemsProcessed(items);
}

// How a server uses the engine: several appends in flight through AppendAsync, so that the caller
// prepares the next batch while the commit loop writes the last one.
void EngineAppendPipelined(benchmark::State& state, const std::string& backend, std::size_t batch_size, bool sync) {
  constexpr int kInFlight = 4;
  auto log = OpenFreshLog(backend, "append-pipelined", sync);
  // Payloads copied in the loop, unlike EngineAppend: pausing the clock while appends are in
  // flight would leave their work untimed. The caller's copy overlaps the commit loop's write.
  const std::vector<std::string> payloads = Payloads(batch_size);
  std::mutex mutex;
  std::condition_variable done;
  int in_flight = 0;
  std::atomic<bool> failed{false};
  std::int64_t items = 0;
  for (auto _ : state) {
    {
      std::unique_lock lock(mutex);
      done.wait(lock, [&] { return in_flight < kInFlight; });
      ++in_flight;
    }
    log->AppendAsync({.topic = "bench", .payloads = payloads}, [&](AppendOutcome outcome) {
      if (!outcome.status.ok()) failed = true;
      std::lock_guard lock(mutex);
      --in_flight;
      done.notify_one();
    });
    items += static_cast<std::int64_t>(batch_size);
  }
  std::unique_lock lock(mutex);
  done.wait(lock, [&] { return in_flight == 0; });
  if (failed) state.SkipWithError("an append failed");
  state.SetItemsProcessed(items);
}

// Threads share one log; thread 0 opens it before the loop and closes it after (the loop's start
// and end are barriers for all threads).
std::unique_ptr<EventLog> g_shared_log;

void ConcurrentAppenders(benchmark::State& state, const std::string& backend) {
  if (state.thread_index() == 0) g_shared_log = OpenFreshLog(backend, "concurrent", /*sync=*/true);
  const std::vector<std::string> payload = Payloads(1);
  for (auto _ : state) {
    AppendOutcome outcome =
        g_shared_log->Append({.topic = "bench", .payloads = RandomPayloads() ? Payloads(1) : payload});
    if (!outcome.status.ok()) state.SkipWithError(outcome.status.ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) g_shared_log.reset();
}

// N appenders as the server has them: N produce calls in flight through AppendAsync, each
// followed by the next as soon as it is acknowledged, with no thread per appender. One benchmark
// iteration is one acknowledged append.
void ConcurrentAsyncAppenders(benchmark::State& state, const std::string& backend, int appenders) {
  auto log = OpenFreshLog(backend, "concurrent-async", /*sync=*/true);
  std::counting_semaphore<> acknowledged(0);
  std::atomic<bool> stop{false}, failed{false};
  std::atomic<int> in_flight{0};
  std::function<void()> append_one = [&] {
    in_flight++;
    log->AppendAsync({.topic = "bench", .payloads = Payloads(1)}, [&](AppendOutcome outcome) {
      if (!outcome.status.ok()) failed = true;
      if (!stop.load()) append_one();
      in_flight--;
      acknowledged.release();
    });
  };
  for (int i = 0; i < appenders; ++i) append_one();
  for (auto _ : state) acknowledged.acquire();
  stop = true;
  while (in_flight.load() > 0) acknowledged.acquire();
  if (failed) state.SkipWithError("an append failed");
  state.SetItemsProcessed(state.iterations());
}

void Fill(EventLog& log, const std::string& topic, std::uint64_t events, std::size_t batch) {
  const std::vector<std::string> payloads = Payloads(batch);
  for (std::uint64_t done = 0; done < events; done += batch) {
    (void)log.Append({.topic = topic, .payloads = payloads});
  }
}

// Google Benchmark calls a benchmark function several times while it sizes the run: prepared
// logs are kept here so they are filled once, until ReleasePreparedLogs().
std::map<std::string, std::unique_ptr<EventLog>> g_prepared_logs;

EventLog& Prepared(const std::string& key, const std::function<std::unique_ptr<EventLog>()>& make) {
  auto& log = g_prepared_logs[key];
  if (!log) log = make();
  return *log;
}

void EngineRead(benchmark::State& state, const std::string& backend) {
  const std::uint64_t events = PreparedEvents();
  EventLog& log = Prepared("read/" + backend, [&] {
    auto fresh = OpenFreshLog(backend, "read", false);
    Fill(*fresh, "bench", events, 1000);
    return fresh;
  });
  std::uint64_t offset = 0;
  std::int64_t items = 0;
  for (auto _ : state) {
    auto page = log.Read({.topic = "bench", .from_offset = offset, .max_events = 1000});
    if (!page.ok()) state.SkipWithError(page.status().ToString().c_str());
    items += static_cast<std::int64_t>(page->events.size());
    offset = page->next_offset >= events ? 0 : page->next_offset;
  }
  state.SetItemsProcessed(items);
}

// Events 100 per simulated second over a 1 s index granularity: seeks must cost the same on a
// topic of 10^4 events as on one of 10^6.
void SeekByTime(benchmark::State& state, const std::string& backend, std::uint64_t events) {
  constexpr TimestampNs kSecond = 1'000'000'000;
  constexpr TimestampNs kStart = 1'700'000'000 * kSecond;
  EventLog& log = Prepared("seek/" + backend + "/" + std::to_string(events), [&] {
    auto clock_value = std::make_shared<std::atomic<TimestampNs>>(kStart);
    EventLogOptions options;
    options.sync = false;
    options.default_index_granularity = std::chrono::seconds(1);
    options.clock = [clock_value] { return clock_value->fetch_add(kSecond); };
    auto opened = EventLog::Open(OpenFreshStore(backend, "seek"), options);
    if (!opened.ok()) std::abort();
    Fill(**opened, "bench", events, 100);
    return std::move(opened).value();
  });
  const TimestampNs end = kStart + static_cast<TimestampNs>(events / 100) * kSecond;
  std::mt19937_64 random(42);
  std::uniform_int_distribution<TimestampNs> pick(kStart, end);
  for (auto _ : state) {
    StartPosition at{.kind = StartPosition::Kind::kTime, .time_ns = pick(random)};
    auto resolved = log.Resolve("bench", at);
    if (!resolved.ok()) state.SkipWithError(resolved.status().ToString().c_str());
    benchmark::DoNotOptimize(resolved->offset);
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

void ReleasePreparedLogs() { g_prepared_logs.clear(); }

void RegisterEngineBenchmarks() {
  for (const std::string& backend : Backends()) {
    for (bool sync : {false, true}) {
      for (std::size_t batch : {1, 100, 1000}) {
        auto* b = benchmark::RegisterBenchmark(Name("engine_append", backend, batch, sync).c_str(),
                                               EngineAppend, backend, batch, sync)
                      ->UseRealTime();  // the work happens on the commit thread
        if (sync && batch == 1) b->MinTime(LongMinTime());
      }
    }
    for (bool sync : {false, true}) {
      for (std::size_t batch : {100, 1000}) {
        benchmark::RegisterBenchmark(Name("engine_append_pipelined", backend, batch, sync).c_str(),
                                     EngineAppendPipelined, backend, batch, sync)
            ->UseRealTime();
      }
    }
    benchmark::RegisterBenchmark(("concurrent_sync_appenders/" + backend).c_str(), ConcurrentAppenders, backend)
        ->Threads(1)->Threads(8)->Threads(64)->UseRealTime()->MinTime(LongMinTime());
    for (int appenders : {1, 8, 64}) {
      benchmark::RegisterBenchmark(("concurrent_sync_async_appenders/" + backend + "/appenders:" +
                                    std::to_string(appenders)).c_str(),
                                   ConcurrentAsyncAppenders, backend, appenders)
          ->UseRealTime()
          ->MinTime(LongMinTime());
    }
    benchmark::RegisterBenchmark(("engine_read/" + backend).c_str(), EngineRead, backend)->UseRealTime();
    for (std::uint64_t events : {10'000ull, 1'000'000ull}) {
      if (Quick() && events > 10'000) continue;
      benchmark::RegisterBenchmark(("seek_by_time/" + backend + "/events:" + std::to_string(events)).c_str(),
                                   SeekByTime, backend, events)
        ->UseRealTime();
    }
  }
}

}  // namespace goethe::bench
