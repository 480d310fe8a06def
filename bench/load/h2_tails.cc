// tail-fanout's streams on raw HTTP/2 (nghttp2): one thread polls every connection, frames the
// Consume requests and unframes the responses itself (gRPC's wire format: a 1-byte flag and a
// 4-byte big-endian length before each protobuf message). gRPC's C++ client spends about 9 µs of
// CPU on each message it receives; this one parses the message and little else: at 1,000 streams ×
// 100 events/s it needs a third to a half of a core where gRPC's needs two thirds to nine tenths,
// most of it the kernel's receive path (docs/benchmarks.md).
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include <nghttp2/nghttp2.h>

#include "tail_clients.h"

namespace goethe::load {
namespace {

constexpr std::size_t kFrameHeader = 5;  // gRPC's length prefix: compressed flag, big-endian length

std::string Framed(const google::protobuf::Message& message) {
  const std::string body = message.SerializeAsString();
  std::string framed(kFrameHeader, '\0');
  const auto size = static_cast<std::uint32_t>(body.size());
  for (int i = 0; i < 4; ++i) framed[1 + i] = static_cast<char>(size >> (24 - 8 * i));
  return framed + body;
}

// One tailing Consume call. Touched only by the client's thread, but for the tally's count.
class H2Tail {
 public:
  H2Tail(Roll& roll, std::string subscribe, std::uint64_t window)
      : roll_(roll), tally_(window), outbox_(std::move(subscribe)) {}

  // Bytes of a DATA frame: every whole message in them (and in what came before) is handled.
  void Receive(nghttp2_session* session, const std::uint8_t* data, std::size_t size, v1::ConsumeResponse& scratch) {
    inbox_.append(reinterpret_cast<const char*>(data), size);
    std::size_t at = 0;
    while (inbox_.size() - at >= kFrameHeader) {
      const auto* header = reinterpret_cast<const std::uint8_t*>(inbox_.data() + at);
      const std::uint32_t length = (std::uint32_t{header[1]} << 24) | (std::uint32_t{header[2]} << 16) |
                                   (std::uint32_t{header[3]} << 8) | header[4];
      if (inbox_.size() - at - kFrameHeader < length) break;
      if (header[0] != 0 || !scratch.ParseFromArray(inbox_.data() + at + kFrameHeader, static_cast<int>(length))) {
        Fail(session, header[0] != 0 ? "a compressed message (not asked for)" : "a message that does not parse");
        return;
      }
      Handle(session, scratch);
      at += kFrameHeader + length;
    }
    inbox_.erase(0, at);
  }

  // nghttp2's data source: the queued request bytes, or "nothing yet" (the stream stays open).
  ssize_t ReadOutbox(std::uint8_t* buffer, std::size_t length) {
    const std::size_t left = outbox_.size() - sent_;
    if (left == 0) return NGHTTP2_ERR_DEFERRED;
    const std::size_t n = std::min(left, length);
    std::memcpy(buffer, outbox_.data() + sent_, n);
    sent_ += n;
    if (sent_ == outbox_.size()) {
      outbox_.clear();
      sent_ = 0;
    }
    return static_cast<ssize_t>(n);
  }

  void Header(std::string_view name, std::string_view value) {
    if (name == "grpc-status") grpc_status_ = std::string(value);
    else if (name == "grpc-message") grpc_message_ = std::string(value);
  }

  // nghttp2 closed the stream: an error unless it ended with grpc-status 0 (or was cancelled).
  void Closed(std::uint32_t h2_error) {
    if (grpc_status_ == "0") return End("");
    End(grpc_status_.empty() ? "the stream closed (HTTP/2 error " + std::to_string(h2_error) + ")"
                             : "grpc-status " + grpc_status_ + ": " + grpc_message_);
  }
  void CloseWithConnection(const std::string& why) {
    if (open_) End(why);
  }

  void Cancel(nghttp2_session* session) {
    if (!open_ || cancelled_) return;
    cancelled_ = true;
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id_, NGHTTP2_CANCEL);
  }

