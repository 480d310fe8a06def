// A cluster follower's application of the batches its leader decided (replication.h): the batch's
// KV operations are written as they are, then the live state of whatever they touched is read
// back from the store with the same code that recovers it at open, so that a follower's topics,
// heads, retention, cursors and groups are exactly what its store says.
#include <map>

#include "event_log_impl.h"
#include "keys.h"
#include "records.h"
#include "recovery.h"

namespace goethe {

namespace {

// Events written in the other order would be invisible here: every node needs the same order.
Status CheckKeyOrder(std::string_view key, KeyOrder order) {
  if (key.empty()) return Status::Ok();
  const bool time_ordered_key = key[0] == keys::kTimeEvent || key[0] == keys::kSegment;
  const bool topic_ordered_key = key[0] == keys::kEvent;
  if ((order == KeyOrder::kTopic && !time_ordered_key) || (order == KeyOrder::kTime && !topic_ordered_key))
    return Status::Ok();
  const char* leader = time_ordered_key ? "time" : "topic";
  const char* here = order == KeyOrder::kTime ? "time" : "topic";
  return FailedPrecondition(std::string("the leader's store orders events by ") + leader + ", this node's by " +
                            here + ": every node of a cluster needs the same engine.key_order");
}

}  // namespace

EventLog::Impl::Touched EventLog::Impl::TouchedBy(const kv::WriteBatch& batch) {
  Touched touched;
  auto note = [&touched](std::string_view key) {
    if (key.empty()) return;
    if (key[0] == keys::kMeta) touched.meta = true;
    if (auto name = keys::TopicName(key)) touched.names.emplace(*name);
    if (auto id = keys::TopicIdOf(key)) {
      touched.ids.insert(*id);
      if (key[0] == keys::kGroup || key[0] == keys::kGroupEvent) touched.group_ids.insert(*id);
    }
  };
  for (const kv::WriteBatch::Op& op : batch.ops()) {
    if (op.type != kv::WriteBatch::OpType::kDeleteRange) {
      note(op.key);
      continue;
    }
    // The engine's range deletes stay within one family of one topic (a topic's deletion, a
    // retention trim, a group's records); anything wider reads everything back.
    auto begin = keys::TopicIdOf(op.key);
    auto end = keys::TopicIdOf(op.value);
    if (begin && end && op.key[0] == op.value[0] && *end <= *begin + 1) note(op.key);
    else touched.everything = true;
  }
  return touched;
}

void EventLog::Impl::DropLive(const TopicPtr& topic, std::vector<TopicPtr>* wake) {
  registry_.Remove(topic->name);
  topic->deleted.store(true, std::memory_order_release);
  groups_->DropTopic(topic);
  wake->push_back(topic);
}

Status EventLog::Impl::Refresh(const Touched& touched, std::vector<TopicPtr>* wake) {
  loop_state_.cursors.clear();  // a cache of the store's cursors: filled again on demand
  if (touched.meta || touched.everything) {
    if (Status s = RecoverLoopMeta(*store_, loop_state_); !s.ok()) return s;
    key_order_.store(loop_state_.key_order, std::memory_order_release);
  }
  std::map<std::uint64_t, TopicPtr> by_id;
  for (const TopicPtr& topic : registry_.All()) by_id[topic->id] = topic;

  std::set<std::string> names = touched.names;
  std::set<std::uint64_t> ids = touched.ids;
  std::set<std::uint64_t> group_ids = touched.group_ids;
  if (touched.everything) {
    for (const auto& [id, topic] : by_id) names.insert(topic->name);
    const std::string begin(1, keys::kTopic), end(1, keys::kTopic + 1);
    auto it = store_->NewIterator({.lower_bound = begin, .upper_bound = end});
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (auto name = keys::TopicName(it->key())) names.emplace(*name);
    }
    if (!it->status().ok()) return FromKv(it->status(), "reading topics");
  }

  for (const std::string& name : names) {
    std::string value;
    kv::Status got = store_->Get({}, keys::Topic(name), &value);
    if (!got.ok() && !got.IsNotFound()) return FromKv(got, "reading the record of topic '" + name + "'");
    TopicPtr live = registry_.Find(name);
    // A topic read back under another name may have taken the id of the one that goes: forget the
    // id only while it still means the topic that goes.
    auto forget = [&by_id](const TopicPtr& gone) {
      if (auto it = by_id.find(gone->id); it != by_id.end() && it->second == gone) by_id.erase(it);
    };
    if (got.IsNotFound()) {
      if (live) {
        forget(live);
        DropLive(live, wake);
      }
      continue;
    }
    auto record = records::DecodeTopic(value);
    if (!record) return DataLoss("damaged record of topic '" + name + "'");
    if (live && live->id == record->id) {
      ids.insert(live->id);
      continue;
    }
    if (live) {  // deleted and created again under the same name
      forget(live);
      DropLive(live, wake);
    }
    auto topic = std::make_shared<TopicState>(record->id, name, record->settings, record->created_ns);
    by_id[topic->id] = topic;
    registry_.Add(topic);
    ids.insert(topic->id);
    group_ids.insert(topic->id);
  }

  if (touched.everything) {
    for (const auto& [id, topic] : by_id) {
      ids.insert(id);
      group_ids.insert(id);
    }
  }
  for (std::uint64_t id : ids) {
    auto it = by_id.find(id);
    if (it == by_id.end()) continue;  // what a deleted topic left
    const TopicPtr& topic = it->second;
    if (Status s = RecoverTopic(*store_, loop_state_.key_order, *topic); !s.ok()) return s;
    loop_state_.segment = std::max(loop_state_.segment, topic->loop.segment);
    topic->Publish();
    wake->push_back(topic);
    if (group_ids.count(id)) {
      // The topic stays: its members may join again at once (the state they had is the store's).
      groups_->DropTopic(topic, Unavailable("the groups of topic " + topic->name +
                                            " were read back from the store (a new leader took over, or a "
                                            "replicated change arrived); subscribe again"));
      if (Status s = groups_->Recover(*store_, topic); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

Status EventLog::Impl::ApplyDecided(const kv::WriteBatch& batch, bool sync) {
  CommitJob job;
  job.decided = true;
  job.decided_sync = sync;
  job.stage = [&batch](CommitContext& ctx) {
    for (const kv::WriteBatch::Op& op : batch.ops()) {
      if (Status s = CheckKeyOrder(op.key, ctx.key_order()); !s.ok()) return s;
      switch (op.type) {
        case kv::WriteBatch::OpType::kPut: ctx.batch().Put(op.key, op.value); break;
        case kv::WriteBatch::OpType::kDelete: ctx.batch().Delete(op.key); break;
        case kv::WriteBatch::OpType::kDeleteRange: ctx.batch().DeleteRange(op.key, op.value); break;
      }
    }
    return Status::Ok();
  };
  job.applied = [this, touched = TouchedBy(batch)](std::vector<TopicPtr>* wake) { return Refresh(touched, wake); };
  return SubmitAndWait(std::move(job));
}

Status EventLog::Impl::Reload() {
  CommitJob job;
  job.decided = true;  // nothing to write; the refresh runs on the loop, between commits
  job.stage = [](CommitContext&) { return Status::Ok(); };
  job.applied = [this](std::vector<TopicPtr>* wake) { return Refresh(Touched{.everything = true}, wake); };
  return SubmitAndWait(std::move(job));
}

Status EventLog::ApplyDecided(const kv::WriteBatch& batch, bool sync) { return impl_->ApplyDecided(batch, sync); }
Status EventLog::Reload() { return impl_->Reload(); }

}  // namespace goethe
