#include "replication_service.h"

#include <spdlog/spdlog.h>

#include "goethe/cluster/replicator.h"
#include "goethe/engine/kv_status.h"
#include "goethe/engine/replication.h"
#include "replication_log.h"
#include "replication_wire.h"

namespace goethe::cluster {

void ReplicationService::Close() {
  std::lock_guard lock(calls_mutex_);
  closed_ = true;
  for (grpc::ServerContext* call : calls_) call->TryCancel();
}

grpc::Status ReplicationService::Replicate(
    grpc::ServerContext* call, grpc::ServerReaderWriter<v1::ReplicateResponse, v1::ReplicateRequest>* stream) {
  {
    std::lock_guard lock(calls_mutex_);
    if (closed_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
    calls_.insert(call);
  }
  struct Forget {
    ReplicationService* service;
    grpc::ServerContext* call;
    ~Forget() {
      std::lock_guard lock(service->calls_mutex_);
      service->calls_.erase(call);
    }
  } forget{this, call};
  v1::ReplicateRequest request;
  std::uint64_t verified = replicator_.log_->applied().index;
  while (stream->Read(&request)) {
    std::uint64_t apply_to = 0;
    const v1::ReplicateResponse response = Handle(request, &apply_to, &verified);
    if (!stream->Write(response)) break;
    // Applied after answering: the leader counts what is held on disk, not what is applied.
    if (apply_to != 0) {
      if (Status applied = replicator_.ApplyUpTo(apply_to); !applied.ok())
        spdlog::error("replication: applying committed entries up to {}: {}", apply_to, applied.message());
    }
  }
  return grpc::Status::OK;
}

v1::ReplicateResponse ReplicationService::Handle(const v1::ReplicateRequest& request, std::uint64_t* apply_to,
                                                 std::uint64_t* verified) {
  std::lock_guard lock(mutex_);
  ReplicationLog& log = *replicator_.log_;
  v1::ReplicateResponse response;
  auto answer = [&](const std::string& refusal) {
    ToProto(log.last(), response.mutable_last());
    ToProto(log.applied(), response.mutable_applied());
    response.set_refused(refusal);
    response.set_store_id(log.store_id());
    return response;
  };
  // Before anything else, epochs included: another cluster's epochs say nothing about this one's.
  const std::uint64_t ours = replicator_.coordinator_.CoordinationId();
  if (request.etcd_cluster_id() != 0 && ours != 0 && request.etcd_cluster_id() != ours) {
    return answer(request.leader() + " leads in another etcd cluster (id " + std::to_string(request.etcd_cluster_id()) +
                  "; this node's is " + std::to_string(ours) + "): this address is no member of its cluster");
  }
  // Its successor's first call can come before the node has closed this service: answering it
  // would put the node back in the in-sync set, and the next write would wait for it.
  if (replicator_.leaving_.load()) {
    v1::ReplicateResponse leaving = answer("this node is shutting down");
    leaving.set_leaving(true);  // the leader drops it from the in-sync set now, not after max_lag
    return leaving;
  }
  const std::uint64_t known = replicator_.coordinator_.View().epoch;
  if (replicator_.coordinator_.IsLeader()) return answer("this node leads epoch " + std::to_string(known));
  if (request.epoch() < highest_epoch_ || request.epoch() < known) {
    return answer("epoch " + std::to_string(request.epoch()) + " is over: this node has seen epoch " +
                  std::to_string(std::max(highest_epoch_, known)));
  }
  if (request.epoch() > highest_epoch_) {
    highest_epoch_ = request.epoch();
    spdlog::info("replication: following {} in epoch {}", request.leader(), request.epoch());
  }
  if (request.has_snapshot()) {
    if (std::string failed = Install(request.snapshot()); !failed.empty()) return answer(failed);
    if (request.snapshot().last()) *verified = request.snapshot().at().index();
    return answer("");
  }
  if (request.entries_size() > 0) {
    std::vector<LogEntry> entries;
    entries.reserve(static_cast<std::size_t>(request.entries_size()));
    for (const v1::LogEntry& entry : request.entries()) entries.push_back(FromProto(entry));
    if (Status held = log.Append(request.prev_index(), entries, replicator_.options_.sync); !held.ok())
      return answer(held.message());
    *verified = entries.back().id.index;  // everything up to here is the leader's now
  }
  *verified = std::max(*verified, log.applied().index);
  // Entries held from before this stream (an old leader's, never committed) are not applied on
  // the strength of this leader's commit index: only those it sent.
  const std::uint64_t commit = std::min(request.commit_index(), *verified);
  if (commit > log.applied().index) *apply_to = commit;
  return answer("");
}

std::string ReplicationService::Install(const v1::SnapshotChunk& chunk) {
  kv::Store& store = *replicator_.store_;
  if (chunk.first()) {
    spdlog::warn("replication: replacing this store with a copy of the leader's at {}",
                 ToString(FromProto(chunk.at())));
    if (replicator_.close_streams_) replicator_.close_streams_();
    // Everything goes, the replication log and marker too: the copy is the whole truth.
    auto it = store.NewIterator({});
    kv::WriteBatch batch;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      batch.Delete(it->key());
      if (batch.ops().size() >= 10000) {
        if (!store.Write({}, batch).ok()) return "cannot empty the store";
        batch.Clear();
      }
    }
    if (!it->status().ok()) return "cannot read the store: " + it->status().message();
    it.reset();
    if (!batch.ops().empty() && !store.Write({}, batch).ok()) return "cannot empty the store";
  }
  kv::WriteBatch batch;
  for (int i = 0; i < chunk.keys_size() && i < chunk.values_size(); ++i) batch.Put(chunk.keys(i), chunk.values(i));
  const EntryId at = FromProto(chunk.at());
  if (chunk.last()) {
    ReplicationLog::MarkApplied(&batch, at);
    batch.Put(replication_keys::StoreId(), replicator_.log_->store_id());  // still this store
  }
  if (kv::Status w = store.Write({.sync = chunk.last() && replicator_.options_.sync}, batch); !w.ok())
    return "cannot write the copy: " + w.message();
  if (chunk.last()) {
    replicator_.log_->Reset(at);
    if (Status reloaded = replicator_.events_->Reload(); !reloaded.ok()) return "reloading: " + reloaded.message();
    spdlog::info("replication: this store is a copy of the leader's at {}", ToString(at));
  }
  return "";
}

}  // namespace goethe::cluster
