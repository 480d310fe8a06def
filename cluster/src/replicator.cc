// Replicator: construction, roles (following, promotion, leading) and the leader's commit path.
#include "goethe/cluster/replicator.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "batch_codec.h"
#include "follower_link.h"
#include "goethe/engine/kv_status.h"
#include "replication_log.h"
#include "replication_service.h"

namespace goethe::cluster {

Replicator::Replicator(std::shared_ptr<kv::Store> store, Coordinator& coordinator, Options options)
    : store_(std::move(store)),
      coordinator_(coordinator),
      options_(std::move(options)),
      log_(std::make_unique<ReplicationLog>(*store_)),
      service_(std::make_unique<ReplicationService>(*this)) {
  // Before the coordinator starts (its listeners are fixed from then on).
  coordinator_.OnChange([this] {
    std::lock_guard lock(mutex_);
    role_changed_ = true;
    changed_.notify_all();
  });
}

Replicator::~Replicator() { Stop(); }

Status Replicator::Load() {
  if (Status s = log_->Load(); !s.ok()) return s;
  replica_ = options_.self + "@" + log_->store_id();
  return Status::Ok();
}

const std::string& Replicator::replica() const { return replica_; }

std::string Replicator::NameOf(const std::string& replica) { return replica.substr(0, replica.find('@')); }

grpc::Service* Replicator::service() { return service_.get(); }

std::uint64_t Replicator::applied_index() const { return log_->applied().index; }

bool Replicator::MayLead(const ClusterView& view) const {
  return options_.config.unclean_election || !view.in_sync_known || view.InSync(replica_);
}

std::uint64_t Replicator::commit_index() const {
  std::lock_guard lock(mutex_);
  return commit_index_;
}

std::uint64_t Replicator::leading_epoch() const {
  std::lock_guard lock(mutex_);
  return epoch_;
}

void Replicator::Start(EventLog* log, std::function<void()> close_streams) {
  events_ = log;
  close_streams_ = std::move(close_streams);
  role_thread_ = std::thread([this] { RoleLoop(); });
}

void Replicator::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    changed_.notify_all();
  }
  if (role_thread_.joinable()) role_thread_.join();
  Demote();
  service_->Close();
}

void Replicator::RoleLoop() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      changed_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stopping_ || role_changed_; });
      if (stopping_) return;
      role_changed_ = false;
    }
    // After a hand-over this node leads no more, though its coordinator may not have resigned yet.
    const std::uint64_t epoch = handed_over_.load() ? 0 : coordinator_.LeaderEpoch();
    const std::uint64_t leading = leading_epoch();
    if (epoch != leading) {
      if (leading != 0) Demote();
      if (epoch != 0) Promote(epoch);
    }
    if (const std::uint64_t now_leading = leading_epoch(); now_leading != 0) {
      KeepLinksInStep(coordinator_.View());
      std::vector<std::string> leaving;
      {
        std::lock_guard lock(mutex_);
        leaving = LeavingMembersLocked();
      }
      if (!leaving.empty()) (void)RemoveFromInSync(leaving, now_leading, "it is shutting down");
      ExpandInSync();
      bool ready;
      {
        std::lock_guard lock(mutex_);
        ready = ready_;
      }
      if (!ready) TakeOver(now_leading);
    }
  }
}

void Replicator::KeepLinksInStep(const ClusterView& view) {
  std::vector<std::unique_ptr<FollowerLink>> gone;
  {
    std::lock_guard lock(mutex_);
    if (epoch_ == 0) return;
    for (const MemberInfo& member : view.members) {
      if (member.name == options_.self || member.address.empty()) continue;
      auto it = links_.find(member.name);
      if (it != links_.end() && it->second->address() == member.address) continue;
      if (it != links_.end()) gone.push_back(std::move(it->second));
      links_[member.name] = std::make_unique<FollowerLink>(*this, member.name, member.address, epoch_);
    }
    // A member that left the cluster (or whose session expired) and is not in sync needs no link:
    // it would only keep calling an address nobody serves. If it comes back, it gets a new one. An
    // in-sync member keeps its link until it leaves the set (WaitForInSync), so that a short
    // absence from etcd costs its writes nothing. A view without etcd behind it says nothing.
    for (auto it = links_.begin(); it != links_.end();) {
      const bool in_sync = std::any_of(in_sync_.begin(), in_sync_.end(),
                                       [&](const std::string& replica) { return NameOf(replica) == it->first; });
      if (!view.reachable || view.HasMember(it->first) || in_sync) {
        ++it;
        continue;
      }
      spdlog::info("replication: {} is no longer a member; its link is closed", it->first);
      gone.push_back(std::move(it->second));
      it = links_.erase(it);
    }
  }
  gone.clear();  // stopped outside the lock: their threads take it
}

