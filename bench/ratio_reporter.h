// RatioReporter: the console report, followed by the ratios the engine's targets are stated in:
// engine append / raw KV put for the same batch, and 64 / 1 concurrent sync appenders.
#pragma once

#include <benchmark/benchmark.h>

#include <map>
#include <string>
#include <vector>

namespace goethe::bench {

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override;
  void Finalize() override;

 private:
  double Rate(const std::string& name) const;
  std::map<std::string, double> items_per_second_;  // by run name
};

}  // namespace goethe::bench
