// Rendering in Prometheus's text exposition format 0.0.4:
// https://prometheus.io/docs/instrumenting/exposition_formats/
#include <charconv>
#include <cmath>
#include <set>
#include <stdexcept>
#include <string_view>
#include <type_traits>

#include "goethe/metrics/registry.h"

namespace goethe::metrics {
namespace {

using LabelList = std::vector<std::pair<std::string_view, std::string_view>>;

// Whole numbers below 2^53 print as integers ("42"), the rest in the shortest form that reads back
// to the same double ("0.005", "1e-07"): Prometheus parses both.
std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0) {
    return std::to_string(static_cast<std::int64_t>(value));
  }
  char text[32];
  auto [end, error] = std::to_chars(text, text + sizeof text, value);
  return std::string(text, end);
}

// HELP escapes backslash and newline; label values also escape the double quote.
void AppendEscaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

void AppendHeader(std::string& out, const std::string& name, const std::string& help, std::string_view type) {
  out.append("# HELP ").append(name).append(" ");
  AppendEscaped(out, help, false);
  out.append("\n# TYPE ").append(name).append(" ").append(type).append("\n");
}

// name{a="x",b="y"} value
void AppendSample(std::string& out, std::string_view name, const LabelList& labels, double value) {
  out.append(name);
  if (!labels.empty()) {
    out += '{';
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) out += ',';
      out.append(labels[i].first).append("=\"");
      AppendEscaped(out, labels[i].second, true);
      out += '"';
    }
    out += '}';
  }
  out.append(" ").append(FormatValue(value)).append("\n");
}

LabelList Zip(const std::vector<std::string>& names, const std::vector<std::string>& values) {
  LabelList labels;
  for (std::size_t i = 0; i < names.size(); ++i) labels.emplace_back(names[i], values[i]);
  return labels;
}

std::string_view TypeName(detail::Kind kind) {
  switch (kind) {
    case detail::Kind::kCounter: return "counter";
    case detail::Kind::kGauge: return "gauge";
    case detail::Kind::kHistogram: return "histogram";
  }
  return "untyped";
}

}  // namespace

template <typename Metric>
void Family<Metric>::Render(std::string& out) const {
  AppendHeader(out, spec_.name, spec_.help, TypeName(spec_.kind));
  // Only the listing is under the lock; children and their keys are never removed, so the
  // pointers stay valid and the values are read while updates carry on.
  std::vector<std::pair<const std::vector<std::string>*, const Metric*>> children;
  {
    std::lock_guard lock(mu_);
    for (const auto& [values, child] : children_) children.emplace_back(&values, child.get());
  }
  for (const auto& [values, child] : children) {
    LabelList labels = Zip(spec_.label_names, *values);
    if constexpr (std::is_same_v<Metric, Histogram>) {
      const Histogram::Snapshot snapshot = child->Read();
      labels.emplace_back("le", "");
      for (std::size_t i = 0; i <= snapshot.upper_bounds.size(); ++i) {
        const bool inf = i == snapshot.upper_bounds.size();
        const std::string le = inf ? "+Inf" : FormatValue(snapshot.upper_bounds[i]);
        labels.back().second = le;
        AppendSample(out, spec_.name + "_bucket", labels,
                     static_cast<double>(inf ? snapshot.count : snapshot.cumulative_counts[i]));
      }
      labels.pop_back();
      AppendSample(out, spec_.name + "_sum", labels, snapshot.sum);
      AppendSample(out, spec_.name + "_count", labels, static_cast<double>(snapshot.count));
    } else {
      AppendSample(out, spec_.name, labels, child->Value());
    }
  }
}

template void Family<Counter>::Render(std::string&) const;
template void Family<Gauge>::Render(std::string&) const;
template void Family<Histogram>::Render(std::string&) const;

std::string Registry::Render() const {
  std::vector<const detail::FamilyBase*> families;
  std::vector<std::function<void(Collected&)>> collectors;
  {
    std::lock_guard lock(mu_);
    for (const auto& family : families_) families.push_back(family.get());
    collectors = collectors_;
  }
  std::string out;
  std::set<std::string> taken;  // every name the families' lines carry
  for (const detail::FamilyBase* family : families) {
    family->Render(out);
    taken.insert(family->spec_.name);
    for (std::string& name : family->spec_.SampleNames()) taken.insert(std::move(name));
  }

  Collected collected;
  for (const auto& collect : collectors) collect(collected);
  for (const Collected::Group& group : collected.groups_) {
    if (taken.count(group.name) > 0) {
      throw std::invalid_argument("collected " + group.name + " clashes with a registered family");
    }
    AppendHeader(out, group.name, group.help, group.counter ? "counter" : "gauge");
    for (const Collected::Sample& sample : group.samples) {
      LabelList labels(sample.labels.begin(), sample.labels.end());
      AppendSample(out, group.name, labels, sample.value);
    }
  }
  return out;
}

}  // namespace goethe::metrics
