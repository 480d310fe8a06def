// What every goethe-cli command gets: the route to the server (the leader, when --server lists
// several), the output style, the call deadline, and Call(), which follows the leader across a
// failover.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>

#include "cli_output.h"
#include "leader_router.h"
#include "start_position_flag.h"
#include "goethe/v1/goethe.grpc.pb.h"

namespace goethe::cli {

constexpr int kExitOk = 0;
constexpr int kExitServerError = 1;  // the server answered with an error, or could not be reached
constexpr int kExitUsage = 2;        // the command line is wrong

// Whether Call() may send a call again after an UNAVAILABLE whose outcome is unknown.
enum class Resend {
  kAlways,            // reads, admin changes, a produce with an idempotency key
  kIfNothingWritten,  // a produce without one: only after a not-leader refusal or no connection
};

// One try of a unary call: `call` is fresh, with the deadline set.
using Attempt = std::function<grpc::Status(v1::Goethe::Stub& stub, grpc::ClientContext* call)>;

struct CliContext {
  std::string server = "127.0.0.1:50051";  // one address, or a cluster's nodes, comma-separated
  bool json = false;
  double timeout_seconds = 30;
  double failover_timeout_seconds = 15;
  std::unique_ptr<client::LeaderRouter> router;

  Output out() const { return Output(json); }

  // The server calls go to now (a stub the router keeps for the whole run).
  client::Route route() const { return router->Current(); }

  // A client context for a unary call: deadline `timeout_seconds` from now.
  std::unique_ptr<grpc::ClientContext> UnaryCall() const {
    auto call = std::make_unique<grpc::ClientContext>();
    call->set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(static_cast<std::int64_t>(timeout_seconds * 1000)));
    return call;
  }

  // Runs `attempt` once against the server. With several servers, an UNAVAILABLE sends it again
  // (as `resend` allows) to the leader, found from the failure's hint or anew, every ~100 ms
  // until --failover-timeout has passed; the last status is returned, printed by nobody yet.
  // `*outcome_unknown` (when given) says that a call was not sent again because it may have been
  // carried out.
  grpc::Status Call(const Attempt& attempt, Resend resend = Resend::kAlways, bool* outcome_unknown = nullptr);

  // Call() of one of the stub's unary methods: Unary(&v1::Goethe::Stub::ListTopics, request, &response).
  template <typename Request, typename Response>
  grpc::Status Unary(grpc::Status (v1::Goethe::Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                     const Request& request, Response* response, Resend resend = Resend::kAlways,
                     bool* outcome_unknown = nullptr) {
    return Call(
        [&](v1::Goethe::Stub& stub, grpc::ClientContext* call) { return (stub.*method)(call, request, response); },
        resend, outcome_unknown);
  }

  // After a stream on `failed` ended with `status` (`call` its context): when a reconnect is due
  // (several servers, UNAVAILABLE, failover time left before `*deadline`, which the first failure
  // sets), waits ~100 ms, follows the leader and returns true.
  bool FollowLeader(const client::Route& failed, const grpc::ClientContext& call, const grpc::Status& status,
                    std::optional<std::chrono::steady_clock::time_point>* deadline);
};

// Prints `status` as "error: CODE: message" and returns the exit code for it.
inline int Fail(const grpc::Status& status) {
  PrintError(status);
  return kExitServerError;
}

// Prints a usage problem found after parsing (e.g. a bad --from) and returns kExitUsage.
inline int FailUsage(const std::string& message) {
  PrintError(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message));
  return kExitUsage;
}

// A chosen command: runs against the connected context and returns the exit code.
using Action = std::function<int(CliContext&)>;

// `text` (e.g. 30s, 5m, 7d) as a positive duration into `out`; false with `error` naming `flag`
// when it is not one (topics create and groups create share it).
bool SetDuration(const std::string& flag, const std::string& text, google::protobuf::Duration* out, std::string* error);

// Adds --from, --fallback and --reset-policy to `command` (consume and seek share them).
void AddStartFlags(CLI::App* command, StartFlags* start);

// Each adds its subcommands to `app`; the one the user picked stores its action in `*chosen`.
void AddProduceCommand(CLI::App& app, Action* chosen);
void AddConsumeCommand(CLI::App& app, Action* chosen);
void AddSeekCommand(CLI::App& app, Action* chosen);
void AddTopicsCommands(CLI::App& app, Action* chosen);
void AddCursorsCommands(CLI::App& app, Action* chosen);
void AddGroupsCommands(CLI::App& app, Action* chosen);
void AddClusterCommands(CLI::App& app, Action* chosen);

}  // namespace goethe::cli
