// The metrics, their families and the registry; the text they render is in exposition.cc.
#include "goethe/metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>
#include <type_traits>

namespace goethe::metrics {
namespace {

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

void CheckMetricName(const std::string& name) {
  bool ok = !name.empty() && !IsAsciiDigit(name[0]);
  for (char c : name) ok = ok && (IsAsciiLetter(c) || IsAsciiDigit(c) || c == '_' || c == ':');
  if (!ok) throw std::invalid_argument("invalid metric name \"" + name + "\"");
}

void CheckLabelName(const std::string& name) {
  bool ok = !name.empty() && !IsAsciiDigit(name[0]) && name.rfind("__", 0) != 0;  // "__" is Prometheus's own
  for (char c : name) ok = ok && (IsAsciiLetter(c) || IsAsciiDigit(c) || c == '_');
  if (!ok) throw std::invalid_argument("invalid label name \"" + name + "\"");
}

void CheckLabelNames(const std::vector<std::string>& names) {
  std::set<std::string> seen;
  for (const std::string& name : names) {
    CheckLabelName(name);
    if (!seen.insert(name).second) throw std::invalid_argument("label \"" + name + "\" named twice");
  }
}

// Ascending without NaN; a trailing +Inf is dropped (it is always implied).
std::vector<double> NormalizedBounds(std::vector<double> bounds) {
  if (!bounds.empty() && bounds.back() == std::numeric_limits<double>::infinity()) bounds.pop_back();
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (std::isnan(bounds[i]) || (i > 0 && !(bounds[i - 1] < bounds[i]))) {
      throw std::invalid_argument("histogram bounds must be strictly ascending numbers");
    }
  }
  return bounds;
}

template <typename Metric>
std::unique_ptr<Metric> MakeMetric(const detail::Spec& spec) {
  if constexpr (std::is_same_v<Metric, Histogram>) {
    return std::make_unique<Histogram>(spec.upper_bounds);
  } else {
    return std::make_unique<Metric>();
  }
}

}  // namespace

std::vector<std::string> detail::Spec::SampleNames() const {
  if (kind != Kind::kHistogram) return {name};
  return {name + "_bucket", name + "_sum", name + "_count"};
}

void Counter::Increment(double by) {
  if (!(by >= 0)) return;
  value_.fetch_add(by, std::memory_order_relaxed);
}

double Counter::Value() const { return value_.load(std::memory_order_relaxed); }

void Gauge::Set(double value) { value_.store(value, std::memory_order_relaxed); }
void Gauge::Add(double by) { value_.fetch_add(by, std::memory_order_relaxed); }
double Gauge::Value() const { return value_.load(std::memory_order_relaxed); }

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(NormalizedBounds(std::move(upper_bounds))),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(upper_bounds_.size() + 1)) {}