  void set_id(std::int32_t id) { id_ = id; }
  bool open() const { return open_; }
  const TailTally& tally() const { return tally_; }
  const std::string& error() const { return error_; }

 private:
  void Handle(nghttp2_session* session, const v1::ConsumeResponse& response) {
    if (response.has_subscribed()) roll_.Subscribed();
    const std::optional<std::uint64_t> offset = tally_.Record(response);
    if (!offset) return;
    v1::ConsumeRequest ack;
    ack.mutable_ack()->set_offset(*offset);
    outbox_ += Framed(ack);
    nghttp2_session_resume_data(session, id_);  // fails harmlessly when the data was not deferred
  }

  void Fail(nghttp2_session* session, const std::string& why) {
    if (error_.empty()) error_ = why;
    Cancel(session);
  }
  // The first reason given stands; a stream this client cancelled ended without error.
  void End(const std::string& why) {
    if (error_.empty() && !cancelled_) error_ = why;
    open_ = false;
    roll_.Ended();
  }

  Roll& roll_;
  TailTally tally_;
  std::int32_t id_ = -1;
  std::string inbox_;   // received bytes short of a whole message
  std::string outbox_;  // request bytes not yet handed to nghttp2
  std::size_t sent_ = 0;
  bool open_ = true, cancelled_ = false;
  std::string grpc_status_, grpc_message_, error_;
};

// One TCP connection and its nghttp2 session; the streams' own state lives in H2Tail.
class H2Connection {
 public:
  H2Connection(int fd, v1::ConsumeResponse& scratch) : fd_(fd), scratch_(scratch) {
    nghttp2_session_callbacks* callbacks = nullptr;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &OnData);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, &OnHeader);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &OnClose);
    nghttp2_session_client_new(&session_, callbacks, this);
    nghttp2_session_callbacks_del(callbacks);
    // Large windows: flow control is the server's business here, not a limit the client sets.
    const nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                               {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, 1 << 30);
  }
  ~H2Connection() {
    nghttp2_session_del(session_);
    close(fd_);
  }
  H2Connection(const H2Connection&) = delete;
  H2Connection& operator=(const H2Connection&) = delete;

  bool Open(H2Tail& tail, const std::string& authority, const std::string& token) {
    std::vector<std::pair<std::string, std::string>> fields = {
        {":method", "POST"}, {":scheme", "http"}, {":path", "/goethe.v1.Goethe/Consume"}, {":authority", authority},
        {"content-type", "application/grpc"}, {"te", "trailers"}};
    if (!token.empty()) fields.emplace_back("authorization", "Bearer " + token);
    std::vector<nghttp2_nv> headers;
    for (auto& [name, value] : fields) {
      headers.push_back({reinterpret_cast<std::uint8_t*>(name.data()), reinterpret_cast<std::uint8_t*>(value.data()),
                         name.size(), value.size(), NGHTTP2_NV_FLAG_NONE});
    }
    nghttp2_data_provider body{};
    body.source.ptr = &tail;
    body.read_callback = &ReadBody;
    const std::int32_t id = nghttp2_submit_request(session_, nullptr, headers.data(), headers.size(), &body, &tail);
    if (id < 0) return false;
    tail.set_id(id);
    tails_.push_back(&tail);
    return true;
  }

  // Writes what nghttp2 has to send until the socket would block; false when the connection failed.
  bool Flush() {
    for (;;) {
      while (out_.size() - out_sent_ < (64 << 10)) {  // gather up to 64 KiB for one send()
        const std::uint8_t* data = nullptr;
        const ssize_t n = nghttp2_session_mem_send(session_, &data);
        if (n < 0) return Broken(std::string("nghttp2: ") + nghttp2_strerror(static_cast<int>(n)));
        if (n == 0) break;
        out_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
      }
      if (out_sent_ == out_.size()) {
        out_.clear();
        out_sent_ = 0;
        return true;
      }
      const ssize_t written = send(fd_, out_.data() + out_sent_, out_.size() - out_sent_, MSG_NOSIGNAL);
      if (written < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? true : Broken(std::strerror(errno));
      out_sent_ += static_cast<std::size_t>(written);
    }
  }

  // Reads and handles what the socket holds; false when the connection failed or closed.
  bool ReadAvailable() {
    std::uint8_t buffer[64 << 10];
    for (;;) {
      const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
      if (n == 0) return Broken("the server closed the connection");
      if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? true : Broken(std::strerror(errno));
      const ssize_t handled = nghttp2_session_mem_recv(session_, buffer, static_cast<std::size_t>(n));
      if (handled < 0) return Broken(std::string("nghttp2: ") + nghttp2_strerror(static_cast<int>(handled)));
      // A short read drained the socket: back to poll without a recv that would only say EAGAIN
      // (a third of the client's system calls at 1,000 streams).
      if (static_cast<std::size_t>(n) < sizeof buffer) return true;
    }
  }

  void CancelAll() {
    for (H2Tail* tail : tails_) tail->Cancel(session_);
  }
  bool AnyOpen() const {
    for (const H2Tail* tail : tails_) {
      if (tail->open()) return true;
    }
    return false;
  }
  int fd() const { return fd_; }
  bool wants_write() const { return out_sent_ < out_.size(); }
  bool broken() const { return broken_; }

 private:
  bool Broken(const std::string& why) {
    broken_ = true;
    for (H2Tail* tail : tails_) tail->CloseWithConnection(why);
    return false;
  }

  static H2Tail* TailOf(nghttp2_session* session, std::int32_t stream_id) {
    return static_cast<H2Tail*>(nghttp2_session_get_stream_user_data(session, stream_id));
  }
  static int OnData(nghttp2_session* session, std::uint8_t, std::int32_t stream_id, const std::uint8_t* data,
                    std::size_t size, void* self) {
    if (H2Tail* tail = TailOf(session, stream_id)) tail->Receive(session, data, size, static_cast<H2Connection*>(self)->scratch_);
    return 0;
  }
  static int OnHeader(nghttp2_session* session, const nghttp2_frame* frame, const std::uint8_t* name,
                      std::size_t name_size, const std::uint8_t* value, std::size_t value_size, std::uint8_t, void*) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    if (H2Tail* tail = TailOf(session, frame->hd.stream_id))
      tail->Header({reinterpret_cast<const char*>(name), name_size}, {reinterpret_cast<const char*>(value), value_size});
    return 0;
  }
  static int OnClose(nghttp2_session* session, std::int32_t stream_id, std::uint32_t error, void*) {
    if (H2Tail* tail = TailOf(session, stream_id)) tail->Closed(error);
    return 0;
  }
  static ssize_t ReadBody(nghttp2_session*, std::int32_t, std::uint8_t* buffer, std::size_t length, std::uint32_t*,
                          nghttp2_data_source* source, void*) {
    return static_cast<H2Tail*>(source->ptr)->ReadOutbox(buffer, length);
  }

  const int fd_;
  v1::ConsumeResponse& scratch_;
  nghttp2_session* session_ = nullptr;
  std::vector<H2Tail*> tails_;
  std::string out_;  // bytes nghttp2 produced that the socket has not taken yet
  std::size_t out_sent_ = 0;
  bool broken_ = false;
};

