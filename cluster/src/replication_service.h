// ReplicationService: the follower's side of replication. The leader of the current epoch streams
// entries (held on disk before they are acknowledged), commit indexes (the entries up to there are
// applied to the store and the engine) and, when needed, a copy of its store (which replaces this
// one's). A message from an older epoch than one this node has seen, or sent while this node leads,
// is refused: a deposed leader cannot get an acknowledgement from here.
#pragma once

#include <cstdint>
#include <mutex>
#include <set>

#include <grpcpp/grpcpp.h>

#include "goethe/cluster/v1/replication.grpc.pb.h"

namespace goethe::cluster {

class Replicator;

class ReplicationService final : public v1::Replication::Service {
 public:
  explicit ReplicationService(Replicator& replicator) : replicator_(replicator) {}

  grpc::Status Replicate(grpc::ServerContext* call,
                         grpc::ServerReaderWriter<v1::ReplicateResponse, v1::ReplicateRequest>* stream) override;
  // Ends every open stream and refuses new ones (shutdown).
  void Close();

 private:
  // Handles one message; what to answer. `apply_to` is set to the commit index to apply up to
  // after answering (0: nothing). `*verified` is the last entry this stream's leader has sent (or
  // the applied one): only up to there does this node's log agree with the leader's for certain,
  // so only up to there may a commit index apply what it holds.
  v1::ReplicateResponse Handle(const v1::ReplicateRequest& request, std::uint64_t* apply_to, std::uint64_t* verified);
  // A piece of a copy of the leader's store; the first one empties this store.
  std::string Install(const v1::SnapshotChunk& chunk);

  Replicator& replicator_;
  std::mutex mutex_;  // one message at a time, whatever the stream
  std::uint64_t highest_epoch_ = 0;
  std::mutex calls_mutex_;
  std::set<grpc::ServerContext*> calls_;
  bool closed_ = false;
};

}  // namespace goethe::cluster
