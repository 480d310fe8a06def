#include "exposure_warning.h"

#include <spdlog/spdlog.h>

namespace goethe::server {

bool IsLocalOnly(const std::string& listen) {
  if (listen.rfind("unix:", 0) == 0 || listen.rfind("unix-abstract:", 0) == 0) return true;
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

void WarnAboutExposure(const ServerConfig& server) {
  for (const std::string& listen : {server.listen, server.http.listen}) {
    if (listen.empty() || IsLocalOnly(listen)) continue;
    if (!server.auth.enabled) {
      spdlog::warn("listening on {} without server.auth: anyone who can reach it may produce, consume and delete "
                   "topics (docs/config.md: server.auth)", listen);
    } else if (!server.tls.enabled()) {
      spdlog::warn("listening on {} without server.tls: bearer tokens cross the network in plaintext "
                   "(docs/config.md: server.tls)", listen);
    }
  }
}

}  // namespace goethe::server