bool Replicator::ExpandInSync() {
  std::lock_guard change(in_sync_change_mutex_);
  std::vector<std::string> members;
  std::string joining;
  std::uint64_t epoch = 0;
  {
    std::lock_guard lock(mutex_);
    if (epoch_ == 0) return false;
    epoch = epoch_;
    const std::uint64_t last = log_->last().index;
    for (const auto& [name, link] : links_) {
      const std::string replica = link->replica();
      if (link->answered() && !link->leaving() && !in_sync_.count(replica) && link->match() >= last) {
        joining = replica;
        break;
      }
    }
    if (joining.empty()) return false;
    members.assign(in_sync_.begin(), in_sync_.end());
    members.push_back(joining);
  }
  // A member that holds every entry joins; writes that start from now on wait for it too. Done
  // outside the commit path, so a write in flight may commit without it: it was not in sync then.
  if (Status s = coordinator_.SetInSync(members); !s.ok()) {
    spdlog::warn("replication: cannot add {} to the in-sync set: {}", joining, s.message());
    return false;
  }
  std::lock_guard lock(mutex_);
  if (epoch_ != epoch) return false;
  in_sync_.insert(joining);
  spdlog::info("replication: {} is in sync", joining);
  return true;
}

Status Replicator::RemoveFromInSync(const std::vector<std::string>& members, std::uint64_t epoch,
                                    const std::string& why) {
  std::lock_guard change(in_sync_change_mutex_);
  std::set<std::string> remaining;
  {
    std::lock_guard lock(mutex_);
    if (epoch_ != epoch) return Status::Ok();
    remaining = in_sync_;
  }
  std::vector<std::string> removed;
  for (const std::string& member : members) {
    if (remaining.erase(member) > 0) removed.push_back(member);
  }
  if (removed.empty()) return Status::Ok();
  if (Status s = coordinator_.SetInSync({remaining.begin(), remaining.end()}); !s.ok()) return s;
  std::lock_guard lock(mutex_);
  if (epoch_ != epoch) return Status::Ok();
  in_sync_ = remaining;
  for (const std::string& member : removed) spdlog::warn("replication: {} left the in-sync set: {}", member, why);
  return Status::Ok();
}

std::vector<std::string> Replicator::LeavingMembersLocked() const {
  std::vector<std::string> leaving;
  for (const std::string& member : in_sync_) {
    if (member == replica_) continue;
    auto link = links_.find(NameOf(member));
    if (link != links_.end() && link->second->leaving()) leaving.push_back(member);
  }
  return leaving;
}

void Replicator::FollowerLeaving() {
  std::lock_guard lock(mutex_);
  role_changed_ = true;  // the role loop looks at the links again
  changed_.notify_all();
}

void Replicator::AwaitOutOfInSync(Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  for (;;) {
    const ClusterView view = coordinator_.View();
    // Nobody to wait for: no leader that could take it out, or it is out already.
    if (!view.reachable || view.leader.empty() || view.leader == options_.self || !view.InSync(replica_)) return;
    if (Clock::now() >= deadline) {
      spdlog::warn("replication: stopping while still in the in-sync set: {}'s next write waits up to "
                   "replication.max_lag for this node", view.leader);
      return;
    }
    // The coordinator's listener notifies changed_ when the view changes.
    changed_.wait_until(lock, std::min(deadline, Clock::now() + std::chrono::milliseconds(50)));
  }
}

