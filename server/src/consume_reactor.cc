#include "consume_reactor.h"

#include <algorithm>
#include <atomic>

#include <spdlog/spdlog.h>

#include "leader_gate.h"
#include "proto_convert.h"
#include "request_validation.h"
#include "status_mapping.h"

namespace goethe::server {

std::uint32_t ConsumeReactor::BatchEventsFor(const v1::Subscribe& subscribe) {
  return subscribe.max_batch_events() == 0 ? kMaxBatchEvents : std::min(subscribe.max_batch_events(), kMaxBatchEvents);
}

void ConsumeReactor::Shared::CloseForShutdown() {
  std::lock_guard lock(mutex);
  if (reactor != nullptr) reactor->FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "server shutting down"));
}

ConsumeReactor::ConsumeReactor(const ServiceContext& context, const Principal& caller,
                               grpc::CallbackServerContext* call)
    : context_(context), caller_(caller), call_(call), shared_(std::make_shared<Shared>()) {
  shared_->reactor = this;
  std::lock_guard lock(shared_->mutex);
  if (Status admitted = context_.streams->Admit(shared_); !admitted.ok()) {
    FinishLocked(ToGrpcStatus(admitted));
    return;
  }
  admitted_ = true;
  StartRead(&request_bytes_);
}

void ConsumeReactor::OnReadDone(bool ok) {
  std::shared_ptr<Shared> shared = shared_;
  std::lock_guard lock(shared->mutex);
  if (!ok) {
    // Half-closed: finish once the last ack is committed, so that a consumer that reconnects at
    // once resumes right after it.
    reads_closed_ = true;
    const bool acks_pending = member_ ? group_acks_in_flight_ > 0 : shared->commit_running;
    if (!acks_pending) FinishLocked(grpc::Status::OK);
    return;
  }
  if (finish_status_) return;
  if (!grpc::GenericDeserialize<grpc::ProtoBufferReader, v1::ConsumeRequest>(&request_bytes_, &request_).ok()) {
    FinishLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "a Consume message could not be parsed"));
    return;
  }
  if (!subscribed_) {
    if (!request_.has_subscribe()) {
      FinishLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                "the first message on a Consume stream must be 'subscribe'"));
      return;
    }
    SubscribeLocked(request_.subscribe());
  } else if (member_) {
    HandleGroupMessageLocked(request_);
  } else if (request_.has_ack()) {
    AckLocked(request_.ack().offset());
  } else {
    FinishLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                              "already subscribed: every later message on a Consume stream must be an 'ack'"));
  }
  if (!finish_status_) StartRead(&request_bytes_);
}

void ConsumeReactor::SubscribeLocked(const v1::Subscribe& subscribe) {
  auto fail = [this](const Status& status) { FinishLocked(ToGrpcStatus(status)); };
  if (grpc::Status denied = context_.access->Check(caller_, Permission::kConsume, subscribe.topic()); !denied.ok())
    return FinishLocked(denied);
  // A group member or a consumer that commits writes; a follower serves read-only streams alone.
  if (subscribe.has_group() || (!subscribe.consumer().empty() && !subscribe.read_only())) {
    if (std::optional<grpc::Status> not_leader = RefuseUnlessLeader(context_.cluster, *call_))
      return FinishLocked(*not_leader);
  }
  if (subscribe.has_group()) return JoinGroupLocked(subscribe);
  const std::uint32_t limit = context_.max_consume_window;
  Result<StartPosition> start = ToStartPosition(subscribe, limit);
  if (!start.ok()) return fail(start.status());
  Result<ResolvedPosition> resolved = context_.log->Resolve(subscribe.topic(), *start);
  if (!resolved.ok()) return fail(resolved.status());

  subscribed_ = true;
  topic_ = subscribe.topic();
  consumer_ = subscribe.consumer();
  commit_acks_ = !consumer_.empty() && !subscribe.read_only();
  // 0: as much as the server allows, so that a catching-up consumer keeps several batches in flight.
  window_ = subscribe.window() == 0 ? limit : subscribe.window();
  max_batch_events_ = BatchEventsFor(subscribe);
  next_offset_ = resolved->offset;
  filter_ = FromProto(subscribe.filter());  // checked by ToStartPosition

  response_.Clear();
  v1::Subscribed* subscribed = response_.mutable_subscribed();
  subscribed->set_resolved_offset(resolved->offset);
  subscribed->set_exact(resolved->exact);
  subscribed->set_first_offset(resolved->first_offset);
  subscribed->set_head(resolved->head);
  subscribed->set_window(window_);
  WriteResponseLocked();
  spdlog::debug("consume: subscribed topic={} consumer='{}' from={} window={}", topic_, consumer_, next_offset_, window_);
}

std::uint64_t ConsumeReactor::InFlightBatch::AckUpTo(std::uint64_t offset) {
  if (offset < first) return 0;
  if (offsets.empty()) {
    const std::uint64_t count = std::min(offset, last) - first + 1;
    first = std::min(offset, last) + 1;
    return count;
  }
  const std::size_t before = acked;
  while (acked < offsets.size() && offsets[acked] <= offset) ++acked;
  if (acked < offsets.size()) first = offsets[acked];
  return acked - before;
}

