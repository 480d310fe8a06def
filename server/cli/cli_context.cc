// CliContext's calls across a failover (cli_context.h).
#include "cli_context.h"

#include <algorithm>
#include <thread>

namespace goethe::cli {

grpc::Status CliContext::Call(const Attempt& attempt, Resend resend, bool* outcome_unknown) {
  std::optional<std::chrono::steady_clock::time_point> deadline;
  for (;;) {
    const client::Route route = router->Current();
    const std::unique_ptr<grpc::ClientContext> call = UnaryCall();
    const grpc::Status status = attempt(*route.stub, call.get());
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE || !router->routing()) return status;
    if (resend == Resend::kIfNothingWritten && !client::NothingWritten(status, *call)) {
      if (outcome_unknown != nullptr) *outcome_unknown = true;
      return status;
    }
    if (!FollowLeader(route, *call, status, &deadline)) return status;
  }
}

bool CliContext::FollowLeader(const client::Route& failed, const grpc::ClientContext& call, const grpc::Status& status,
                              std::optional<std::chrono::steady_clock::time_point>* deadline) {
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE || !router->routing()) return false;
  const auto now = std::chrono::steady_clock::now();
  if (!*deadline) {
    *deadline = now + std::chrono::milliseconds(static_cast<std::int64_t>(failover_timeout_seconds * 1000));
  }
  if (now >= **deadline) return false;
  std::this_thread::sleep_for(
      std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(100), **deadline - now));
  router->Follow(failed, client::LeaderHint(call));
  return true;
}

}  // namespace goethe::cli
