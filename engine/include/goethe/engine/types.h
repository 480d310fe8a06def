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
  std::uint64_t retention_bytes = 0;      // keep at most this many payload bytes
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
  std::uint64_t bytes = 0;         // payload bytes retained
  TimestampNs first_timestamp_ns = 0;  // 0 when empty
  TimestampNs last_timestamp_ns = 0;   // of the newest event ever appended; 0 when none
};

struct Event {
  std::uint64_t offset = 0;
  TimestampNs timestamp_ns = 0;
  std::string payload;
};

struct AppendRequest {
  std::string topic;
  std::vector<std::string> payloads;                 // at least one
  std::optional<std::uint64_t> expected_next_offset;  // optimistic concurrency check
  std::string idempotency_key;                       // empty: none
  bool create_topic = true;                          // create the topic when it does not exist
};

struct AppendResult {
  std::uint64_t first_offset = 0;         // events got first_offset .. first_offset + n - 1
  std::vector<TimestampNs> timestamps;    // one per event
  bool duplicate = false;                 // an idempotent retry: nothing was written
};

struct ReadRequest {
  std::string topic;
  std::uint64_t from_offset = 0;
  std::uint32_t max_events = 1000;
  std::uint64_t max_bytes = 4 << 20;  // payload budget; at least one event is always returned
};

// Called by EventLog::ReadEach with each event read, in offset order.
using EventVisitor = std::function<void(std::uint64_t offset, TimestampNs timestamp_ns, std::string_view payload)>;

struct ReadResult {
  std::vector<Event> events;
  std::uint64_t resolved_offset = 0;  // where reading really started (nearest rule)
  std::uint64_t next_offset = 0;      // where to continue
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
