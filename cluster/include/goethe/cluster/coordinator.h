// Coordinator: how a node takes part in a cluster, whatever keeps the cluster's shared state
// (etcd today; a Kubernetes Lease coordinator could implement the same interface).
//
// A started coordinator registers this node (name, address, version, state, progress) under a
// session that ends when the node stops renewing it, campaigns to lead, and watches the other
// members. The server asks it two things on its hot paths: "may I act as leader now?" (IsLeader,
// a few atomic loads, checked before every write) and "who leads?" (for refusals that point the
// client there). Everything else is a snapshot (View) for ClusterStatus and health.
//
// Thread safety: every method may be called from any thread once Start has returned OK.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "goethe/engine/config.h"
#include "goethe/engine/status.h"

namespace goethe::cluster {

// What a node tells the others about itself. Values are stored as these names in etcd.
enum class MemberState { kStarting, kCatchingUp, kInSync, kLeader, kStopping };
const char* MemberStateName(MemberState state);  // "starting", "catching_up", ...
bool ParseMemberState(const std::string& name, MemberState* out);

struct MemberInfo {
  std::string name;
  std::string address;
  std::string version;
  MemberState state = MemberState::kStarting;
  std::uint64_t applied = 0;  // what the node has applied (ReportProgress): its last log entry's index
  std::int64_t updated_unix_nanos = 0;
};

// A node's picture of the cluster, from its last look at the coordinator.
struct ClusterView {
  std::string cluster;
  std::string self;
  std::vector<MemberInfo> members;  // in name order
  std::string leader;               // empty: none elected now
  std::string leader_address;
  std::uint64_t epoch = 0;          // the leader's epoch; 0 with no leader
  bool reachable = false;           // this node's session with the coordinator is alive
  // The in-sync set, as its leader last wrote it (replication): the members that hold every
  // acknowledged write. Unknown before any leader has written one.
  bool in_sync_known = false;
  std::vector<std::string> in_sync;
  std::uint64_t in_sync_epoch = 0;  // the epoch of the leader that wrote it

  // Whether a member named `name` is registered.
  bool HasMember(const std::string& name) const;
  // Whether `replica` (an entry as the set names it: "<node>@<store id>") is in the in-sync set.
  bool InSync(const std::string& replica) const;
  // Whether the node named `member` is in the in-sync set, whose entries name replicas
  // ("<node>@<store id>"); false while the set is unknown.
  bool MemberInSync(const std::string& member) const;
  // How many log entries `member` has applied fewer than the leader; 0 with no leader.
  std::uint64_t BehindLeader(const MemberInfo& member) const;
};

// Who this node is, as it registers itself.
struct NodeIdentity {
  std::string name;
  std::string address;
  std::string version;
};

class Coordinator {
 public:
  virtual ~Coordinator() = default;

  // Called (from the coordinator's own threads) whenever the view or this node's leadership
  // changes; it must not block for long. Add them before Start; all are called, in order.
  using ChangeListener = std::function<void()>;
  virtual void OnChange(ChangeListener listener) = 0;
  // How the in-sync set names this node (replication: its name and store id); its name when not
  // set. Set before Start.
  virtual void SetInSyncIdentity(std::string identity) = 0;
  // Whether this node may campaign now, given the view (replication: only an in-sync member may
  // lead). Without one, every node may. Set before Start.
  virtual void SetCampaignGate(std::function<bool(const ClusterView&)> may_lead) = 0;
  // What the node has applied, asked for by the coordinator when it refreshes this node's
  // registration (about once a second). Set before Start.
  virtual void ReportProgress(std::function<std::uint64_t()> applied) = 0;

  // Reaches the coordinator, opens this node's session, registers it and starts campaigning.
  // Fails (UNAVAILABLE, naming what was tried) when the coordinator cannot be reached in time, or
  // (when configured to wait for it) when `give_up` returns true; it asks about once a second.
  virtual Status Start(std::function<bool()> give_up) = 0;

  // True only while this node holds leadership of its current epoch and its session is certainly
  // alive by its own clock: it turns false before the coordinator could expire the session, and
  // stays false after a pause (SIGSTOP) long enough to lose it, before any thread has run.
  virtual bool IsLeader() const = 0;
  // The epoch this node leads in; 0 when it does not lead.
  virtual std::uint64_t LeaderEpoch() const = 0;
  virtual ClusterView View() const = 0;
  // Which coordination service this node is a member of (for etcd, its cluster id): two Goethe
  // clusters never share one, even under the same name. 0 while not known yet.
  virtual std::uint64_t CoordinationId() const = 0;
  // Writes the in-sync set, fenced by this node's leadership: fails (FAILED_PRECONDITION) when
  // this node does not lead the current epoch, and then nothing was written.
  virtual Status SetInSync(const std::vector<std::string>& members) = 0;

  // This node's state now: kLeader while IsLeader(); a follower is kInSync while it is in the
  // in-sync set (or, before there is one, holds what the leader last reported holding), else
  // kCatchingUp; kStopping after BeginStop.
  virtual MemberState State() const = 0;

  // Clean shutdown, in two steps: BeginStop gives up leadership at once (a successor can be
  // elected while this node finishes its calls) and registers kStopping; Stop ends the session,
  // which removes this node from the membership. Both are idempotent.
  virtual void BeginStop() = 0;
  virtual void Stop() = 0;
};

// An etcd v3 coordinator for `config` (cluster.enabled must be true). Start does the connecting.
std::unique_ptr<Coordinator> MakeEtcdCoordinator(const ClusterConfig& config, const NodeIdentity& self);

}  // namespace goethe::cluster
