// The metrics registry: its exact Prometheus text, the overflow child, re-adding and naming rules,
// collectors, and exact totals while many threads update and another renders.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "goethe/metrics/registry.h"

namespace goethe::metrics {
namespace {

TEST(MetricsTest, RendersTheExactTextFormat) {
  Registry registry;
  auto& requests = registry.AddCounter("goethe_requests_total", "Requests \"served\".\nBy route \\ code.",
                                       {"route", "code"});
  requests.With({"produce", "ok"}).Increment(3);
  requests.With({"consume", "ok"}).Increment();
  requests.With({"a\"b\\c\nd", "err"}).Increment(0.5);
  registry.AddGauge("goethe_topics", "Topics.").With({}).Set(42);
  registry.AddGauge("goethe_lag", "Lag, by topic.", {"topic"});  // no child yet
  auto& append = registry.AddHistogram("goethe_append_seconds", "Append latency.", {0.005, 0.5, 2});
  for (double seconds : {0.00390625, 0.25, 0.5, 1.5, 3.0}) append.With({}).Observe(seconds);

  EXPECT_EQ(registry.Render(),
            "# HELP goethe_requests_total Requests \"served\".\\nBy route \\\\ code.\n"
            "# TYPE goethe_requests_total counter\n"
            "goethe_requests_total{route=\"a\\\"b\\\\c\\nd\",code=\"err\"} 0.5\n"
            "goethe_requests_total{route=\"consume\",code=\"ok\"} 1\n"
            "goethe_requests_total{route=\"produce\",code=\"ok\"} 3\n"
            "# HELP goethe_topics Topics.\n"
            "# TYPE goethe_topics gauge\n"
            "goethe_topics 42\n"
            "# HELP goethe_lag Lag, by topic.\n"
            "# TYPE goethe_lag gauge\n"
            "# HELP goethe_append_seconds Append latency.\n"
            "# TYPE goethe_append_seconds histogram\n"
            "goethe_append_seconds_bucket{le=\"0.005\"} 1\n"
            "goethe_append_seconds_bucket{le=\"0.5\"} 3\n"
            "goethe_append_seconds_bucket{le=\"2\"} 4\n"
            "goethe_append_seconds_bucket{le=\"+Inf\"} 5\n"
            "goethe_append_seconds_sum 5.25390625\n"
            "goethe_append_seconds_count 5\n");
}

TEST(MetricsTest, LabelledHistogramPutsLeLast) {
  Registry registry;
  registry.AddHistogram("h", "H.", {1}, {"topic"}).With({"t"}).Observe(1);
  EXPECT_EQ(registry.Render(),
            "# HELP h H.\n# TYPE h histogram\n"
            "h_bucket{topic=\"t\",le=\"1\"} 1\n"
            "h_bucket{topic=\"t\",le=\"+Inf\"} 1\n"
            "h_sum{topic=\"t\"} 1\n"
            "h_count{topic=\"t\"} 1\n");
}

TEST(MetricsTest, AFamilyWithoutLabelsRendersZeroBeforeItsFirstUpdate) {
  Registry registry;
  registry.AddCounter("c_total", "C.");
  EXPECT_EQ(registry.Render(), "# HELP c_total C.\n# TYPE c_total counter\nc_total 0\n");
}

TEST(MetricsTest, FormatsValuesAsPrometheusReadsThem) {
  Registry registry;
  auto& gauge = registry.AddGauge("g", "G.", {"v"});
  gauge.With({"a"}).Set(0.1);
  gauge.With({"b"}).Set(1e-7);
  gauge.With({"c"}).Set(1e20);
  gauge.With({"d"}).Set(std::numeric_limits<double>::infinity());
  gauge.With({"e"}).Set(-std::numeric_limits<double>::infinity());
  gauge.With({"f"}).Set(std::numeric_limits<double>::quiet_NaN());
  gauge.With({"g"}).Set(-7);
  gauge.With({"h"}).Set(9007199254740991.0);  // 2^53 - 1
  gauge.With({"i"}).Set(1.0 / 3);
  EXPECT_EQ(registry.Render(),
            "# HELP g G.\n# TYPE g gauge\n"
            "g{v=\"a\"} 0.1\n"
            "g{v=\"b\"} 1e-07\n"
            "g{v=\"c\"} 1e+20\n"
            "g{v=\"d\"} +Inf\n"
            "g{v=\"e\"} -Inf\n"
            "g{v=\"f\"} NaN\n"
            "g{v=\"g\"} -7\n"
            "g{v=\"h\"} 9007199254740991\n"
            "g{v=\"i\"} 0.3333333333333333\n");
}

TEST(MetricsTest, CountersIgnoreNegativeIncrementsAndGaugesAdd) {
  Counter counter;
  counter.Increment(2);
  counter.Increment(-1);
  counter.Increment(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(counter.Value(), 2);
  Gauge gauge;
  gauge.Set(5);
  gauge.Add(-7.5);
  EXPECT_EQ(gauge.Value(), -2.5);
}

TEST(MetricsTest, HistogramCountsAValueEqualToABoundInThatBucket) {
  Histogram histogram({1, 2, std::numeric_limits<double>::infinity()});  // the trailing +Inf is implied
  histogram.Observe(1);
  histogram.Observe(2.5);
  histogram.Observe(std::numeric_limits<double>::quiet_NaN());
  const Histogram::Snapshot snapshot = histogram.Read();
  EXPECT_EQ(snapshot.upper_bounds, (std::vector<double>{1, 2}));
  EXPECT_EQ(snapshot.cumulative_counts, (std::vector<std::uint64_t>{1, 1}));
  EXPECT_EQ(snapshot.count, 3u);
  EXPECT_TRUE(std::isnan(snapshot.sum));
  EXPECT_THROW(Histogram({2, 1}), std::invalid_argument);
  EXPECT_THROW(Histogram({1, 1}), std::invalid_argument);
  EXPECT_THROW(Histogram({std::numeric_limits<double>::quiet_NaN()}), std::invalid_argument);
}

TEST(MetricsTest, TuplesBeyondMaxChildrenShareTheOverflowChild) {
  Registry registry;
  auto& family = registry.AddCounter("appended_total", "Appended.", {"topic", "kind"}, 2);
  Counter& a = family.With({"a", "x"});
  Counter& b = family.With({"b", "x"});
  Counter& c = family.With({"c", "x"});
  Counter& d = family.With({"d", "y"});
  EXPECT_EQ(&c, &d);
  EXPECT_NE(&c, &a);
  EXPECT_NE(&c, &b);
  EXPECT_EQ(&family.With({"a", "x"}), &a);  // kept tuples stay themselves after the overflow began
  a.Increment(1);
  b.Increment(2);
  c.Increment(4);
  d.Increment(8);
  EXPECT_EQ(registry.Render(),
            "# HELP appended_total Appended.\n# TYPE appended_total counter\n"
            "appended_total{topic=\"_other\",kind=\"_other\"} 12\n"
            "appended_total{topic=\"a\",kind=\"x\"} 1\n"
            "appended_total{topic=\"b\",kind=\"x\"} 2\n");
}

TEST(MetricsTest, WithTheWrongNumberOfLabelValuesThrows) {
  Registry registry;
  EXPECT_THROW(registry.AddCounter("x_total", "X.", {"a", "b"}).With({"1"}), std::invalid_argument);
  EXPECT_THROW(registry.AddGauge("y", "Y.").With({"1"}), std::invalid_argument);
}

TEST(MetricsTest, ReAddingReturnsTheSameFamilyOrThrowsOnAMismatch) {
  Registry registry;
  auto& counter = registry.AddCounter("x_total", "X.", {"topic"});
  EXPECT_EQ(&registry.AddCounter("x_total", "X.", {"topic"}), &counter);
  EXPECT_THROW(registry.AddGauge("x_total", "X.", {"topic"}), std::invalid_argument);
  EXPECT_THROW(registry.AddCounter("x_total", "X.", {"group"}), std::invalid_argument);
  EXPECT_THROW(registry.AddCounter("x_total", "X."), std::invalid_argument);
  auto& histogram = registry.AddHistogram("h", "H.", {1, 2});
  EXPECT_EQ(&registry.AddHistogram("h", "H.", {1, 2}), &histogram);
  EXPECT_THROW(registry.AddHistogram("h", "H.", {1, 3}), std::invalid_argument);
  // Samples named like another family's would repeat a series name in the exposition.
  EXPECT_THROW(registry.AddCounter("h_count", "C."), std::invalid_argument);
  registry.AddGauge("y_sum", "Y.");
  EXPECT_THROW(registry.AddHistogram("y", "Y.", {1}), std::invalid_argument);
  EXPECT_NO_THROW(registry.AddHistogram("x", "X.", {1}));  // x_bucket, x_sum, x_count: none taken
}

TEST(MetricsTest, InvalidNamesThrow) {
  Registry registry;
  for (const char* name : {"", "1abc", "a-b", "a b", "é"}) {
    EXPECT_THROW(registry.AddCounter(name, "N."), std::invalid_argument) << name;
  }
  EXPECT_NO_THROW(registry.AddCounter(":a:b_C9", "N."));
  for (const char* label : {"", "__reserved", "a:b", "1a", "a-b"}) {
    EXPECT_THROW(registry.AddGauge("g", "N.", {label}), std::invalid_argument) << label;
  }
  EXPECT_THROW(registry.AddGauge("g", "N.", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(registry.AddHistogram("h", "N.", {1}, {"le"}), std::invalid_argument);
  EXPECT_NO_THROW(registry.AddGauge("g", "N.", {"_a", "B_9"}));
}

TEST(MetricsTest, CollectorsRunOnEveryRenderAndGroupByName) {
  Registry registry;
  registry.AddGauge("goethe_topics", "Topics.").With({}).Set(1);
  int renders = 0;
  registry.AddCollector([&renders](Collected& out) {
    ++renders;
    out.Gauge("process_memory_bytes", "Memory.", {{"kind", "rss"}}, 100);
    out.Counter("process_cpu_seconds_total", "CPU.", {}, 1.5);
    out.Gauge("process_memory_bytes", "Ignored help.", {{"kind", "vms"}}, 200);
  });
  registry.AddCollector([&renders](Collected& out) {
    out.Gauge("process_memory_bytes", "", {{"kind", "renders"}}, renders);
  });
  const std::string expected_tail =
      "# HELP process_memory_bytes Memory.\n"
      "# TYPE process_memory_bytes gauge\n"
      "process_memory_bytes{kind=\"rss\"} 100\n"
      "process_memory_bytes{kind=\"vms\"} 200\n"
      "process_memory_bytes{kind=\"renders\"} ";
  const std::string cpu =
      "# HELP process_cpu_seconds_total CPU.\n"
      "# TYPE process_cpu_seconds_total counter\n"
      "process_cpu_seconds_total 1.5\n";
  const std::string head = "# HELP goethe_topics Topics.\n# TYPE goethe_topics gauge\ngoethe_topics 1\n";
  EXPECT_EQ(registry.Render(), head + expected_tail + "1\n" + cpu);
  EXPECT_EQ(registry.Render(), head + expected_tail + "2\n" + cpu);
}

TEST(MetricsTest, BadCollectedSamplesThrowAtRender) {
  const std::vector<std::function<void(Collected&)>> bad = {
      [](Collected& out) { out.Gauge("a-b", "", {}, 1); },
      [](Collected& out) { out.Gauge("a", "", {{"__x", "1"}}, 1); },
      [](Collected& out) {
        out.Gauge("a", "", {}, 1);
        out.Counter("a", "", {}, 1);
      },
      [](Collected& out) { out.Gauge("taken", "", {}, 1); },
      [](Collected& out) { out.Gauge("hist_sum", "", {}, 1); },
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    Registry registry;
    registry.AddGauge("taken", "T.");
    registry.AddHistogram("hist", "H.", {1});
    registry.AddCollector(bad[i]);
    EXPECT_THROW(registry.Render(), std::invalid_argument) << i;
  }
}

TEST(MetricsTest, ExponentialBuckets) {
  EXPECT_EQ(Registry::ExponentialBuckets(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
  const std::vector<double> decades = Registry::ExponentialBuckets(0.001, 10, 3);
  ASSERT_EQ(decades.size(), 3u);
  EXPECT_DOUBLE_EQ(decades[0], 0.001);
  EXPECT_DOUBLE_EQ(decades[1], 0.01);
  EXPECT_DOUBLE_EQ(decades[2], 0.1);
  EXPECT_THROW(Registry::ExponentialBuckets(0, 2, 3), std::invalid_argument);
  EXPECT_THROW(Registry::ExponentialBuckets(1, 1, 3), std::invalid_argument);
  EXPECT_THROW(Registry::ExponentialBuckets(1, 2, 0), std::invalid_argument);
}

// The value on the line that starts with `prefix` (a whole line's name and labels), or -1.
double ValueOf(const std::string& text, const std::string& prefix) {
  const std::size_t at = text.find("\n" + prefix + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + prefix.size() + 2));
}

TEST(MetricsTest, ConcurrentUpdatesAreExactWhileRendering) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100000;
  Registry registry;
  Counter& counter = registry.AddCounter("ops_total", "Ops.").With({});
  Histogram& histogram = registry.AddHistogram("op_size", "Sizes.", {1, 2}).With({});
  auto& by_thread = registry.AddCounter("by_thread_total", "Ops by thread.", {"thread"}, 2);

  std::atomic<bool> done{false};
  std::vector<std::string> failures;
  std::thread renderer([&] {
    double last = 0;
    for (int i = 0; i < 2000 && !done.load(); ++i) {
      const std::string text = registry.Render();
      const double ops = ValueOf(text, "ops_total");
      if (ops < last || ops > kThreads * kPerThread) failures.push_back("ops_total went to " + std::to_string(ops));
      last = ops;
      // The count is the buckets' total, so it always matches the +Inf bucket.
      if (ValueOf(text, "op_size_count") != ValueOf(text, "op_size_bucket{le=\"+Inf\"}")) {
        failures.push_back("count differs from +Inf in:\n" + text);
      }
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      Counter& mine = by_thread.With({std::to_string(t)});  // two of the four share the overflow
      for (int i = 0; i < kPerThread; ++i) {
        counter.Increment();
        mine.Increment();
        histogram.Observe(static_cast<double>(i % 3));  // 0, 1, 2: one of three into each of le=1, le=2
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  done = true;
  renderer.join();

  EXPECT_TRUE(failures.empty()) << failures.front();
  EXPECT_EQ(counter.Value(), kThreads * kPerThread);
  const Histogram::Snapshot snapshot = histogram.Read();
  // Of i in 0..99,999, 33,334 have i % 3 == 0 and 33,333 each have 1 and 2.
  EXPECT_EQ(snapshot.count, static_cast<std::uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(snapshot.cumulative_counts, (std::vector<std::uint64_t>{kThreads * (33334 + 33333), kThreads * kPerThread}));
  EXPECT_EQ(snapshot.sum, kThreads * (33333.0 * 1 + 33333.0 * 2));
  const std::string text = registry.Render();
  double by_thread_total = 0;
  for (const char* child : {"0", "1", "2", "3", "_other"}) {
    const double value = ValueOf(text, std::string("by_thread_total{thread=\"") + child + "\"}");
    if (value > 0) by_thread_total += value;
  }
  EXPECT_EQ(by_thread_total, kThreads * kPerThread);
  EXPECT_EQ(ValueOf(text, "by_thread_total{thread=\"_other\"}"), 2 * kPerThread);
}

}  // namespace
}  // namespace goethe::metrics
