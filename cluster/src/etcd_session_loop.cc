// The session thread: this node's etcd lease and its member record.
//
// The lease is renewed every third of its TTL. Each renewal that etcd answers moves the local
// deadline to (when the renewal was sent) + TTL - margin: etcd cannot expire the lease before
// (when it received the renewal) + TTL, which is later, so a node that trusts its deadline never
// acts on a lease etcd has already expired. IsLeader reads that deadline itself, so a node paused
// past it (SIGSTOP) is no leader the instant it runs again, before this thread has woken.
#include <spdlog/spdlog.h>

#include "etcd_coordinator.h"
#include "member_record.h"

namespace goethe::cluster {
namespace {

// How long before the lease's certain end a node stops trusting it: room for the two clocks
// running at slightly different rates, and for the thread being scheduled late.
std::chrono::milliseconds Margin(std::chrono::seconds ttl) {
  return std::max(std::chrono::milliseconds(100), std::chrono::duration_cast<std::chrono::milliseconds>(ttl) / 10);
}

// Renewals come three to a TTL, so that two can fail before the lease is in doubt.
std::chrono::milliseconds RenewalInterval(std::chrono::seconds ttl) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(ttl) / 3;
}

constexpr std::chrono::seconds kRefreshEvery{1};  // a member record is rewritten at least this often when it changed
// A renewal that failed is tried again this soon, not a whole interval later: the session's
// deadline may fall before that (an etcd member died and the others are electing a leader).
constexpr std::chrono::milliseconds kRetryRenewalAfter{100};
// A member record is written only when this much time is left before the next renewal, and
// never past it: a write stuck on an etcd without a leader must not hold up the renewal.
constexpr std::chrono::milliseconds kMinPublishTime{100};

std::int64_t UnixNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool EtcdCoordinator::OpenSession(Clock::time_point deadline, std::string* why) {
  const Clock::time_point sent = Clock::now();
  etcdserverpb::LeaseGrantResponse granted;
  const auto ttl = std::chrono::duration_cast<std::chrono::seconds>(config_.session_ttl);
  if (Status s = etcd_->Grant(ttl, deadline, &granted); !s.ok()) {
    *why = s.message();
    return false;
  }
  {
    std::lock_guard lock(mutex_);
    lease_ = granted.id();
    ttl_ = std::chrono::seconds(granted.ttl());
    ++generation_;
    published_state_.reset();
    valid_until_ns_.store((sent + ttl_ - Margin(ttl_)).time_since_epoch().count(), std::memory_order_release);
  }
  // A lease lost while etcd was out of reach may still hold an election key that would keep the
  // cluster leaderless until it expires: revoke it now that etcd answers.
  std::int64_t lost_lease = 0;
  {
    std::lock_guard lock(mutex_);
    std::swap(lost_lease, lost_lease_);
  }
  if (lost_lease != 0) (void)etcd_->Revoke(lost_lease, Clock::now() + std::chrono::milliseconds(500));
  if (granted.ttl() != ttl.count())
    spdlog::warn("cluster {}: etcd granted a session TTL of {}s instead of cluster.session_ttl {}s", config_.name,
                 granted.ttl(), ttl.count());
  PublishIfDue(true, Clock::now() + std::chrono::seconds(1));
  wake_.notify_all();
  Notify();
  return true;
}

bool EtcdCoordinator::RenewSession() {
  std::int64_t lease;
  {
    std::lock_guard lock(mutex_);
    lease = lease_;
  }
  const Clock::time_point sent = Clock::now();
  const Clock::time_point certain_end{Clock::duration(valid_until_ns_.load())};
  std::int64_t renewed_ttl = 0;
  Status status = etcd_->KeepAliveOnce(lease, std::max(certain_end, sent + std::chrono::milliseconds(100)), &renewed_ttl);
  if (status.ok() && renewed_ttl <= 0) {
    LoseSession("etcd says the session's lease has expired");
    return false;
  }
  if (!status.ok()) {
    if (!SessionValidNow()) LoseSession("no renewal of the session's lease reached etcd in time: " + status.message());
    return false;
  }
  std::lock_guard lock(mutex_);
  if (lease_ != lease) return false;  // lost meanwhile
  ttl_ = std::chrono::seconds(renewed_ttl);
  valid_until_ns_.store((sent + ttl_ - Margin(ttl_)).time_since_epoch().count(), std::memory_order_release);
  return true;
}

void EtcdCoordinator::LoseSession(const std::string& why) {
  std::int64_t lease;
  std::uint64_t epoch;
  {
    std::lock_guard lock(mutex_);
    epoch = epoch_.exchange(0, std::memory_order_acq_rel);  // first of all: lead no more
    valid_until_ns_.store(0, std::memory_order_release);
    lease = lease_;
    lease_ = 0;
    leader_key_.Clear();
    if (campaign_call_) campaign_call_->TryCancel();
  }
  if (epoch != 0)
    spdlog::error("cluster {}: stepped down from leading epoch {}: {}", config_.name, epoch, why);
  else
    spdlog::warn("cluster {}: lost the etcd session: {}", config_.name, why);
  wake_.notify_all();
  Notify();
  // If etcd still holds the old lease, revoking it frees its candidacy now rather than at expiry;
  // when etcd cannot be reached now, that is done once the session is back (OpenSession).
  if (lease != 0 && !etcd_->Revoke(lease, Clock::now() + std::chrono::milliseconds(500)).ok()) {
    std::lock_guard lock(mutex_);
    lost_lease_ = lease;
  }
}

void EtcdCoordinator::RequestPublishLocked() {
  publish_now_ = true;
  wake_.notify_all();
}

void EtcdCoordinator::PublishIfDue(bool force, Clock::time_point deadline) {
  std::int64_t lease;
  MemberInfo me;
  {
    std::lock_guard lock(mutex_);
    lease = lease_;
    if (lease == 0) return;
    me.name = self_.name;
    me.address = self_.address;
    me.version = self_.version;
    me.state = StateLocked();
    publish_now_ = false;
  }
  me.applied = progress_ ? progress_() : 0;
  {
    std::lock_guard lock(mutex_);
    const bool state_changed = published_state_ != me.state;
    const bool progress_due = me.applied != published_applied_ && Clock::now() - published_at_ >= kRefreshEvery;
    if (!force && !state_changed && !progress_due) return;
  }
  me.updated_unix_nanos = UnixNanos();
  Status status = etcd_->Put(keys_.Member(self_.name), EncodeMember(me), lease, deadline);
  if (!status.ok()) {
    spdlog::warn("cluster {}: cannot update this node's member record: {}", config_.name, status.message());
    return;
  }
  {
    std::lock_guard lock(mutex_);
    if (lease_ != lease) return;
    published_state_ = me.state;
    published_applied_ = me.applied;
    published_at_ = Clock::now();
  }
  wake_.notify_all();
}

void EtcdCoordinator::SessionLoop() {
  Clock::time_point next_renewal = Clock::now();
  bool warned = false;
  for (;;) {
    std::int64_t lease;
    std::chrono::seconds ttl;
    {
      std::unique_lock lock(mutex_);
      if (stopping_) return;
      lease = lease_;
      ttl = ttl_;
    }
    if (lease == 0) {
      std::string why;
      if (OpenSession(Clock::now() + config_.session_ttl, &why)) {
        spdlog::info("cluster {}: etcd session restored", config_.name);
        warned = false;
        next_renewal = Clock::now();  // at once: the loop takes the new TTL from there
      } else {
        if (!warned) spdlog::error("cluster {}: cannot reach etcd ({}); this node accepts no writes", config_.name, why);
        warned = true;
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stopping_; });
      }
      continue;
    }
    if (Clock::now() >= next_renewal) {
      const bool renewed = RenewSession();
      next_renewal = Clock::now() + (renewed ? RenewalInterval(ttl) : kRetryRenewalAfter);
      continue;
    }
    // Too close to the renewal, a requested publish waits for it (rather than spinning on the request).
    const bool may_publish = next_renewal - Clock::now() >= kMinPublishTime;
    if (may_publish) PublishIfDue(false, next_renewal);
    std::unique_lock lock(mutex_);
    wake_.wait_until(lock, std::min(next_renewal, Clock::now() + std::chrono::milliseconds(250)),
                     [this, may_publish] { return stopping_ || (may_publish && publish_now_); });
  }
}

}  // namespace goethe::cluster
