// A small blocking HTTP/1.1 client for tests, on Boost.Beast: one request per call on a new
// connection (or on a Connection the test keeps), bounded in time.
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace goethe::testing {

struct HttpReply {
  int status = 0;  // 0: no answer (the server closed the connection, or the time ran out)
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string error;                           // why there is no answer
};

class HttpConnection {
 public:
  // Connects to "host:port"; connected() says whether it worked.
  explicit HttpConnection(const std::string& address, std::chrono::milliseconds timeout = std::chrono::seconds(10))
      : stream_(io_), timeout_(timeout) {
    const std::size_t colon = address.rfind(':');
    boost::beast::error_code error;
    boost::asio::ip::tcp::resolver resolver(io_);
    auto found = resolver.resolve(address.substr(0, colon), address.substr(colon + 1), error);
    if (error) return;
    stream_.expires_after(timeout_);
    stream_.connect(found, error);
    connected_ = !error;
  }

  bool connected() const { return connected_; }

  HttpReply Send(const std::string& method, const std::string& target, const std::string& body = "",
                 const std::map<std::string, std::string>& headers = {}) {
    namespace http = boost::beast::http;
    HttpReply reply;
    http::request<http::string_body> request(http::string_to_verb(method), target, 11);
    request.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) request.set(name, value);
    request.body() = body;
    request.prepare_payload();
    boost::beast::error_code error;
    stream_.expires_after(timeout_);
    http::write(stream_, request, error);
    if (error) {
      reply.error = "write: " + error.message();
      return reply;
    }
    return Receive();
  }

  // Reads one response (or the end of the connection) within the timeout.
  HttpReply Receive() {
    namespace http = boost::beast::http;
    HttpReply reply;
    http::response_parser<http::string_body> parser;
    parser.body_limit(256 << 20);
    boost::beast::error_code error;
    stream_.expires_after(timeout_);
    http::read(stream_, buffer_, parser, error);
    if (error) {
      reply.error = error.message();
      return reply;
    }
    const auto& response = parser.get();
    reply.status = static_cast<int>(response.result_int());
    reply.body = response.body();
    for (const auto& field : response) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      reply.headers[name] = std::string(field.value());
    }
    return reply;
  }

  // Reads raw bytes (a streamed body, head included) until `done(all read so far)` or `timeout`;
  // what was read.
  std::string ReadUntil(const std::function<bool(const std::string&)>& done, std::chrono::milliseconds timeout) {
    std::string all(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    buffer_.consume(buffer_.size());
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::array<char, 4096> chunk;
    while (!done(all) && std::chrono::steady_clock::now() < deadline) {
      boost::beast::error_code error;
      stream_.expires_at(deadline);
      const std::size_t n = stream_.read_some(boost::asio::buffer(chunk), error);
      if (error) break;
      all.append(chunk.data(), n);
    }
    return all;
  }

  // Sends raw bytes (a malformed or partial request).
  bool SendRaw(const std::string& bytes) {
    boost::beast::error_code error;
    stream_.expires_after(timeout_);
    boost::asio::write(stream_, boost::asio::buffer(bytes), error);
    return !error;
  }

 private:
  boost::asio::io_context io_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::chrono::milliseconds timeout_;
  bool connected_ = false;
};

inline HttpReply HttpGet(const std::string& address, const std::string& target,
                         const std::map<std::string, std::string>& headers = {}) {
  HttpConnection connection(address);
  if (!connection.connected()) return HttpReply{0, "", {}, "cannot connect to " + address};
  return connection.Send("GET", target, "", headers);
}

// GET over TLS, trusting `ca_file` (PEM) and checking that the certificate names 127.0.0.1;
// presenting `cert_file` and `key_file` when given (mutual TLS).
inline HttpReply HttpsGet(const std::string& address, const std::string& target, const std::string& ca_file,
                          const std::string& cert_file = "", const std::string& key_file = "") {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace http = beast::http;
  HttpReply reply;
  try {
    asio::io_context io;
    asio::ssl::context tls(asio::ssl::context::tls_client);
    tls.load_verify_file(ca_file);
    tls.set_verify_mode(asio::ssl::verify_peer);
    if (!cert_file.empty()) {
      tls.use_certificate_chain_file(cert_file);
      tls.use_private_key_file(key_file, asio::ssl::context::pem);
    }
    beast::ssl_stream<beast::tcp_stream> stream(io, tls);
    const std::size_t colon = address.rfind(':');
    stream.set_verify_callback(asio::ssl::host_name_verification(address.substr(0, colon)));
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
    asio::ip::tcp::resolver resolver(io);
    beast::get_lowest_layer(stream).connect(resolver.resolve(address.substr(0, colon), address.substr(colon + 1)));
    stream.handshake(asio::ssl::stream_base::client);
    http::request<http::string_body> request(http::verb::get, target, 11);
    request.set(http::field::host, "127.0.0.1");
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    reply.status = static_cast<int>(response.result_int());
    reply.body = response.body();
  } catch (const std::exception& e) {
    reply.error = e.what();
  }
  return reply;
}

// The value of the sample `name_and_labels` (e.g. `goethe_topics` or `x_total{topic="t"}`) in a
// Prometheus text exposition; nullopt when it is not there.
inline std::optional<double> Sample(const std::string& exposition, const std::string& name_and_labels) {
  std::size_t at = 0;
  while ((at = exposition.find(name_and_labels + " ", at)) != std::string::npos) {
    if (at == 0 || exposition[at - 1] == '\n') {
      const std::size_t value = at + name_and_labels.size() + 1;
      return std::stod(exposition.substr(value, exposition.find('\n', value) - value));
    }
    at += name_and_labels.size();
  }
  return std::nullopt;
}

}  // namespace goethe::testing
