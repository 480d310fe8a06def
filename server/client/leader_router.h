// Finding and following a cluster's leader, for goethe-cli and goethe-bench. In a cluster only the
// leader accepts writes: a follower refuses them with UNAVAILABLE, the leader's address in the
// trailing metadata `goethe-leader` and "not the leader" in the message. A client given several
// servers asks them ClusterStatus to find the leader, and after an UNAVAILABLE goes to the hint or
// looks for the leader again (docs/api.md, "Clients in a cluster").
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "goethe/v1/goethe.grpc.pb.h"

namespace goethe::client {

// The trailing metadata of a follower's refusal: the leader's advertised host:port.
inline constexpr char kLeaderMetadata[] = "goethe-leader";

// --server's value: "a:1, b:2,c:3" as {"a:1", "b:2", "c:3"} (spaces and empty entries dropped).
std::vector<std::string> SplitServers(const std::string& text);

// The `goethe-leader` trailing metadata of a finished call; empty when it carries none.
std::string LeaderHint(const grpc::ClientContext& call);

// True when a follower refused the call as not the leader (UNAVAILABLE with the hint or "not the
// leader" in the message): it wrote nothing.
bool RefusedAsNotLeader(const grpc::Status& status, const grpc::ClientContext& call);

// True when a failed call certainly wrote nothing: refused as not the leader, or UNAVAILABLE before
// it reached any server (gRPC could not connect, so the request was never sent). Anything else that
// ends a write, e.g. a server that died while the call was out, leaves its outcome unknown.
bool NothingWritten(const grpc::Status& status, const grpc::ClientContext& call);

// A channel to `address` with the program's TLS and token settings.
using ChannelFactory = std::function<std::shared_ptr<grpc::Channel>(const std::string& address)>;

// Where calls go now. `generation` grows each time the router follows the leader, so that callers
// failing on the same route follow it once between them.
struct Route {
  std::shared_ptr<v1::Goethe::Stub> stub;
  std::string address;
  std::uint64_t generation = 0;
};

// The server calls go to: the only one given, or with several the leader. Thread-safe.
class LeaderRouter {
 public:
  // `servers` is not empty. `probe_timeout` bounds each ClusterStatus call.
  LeaderRouter(std::vector<std::string> servers, ChannelFactory connect,
               std::chrono::milliseconds probe_timeout = std::chrono::seconds(1));

  // Several servers: the router looks for the leader and follows it. One: it only ever calls that
  // one, and makes no call of its own.
  bool routing() const { return servers_.size() > 1; }
  const std::vector<std::string>& servers() const { return servers_; }

  // Asks ClusterStatus of each server in order and routes to the leader the first of them names
  // (once the leader itself confirms it leads; a single node leads itself); when none names a
  // live leader, to the first that answered. False, the route unchanged, when none answers.
  // Without routing(): true at once.
  bool FindLeader();

  // After a call on `failed` ended with UNAVAILABLE: routes to `hint` when there is one, else
  // FindLeader(). Nothing when the route has changed since `failed` (another caller followed).
  void Follow(const Route& failed, const std::string& hint);

  Route Current() const;

 private:
  std::shared_ptr<v1::Goethe::Stub> StubFor(const std::string& address);
  std::optional<v1::ClusterStatusResponse> Ask(const std::string& address);
  std::optional<std::string> Leader();
  void RouteTo(const std::string& address);

  const std::vector<std::string> servers_;
  const ChannelFactory connect_;
  const std::chrono::milliseconds probe_timeout_;
  std::mutex follow_mutex_;  // one FindLeader or Follow at a time; never held by Current()
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<v1::Goethe::Stub>> stubs_;  // one per address, kept
  Route route_;
};

}  // namespace goethe::client
