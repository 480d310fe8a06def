#include "produce_validation.h"

#include <string>
#include <utility>

#include "goethe/engine/event_log.h"

namespace goethe::server {

namespace {

Status TooManyEvents(std::uint64_t count, const ProduceLimits& limits) {
  return ResourceExhausted("a produce carries " + std::to_string(count) + " events; the limit is " +
                           std::to_string(limits.max_events_per_produce) +
                           " (server.max_events_per_produce): split the batch");
}

std::uint64_t EventBytes(const v1::EventData& event) {
  std::uint64_t bytes = event.payload().size() + event.key().size();
  for (const v1::Header& h : event.headers()) bytes += h.name().size() + h.value().size();
  return bytes;
}

Status CheckEventSize(int index, std::uint64_t size, const ProduceLimits& limits) {
  if (size <= limits.max_event_bytes) return Status::Ok();
  return InvalidArgument("event " + std::to_string(index) + " is " + std::to_string(size) +
                         " bytes; the limit is " + std::to_string(limits.max_event_bytes) +
                         " bytes (engine.max_event_bytes, counting payload, key and headers)");
}

// Moves the events with keys and headers into `append`.
void TakeEvents(v1::ProduceRequest& request, AppendRequest* append) {
  append->payloads.reserve(request.events_size());
  append->attributes.reserve(request.events_size());
  bool any_attributes = false;
  for (v1::EventData& event : *request.mutable_events()) {
    append->payloads.push_back(std::move(*event.mutable_payload()));
    EventAttributes& attributes = append->attributes.emplace_back();
    attributes.key = std::move(*event.mutable_key());
    attributes.headers.reserve(event.headers_size());
    for (v1::Header& h : *event.mutable_headers())
      attributes.headers.push_back({std::move(*h.mutable_name()), std::move(*h.mutable_value())});
    any_attributes = any_attributes || !attributes.empty();
  }
  if (!any_attributes) append->attributes.clear();  // stored exactly as payload-only events
}

}  // namespace

Result<AppendRequest> ToAppendRequest(v1::ProduceRequest&& request, const ProduceLimits& limits) {
  if (Status s = EventLog::ValidateTopicName(request.topic()); !s.ok()) return s;
  if (request.payloads_size() > 0 && request.events_size() > 0)
    return InvalidArgument("a produce gives its events in 'payloads' or in 'events', not in both");
  const auto count = static_cast<std::uint64_t>(request.payloads_size() + request.events_size());
  if (count == 0) return InvalidArgument("a produce needs at least one event; the batch is empty");
  if (count > limits.max_events_per_produce) return TooManyEvents(count, limits);
  for (int i = 0; i < request.payloads_size(); ++i) {
    if (Status s = CheckEventSize(i, request.payloads(i).size(), limits); !s.ok()) return s;
  }
  for (int i = 0; i < request.events_size(); ++i) {
    if (Status s = CheckEventSize(i, EventBytes(request.events(i)), limits); !s.ok()) return s;
  }

  AppendRequest append;
  append.topic = std::move(*request.mutable_topic());
  if (request.events_size() > 0) {
    TakeEvents(request, &append);
  } else {
    append.payloads.reserve(count);
    for (std::string& payload : *request.mutable_payloads()) append.payloads.push_back(std::move(payload));
  }
  if (request.has_expected_next_offset()) append.expected_next_offset = request.expected_next_offset();
  append.idempotency_key = std::move(*request.mutable_idempotency_key());
  append.create_topic = limits.auto_create_topics;
  return append;
}

Result<MultiAppendRequest> ToMultiAppendRequest(v1::ProduceMultiRequest&& request, const ProduceLimits& limits) {
  if (request.topics_size() == 0) return InvalidArgument("an append across topics needs at least one topic");
  std::uint64_t count = 0;
  for (const v1::ProduceRequest& part : request.topics()) count += part.payloads_size() + part.events_size();
  if (count > limits.max_events_per_produce) return TooManyEvents(count, limits);
  MultiAppendRequest multi;
  multi.parts.reserve(request.topics_size());
  for (v1::ProduceRequest& part : *request.mutable_topics()) {
    const std::string topic = part.topic();
    Result<AppendRequest> append = ToAppendRequest(std::move(part), limits);
    if (!append.ok()) return Status(append.status().code(), "topic '" + topic + "': " + append.status().message());
    multi.parts.push_back(std::move(append).value());
  }
  multi.idempotency_key = std::move(*request.mutable_idempotency_key());
  return multi;
}

std::uint64_t FailedNextOffset(const MultiAppendOutcome& outcome) {
  return outcome.failed_part ? outcome.parts[*outcome.failed_part].next_offset : 0;
}

Status AppendFailure(const Status& status, std::uint64_t next_offset) {
  const std::string offset = std::to_string(next_offset);
  if (status.code() != StatusCode::kAborted || status.message().find(offset) != std::string::npos) return status;
  return Aborted(status.message() + " (the topic's next offset is " + offset + ")");
}

}  // namespace goethe::server
