// LeaderClient: a test's own client for a Goethe cluster that finds and follows the leader, written
// from docs/api.md ("Clients in a cluster") rather than borrowed from goethe-cli's router, so that a
// test of the cluster does not take the product's routing on trust.
//
//   - FindLeader() asks ClusterStatus of every node and routes to the one that names itself leader
//     (the highest epoch when, for a moment, two do); Follow() goes to a refusal's `goethe-leader`
//     hint, or looks again.
//   - ClassifyFailure() sorts a failed write into: nothing was written (a not-leader refusal, a
//     refusal that says "nothing was written", no connection made) — safe to send again; unknown
//     outcome (UNAVAILABLE of a write under way, a deadline, a cancelled call) — send again only
//     with an idempotency key; and definite failures (any other code).
//   - WriteToLeader() sends one unary write by those rules until it is acknowledged, refused for
//     good, or its deadline passes.
//
// One LeaderClient per thread: it is not thread-safe. Channels reconnect within half a second (a
// node killed and started again is reached as soon as it listens).
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "goethe/v1/goethe.grpc.pb.h"

namespace goethe::testing {

// The `goethe-leader` trailing metadata of a finished call; empty when absent.
inline std::string LeaderHintOf(const grpc::ClientContext& call) {
  const auto& trailing = call.GetServerTrailingMetadata();
  const auto found = trailing.find("goethe-leader");
  return found == trailing.end() ? std::string() : std::string(found->second.data(), found->second.size());
}

enum class WriteOutcome {
  kAcknowledged,
  kNothingWritten,  // certainly not written: may be sent again as it is
  kUnknown,         // may or may not be kept: only an idempotency key makes sending it again safe
  kFailed,          // a definite refusal (INVALID_ARGUMENT, NOT_FOUND, ...): nothing was written
};

inline const char* OutcomeName(WriteOutcome outcome) {
  switch (outcome) {
    case WriteOutcome::kAcknowledged: return "acknowledged";
    case WriteOutcome::kNothingWritten: return "nothing written";
    case WriteOutcome::kUnknown: return "unknown";
    case WriteOutcome::kFailed: return "failed";
  }
  return "?";
}

// True for a refusal message that names "not the leader" and yet says the write may have been kept
// (the replicator's "not the leader any more (...): the write may or may not be kept by the next
// leader"): a client that matches "not the leader" alone would send such a write again.
inline bool AmbiguousNotLeaderMessage(const std::string& message) {
  return message.find("not the leader") != std::string::npos &&
         message.find("may or may not") != std::string::npos &&
         message.find("nothing was written") == std::string::npos;
}

// How a failed write ended; `hint` is the refusal's `goethe-leader` metadata (empty for refusals
// inside a ProduceStream acknowledgement, which carry none).
inline WriteOutcome ClassifyFailure(const grpc::Status& status, const std::string& hint) {
  if (status.ok()) return WriteOutcome::kAcknowledged;
  const std::string& message = status.error_message();
  auto says = [&message](const char* words) { return message.find(words) != std::string::npos; };
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      // A leader refusing before its entry existed (taking over, too few in sync) says so.
      if (says("nothing was written")) return WriteOutcome::kNothingWritten;
      // A leader that lost its leadership with the write under way: the next leader may keep it.
      if (says("may or may not") || says("was not acknowledged")) return WriteOutcome::kUnknown;
      // The leader gate of a follower (or of a leader whose session is in doubt).
      if (!hint.empty() || says("not the leader:")) return WriteOutcome::kNothingWritten;
      // gRPC could not connect: the request never left (gRPC 1.51's words).
      if (says("failed to connect to all addresses")) return WriteOutcome::kNothingWritten;
      return WriteOutcome::kUnknown;  // the connection broke with the call out, "shutting down", ...
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::INTERNAL:
      return WriteOutcome::kUnknown;
    default:
      return WriteOutcome::kFailed;
  }
}

inline std::string StatusText(const grpc::Status& status) {
  return std::to_string(static_cast<int>(status.error_code())) + " " + status.error_message();
}

class LeaderClient {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LeaderClient(std::vector<std::string> addresses,
                        std::chrono::milliseconds probe_timeout = std::chrono::milliseconds(400))
      : addresses_(std::move(addresses)), probe_timeout_(probe_timeout) {
    address_ = addresses_.front();
  }

  const std::vector<std::string>& addresses() const { return addresses_; }
  // Where calls go now (the leader as last found).
  const std::string& address() const { return address_; }
  v1::Goethe::Stub& stub() { return StubAt(address_); }
  bool found() const { return found_; }
  // How many times the route moved.
  std::uint64_t moves() const { return moves_; }

