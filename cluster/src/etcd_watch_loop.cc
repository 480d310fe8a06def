// The watch thread: a mirror of the cluster's keys in etcd, and the ClusterView made from it.
//
// It lists /goethe/<cluster>/ and then watches it from the next revision, so that no change falls
// between the two. When the watch ends (the etcd member failed, or the history it needs was
// compacted) it lists and watches again, on the next member if this one failed.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "etcd_coordinator.h"
#include "member_record.h"

namespace goethe::cluster {

bool EtcdCoordinator::LoadSnapshot(std::int64_t* revision) {
  etcdserverpb::RangeResponse snapshot;
  if (Status s = etcd_->Range(keys_.root, Clock::now() + std::chrono::seconds(2), &snapshot); !s.ok()) return false;
  std::lock_guard lock(mutex_);
  entries_.clear();
  for (const mvccpb::KeyValue& kv : snapshot.kvs()) entries_[kv.key()] = Entry{kv.value(), kv.create_revision(), kv.mod_revision()};
  mirrored_revision_ = snapshot.header().revision();
  RebuildViewLocked();
  *revision = snapshot.header().revision();
  return true;
}

void EtcdCoordinator::RebuildViewLocked() {
  view_.members.clear();
  view_.leader.clear();
  view_.leader_address.clear();
  view_.epoch = 0;
  view_.in_sync_known = false;
  view_.in_sync.clear();
  view_.in_sync_epoch = 0;
  if (auto it = entries_.find(keys_.in_sync); it != entries_.end()) {
    if (std::optional<InSyncInfo> in_sync = DecodeInSync(it->second.value)) {
      view_.in_sync_known = true;
      view_.in_sync = in_sync->members;
      view_.in_sync_epoch = in_sync->epoch;
    }
  }
  std::int64_t lowest = 0;
  for (const auto& [key, entry] : entries_) {
    if (key.starts_with(keys_.members)) {
      if (std::optional<MemberInfo> member = DecodeMember(entry.value)) view_.members.push_back(*member);
    } else if (key.starts_with(keys_.election_prefix)) {
      if (lowest != 0 && entry.create_revision >= lowest) continue;
      std::optional<LeaderInfo> leader = DecodeLeader(entry.value);
      if (!leader) continue;
      lowest = entry.create_revision;
      view_.leader = leader->name;
      view_.leader_address = leader->address;
      view_.epoch = static_cast<std::uint64_t>(entry.create_revision);
    }
  }
  if (published_state_ && *published_state_ != StateLocked()) RequestPublishLocked();
  wake_.notify_all();  // the campaign thread waits for the in-sync set to include this node
}

void EtcdCoordinator::WatchLoop() {
  std::string last_leader = "?";
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    std::int64_t revision = 0;
    if (!LoadSnapshot(&revision)) {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stopping_; });
      continue;
    }
    Notify();
    grpc::ClientContext call;
    if (Status s = etcd_->PrepareLongCall(call); !s.ok()) {
      spdlog::warn("cluster {}: {}", config_.name, s.message());
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(500), [this] { return stopping_; });
      continue;
    }
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      watch_call_ = &call;
    }
    EtcdClient::Member& member = etcd_->Current();
    auto stream = member.watch->Watch(&call);
    etcdserverpb::WatchRequest request;
    etcdserverpb::WatchCreateRequest* create = request.mutable_create_request();
    create->set_key(keys_.root);
    create->set_range_end(EtcdClient::PrefixEnd(keys_.root));
    create->set_start_revision(revision + 1);
    create->set_progress_notify(true);
    etcdserverpb::WatchResponse response;
    if (stream->Write(request)) {
      while (stream->Read(&response)) {
        if (response.canceled()) break;  // compacted, or refused: list again
        if (response.events_size() == 0) {
          if (response.created()) continue;  // its revision is etcd's now, not what was delivered
          // A progress notification: every change up to its revision has been delivered.
          std::lock_guard lock(mutex_);
          mirrored_revision_ = std::max(mirrored_revision_, response.header().revision());
          wake_.notify_all();
          continue;
        }
        {
          std::lock_guard lock(mutex_);
          for (const mvccpb::Event& event : response.events()) {
            if (event.type() == mvccpb::Event::DELETE)
              entries_.erase(event.kv().key());
            else
              entries_[event.kv().key()] =
                  Entry{event.kv().value(), event.kv().create_revision(), event.kv().mod_revision()};
            mirrored_revision_ = std::max(mirrored_revision_, event.kv().mod_revision());
          }
          RebuildViewLocked();
          if (view_.leader != last_leader) {
            spdlog::info("cluster {}: leader is now {} (epoch {})", config_.name,
                         view_.leader.empty() ? "none" : view_.leader, view_.epoch);
            last_leader = view_.leader;
          }
        }
        Notify();
      }
    }
    call.TryCancel();
    const grpc::Status status = stream->Finish();
    {
      std::lock_guard lock(mutex_);
      watch_call_ = nullptr;
      if (stopping_) return;
    }
    etcd_->Failed(member, status);
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stopping_; });
  }
}

}  // namespace goethe::cluster
