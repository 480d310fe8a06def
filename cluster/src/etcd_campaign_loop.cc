// The campaign thread: leadership through etcd's Election API.
//
// While this node has a session it campaigns on /goethe/<cluster>/leader with its lease. etcd
// answers when this node's candidate key has the lowest creation revision, and that revision is
// the epoch. Before leading, the node proves the key still stands at that revision with a
// transaction that writes the epoch record (Campaign can answer for a key whose lease has just
// expired); only then does IsLeader turn true. The leadership ends when the session does (the
// session thread clears it first), or at BeginStop, which resigns so that the next candidate wins
// at once instead of after a TTL.
#include <spdlog/spdlog.h>

#include "etcd_coordinator.h"
#include "member_record.h"

namespace goethe::cluster {

std::int64_t EtcdCoordinator::ClaimEpoch(const std::string& key, std::int64_t revision) {
  etcdserverpb::TxnRequest txn;
  etcdserverpb::Compare* still_leading = txn.add_compare();
  still_leading->set_key(key);
  still_leading->set_target(etcdserverpb::Compare::CREATE);
  still_leading->set_result(etcdserverpb::Compare::EQUAL);
  still_leading->set_create_revision(revision);
  // The in-sync set this node decided to lead by must still be the current one: a leader that
  // removed this node from it just before dying may not have been seen by the watch yet, and
  // leading without the writes acknowledged since would lose them.
  etcdserverpb::Compare* same_in_sync = txn.add_compare();
  same_in_sync->set_key(keys_.in_sync);
  same_in_sync->set_target(etcdserverpb::Compare::MOD);
  same_in_sync->set_result(etcdserverpb::Compare::EQUAL);
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(keys_.in_sync);
    same_in_sync->set_mod_revision(it == entries_.end() ? 0 : it->second.mod_revision);
  }
  etcdserverpb::PutRequest* record = txn.add_success()->mutable_request_put();
  record->set_key(keys_.epoch);
  record->set_value(EncodeLeader({self_.name, self_.address, static_cast<std::uint64_t>(revision)}));
  etcdserverpb::TxnResponse response;
  Status status = etcd_->Txn(txn, Clock::now() + config_.session_ttl, &response);
  if (!status.ok()) {
    spdlog::warn("cluster {}: cannot start epoch {}: {}", config_.name, revision, status.message());
    return 0;
  }
  if (!response.succeeded()) {
    spdlog::warn("cluster {}: won epoch {} but its election key is gone or the in-sync set changed meanwhile; "
                 "campaigning again", config_.name, revision);
    return 0;
  }
  return response.header().revision();
}

void EtcdCoordinator::AwaitMirrorLocked(std::unique_lock<std::mutex>& lock, std::int64_t revision) {
  // The watch brings this very claim soon after; without a watch it does not come, and a stale
  // view then costs the new leader time (an expired member kept in sync for max_lag), not safety.
  const bool mirrored = wake_.wait_for(lock, config_.session_ttl / 2,
                                       [&] { return stopping_ || mirrored_revision_ >= revision; });
  if (!mirrored)
    spdlog::warn("cluster {}: leading before the watch has caught up with etcd (at revision {} of {})", config_.name,
                 mirrored_revision_, revision);
}

bool EtcdCoordinator::MayLeadLocked() const { return !may_lead_ || may_lead_(view_); }

Status EtcdCoordinator::SetInSync(const std::vector<std::string>& members) {
  std::string key;
  std::uint64_t epoch;
  {
    std::lock_guard lock(mutex_);
    key = leader_key_.key();
    epoch = epoch_.load();
  }
  if (epoch == 0 || key.empty() || !IsLeader()) return FailedPrecondition("not the leader: cannot change the in-sync set");
  etcdserverpb::TxnRequest txn;
  etcdserverpb::Compare* still_leading = txn.add_compare();
  still_leading->set_key(key);
  still_leading->set_target(etcdserverpb::Compare::CREATE);
  still_leading->set_result(etcdserverpb::Compare::EQUAL);
  still_leading->set_create_revision(static_cast<std::int64_t>(epoch));
  etcdserverpb::PutRequest* record = txn.add_success()->mutable_request_put();
  record->set_key(keys_.in_sync);
  record->set_value(EncodeInSync({epoch, members}));
  etcdserverpb::TxnResponse response;
  if (Status s = etcd_->Txn(txn, Clock::now() + config_.session_ttl, &response); !s.ok()) return s;
  if (!response.succeeded()) return FailedPrecondition("no longer the leader of epoch " + std::to_string(epoch));
  // Known at once here; the watch brings the same to every node.
  std::lock_guard lock(mutex_);
  view_.in_sync_known = true;
  view_.in_sync = members;
  view_.in_sync_epoch = epoch;
  return Status::Ok();
}

