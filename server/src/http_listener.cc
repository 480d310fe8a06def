#include "http_listener.h"

#include <array>
#include <atomic>
#include <mutex>
#include <thread>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <spdlog/spdlog.h>

namespace goethe::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

HttpResponse JsonError(int status, const std::string& code, const std::string& message) {
  HttpResponse response;
  response.status = status;
  std::string escaped;
  for (char c : message) {
    if (c == '"' || c == '\\') escaped += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) escaped += c;  // control characters are dropped
  }
  response.body = "{\"code\":\"" + code + "\",\"message\":\"" + escaped + "\"}\n";
  return response;
}

// Declared in the order they may be destroyed in reverse: the io_context destroys the sessions
// still pending in it, and they use the TLS context and the connection count.
constexpr std::size_t kHandlerThreads = 4;

struct HttpListener::Impl {
  HttpConfig config;
  HttpHandler handler;
  std::optional<asio::ssl::context> tls;
  std::atomic<std::uint32_t> connections{0};
  asio::io_context io{1};
  // Handlers run here, not on the io thread: an API call waits for its commit, and the other
  // connections must not wait with it.
  asio::thread_pool workers{kHandlerThreads};
  tcp::acceptor acceptor{io};
  int port = 0;
  std::thread thread;
  bool stopped = false;
  std::mutex sources_mutex;
  std::vector<std::weak_ptr<HttpBodySource>> sources;  // streamed bodies, cancelled at Stop

  void Accept();
  void Track(const std::shared_ptr<HttpBodySource>& source) {
    std::lock_guard lock(sources_mutex);
    std::erase_if(sources, [](const std::weak_ptr<HttpBodySource>& s) { return s.expired(); });
    sources.push_back(source);
  }
};

namespace {

HttpRequest ToRequest(const http::request<http::string_body>& in) {
  HttpRequest out;
  out.method = std::string(in.method_string());
  const std::string_view target(in.target().data(), in.target().size());
  const std::size_t question = target.find('?');
  out.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) out.query = std::string(target.substr(question + 1));
  if (auto it = in.find(http::field::authorization); it != in.end())
    out.authorization = std::string(it->value().data(), it->value().size());
  out.body = in.body();
  return out;
}

// A piece's `done`, called once: with the write's outcome, or with false when the write never
// happens (the connection or the listener went first, and the handler holding it was dropped).
class Answered {
 public:
  explicit Answered(std::function<void(bool)> done) : done_(std::move(done)) {}
  ~Answered() { Say(false); }
  void Say(bool written) {
    if (auto done = std::exchange(done_, nullptr)) done(written);
  }

 private:
  std::function<void(bool)> done_;
};

