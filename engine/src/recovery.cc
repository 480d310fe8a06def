// Recovery: what EventLog::Open finds in the store alone. Each topic's head comes from its newest
// event (offset, timestamp and running total of event bytes); its retention record says what was removed,
// and stands for the head when retention has removed every event. The oldest event and the newest
// time-index entry check both ends against loss.
#include "recovery.h"

#include "event_layout.h"
#include "event_log_impl.h"
#include "goethe/engine/replication.h"
#include "keys.h"
#include "records.h"

namespace goethe {
namespace {

// An iterator over one family of a topic's keys.
std::unique_ptr<kv::Iterator> FamilyIterator(kv::Store& store, char family, std::uint64_t topic_id) {
  return store.NewIterator({.lower_bound = keys::FamilyStart(family, topic_id),
                            .upper_bound = keys::FamilyEnd(family, topic_id)});
}

// What recovery needs of an event at one end of a topic's retained range (no views into the
// iterator, which moves on).
struct EdgeEvent {
  std::uint64_t offset = 0;
  TimestampNs timestamp_ns = 0;
  std::uint64_t appended_bytes = 0;  // running total of event bytes, this event included
  std::uint64_t event_bytes = 0;
};

Result<EdgeEvent> DecodeEdge(std::string_view key, std::string_view value, const std::string& name,
                             const char* which) {
  auto offset = OffsetOfEventKey(key);
  auto event = records::DecodeEvent(value);
  if (!offset || !event) return DataLoss("topic '" + name + "': damaged " + which + " event record");
  return EdgeEvent{*offset, event->timestamp_ns, event->appended_bytes, event->event_bytes};
}

struct EdgeEvents {
  EdgeEvent oldest, newest;
};

// The topic's oldest and newest events; nullopt when the topic has none. Recovery runs on the
// commit loop (or before it starts), so no write comes between the two reads.
Result<std::optional<EdgeEvents>> ReadEdgeEvents(kv::Store& store, KeyOrder order, std::uint64_t topic_id,
                                                 const std::string& name) {
  const std::string context = "reading the events of topic '" + name + "'";
  std::optional<StoredEvent> stored_newest;
  if (kv::Status s = ReadNewestEvent(store, order, topic_id, &stored_newest); !s.ok()) return FromKv(s, context);
  if (!stored_newest) return std::optional<EdgeEvents>();
  auto newest = DecodeEdge(stored_newest->key, stored_newest->value, name, "newest");
  if (!newest.ok()) return newest.status();
  EventScan scan(store, order, topic_id, 0, UINT64_MAX);
  if (!scan.Valid()) {
    if (!scan.status().ok()) return FromKv(scan.status(), context);
    return DataLoss("topic '" + name + "': its newest event can be read but no oldest one");
  }
  auto oldest = DecodeEdge(scan.key(), scan.value(), name, "oldest");
  if (!oldest.ok()) return oldest.status();
  return std::optional<EdgeEvents>(EdgeEvents{*oldest, *newest});
}

// The offset the topic's newest time-index entry names (the first event of its bucket); nullopt
// when the topic has no index entry.
Result<std::optional<std::uint64_t>> NewestIndexedOffset(kv::Store& store, std::uint64_t topic_id,
                                                         const std::string& name) {
  auto it = FamilyIterator(store, keys::kIndex, topic_id);
  it->SeekToLast();
  if (!it->Valid()) {
    if (!it->status().ok()) return FromKv(it->status(), "reading the time index of topic '" + name + "'");
    return std::optional<std::uint64_t>();
  }
  if (it->value().size() != 8) return DataLoss("topic '" + name + "': damaged time-index entry");
  return std::optional<std::uint64_t>(keys::ReadBigEndian64(it->value()));
}

}  // namespace

Status RecoverTopic(kv::Store& store, KeyOrder order, TopicState& topic) {
  topic.loop = TopicState::LoopView{};
  const std::string& name = topic.name;
  auto& loop = topic.loop;
  // A retention record that cannot be read is not an absent one: taking it for absent would
  // serve deleted offsets again.
  std::string value;
  kv::Status got = store.Get({}, keys::Low(topic.id), &value);
  if (!got.ok() && !got.IsNotFound()) return FromKv(got, "reading the retention record of topic '" + name + "'");
  if (got.ok()) {
    auto low = records::DecodeLow(value);
    if (!low) return DataLoss("damaged retention record of topic '" + name + "'");
    loop.first_offset = low->first_offset;
    loop.deleted_bytes = low->deleted_bytes;
    loop.last_deleted_ns = low->last_deleted_ns;
  }
  std::optional<SegmentEntry> newest_segment;
  if (kv::Status s = ReadNewestSegment(store, order, topic.id, &newest_segment); !s.ok())
    return FromKv(s, "reading the segment directory of topic '" + name + "'");
  auto edges = ReadEdgeEvents(store, order, topic.id, name);
  if (!edges.ok()) return edges.status();
  if (!edges->has_value()) {  // never appended to, or retention removed everything
    loop.next_offset = loop.first_offset;
    loop.appended_bytes = loop.deleted_bytes;
    loop.last_ns = loop.last_deleted_ns;
  } else {
    const EdgeEvent& first = (*edges)->oldest;
    const EdgeEvent& last = (*edges)->newest;
    // Retention removes a prefix and records what it removed in the same batch, so the oldest
    // event must follow on from the record exactly.
    if (first.offset != loop.first_offset || first.appended_bytes - first.event_bytes != loop.deleted_bytes) {
      return DataLoss("topic '" + name + "': its oldest event (offset " + std::to_string(first.offset) +
                      ") does not follow on from its retention record (first offset " +
                      std::to_string(loop.first_offset) + ")");
    }
    if (last.offset == UINT64_MAX || last.appended_bytes < first.appended_bytes ||
        last.timestamp_ns < first.timestamp_ns) {
      return DataLoss("topic '" + name + "': its newest and oldest events contradict each other");
    }
    loop.next_offset = last.offset + 1;
    loop.appended_bytes = last.appended_bytes;
    loop.last_ns = last.timestamp_ns;
  }
  // The newest index entry was written with the first event of its bucket: a head below that event
  // means the store lost the newest events, and serving it would hand their offsets out again.
  auto indexed = NewestIndexedOffset(store, topic.id, name);
  if (!indexed.ok()) return indexed.status();
  if (indexed->has_value() && **indexed >= loop.next_offset) {
    return DataLoss("topic '" + name + "': its time index names offset " + std::to_string(**indexed) +
                    ", but its newest event is " +
                    (loop.next_offset == 0 ? std::string("none") : std::to_string(loop.next_offset - 1)) +
                    ": events are missing from the store");
  }
  // Likewise the newest directory entry came with the first event of its segment (retention keeps
  // the entry of the segment its first retained offset falls in, even with no event left).
  if (newest_segment) {
    const std::uint64_t named = newest_segment->first_offset;
    if (named > loop.next_offset || (named == loop.next_offset && loop.next_offset > loop.first_offset)) {
      return DataLoss("topic '" + name + "': its segment directory names offset " + std::to_string(named) +
                      ", but its newest event is " +
                      (loop.next_offset == 0 ? std::string("none") : std::to_string(loop.next_offset - 1)) +
                      ": events are missing from the store");
    }
    loop.segment = newest_segment->segment;
  }
  if (loop.next_offset > 0) loop.last_bucket = topic.BucketOf(loop.last_ns);
  return Status::Ok();
}

Status RecoverLoopMeta(kv::Store& store, LoopState& loop) {
  std::string value;
  kv::Status s = store.Get({}, keys::Meta("format"), &value);
  if (!s.ok()) return FromKv(s, "reading the store format");
  loop.attributes_format = value == records::kFormatWithAttributes;
  loop.key_order = value == records::kFormatTimeOrdered ? KeyOrder::kTime : KeyOrder::kTopic;
  s = store.Get({}, keys::Meta("next_topic_id"), &value);
  if (s.ok()) {
    auto next = records::DecodeCounter(value);
    if (!next) return DataLoss("damaged next-topic-id record");
    loop.next_topic_id = *next;
  } else if (!s.IsNotFound()) {
    return FromKv(s, "reading the next topic id");
  }
  return Status::Ok();
}

namespace {

std::string_view FormatFor(KeyOrder order) {
  return order == KeyOrder::kTime ? records::kFormatTimeOrdered : records::kFormatPlain;
}

std::string_view KeyOrderName(KeyOrder order) { return order == KeyOrder::kTime ? "time" : "topic"; }

}  // namespace

Status EventLog::Impl::Recover() {
  std::string value;
  kv::Status s = store_->Get({}, keys::Meta("format"), &value);
  if (s.IsNotFound()) {
    // A cluster node's replication keys may come first (its store id); anything else is foreign.
    auto probe = store_->NewIterator({});
    for (probe->SeekToFirst(); probe->Valid(); probe->Next()) {
      if (!replication_keys::IsReplicationKey(probe->key()))
        return FailedPrecondition("the store holds data that is not a Goethe event log");
    }
    probe.reset();
    kv::WriteBatch init;
    init.Put(keys::Meta("format"), FormatFor(options_.key_order.value_or(KeyOrder::kTopic)));
    if (kv::Status w = store_->Write({.sync = true}, init); !w.ok()) return FromKv(w, "initialising the store");
  } else if (!s.ok()) {
    return FromKv(s, "reading the store format");
  } else if (value != records::kFormatPlain && value != records::kFormatWithAttributes &&
             value != records::kFormatTimeOrdered) {
    // Format 1 kept a head record per topic that every append rewrote (docs/storage.md).
    return FailedPrecondition("the store has format '" + value + "', this program reads '" +
                              std::string(records::kFormatPlain) + "', '" +
                              std::string(records::kFormatWithAttributes) + "' and '" +
                              std::string(records::kFormatTimeOrdered) +
                              "': serve it with the Goethe version that wrote it, or move it aside to start an empty store");
  }
  if (Status meta = RecoverLoopMeta(*store_, loop_state_); !meta.ok()) return meta;
  if (options_.key_order && loop_state_.key_order != *options_.key_order) {
    const std::string has(KeyOrderName(loop_state_.key_order));
    return FailedPrecondition(options_.key_order_setting + ": expected " + has + " for this store, got " +
                              std::string(KeyOrderName(*options_.key_order)) + ": the store orders its events by " +
                              has + " (format '" + value + "') and keeps the order it was created with; set " + has +
                              ", or move the store aside to start an empty one");
  }
  loop_state_.segment_events = std::max<std::uint64_t>(options_.segment_events, 1);
  key_order_.store(loop_state_.key_order, std::memory_order_release);

  const std::string topics_begin(1, keys::kTopic), topics_end(1, keys::kTopic + 1);
  auto it = store_->NewIterator({.lower_bound = topics_begin, .upper_bound = topics_end});
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto key_name = keys::TopicName(it->key());  // the bare key "T" has none
    if (!key_name) return DataLoss("damaged topic record: its key names no topic");
    const std::string name(*key_name);
    auto record = records::DecodeTopic(it->value());
    if (!record) return DataLoss("damaged record of topic '" + name + "'");
    if (record->id == UINT64_MAX) return DataLoss("damaged record of topic '" + name + "': id out of range");
    auto topic = std::make_shared<TopicState>(record->id, name, record->settings, record->created_ns);
    if (Status recovered = RecoverTopic(*store_, loop_state_.key_order, *topic); !recovered.ok()) return recovered;
    // Appends after a restart start a segment of their own, above every topic's.
    loop_state_.segment = std::max(loop_state_.segment, topic->loop.segment + 1);
    topic->Publish();
    registry_.Add(std::move(topic));
  }
  if (!it->status().ok()) return FromKv(it->status(), "reading topics");
  it.reset();
  // Groups last: an ordered group reads its pending events' keys through the recovered topics.
  MakeGroupManager();
  for (const TopicPtr& topic : registry_.All()) {
    if (Status s = groups_->Recover(*store_, topic); !s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace goethe
