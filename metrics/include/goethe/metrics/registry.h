// Metrics: one registry of counters, gauges and histograms that the rooms update and the /metrics
// route renders in Prometheus's text exposition format (0.0.4).
//
// Thread safety: every method may be called from any thread. Updating a metric touches atomics
// only; locks are taken to add a family or a child and, by Render, to list them, never to update.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace goethe::metrics {

// Monotonically increasing.
class Counter {
 public:
  void Increment(double by = 1.0);  // by < 0 (or NaN) is ignored: a counter never goes down
  double Value() const;

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void Set(double value);
  void Add(double by);
  double Value() const;

 private:
  std::atomic<double> value_{0.0};
};

// Buckets by upper bound ("le": a value equal to a bound counts in that bucket).
class Histogram {
 public:
  // Strictly ascending, no NaN, else std::invalid_argument. +Inf is implied; a trailing +Inf is dropped.
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double value);  // NaN counts in the +Inf bucket and makes the sum NaN, as Prometheus's clients do

  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<std::uint64_t> cumulative_counts;  // same size as upper_bounds; the +Inf bucket is `count`
    double sum = 0;
    std::uint64_t count = 0;
  };
  // Under concurrent Observe()s, `count` always equals the buckets' total; `sum` may lag by the
  // observations in flight.
  Snapshot Read() const;

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // per bucket (not cumulative), +Inf last
  std::atomic<double> sum_{0.0};
};

class Registry;

namespace detail {

enum class Kind { kCounter, kGauge, kHistogram };

// What identifies a family; adding its name again must repeat kind, label names and bounds.
struct Spec {
  Kind kind;
  std::string name;
  std::string help;
  std::vector<std::string> label_names;
  std::size_t max_children;
  std::vector<double> upper_bounds;  // histograms only

  // The names its samples carry: `name`, or name_bucket, name_sum and name_count for a histogram.
  std::vector<std::string> SampleNames() const;
};

// What the registry keeps of every family, whatever its metric type.
class FamilyBase {
 public:
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;
  virtual ~FamilyBase() = default;

 protected:
  explicit FamilyBase(Spec spec) : spec_(std::move(spec)) {}
  const Spec spec_;

 private:
  friend class goethe::metrics::Registry;
  virtual void Render(std::string& out) const = 0;  // HELP, TYPE and the lines of every child
};

}  // namespace detail

// A metric with labels: one child per distinct tuple of label values. Children live as long as
// the registry (stable references: callers cache them on hot paths). At most `max_children`
// distinct tuples are kept; any further tuple gets the one overflow child whose every label value
// is "_other" (so 100,000 topics cannot blow up a scrape). A family with no labels has one child,
// With({}), which exists from the start (it renders as 0 before its first update).
template <typename Metric>
class Family final : public detail::FamilyBase {
 public:
  // std::invalid_argument if the number of values differs from the number of label names.
  Metric& With(const std::vector<std::string>& label_values);

 private:
  friend class Registry;
  explicit Family(detail::Spec spec);
  void Render(std::string& out) const override;

  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> children_;  // sorted as rendered
  std::size_t kept_ = 0;  // children other than the overflow child
};

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

// What a collector emits at scrape time (values computed then: process memory, topic count ...).
// Samples of one name are rendered together under one HELP and TYPE (the first sample's help), in
// the order they were emitted. An invalid name or label name, or one name emitted both as a gauge
// and as a counter, throws std::invalid_argument.
class Collected {
 public:
  void Gauge(const std::string& name, const std::string& help,
             const std::vector<std::pair<std::string, std::string>>& labels, double value);
  void Counter(const std::string& name, const std::string& help,
               const std::vector<std::pair<std::string, std::string>>& labels, double value);

 private:
  friend class Registry;
  struct Sample {
    std::vector<std::pair<std::string, std::string>> labels;
    double value;
  };
  struct Group {  // the samples of one name
    std::string name;
    std::string help;
    bool counter;
    std::vector<Sample> samples;
  };
  void Add(const std::string& name, const std::string& help, bool counter,
           const std::vector<std::pair<std::string, std::string>>& labels, double value);

  std::vector<Group> groups_;                   // in the order their names first came
  std::map<std::string, std::size_t> group_of_;  // name -> index in groups_
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Adding a name twice returns the existing family when its kind, label names (and, for a
  // histogram, bounds) match, else throws std::invalid_argument. Names and label names follow
  // Prometheus's rules ([a-zA-Z_:][a-zA-Z0-9_:]* and [a-zA-Z_][a-zA-Z0-9_]* without a leading "__",
  // no label named twice, no "le" on a histogram): std::invalid_argument otherwise.
  Family<Counter>& AddCounter(const std::string& name, const std::string& help,
                              std::vector<std::string> label_names = {}, std::size_t max_children = 1000);
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help,
                          std::vector<std::string> label_names = {}, std::size_t max_children = 1000);
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help, std::vector<double> upper_bounds,
                                  std::vector<std::string> label_names = {}, std::size_t max_children = 1000);

  // Called on every Render, without the registry's lock held (a collector may add families).
  void AddCollector(std::function<void(Collected&)> collect);

  // Prometheus text exposition format 0.0.4: the families in the order they were added, then the
  // collectors' samples. Throws std::invalid_argument when a collector emits something invalid
  // (see Collected) or a name a family already has.
  std::string Render() const;

  // start, start*factor, ... (count bounds); std::invalid_argument unless start > 0, factor > 1, count >= 1.
  static std::vector<double> ExponentialBuckets(double start, double factor, std::size_t count);

 private:
  template <typename Metric>
  Family<Metric>& Add(detail::Spec spec);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<detail::FamilyBase>> families_;  // in the order they were added
  std::vector<std::function<void(Collected&)>> collectors_;
};

}  // namespace goethe::metrics
