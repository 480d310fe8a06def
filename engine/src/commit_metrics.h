// What the commit loop measures (docs/http.md): how long commits and their batch writes take and
// how many events each carries, as histograms in the registry the server passes. Observing is a
// few atomic adds: nothing here can make the loop wait.
#pragma once

#include "goethe/metrics/registry.h"

namespace goethe {

struct CommitMetrics {
  metrics::Histogram* commit_seconds = nullptr;  // taking the jobs to every outcome known
  metrics::Histogram* write_seconds = nullptr;   // the batch write: its sync, and a cluster's replication
  metrics::Histogram* commit_events = nullptr;   // events appended per commit

  // The histograms in `registry`; all null (nothing measured) without one.
  static CommitMetrics In(metrics::Registry* registry) {
    if (registry == nullptr) return {};
    const std::vector<double> seconds = metrics::Registry::ExponentialBuckets(0.00005, 2, 16);  // 50 us .. 1.6 s
    return {&registry->AddHistogram("goethe_commit_duration_seconds",
                                    "Time of one group commit, from taking its jobs to their outcomes.", seconds)
                 .With({}),
            &registry->AddHistogram("goethe_commit_write_duration_seconds",
                                    "Time to write one commit's batch: the fsync when storage.sync is on, and in a "
                                    "cluster until every in-sync member holds it.",
                                    seconds)
                 .With({}),
            &registry->AddHistogram("goethe_commit_events", "Events appended per group commit.",
                                    metrics::Registry::ExponentialBuckets(1, 4, 9))  // 1 .. 65536
                 .With({})};
  }
};

}  // namespace goethe
