#include "follower_link.h"

#include <spdlog/spdlog.h>

#include "goethe/cluster/replicator.h"
#include "goethe/engine/replication.h"
#include "replication_log.h"
#include "replication_wire.h"

namespace goethe::cluster {
namespace {

constexpr std::chrono::milliseconds kHeartbeat{200};
constexpr std::size_t kMaxMessageBytes = 4 << 20;  // entries or snapshot pairs per message

}  // namespace

FollowerLink::FollowerLink(Replicator& replicator, std::string name, std::string address, std::uint64_t epoch)
    : replicator_(replicator), name_(std::move(name)), address_(std::move(address)), epoch_(epoch),
      thread_([this] { Run(); }) {}

FollowerLink::~FollowerLink() { Stop(); }

void FollowerLink::ForgetFrom(std::uint64_t index) {
  std::uint64_t match = match_.load();
  while (match >= index && !match_.compare_exchange_weak(match, index - 1)) {
  }
}

std::string FollowerLink::replica() const {
  std::lock_guard lock(replica_mutex_);
  return replica_;
}

void FollowerLink::Stop() {
  stopping_.store(true);
  {
    std::lock_guard lock(call_mutex_);
    if (call_ != nullptr) call_->TryCancel();
  }
  replicator_.Wake();
  if (thread_.joinable()) thread_.join();
}

void FollowerLink::Sleep(std::chrono::milliseconds how_long) {
  std::unique_lock lock(replicator_.mutex_);
  replicator_.changed_.wait_for(lock, how_long, [this] { return stopping_.load(); });
}

void FollowerLink::Run() {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(-1);
  arguments.SetMaxSendMessageSize(-1);
  // A follower that restarts is found again within a fraction of a second: a new leader waits for
  // the in-sync members before it takes writes.
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  auto channel = grpc::CreateCustomChannel(address_, grpc::InsecureChannelCredentials(), arguments);
  auto stub = v1::Replication::NewStub(channel);
  bool warned = false;
  std::string last_why;
  while (!stopping_.load()) {
    grpc::ClientContext call;
    call.set_wait_for_ready(true);  // a follower not up yet is waited for, not failed at once
    {
      std::lock_guard lock(call_mutex_);
      if (stopping_.load()) return;
      call_ = &call;
    }
    auto stream = stub->Replicate(&call);
    std::string why = Serve(*stream);
    answered_.store(false, std::memory_order_release);  // a broken link speaks for nobody
    call.TryCancel();
    const grpc::Status ended = stream->Finish();
    {
      std::lock_guard lock(call_mutex_);
      call_ = nullptr;
    }
    if (stopping_.load()) return;
    if (why.empty()) why = ended.error_message();
    if (!warned || why != last_why) spdlog::warn("replication: link to {} at {}: {}; retrying", name_, address_, why);
    warned = true;
    last_why = why;
    Sleep(std::chrono::milliseconds(100));
  }
}

bool FollowerLink::Exchange(Stream& stream, v1::ReplicateRequest& request, v1::ReplicateResponse* response) {
  request.set_epoch(epoch_);
  request.set_leader(replicator_.options_.self);
  request.set_etcd_cluster_id(replicator_.coordinator_.CoordinationId());
  request.set_commit_index(replicator_.commit_index());
  if (!stream.Write(request) || !stream.Read(response)) {
    failure_ = "";  // the stream's status says why
    return false;
  }
  if (response->leaving() != leaving_.load()) {
    leaving_.store(response->leaving(), std::memory_order_release);
    if (response->leaving()) replicator_.FollowerLeaving();
  }
  if (!response->refused().empty()) {
    failure_ = "refused: " + response->refused();
    return false;
  }
  {
    std::lock_guard lock(replica_mutex_);
    replica_ = name_ + "@" + response->store_id();
  }
  // What it holds counts only where it is this leader's log: its last entry when that is the very
  // entry the leader has at that index, else its applied one (committed, so the leader's too). An
  // entry left from an old epoch or a given-up generation counts for nothing.
  const EntryId last = FromProto(response->last());
  auto mine = replicator_.log_->IdAt(last.index);
  const bool agrees = mine.ok() && mine->has_value() && **mine == last;
  match_.store(agrees ? last.index : response->applied().index(), std::memory_order_release);
  answered_.store(true, std::memory_order_release);
  replicator_.Wake();
  return true;
}

bool FollowerLink::NeedsSnapshot(const v1::ReplicateResponse& state) const {
  const ReplicationLog& log = *replicator_.log_;
  const std::uint64_t applied = state.applied().index();
  if (applied > log.last().index) return true;  // it applied what this leader never had
  // The log must still hold what follows its applied entry, and agree on that entry.
  if (log.first_index() != 0 && applied + 1 < log.first_index()) return true;
  if (log.first_index() == 0 && applied < log.applied().index) return true;
  // Agreeing on the applied entry means holding the same state (an entry id is never reused; a
  // store with data from before replication has a base id of its own, ReplicationLog::Load).
  auto id = log.IdAt(applied);
  if (!id.ok() || !id->has_value()) return true;
  return !(**id == FromProto(state.applied()));
}

std::string FollowerLink::Serve(Stream& stream) {
  v1::ReplicateRequest hello;
  v1::ReplicateResponse state;
  if (!Exchange(stream, hello, &state)) return failure_;
  std::uint64_t next = state.applied().index() + 1;
  if (NeedsSnapshot(state)) {
    spdlog::info("replication: {} is at {}; sending it a copy of the store", name_, ToString(FromProto(state.applied())));
    if (!SendSnapshot(stream, &next)) return "sending a copy of the store failed: " + failure_;
  }
  spdlog::info("replication: following {} from entry {}", name_, next);
  std::uint64_t sent_commit = 0;
  auto last_sent = std::chrono::steady_clock::now();
  while (!stopping_.load()) {
    const std::uint64_t last = replicator_.log_->last().index;
    const std::uint64_t commit = replicator_.commit_index();
    v1::ReplicateRequest request;
    v1::ReplicateResponse response;
    if (next <= last) {
      request.set_prev_index(next - 1);
      std::size_t bytes = 0;
      for (std::uint64_t index = next; index <= last && bytes < kMaxMessageBytes; ++index) {
        auto entry = replicator_.log_->Read(index);
        if (!entry.ok() || !entry->has_value()) return "entry " + std::to_string(index) + " is gone; starting over";
        bytes += (*entry)->ops.size();
        ToProto(**entry, request.add_entries());
      }
      if (!Exchange(stream, request, &response)) return failure_;
      next = response.last().index() + 1;
    } else if (commit > sent_commit || std::chrono::steady_clock::now() - last_sent >= kHeartbeat) {
      request.set_prev_index(next - 1);
      if (!Exchange(stream, request, &response)) return failure_;
      if (response.last().index() + 1 < next) return "it holds less than it said; starting over";
    } else {
      std::unique_lock lock(replicator_.mutex_);
      replicator_.changed_.wait_for(lock, kHeartbeat, [&] {
        return stopping_.load() || replicator_.log_->last().index >= next || replicator_.commit_index_ > sent_commit;
      });
      continue;
    }
    sent_commit = commit;
    last_sent = std::chrono::steady_clock::now();
  }
  return "";
}

bool FollowerLink::SendSnapshot(Stream& stream, std::uint64_t* next) {
  kv::Store& store = *replicator_.store_;
  std::unique_ptr<kv::Snapshot> snapshot = store.GetSnapshot();
  EntryId at;
  {
    std::string value;
    kv::Status got = store.Get({.snapshot = snapshot.get()}, replication_keys::Marker(), &value);
    if (got.ok() && !DecodeMarker(value, &at)) return false;
  }
  auto it = store.NewIterator({.snapshot = snapshot.get()});
  it->SeekToFirst();
  bool first = true;
  std::uint64_t pairs = 0;
  for (;;) {
    v1::ReplicateRequest request;
    v1::SnapshotChunk* chunk = request.mutable_snapshot();
    ToProto(at, chunk->mutable_at());
    chunk->set_first(first);
    std::size_t bytes = 0;
    for (; it->Valid() && bytes < kMaxMessageBytes; it->Next()) {
      if (replication_keys::IsReplicationKey(it->key())) continue;
      chunk->add_keys(std::string(it->key()));
      chunk->add_values(std::string(it->value()));
      bytes += it->key().size() + it->value().size();
      ++pairs;
    }
    if (!it->status().ok()) return false;
    chunk->set_last(!it->Valid());
    v1::ReplicateResponse response;
    if (!Exchange(stream, request, &response)) return false;
    first = false;
    if (chunk->last()) break;
  }
  spdlog::info("replication: {} holds a copy of the store at {} ({} keys)", name_, ToString(at), pairs);
  *next = at.index + 1;
  return true;
}

}  // namespace goethe::cluster
