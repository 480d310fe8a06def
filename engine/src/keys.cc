#include "keys.h"

namespace goethe::keys {
namespace {

std::string Prefixed(char family, std::uint64_t topic_id) {
  std::string key;
  key.reserve(17);
  key.push_back(family);
  PutBigEndian64(&key, topic_id);
  return key;
}

// A key of `family` + topic id + 8 more bytes; returns those 8 bytes decoded.
std::optional<std::uint64_t> TrailingNumber(char family, std::string_view key) {
  if (key.size() != 17 || key[0] != family) return std::nullopt;
  return ReadBigEndian64(key.substr(9));
}

}  // namespace

void EncodeBigEndian64(char* out, std::uint64_t value) {
  for (int i = 7; i >= 0; --i, value >>= 8) out[i] = static_cast<char>(value & 0xff);
}

void PutBigEndian64(std::string* out, std::uint64_t value) {
  char bytes[8];
  EncodeBigEndian64(bytes, value);
  out->append(bytes, 8);
}

std::uint64_t ReadBigEndian64(std::string_view bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

std::string Meta(std::string_view name) { return std::string(1, kMeta).append(name); }
std::string Topic(std::string_view name) { return std::string(1, kTopic).append(name); }
std::string Low(std::uint64_t topic_id) { return Prefixed(kLow, topic_id); }

std::string Event(std::uint64_t topic_id, std::uint64_t offset) { return std::string(EventKeyOf(topic_id, offset).view()); }

EventKey EventKeyOf(std::uint64_t topic_id, std::uint64_t offset) {
  EventKey key;
  key.bytes[0] = kEvent;
  EncodeBigEndian64(key.bytes + 1, topic_id);
  EncodeBigEndian64(key.bytes + 9, offset);
  key.size = 17;
  return key;
}

EventKey TimeEventKeyOf(std::uint64_t segment, std::uint64_t topic_id, std::uint64_t offset) {
  EventKey key;
  key.bytes[0] = kTimeEvent;
  EncodeBigEndian64(key.bytes + 1, segment);
  EncodeBigEndian64(key.bytes + 9, topic_id);
  EncodeBigEndian64(key.bytes + 17, offset);
  key.size = 25;
  return key;
}

std::string TimeEvent(std::uint64_t segment, std::uint64_t topic_id, std::uint64_t offset) {
  return std::string(TimeEventKeyOf(segment, topic_id, offset).view());
}

std::string Segment(std::uint64_t topic_id, std::uint64_t first_offset) {
  std::string key = Prefixed(kSegment, topic_id);
  PutBigEndian64(&key, first_offset);
  return key;
}

std::string Index(std::uint64_t topic_id, std::uint64_t bucket_start_ns) {
  std::string key = Prefixed(kIndex, topic_id);
  PutBigEndian64(&key, bucket_start_ns);
  return key;
}

std::string Cursor(std::uint64_t topic_id, std::string_view consumer) {
  return Prefixed(kCursor, topic_id).append(consumer);
}

std::string Idempotency(std::uint64_t topic_id, std::string_view key) {
  return Prefixed(kIdempotency, topic_id).append(key);
}

std::string Group(std::uint64_t topic_id, std::string_view group) { return Prefixed(kGroup, topic_id).append(group); }

std::string GroupEventsStart(std::uint64_t topic_id, std::string_view group) {
  std::string key = Prefixed(kGroupEvent, topic_id);
  key.push_back(static_cast<char>(group.size()));
  return key.append(group);
}

std::string GroupEventsEnd(std::uint64_t topic_id, std::string_view group) {
  std::string key = GroupEventsStart(topic_id, group);
  key.append(8, '\xff');
  key.push_back('\0');  // above the largest offset's key
  return key;
}

std::string GroupEvent(std::uint64_t topic_id, std::string_view group, std::uint64_t offset) {
  std::string key = GroupEventsStart(topic_id, group);
  PutBigEndian64(&key, offset);
  return key;
}

std::optional<std::string_view> GroupName(std::string_view key) {
  if (key.size() <= 9 || key[0] != kGroup) return std::nullopt;
  return key.substr(9);
}

std::optional<std::uint64_t> GroupEventOffset(std::string_view key) {
  if (key.size() < 10 || key[0] != kGroupEvent) return std::nullopt;
  const std::size_t name_size = static_cast<unsigned char>(key[9]);
  if (key.size() != 10 + name_size + 8) return std::nullopt;
  return ReadBigEndian64(key.substr(10 + name_size));
}

std::string FamilyStart(char family, std::uint64_t topic_id) { return Prefixed(family, topic_id); }

std::string FamilyEnd(char family, std::uint64_t topic_id) {
  // Topic ids never reach UINT64_MAX (they count up from 1), so id + 1 cannot wrap.
  return Prefixed(family, topic_id + 1);
}

std::optional<std::uint64_t> EventOffset(std::string_view key) { return TrailingNumber(kEvent, key); }
std::optional<std::uint64_t> IndexBucket(std::string_view key) { return TrailingNumber(kIndex, key); }
std::optional<std::uint64_t> SegmentFirstOffset(std::string_view key) { return TrailingNumber(kSegment, key); }

std::optional<TimeEventKeyParts> DecodeTimeEvent(std::string_view key) {
  if (key.size() != 25 || key[0] != kTimeEvent) return std::nullopt;
  return TimeEventKeyParts{ReadBigEndian64(key.substr(1)), ReadBigEndian64(key.substr(9)),
                           ReadBigEndian64(key.substr(17))};
}

std::optional<std::string_view> CursorConsumer(std::string_view key) {
  if (key.size() <= 9 || key[0] != kCursor) return std::nullopt;
  return key.substr(9);
}

std::optional<std::string_view> TopicName(std::string_view key) {
  if (key.size() <= 1 || key[0] != kTopic) return std::nullopt;
  return key.substr(1);
}

}  // namespace goethe::keys

namespace goethe::keys {

std::optional<std::uint64_t> TopicIdOf(std::string_view key) {
  if (key.size() < 9) return std::nullopt;
  switch (key[0]) {
    case kEvent: case kSegment: case kIndex: case kIdempotency: case kLow: case kCursor: case kGroup:
    case kGroupEvent:
      return ReadBigEndian64(key.substr(1));
    case kTimeEvent:
      if (key.size() < 17) return std::nullopt;
      return ReadBigEndian64(key.substr(9));
    default:
      return std::nullopt;
  }
}

}  // namespace goethe::keys

namespace goethe::replication_keys {

std::string LogEntry(std::uint64_t index) {
  std::string key(1, keys::kReplicationLog);
  keys::PutBigEndian64(&key, index);
  return key;
}

std::string LogBegin() { return std::string(1, keys::kReplicationLog); }
std::string LogEnd() { return std::string(1, keys::kReplicationLog + 1); }

bool LogIndex(std::string_view key, std::uint64_t* index) {
  if (key.size() != 9 || key[0] != keys::kReplicationLog) return false;
  *index = keys::ReadBigEndian64(key.substr(1));
  return true;
}

std::string Marker() { return keys::Meta("replication"); }
std::string StoreId() { return keys::Meta("store_id"); }

std::string TopicsBegin() { return std::string(1, keys::kTopic); }
std::string TopicsEnd() { return std::string(1, keys::kTopic + 1); }

bool IsReplicationKey(std::string_view key) {
  return (!key.empty() && key[0] == keys::kReplicationLog) || key == Marker() || key == StoreId();
}

}  // namespace goethe::replication_keys
