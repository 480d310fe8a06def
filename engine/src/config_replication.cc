// replication: how a cluster's leader copies writes to the other nodes. Only each value's range is
// checked here, and that a cluster section is there to replicate within; whether min_insync can be
// met by the cluster's members is the server's business (they are known only at run time).
#include <chrono>
#include <cstdint>
#include <string>

#include "config_reader.h"

namespace goethe::config_internal {
namespace {

constexpr std::uint64_t kMinInsync = 1;
constexpr std::uint64_t kMaxInsync = 64;
constexpr auto kMinMaxLag = std::chrono::milliseconds(100);
constexpr auto kMaxMaxLag = std::chrono::hours(1);
constexpr std::uint64_t kMinLogEntries = 100;
constexpr std::uint64_t kMaxLogEntries = 100'000'000;

// An integer from `min` to `max`, with Count()'s message.
template <typename T>
SectionReader::Handler BoundedCount(SectionReader& r, T* out, std::uint64_t min, std::uint64_t max) {
  return [&r, out, min, max](const YAML::Node& v, const std::string& key) {
    std::uint64_t n = 0;
    std::string why;
    if (!v.IsScalar() || !kv::OptionReader::ParseUint(v.Scalar(), &n, &why) || n < min || n > max)
      return r.Error(key, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max) +
                              ", got " + Describe(v));
    *out = static_cast<T>(n);
    return Status::Ok();
  };
}

// A Duration() from `min` to `max`; `range` says so in the error.
SectionReader::Handler BoundedDuration(SectionReader& r, std::chrono::nanoseconds* out, std::chrono::nanoseconds min,
                                       std::chrono::nanoseconds max, const std::string& range) {
  return [&r, out, min, max, range](const YAML::Node& v, const std::string& key) {
    std::chrono::nanoseconds d{};
    if (Status s = Duration(r, &d)(v, key); !s.ok()) return s;
    if (d < min || d > max) return r.Error(key, "expected " + range + ", got " + Describe(v));
    *out = d;
    return Status::Ok();
  };
}

}  // namespace

Status ReadReplication(Config& c, const YAML::Node& node, const YAML::Mark& mark) {
  ReplicationConfig& replication = c.replication;
  SectionReader r(c, "replication");
  r.On("min_insync", BoundedCount(r, &replication.min_insync, kMinInsync, kMaxInsync));
  r.On("max_lag", BoundedDuration(r, &replication.max_lag, kMinMaxLag, kMaxMaxLag,
                                  "a duration from 100ms to 1h, such as 2s"));
  r.On("log_entries", BoundedCount(r, &replication.log_entries, kMinLogEntries, kMaxLogEntries));
  r.On("unclean_election", Bool(r, &replication.unclean_election));
  return r.Read(node, mark);
}

// The top-level reader put "replication" in `lines` when the section is written, even empty.
Status CheckReplication(const Config& c) {
  if (c.lines.count("replication") == 0 || c.cluster.enabled) return Status::Ok();
  return InvalidArgument(c.Where("replication") +
                         ": needs a cluster section: replication copies writes between the nodes of a cluster, "
                         "and without cluster this is a single node");
}

}  // namespace goethe::config_internal
