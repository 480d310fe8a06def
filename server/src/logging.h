// Server logging: spdlog to stderr, and gRPC's own log lines routed through it.
#pragma once

#include <string>

namespace goethe::server {

// Sets up the default logger at `level` (trace … off). gRPC's messages are logged at debug level
// until MarkServing(), at their own level after: a failed start-up prints our one clear line,
// not gRPC's internals.
void SetUpLogging(const std::string& level);
void MarkServing();

}  // namespace goethe::server