void ConsumeReactor::AckLocked(std::uint64_t offset) {
  if (Status s = ValidateAck(offset, next_offset_); !s.ok()) {
    FinishLocked(ToGrpcStatus(s));
    return;
  }
  while (!in_flight_.empty()) {
    InFlightBatch& batch = in_flight_.front();
    const std::uint64_t before = batch.size();
    const std::uint64_t acked = batch.AckUpTo(offset);
    in_flight_events_ -= acked;
    if (acked < before) break;
    in_flight_.pop_front();
  }
  // With nothing left in flight, the events a filter skipped after the last delivered one are
  // processed too.
  CommitLocked(!filter_.empty() && in_flight_.empty() ? std::max(offset, next_offset_ - 1) : offset);
  ContinueLocked();
}

void ConsumeReactor::CommitLocked(std::uint64_t offset) {
  if (!commit_acks_) return;
  if (!shared_->pending_commit || *shared_->pending_commit < offset) shared_->pending_commit = offset;
  StartCommitsLocked();
}

void ConsumeReactor::ContinueLocked() {
  if (!subscribed_ || finish_status_ || reads_closed_ || write_in_flight_ || waiting_) return;
  if (in_flight_events_ >= window_) return;  // the next ack opens the window again

  ReadRequest read;
  read.topic = topic_;
  read.from_offset = next_offset_;
  read.max_events = static_cast<std::uint32_t>(std::min<std::uint64_t>(window_ - in_flight_events_, max_batch_events_));
  read.max_bytes = kMaxBatchBytes;
  read.filter = filter_;
  // Events go straight from the store's buffer into the response's wire bytes.
  wire_.Start();
  std::vector<std::uint64_t> offsets;  // of the events delivered, when filtered
  const bool filtered = !filter_.empty();
  Result<ReadResult> result = context_.log->ReadEach(read, [this, &offsets, filtered](const EventView& event) {
    wire_.Add(event);
    if (filtered) offsets.push_back(event.offset);
  });
  if (!result.ok()) {
    FinishLocked(ToGrpcStatus(result.status()));
    return;
  }
  if (wire_.empty()) {
    const std::uint64_t skipped_to = std::max(result->resolved_offset, result->next_offset);
    const bool skipped = skipped_to > next_offset_;
    next_offset_ = std::max(next_offset_, skipped_to);
    if (!filtered || !skipped) return ArmWakeLocked();
    if (in_flight_.empty()) CommitLocked(next_offset_ - 1);  // only skipped events since the last ack
    if (next_offset_ < result->head) return ContinueFromPoolLocked();
    // Caught up with nothing to deliver: say how far the stream has read, so that a client
    // reading up to the head knows it is there.
    return WriteLocked(wire_.Finish(result->head, next_offset_));
  }

  // Unfiltered, events are consecutive within one read; a gap before them (retention) is skipped.
  InFlightBatch batch{wire_.first_offset(), wire_.last_offset(), std::move(offsets), 0};
  in_flight_events_ += batch.size();
  next_offset_ = std::max(result->next_offset, batch.last + 1);
  in_flight_.push_back(std::move(batch));
  if (context_.metrics != nullptr) context_.metrics->Delivered(topic_, wire_.events(), wire_.payload_bytes());
  WriteLocked(wire_.Finish(result->head, next_offset_));
}

void ConsumeReactor::WriteResponseLocked() {
  grpc::ByteBuffer bytes;
  bool own_buffer = false;
  if (!grpc::GenericSerialize<grpc::ProtoBufferWriter, v1::ConsumeResponse>(response_, &bytes, &own_buffer).ok()) {
    FinishLocked(grpc::Status(grpc::StatusCode::INTERNAL, "a Consume response could not be serialized"));
    return;
  }
  WriteLocked(std::move(bytes));
}

void ConsumeReactor::WriteLocked(grpc::ByteBuffer bytes) {
  response_bytes_ = std::move(bytes);
  write_in_flight_ = true;
  StartWrite(&response_bytes_);
}

void ConsumeReactor::ContinueFromPoolLocked() {
  waiting_ = true;  // nothing else starts a read until the pool's turn comes
  PostLocked(shared_, context_.wake_pool, [](ConsumeReactor& reactor) { reactor.OnWokenLocked(); });
}

namespace {
// The stream whose lock this thread holds while it calls into the engine (arming a wake-up,
// fetching, acking): the engine may run that stream's callback at once, inside the call.
thread_local const void* calling_stream = nullptr;
}  // namespace

ConsumeReactor::CallingEngine::CallingEngine(const Shared* stream) { calling_stream = stream; }
ConsumeReactor::CallingEngine::~CallingEngine() { calling_stream = nullptr; }

void ConsumeReactor::RunLocked(const std::shared_ptr<Shared>& shared, WorkPool* pool,
                               std::function<void(ConsumeReactor&)> work) {
  if (calling_stream != shared.get() && shared->mutex.try_lock()) {
    std::lock_guard lock(shared->mutex, std::adopt_lock);
    if (shared->reactor != nullptr) work(*shared->reactor);
    return;
  }
  PostLocked(shared, pool, std::move(work));
}