void Replicator::HandOver(std::chrono::milliseconds timeout) {
  leaving_.store(true);  // from now on its replication service tells every leader so
  const auto deadline = Clock::now() + timeout;
  if (leading_epoch() == 0) return AwaitOutOfInSync(deadline);
  for (;;) {
    while (ExpandInSync()) {
    }
    const ClusterView view = coordinator_.View();
    std::unique_lock lock(mutex_);
    if (epoch_ == 0) return;
    std::string outside;
    for (const auto& [name, link] : links_) {
      // A member that has left, or is leaving, is not waited for (its link goes once it is out of the set).
      if (!in_sync_.count(link->replica()) && view.HasMember(name) && !link->leaving())
        outside += " " + name + " (holds " + std::to_string(link->match()) + " of " + std::to_string(log_->last().index) + ")";
    }
    if (outside.empty()) break;
    if (Clock::now() >= deadline) {
      spdlog::warn("replication: handing over without{}", outside);
      break;
    }
    changed_.wait_for(lock, std::chrono::milliseconds(10));
  }
  // This node acknowledges nothing more, and every entry it committed is on the others in sync:
  // it leaves the set, so that the next leader does not wait for it.
  std::lock_guard change(in_sync_change_mutex_);
  std::vector<std::string> others;
  {
    std::lock_guard lock(mutex_);
    if (epoch_ == 0) return;
    handed_over_.store(true);
    epoch_ = 0;  // no more writes from here: Write and WaitForInSync refuse
    ready_ = false;
    for (const std::string& member : in_sync_) {
      if (member != replica_) others.push_back(member);
    }
  }
  changed_.notify_all();
  if (others.empty()) return;  // nobody else holds everything: it stays in, and so does the rule
  if (Status s = coordinator_.SetInSync(others); !s.ok()) spdlog::warn("replication: handing over: {}", s.message());
}

void Replicator::Promote(std::uint64_t epoch) {
  std::lock_guard change(in_sync_change_mutex_);
  const ClusterView view = coordinator_.View();
  std::set<std::string> in_sync{replica_};
  for (const std::string& replica : view.in_sync) {
    // Who was in sync and is still a member keeps its place; it must hold the inherited entries
    // within max_lag or it is removed (WaitForInSync). Others join once they hold them all.
    const std::string name = NameOf(replica);
    if (name != options_.self && view.HasMember(name)) in_sync.insert(replica);
  }
  if (Status s = coordinator_.SetInSync({in_sync.begin(), in_sync.end()}); !s.ok()) {
    spdlog::warn("replication: cannot start epoch {}: {}", epoch, s.message());
    return;
  }
  {
    std::lock_guard lock(mutex_);
    epoch_ = epoch;
    generation_ = 0;
    ready_ = false;
    takeover_error_ = "the leader is taking over (committing what it inherited); retry shortly";
    in_sync_ = in_sync;
    commit_index_ = log_->applied().index;
  }
  spdlog::info("replication: leading epoch {}; committing what it holds up to {}", epoch, ToString(log_->last()));
  KeepLinksInStep(view);
}

void Replicator::TakeOver(std::uint64_t epoch) {
  const EntryId inherited = log_->last();
  if (Status s = WaitForInSync(inherited.index, epoch); !s.ok()) {
    std::lock_guard lock(mutex_);
    takeover_error_ = "the leader is taking over: " + s.message();
    return;  // RoleLoop tries again while this node leads
  }
  {
    std::lock_guard lock(mutex_);
    commit_index_ = inherited.index;
  }
  changed_.notify_all();
  if (Status s = ApplyUpTo(inherited.index); !s.ok()) {
    spdlog::error("replication: applying the inherited entries: {}", s.message());
    return;
  }
  // Groups, cursors and retention as the store says, now that this node writes them.
  if (Status s = events_->Reload(); !s.ok()) spdlog::error("replication: reloading: {}", s.message());
  std::lock_guard lock(mutex_);
  if (epoch_ != epoch) return;
  ready_ = true;
  spdlog::info("replication: epoch {} takes writes ({} in sync)", epoch, in_sync_.size());
}

void Replicator::Demote() {
  std::map<std::string, std::unique_ptr<FollowerLink>> links;
  {
    std::lock_guard lock(mutex_);
    if (epoch_ == 0) return;
    spdlog::info("replication: no longer leading epoch {}", epoch_);
    epoch_ = 0;
    ready_ = false;
    links.swap(links_);
    changed_.notify_all();
  }
  links.clear();
}

void Replicator::Wake() {
  std::lock_guard lock(mutex_);
  changed_.notify_all();
}

