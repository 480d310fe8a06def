// The command line of goethe-server: `goethe-server --config FILE [--log-level L] [--listen ADDR]`.
#pragma once

#include <optional>
#include <string>

namespace goethe::server {

struct ServerFlags {
  std::string config_path;
  std::optional<std::string> log_level;  // overrides server.log_level
  std::optional<std::string> listen;     // overrides server.listen
};

// Parses argv. On --help or a usage error it prints what CLI11 says and returns the exit code in
// `exit_code` (0 for --help, 2 for a usage error); otherwise it returns the flags.
std::optional<ServerFlags> ParseServerFlags(int argc, char** argv, int* exit_code);

}  // namespace goethe::server
