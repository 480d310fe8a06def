// What every goethe-cli command gets: the server's stub, the output style and the call deadline.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>

#include "cli_output.h"
#include "start_position_flag.h"
#include "goethe/v1/goethe.grpc.pb.h"

namespace goethe::cli {

constexpr int kExitOk = 0;
constexpr int kExitServerError = 1;  // the server answered with an error, or could not be reached
constexpr int kExitUsage = 2;        // the command line is wrong

struct CliContext {
  std::string server = "127.0.0.1:50051";
  bool json = false;
  double timeout_seconds = 30;
  std::unique_ptr<v1::Goethe::Stub> stub;

  Output out() const { return Output(json); }

  // A client context for a unary call: deadline `timeout_seconds` from now.
  std::unique_ptr<grpc::ClientContext> UnaryCall() const {
    auto call = std::make_unique<grpc::ClientContext>();
    call->set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(static_cast<std::int64_t>(timeout_seconds * 1000)));
    return call;
  }
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

}  // namespace goethe::cli