Status Replicator::WaitForInSync(std::uint64_t index, std::uint64_t epoch) {
  const auto started = Clock::now();
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stopping_ || epoch_ != epoch || !coordinator_.IsLeader()) {
      const bool reachable = coordinator_.View().reachable;
      return Unavailable(std::string("not the leader any more (") +
                         (reachable ? "another node was elected" : "it cannot reach etcd") +
                         "): the write may or may not be kept by the next leader");
    }
    std::vector<std::string> missing;
    for (const std::string& member : in_sync_) {
      if (member == replica_) continue;
      // Its link must speak for the same store: a member that came back wiped is another replica.
      auto link = links_.find(NameOf(member));
      if (link == links_.end() || !link->second->answered() || link->second->replica() != member ||
          link->second->match() < index)
        missing.push_back(member);
    }
    // A member shutting down cleanly will not answer: it leaves the set now, not after max_lag.
    if (std::vector<std::string> leaving = LeavingMembersLocked(); !leaving.empty()) {
      lock.unlock();
      Status s = RemoveFromInSync(leaving, epoch, "it is shutting down");
      lock.lock();
      if (!s.ok()) return Unavailable("cannot update the in-sync set: " + s.message());
      continue;
    }
    if (missing.empty()) {
      if (in_sync_.size() < options_.config.min_insync)
        return Unavailable("only " + std::to_string(in_sync_.size()) + " members are in sync, fewer than replication.min_insync " +
                           std::to_string(options_.config.min_insync) + ": the write was not acknowledged");
      return Status::Ok();
    }
    if (Clock::now() - started >= options_.config.max_lag) {
      // Those that did not answer in time leave the in-sync set, in etcd, before anything is
      // acknowledged without them.
      lock.unlock();
      Status s = RemoveFromInSync(missing, epoch, "entry " + std::to_string(index) + " unacknowledged after " +
                                  std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                     options_.config.max_lag).count()) + " ms");
      lock.lock();
      if (!s.ok()) return Unavailable("cannot update the in-sync set: " + s.message());
      continue;
    }
    changed_.wait_for(lock, std::chrono::milliseconds(10));
  }
}

Status Replicator::Write(kv::WriteBatch& batch, bool sync) {
  EntryId id;
  {
    std::lock_guard lock(mutex_);
    // Refusals before the entry exists: "nothing was written" tells clients a retry is safe.
    if (epoch_ == 0) return Unavailable("not the leader: this node does not accept writes (nothing was written)");
    if (!ready_) return Unavailable(takeover_error_ + " (nothing was written)");
    if (in_sync_.size() < options_.config.min_insync)
      return Unavailable("only " + std::to_string(in_sync_.size()) + " members are in sync, fewer than replication.min_insync " +
                         std::to_string(options_.config.min_insync) + ": writes are refused until more catch up (nothing was written)");
    id = EntryId{log_->last().index + 1, epoch_, generation_};
  }
  const LogEntry entry{id, EncodeBatch(batch)};
  if (Status held = log_->Append(id.index - 1, {entry}, sync); !held.ok()) return held;
  Wake();  // the links send it
  if (Status committed = WaitForInSync(id.index, id.epoch); !committed.ok()) {
    // Not committed: it is never applied here. Followers that hold it drop it when the next entry
    // (a new generation, so never mistaken for this one) or a new leader arrives.
    (void)log_->DropFrom(id.index);
    std::lock_guard lock(mutex_);
    ++generation_;
    for (auto& [name, link] : links_) link->ForgetFrom(id.index);
    return committed;
  }
  ReplicationLog::MarkApplied(&batch, id);
  // The entry is on disk here and on every in-sync member: applying it needs no sync of its own.
  if (kv::Status w = store_->Write({}, batch); !w.ok()) return FromKv(w, "applying a committed entry");
  Applied(id);
  {
    std::lock_guard lock(mutex_);
    commit_index_ = id.index;
  }
  changed_.notify_all();  // the links tell the followers
  return Status::Ok();
}

Status Replicator::ApplyUpTo(std::uint64_t index) {
  std::lock_guard apply(apply_mutex_);
  for (std::uint64_t next = log_->applied().index + 1; next <= index; ++next) {
    auto entry = log_->Read(next);
    if (!entry.ok()) return entry.status();
    if (!entry->has_value()) return DataLoss("replication log entry " + std::to_string(next) + " is missing");
    kv::WriteBatch batch;
    if (Status s = DecodeBatch((*entry)->ops, &batch); !s.ok()) return s;
    ReplicationLog::MarkApplied(&batch, (*entry)->id);
    if (Status s = events_->ApplyDecided(batch, false); !s.ok()) return s;
    Applied((*entry)->id);
  }
  return Status::Ok();
}

void Replicator::Applied(const EntryId& id) {
  log_->Applied(id);
  // Trimming is a range delete: every 1,024 entries is often enough to keep the log near its size.
  if (id.index % 1024 == 0) (void)log_->Trim(options_.config.log_entries);
}

}  // namespace goethe::cluster
