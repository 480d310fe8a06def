// The engine's vocabulary: topics, events, positions and cursors, as plain values.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace goethe {

// Nanoseconds since the Unix epoch (wall clock at append time, never decreasing within a topic).
using TimestampNs = std::int64_t;

// Retention and indexing settings of one topic. Zero means "no limit" for the retention limits.
struct TopicSettings {
  std::int64_t retention_age_ns = 0;      // delete events older than this
  std::uint64_t retention_bytes = 0;      // keep at most this many event bytes
  std::uint64_t retention_events = 0;     // keep at most this many events
  std::int64_t index_granularity_ns = 0;  // time-index bucket width; 0 = the engine's default
};

// A topic as described to clients. Offsets are dense: events first_offset..next_offset-1 exist.
struct TopicInfo {
  std::string name;
  std::uint64_t id = 0;
  TopicSettings settings;
  TimestampNs created_ns = 0;
  std::uint64_t first_offset = 0;  // first retained offset (== next_offset when empty)
  std::uint64_t next_offset = 0;   // the offset the next append will get
  std::uint64_t event_count = 0;
  std::uint64_t bytes = 0;         // event bytes retained (payload, key, header names and values)
  TimestampNs first_timestamp_ns = 0;  // 0 when empty
  TimestampNs last_timestamp_ns = 0;   // of the newest event ever appended; 0 when none
};

// One header of an event: a name (1-255 bytes of printable ASCII) and a value (any bytes).
struct Header {
  std::string name;
  std::string value;
  bool operator==(const Header&) const = default;
};

// What an event carries beside its payload: a key (0-255 bytes; empty: none) and headers, in the
// order the producer gave them (a name may repeat).
struct EventAttributes {
  std::string key;
  std::vector<Header> headers;
  bool empty() const { return key.empty() && headers.empty(); }
  bool operator==(const EventAttributes&) const = default;
};

struct Event {
  std::uint64_t offset = 0;
  TimestampNs timestamp_ns = 0;
  std::string payload;
  std::string key;              // empty: none
  std::vector<Header> headers;  // in the order appended
};

struct AppendRequest {
  std::string topic;
  std::vector<std::string> payloads;                 // at least one
  // Empty: no event has a key or headers. Otherwise one per payload, in the same order.
  std::vector<EventAttributes> attributes;
  std::optional<std::uint64_t> expected_next_offset;  // optimistic concurrency check
  std::string idempotency_key;                       // empty: none
  bool create_topic = true;                          // create the topic when it does not exist
};

// Appends to several topics in one commit: every part is written, or none is. Each part keeps its
// own expected next offset; its idempotency_key must be empty, the request's key covers all parts.
// No topic may appear in two parts.
struct MultiAppendRequest {
  std::vector<AppendRequest> parts;  // at least one
  std::string idempotency_key;       // empty: none
};

struct AppendResult {
  std::uint64_t first_offset = 0;         // events got first_offset .. first_offset + n - 1
  std::vector<TimestampNs> timestamps;    // one per event
  bool duplicate = false;                 // an idempotent retry: nothing was written
};

// Which events a read returns: those whose key equals `key` (when set) and that carry every one of
// `headers` (a header matches when the event has a header of that name with exactly that value).
// Empty: every event.
struct EventFilter {
  std::optional<std::string> key;
  std::vector<Header> headers;
  bool empty() const { return !key && headers.empty(); }
};

struct ReadRequest {
  std::string topic;
  std::uint64_t from_offset = 0;
  std::uint32_t max_events = 1000;
  std::uint64_t max_bytes = 4 << 20;  // event-bytes budget; at least one event is always returned
  EventFilter filter;
  // With a filter: the page ends after this many events read from the store, matching or not, so
  // one read of a sparse filter is bounded; next_offset says where the scan stopped.
  std::uint64_t max_scanned = 100000;
};

// A header as read: views into the store's buffer.
struct HeaderView {
  std::string_view name;
  std::string_view value;
};

// An event as EventLog::ReadEach hands it out: views valid only during the visitor's call.
struct EventView {
  std::uint64_t offset = 0;
  TimestampNs timestamp_ns = 0;
  std::string_view key;
  const std::vector<HeaderView>* headers = nullptr;  // never null in a visit
  std::string_view payload;
};

// An owned copy of what `view` shows.
inline Event ToEvent(const EventView& view) {
  Event event{view.offset, view.timestamp_ns, std::string(view.payload), std::string(view.key), {}};
  event.headers.reserve(view.headers->size());
  for (const HeaderView& h : *view.headers) event.headers.push_back({std::string(h.name), std::string(h.value)});
  return event;
}

// Called by EventLog::ReadEach with each event read (and matched), in offset order.
using EventVisitor = std::function<void(const EventView& event)>;

struct ReadResult {
  std::vector<Event> events;
  std::uint64_t resolved_offset = 0;  // where reading really started (nearest rule)
  std::uint64_t next_offset = 0;      // where to continue (past events a filter skipped, too)
  std::uint64_t head = 0;             // the topic's next offset when read
};

// What a consumer does when its committed cursor points at events retention has deleted.
enum class ResetPolicy { kEarliest, kLatest, kError };

struct StartPosition {
  enum class Kind { kBeginning, kEnd, kOffset, kCursor, kTime };
  Kind kind = Kind::kBeginning;
  std::uint64_t offset = 0;     // kOffset
  TimestampNs time_ns = 0;      // kTime
  std::string consumer;         // kCursor
  Kind fallback = Kind::kBeginning;  // kCursor without a committed cursor: kBeginning or kEnd
  ResetPolicy reset = ResetPolicy::kEarliest;  // kCursor overtaken by retention
};

struct ResolvedPosition {
  std::uint64_t offset = 0;  // the next offset to deliver
  bool exact = false;        // true when the position named an existing event (or the end)
  std::uint64_t first_offset = 0;
  std::uint64_t head = 0;
};

struct CursorInfo {
  std::string consumer;
  std::uint64_t offset = 0;     // the last processed offset; delivery resumes at offset + 1
  TimestampNs updated_ns = 0;
  std::uint64_t lag = 0;        // events after the cursor up to the head
};

// How a cursor commit may move the cursor.
enum class CursorMove {
  kForwardOnly,       // a commit below the current cursor is an error
  kIgnoreBackwards,   // a commit below the current cursor keeps the cursor (acks out of order)
  kReset,             // set the cursor to exactly this offset, backwards included
};

}  // namespace goethe