void EtcdCoordinator::CampaignLoop() {
  for (;;) {
    std::int64_t lease;
    std::uint64_t generation;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] {
        return stopping_ || (!resigning_ && lease_ != 0 && epoch_.load() == 0 && MayLeadLocked());
      });
      if (stopping_) return;
      lease = lease_;
      generation = generation_;
    }
    grpc::ClientContext call;
    if (Status s = etcd_->PrepareLongCall(call); !s.ok()) {
      spdlog::warn("cluster {}: {}", config_.name, s.message());
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(500), [this] { return stopping_; });
      continue;
    }
    {
      std::lock_guard lock(mutex_);
      if (stopping_ || resigning_ || generation_ != generation) continue;
      campaign_call_ = &call;
    }
    v3electionpb::CampaignRequest request;
    request.set_name(keys_.election);
    request.set_lease(lease);
    request.set_value(EncodeLeader({self_.name, self_.address, 0}));
    v3electionpb::CampaignResponse response;
    EtcdClient::Member& member = etcd_->Current();
    const grpc::Status status = member.election->Campaign(&call, request, &response);
    {
      std::lock_guard lock(mutex_);
      campaign_call_ = nullptr;
    }
    if (!status.ok()) {
      etcd_->Failed(member, status);
      std::unique_lock lock(mutex_);
      if (stopping_) return;
      // A failed member, or a lost session: try again soon (the session thread renews or replaces it).
      wake_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stopping_; });
      continue;
    }
    const v3electionpb::LeaderKey& key = response.leader();
    bool may_lead;
    {
      std::lock_guard lock(mutex_);
      may_lead = MayLeadLocked();  // the in-sync set may have changed while this node waited
    }
    if (!may_lead) {
      spdlog::info("cluster {}: won an election but is not in sync: resigning", config_.name);
      (void)etcd_->Resign(key, Clock::now() + std::chrono::seconds(1));
      continue;
    }
    const std::int64_t claimed = ClaimEpoch(key.key(), key.rev());
    if (claimed == 0) {
      std::unique_lock lock(mutex_);  // let the watch catch up before deciding again
      wake_.wait_for(lock, std::chrono::milliseconds(50), [this] { return stopping_; });
      continue;
    }
    {
      std::unique_lock lock(mutex_);
      AwaitMirrorLocked(lock, claimed);
      // The session may have ended, or BeginStop come, while the claim was in flight.
      if (stopping_ || resigning_ || generation_ != generation || !SessionValidNow()) {
        leader_key_ = key;  // resigned below
      } else {
        leader_key_ = key;
        epoch_.store(static_cast<std::uint64_t>(key.rev()), std::memory_order_release);
        RequestPublishLocked();
      }
    }
    if (epoch_.load() != 0) {
      spdlog::info("cluster {}: node {} leads, epoch {}", config_.name, self_.name, key.rev());
      Notify();
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || resigning_ || generation_ != generation; });
    }
    v3electionpb::LeaderKey resign;
    {
      std::lock_guard lock(mutex_);
      epoch_.store(0, std::memory_order_release);
      // Without the session the key is gone (or going) anyway; LoseSession has cleared it.
      if (generation_ == generation) resign = leader_key_;
    }
    Notify();
    if (!resign.key().empty()) {
      Status resigned = etcd_->Resign(resign, Clock::now() + std::chrono::seconds(1));
      if (!resigned.ok()) spdlog::warn("cluster {}: resigning: {}", config_.name, resigned.message());
    }
    {
      std::lock_guard lock(mutex_);
      leader_key_.Clear();
    }
    wake_.notify_all();
  }
}

}  // namespace goethe::cluster
