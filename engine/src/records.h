// The engine's stored values, encoded as fixed-width big-endian fields behind a format byte.
// Decoding checks sizes and the format byte, so a damaged record is reported, never misread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "goethe/engine/types.h"

namespace goethe::records {

inline constexpr char kFormat = 1;

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

// An event's value: its append time, the payload bytes the topic has had appended up to and
// including this event, then the payload. The running total lets the newest event stand for the
// topic's head, so no record is rewritten by every append (docs/storage.md says why that matters).
inline constexpr std::size_t kEventHeaderBytes = 16;
void AppendEventValue(std::string* out, TimestampNs timestamp, std::uint64_t appended_bytes,
                      std::string_view payload);
// Writes the value into kEventHeaderBytes + payload.size() bytes at `out`.
void EncodeEventValue(char* out, TimestampNs timestamp, std::uint64_t appended_bytes, std::string_view payload);
struct EventView {
  TimestampNs timestamp_ns;
  std::uint64_t appended_bytes;  // >= payload.size()
  std::string_view payload;
};
std::optional<EventView> DecodeEvent(std::string_view value);

}  // namespace goethe::records
