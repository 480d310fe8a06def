#include "server_flags.h"

#include <CLI/CLI.hpp>

namespace goethe::server {

std::optional<ServerFlags> ParseServerFlags(int argc, char** argv, int* exit_code) {
  ServerFlags flags;
  CLI::App app{"goethe-server: the Goethe append-only event log, served over gRPC"};
  app.add_option("-c,--config", flags.config_path, "YAML config file (see config/goethe.yaml)")->required();
  app.add_option("--log-level", flags.log_level, "Log level, overriding server.log_level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_option("--listen", flags.listen,
                 "Address to listen on, overriding server.listen (host:port; port 0 picks a free one)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // 0 for --help; 2 for any usage error, whatever CLI11's own code for it.
    *exit_code = app.exit(e) == 0 ? 0 : 2;
    return std::nullopt;
  }
  return flags;
}

}  // namespace goethe::server
