#include "etcd_coordinator.h"

#include <spdlog/spdlog.h>

#include "member_record.h"

namespace goethe::cluster {

std::unique_ptr<Coordinator> MakeEtcdCoordinator(const ClusterConfig& config, const NodeIdentity& self) {
  return std::make_unique<EtcdCoordinator>(config, self);
}

EtcdCoordinator::EtcdCoordinator(const ClusterConfig& config, const NodeIdentity& self)
    : config_(config), self_(self), keys_(config.name) {
  view_.cluster = config.name;
  view_.self = self.name;
}

EtcdCoordinator::~EtcdCoordinator() { Stop(); }

Status EtcdCoordinator::Start(std::function<bool()> give_up) {
  Result<std::unique_ptr<EtcdClient>> client = EtcdClient::Create(config_.etcd);
  if (!client.ok()) return client.status();
  etcd_ = std::move(*client);
  std::string why;
  // Waiting: short attempts, so that a stop request is noticed soon.
  const auto attempt = config_.etcd.wait_at_start
                           ? std::min<std::chrono::nanoseconds>(config_.etcd.connect_timeout, std::chrono::seconds(1))
                           : config_.etcd.connect_timeout;
  for (int tries = 0;; ++tries) {
    if (OpenSession(Clock::now() + attempt, &why)) break;
    if (!config_.etcd.wait_at_start)
      return Unavailable("cannot reach etcd at " + etcd_->endpoints() + " within cluster.etcd.connect_timeout: " + why);
    if (give_up && give_up()) return Unavailable("stopped while waiting for etcd at " + etcd_->endpoints());
    if (tries == 0) spdlog::warn("waiting for etcd at {} (cluster.etcd.wait_at_start): {}", etcd_->endpoints(), why);
  }
  std::int64_t revision = 0;
  LoadSnapshot(&revision);  // a first picture before serving; the watch keeps it current
  {
    std::lock_guard lock(mutex_);
    started_ = true;
  }
  spdlog::info("cluster {}: node {} joined through etcd at {} (session TTL {}s)", config_.name, self_.name,
               etcd_->endpoints(), ttl_.count());
  session_thread_ = std::thread([this] { SessionLoop(); });
  campaign_thread_ = std::thread([this] { CampaignLoop(); });
  watch_thread_ = std::thread([this] { WatchLoop(); });
  return Status::Ok();
}

bool EtcdCoordinator::SessionValidNow() const {
  const std::int64_t now = Clock::now().time_since_epoch().count();
  return now < valid_until_ns_.load(std::memory_order_acquire);
}

bool EtcdCoordinator::IsLeader() const { return epoch_.load(std::memory_order_acquire) != 0 && SessionValidNow(); }

std::uint64_t EtcdCoordinator::LeaderEpoch() const { return IsLeader() ? epoch_.load() : 0; }

ClusterView EtcdCoordinator::View() const {
  std::lock_guard lock(mutex_);
  ClusterView view = view_;
  view.reachable = lease_ != 0 && SessionValidNow();
  return view;
}

MemberState EtcdCoordinator::StateLocked() const {
  if (resigning_ || stopping_) return MemberState::kStopping;
  if (!started_) return MemberState::kStarting;
  // A leader whose session has lapsed leads no more from that instant, as IsLeader says, though
  // its session thread may not have cleared the epoch yet.
  if (epoch_.load() != 0) return SessionValidNow() ? MemberState::kLeader : MemberState::kCatchingUp;
  if (view_.in_sync_known)
    return view_.InSync(in_sync_identity_.empty() ? self_.name : in_sync_identity_) ? MemberState::kInSync
                                                                                   : MemberState::kCatchingUp;
  if (view_.leader.empty()) return MemberState::kCatchingUp;
  const std::uint64_t mine = progress_ ? progress_() : 0;
  for (const MemberInfo& member : view_.members) {
    if (member.name == view_.leader) return member.applied <= mine ? MemberState::kInSync : MemberState::kCatchingUp;
  }
  return MemberState::kCatchingUp;
}

MemberState EtcdCoordinator::State() const {
  std::lock_guard lock(mutex_);
  return StateLocked();
}

void EtcdCoordinator::Notify() {
  for (const ChangeListener& listener : listeners_) listener();
}

void EtcdCoordinator::BeginStop() {
  {
    std::lock_guard lock(mutex_);
    if (resigning_ || !started_) return;
    resigning_ = true;
    if (epoch_.load() != 0) spdlog::info("cluster {}: resigning the leadership of epoch {}", config_.name, epoch_.load());
    epoch_.store(0, std::memory_order_release);  // before anything else: lead no more
    RequestPublishLocked();
  }
  wake_.notify_all();
  // The campaign thread resigns; the session thread publishes kStopping. Wait for both (bounded),
  // so that a successor is elected while this node finishes its calls.
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, std::chrono::seconds(2), [this] {
    return lease_ == 0 || (leader_key_.key().empty() && published_state_ == MemberState::kStopping);
  });
}

void EtcdCoordinator::Stop() {
  std::int64_t lease = 0;
  bool joined = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    joined = started_;
    stopping_ = true;
    resigning_ = true;
    epoch_.store(0, std::memory_order_release);
    if (campaign_call_) campaign_call_->TryCancel();
    if (watch_call_) watch_call_->TryCancel();
  }
  wake_.notify_all();
  for (std::thread* thread : {&session_thread_, &campaign_thread_, &watch_thread_}) {
    if (thread->joinable()) thread->join();
  }
  {
    std::lock_guard lock(mutex_);
    lease = lease_;
    lease_ = 0;
    valid_until_ns_.store(0);
  }
  // Revoking the lease deletes this node's member record and candidacy at once.
  if (lease != 0 && etcd_) {
    Status revoked = etcd_->Revoke(lease, Clock::now() + std::chrono::seconds(1));
    if (!revoked.ok()) spdlog::warn("cluster {}: leaving: {}", config_.name, revoked.message());
  }
  if (joined) spdlog::info("cluster {}: node {} left", config_.name, self_.name);
}

}  // namespace goethe::cluster
