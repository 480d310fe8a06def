#include "ratio_reporter.h"

#include <cstdio>

#include "bench_env.h"
#include "benchmarks.h"

namespace goethe::bench {
namespace {

// How Google Benchmark names a run held to LongMinTime(): "/min_time:1.000".
std::string LongMinTimeSuffix() {
  char text[32];
  std::snprintf(text, sizeof text, "/min_time:%.3f", LongMinTime());
  return text;
}

}  // namespace

void RatioReporter::ReportRuns(const std::vector<Run>& runs) {
  for (const Run& run : runs) {
    if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
    auto rate = run.counters.find("items_per_second");
    if (rate != run.counters.end()) items_per_second_[run.benchmark_name()] = rate->second.value;
  }
  ConsoleReporter::ReportRuns(runs);
}

double RatioReporter::Rate(const std::string& name) const {
  auto it = items_per_second_.find(name);
  return it == items_per_second_.end() ? 0 : it->second;
}

void RatioReporter::Finalize() {
  ConsoleReporter::Finalize();
  std::printf("\nengine append / raw KV put, same batch (target >= 0.80 for batch 1000, sync off)\n");
  std::printf("one blocking caller; 'piped' keeps 4 appends in flight through AppendAsync, as the server does\n");
  std::printf("%-10s %-6s %-5s %14s %14s %7s %14s %7s\n", "backend", "batch", "sync", "engine ev/s", "raw ev/s",
              "ratio", "piped ev/s", "ratio");
  for (const std::string& backend : Backends()) {
    for (bool sync : {false, true}) {
      for (std::size_t batch : {1, 100, 1000}) {
        const std::string suffix = std::string(sync && batch == 1 ? LongMinTimeSuffix() : "") + "/real_time";
        const double engine = Rate(Name("engine_append", backend, batch, sync) + suffix);
        const double raw = Rate(Name("raw_put", backend, batch, sync) + suffix);
        const double piped = Rate(Name("engine_append_pipelined", backend, batch, sync) + "/real_time");
        if (engine == 0 || raw == 0) continue;
        std::printf("%-10s %-6zu %-5s %14.0f %14.0f %7.2f %14.0f %7.2f\n", backend.c_str(), batch, sync ? "on" : "off",
                    engine, raw, engine / raw, piped, piped / raw);
      }
    }
  }
  std::printf("\nconcurrent appenders with sync on, batch 1 (target: 64 appenders >= 20x one)\n");
  std::printf("threads: one blocked thread per appender; async: appends in flight via AppendAsync, as the server\n");
  std::printf("%-10s %-8s %14s %14s %14s %9s\n", "backend", "mode", "1 ev/s", "8 ev/s", "64 ev/s", "64/1");
  for (const std::string& backend : Backends()) {
    const std::string threads = "concurrent_sync_appenders/" + backend + LongMinTimeSuffix() + "/real_time/threads:";
    const std::string async = "concurrent_sync_async_appenders/" + backend + "/appenders:";
    const std::string async_suffix = LongMinTimeSuffix() + "/real_time";
    const double rates[2][3] = {
        {Rate(threads + "1"), Rate(threads + "8"), Rate(threads + "64")},
        {Rate(async + "1" + async_suffix), Rate(async + "8" + async_suffix), Rate(async + "64" + async_suffix)}};
    for (int mode = 0; mode < 2; ++mode) {
      if (rates[mode][0] == 0) continue;
      std::printf("%-10s %-8s %14.0f %14.0f %14.0f %9.1f\n", backend.c_str(), mode == 0 ? "threads" : "async",
                  rates[mode][0], rates[mode][1], rates[mode][2], rates[mode][2] / rates[mode][0]);
    }
  }
}

}  // namespace goethe::bench
