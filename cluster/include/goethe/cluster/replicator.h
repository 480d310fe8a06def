// Replicator: how a cluster node's writes reach the other nodes before they are acknowledged
// (docs/cluster.md, "Replication"). One per node, between the engine's commit loop and the store:
//
//   leader    every batch the commit loop staged becomes the next entry of the replication log:
//             written here, sent to every follower, and committed once every member of the
//             in-sync set holds it on disk; only then is it applied to the store and the engine
//             acknowledges it. A member that does not answer within replication.max_lag is first
//             removed from the in-sync set (in etcd, fenced by the epoch); with fewer than
//             replication.min_insync members in sync, writes fail with UNAVAILABLE.
//   follower  refuses every local batch; the leader's entries arrive through the Replication
//             service, are held on disk, and are applied (EventLog::ApplyDecided) once the leader
//             says they are committed — so readers never see what could be lost. A follower too far
//             behind for the leader's log, or holding data from elsewhere, gets a copy of the
//             leader's store first.
//   promoted  a new leader commits the entries it inherited (by bringing the in-sync members up to
//             its log, discarding whatever they held beyond it) before it takes writes.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "goethe/cluster/coordinator.h"
#include "goethe/engine/config.h"
#include "goethe/engine/event_log.h"
#include "goethe/engine/replication.h"
#include "goethe/kv/store.h"

namespace goethe::cluster {

class FollowerLink;
class ReplicationLog;
class ReplicationService;
struct EntryId;

class Replicator final : public CommitWriter {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    ReplicationConfig config;
    bool sync = true;  // storage.sync: entries are on stable storage before they are acknowledged
    std::string self;  // this node's name
  };

  Replicator(std::shared_ptr<kv::Store> store, Coordinator& coordinator, Options options);
  ~Replicator() override;  // Stop()s

  // Reads the replication state from the store: before the engine opens on it.
  Status Load();
  // Starts following (and leading when elected), with the engine opened on the store with this as
  // its writer. `close_streams` ends every client stream of the node: before a copy of the
  // leader's store replaces this one's.
  void Start(EventLog* log, std::function<void()> close_streams);
  // A clean shutdown begins: from now on this node follows no leader (a new leader must not count
  // it in sync only to wait out max_lag when it goes). A leader about to resign first lets the
  // followers that hold its whole log into the in-sync set, so that one of them can lead next;
  // a follower in the in-sync set waits until the leader has taken it out. Either waits at most
  // `timeout`.
  void HandOver(std::chrono::milliseconds timeout);
  // Ends leading and following; the engine may close afterwards.
  void Stop();

  // The commit loop's writes (the leader's path; a follower refuses them).
  Status Write(kv::WriteBatch& batch, bool sync) override;

  // The follower side, to register on the node's gRPC server.
  grpc::Service* service();
  // Whether this node may campaign to lead, given the view: it is in sync (or no in-sync set was
  // written yet), or replication.unclean_election allows it.
  bool MayLead(const ClusterView& view) const;
  // The index of the last entry this node has applied: its progress.
  std::uint64_t applied_index() const;
  // "name@store-id": this node's store as the in-sync set names it (known after Load). A node
  // whose store was wiped comes back as another replica, outside the set until it caught up.
  const std::string& replica() const;

 private:
  friend class FollowerLink;
  friend class ReplicationService;

  void RoleLoop();
  void Promote(std::uint64_t epoch);
  // Commits and applies the entries a new leader inherited; then it takes writes.
  void TakeOver(std::uint64_t epoch);
  void Demote();
  void KeepLinksInStep(const ClusterView& view);
  // Adds to the in-sync set one follower that holds the whole log; true when it added one.
  bool ExpandInSync();
  // Takes `members` out of the in-sync set of `epoch`, in etcd first (nothing is acknowledged
  // without them before that), saying `why` in the log. OK, doing nothing, when the epoch is over.
  Status RemoveFromInSync(const std::vector<std::string>& members, std::uint64_t epoch, const std::string& why);
  // The in-sync members whose links say they are shutting down.
  std::vector<std::string> LeavingMembersLocked() const;
  // A link heard its follower say it is leaving: the role loop takes it out of the in-sync set.
  void FollowerLeaving();
  // A follower's part of HandOver: waits until `deadline` for the leader to take this node out of
  // the in-sync set (it does so once its link hears this node is leaving).
  void AwaitOutOfInSync(Clock::time_point deadline);
  // Waits until every in-sync follower holds entry `index`, removing those that do not answer in
  // time; OK when the entry is committed.
  Status WaitForInSync(std::uint64_t index, std::uint64_t epoch);
  // Applies the held entries up to `index` (committed) to the store and the engine.
  Status ApplyUpTo(std::uint64_t index);
  // Records that entry `id` is applied (its data and marker are written), trimming the log now and then.
  void Applied(const EntryId& id);
  // Wakes the threads waiting on changed_ after a change made outside mutex_ (the log's last
  // entry, a link's match when a follower acknowledged, a link stopping). Notifying under the mutex: a waiter that checked
  // before the change and has not begun waiting yet would otherwise sleep out its whole timeout
  // (a link 200 ms, a write 10 ms).
  void Wake();
  std::uint64_t commit_index() const;
  std::uint64_t leading_epoch() const;
  static std::string NameOf(const std::string& replica);

  const std::shared_ptr<kv::Store> store_;
  Coordinator& coordinator_;
  const Options options_;
  std::unique_ptr<ReplicationLog> log_;
  std::unique_ptr<ReplicationService> service_;
  EventLog* events_ = nullptr;
  std::function<void()> close_streams_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  bool role_changed_ = false;
  std::uint64_t epoch_ = 0;  // the epoch this node leads as replicator; 0: it follows
  std::uint64_t generation_ = 0;
  bool ready_ = false;       // promoted: what it inherited is committed and applied
  std::string takeover_error_;  // why writes wait, until ready_
  std::uint64_t commit_index_ = 0;
  std::string replica_;  // this node's store, as the in-sync set names it
  std::set<std::string> in_sync_;  // the leader's in-sync set (replicas), itself included
  // Held by whoever changes the in-sync set, from reading in_sync_ to updating it after etcd, so
  // that two changes never write sets made from the same old one (one would undo the other).
  // Taken before mutex_.
  std::mutex in_sync_change_mutex_;
  std::map<std::string, std::unique_ptr<FollowerLink>> links_;  // by follower name
  std::mutex apply_mutex_;  // one application of entries at a time
  std::atomic<bool> leaving_{false};      // HandOver began: the node is shutting down, it follows nobody
  std::atomic<bool> handed_over_{false};  // HandOver ran: never lead again in this process
  std::thread role_thread_;
};

}  // namespace goethe::cluster