// One connection: read a request within the time allowed, answer it, and again while the client
// keeps the connection alive. `Stream` is beast::tcp_stream or an ssl_stream over one.
template <typename Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(HttpListener::Impl& owner, Stream stream) : owner_(owner), stream_(std::move(stream)) {}
  ~Session() { owner_.connections.fetch_sub(1); }

  void Begin() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      Read();
    } else {
      beast::get_lowest_layer(stream_).expires_after(owner_.config.request_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code error) {
                                if (!error) self->Read();
                              });
    }
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::uint64_t>(owner_.config.max_header_bytes, UINT32_MAX)));
    parser_->body_limit(owner_.config.max_body_bytes);
    // The first request must arrive whole within request_timeout; a later one within idle_timeout
    // of the previous answer. Either way a slow client is bounded.
    beast::get_lowest_layer(stream_).expires_after(served_ == 0 ? owner_.config.request_timeout
                                                                : owner_.config.idle_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code error, std::size_t) { self->OnRead(error); });
  }

  void OnRead(beast::error_code error) {
    if (error == http::error::end_of_stream || error == beast::error::timeout || error == asio::error::operation_aborted)
      return Close();
    if (error == http::error::header_limit)
      return Answer(JsonError(431, "RESOURCE_EXHAUSTED", "the request's headers are larger than server.http.max_header_bytes"), false);
    if (error == http::error::body_limit)
      return Answer(JsonError(413, "RESOURCE_EXHAUSTED", "the request's body is larger than server.http.max_body_bytes"), false);
    if (error) {
      if (parser_->got_some()) return Answer(JsonError(400, "INVALID_ARGUMENT", "malformed HTTP request: " + error.message()), false);
      return Close();
    }
    const http::request<http::string_body>& request = parser_->get();
    asio::post(owner_.workers, [self = this->shared_from_this(), in = ToRequest(request), keep_alive = request.keep_alive(),
                                head = request.method() == http::verb::head]() mutable {
      HttpResponse response;
      try {
        response = self->owner_.handler(in);
      } catch (const std::exception& e) {
        spdlog::error("http: {} {} failed: {}", in.method, in.path, e.what());
        response = JsonError(500, "INTERNAL", "internal error");
      }
      asio::post(self->stream_.get_executor(), [self, response = std::move(response), keep_alive, head]() mutable {
        self->Answer(std::move(response), keep_alive, head);
      });
    });
  }

  void Answer(HttpResponse in, bool keep_alive, bool head = false) {
    if (in.stream) return AnswerStreamed(std::move(in));
    auto out = std::make_shared<http::response<http::string_body>>();
    out->version(11);
    out->result(static_cast<unsigned>(in.status));
    out->set(http::field::server, "goethe");
    out->set(http::field::content_type, in.content_type);
    for (auto& [name, value] : in.headers) out->set(name, value);
    out->body() = head ? std::string() : std::move(in.body);
    out->prepare_payload();
    if (head) out->content_length(in.body.size());
    out->keep_alive(keep_alive);
    beast::get_lowest_layer(stream_).expires_after(owner_.config.request_timeout);  // a reader that stalls is dropped
    http::async_write(stream_, *out, [self = this->shared_from_this(), out, keep_alive](beast::error_code error, std::size_t) {
      if (error || !keep_alive) return self->Close();
      ++self->served_;
      self->Read();
    });
  }

  // A streamed body: the head, then one chunk per piece the source writes, until it ends; the
  // connection closes after it.
  void AnswerStreamed(HttpResponse in) {
    owner_.Track(in.stream);
    auto head = std::make_shared<http::response<http::empty_body>>(http::status::ok, 11);
    head->set(http::field::server, "goethe");
    head->set(http::field::content_type, in.content_type);
    head->set(http::field::cache_control, "no-cache");
    for (auto& [name, value] : in.headers) head->set(name, value);
    head->chunked(true);
    head->keep_alive(false);
    auto serializer = std::make_shared<http::response_serializer<http::empty_body>>(*head);
    beast::get_lowest_layer(stream_).expires_after(owner_.config.request_timeout);
    http::async_write_header(
        stream_, *serializer,
        [self = this->shared_from_this(), head, serializer, source = in.stream](beast::error_code error, std::size_t) {
          if (error) {
            source->Cancel();
            return self->Close();
          }
          beast::get_lowest_layer(self->stream_).expires_never();  // waiting for events is no stall
          self->WatchForClose(source);
          // The sink keeps the session: the source holds it until it ends.
          source->Start(HttpBodySource::Sink{
              [session = self](std::string piece, std::function<void(bool)> done) {
                auto answer = std::make_shared<Answered>(std::move(done));  // false if never written
                asio::post(session->stream_.get_executor(), [session, piece = std::move(piece), answer]() mutable {
                  session->WritePiece(std::move(piece), answer);
                });
              },
              [session = self] { asio::post(session->stream_.get_executor(), [session] { session->EndPieces(); }); }});
        });
  }

  // A streamed body's client sends nothing more; a read ends when it goes away, which ends the
  // source even while no event comes.
  void WatchForClose(std::shared_ptr<HttpBodySource> source) {
    auto probe = std::make_shared<std::array<char, 64>>();
    stream_.async_read_some(asio::buffer(*probe), [self = this->shared_from_this(), probe, source](beast::error_code error,
                                                                                                std::size_t) {
      if (!error) return self->WatchForClose(source);
      source->Cancel();
      self->Close();
    });
  }

  void WritePiece(std::string piece, std::shared_ptr<Answered> answer) {
    auto data = std::make_shared<std::string>(std::move(piece));
    beast::get_lowest_layer(stream_).expires_after(owner_.config.request_timeout);
    asio::async_write(stream_, http::make_chunk(asio::buffer(*data)),
                      [self = this->shared_from_this(), data, answer](beast::error_code error, std::size_t) {
                        beast::get_lowest_layer(self->stream_).expires_never();
                        if (error) self->Close();
                        answer->Say(!error);
                      });
  }

  void EndPieces() {
    beast::get_lowest_layer(stream_).expires_after(owner_.config.request_timeout);
    auto last = std::make_shared<decltype(http::make_chunk_last())>(http::make_chunk_last());
    asio::async_write(stream_, *last, [self = this->shared_from_this(), last](beast::error_code, std::size_t) { self->Close(); });
  }

  void Close() {
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(stream_).close();
  }

  HttpListener::Impl& owner_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::uint64_t served_ = 0;
};

