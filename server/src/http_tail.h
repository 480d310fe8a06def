// HttpTail: a live tail for HTTP (docs/http.md): a read-only Consume stream over the server's
// in-process channel whose events go out as Server-Sent Events, one `event` per Goethe event
// (id: its offset; data: its JSON). The stream's window and the listener's one piece at a time
// bound a slow reader as a slow gRPC consumer is bounded.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>

#include <grpcpp/grpcpp.h>

#include "goethe/v1/goethe.grpc.pb.h"
#include "http_listener.h"

namespace goethe::server {

class HttpTail : public HttpBodySource, public grpc::ClientBidiReactor<v1::ConsumeRequest, v1::ConsumeResponse> {
 public:
  // Subscribes with `subscribe` (made read-only here) and waits for the answer: the tail, or the
  // error response the subscribe got (NOT_FOUND, PERMISSION_DENIED, ...).
  static std::variant<std::shared_ptr<HttpTail>, HttpResponse> Open(v1::Goethe::Stub& stub, v1::Subscribe subscribe,
                                                                    const std::optional<std::string>& authorization,
                                                                    bool text_payloads);
  ~HttpTail() override;

  void Start(Sink sink) override;
  void Cancel() override;
  void AwaitEnd(std::chrono::milliseconds at_most) override;

  void OnWriteDone(bool ok) override;
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  explicit HttpTail(bool text_payloads) : text_payloads_(text_payloads) {}
  void Ack(std::uint64_t offset);

  const bool text_payloads_;
  grpc::ClientContext call_;
  v1::ConsumeRequest subscribe_;
  v1::ConsumeRequest ack_;
  v1::ConsumeResponse response_;
  std::shared_ptr<HttpTail> self_;  // alive until OnDone

  std::mutex mutex_;
  std::condition_variable changed_;
  bool subscribed_ = false;
  bool done_ = false;
  grpc::Status status_;
  std::optional<Sink> sink_;
  bool writing_ = false;                       // a subscribe or ack write is in flight
  std::optional<std::uint64_t> pending_ack_;   // the latest offset to ack once the write is done
};

}  // namespace goethe::server