void Histogram::Observe(double value) {
  // The first bound >= value; written so that NaN, false against every bound, lands in +Inf.
  auto bound = std::partition_point(upper_bounds_.begin(), upper_bounds_.end(),
                                    [value](double upper) { return !(value <= upper); });
  buckets_[static_cast<std::size_t>(bound - upper_bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot snapshot;
  snapshot.upper_bounds = upper_bounds_;
  // The count is the buckets' total, read once each, so that it always matches the +Inf bucket.
  for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) {
    snapshot.count += buckets_[i].load(std::memory_order_relaxed);
    if (i < upper_bounds_.size()) snapshot.cumulative_counts.push_back(snapshot.count);
  }
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

template <typename Metric>
Family<Metric>::Family(detail::Spec spec) : FamilyBase(std::move(spec)) {
  if (spec_.label_names.empty()) With({});  // its one child exists from the start and renders 0
}

template <typename Metric>
Metric& Family<Metric>::With(const std::vector<std::string>& label_values) {
  if (label_values.size() != spec_.label_names.size()) {
    throw std::invalid_argument(spec_.name + " has " + std::to_string(spec_.label_names.size()) +
                                " labels, not " + std::to_string(label_values.size()));
  }
  std::lock_guard lock(mu_);
  if (auto it = children_.find(label_values); it != children_.end()) return *it->second;
  if (kept_ < spec_.max_children) {
    ++kept_;
    return *children_.emplace(label_values, MakeMetric<Metric>(spec_)).first->second;
  }
  auto& overflow = children_[std::vector<std::string>(label_values.size(), "_other")];
  if (!overflow) overflow = MakeMetric<Metric>(spec_);
  return *overflow;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

void Collected::Gauge(const std::string& name, const std::string& help,
                      const std::vector<std::pair<std::string, std::string>>& labels, double value) {
  Add(name, help, false, labels, value);
}

void Collected::Counter(const std::string& name, const std::string& help,
                        const std::vector<std::pair<std::string, std::string>>& labels, double value) {
  Add(name, help, true, labels, value);
}

void Collected::Add(const std::string& name, const std::string& help, bool counter,
                    const std::vector<std::pair<std::string, std::string>>& labels, double value) {
  CheckMetricName(name);
  std::vector<std::string> label_names;
  for (const auto& label : labels) label_names.push_back(label.first);
  CheckLabelNames(label_names);
  auto [it, added] = group_of_.try_emplace(name, groups_.size());
  if (added) groups_.push_back({name, help, counter, {}});
  Group& group = groups_[it->second];
  if (group.counter != counter) throw std::invalid_argument(name + " collected both as a counter and as a gauge");
  group.samples.push_back({labels, value});
}

template <typename Metric>
Family<Metric>& Registry::Add(detail::Spec spec) {
  CheckMetricName(spec.name);
  CheckLabelNames(spec.label_names);
  std::lock_guard lock(mu_);
  const std::vector<std::string> sample_names = spec.SampleNames();
  for (const auto& family : families_) {
    const detail::Spec& existing = family->spec_;
    if (existing.name == spec.name) {
      if (existing.kind != spec.kind || existing.label_names != spec.label_names ||
          existing.upper_bounds != spec.upper_bounds) {
        throw std::invalid_argument(spec.name + " is already registered with another kind, labels or buckets");
      }
      return static_cast<Family<Metric>&>(*family);
    }
    // A counter x_count beside a histogram x would put two series of one name in the exposition.
    for (const std::string& taken : existing.SampleNames()) {
      if (std::find(sample_names.begin(), sample_names.end(), taken) != sample_names.end()) {
        throw std::invalid_argument(spec.name + ": its samples would be named like " + existing.name + "'s");
      }
    }
  }
  families_.push_back(std::unique_ptr<Family<Metric>>(new Family<Metric>(std::move(spec))));
  return static_cast<Family<Metric>&>(*families_.back());
}

Family<Counter>& Registry::AddCounter(const std::string& name, const std::string& help,
                                      std::vector<std::string> label_names, std::size_t max_children) {
  return Add<Counter>({detail::Kind::kCounter, name, help, std::move(label_names), max_children, {}});
}

Family<Gauge>& Registry::AddGauge(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names, std::size_t max_children) {
  return Add<Gauge>({detail::Kind::kGauge, name, help, std::move(label_names), max_children, {}});
}

Family<Histogram>& Registry::AddHistogram(const std::string& name, const std::string& help,
                                          std::vector<double> upper_bounds, std::vector<std::string> label_names,
                                          std::size_t max_children) {
  if (std::find(label_names.begin(), label_names.end(), "le") != label_names.end()) {
    throw std::invalid_argument(name + ": \"le\" is the bucket label of a histogram");
  }
  return Add<Histogram>({detail::Kind::kHistogram, name, help, std::move(label_names), max_children,
                         NormalizedBounds(std::move(upper_bounds))});
}

void Registry::AddCollector(std::function<void(Collected&)> collect) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collect));
}

std::vector<double> Registry::ExponentialBuckets(double start, double factor, std::size_t count) {
  if (!(start > 0) || !(factor > 1) || !std::isfinite(start) || !std::isfinite(factor) || count == 0) {
    throw std::invalid_argument("exponential buckets need start > 0, factor > 1 and count >= 1");
  }
  std::vector<double> bounds;
  for (double bound = start; bounds.size() < count; bound *= factor) bounds.push_back(bound);
  return bounds;
}

}  // namespace goethe::metrics
