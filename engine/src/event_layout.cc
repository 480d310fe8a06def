#include "event_layout.h"

#include <algorithm>
#include <set>

namespace goethe {
namespace {

std::optional<SegmentEntry> DecodeDirectoryEntry(const kv::Iterator& it) {
  auto first_offset = keys::SegmentFirstOffset(it.key());
  if (!first_offset || it.value().size() != 8) return std::nullopt;
  const std::uint64_t segment = keys::ReadBigEndian64(it.value());
  if (segment == 0) return std::nullopt;  // segments count from 1
  return SegmentEntry{*first_offset, segment};
}

kv::Status DamagedDirectory(std::uint64_t topic_id) {
  return kv::Status::Corruption("damaged segment directory entry of topic id " + std::to_string(topic_id));
}

}  // namespace

// An iterator over one topic's segment directory, with the bounds it needs kept alive.
struct SegmentDirectory {
  SegmentDirectory(kv::Store& store, std::uint64_t topic)
      : topic_id(topic),
        lower(keys::FamilyStart(keys::kSegment, topic)),
        upper(keys::FamilyEnd(keys::kSegment, topic)),
        it(store.NewIterator({.lower_bound = lower, .upper_bound = upper})) {}
  // Positions at the entry whose segment holds `offset`: the last one at or below it, else the
  // first (offset lies below the directory: retention has moved past it).
  void SeekToHolder(std::uint64_t offset) {
    it->SeekForPrev(keys::Segment(topic_id, offset));
    if (!it->Valid() && it->status().ok()) it->SeekToFirst();
  }
  // The entry at the (valid) position into *entry; Corruption when it is damaged.
  kv::Status Read(SegmentEntry* entry) const {
    auto decoded = DecodeDirectoryEntry(*it);
    if (!decoded) return DamagedDirectory(topic_id);
    *entry = *decoded;
    return kv::Status::Ok();
  }
  const std::uint64_t topic_id;
  std::string lower, upper;
  std::unique_ptr<kv::Iterator> it;
};

namespace {

// The last entry in [lower, upper) into *last, if any.
kv::Status ReadLast(kv::Store& store, const std::string& lower, const std::string& upper,
                    std::optional<StoredEvent>* last) {
  auto it = store.NewIterator({.lower_bound = lower, .upper_bound = upper});
  it->SeekToLast();
  if (it->Valid()) *last = StoredEvent{std::string(it->key()), std::string(it->value())};
  return it->status();
}

}  // namespace

std::optional<std::uint64_t> OffsetOfEventKey(std::string_view key) {
  if (auto parts = keys::DecodeTimeEvent(key)) return parts->offset;
  return keys::EventOffset(key);
}

std::string EncodeSegment(std::uint64_t segment) {
  std::string value;
  keys::PutBigEndian64(&value, segment);
  return value;
}

EventScan::EventScan(kv::Store& store, KeyOrder order, std::uint64_t topic_id, std::uint64_t from, std::uint64_t to)
    : order_(order), topic_id_(topic_id), from_(from), to_(to) {
  if (from >= to) return;
  if (order == KeyOrder::kTopic) {
    events_lower_ = keys::Event(topic_id, from);
    events_upper_ = keys::Event(topic_id, to);
    events_ = store.NewIterator({.lower_bound = events_lower_, .upper_bound = events_upper_});
    events_->SeekToFirst();
    Settle();
    return;
  }
  // Events of other topics share the family: the scan leaves each segment by key, not by bound.
  events_lower_ = std::string(1, keys::kTimeEvent);
  events_upper_ = std::string(1, keys::kTimeEvent + 1);
  events_ = store.NewIterator({.lower_bound = events_lower_, .upper_bound = events_upper_});
  directory_ = std::make_unique<SegmentDirectory>(store, topic_id);
  directory_->SeekToHolder(from);
  if (EnterSegment()) Settle();
}

EventScan::~EventScan() = default;

bool EventScan::Finish(kv::Status status) {
  status_ = std::move(status);
  valid_ = false;
  offset_.reset();
  return false;
}

bool EventScan::EnterSegment() {
  if (!directory_->it->Valid()) return Finish(directory_->it->status());
  SegmentEntry entry;
  if (kv::Status s = directory_->Read(&entry); !s.ok()) return Finish(s);
  if (entry.first_offset >= to_) return Finish();
  segment_ = entry.segment;
  events_->Seek(keys::TimeEvent(segment_, topic_id_, std::max(from_, entry.first_offset)));
  return true;
}

void EventScan::Settle() {
  for (;;) {
    if (!events_->Valid()) {
      // Past the last event key: later segments' keys would come after it, so there are none.
      Finish(events_->status());
      return;
    }
    valid_ = true;
    if (order_ == KeyOrder::kTopic) {
      offset_ = keys::EventOffset(events_->key());
      return;
    }
    auto parts = keys::DecodeTimeEvent(events_->key());
    if (!parts) {
      offset_.reset();  // a damaged key: the caller reports it
      return;
    }
    if (parts->segment == segment_ && parts->topic_id == topic_id_) {
      if (parts->offset >= to_) {
        Finish();
        return;
      }
      offset_ = parts->offset;
      return;
    }
    // Past the topic's events in this segment: on to its next segment.
    directory_->it->Next();
    if (!EnterSegment()) return;
  }
}

void EventScan::Next() {
  events_->Next();
  Settle();
}

kv::Status EventScan::status() const { return status_; }

kv::Status ReadNewestEvent(kv::Store& store, KeyOrder order, std::uint64_t topic_id,
                           std::optional<StoredEvent>* newest) {
  newest->reset();
  if (order == KeyOrder::kTopic)
    return ReadLast(store, keys::FamilyStart(keys::kEvent, topic_id), keys::FamilyEnd(keys::kEvent, topic_id), newest);
  // The newest event is in the newest segment that has any: the newest one, unless events were lost
  // (then recovery reports it) or retention left its entry with none.
  SegmentDirectory directory(store, topic_id);
  for (directory.it->SeekToLast(); directory.it->Valid(); directory.it->Prev()) {
    SegmentEntry entry;
    if (kv::Status s = directory.Read(&entry); !s.ok()) return s;
    kv::Status s = ReadLast(store, keys::TimeEvent(entry.segment, topic_id, 0),
                            keys::TimeEvent(entry.segment, topic_id + 1, 0), newest);
    if (!s.ok() || newest->has_value()) return s;
  }
  return directory.it->status();
}

kv::Status ReadNewestSegment(kv::Store& store, KeyOrder order, std::uint64_t topic_id,
                             std::optional<SegmentEntry>* newest) {
  newest->reset();
  if (order == KeyOrder::kTopic) return kv::Status::Ok();
  SegmentDirectory directory(store, topic_id);
  directory.it->SeekToLast();
  if (!directory.it->Valid()) return directory.it->status();
  SegmentEntry entry;
  if (kv::Status s = directory.Read(&entry); !s.ok()) return s;
  *newest = entry;
  return kv::Status::Ok();
}

kv::Status TrimRanges(kv::Store& store, KeyOrder order, std::uint64_t topic_id, std::uint64_t from,
                      std::uint64_t to, KeyRanges* out) {
  out->clear();
  if (from >= to) return kv::Status::Ok();
  if (order == KeyOrder::kTopic) {
    out->emplace_back(keys::Event(topic_id, from), keys::Event(topic_id, to));
    return kv::Status::Ok();
  }
  SegmentDirectory directory(store, topic_id);
  directory.SeekToHolder(from);
  std::optional<std::uint64_t> holder_of_to;  // the first offset of the entry whose segment holds `to`
  for (; directory.it->Valid(); directory.it->Next()) {
    SegmentEntry entry;
    if (kv::Status s = directory.Read(&entry); !s.ok()) return s;
    if (entry.first_offset > to) break;
    holder_of_to = entry.first_offset;
    if (entry.first_offset < to) {
      out->emplace_back(keys::TimeEvent(entry.segment, topic_id, from), keys::TimeEvent(entry.segment, topic_id, to));
    }
  }
  if (!directory.it->status().ok()) return directory.it->status();
  // Entries below the holder's describe segments with nothing left of the topic; the holder stays,
  // as the way to the events from `to` on (or, with none left, to the topic's newest segment).
  if (holder_of_to && *holder_of_to > 0) out->emplace_back(keys::Segment(topic_id, 0), keys::Segment(topic_id, *holder_of_to));
  return kv::Status::Ok();
}

kv::Status TopicRanges(kv::Store& store, KeyOrder order, std::uint64_t topic_id, std::uint64_t staged_segment,
                       KeyRanges* out) {
  out->clear();
  if (order == KeyOrder::kTopic) {
    out->emplace_back(keys::FamilyStart(keys::kEvent, topic_id), keys::FamilyEnd(keys::kEvent, topic_id));
    return kv::Status::Ok();
  }
  std::set<std::uint64_t> segments;
  if (staged_segment != 0) segments.insert(staged_segment);
  SegmentDirectory directory(store, topic_id);
  for (directory.it->SeekToFirst(); directory.it->Valid(); directory.it->Next()) {
    SegmentEntry entry;
    if (kv::Status s = directory.Read(&entry); !s.ok()) return s;
    segments.insert(entry.segment);
  }
  if (!directory.it->status().ok()) return directory.it->status();
  for (std::uint64_t segment : segments) {
    out->emplace_back(keys::TimeEvent(segment, topic_id, 0), keys::TimeEvent(segment, topic_id + 1, 0));
  }
  out->emplace_back(keys::FamilyStart(keys::kSegment, topic_id), keys::FamilyEnd(keys::kSegment, topic_id));
  return kv::Status::Ok();
}

}  // namespace goethe
