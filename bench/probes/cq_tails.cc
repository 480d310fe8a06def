#include "cq_tails.h"

#include <mutex>

namespace goethe::probe {
namespace {

using ConsumeStreamIo = grpc::ServerAsyncReaderWriter<v1::ConsumeResponse, v1::ConsumeRequest>;

const google::protobuf::ServiceDescriptor& GoetheService() {
  return *v1::ConsumeRequest::descriptor()->file()->FindServiceByName("Goethe");
}

// One Consume call on a completion queue, from waiting for a client to its end. Every operation it
// starts comes back once through the queue with one of its tags; it deletes itself when the call is
// over and no operation is outstanding.
class CqTail final : public ProbeTail {
 public:
  enum class Event { kAccepted, kRead, kWritten, kFinished, kDone };
  struct Tag {
    CqTail* tail;
    Event event;
  };

  CqTail(ProbeTopic& topic, CqConsumeService& service, grpc::ServerCompletionQueue* queue)
      : topic_(topic), service_(service), queue_(queue) {
    pending_ = 2;  // the call's end and the wait for a client
    context_.AsyncNotifyWhenDone(&done_tag_);
    service_.RequestConsume(&context_, &stream_, queue_, queue_, &accepted_tag_);
  }

  void Send(std::shared_ptr<const v1::ConsumeResponse> batch) override {
    std::lock_guard lock(mutex_);
    SendLocked(std::move(batch));
  }

  void Handle(Event event, bool ok) {
    if (event == Event::kAccepted && ok) new CqTail(topic_, service_, queue_);  // the next client's
    std::unique_lock lock(mutex_);
    --pending_;
    bool subscribe = false;
    switch (event) {
      case Event::kAccepted:
        if (ok) ReadLocked();
        break;
      case Event::kRead:
        if (ok) {
          subscribe = OnRequestLocked();
        } else {
          FinishLocked(grpc::Status::OK);  // the client half-closed, or the call broke
        }
        break;
      case Event::kWritten:
        writes_.Done();
        if (!ok || closing_) {
          FinishLocked(grpc::Status::OK);
        } else if (const v1::ConsumeResponse* next = writes_.Next()) {
          WriteLocked(*next);
        }
        break;
      case Event::kFinished:
        break;
      case Event::kDone:
        done_ = closing_ = true;
        break;
    }
    if (subscribe) {
      // The topic's lock is taken before ours when it sends, so never while ours is held; the count
      // keeps the call alive meanwhile.
      ++pending_;
      lock.unlock();
      topic_.Subscribe(this);
      lock.lock();
      --pending_;
      if (closing_) {
        writes_.Done();  // ends the hold with nothing written; FinishLocked drops the answer
        FinishLocked(grpc::Status::OK);
      } else {
        WriteLocked(*writes_.Release());  // the held "subscribed", ahead of what the topic sent
      }
    }
    const bool closing = closing_;
    // A call the server never handed over (shut down first) has no done event: it stays until exit.
    const bool over = done_ && pending_ == 0;
    lock.unlock();
    if (closing) topic_.Unsubscribe(this);
    if (over) delete this;
  }

 private:
  void ReadLocked() {
    ++pending_;
    stream_.Read(&request_message_, &read_tag_);
  }

  // Returns true when the call is to join the topic's tails.
  bool OnRequestLocked() {
    bool subscribe = false;
    if (request_message_.has_subscribe() && !subscribed_) {
      subscribed_ = true;
      if (!request_message_.subscribe().start().end()) {
        FinishLocked(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "--tail-api cq serves tails only"));
        return false;
      }
      auto answer = std::make_shared<v1::ConsumeResponse>();
      const std::uint32_t window = request_message_.subscribe().window();
      answer->mutable_subscribed()->set_window(window == 0 ? 10000 : window);
      // Held at the head of the queue until the topic knows the call (see the caller): a client
      // that produces once every stream has subscribed must not find one missing the first event.
      writes_.Hold(std::move(answer));
      subscribe = true;
    }
    ReadLocked();  // acknowledgements: a tail needs none
    return subscribe;
  }

  void SendLocked(std::shared_ptr<const v1::ConsumeResponse> batch) {
    if (closing_) return;
    if (const v1::ConsumeResponse* now = writes_.Add(std::move(batch))) WriteLocked(*now);
  }
  void WriteLocked(const v1::ConsumeResponse& batch) {
    ++pending_;
    stream_.Write(batch, &written_tag_);
  }
  // Ends the call with `status` (the first one given) once the write under way is done: one
  // operation of a kind at a time.
  void FinishLocked(grpc::Status status) {
    if (!closing_) status_ = std::move(status);
    closing_ = true;
    writes_.Clear();
    if (writes_.busy() || finishing_) return;
    finishing_ = true;
    ++pending_;
    stream_.Finish(status_, &finished_tag_);
  }

  ProbeTopic& topic_;
  CqConsumeService& service_;
  grpc::ServerCompletionQueue* const queue_;
  grpc::ServerContext context_;
  ConsumeStreamIo stream_{&context_};
  v1::ConsumeRequest request_message_;
  Tag accepted_tag_{this, Event::kAccepted}, read_tag_{this, Event::kRead}, written_tag_{this, Event::kWritten},
      finished_tag_{this, Event::kFinished}, done_tag_{this, Event::kDone};

  std::mutex mutex_;  // the topic's Send and the queue's thread
  int pending_ = 0;   // operations started and not back from the queue yet
  bool subscribed_ = false, closing_ = false, finishing_ = false, done_ = false;
  grpc::Status status_;  // the call's end, once it is closing
  TailWrites writes_;
};

}  // namespace

int ConsumeMethodIndex() { return GoetheService().FindMethodByName("Consume")->index(); }

CqConsumeService::CqConsumeService() {
  for (int i = 0; i < GoetheService().method_count(); ++i) {
    if (i != ConsumeMethodIndex()) MarkMethodGeneric(i);
  }
}

CqTails::CqTails(ProbeTopic& topic, CqConsumeService& service,
                 std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> queues, int waiting_calls)
    : topic_(topic), service_(service), queues_(std::move(queues)), waiting_calls_(waiting_calls) {}

void CqTails::Start() {
  for (auto& queue : queues_) {
    for (int i = 0; i < waiting_calls_; ++i) new CqTail(topic_, service_, queue.get());
    threads_.emplace_back([this, queue = queue.get()] { Drain(queue); });
  }
}

void CqTails::Drain(grpc::ServerCompletionQueue* queue) {
  void* tag = nullptr;
  bool ok = false;
  while (queue->Next(&tag, &ok)) {
    auto* event = static_cast<CqTail::Tag*>(tag);
    event->tail->Handle(event->event, ok);
  }
}

void CqTails::Stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& queue : queues_) queue->Shutdown();
  for (std::thread& thread : threads_) thread.join();
}

CqTails::~CqTails() { Stop(); }

}  // namespace goethe::probe
