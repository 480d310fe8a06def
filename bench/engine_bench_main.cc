// goethe-engine-bench: the engine in-process against the raw KV plugins, per backend.
// usage: goethe-engine-bench [--backends=leveldb,rocksdb,lmdb] [--data-dir=DIR] [--payload-bytes=B] [--quick]
//                            [--random-payloads] [benchmark flags]
// --quick: smaller prepared stores (20,000 events), seeks on 10^4 events only, and the runs that
// are otherwise held to 1 s cut to 0.05 s (the quick mode of scripts/compare-backends.sh).
// e.g. --benchmark_filter='engine_append/.*/batch:1000' --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <filesystem>
#include <sstream>

#include "bench_env.h"
#include "benchmarks.h"
#include "ratio_reporter.h"

int main(int argc, char** argv) {
  using namespace goethe::bench;
  std::vector<char*> rest;
  bool own_data_dir = true;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.starts_with("--backends=")) {
      std::vector<std::string> backends;
      std::stringstream list(arg.substr(11));
      for (std::string name; std::getline(list, name, ',');) backends.push_back(name);
      SetBackends(backends);
    } else if (arg.starts_with("--payload-bytes=")) {
      SetPayloadBytes(std::stoul(arg.substr(16)));
    } else if (arg == "--random-payloads") {
      SetRandomPayloads(true);
    } else if (arg == "--quick") {
      SetQuick(true);
    } else if (arg.starts_with("--data-dir=")) {
      SetDataRoot(arg.substr(11));
      std::filesystem::create_directories(DataRoot());
      own_data_dir = false;
    } else {
      rest.push_back(argv[i]);
    }
  }
  int rest_count = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_count, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_count, rest.data())) return 1;
  RegisterKvBenchmarks();
  RegisterEngineBenchmarks();
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  ReleasePreparedLogs();
  ReleaseFilledStores();
  if (own_data_dir) std::filesystem::remove_all(DataRoot());
  return 0;
}
