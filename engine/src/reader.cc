// Reads: pages of events, start positions and seeking by time. Readers take the published head,
// so they see only durable events, and never wait for the commit loop.
#include <algorithm>

#include "event_layout.h"
#include "event_log_impl.h"
#include "keys.h"
#include "records.h"

namespace goethe {
namespace {

Status DamagedEvent(const TopicState& topic, std::string_view key) {
  auto offset = OffsetOfEventKey(key);
  return DataLoss("topic '" + topic.name + "': damaged event record at offset " +
                  (offset ? std::to_string(*offset) : std::string("?")));
}

// Events the published head promises but the store does not return: lost, never skipped silently.
Status MissingEvents(const TopicState& topic, std::uint64_t from, std::uint64_t to) {
  return DataLoss("topic '" + topic.name + "': events " + std::to_string(from) + " to " + std::to_string(to - 1) +
                  " are missing from the store");
}

}  // namespace

Result<ReadResult> EventLog::Impl::Read(const ReadRequest& request) const {
  std::vector<Event> events;
  auto result = ReadEach(request, [&events](const EventView& view) { events.push_back(ToEvent(view)); });
  if (result.ok()) result->events = std::move(events);
  return result;
}

namespace {

bool Matches(const EventFilter& filter, const EventView& event) {
  if (filter.key && event.key != *filter.key) return false;
  for (const Header& wanted : filter.headers) {
    auto same = [&wanted](const HeaderView& h) { return h.name == wanted.name && h.value == wanted.value; };
    if (std::none_of(event.headers->begin(), event.headers->end(), same)) return false;
  }
  return true;
}

}  // namespace

Result<ReadResult> EventLog::Impl::ReadEach(const ReadRequest& request, const EventVisitor& visit) const {
  auto found = FindTopic(request.topic);
  if (!found.ok()) return found.status();
  const TopicState& topic = **found;
  ReadResult result;
  result.head = topic.durable_head.load(std::memory_order_acquire);
  const std::uint64_t first = topic.first_offset.load(std::memory_order_acquire);
  // The nearest rule: before the first retained event means the first retained event.
  const std::uint64_t from = std::min(std::max(request.from_offset, first), result.head);
  result.resolved_offset = from;
  result.next_offset = from;
  if (from == result.head || request.max_events == 0) return result;

  EventScan it(*store_, key_order(), topic.id, from, result.head);
  const bool filtered = !request.filter.empty();
  std::vector<HeaderView> headers;  // reused for every event
  std::uint64_t bytes = 0;
  std::uint32_t delivered = 0;
  std::uint64_t scanned = 0;
  for (; it.Valid(); it.Next()) {
    auto offset = it.offset();
    headers.clear();
    auto event = records::DecodeEvent(it.value(), &headers);
    if (!offset || !event) return DamagedEvent(topic, it.key());
    // Below the head, events are dense; only the first may lie past `from` (retention moved on).
    if (scanned > 0 && *offset != result.next_offset) {
      // The store may know why (LevelDB skips a block that fails its checksum and says so here).
      if (!it.status().ok()) return FromKv(it.status(), "reading topic '" + topic.name + "'");
      return MissingEvents(topic, result.next_offset, *offset);
    }
    const EventView view{*offset, event->timestamp_ns, event->key, &headers, event->payload};
    const bool wanted = !filtered || Matches(request.filter, view);
    if (wanted && delivered > 0 && bytes + event->event_bytes > request.max_bytes) break;
    if (scanned == 0) result.resolved_offset = *offset;  // retention may have moved on
    ++scanned;
    result.next_offset = *offset + 1;
    if (wanted) {
      bytes += event->event_bytes;
      visit(view);
      ++delivered;
    }
    // A full page stops here, without stepping to an entry it will not return: that entry may
    // be damaged, and its error belongs to the next page.
    if (delivered >= request.max_events || (filtered && scanned >= request.max_scanned)) break;
  }
  if (!it.status().ok()) return FromKv(it.status(), "reading topic '" + topic.name + "'");
  // The store ran out of events before the head, though the page had room for more. (Retention
  // only ever removes a prefix, atomically, so once one event is found the rest up to the head
  // must follow; an empty page may be retention racing this read.)
  const bool page_full = delivered >= request.max_events || (filtered && scanned >= request.max_scanned) || it.Valid();
  if (scanned > 0 && !page_full && result.next_offset < result.head) {
    return MissingEvents(topic, result.next_offset, result.head);
  }
  return result;
}

// The first offset whose event has a timestamp >= time, reading at most one index bucket of
// events: the index names the first offset of every bucket that has events.
Result<std::uint64_t> EventLog::Impl::SeekTime(const TopicState& topic, TimestampNs time, bool* exact) const {
  const std::uint64_t head = topic.durable_head.load(std::memory_order_acquire);
  const std::uint64_t first = topic.first_offset.load(std::memory_order_acquire);
  *exact = false;
  if (first >= head) return head;
  const std::int64_t bucket = topic.BucketOf(std::max<TimestampNs>(time, 0));

  std::uint64_t scan_from = first;
  {
    const std::string index_lower = keys::FamilyStart(keys::kIndex, topic.id);
    const std::string index_upper = keys::FamilyEnd(keys::kIndex, topic.id);
    auto index = store_->NewIterator({.lower_bound = index_lower, .upper_bound = index_upper});
    index->SeekForPrev(keys::Index(topic.id, static_cast<std::uint64_t>(bucket)));
    if (index->Valid()) {
      auto indexed = keys::IndexBucket(index->key());
      if (!indexed) return DataLoss("topic '" + topic.name + "': damaged time-index key");
      if (static_cast<std::int64_t>(*indexed) < bucket) {
        // No event in time's own bucket: the answer is the first event of the next bucket.
        index->Next();
        if (!index->Valid()) return head;
      }
    }
    if (index->Valid()) {
      if (index->value().size() != 8) return DataLoss("topic '" + topic.name + "': damaged time-index entry");
      scan_from = std::max(first, keys::ReadBigEndian64(index->value()));
    }
    if (!index->status().ok()) return FromKv(index->status(), "reading the time index");
  }
  if (scan_from >= head) return head;

  EventScan it(*store_, key_order(), topic.id, scan_from, head);
  for (; it.Valid(); it.Next()) {
    auto offset = it.offset();
    auto event = records::DecodeEvent(it.value());
    if (!offset || !event) return DamagedEvent(topic, it.key());
    if (event->timestamp_ns >= time) {
      *exact = event->timestamp_ns == time;
      return *offset;
    }
  }
  if (!it.status().ok()) return FromKv(it.status(), "seeking by time");
  return head;
}

Result<ResolvedPosition> EventLog::Impl::Resolve(const std::string& name, const StartPosition& position) const {
  auto found = FindTopic(name);
  if (!found.ok()) return found.status();
  const TopicState& topic = **found;
  ResolvedPosition resolved;
  resolved.head = topic.durable_head.load(std::memory_order_acquire);
  resolved.first_offset = std::min(topic.first_offset.load(std::memory_order_acquire), resolved.head);
  auto at = [&](std::uint64_t offset, bool exact) {
    resolved.offset = std::clamp(offset, resolved.first_offset, resolved.head);
    resolved.exact = exact && resolved.offset == offset;
    return resolved;
  };
  using Kind = StartPosition::Kind;
  switch (position.kind) {
    case Kind::kBeginning: return at(resolved.first_offset, true);
    case Kind::kEnd: return at(resolved.head, true);
    case Kind::kOffset: return at(position.offset, true);
    case Kind::kTime: {
      bool exact = false;
      auto offset = SeekTime(topic, position.time_ns, &exact);
      if (!offset.ok()) return offset.status();
      return at(*offset, exact);
    }
    case Kind::kCursor: {
      auto cursor = GetCursor(name, position.consumer);
      if (!cursor.ok()) return cursor.status();
      if (!cursor->has_value()) {
        return at(position.fallback == Kind::kEnd ? resolved.head : resolved.first_offset, false);
      }
      const std::uint64_t next = (*cursor)->offset + 1;
      if (next >= resolved.first_offset) return at(next, true);
      // Retention deleted events the consumer has not processed: its reset policy decides.
      switch (position.reset) {
        case ResetPolicy::kEarliest: return at(resolved.first_offset, false);
        case ResetPolicy::kLatest: return at(resolved.head, false);
        case ResetPolicy::kError:
          return OutOfRange("consumer '" + position.consumer + "' of topic '" + name + "' resumes at offset " +
                            std::to_string(next) + ", but retention deleted it; the first retained offset is " +
                            std::to_string(resolved.first_offset));
      }
    }
  }
  return Internal("unknown start position kind");
}

}  // namespace goethe
