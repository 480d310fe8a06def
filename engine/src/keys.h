// The storage layout: how the engine's records are keyed in the one ordered KV keyspace.
// docs/storage.md describes it for people; this file is the one place that encodes it.
//
// Every key starts with a one-byte family prefix; integers are big-endian so that bytewise order
// is numeric order, which keeps a topic's events together and in offset order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace goethe::keys {

// The order of the families is chosen for LSM stores (LevelDB, RocksDB). Appends add event keys in
// increasing order; a flushed table that holds only those overlaps no other and is moved down the
// levels without being rewritten. A table that also holds a key of another family spans from that
// key to its events, and overlaps every table in between. So the families written often (cursors,
// idempotency keys, retention records) sort above all events (lowercase), where such a table
// overlaps only the topmost one; those written seldom (store metadata, topics, one index entry per
// time bucket) sort below them (uppercase).
inline constexpr char kMeta = 'M';        // M name                  -> store-wide values
inline constexpr char kIndex = 'I';       // I topic-id bucket-start -> first offset in bucket
inline constexpr char kTopic = 'T';       // T topic-name            -> TopicRecord
inline constexpr char kEvent = 'e';       // e topic-id offset       -> time, running total, payload
// Format 4 (events ordered by time first, KeyOrder::kTime) has no `e` keys but these two families.
// Appends only ever add events at the end of their family, as a single topic's do in `e`.
inline constexpr char kTimeEvent = 'E';   // E segment topic-id offset -> as an `e` value
inline constexpr char kSegment = 'd';     // d topic-id first-offset -> segment holding it onwards
inline constexpr char kIdempotency = 'k'; // k topic-id key          -> IdempotencyRecord
inline constexpr char kLow = 'l';         // l topic-id              -> LowRecord (retention)
inline constexpr char kCursor = 'p';      // p topic-id consumer     -> CursorRecord (position)
inline constexpr char kGroup = 'g';       // g topic-id group        -> GroupRecord (floor, dispatch, settings)
inline constexpr char kGroupEvent = 'h';  // h topic-id len group offset -> GroupEventRecord (above the floor)
inline constexpr char kReplicationLog = 'R';  // R index -> a replication log entry (cluster only)

void PutBigEndian64(std::string* out, std::uint64_t value);
void EncodeBigEndian64(char* out, std::uint64_t value);  // writes 8 bytes
std::uint64_t ReadBigEndian64(std::string_view bytes);  // requires bytes.size() >= 8

std::string Meta(std::string_view name);
std::string Topic(std::string_view name);
std::string Low(std::uint64_t topic_id);
std::string Event(std::uint64_t topic_id, std::uint64_t offset);
// An event key of either order without a heap allocation, for the append path, which builds one
// per event.
struct EventKey {
  char bytes[25];
  std::uint8_t size;
  std::string_view view() const { return {bytes, size}; }
};
EventKey EventKeyOf(std::uint64_t topic_id, std::uint64_t offset);
EventKey TimeEventKeyOf(std::uint64_t segment, std::uint64_t topic_id, std::uint64_t offset);
std::string TimeEvent(std::uint64_t segment, std::uint64_t topic_id, std::uint64_t offset);
// The directory entry that says from which offset on a topic's events are in a new segment.
std::string Segment(std::uint64_t topic_id, std::uint64_t first_offset);
std::string Index(std::uint64_t topic_id, std::uint64_t bucket_start_ns);
std::string Cursor(std::uint64_t topic_id, std::string_view consumer);
std::string Idempotency(std::uint64_t topic_id, std::string_view key);
std::string Group(std::uint64_t topic_id, std::string_view group);
// A group's per-event records: the group name is length-prefixed, so one group's records lie
// together and never run into another's.
std::string GroupEvent(std::uint64_t topic_id, std::string_view group, std::uint64_t offset);
std::string GroupEventsStart(std::uint64_t topic_id, std::string_view group);
std::string GroupEventsEnd(std::uint64_t topic_id, std::string_view group);

// The smallest key above every key of `family` for `topic_id`: an exclusive upper bound.
std::string FamilyEnd(char family, std::uint64_t topic_id);
// The first key of `family` for `topic_id`.
std::string FamilyStart(char family, std::uint64_t topic_id);

// Decoders return nullopt when the key is not of that family or is malformed.
std::optional<std::uint64_t> EventOffset(std::string_view key);
struct TimeEventKeyParts {
  std::uint64_t segment, topic_id, offset;
};
std::optional<TimeEventKeyParts> DecodeTimeEvent(std::string_view key);
std::optional<std::uint64_t> SegmentFirstOffset(std::string_view key);
std::optional<std::uint64_t> IndexBucket(std::string_view key);
std::optional<std::string_view> CursorConsumer(std::string_view key);
std::optional<std::string_view> GroupName(std::string_view key);
std::optional<std::uint64_t> GroupEventOffset(std::string_view key);
std::optional<std::string_view> TopicName(std::string_view key);
// The topic id of a key of one of the per-topic families (events of either order, segment
// directory, index, cursors, idempotency keys, retention records, groups); nullopt for other keys.
std::optional<std::uint64_t> TopicIdOf(std::string_view key);

}  // namespace goethe::keys
