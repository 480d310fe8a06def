// The raw KV plugins doing the same writes as an engine append: the baseline for engine/raw.
#include <benchmark/benchmark.h>

#include <map>

#include "bench_env.h"
#include "benchmarks.h"

namespace goethe::bench {
namespace {

// Keys and values shaped like the engine's event records: 17-byte keys, 8 + 100-byte values.
std::string EventKey(std::uint64_t offset) {
  std::string key(1, 'E');
  key.append(8, '\0');  // topic id 0
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>((offset >> shift) & 0xff));
  return key;
}

void RawPut(benchmark::State& state, const std::string& backend, std::size_t batch_size, bool sync) {
  auto store = OpenFreshStore(backend, "raw-put");
  const std::string value = std::string(8, '\0') + Payload();
  std::uint64_t offset = 0;
  for (auto _ : state) {
    kv::WriteBatch batch;
    batch.Reserve(batch_size);
    for (std::size_t i = 0; i < batch_size; ++i) batch.Put(EventKey(offset++), value);
    if (kv::Status s = store->Write({.sync = sync}, batch); !s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(offset));
}

void RawScan(benchmark::State& state, const std::string& backend) {
  // Filled once: Google Benchmark calls this function several times while it sizes the run.
  static std::map<std::string, std::shared_ptr<kv::Store>> filled;
  auto& store = filled[backend];
  if (!store) {
    store = OpenFreshStore(backend, "raw-scan");
    const std::string value = std::string(8, '\0') + Payload();
    for (std::uint64_t offset = 0; offset < 200000;) {
      kv::WriteBatch batch;
      for (int i = 0; i < 1000; ++i) batch.Put(EventKey(offset++), value);
      (void)store->Write({}, batch);
    }
  }
  std::int64_t items = 0;
  for (auto _ : state) {
    auto it = store->NewIterator({});
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      benchmark::DoNotOptimize(it->value().data());
      ++items;
    }
  }
  state.SetItemsProcessed(items);
}

}  // namespace

void RegisterKvBenchmarks() {
  for (const std::string& backend : Backends()) {
    for (bool sync : {false, true}) {
      for (std::size_t batch : {1, 100, 1000}) {
        auto* b = benchmark::RegisterBenchmark(Name("raw_put", backend, batch, sync).c_str(), RawPut, backend, batch, sync)
                      ->UseRealTime();
        if (sync && batch == 1) b->MinTime(1.0);
      }
    }
    benchmark::RegisterBenchmark(("raw_scan/" + backend).c_str(), RawScan, backend)->UseRealTime();
  }
}

}  // namespace goethe::bench
