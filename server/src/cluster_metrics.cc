#include "cluster_metrics.h"

#include <string>

namespace goethe::server {
namespace {

void Collect(const cluster::ClusterView& view, metrics::Collected& out) {
  out.Gauge("goethe_cluster_leader", "1 while this node is the cluster's leader, else 0.", {},
            view.leader == view.self && !view.leader.empty() ? 1 : 0);
  out.Gauge("goethe_cluster_epoch", "The current leader's epoch (0 while none is known).", {},
            static_cast<double>(view.epoch));
  out.Gauge("goethe_cluster_coordinator_reachable", "1 while this node's etcd session is alive, else 0.", {},
            view.reachable ? 1 : 0);
  out.Gauge("goethe_cluster_members", "Members registered in etcd.", {}, static_cast<double>(view.members.size()));
  out.Gauge("goethe_cluster_in_sync_members", "Members in the in-sync set, the leader included (0 while unknown).", {},
            static_cast<double>(view.in_sync_known ? view.in_sync.size() : 0));
  for (const cluster::MemberInfo& member : view.members) {
    const std::vector<std::pair<std::string, std::string>> labels = {{"member", member.name}};
    out.Gauge("goethe_cluster_member_in_sync", "1 while the member is in the in-sync set, else 0.", labels,
              view.MemberInSync(member.name) ? 1 : 0);
    out.Gauge("goethe_cluster_member_applied_entries",
              "The member's last applied replication-log entry, as it last reported it (about once a second).",
              labels, static_cast<double>(member.applied));
    out.Gauge("goethe_cluster_member_behind_leader_entries",
              "Replication-log entries the member has not applied that the leader has (0 with no leader).", labels,
              static_cast<double>(view.BehindLeader(member)));
  }
}

}  // namespace

void CollectClusterAtScrape(metrics::Registry& registry, const cluster::Coordinator& coordinator) {
  registry.AddCollector([&coordinator](metrics::Collected& out) { Collect(coordinator.View(), out); });
}

}  // namespace goethe::server
