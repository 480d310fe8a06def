// Start-up warnings about who can reach the server: a non-loopback listener without access
// control, or with bearer tokens but no TLS to keep them secret on the wire.
#pragma once

#include <string>

#include "goethe/engine/config.h"

namespace goethe::server {

// Whether `listen` (host:port, [v6]:port or unix:path) is reachable from this machine only.
bool IsLocalOnly(const std::string& listen);

// Logs the warnings that apply to `server` (its listen address, tls and auth).
void WarnAboutExposure(const ServerConfig& server);

}  // namespace goethe::server
