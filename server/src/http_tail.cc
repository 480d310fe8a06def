#include "http_tail.h"

#include <chrono>

#include "http_json.h"
#include "status_mapping.h"

namespace goethe::server {
namespace {

constexpr std::chrono::seconds kSubscribeDeadline{30};

}  // namespace

std::variant<std::shared_ptr<HttpTail>, HttpResponse> HttpTail::Open(v1::Goethe::Stub& stub, v1::Subscribe subscribe,
                                                                      const std::optional<std::string>& authorization,
                                                                      bool text_payloads) {
  std::shared_ptr<HttpTail> tail(new HttpTail(text_payloads));
  subscribe.set_read_only(true);
  *tail->subscribe_.mutable_subscribe() = std::move(subscribe);
  if (authorization) tail->call_.AddMetadata("authorization", *authorization);
  tail->self_ = tail;
  stub.async()->Consume(&tail->call_, tail.get());
  {
    std::lock_guard lock(tail->mutex_);
    tail->writing_ = true;
  }
  tail->StartWrite(&tail->subscribe_);
  tail->StartRead(&tail->response_);
  tail->StartCall();
  std::unique_lock lock(tail->mutex_);
  if (!tail->changed_.wait_for(lock, kSubscribeDeadline, [&] { return tail->subscribed_ || tail->done_; })) {
    lock.unlock();
    tail->Cancel();  // it ends by itself (OnDone)
    return JsonError(504, "DEADLINE_EXCEEDED", "the subscribe got no answer in time");
  }
  if (!tail->subscribed_) {
    const grpc::Status& status = tail->status_;
    return JsonError(HttpStatusOf(status.error_code()), GrpcCodeName(status.error_code()), status.error_message());
  }
  return tail;
}

HttpTail::~HttpTail() = default;

// gRPC may run a reaction on the thread that starts an operation: none is started under mutex_.

void HttpTail::Start(Sink sink) {
  {
    std::lock_guard lock(mutex_);
    sink_ = std::move(sink);
    if (done_) return sink_->end();
  }
  StartRead(&response_);  // the first events, after the Subscribed answer Open waited for
}

void HttpTail::Cancel() { call_.TryCancel(); }

void HttpTail::AwaitEnd(std::chrono::milliseconds at_most) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, at_most, [this] { return done_; });
}

void HttpTail::OnWriteDone(bool ok) {
  std::optional<std::uint64_t> next;
  {
    std::lock_guard lock(mutex_);
    writing_ = false;
    if (ok) next.swap(pending_ack_);
  }
  if (next) Ack(*next);
}

void HttpTail::Ack(std::uint64_t offset) {
  {
    std::lock_guard lock(mutex_);
    if (writing_) {
      pending_ack_ = offset;  // one write at a time: the latest ack goes next
      return;
    }
    writing_ = true;
  }
  ack_.mutable_ack()->set_offset(offset);  // only this thread writes ack_ until OnWriteDone
  StartWrite(&ack_);
}

void HttpTail::OnReadDone(bool ok) {
  if (!ok) return;  // the stream ends: OnDone follows
  if (response_.has_subscribed()) {
    std::lock_guard lock(mutex_);
    subscribed_ = true;
    changed_.notify_all();
    return;  // the next read waits for Start
  }
  if (!response_.has_events() || response_.events().events_size() == 0) {
    StartRead(&response_);
    return;
  }
  // One piece per batch: an SSE event per Goethe event. The next read waits until it is written,
  // so a slow reader holds this stream's window, as a slow gRPC consumer does.
  std::string piece;
  for (const v1::Event& event : response_.events().events()) {
    piece += "id: " + std::to_string(event.offset()) + "\nevent: event\ndata: " + ToJson(event, text_payloads_) + "\n\n";
  }
  const std::uint64_t last = response_.events().events(response_.events().events_size() - 1).offset();
  Sink sink;
  {
    std::lock_guard lock(mutex_);
    sink = *sink_;
  }
  // Held until the piece is written: the call cannot end (OnDone) while this reaction's next
  // read is still to be started.
  AddHold();
  sink.write(std::move(piece), [this, last](bool written) {
    if (written) {
      Ack(last);
      StartRead(&response_);
    } else {
      call_.TryCancel();  // the reader went away
    }
    RemoveHold();
  });
}

void HttpTail::OnDone(const grpc::Status& status) {
  std::shared_ptr<HttpTail> keep;
  {
    std::lock_guard lock(mutex_);
    status_ = status;
    done_ = true;
    if (sink_) sink_->end();
    keep.swap(self_);
    changed_.notify_all();
  }
}

}  // namespace goethe::server
