// HttpListener: the server's HTTP side (server.http), on Boost.Beast — HTTP/1.1 parsing, keep-alive
// and TLS from a well-kept library, with the limits a public port needs: connections, header and
// body size, and the time a client may take to send a request. A handler turns each parsed request
// into a response; it runs on the listener's thread, so it must not block for long.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <functional>

#include "goethe/engine/config.h"
#include "goethe/engine/status.h"

namespace goethe::server {

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // the target before '?'
  std::string query;                           // after '?', undecoded
  std::optional<std::string> authorization;    // the Authorization header, when sent
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // further headers
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// Every error's shape: {"code": "<gRPC code name>", "message": "..."} with the matching HTTP status.
HttpResponse JsonError(int status, const std::string& code, const std::string& message);

class HttpListener {
 public:
  // Binds config.listen (HTTPS with `tls` when it is enabled) and serves with `handler` on a thread
  // of its own; an error names the address or the certificate that failed.
  static Result<std::unique_ptr<HttpListener>> Start(const HttpConfig& config, const TlsConfig& tls,
                                                     HttpHandler handler);
  ~HttpListener();  // Stop()s
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  int port() const;  // the bound port (config.listen may ask for port 0)
  // Closes the listening socket and every connection, and joins the thread. Idempotent.
  void Stop();

  struct Impl;

 private:
  explicit HttpListener(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace goethe::server
