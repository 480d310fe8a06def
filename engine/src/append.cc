// Appends: validation on the caller's thread, then offsets, timestamps, index entries and
// idempotency keys staged by the commit loop.
#include <memory>

#include "event_log_impl.h"
#include "keys.h"
#include "records.h"

namespace goethe {
namespace {

// Validation that needs no engine state, done before the request is queued.
Status ValidateRequest(const AppendRequest& request, std::uint64_t max_event_bytes) {
  if (Status s = EventLog::ValidateTopicName(request.topic); !s.ok()) return s;
  if (request.payloads.empty()) return InvalidArgument("an append needs at least one event");
  for (std::size_t i = 0; i < request.payloads.size(); ++i) {
    if (request.payloads[i].size() > max_event_bytes) {
      return InvalidArgument("event " + std::to_string(i) + " is " + std::to_string(request.payloads[i].size()) +
                             " bytes, more than the limit of " + std::to_string(max_event_bytes) + " bytes");
    }
  }
  if (request.idempotency_key.size() > 255) {
    return InvalidArgument("idempotency key must be at most 255 bytes, got " +
                           std::to_string(request.idempotency_key.size()));
  }
  return Status::Ok();
}

// The timestamps of events already stored, for answering an idempotent retry.
std::vector<TimestampNs> StoredTimestamps(kv::Store& store, std::uint64_t topic_id,
                                          const records::IdempotencyRecord& record) {
  std::vector<TimestampNs> timestamps(record.count, 0);
  auto it = store.NewIterator({});
  std::uint64_t offset = record.first_offset;
  const std::string end = keys::Event(topic_id, record.first_offset + record.count);
  for (it->Seek(keys::Event(topic_id, offset)); it->Valid() && it->key() < end; it->Next()) {
    auto at = keys::EventOffset(it->key());
    auto event = records::DecodeEvent(it->value());
    if (at && event && *at >= record.first_offset) timestamps[*at - record.first_offset] = event->timestamp_ns;
  }
  return timestamps;
}

}  // namespace

void EventLog::Impl::AppendAsync(AppendRequest request, AppendCallback done) {
  if (Status s = ValidateRequest(request, options_.max_event_bytes); !s.ok()) {
    done(AppendOutcome{s, {}, 0});
    return;
  }
  auto outcome = std::make_shared<AppendOutcome>();
  const std::size_t events = request.payloads.size();
  auto shared_request = std::make_shared<AppendRequest>(std::move(request));
  loop_->Submit({.events = events,
                 .stage = [this, shared_request, outcome](CommitContext& ctx) {
                   return StageAppend(ctx, *shared_request, *outcome);
                 },
                 .finish = [outcome, done = std::move(done)](const Status& status) {
                   outcome->status = status;
                   done(std::move(*outcome));
                 }});
}

Status EventLog::Impl::StageAppend(CommitContext& ctx, const AppendRequest& request, AppendOutcome& outcome) {
  TopicPtr topic = ctx.Find(request.topic);
  if (!topic) {
    if (!request.create_topic) return NotFound("topic '" + request.topic + "' does not exist");
    if (request.expected_next_offset && *request.expected_next_offset != 0) {
      outcome.next_offset = 0;
      return Aborted("topic '" + request.topic + "': expected next offset " +
                     std::to_string(*request.expected_next_offset) + ", but the topic is new (next offset 0)");
    }
    TopicSettings settings;
    if (Status s = ResolveSettings(&settings); !s.ok()) return s;
    topic = ctx.StageCreate(request.topic, settings);
  }
  TopicState::LoopView& view = ctx.View(topic);
  outcome.next_offset = view.next_offset;

  // An idempotent retry answers with the first call's offsets and writes nothing.
  if (!request.idempotency_key.empty()) {
    auto existing = ctx.Idempotency(topic->id, request.idempotency_key);
    if (!existing.ok()) return existing.status();
    const auto& entry = existing.value();
    if (entry && ctx.now() - entry->record.created_ns < options_.idempotency_window.count()) {
      outcome.result.first_offset = entry->record.first_offset;
      outcome.result.timestamps = entry->timestamps.empty()
                                      ? StoredTimestamps(ctx.store(), topic->id, entry->record)
                                      : entry->timestamps;
      outcome.result.duplicate = true;
      return Status::Ok();
    }
  }
  if (request.expected_next_offset && *request.expected_next_offset != view.next_offset) {
    return Aborted("topic '" + request.topic + "': expected next offset " +
                   std::to_string(*request.expected_next_offset) + ", but the next offset is " +
                   std::to_string(view.next_offset));
  }

  // Timestamps never go backwards within a topic, whatever the wall clock does.
  const TimestampNs timestamp = std::max(ctx.now(), view.last_ns);
  const std::int64_t bucket = topic->BucketOf(timestamp);
  if (bucket > view.last_bucket) {
    std::string offset;
    keys::PutBigEndian64(&offset, view.next_offset);
    ctx.batch().Put(keys::Index(topic->id, static_cast<std::uint64_t>(bucket)), offset);
    view.last_bucket = bucket;
  }
  outcome.result.first_offset = view.next_offset;
  outcome.result.timestamps.assign(request.payloads.size(), timestamp);
  for (const std::string& payload : request.payloads) {
    std::string value;
    records::AppendEventValue(&value, timestamp, payload);
    ctx.batch().PutOwned(keys::Event(topic->id, view.next_offset++), std::move(value));
    view.appended_bytes += payload.size();
  }
  view.last_ns = timestamp;
  ctx.MarkHeadChanged(topic);
  outcome.next_offset = view.next_offset;

  if (!request.idempotency_key.empty()) {
    ctx.StageIdempotency(topic->id, request.idempotency_key,
                         IdempotencyEntry{{outcome.result.first_offset, request.payloads.size(), ctx.now()},
                                          outcome.result.timestamps});
  }
  return Status::Ok();
}

}  // namespace goethe
