#include "produce_stream_reactor.h"

#include "leader_gate.h"
#include "produce_validation.h"
#include "proto_convert.h"
#include "status_mapping.h"

namespace goethe::server {

void ProduceStreamReactor::Shared::CloseForShutdown() {
  std::lock_guard lock(mutex);
  if (reactor == nullptr) return;
  reactor->shutting_down_ = true;
  reactor->PumpLocked();
}

ProduceStreamReactor::ProduceStreamReactor(const ServiceContext& context, const Principal& caller)
    : context_(context), caller_(caller), shared_(std::make_shared<Shared>()) {
  shared_->reactor = this;
  std::lock_guard lock(shared_->mutex);
  if (Status admitted = context_.streams->Admit(shared_); !admitted.ok()) {
    FinishLocked(ToGrpcStatus(admitted));
    return;
  }
  admitted_ = true;
  PumpLocked();
}

grpc::Status ProduceStreamReactor::CheckAccess(const v1::ProduceStreamRequest& request) const {
  if (!request.has_multi()) return context_.access->Check(caller_, Permission::kProduce, request.batch().topic());
  for (const v1::ProduceRequest& part : request.multi().topics()) {
    if (grpc::Status denied = context_.access->Check(caller_, Permission::kProduce, part.topic()); !denied.ok())
      return denied;
  }
  return grpc::Status::OK;
}

void ProduceStreamReactor::OnReadDone(bool ok) {
  std::shared_ptr<Shared> shared = shared_;
  std::optional<AppendRequest> append;
  std::optional<MultiAppendRequest> multi;
  std::uint64_t sequence = 0;
  {
    std::lock_guard lock(shared->mutex);
    read_in_flight_ = false;
    if (!ok) {
      reads_closed_ = true;
      PumpLocked();
      return;
    }
    sequence = next_sequence_++;
    PendingAck& ack = pending_.emplace_back();
    ack.response.set_batch_id(request_.batch_id());
    if (shutting_down_) {
      AckErrorLocked(sequence, Unavailable("server shutting down: batch not appended"));
    } else if (grpc::Status denied = CheckAccess(request_); !denied.ok()) {
      ToProto(denied, ack.response.mutable_error());
      ack.ready = true;
    } else if (std::string leader; std::optional<Status> not_leader = NotLeader(context_.cluster, &leader)) {
      AckErrorLocked(sequence, *not_leader);  // leadership lost since the stream began
    } else if (request_.has_multi() && request_.has_batch()) {
      AckErrorLocked(sequence, InvalidArgument("a stream request carries 'batch' or 'multi', not both"));
    } else if (request_.has_multi()) {
      Result<MultiAppendRequest> checked = ToMultiAppendRequest(std::move(*request_.mutable_multi()),
                                                                context_.produce_limits);
      if (checked.ok()) multi = std::move(checked).value();
      else AckErrorLocked(sequence, checked.status());
    } else {
      Result<AppendRequest> checked = ToAppendRequest(std::move(*request_.mutable_batch()), context_.produce_limits);
      if (checked.ok()) append = std::move(checked).value();
      else AckErrorLocked(sequence, checked.status());
    }
    // No next read until this batch is queued in the engine: batches keep the stream's order.
    dispatching_ = append || multi;
    PumpLocked();
  }
  if (!append && !multi) return;
  // Outside the lock: the engine may complete the append on this very thread.
  ServerMetrics* metrics = context_.metrics;
  if (append) {
    AppendTally tally = metrics != nullptr ? TallyOf(*append) : AppendTally{};
    context_.log->AppendAsync(std::move(*append), [shared, sequence, metrics, tally = std::move(tally)](AppendOutcome outcome) {
      if (metrics != nullptr && outcome.status.ok() && !outcome.result.duplicate) metrics->Appended(tally);
      std::lock_guard lock(shared->mutex);
      if (shared->reactor != nullptr) shared->reactor->OnAppendedLocked(sequence, std::move(outcome));
    });
  } else {
    AppendTally tally = metrics != nullptr ? TallyOf(*multi) : AppendTally{};
    context_.log->AppendMultiAsync(std::move(*multi), [shared, sequence, metrics, tally = std::move(tally)](MultiAppendOutcome outcome) {
      if (metrics != nullptr && outcome.status.ok() && !WroteNothing(outcome)) metrics->Appended(tally);
      std::lock_guard lock(shared->mutex);
      if (shared->reactor != nullptr) shared->reactor->OnMultiAppendedLocked(sequence, std::move(outcome));
    });
  }
  std::lock_guard lock(shared->mutex);
  dispatching_ = false;
  PumpLocked();
}

void ProduceStreamReactor::OnAppendedLocked(std::uint64_t sequence, AppendOutcome outcome) {
  if (!outcome.status.ok()) {
    AckErrorLocked(sequence, AppendFailure(outcome.status, outcome.next_offset));
  } else if (PendingAck* ack = SlotLocked(sequence)) {
    ToProto(outcome.result, outcome.next_offset, ack->response.mutable_result());
    ack->ready = true;
  }
  PumpLocked();
}

void ProduceStreamReactor::OnMultiAppendedLocked(std::uint64_t sequence, MultiAppendOutcome outcome) {
  if (!outcome.status.ok()) {
    AckErrorLocked(sequence, AppendFailure(outcome.status, FailedNextOffset(outcome)));
  } else if (PendingAck* ack = SlotLocked(sequence)) {
    ToProto(outcome, ack->response.mutable_multi_result());
    ack->ready = true;
  }
  PumpLocked();
}

ProduceStreamReactor::PendingAck* ProduceStreamReactor::SlotLocked(std::uint64_t sequence) {
  // Acknowledgements leave in order, so a completing batch always still has its slot; the check
  // only guards against an engine that completes a batch twice.
  if (sequence < first_pending_sequence_ || sequence - first_pending_sequence_ >= pending_.size()) return nullptr;
  return &pending_[sequence - first_pending_sequence_];
}

void ProduceStreamReactor::AckErrorLocked(std::uint64_t sequence, const Status& status) {
  PendingAck* ack = SlotLocked(sequence);
  if (ack == nullptr) return;
  v1::Error* error = ack->response.mutable_error();
  error->set_code(static_cast<std::int32_t>(ToGrpcCode(status.code())));
  error->set_message(status.message());
  ack->ready = true;
}

void ProduceStreamReactor::PumpLocked() {
  if (finished_) return;
  if (!write_in_flight_ && !pending_.empty() && pending_.front().ready) {
    writing_ = std::move(pending_.front().response);
    pending_.pop_front();
    ++first_pending_sequence_;
    write_in_flight_ = true;
    StartWrite(&writing_);
  }
  if (!read_in_flight_ && !dispatching_ && !reads_closed_ && !shutting_down_ &&
      pending_.size() < kMaxBatchesInFlight) {
    read_in_flight_ = true;
    StartRead(&request_);
  }
  if (pending_.empty() && !write_in_flight_) {
    if (reads_closed_) {
      FinishLocked(grpc::Status::OK);
    } else if (shutting_down_) {
      FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                "server shutting down; every batch acknowledged on this stream is durable"));
    }
  }
}

void ProduceStreamReactor::FinishLocked(const grpc::Status& status) {
  if (finished_) return;
  finished_ = true;
  Finish(status);
}

void ProduceStreamReactor::OnWriteDone(bool ok) {
  std::shared_ptr<Shared> shared = shared_;
  std::lock_guard lock(shared->mutex);
  write_in_flight_ = false;
  if (!ok) {
    // The client is gone; its remaining acknowledgements have nowhere to go.
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
    return;
  }
  PumpLocked();
}

void ProduceStreamReactor::OnCancel() {
  std::shared_ptr<Shared> shared = shared_;
  std::lock_guard lock(shared->mutex);
  FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client"));
}

void ProduceStreamReactor::OnDone() {
  std::shared_ptr<Shared> shared = shared_;
  {
    std::lock_guard lock(shared->mutex);
    shared->reactor = nullptr;
  }
  if (admitted_) context_.streams->Remove(shared.get());
  delete this;
}

}  // namespace goethe::server