// A connected, non-blocking TCP socket to host:port ("[::1]:50051" too); -1 with `*error` set.
int ConnectTcp(const std::string& address, std::string* error) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos || address.find("://") != std::string::npos) {
    *error = "--client h2 needs a host:port address, got '" + address + "'";
    return -1;
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int code = getaddrinfo(host.c_str(), address.substr(colon + 1).c_str(), &hints, &found); code != 0) {
    *error = address + ": " + gai_strerror(code);
    return -1;
  }
  int fd = -1, failure = 0;
  for (addrinfo* at = found; at != nullptr && fd < 0; at = at->ai_next) {
    fd = socket(at->ai_family, at->ai_socktype, at->ai_protocol);
    if (fd >= 0 && connect(fd, at->ai_addr, at->ai_addrlen) != 0) {
      failure = errno;  // before close() can change it
      close(fd);
      fd = -1;
    } else if (fd < 0) {
      failure = errno;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) {
    *error = address + ": cannot connect: " + std::strerror(failure);
    return -1;
  }
  const int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

class H2Tails final : public TailClients {
 public:
  H2Tails(Roll& roll, const LoadOptions& options, const v1::ConsumeRequest& subscribe) {
    const std::string framed = Framed(subscribe);
    for (std::uint32_t i = 0; i < options.consumers; ++i) {
      tails_.push_back(std::make_unique<H2Tail>(roll, framed, options.window));
      tallies_.push_back(&tails_.back()->tally());
    }
  }

  bool Connect(const std::string& address, const std::string& token, std::uint32_t connections, std::string* error) {
    for (std::uint32_t i = 0; i < std::max<std::uint32_t>(connections, 1); ++i) {
      const int fd = ConnectTcp(address, error);
      if (fd < 0) return false;
      connections_.push_back(std::make_unique<H2Connection>(fd, scratch_));
    }
    for (std::size_t i = 0; i < tails_.size(); ++i) {
      if (!connections_[i % connections_.size()]->Open(*tails_[i], address, token)) {
        *error = "nghttp2 refused to open stream " + std::to_string(i);
        return false;
      }
    }
    loop_ = std::thread([this] { Loop(); });
    return true;
  }

  ~H2Tails() override { Stop(); }

  void Stop() override {
    stop_.store(true);
    if (loop_.joinable()) loop_.join();
  }

 private:
  std::string FirstError() const override {
    for (const auto& tail : tails_) {
      if (!tail->error().empty()) return tail->error();
    }
    return "";
  }

  // Until stopped: flush, wait for the sockets, read. Once stopped: cancel every stream and go on
  // until they all closed (at most 5 s), so that the server sees each call end.
  void Loop() {
    bool cancelling = false;
    Clock::time_point give_up{};
    std::vector<pollfd> polled(connections_.size());
    for (;;) {
      if (stop_.load() && !cancelling) {
        for (auto& connection : connections_) connection->CancelAll();
        cancelling = true;
        give_up = Clock::now() + std::chrono::seconds(5);
      }
      bool any_open = false;
      for (std::size_t i = 0; i < connections_.size(); ++i) {
        H2Connection& connection = *connections_[i];
        if (!connection.broken()) connection.Flush();
        any_open = any_open || (!connection.broken() && connection.AnyOpen());
        polled[i] = {connection.broken() ? -1 : connection.fd(),
                     static_cast<short>(POLLIN | (connection.wants_write() ? POLLOUT : 0)), 0};
      }
      if (cancelling && (!any_open || Clock::now() > give_up)) return;
      if (poll(polled.data(), polled.size(), 10) < 0 && errno != EINTR) return;
      for (std::size_t i = 0; i < connections_.size(); ++i) {
        if (polled[i].revents & (POLLIN | POLLERR | POLLHUP)) connections_[i]->ReadAvailable();
      }
    }
  }

  v1::ConsumeResponse scratch_;  // one parse target: one thread handles every message
  std::vector<std::unique_ptr<H2Tail>> tails_;
  std::vector<std::unique_ptr<H2Connection>> connections_;
  std::atomic<bool> stop_{false};
  std::thread loop_;
};

}  // namespace

std::unique_ptr<TailClients> StartH2Tails(const std::string& address, const std::string& token,
                                          const LoadOptions& options, const v1::ConsumeRequest& subscribe, Roll& roll,
                                          std::string* error) {
  auto tails = std::make_unique<H2Tails>(roll, options, subscribe);
  if (!tails->Connect(address, token, options.connections, error)) return nullptr;
  return tails;
}

}  // namespace goethe::load
