// ClusterStatus: what this node knows of its cluster, from etcd (or itself alone, on a single node).
#include "goethe_service.h"
#include "status_mapping.h"

namespace goethe::server {
namespace {

v1::MemberState ToProto(cluster::MemberState state) {
  switch (state) {
    case cluster::MemberState::kStarting: return v1::MEMBER_STATE_STARTING;
    case cluster::MemberState::kCatchingUp: return v1::MEMBER_STATE_CATCHING_UP;
    case cluster::MemberState::kInSync: return v1::MEMBER_STATE_IN_SYNC;
    case cluster::MemberState::kLeader: return v1::MEMBER_STATE_LEADER;
    case cluster::MemberState::kStopping: return v1::MEMBER_STATE_STOPPING;
  }
  return v1::MEMBER_STATE_UNSPECIFIED;
}

// A single node's progress: the events appended to the topics that exist (a cluster node reports
// its replication log's applied index instead).
std::uint64_t AppliedEvents(const EventLog& log) {
  std::uint64_t applied = 0;
  for (const TopicInfo& topic : log.ListTopics()) applied += topic.next_offset;
  return applied;
}

}  // namespace

grpc::ServerUnaryReactor* GoetheService::ClusterStatus(grpc::CallbackServerContext* call,
                                                       const v1::ClusterStatusRequest*,
                                                       v1::ClusterStatusResponse* response) {
  grpc::ServerUnaryReactor* refused = nullptr;
  if (Caller(call, &refused) == nullptr) return refused;  // any authenticated caller may ask
  if (context_.cluster == nullptr) {
    const std::string address = context_.node_address ? context_.node_address->Get() : std::string();
    response->set_clustered(false);
    response->set_node(address);
    response->set_leader(address);
    response->set_leader_address(address);
    response->set_coordinator_reachable(true);
    v1::ClusterMember* self = response->add_members();
    self->set_name(address);
    self->set_address(address);
    self->set_version(GOETHE_VERSION);
    self->set_state(v1::MEMBER_STATE_LEADER);
    self->set_applied(AppliedEvents(*context_.log));
    return FinishNow(call, Status::Ok());
  }
  const cluster::ClusterView view = context_.cluster->View();
  response->set_clustered(true);
  response->set_cluster(view.cluster);
  response->set_node(view.self);
  response->set_leader(view.leader);
  response->set_leader_address(view.leader_address);
  response->set_epoch(view.epoch);
  response->set_coordinator_reachable(view.reachable);
  for (const cluster::MemberInfo& member : view.members) {
    v1::ClusterMember* out = response->add_members();
    out->set_name(member.name);
    out->set_address(member.address);
    out->set_version(member.version);
    out->set_state(ToProto(member.state));
    out->set_applied(member.applied);
    out->set_behind_leader(view.BehindLeader(member));
    out->set_updated_unix_nanos(member.updated_unix_nanos);
  }
  return FinishNow(call, Status::Ok());
}

}  // namespace goethe::server