void ConsumeReactor::PostLocked(const std::shared_ptr<Shared>& shared, WorkPool* pool,
                                std::function<void(ConsumeReactor&)> work) {
  pool->Post([shared, work = std::move(work)] {
    std::lock_guard lock(shared->mutex);
    if (shared->reactor != nullptr) work(*shared->reactor);
  });
}

void ConsumeReactor::ArmWakeLocked() {
  waiting_ = true;
  // The engine calls `wake` after the commit that makes the offset durable, on its commit or
  // completion thread. A live tail goes out from there at once when the stream's lock is free:
  // a wake-up pool hop would add a thread switch to every event's latency. When the lock is busy
  // (the stream is writing or taking an ack) or held by this very thread (the offset was durable
  // already), the wake-up is posted to the wake pool instead; never wait for a stream's lock on the
  // engine's threads.
  auto fired = std::make_shared<std::atomic<bool>>(false);
  WorkPool* pool = context_.wake_pool;
  std::shared_ptr<Shared> shared = shared_;
  {
    CallingEngine calling(shared.get());
    wait_id_ = context_.log->WaitForOffset(topic_, next_offset_, [shared, pool, fired] {
      fired->store(true);
      RunLocked(shared, pool, [](ConsumeReactor& reactor) { reactor.OnWokenLocked(); });
    });
  }
  if (wait_id_ == 0 && !fired->load()) {
    waiting_ = false;
    FinishLocked(grpc::Status(grpc::StatusCode::NOT_FOUND, "topic " + topic_ + " no longer exists"));
  }
}

void ConsumeReactor::OnWokenLocked() {
  waiting_ = false;
  wait_id_ = 0;
  ContinueLocked();
}

void ConsumeReactor::StartCommitsLocked() {
  if (shared_->commit_running || !shared_->pending_commit) return;
  shared_->commit_running = true;
  context_.blocking_pool->Post([shared = shared_, log = context_.log, topic = topic_, consumer = consumer_] {
    RunCommits(shared, log, topic, consumer);
  });
}

void ConsumeReactor::RunCommits(std::shared_ptr<Shared> shared, EventLog* log, std::string topic,
                                std::string consumer) {
  for (;;) {
    std::uint64_t offset = 0;
    {
      std::lock_guard lock(shared->mutex);
      if (!shared->pending_commit) {
        shared->commit_running = false;
        if (shared->reactor != nullptr) shared->reactor->OnCommitsIdleLocked();
        return;
      }
      offset = *shared->pending_commit;
      shared->pending_commit.reset();
    }
    const Status status = log->CommitCursor(topic, consumer, offset, CursorMove::kIgnoreBackwards);
    if (!status.ok()) {
      spdlog::warn("consume: committing cursor of consumer '{}' on topic {} at {} failed: {}", consumer, topic,
                   offset, status.ToString());
      std::lock_guard lock(shared->mutex);
      shared->commit_running = false;
      shared->pending_commit.reset();
      if (shared->reactor != nullptr) shared->reactor->FinishLocked(ToGrpcStatus(status));
      return;
    }
  }
}

void ConsumeReactor::OnCommitsIdleLocked() {
  if (reads_closed_) FinishLocked(grpc::Status::OK);
}

void ConsumeReactor::FinishLocked(const grpc::Status& status) {
  if (finish_status_) return;
  finish_status_ = status;
  if (!write_in_flight_) {
    finish_sent_ = true;
    Finish(status);
  }
}

void ConsumeReactor::OnWriteDone(bool ok) {
  std::shared_ptr<Shared> shared = shared_;
  std::lock_guard lock(shared->mutex);
  write_in_flight_ = false;
  response_bytes_.Clear();  // sent: an idle stream keeps no batch
  if (finish_status_ && !finish_sent_) {
    finish_sent_ = true;
    Finish(*finish_status_);
    return;
  }
  if (!ok) {
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
    return;
  }
  if (member_) return ContinueGroupLocked();
  ContinueLocked();
}

void ConsumeReactor::OnCancel() {
  std::shared_ptr<Shared> shared = shared_;
  std::lock_guard lock(shared->mutex);
  FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client"));
}

void ConsumeReactor::OnDone() {
  std::shared_ptr<Shared> shared = shared_;
  WaitId wait_id = 0;
  {
    std::lock_guard lock(shared->mutex);
    shared->reactor = nullptr;
    if (waiting_) wait_id = wait_id_;
  }
  // Its unacked events go back to the group at once (outside the lock: the group wakes others).
  if (member_) member_->Leave();
  // Outside the lock: the engine may be calling this stream's wake-up right now, and that only
  // posts to the wake pool, where it will find the reactor gone.
  if (wait_id != 0) context_.log->CancelWait(topic_, wait_id);
  if (admitted_) context_.streams->Remove(shared.get());
  delete this;
}

}  // namespace goethe::server
