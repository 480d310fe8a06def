// EtcdCoordinator: the Coordinator on etcd v3. Three threads, each with one job:
//   session  (etcd_session_loop.cc)  keeps this node's lease alive, knows by its own clock until
//            when the lease is certainly alive, and publishes this node's member record;
//   campaign (etcd_campaign_loop.cc) campaigns through etcd's Election API while there is a
//            session, and holds or resigns the leadership it wins;
//   watch    (etcd_watch_loop.cc)    mirrors the cluster's keys and turns them into the ClusterView.
// docs/cluster.md describes the protocol, and what happens on each kind of failure.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "cluster_keys.h"
#include "etcd_client.h"
#include "goethe/cluster/coordinator.h"

namespace goethe::cluster {

class EtcdCoordinator final : public Coordinator {
 public:
  EtcdCoordinator(const ClusterConfig& config, const NodeIdentity& self);
  ~EtcdCoordinator() override;

  void OnChange(ChangeListener listener) override { listeners_.push_back(std::move(listener)); }
  void SetCampaignGate(std::function<bool(const ClusterView&)> may_lead) override { may_lead_ = std::move(may_lead); }
  void SetInSyncIdentity(std::string identity) override { in_sync_identity_ = std::move(identity); }
  Status SetInSync(const std::vector<std::string>& members) override;
  void ReportProgress(std::function<std::uint64_t()> applied) override { progress_ = std::move(applied); }
  Status Start(std::function<bool()> give_up) override;
  bool IsLeader() const override;
  std::uint64_t LeaderEpoch() const override;
  ClusterView View() const override;
  std::uint64_t CoordinationId() const override { return etcd_ ? etcd_->cluster_id() : 0; }
  MemberState State() const override;
  void BeginStop() override;
  void Stop() override;

 private:
  // One key of the cluster's prefix, as the watch last saw it.
  struct Entry {
    std::string value;
    std::int64_t create_revision = 0;
    std::int64_t mod_revision = 0;
  };

  // Session (etcd_session_loop.cc).
  void SessionLoop();
  // Grants a lease and registers this node under it; false (logged) when etcd cannot be reached
  // by `deadline`.
  bool OpenSession(Clock::time_point deadline, std::string* why);
  // Renews the lease once; false when no renewal got through (the session may still be valid).
  bool RenewSession();
  // Steps down at once, then ends the session (revoking its lease, best effort). Locks mutex_.
  void LoseSession(const std::string& why);
  // Writes this node's member record when its state changed, or its progress and a second has
  // passed; `force`: in any case. Gives up at `deadline`. Under no lock.
  void PublishIfDue(bool force, Clock::time_point deadline);
  // Asks the session thread to publish now (this node's state changed). Under mutex_.
  void RequestPublishLocked();
  bool SessionValidNow() const;

  // Campaign (etcd_campaign_loop.cc).
  void CampaignLoop();
  // The fenced write that starts an epoch; the etcd revision it was written at, 0 when the key
  // no longer leads at its revision (or etcd could not be asked).
  std::int64_t ClaimEpoch(const std::string& key, std::int64_t revision);
  // Waits (bounded) until the watch has mirrored etcd up to `revision`: a leader's first view must
  // not still list the members whose expiry elected it. Under mutex_ (`lock`).
  void AwaitMirrorLocked(std::unique_lock<std::mutex>& lock, std::int64_t revision);
  bool MayLeadLocked() const;

  // Watch (etcd_watch_loop.cc).
  void WatchLoop();
  bool LoadSnapshot(std::int64_t* revision);
  void RebuildViewLocked();  // view_ from entries_
  void Notify();

  MemberState StateLocked() const;

  const ClusterConfig config_;
  const NodeIdentity self_;
  const ClusterKeys keys_;
  std::unique_ptr<EtcdClient> etcd_;
  std::vector<ChangeListener> listeners_;
  std::function<bool(const ClusterView&)> may_lead_;
  std::string in_sync_identity_;  // empty: the node's name
  std::function<std::uint64_t()> progress_;

  // Leadership, read on every write without a lock: the epoch this node leads in (0: none) and,
  // on the steady clock, until when its session is certainly alive.
  std::atomic<std::uint64_t> epoch_{0};
  std::atomic<std::int64_t> valid_until_ns_{0};

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool started_ = false;
  bool stopping_ = false;   // Stop: every loop ends
  bool resigning_ = false;  // BeginStop: lead no more
  std::int64_t lease_ = 0;  // 0: no session
  std::int64_t lost_lease_ = 0;  // a lost session's lease not yet revoked (etcd was out of reach)
  std::chrono::seconds ttl_{0};
  std::uint64_t generation_ = 0;  // one more for every session opened
  v3electionpb::LeaderKey leader_key_;  // ours, while leading
  grpc::ClientContext* campaign_call_ = nullptr;
  grpc::ClientContext* watch_call_ = nullptr;
  std::map<std::string, Entry> entries_;  // the cluster's keys, from the watch
  std::int64_t mirrored_revision_ = 0;     // entries_ hold every change up to this etcd revision
  ClusterView view_;
  bool publish_now_ = false;  // this node's state changed: the session thread rewrites its record
  std::optional<MemberState> published_state_;  // as this session's record last said; none yet
  std::uint64_t published_applied_ = 0;
  Clock::time_point published_at_{};

  std::thread session_thread_;
  std::thread campaign_thread_;
  std::thread watch_thread_;
};

}  // namespace goethe::cluster
