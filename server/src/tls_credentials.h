// The listener's credentials from server.tls: plaintext without a certificate, TLS with one, and
// TLS that requires and verifies client certificates when client_ca_file is set (mTLS).
#pragma once

#include <memory>

#include <grpcpp/security/server_credentials.h>

#include "goethe/engine/config.h"

namespace goethe::server {

// Reads and checks the PEM files (each parses; the key belongs to the certificate), so that a bad
// file stops the server with one line naming the config key instead of a gRPC error at bind time.
// Warns when the server's certificate is expired or not yet valid.
Result<std::shared_ptr<grpc::ServerCredentials>> ListenerCredentials(const Config& config);

}  // namespace goethe::server
