// goethe-cli cluster status
// What the answering node knows of its cluster: the leader, the epoch, whether it reaches etcd, and
// each member's state and progress. A single node says it is not clustered.
#include "cli_context.h"

namespace goethe::cli {
namespace {

int RunStatus(CliContext& context) {
  v1::ClusterStatusResponse response;
  const grpc::Status status = context.Unary(&v1::Goethe::Stub::ClusterStatus, v1::ClusterStatusRequest(), &response);
  if (!status.ok()) return Fail(status);
  context.out().ClusterStatus(response);
  return kExitOk;
}

}  // namespace

void AddClusterCommands(CLI::App& app, Action* chosen) {
  CLI::App* cluster = app.add_subcommand("cluster", "The cluster the server belongs to");
  cluster->require_subcommand(1);
  cluster->add_subcommand("status", "Members, leader, epoch, and each member's state and progress")
      ->callback([chosen] { *chosen = RunStatus; });
}

}  // namespace goethe::cli
