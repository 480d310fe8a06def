// The engine's stored values, encoded as fixed-width big-endian fields behind a format byte.
// Decoding checks sizes and the format byte, so a damaged record is reported, never misread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "goethe/engine/types.h"

namespace goethe::records {

inline constexpr char kFormat = 1;

// The store's format marker (`M format`). Format 2 keeps a topic's head in its events; format 3
// is format 2 plus events with keys and headers. A store stays format 2 until its first event with
// a key or headers is written, in that same batch, so a store that never used them can still be
// served by the version before; once marked 3, that version refuses it instead of misreading it.
inline constexpr std::string_view kFormatPlain = "goethe-log-2";
inline constexpr std::string_view kFormatWithAttributes = "goethe-log-3";
// Format 4 is format 3 with events ordered by time first (KeyOrder::kTime, keys.h): chosen when the
// store is created, never reached from format 2 or 3.
inline constexpr std::string_view kFormatTimeOrdered = "goethe-log-4";

struct TopicRecord {
  std::uint64_t id = 0;
  TimestampNs created_ns = 0;
  TopicSettings settings;  // index_granularity_ns is always resolved (> 0) when stored
};

// What retention has removed from a topic. With no event left, it also holds the topic's head.
struct LowRecord {
  std::uint64_t first_offset = 0;   // first retained offset
  std::uint64_t deleted_bytes = 0;  // payload bytes retention removed
  TimestampNs last_deleted_ns = 0;  // timestamp of the newest event removed
};

struct CursorRecord {
  std::uint64_t offset = 0;
  TimestampNs updated_ns = 0;
};

struct IdempotencyRecord {
  std::uint64_t first_offset = 0;
  std::uint64_t count = 0;
  TimestampNs created_ns = 0;
};

// A consumer group: its settings and how far it has got (engine/include/goethe/engine/groups.h).
struct GroupRecord {
  TimestampNs created_ns = 0;
  std::uint64_t ack_floor = 0;
  std::uint64_t dispatched_to = 0;
  std::uint64_t redeliveries = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t lost_to_retention = 0;
  std::int64_t ack_wait_ns = 0;
  std::uint64_t max_deliveries = 0;
  bool ordered_by_key = false;
  std::uint64_t reset = 0;  // ResetPolicy: 0 earliest, 1 latest, 2 error
  std::uint64_t max_pending = 0;
  std::string dead_letter_topic;
};

// One event of a group above its floor whose state is not "delivered once, not acked" (what an
// event below the group's dispatch mark without a record is): acked out of order, delivered more
// than once, or read ahead but not delivered yet (0 deliveries).
struct GroupEventRecord {
  std::uint64_t deliveries = 0;
  bool acked = false;
};

// A single number, such as the next topic id.
std::string EncodeCounter(std::uint64_t value);
std::optional<std::uint64_t> DecodeCounter(std::string_view bytes);

std::string Encode(const TopicRecord& r);
std::string Encode(const LowRecord& r);
std::string Encode(const CursorRecord& r);
std::string Encode(const IdempotencyRecord& r);

std::optional<TopicRecord> DecodeTopic(std::string_view bytes);
std::optional<LowRecord> DecodeLow(std::string_view bytes);
std::optional<CursorRecord> DecodeCursor(std::string_view bytes);
std::optional<IdempotencyRecord> DecodeIdempotency(std::string_view bytes);
std::string Encode(const GroupRecord& r);
std::optional<GroupRecord> DecodeGroup(std::string_view bytes);
std::string Encode(const GroupEventRecord& r);
std::optional<GroupEventRecord> DecodeGroupEvent(std::string_view bytes);

// An event's value: its append time, the event bytes the topic has had appended up to and
// including this event, then — only when the event has a key or headers — its attributes, then the
// payload. The running total lets the newest event stand for the topic's head, so no record is
// rewritten by every append (docs/storage.md says why that matters). An event without attributes
// is stored exactly as format 2 stored every event: the top bit of the running total, which no
// total reaches, says whether attributes follow.
//
//   attributes := key-length (1 byte) key  header-count (2 bytes)
//                 { name-length (1 byte) name  value-length (4 bytes) value } per header
inline constexpr std::size_t kEventHeaderBytes = 16;
inline constexpr std::uint64_t kHasAttributes = std::uint64_t{1} << 63;
inline constexpr std::size_t kMaxKeyBytes = 0xFF;           // the key length's width
inline constexpr std::size_t kMaxHeadersPerEvent = 0xFFFF;  // the count's width

// What an event counts toward limits, sizes and retention: payload, key, header names and values.
std::uint64_t EventBytes(std::string_view payload, const EventAttributes* attributes);
// The size of the stored value.
std::size_t EventValueSize(std::string_view payload, const EventAttributes* attributes);
// Writes the value into EventValueSize(payload, attributes) bytes at `out`. `attributes` may be
// null or empty: then nothing but time, total and payload is written.
void EncodeEventValue(char* out, TimestampNs timestamp, std::uint64_t appended_bytes, std::string_view payload,
                      const EventAttributes* attributes);
void AppendEventValue(std::string* out, TimestampNs timestamp, std::uint64_t appended_bytes,
                      std::string_view payload, const EventAttributes* attributes = nullptr);

// A decoded event value; views into the value.
struct StoredEvent {
  TimestampNs timestamp_ns;
  std::uint64_t appended_bytes;  // >= event_bytes
  std::uint64_t event_bytes;     // EventBytes of this event
  std::string_view key;
  std::string_view payload;
};
// nullopt when the value is damaged (sizes that do not add up, a total below the event's bytes, an
// empty attributes section, an empty header name). With `headers`, the event's headers are appended
// to it as they are checked (views into the value); without, they are checked only.
std::optional<StoredEvent> DecodeEvent(std::string_view value, std::vector<HeaderView>* headers = nullptr);

}  // namespace goethe::records
