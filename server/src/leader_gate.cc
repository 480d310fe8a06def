#include "leader_gate.h"

#include "status_mapping.h"

namespace goethe::server {

std::optional<Status> NotLeader(const cluster::Coordinator* coordinator, std::string* leader_address) {
  if (coordinator == nullptr || coordinator->IsLeader()) return std::nullopt;
  const cluster::ClusterView view = coordinator->View();
  std::string message = "not the leader: node " + view.self + " does not accept writes";
  if (!view.reachable) message += " (it cannot reach etcd)";
  leader_address->clear();
  if (!view.leader.empty() && view.leader != view.self) {
    *leader_address = view.leader_address;
    message += "; the leader is " + view.leader + " at " + view.leader_address;
  } else {
    message += "; no leader is elected now, retry shortly";
  }
  return Unavailable(message);
}

std::optional<grpc::Status> RefuseUnlessLeader(const cluster::Coordinator* coordinator, grpc::ServerContextBase& call) {
  std::string leader_address;
  std::optional<Status> refusal = NotLeader(coordinator, &leader_address);
  if (!refusal) return std::nullopt;
  if (!leader_address.empty()) call.AddTrailingMetadata(kLeaderMetadata, leader_address);
  return ToGrpcStatus(*refusal);
}

}  // namespace goethe::server
