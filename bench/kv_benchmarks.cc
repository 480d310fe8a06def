// The raw KV plugins doing the same writes as an engine append (the baseline for engine/raw), and
// raw reads: a forward scan and point gets.
#include <benchmark/benchmark.h>

#include <map>
#include <random>

#include "bench_env.h"
#include "benchmarks.h"

namespace goethe::bench {
namespace {

// Keys and values shaped like the engine's event records: 17-byte keys, 16-byte header + payload values.
std::string EventKey(std::uint64_t offset) {
  std::string key(1, 'e');  // as the engine keys events (docs/storage.md)
  key.append(8, '\0');  // topic id 0
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>((offset >> shift) & 0xff));
  return key;
}

// A value shaped as the engine stores an event: a 16-byte header (append time and running payload
// total, docs/storage.md), then the payload.
std::string EventValue(const std::string& payload) { return std::string(16, '\0') + payload; }

void RawPut(benchmark::State& state, const std::string& backend, std::size_t batch_size, bool sync) {
  auto store = OpenFreshStore(backend, "raw-put");
  std::vector<std::string> values;
  // Distinct values over a long stretch, so that random payloads stay incompressible in batches of 1.
  for (const std::string& payload : Payloads(std::max<std::size_t>(batch_size, 4096))) {
    values.push_back(EventValue(payload));
  }
  std::uint64_t offset = 0;
  for (auto _ : state) {
    kv::WriteBatch batch;
    batch.Reserve(batch_size);
    for (std::size_t i = 0; i < batch_size; ++i, ++offset) batch.Put(EventKey(offset), values[offset % values.size()]);
    if (kv::Status s = store->Write({.sync = sync}, batch); !s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(offset));
}

// A store of PreparedEvents() event-shaped records, filled once per backend and shared by the scan
// and the point gets: Google Benchmark calls a function several times while it sizes the run.
std::map<std::string, std::shared_ptr<kv::Store>> g_filled_stores;  // until ReleaseFilledStores()

kv::Store& FilledStore(const std::string& backend) {
  auto& store = g_filled_stores[backend];
  if (!store) {
    store = OpenFreshStore(backend, "raw-read");
    for (std::uint64_t offset = 0; offset < PreparedEvents();) {
      kv::WriteBatch batch;
      for (int i = 0; i < 1000; ++i) batch.Put(EventKey(offset++), EventValue(Payload()));
      (void)store->Write({}, batch);
    }
  }
  return *store;
}

void RawScan(benchmark::State& state, const std::string& backend) {
  kv::Store& store = FilledStore(backend);
  std::int64_t items = 0;
  for (auto _ : state) {
    auto it = store.NewIterator({});
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      benchmark::DoNotOptimize(it->value().data());
      ++items;
    }
  }
  state.SetItemsProcessed(items);
}

// Point gets of random existing keys: the raw cost of fetching one event by its key.
void RawGet(benchmark::State& state, const std::string& backend) {
  kv::Store& store = FilledStore(backend);
  std::mt19937_64 random(7);
  std::uniform_int_distribution<std::uint64_t> pick(0, PreparedEvents() - 1);
  std::string value;
  for (auto _ : state) {
    kv::Status s = store.Get({}, EventKey(pick(random)), &value);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(value.data());
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

void ReleaseFilledStores() { g_filled_stores.clear(); }

void RegisterKvBenchmarks() {
  for (const std::string& backend : Backends()) {
    for (bool sync : {false, true}) {
      for (std::size_t batch : {1, 100, 1000}) {
        auto* b = benchmark::RegisterBenchmark(Name("raw_put", backend, batch, sync).c_str(), RawPut, backend, batch, sync)
                      ->UseRealTime();
        if (sync && batch == 1) b->MinTime(LongMinTime());
      }
    }
    benchmark::RegisterBenchmark(("raw_scan/" + backend).c_str(), RawScan, backend)->UseRealTime();
    benchmark::RegisterBenchmark(("raw_get/" + backend).c_str(), RawGet, backend)->UseRealTime();
  }
}

}  // namespace goethe::bench
