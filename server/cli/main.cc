// goethe-cli: the command-line client of goethe-server.
//   goethe-cli [--server ADDR] [--json] [--token T | --token-file F] [--ca-file CA] COMMAND ...
// Errors print "error: CODE: message" on stderr; the exit code is 1 for an error from the server
// (or no server), 2 for a wrong command line.
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
  app.add_option("-s,--server", context.server, "Server address host:port")
      ->capture_default_str()
      ->envname("GOETHE_SERVER");
  app.add_flag("--json", context.json, "Print one JSON object per line, for scripts");
  app.add_option("--timeout", context.timeout_seconds, "Seconds to wait for each request (not for consume)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  goethe::client::AddSecurityFlags(app, &security);
  AddProduceCommand(app, &chosen);
  AddConsumeCommand(app, &chosen);
  AddSeekCommand(app, &chosen);
  AddTopicsCommands(app, &chosen);
  AddCursorsCommands(app, &chosen);
  AddGroupsCommands(app, &chosen);
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
  std::string error;
  std::shared_ptr<grpc::Channel> channel = goethe::client::Connect(context.server, security, arguments, &error);
  if (!channel) return FailUsage(error);
  context.stub = goethe::v1::Goethe::NewStub(channel);
  const int code = chosen(context);
  std::fflush(stdout);
  return code;
}
