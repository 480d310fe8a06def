// LeaderGate: in a cluster, only the leader writes. A write that reaches a follower (or a leader
// whose session is in doubt) is refused with UNAVAILABLE, and the refusal tells the client where
// to go: the leader's address in the trailing metadata `goethe-leader` and in the message.
// Without a cluster every write passes.
#pragma once

#include <optional>
#include <string>

#include <grpcpp/grpcpp.h>

#include "goethe/cluster/coordinator.h"
#include "goethe/engine/status.h"

namespace goethe::server {

constexpr char kLeaderMetadata[] = "goethe-leader";

// nullopt when this node may write now; otherwise UNAVAILABLE naming the leader (and its address
// in `*leader_address`, empty when no leader is known).
std::optional<Status> NotLeader(const cluster::Coordinator* coordinator, std::string* leader_address);

// The same as a gRPC status, with the leader's address added to `call`'s trailing metadata.
std::optional<grpc::Status> RefuseUnlessLeader(const cluster::Coordinator* coordinator, grpc::ServerContextBase& call);

}  // namespace goethe::server