  v1::Goethe::Stub& StubAt(const std::string& address) {
    std::unique_ptr<v1::Goethe::Stub>& stub = stubs_[address];
    if (!stub) {
      grpc::ChannelArguments arguments;
      arguments.SetMaxReceiveMessageSize(-1);
      arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
      arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
      arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
      stub = v1::Goethe::NewStub(grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), arguments));
    }
    return *stub;
  }

  // node's ClusterStatus within the probe timeout.
  std::optional<v1::ClusterStatusResponse> StatusOf(const std::string& address) {
    grpc::ClientContext call;
    call.set_deadline(std::chrono::system_clock::now() + probe_timeout_);
    v1::ClusterStatusResponse response;
    if (!StubAt(address).ClusterStatus(&call, v1::ClusterStatusRequest(), &response).ok()) return std::nullopt;
    return response;
  }

  // Asks every node; routes to the node that names itself leader and reaches etcd (the highest
  // epoch among several). False, the route unchanged, when none does.
  bool FindLeader() {
    std::string best;
    std::uint64_t best_epoch = 0;
    for (const std::string& address : addresses_) {
      std::optional<v1::ClusterStatusResponse> status = StatusOf(address);
      if (!status || !status->coordinator_reachable() || status->leader().empty()) continue;
      if (status->leader() != status->node()) continue;
      if (best.empty() || status->epoch() > best_epoch) {
        best = address;
        best_epoch = status->epoch();
      }
    }
    if (best.empty()) return false;
    RouteTo(best);
    found_ = true;
    return true;
  }

  // After a refusal or failure on the route: to the hint when it names another node, else look.
  void Follow(const std::string& hint) {
    if (!hint.empty() && hint != address_) {
      RouteTo(hint);
      return;
    }
    found_ = false;
    FindLeader();
  }

  // Finds a leader unless one was found and not failed since; retries every 100 ms until
  // `deadline` or `stop`. Whether a leader is routed to.
  bool EnsureLeader(Clock::time_point deadline, const std::atomic<bool>* stop = nullptr) {
    while (!found_) {
      if (FindLeader()) return true;
      if (Clock::now() >= deadline || (stop != nullptr && stop->load())) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return true;
  }
  void Lost() { found_ = false; }

  struct WriteResult {
    WriteOutcome outcome = WriteOutcome::kNothingWritten;
    grpc::Status status;         // the last attempt's
    int attempts = 0;
    bool maybe_written = false;  // some attempt ended with an unknown outcome
    std::string address;         // where the last attempt went
    std::vector<std::string> ambiguous;  // messages that said "not the leader" and "may or may not"
  };

  // Sends a unary write (`invoke(stub, call)`) to the leader until it is acknowledged. A refusal
  // that wrote nothing is sent again after following the leader; an unknown outcome only when
  // `idempotent` (the request carries an idempotency key). Ends at `deadline` (or `stop`, after
  // the attempt under way) with the last outcome: kUnknown when any attempt may have written.
  WriteResult Write(const std::function<grpc::Status(v1::Goethe::Stub&, grpc::ClientContext*)>& invoke,
                    bool idempotent, Clock::time_point deadline, const std::atomic<bool>* stop = nullptr,
                    std::chrono::milliseconds call_timeout = std::chrono::seconds(3)) {
    WriteResult result;
    for (;;) {
      const bool give_up = Clock::now() >= deadline || (stop != nullptr && stop->load());
      if (give_up) {
        result.outcome = result.maybe_written ? WriteOutcome::kUnknown : result.outcome;
        return result;
      }
      if (!EnsureLeader(deadline, stop)) continue;
      grpc::ClientContext call;
      call.set_deadline(std::chrono::system_clock::now() + call_timeout);
      ++result.attempts;
      result.address = address_;
      result.status = invoke(stub(), &call);
      const std::string hint = result.status.ok() ? std::string() : LeaderHintOf(call);
      const WriteOutcome outcome = ClassifyFailure(result.status, hint);
      if (AmbiguousNotLeaderMessage(result.status.error_message())) result.ambiguous.push_back(result.status.error_message());
      result.outcome = outcome;
      switch (outcome) {
        case WriteOutcome::kAcknowledged:
        case WriteOutcome::kFailed:
          if (outcome == WriteOutcome::kFailed && result.maybe_written) result.outcome = WriteOutcome::kUnknown;
          return result;
        case WriteOutcome::kNothingWritten:
          break;
        case WriteOutcome::kUnknown:
          result.maybe_written = true;
          if (!idempotent) return result;
          break;
      }
      Follow(hint);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

 private:
  void RouteTo(const std::string& address) {
    if (address != address_) ++moves_;
    address_ = address;
    found_ = true;
  }

  const std::vector<std::string> addresses_;
  const std::chrono::milliseconds probe_timeout_;
  std::map<std::string, std::unique_ptr<v1::Goethe::Stub>> stubs_;
  std::string address_;
  bool found_ = false;
  std::uint64_t moves_ = 0;
};

}  // namespace goethe::testing
