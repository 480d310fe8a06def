#include "commit_context.h"

#include "goethe/engine/kv_status.h"
#include "keys.h"

namespace goethe {

TopicPtr CommitContext::Find(const std::string& name) const {
  if (auto it = created_.find(name); it != created_.end()) return it->second;
  TopicPtr live = registry_.Find(name);
  auto deleted = deleted_.find(name);
  return deleted != deleted_.end() && deleted->second == live ? nullptr : live;
}

TopicState::LoopView& CommitContext::View(const TopicPtr& topic) {
  auto [it, inserted] = staged_.try_emplace(topic.get());
  if (inserted) {
    it->second.topic = topic;
    it->second.view = topic->loop;
  }
  return it->second.view;
}

const TopicState::LoopView& CommitContext::PeekView(const TopicPtr& topic) const {
  auto it = staged_.find(topic.get());
  return it != staged_.end() ? it->second.view : topic->loop;
}

void CommitContext::UseAttributesFormat() {
  // Format 4 allows attributes from the start.
  if (loop_.attributes_format || marks_attributes_format_ || loop_.key_order == KeyOrder::kTime) return;
  batch_.Put(keys::Meta("format"), records::kFormatWithAttributes);
  marks_attributes_format_ = true;
}

TopicPtr CommitContext::StageCreate(const std::string& name, const TopicSettings& settings) {
  if (next_topic_id_ == 0) next_topic_id_ = loop_.next_topic_id;
  auto topic = std::make_shared<TopicState>(next_topic_id_++, name, settings, now_);
  batch_.Put(keys::Topic(name), records::Encode(records::TopicRecord{topic->id, now_, settings}));
  batch_.Put(keys::Meta("next_topic_id"), records::EncodeCounter(next_topic_id_));
  created_[name] = topic;
  View(topic);
  return topic;
}

Status CommitContext::StageDelete(const TopicPtr& topic) {
  const std::uint64_t id = topic->id;
  KeyRanges events;
  if (kv::Status s = TopicRanges(store_, loop_.key_order, id, PeekView(topic).segment, &events); !s.ok())
    return FromKv(s, "reading the segment directory of topic '" + topic->name + "'");
  batch_.Delete(keys::Topic(topic->name));
  for (const auto& [begin, end] : events) batch_.DeleteRange(begin, end);
  for (char family : {keys::kIndex, keys::kCursor, keys::kIdempotency, keys::kGroup, keys::kGroupEvent}) {
    batch_.DeleteRange(keys::FamilyStart(family, id), keys::FamilyEnd(family, id));
  }
  batch_.Delete(keys::Low(id));
  staged_.erase(topic.get());
  if (created_.erase(topic->name) == 0) deleted_[topic->name] = topic;
  return Status::Ok();
}

EventKeyMaker CommitContext::EventKeys(const TopicPtr& topic, TopicState::LoopView& view, std::size_t events) {
  if (loop_.key_order == KeyOrder::kTopic) return EventKeyMaker{topic->id, 0};
  segment_events_ += events;
  // A topic never goes back to an earlier segment, even if the loop's count is behind its store
  // (a follower that took over counts from what it has read back).
  const std::uint64_t segment = std::max(loop_.segment, view.segment);
  if (segment != view.segment) {
    batch_.Put(keys::Segment(topic->id, view.next_offset), EncodeSegment(segment));
    view.segment = segment;
  }
  return EventKeyMaker{topic->id, segment};
}

Result<std::optional<records::CursorRecord>> CommitContext::Cursor(std::uint64_t topic_id,
                                                                   const std::string& consumer) {
  const std::string key = keys::Cursor(topic_id, consumer);
  if (auto it = cursors_.find(key); it != cursors_.end()) return it->second;
  if (auto it = loop_.cursors.find(key); it != loop_.cursors.end()) return it->second;
  std::string value;
  kv::Status s = store_.Get({}, key, &value);
  std::optional<records::CursorRecord> cursor;
  if (s.ok()) {
    cursor = records::DecodeCursor(value);
    if (!cursor) return DataLoss("damaged cursor record for consumer '" + consumer + "'");
  } else if (!s.IsNotFound()) {
    return FromKv(s, "reading cursor of '" + consumer + "'");
  }
  loop_.cursors[key] = cursor;
  return cursor;
}

void CommitContext::StageCursor(std::uint64_t topic_id, const std::string& consumer,
                                std::optional<records::CursorRecord> cursor) {
  const std::string key = keys::Cursor(topic_id, consumer);
  if (cursor) batch_.Put(key, records::Encode(*cursor));
  else batch_.Delete(key);
  cursors_[key] = cursor;
}

Result<std::optional<IdempotencyEntry>> CommitContext::Idempotency(std::uint64_t topic_id,
                                                                   const std::string& key) {
  const std::string kv_key = keys::Idempotency(topic_id, key);
  if (auto it = idempotency_.find(kv_key); it != idempotency_.end()) return it->second;
  std::string value;
  kv::Status s = store_.Get({}, kv_key, &value);
  if (s.IsNotFound()) return std::optional<IdempotencyEntry>();
  if (!s.ok()) return FromKv(s, "reading idempotency key");
  auto record = records::DecodeIdempotency(value);
  if (!record) return DataLoss("damaged idempotency record");
  return std::optional<IdempotencyEntry>(IdempotencyEntry{*record, {}});
}

void CommitContext::StageIdempotency(std::uint64_t topic_id, const std::string& key,
                                     std::optional<IdempotencyEntry> entry) {
  const std::string kv_key = keys::Idempotency(topic_id, key);
  if (entry) batch_.Put(kv_key, records::Encode(entry->record));
  else batch_.Delete(kv_key);
  idempotency_[kv_key] = std::move(entry);
}

void CommitContext::Finalize() {
  for (auto& [raw, staged] : staged_) {
    if (!staged.low_changed) continue;
    const auto& v = staged.view;
    batch_.Put(keys::Low(staged.topic->id),
               records::Encode(records::LowRecord{v.first_offset, v.deleted_bytes, v.last_deleted_ns}));
  }
}

std::vector<TopicPtr> CommitContext::Apply() {
  std::vector<TopicPtr> to_wake;
  if (next_topic_id_ != 0) loop_.next_topic_id = next_topic_id_;
  if (marks_attributes_format_) loop_.attributes_format = true;
  loop_.segment_fill += segment_events_;
  if (loop_.segment_fill >= loop_.segment_events) {
    ++loop_.segment;
    loop_.segment_fill = 0;
  }
  for (auto& [key, cursor] : cursors_) loop_.cursors[key] = cursor;
  // Deletions first: a topic deleted and created again in this batch must end up registered.
  for (auto& [name, topic] : deleted_) {
    registry_.Remove(name);
    topic->deleted.store(true, std::memory_order_release);
    auto begin = loop_.cursors.lower_bound(keys::FamilyStart(keys::kCursor, topic->id));
    auto end = loop_.cursors.lower_bound(keys::FamilyEnd(keys::kCursor, topic->id));
    loop_.cursors.erase(begin, end);
    to_wake.push_back(topic);
  }
  for (auto& [name, topic] : created_) registry_.Add(topic);
  for (auto& [raw, staged] : staged_) {
    staged.topic->loop = staged.view;
    staged.topic->Publish();
    to_wake.push_back(staged.topic);
  }
  return to_wake;
}

}  // namespace goethe
