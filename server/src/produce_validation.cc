#include "produce_validation.h"

#include <string>
#include <utility>

#include "goethe/engine/event_log.h"

namespace goethe::server {

Result<AppendRequest> ToAppendRequest(v1::ProduceRequest&& request, const ProduceLimits& limits) {
  if (Status s = EventLog::ValidateTopicName(request.topic()); !s.ok()) return s;
  const auto count = static_cast<std::uint64_t>(request.payloads_size());
  if (count == 0) return InvalidArgument("a produce needs at least one event; the batch is empty");
  if (count > limits.max_events_per_produce)
    return ResourceExhausted("a produce carries " + std::to_string(count) + " events; the limit is " +
                             std::to_string(limits.max_events_per_produce) +
                             " (server.max_events_per_produce): split the batch");
  for (int i = 0; i < request.payloads_size(); ++i) {
    const std::uint64_t size = request.payloads(i).size();
    if (size > limits.max_event_bytes)
      return InvalidArgument("event " + std::to_string(i) + " is " + std::to_string(size) +
                             " bytes; the limit is " + std::to_string(limits.max_event_bytes) +
                             " bytes (engine.max_event_bytes)");
  }

  AppendRequest append;
  append.topic = std::move(*request.mutable_topic());
  append.payloads.reserve(count);
  for (std::string& payload : *request.mutable_payloads()) append.payloads.push_back(std::move(payload));
  if (request.has_expected_next_offset()) append.expected_next_offset = request.expected_next_offset();
  append.idempotency_key = std::move(*request.mutable_idempotency_key());
  append.create_topic = limits.auto_create_topics;
  return append;
}

Status AppendFailure(const Status& status, std::uint64_t next_offset) {
  const std::string offset = std::to_string(next_offset);
  if (status.code() != StatusCode::kAborted || status.message().find(offset) != std::string::npos) return status;
  return Aborted(status.message() + " (the topic's next offset is " + offset + ")");
}

}  // namespace goethe::server
