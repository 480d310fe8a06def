// ConsumeReactor as a member of a consumer group: the group picks the events (GroupMember::Fetch),
// this stream writes them one batch at a time and passes acks, nacks and extends on. A fetch's
// events arrive once the group has recorded their delivery durably; an ack opens the window once
// it is durable.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "consume_reactor.h"
#include "proto_convert.h"
#include "request_validation.h"
#include "status_mapping.h"

namespace goethe::server {
namespace {

constexpr std::uint32_t kDefaultGroupWindow = 1000;

}  // namespace

void ConsumeReactor::JoinGroupLocked(const v1::Subscribe& subscribe) {
  auto fail = [this](const Status& status) { FinishLocked(ToGrpcStatus(status)); };
  Result<GroupSubscription> subscription = ToGroupSubscription(subscribe, context_.max_consume_window);
  if (!subscription.ok()) return fail(subscription.status());
  topic_ = subscribe.topic();
  window_ = subscribe.window() == 0 ? std::min(kDefaultGroupWindow, context_.max_consume_window) : subscribe.window();
  max_batch_events_ = BatchEventsFor(subscribe);
  std::shared_ptr<Shared> shared = shared_;
  WorkPool* pool = context_.wake_pool;
  JoinOptions options;
  options.window = window_;
  options.on_work = [shared, pool](const Status& ended) {
    RunLocked(shared, pool, [ended](ConsumeReactor& reactor) {
      if (!ended.ok()) return reactor.FinishLocked(ToGrpcStatus(ended));
      reactor.work_signalled_ = true;
      reactor.ContinueGroupLocked();
    });
  };
  auto joined = context_.log->JoinGroup(topic_, subscription->group, subscription->settings, subscription->start,
                                        std::move(options));
  if (!joined.ok()) return fail(joined.status());
  member_ = std::move(joined).value();
  auto info = context_.log->DescribeGroup(topic_, subscription->group);
  if (!info.ok()) return fail(info.status());

  subscribed_ = true;
  response_.Clear();
  v1::Subscribed* subscribed = response_.mutable_subscribed();
  subscribed->set_resolved_offset(info->ack_floor);
  if (auto topic = context_.log->DescribeTopic(topic_); topic.ok()) {
    subscribed->set_first_offset(topic->first_offset);
    subscribed->set_head(topic->next_offset);
  }
  subscribed->set_window(window_);
  ToProto(*info, subscribed->mutable_group());
  WriteResponseLocked();
  spdlog::debug("consume: joined group {} of topic {} as member {} window={}", subscription->group, topic_,
                member_->id(), window_);
}

void ConsumeReactor::ContinueGroupLocked() {
  if (!subscribed_ || finish_status_ || reads_closed_ || write_in_flight_ || fetch_in_flight_) return;
  fetch_in_flight_ = true;
  work_signalled_ = false;
  std::shared_ptr<Shared> shared = shared_;
  WorkPool* pool = context_.wake_pool;
  CallingEngine calling(shared.get());
  member_->Fetch(max_batch_events_, kMaxBatchBytes, [shared, pool](Result<std::vector<GroupDelivery>> fetched) {
    auto result = std::make_shared<Result<std::vector<GroupDelivery>>>(std::move(fetched));
    RunLocked(shared, pool, [result](ConsumeReactor& reactor) { reactor.OnFetchedLocked(std::move(*result)); });
  });
}

void ConsumeReactor::OnFetchedLocked(Result<std::vector<GroupDelivery>> fetched) {
  fetch_in_flight_ = false;
  if (!fetched.ok()) return FinishLocked(ToGrpcStatus(fetched.status()));
  if (finish_status_) return;
  if (fetched->empty()) {
    // The group calls on_work when there may be work; if it did while this fetch ran, look again.
    if (work_signalled_) ContinueGroupLocked();
    return;
  }
  v1::EventBatch* batch = response_.mutable_events();
  batch->Clear();
  for (GroupDelivery& delivery : *fetched) {
    v1::Event* event = batch->add_events();
    event->set_delivery_count(delivery.deliveries);
    ToProto(std::move(delivery.event), event);
  }
  batch->set_next_offset(batch->events(batch->events_size() - 1).offset() + 1);
  if (context_.metrics != nullptr) context_.metrics->Delivered(topic_, batch->events());
  WriteResponseLocked();
}

void ConsumeReactor::HandleGroupMessageLocked(const v1::ConsumeRequest& request) {
  switch (request.kind_case()) {
    case v1::ConsumeRequest::kAck:
      // Every event delivered to this member up to the offset.
      return GroupAckLocked({{0, request.ack().offset()}});
    case v1::ConsumeRequest::kGroupAck: {
      // Leaving: as after a half-close, nothing more is delivered and the stream ends once the
      // acks are durable.
      if (request.group_ack().leave()) reads_closed_ = true;
      std::vector<OffsetRange> ranges;
      for (std::uint64_t offset : request.group_ack().offsets()) ranges.push_back({offset, offset});
      for (const v1::OffsetRange& range : request.group_ack().ranges()) ranges.push_back({range.first(), range.last()});
      return GroupAckLocked(std::move(ranges));
    }
    case v1::ConsumeRequest::kNack: {
      const v1::Nack& nack = request.nack();
      const std::vector<std::uint64_t> offsets(nack.offsets().begin(), nack.offsets().end());
      Result<std::chrono::nanoseconds> delay = ToNackDelay(nack);
      if (!delay.ok()) return FinishLocked(ToGrpcStatus(delay.status()));
      Status status;
      {
        CallingEngine calling(shared_.get());
        status = member_->Nack(offsets, *delay, nack.reason());
      }
      if (!status.ok()) return FinishLocked(ToGrpcStatus(status));
      work_signalled_ = true;  // as after an ack: the window has room
      return ContinueGroupLocked();
    }
    case v1::ConsumeRequest::kExtend: {
      const std::vector<std::uint64_t> offsets(request.extend().offsets().begin(), request.extend().offsets().end());
      if (Status status = member_->Extend(offsets); !status.ok()) return FinishLocked(ToGrpcStatus(status));
      return;
    }
    default:
      return FinishLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                       "already subscribed: every later message on a group stream must be "
                                       "'ack', 'group_ack', 'nack' or 'extend'"));
  }
}

void ConsumeReactor::GroupAckLocked(std::vector<OffsetRange> ranges) {
  ++group_acks_in_flight_;
  std::shared_ptr<Shared> shared = shared_;
  WorkPool* pool = context_.wake_pool;
  CallingEngine calling(shared.get());
  member_->Ack(std::move(ranges), [shared, pool](const Status& status) {
    RunLocked(shared, pool, [status](ConsumeReactor& reactor) { reactor.OnGroupAckedLocked(status); });
  });
}

void ConsumeReactor::OnGroupAckedLocked(const Status& status) {
  --group_acks_in_flight_;
  if (!status.ok()) return FinishLocked(ToGrpcStatus(status));
  if (reads_closed_ && group_acks_in_flight_ == 0) return FinishLocked(grpc::Status::OK);
  // The window has room again. A fetch still running may have found it full: it looks again.
  work_signalled_ = true;
  ContinueGroupLocked();
}

}  // namespace goethe::server
