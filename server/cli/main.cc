// goethe-cli: the command-line client of goethe-server.
//   goethe-cli [--server ADDR[,ADDR...]] [--json] [--token T | --token-file F] [--ca-file CA] COMMAND ...
// Errors print "error: CODE: message" on stderr; the exit code is 1 for an error from the server
// (or no server), 2 for a wrong command line. With several servers (a cluster's nodes) it finds the
// leader before the command and follows it across a failover (cli_context.h).
#include <cstdio>

#include "cli_context.h"
#include "client_channel.h"

int main(int argc, char** argv) {
  using namespace goethe::cli;
  CliContext context;
  goethe::client::SecurityFlags security;
  Action chosen;

  CLI::App app{"goethe-cli: produce, consume and manage topics and cursors on a goethe-server"};
  app.require_subcommand(1);
  app.fallthrough();  // global flags after the subcommand too: `consume orders --json`
  app.add_option("-s,--server", context.server,
                 "Server address host:port, or a cluster's nodes as a comma-separated list (the CLI finds the "
                 "leader and follows it across a failover)")
      ->capture_default_str()
      ->envname("GOETHE_SERVER");
  app.add_flag("--json", context.json, "Print one JSON object per line, for scripts");
  app.add_option("--timeout", context.timeout_seconds, "Seconds to wait for each request (not for consume)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--failover-timeout", context.failover_timeout_seconds,
                 "With several servers: seconds to keep looking for a leader after a call finds none")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  goethe::client::AddSecurityFlags(app, &security);
  AddProduceCommand(app, &chosen);
  AddConsumeCommand(app, &chosen);
  AddSeekCommand(app, &chosen);
  AddTopicsCommands(app, &chosen);
  AddCursorsCommands(app, &chosen);
  AddGroupsCommands(app, &chosen);
  AddClusterCommands(app, &chosen);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (!chosen) {
    std::fprintf(stderr, "%s", app.help().c_str());
    return kExitUsage;
  }

  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(-1);  // a batch may hold events up to the server's size limit
  std::vector<std::string> servers = goethe::client::SplitServers(context.server);
  if (servers.empty()) return FailUsage("--server: no address given");
  std::string error;
  if (!goethe::client::Connect(servers.front(), security, arguments, &error)) return FailUsage(error);
  context.router = std::make_unique<goethe::client::LeaderRouter>(
      std::move(servers), [&security, &arguments](const std::string& address) {
        std::string ignored;  // the same flags as the check above: no error
        return goethe::client::Connect(address, security, arguments, &ignored);
      });
  // Several servers: to the leader before the command (when none answers, the command's own call
  // fails over like any other).
  context.router->FindLeader();
  const int code = chosen(context);
  std::fflush(stdout);
  return code;
}
