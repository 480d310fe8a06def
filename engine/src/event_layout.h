// Where a topic's events lie in the store (docs/storage.md). Formats 2 and 3 key them by topic, then
// offset; format 4 (KeyOrder::kTime) by segment, a store-wide run of appends, then topic, then offset,
// with a per-topic directory of the offsets at which the topic entered each segment. Every read,
// trim and deletion of events goes through here, so the rest of the engine does not depend on the order.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "goethe/engine/config.h"
#include "goethe/kv/store.h"
#include "keys.h"

namespace goethe {

// The keys of one topic's events in one append: with KeyOrder::kTime all in one segment.
struct EventKeyMaker {
  std::uint64_t topic_id = 0;
  std::uint64_t segment = 0;  // 0: ordered by topic
  keys::EventKey operator()(std::uint64_t offset) const {
    return segment == 0 ? keys::EventKeyOf(topic_id, offset) : keys::TimeEventKeyOf(segment, topic_id, offset);
  }
};

// The offset in an event key of either order; nullopt for any other key.
std::optional<std::uint64_t> OffsetOfEventKey(std::string_view key);

// The value of a directory entry (keys::Segment): its segment.
std::string EncodeSegment(std::uint64_t segment);

struct SegmentDirectory;  // event_layout.cc

// A topic's events with offsets in [from, to), in offset order. Valid() with no offset() is a key
// that cannot be decoded: the caller reports it and stops.
class EventScan {
 public:
  EventScan(kv::Store& store, KeyOrder order, std::uint64_t topic_id, std::uint64_t from, std::uint64_t to);
  ~EventScan();

  bool Valid() const { return valid_; }
  void Next();
  std::optional<std::uint64_t> offset() const { return offset_; }
  std::string_view key() const { return events_->key(); }
  std::string_view value() const { return events_->value(); }
  // Not OK when the store, or a damaged directory entry, ended the scan early.
  kv::Status status() const;

 private:
  void Settle();          // from the events iterator's position to the next event of the range
  bool EnterSegment();    // seeks to the directory's current segment; false at the end
  bool Finish(kv::Status status = kv::Status::Ok());

  const KeyOrder order_;
  const std::uint64_t topic_id_, from_, to_;
  std::string events_lower_, events_upper_;  // the events iterator's bounds
  std::unique_ptr<kv::Iterator> events_;
  std::unique_ptr<SegmentDirectory> directory_;  // with events ordered by time
  std::uint64_t segment_ = 0;
  bool valid_ = false;
  std::optional<std::uint64_t> offset_;
  kv::Status status_;
};

// A stored event, copied out of the store.
struct StoredEvent {
  std::string key, value;
};
// The topic's newest event into *newest; nullopt when it has none.
kv::Status ReadNewestEvent(kv::Store& store, KeyOrder order, std::uint64_t topic_id,
                           std::optional<StoredEvent>* newest);
// A directory entry: from `first_offset` on, the topic's events are in `segment`.
struct SegmentEntry {
  std::uint64_t first_offset = 0;
  std::uint64_t segment = 0;  // from 1
};
// The topic's newest directory entry; nullopt when it has none (or the store orders by topic).
kv::Status ReadNewestSegment(kv::Store& store, KeyOrder order, std::uint64_t topic_id,
                             std::optional<SegmentEntry>* newest);

// Key ranges [first, second) for WriteBatch::DeleteRange.
using KeyRanges = std::vector<std::pair<std::string, std::string>>;
// What removes the topic's events from `from` up to `to` (retention's trim: from is the first
// retained offset), with the directory entries of the segments wholly below `to`.
kv::Status TrimRanges(kv::Store& store, KeyOrder order, std::uint64_t topic_id, std::uint64_t from,
                      std::uint64_t to, KeyRanges* out);
// What removes every event of the topic and its directory. `staged_segment`: the segment of a
// directory entry staged in the current batch, which the store does not hold yet (0: none).
kv::Status TopicRanges(kv::Store& store, KeyOrder order, std::uint64_t topic_id, std::uint64_t staged_segment,
                       KeyRanges* out);

}  // namespace goethe
