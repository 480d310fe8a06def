// HttpListener: the server's HTTP side (server.http), on Boost.Beast — HTTP/1.1 parsing, keep-alive
// and TLS from a well-kept library, with the limits a public port needs: connections, header and
// body size, and the time a client may take to send a request. A handler turns each parsed request
// into a response; it runs on the listener's thread, so it must not block for long.
#pragma once

#include <chrono>
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

// A body that comes later, piece by piece (Server-Sent Events). The listener sends the head, then
// calls Start with a sink: the source writes each piece and waits for its `done` before the next
// (so a slow reader slows the source, and a reader that stalls past server.http.request_timeout is
// dropped: `done(false)`), and calls `end` when it has no more. Cancel may come at any time (the
// client went away, the server stops): the source then ends soon and writes nothing more.
class HttpBodySource {
 public:
  struct Sink {
    std::function<void(std::string piece, std::function<void(bool written)> done)> write;
    std::function<void()> end;
  };
  virtual ~HttpBodySource() = default;
  virtual void Start(Sink sink) = 0;
  virtual void Cancel() = 0;  // does not wait
  virtual void AwaitEnd(std::chrono::milliseconds at_most) = 0;  // after Cancel: until it has ended
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // further headers
  std::shared_ptr<HttpBodySource> stream;  // set: the body comes from here, chunked, instead of `body`
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
