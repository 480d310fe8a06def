// FollowerLink: a leader's stream to one follower, on a thread of its own. It finds where the
// follower's log agrees with the leader's (the follower's applied entry, which is committed), sends
// a copy of the store instead when the follower is too far behind or holds data from elsewhere,
// then sends every new entry and every advance of the commit index, and a heartbeat when idle.
// What the follower holds on disk (its match index) is what the leader counts for commits.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "goethe/cluster/v1/replication.grpc.pb.h"

namespace goethe::cluster {

class Replicator;

class FollowerLink {
 public:
  FollowerLink(Replicator& replicator, std::string name, std::string address, std::uint64_t epoch);
  ~FollowerLink();  // Stop()s
  FollowerLink(const FollowerLink&) = delete;
  FollowerLink& operator=(const FollowerLink&) = delete;

  void Stop();
  const std::string& address() const { return address_; }
  // The last entry the follower holds on disk, as it last said; 0 before it said.
  std::uint64_t match() const { return match_.load(std::memory_order_acquire); }
  // The follower answers on this link now: match() is what it said on the open stream.
  bool answered() const { return answered_.load(std::memory_order_acquire); }
  // The follower said, in its last answer, that it is shutting down cleanly.
  bool leaving() const { return leaving_.load(std::memory_order_acquire); }
  // The leader gave up its entries from `index` on: what the follower held there is not its log.
  void ForgetFrom(std::uint64_t index);
  // "name@store-id" of the follower's store as it last said (empty before it said).
  std::string replica() const;

 private:
  using Stream = grpc::ClientReaderWriter<v1::ReplicateRequest, v1::ReplicateResponse>;

  void Run();
  // One connection's life; returns when it breaks or the link stops, saying why.
  std::string Serve(Stream& stream);
  // Sends `request` and reads the answer; false when the stream broke or the follower refused.
  bool Exchange(Stream& stream, v1::ReplicateRequest& request, v1::ReplicateResponse* response);
  std::string failure_;  // why the last Exchange failed
  bool SendSnapshot(Stream& stream, std::uint64_t* next);
  bool NeedsSnapshot(const v1::ReplicateResponse& state) const;
  void Sleep(std::chrono::milliseconds how_long);

  Replicator& replicator_;
  const std::string name_;
  const std::string address_;
  const std::uint64_t epoch_;
  std::atomic<std::uint64_t> match_{0};
  std::atomic<bool> answered_{false};
  std::atomic<bool> leaving_{false};
  mutable std::mutex replica_mutex_;
  std::string replica_;
  std::atomic<bool> stopping_{false};
  std::mutex call_mutex_;
  grpc::ClientContext* call_ = nullptr;  // the open stream's, to cancel at Stop
  std::thread thread_;
};

}  // namespace goethe::cluster