Result<tcp::endpoint> Resolve(asio::io_context& io, const std::string& listen) {
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return InvalidArgument("server.http.listen: expected host:port, got '" + listen + "'");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  beast::error_code error;
  tcp::resolver resolver(io);
  auto found = resolver.resolve(host, listen.substr(colon + 1), tcp::resolver::passive, error);
  if (error || found.empty())
    return InvalidArgument("server.http.listen: cannot resolve '" + listen + "': " + error.message());
  return found.begin()->endpoint();
}

}  // namespace

void HttpListener::Impl::Accept() {
  acceptor.async_accept(io, [this](beast::error_code error, tcp::socket socket) {
    if (error == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!error) {
      if (connections.fetch_add(1) >= config.max_connections) {
        // Over the limit: closed at once, before a byte is read, so it holds nothing.
        connections.fetch_sub(1);
        beast::error_code ignored;
        socket.close(ignored);
      } else if (tls) {
        std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
            *this, beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *tls))
            ->Begin();
      } else {
        std::make_shared<Session<beast::tcp_stream>>(*this, beast::tcp_stream(std::move(socket)))->Begin();
      }
    }
    Accept();
  });
}

Result<std::unique_ptr<HttpListener>> HttpListener::Start(const HttpConfig& config, const TlsConfig& tls,
                                                          HttpHandler handler) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->handler = std::move(handler);
  if (tls.enabled()) {
    try {
      impl->tls.emplace(asio::ssl::context::tls_server);
      impl->tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                             asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                             asio::ssl::context::no_tlsv1_1);
      impl->tls->use_certificate_chain_file(tls.cert_file);
      impl->tls->use_private_key_file(tls.key_file, asio::ssl::context::pem);
      if (!tls.client_ca_file.empty()) {
        impl->tls->load_verify_file(tls.client_ca_file);
        impl->tls->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
      }
    } catch (const std::exception& e) {
      return InvalidArgument("server.http: cannot use server.tls (" + tls.cert_file + "): " + e.what());
    }
  }
  Result<tcp::endpoint> endpoint = Resolve(impl->io, config.listen);
  if (!endpoint.ok()) return endpoint.status();
  beast::error_code error;
  impl->acceptor.open(endpoint->protocol(), error);
  if (!error) impl->acceptor.set_option(asio::socket_base::reuse_address(true), error);
  if (!error) impl->acceptor.bind(*endpoint, error);
  if (!error) impl->acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) return Unavailable("server.http.listen: cannot listen on " + config.listen + ": " + error.message());
  impl->port = impl->acceptor.local_endpoint().port();
  impl->Accept();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->io.run(); });
  return std::unique_ptr<HttpListener>(new HttpListener(std::move(impl)));
}

HttpListener::HttpListener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpListener::~HttpListener() { Stop(); }

int HttpListener::port() const { return impl_->port; }

void HttpListener::Stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  // Closing from the io thread; stop() then ends every pending operation, and the sessions with it.
  asio::post(impl_->io, [impl = impl_.get()] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
    impl->io.stop();
  });
  if (impl_->thread.joinable()) impl_->thread.join();
  // Streamed bodies end; what they still write is posted to the stopped io_context and dropped.
  std::vector<std::shared_ptr<HttpBodySource>> streaming;
  {
    std::lock_guard lock(impl_->sources_mutex);
    for (const auto& weak : impl_->sources) {
      if (auto source = weak.lock()) streaming.push_back(std::move(source));
    }
  }
  for (const auto& source : streaming) source->Cancel();
  for (const auto& source : streaming) source->AwaitEnd(std::chrono::seconds(5));
  impl_->workers.join();  // handlers still running finish; their answers go nowhere
}

}  // namespace goethe::server
