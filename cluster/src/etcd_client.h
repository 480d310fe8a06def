// EtcdClient: etcd's v3 API over gRPC, across the members of an etcd cluster.
//
// It keeps one channel per configured endpoint and sends each call to the current one; when that
// member fails (UNAVAILABLE, or no answer within the attempt's time) it moves on to the next and
// tries again until the call's deadline, logging the move once. A call that fails for any other
// reason returns at once. With `etcd.username`, it authenticates first and sends etcd's token with
// every call, authenticating again when etcd says the token is no longer valid.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "etcdserverpb/rpc.grpc.pb.h"
#include "goethe/engine/config.h"
#include "goethe/engine/status.h"
#include "v3electionpb/v3election.grpc.pb.h"

namespace goethe::cluster {

using Clock = std::chrono::steady_clock;

// A steady-clock deadline as gRPC takes it (on the system clock).
inline std::chrono::system_clock::time_point GrpcDeadline(Clock::time_point deadline) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(deadline - Clock::now());
}

class EtcdClient {
 public:
  // Builds the channels (nothing is sent yet); fails only on local problems (unreadable files).
  static Result<std::unique_ptr<EtcdClient>> Create(const EtcdConfig& config);

  // The stubs of one etcd member.
  struct Member {
    std::string address;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<etcdserverpb::KV::Stub> kv;
    std::unique_ptr<etcdserverpb::Watch::Stub> watch;
    std::unique_ptr<etcdserverpb::Lease::Stub> lease;
    std::unique_ptr<etcdserverpb::Auth::Stub> auth;
    std::unique_ptr<v3electionpb::Election::Stub> election;
  };

  // One call against one member; OK or the gRPC status it ended with.
  using Attempt = std::function<grpc::Status(Member& member, grpc::ClientContext& context)>;

  // Runs `attempt` against the current member, then the others in turn while they fail with a
  // member failure, until `deadline`. Each attempt gets at most `per_attempt` of it. `what` names
  // the call in the error: "etcd Put /goethe/c/members/n1 at 127.0.0.1:2379: ...".
  // `wait_for_ready`: an attempt waits (within its time) for a member it is not connected to,
  // instead of failing at once; for calls that open a session, so that a node sees etcd as soon
  // as it is up rather than at gRPC's next reconnection poll.
  Status Call(const std::string& what, Clock::time_point deadline, const Attempt& attempt,
              std::chrono::milliseconds per_attempt = std::chrono::milliseconds(1000), bool wait_for_ready = false);

  // The member calls go to now, and a context for a long call to it (Campaign, Watch) that the
  // caller may cancel from another thread. A long call that fails goes through Failed().
  Member& Current();
  // Adds etcd's auth token to `context`, authenticating first when there is none yet; fails when
  // authentication does (the caller retries later).
  Status PrepareLongCall(grpc::ClientContext& context);
  // `member` failed with `status`: moves to the next member when that is a member failure, and
  // forgets the auth token when etcd no longer takes it.
  void Failed(const Member& member, const grpc::Status& status);

  // The single calls Goethe makes, each through Call.
  Status Range(const std::string& prefix, Clock::time_point deadline, etcdserverpb::RangeResponse* out);
  Status Put(const std::string& key, const std::string& value, std::int64_t lease, Clock::time_point deadline);
  Status Txn(const etcdserverpb::TxnRequest& request, Clock::time_point deadline, etcdserverpb::TxnResponse* out);
  Status Grant(std::chrono::seconds ttl, Clock::time_point deadline, etcdserverpb::LeaseGrantResponse* out);
  Status Revoke(std::int64_t lease, Clock::time_point deadline);
  // One keep-alive round trip: `*ttl_seconds` is the renewed TTL, or <= 0 when the lease is gone.
  Status KeepAliveOnce(std::int64_t lease, Clock::time_point deadline, std::int64_t* ttl_seconds);
  Status Resign(const v3electionpb::LeaderKey& leader, Clock::time_point deadline);

  std::string endpoints() const;  // "a:2379,b:2379", for messages
  // The id of the etcd cluster that answered (every member of one etcd cluster gives the same);
  // 0 until a session was granted or a range read.
  std::uint64_t cluster_id() const { return cluster_id_.load(); }

  // The first key after every key that starts with `prefix`: [prefix, PrefixEnd(prefix)).
  static std::string PrefixEnd(const std::string& prefix);

 private:
  EtcdClient() = default;
  bool IsMemberFailure(const grpc::Status& status) const;
  bool IsStaleToken(const grpc::Status& status) const;
  Status Authenticate(Member& member, Clock::time_point deadline);
  bool NeedsToken() const;
  void AddToken(grpc::ClientContext& context);
  void Remember(const etcdserverpb::ResponseHeader& header);

  std::vector<std::unique_ptr<Member>> members_;
  std::atomic<std::size_t> current_{0};
  std::atomic<std::uint64_t> cluster_id_{0};
  bool tls_ = false;  // cluster.etcd.tls is set: a refused handshake looks like no connection at all
  std::string username_;
  std::string password_;
  mutable std::mutex token_mutex_;
  std::string token_;  // etcd's auth token; empty without auth
};

}  // namespace goethe::cluster
