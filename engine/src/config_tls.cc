// server.tls: certificate and key of the listener, and the CA that client certificates must be
// signed by (mTLS). Only the files' presence is checked here; the server parses their PEM.
#include "config_reader.h"

namespace goethe::config_internal {

Status ReadTls(Config& c, const YAML::Node& node, const YAML::Mark& mark) {
  SectionReader r(c, "server.tls");
  r.On("cert_file", Path(r, &c.server.tls.cert_file));
  r.On("key_file", Path(r, &c.server.tls.key_file));
  r.On("client_ca_file", Path(r, &c.server.tls.client_ca_file));
  return r.Read(node, mark);
}

Status CheckTls(const Config& c) {
  const TlsConfig& tls = c.server.tls;
  auto error = [&c](const std::string& key, const std::string& what) {
    return InvalidArgument(c.Where(key) + ": " + what);
  };
  if (tls.cert_file.empty() && !tls.key_file.empty())
    return error("server.tls.key_file", "expected server.tls.cert_file too: a key without its certificate");
  if (!tls.cert_file.empty() && tls.key_file.empty())
    return error("server.tls.cert_file", "expected server.tls.key_file too: the certificate's private key");
  if (tls.cert_file.empty() && !tls.client_ca_file.empty())
    return error("server.tls.client_ca_file",
                 "expected server.tls.cert_file and key_file too: client certificates are only asked for over TLS");
  for (const auto& [key, path] : {std::pair<const char*, const std::string&>{"server.tls.cert_file", tls.cert_file},
                                  {"server.tls.key_file", tls.key_file},
                                  {"server.tls.client_ca_file", tls.client_ca_file}}) {
    if (path.empty()) continue;
    if (Status s = CheckReadable(c, key, path); !s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace goethe::config_internal
