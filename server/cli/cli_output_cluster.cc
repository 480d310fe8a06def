// What goethe-cli prints for `cluster status` (cli_output.h).
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <vector>

#include "cli_output.h"
#include "time_text.h"

namespace goethe::cli {
namespace {

// "leader", "in_sync", "catching_up": the enum's name without its prefix, in lower case.
std::string StateText(v1::MemberState state) {
  std::string name = v1::MemberState_Name(state);
  const std::string prefix = "MEMBER_STATE_";
  if (name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return name;
}

// Seconds from `unix_nanos` to now, one decimal ("1.5s ago"); "-" when unknown.
std::string AgeText(std::int64_t unix_nanos, std::int64_t now) {
  if (unix_nanos == 0) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.1fs ago", static_cast<double>(std::max<std::int64_t>(now - unix_nanos, 0)) / 1e9);
  return text;
}

// Rows of cells as left-aligned columns two spaces apart.
std::vector<std::string> Columns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::vector<std::string> lines;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    lines.push_back(line);
  }
  return lines;
}

}  // namespace

void Output::ClusterStatus(const v1::ClusterStatusResponse& status) {
  if (json_) {
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    options.always_print_primitive_fields = true;  // clustered: false, behind_leader: 0
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(status, &json, options);
    return Line(json);
  }
  if (!status.clustered()) {
    Line("not clustered: the server is a single node (its config has no cluster: section) and accepts writes itself");
    return;
  }
  Line("cluster:  " + status.cluster());
  Line("node:     " + status.node() + " (answered)");
  Line("leader:   " + (status.leader().empty() ? std::string("none (an election is under way)")
                                               : status.leader() + " at " + status.leader_address()));
  Line("epoch:    " + std::to_string(status.epoch()));
  Line("etcd:     " + (status.coordinator_reachable()
                           ? std::string("reachable")
                           : "unreachable from " + status.node() + " (the rest is what it knew last)"));
  Line("");
  std::vector<std::vector<std::string>> rows = {{"NAME", "ADDRESS", "STATE", "APPLIED", "BEHIND", "UPDATED"}};
  const std::int64_t now = NowUnixNanos();
  for (const v1::ClusterMember& member : status.members()) {
    rows.push_back({member.name(), member.address(), StateText(member.state()), std::to_string(member.applied()),
                    std::to_string(member.behind_leader()), AgeText(member.updated_unix_nanos(), now)});
  }
  for (const std::string& line : Columns(rows)) Line(line);
}

}  // namespace goethe::cli
