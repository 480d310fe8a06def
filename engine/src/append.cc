// Appends: validation on the caller's thread, then offsets, timestamps, index entries and
// idempotency keys staged by the commit loop.
#include <algorithm>
#include <memory>
#include <set>
#include <string_view>

#include "event_log_impl.h"
#include "keys.h"
#include "records.h"

namespace goethe {
namespace {

Status ValidateAttributes(const EventAttributes& attributes, std::size_t event, const EventLogOptions& options) {
  // The stored value's length fields bound what any configuration may allow (records.h).
  const std::uint64_t max_key = std::min<std::uint64_t>(options.max_key_bytes, records::kMaxKeyBytes);
  const std::uint64_t max_headers = std::min<std::uint64_t>(options.max_headers, records::kMaxHeadersPerEvent);
  if (attributes.key.size() > max_key)
    return InvalidArgument("event " + std::to_string(event) + ": its key is " + std::to_string(attributes.key.size()) +
                           " bytes, more than the limit of " + std::to_string(max_key) +
                           " bytes (engine.max_key_bytes)");
  if (attributes.headers.size() > max_headers)
    return InvalidArgument("event " + std::to_string(event) + " has " + std::to_string(attributes.headers.size()) +
                           " headers, more than the limit of " + std::to_string(max_headers) +
                           " (engine.max_headers)");
  for (std::size_t h = 0; h < attributes.headers.size(); ++h) {
    if (Status s = EventLog::ValidateHeaderName(attributes.headers[h].name); !s.ok())
      return InvalidArgument("event " + std::to_string(event) + ", header " + std::to_string(h) + ": " + s.message());
  }
  return Status::Ok();
}

Status ValidateIdempotencyKey(const std::string& key) {
  if (key.size() <= 255) return Status::Ok();
  return InvalidArgument("idempotency key must be at most 255 bytes, got " + std::to_string(key.size()));
}

// Validation that needs no engine state, done before the request is queued.
Status ValidateRequest(const AppendRequest& request, const EventLogOptions& options) {
  if (Status s = EventLog::ValidateTopicName(request.topic); !s.ok()) return s;
  if (request.payloads.empty()) return InvalidArgument("an append needs at least one event");
  if (!request.attributes.empty() && request.attributes.size() != request.payloads.size())
    return InvalidArgument("an append gives attributes for " + std::to_string(request.attributes.size()) +
                           " events but has " + std::to_string(request.payloads.size()));
  for (std::size_t i = 0; i < request.payloads.size(); ++i) {
    const EventAttributes* attributes = request.attributes.empty() ? nullptr : &request.attributes[i];
    if (attributes != nullptr) {
      if (Status s = ValidateAttributes(*attributes, i, options); !s.ok()) return s;
    }
    const std::uint64_t bytes = records::EventBytes(request.payloads[i], attributes);
    if (bytes > options.max_event_bytes) {
      return InvalidArgument("event " + std::to_string(i) + " is " + std::to_string(bytes) +
                             " bytes (payload, key and headers), more than the limit of " +
                             std::to_string(options.max_event_bytes) + " bytes (engine.max_event_bytes)");
    }
  }
  return ValidateIdempotencyKey(request.idempotency_key);
}

Status ValidateMultiRequest(const MultiAppendRequest& request, const EventLogOptions& options) {
  if (request.parts.empty()) return InvalidArgument("an append across topics needs at least one topic");
  std::set<std::string_view> topics;
  for (const AppendRequest& part : request.parts) {
    if (Status s = ValidateRequest(part, options); !s.ok()) {
      return Status(s.code(), "topic '" + part.topic + "': " + s.message());
    }
    if (!part.idempotency_key.empty())
      return InvalidArgument("topic '" + part.topic +
                             "': an append across topics takes one idempotency key for all of them, not one per topic");
    if (!topics.insert(part.topic).second)
      return InvalidArgument("topic '" + part.topic + "' appears twice in one append across topics: merge its events");
  }
  return ValidateIdempotencyKey(request.idempotency_key);
}

// now - created < window, for any created_ns a stored record may hold, without overflowing
// (found by fuzzing: tests/fuzz/regressions/fuzz_engine_open/idempotency-created-far-past).
bool WithinWindow(TimestampNs now, TimestampNs created, std::int64_t window) {
  TimestampNs age;
  if (__builtin_sub_overflow(now, created, &age)) return created > now;  // far future: inside; far past: not
  return age < window;
}

// The timestamps of the events of an earlier append, for answering its idempotent retry; 0 for
// those retention has deleted since. The stored record is checked against the topic and its events
// before anything is sized by it, so a damaged record is DATA_LOSS, never a huge allocation
// (found by fuzzing: tests/fuzz/regressions/fuzz_engine_open/idempotency-record-huge-count).
Result<std::vector<TimestampNs>> StoredTimestamps(kv::Store& store, KeyOrder order, std::uint64_t topic_id,
                                                  const TopicState::LoopView& view,
                                                  const records::IdempotencyRecord& record) {
  const Status damaged = DataLoss("damaged idempotency record: it names offsets " +
                                  std::to_string(record.first_offset) + " + " + std::to_string(record.count) +
                                  ", which the topic's events do not match");
  // Offsets the topic has assigned, and retained events of that range that are all there.
  if (record.first_offset > view.next_offset || record.count > view.next_offset - record.first_offset) return damaged;
  const std::uint64_t end_offset = record.first_offset + record.count;
  const std::uint64_t retained_from = std::max(record.first_offset, view.first_offset);
  std::vector<TimestampNs> retained;  // of offsets retained_from, retained_from + 1, ...
  if (retained_from < end_offset) {
    EventScan scan(store, order, topic_id, retained_from, end_offset);
    for (; scan.Valid(); scan.Next()) {
      auto event = records::DecodeEvent(scan.value());
      if (!scan.offset() || !event || *scan.offset() != retained_from + retained.size()) return damaged;
      retained.push_back(event->timestamp_ns);
    }
    if (!scan.status().ok()) return FromKv(scan.status(), "reading the events of an idempotent retry");
    if (retained.size() != end_offset - retained_from) return damaged;
  }
  std::vector<TimestampNs> timestamps(record.count - retained.size(), 0);  // deleted by retention
  timestamps.insert(timestamps.end(), retained.begin(), retained.end());
  return timestamps;
}

}  // namespace

void EventLog::Impl::Submit(CommitJob job, CommitOn where) {
  if (where == CommitOn::kCallerIfIdle) return loop_->SubmitHereIfIdle(std::move(job));
  loop_->Submit(std::move(job));
}

void EventLog::Impl::AppendAsync(AppendRequest request, AppendCallback done, CommitOn where) {
  if (std::optional<CommitJob> job = MakeAppendJob(std::move(request), std::move(done))) Submit(std::move(*job), where);
}

AppendOutcome EventLog::Impl::Append(AppendRequest request) {
  AppendOutcome result;
  // A request that fails validation is answered before MakeAppendJob returns.
  std::optional<CommitJob> job =
      MakeAppendJob(std::move(request), [&result](AppendOutcome outcome) { result = std::move(outcome); });
  if (job) loop_->CommitAndAwait(std::move(*job));
  return result;
}

std::optional<CommitJob> EventLog::Impl::MakeAppendJob(AppendRequest request, AppendCallback done) {
  if (Status s = ValidateRequest(request, options_); !s.ok()) {
    done(AppendOutcome{s, {}, 0});
    return std::nullopt;
  }
  auto outcome = std::make_shared<AppendOutcome>();
  const std::size_t events = request.payloads.size();
  auto shared_request = std::make_shared<AppendRequest>(std::move(request));
  return CommitJob{.events = events,
                   .stage = [this, shared_request, outcome](CommitContext& ctx) {
                     AppendPlan plan;
                     if (Status s = CheckAppend(ctx, *shared_request, &plan, *outcome); !s.ok()) return s;
                     WriteAppend(ctx, *shared_request, plan, *outcome);
                     return Status::Ok();
                   },
                   .finish = [outcome, done = std::move(done)](const Status& status) {
                     outcome->status = status;
                     done(std::move(*outcome));
                   }};
}

void EventLog::Impl::AppendMultiAsync(MultiAppendRequest request, MultiAppendCallback done, CommitOn where) {
  if (std::optional<CommitJob> job = MakeMultiAppendJob(std::move(request), std::move(done)))
    Submit(std::move(*job), where);
}

MultiAppendOutcome EventLog::Impl::AppendMulti(MultiAppendRequest request) {
  MultiAppendOutcome result;
  std::optional<CommitJob> job =
      MakeMultiAppendJob(std::move(request), [&result](MultiAppendOutcome outcome) { result = std::move(outcome); });
  if (job) loop_->CommitAndAwait(std::move(*job));
  return result;
}

std::optional<CommitJob> EventLog::Impl::MakeMultiAppendJob(MultiAppendRequest request, MultiAppendCallback done) {
  if (Status s = ValidateMultiRequest(request, options_); !s.ok()) {
    done(MultiAppendOutcome{s, {}, std::nullopt});
    return std::nullopt;
  }
  // Each part is checked as a single append with the request's idempotency key.
  std::size_t events = 0;
  for (AppendRequest& part : request.parts) {
    part.idempotency_key = request.idempotency_key;
    events += part.payloads.size();
  }
  auto outcome = std::make_shared<MultiAppendOutcome>();
  outcome->parts.resize(request.parts.size());
  auto shared_request = std::make_shared<MultiAppendRequest>(std::move(request));
  return CommitJob{.events = events,
                   .stage = [this, shared_request, outcome](CommitContext& ctx) {
                     return StageMultiAppend(ctx, *shared_request, *outcome);
                   },
                   .finish = [outcome, done = std::move(done)](const Status& status) {
                     outcome->status = status;
                     done(std::move(*outcome));
                   }};
}

Status EventLog::Impl::StageMultiAppend(CommitContext& ctx, const MultiAppendRequest& request,
                                        MultiAppendOutcome& outcome) {
  // Every part is checked before any is written: a failed job must leave nothing behind.
  std::vector<AppendPlan> plans(request.parts.size());
  std::size_t duplicates = 0;
  for (std::size_t i = 0; i < request.parts.size(); ++i) {
    if (Status s = CheckAppend(ctx, request.parts[i], &plans[i], outcome.parts[i]); !s.ok()) {
      outcome.failed_part = i;
      return s;
    }
    if (plans[i].duplicate) ++duplicates;
  }
  if (duplicates != 0 && duplicates != plans.size()) {
    std::string used, unused;
    for (std::size_t i = 0; i < plans.size(); ++i) {
      std::string& list = plans[i].duplicate ? used : unused;
      list += (list.empty() ? "'" : ", '") + request.parts[i].topic + "'";
    }
    return FailedPrecondition("idempotency key '" + request.idempotency_key + "' was used within the window on " +
                              used + " but not on " + unused + ": it names a different append; use a new key");
  }
  for (std::size_t i = 0; i < request.parts.size(); ++i) WriteAppend(ctx, request.parts[i], plans[i], outcome.parts[i]);
  return Status::Ok();
}

Status EventLog::Impl::CheckAppend(CommitContext& ctx, const AppendRequest& request, AppendPlan* plan,
                                   AppendOutcome& outcome) {
  plan->topic = ctx.Find(request.topic);
  if (!plan->topic) {
    if (!request.create_topic) return NotFound("topic '" + request.topic + "' does not exist");
    if (request.expected_next_offset && *request.expected_next_offset != 0) {
      outcome.next_offset = 0;
      return Aborted("topic '" + request.topic + "': expected next offset " +
                     std::to_string(*request.expected_next_offset) + ", but the topic is new (next offset 0)");
    }
    return ResolveSettings(&plan->new_topic_settings);
  }
  const TopicState::LoopView& view = ctx.PeekView(plan->topic);
  outcome.next_offset = view.next_offset;

  // An idempotent retry answers with the first call's offsets and writes nothing.
  if (!request.idempotency_key.empty()) {
    auto existing = ctx.Idempotency(plan->topic->id, request.idempotency_key);
    if (!existing.ok()) return existing.status();
    const auto& entry = existing.value();
    if (entry && WithinWindow(ctx.now(), entry->record.created_ns, options_.idempotency_window.count())) {
      outcome.result.first_offset = entry->record.first_offset;
      if (entry->timestamps.empty()) {
        auto stored = StoredTimestamps(ctx.store(), ctx.key_order(), plan->topic->id, view, entry->record);
        if (!stored.ok()) return stored.status();
        outcome.result.timestamps = std::move(stored).value();
      } else {
        outcome.result.timestamps = entry->timestamps;
      }
      outcome.result.duplicate = true;
      plan->duplicate = true;
      return Status::Ok();
    }
  }
  if (request.expected_next_offset && *request.expected_next_offset != view.next_offset) {
    return Aborted("topic '" + request.topic + "': expected next offset " +
                   std::to_string(*request.expected_next_offset) + ", but the next offset is " +
                   std::to_string(view.next_offset));
  }
  return Status::Ok();
}

void EventLog::Impl::WriteAppend(CommitContext& ctx, const AppendRequest& request, const AppendPlan& plan,
                                 AppendOutcome& outcome) {
  if (plan.duplicate) return;
  const TopicPtr topic = plan.topic ? plan.topic : ctx.StageCreate(request.topic, plan.new_topic_settings);
  TopicState::LoopView& view = ctx.View(topic);

  // Timestamps never go backwards within a topic, whatever the wall clock does.
  const TimestampNs timestamp = std::max(ctx.now(), view.last_ns);
  const std::int64_t bucket = topic->BucketOf(timestamp);
  kv::WriteBatch& batch = ctx.batch();
  if (bucket > view.last_bucket) {
    std::string offset;
    keys::PutBigEndian64(&offset, view.next_offset);
    batch.Put(keys::Index(topic->id, static_cast<std::uint64_t>(bucket)), offset);
    view.last_bucket = bucket;
  }
  outcome.result.first_offset = view.next_offset;
  outcome.result.timestamps.assign(request.payloads.size(), timestamp);
  const EventKeyMaker key_of = ctx.EventKeys(topic, view, request.payloads.size());
  for (std::size_t i = 0; i < request.payloads.size(); ++i) {
    const std::string& payload = request.payloads[i];
    const EventAttributes* attributes = request.attributes.empty() ? nullptr : &request.attributes[i];
    if (attributes != nullptr && !attributes->empty()) ctx.UseAttributesFormat();
    const keys::EventKey key = key_of(view.next_offset++);
    char* value = batch.PutUninitialized(key.view(), records::EventValueSize(payload, attributes));
    view.appended_bytes += records::EventBytes(payload, attributes);
    records::EncodeEventValue(value, timestamp, view.appended_bytes, payload, attributes);
  }
  view.last_ns = timestamp;
  outcome.next_offset = view.next_offset;

  if (!request.idempotency_key.empty()) {
    ctx.StageIdempotency(topic->id, request.idempotency_key,
                         IdempotencyEntry{{outcome.result.first_offset, request.payloads.size(), ctx.now()},
                                          outcome.result.timestamps});
  }
}

}  // namespace goethe
