// How goethe-cli and goethe-bench reach a server: plaintext or TLS (with a client certificate for
// mTLS), and a bearer token on every call. Both programs take the same flags and build their
// channel here.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

namespace CLI {
class App;
}

namespace goethe::client {

struct SecurityFlags {
  std::string token;       // --token; else --token-file; else $GOETHE_TOKEN
  std::string token_file;  // the file's content, less surrounding white space
  std::string ca_file;     // TLS, trusting the CA certificates in this PEM file
  std::string cert_file;   // the client's certificate chain (PEM), for servers that ask (mTLS)
  std::string key_file;    // its private key (PEM)
  bool tls = false;        // TLS with the system's trusted CAs; implied by the three files above
};

// Adds --token, --token-file, --ca-file, --cert-file, --key-file and --tls to `app`.
void AddSecurityFlags(CLI::App& app, SecurityFlags* flags);

// TLS is asked for: --tls, or any of the files that imply it.
bool WantsTls(const SecurityFlags& flags);

// The token to send: --token, else --token-file, else $GOETHE_TOKEN; empty for none. False, with
// the reason in `*error`, when the flags conflict, the file cannot be read or the token is unusable.
bool ChooseToken(const SecurityFlags& flags, std::string* token, std::string* error);

// A channel to `address` as `flags` ask, every call carrying `authorization: Bearer <token>`
// when there is a token. nullptr, with the reason in `*error`, when a file cannot be read or the
// token is unusable.
std::shared_ptr<grpc::Channel> Connect(const std::string& address, const SecurityFlags& flags,
                                       const grpc::ChannelArguments& arguments, std::string* error);

}  // namespace goethe::client
