// CommitContext: the state of one group commit while its jobs are staged.
//
// Jobs stage their changes here — KV operations into one batch, and changed topic views, cursors
// and idempotency keys into overlays — so that later jobs of the same batch see earlier ones.
// Nothing reaches the live state until the batch is durable: Apply() then copies the overlays in
// and publishes the new heads; on a failed write the context is simply dropped.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "event_layout.h"
#include "goethe/engine/status.h"
#include "goethe/kv/store.h"
#include "records.h"
#include "topic_registry.h"

namespace goethe {

// State that only the commit loop owns and that outlives one batch.
struct LoopState {
  std::uint64_t next_topic_id = 1;
  // The store's format marker says format 3: events may carry keys and headers. A format-2 store
  // is marked so in the batch that writes its first such event (records.h).
  bool attributes_format = false;
  // Format 4 orders events by time first: appends go to the current segment, a new one after
  // `segment_events` of them (event_layout.h).
  KeyOrder key_order = KeyOrder::kTopic;
  std::uint64_t segment = 1;
  std::uint64_t segment_fill = 0;  // events appended to `segment`
  std::uint64_t segment_events = 100000;
  // Committed cursors by KV key; filled lazily from the store. nullopt caches "no cursor".
  std::map<std::string, std::optional<records::CursorRecord>> cursors;
};

struct IdempotencyEntry {
  records::IdempotencyRecord record;
  std::vector<TimestampNs> timestamps;  // known when the original is in this same batch
};

class CommitContext {
 public:
  CommitContext(kv::Store& store, TopicRegistry& registry, LoopState& loop, TimestampNs now)
      : store_(store), registry_(registry), loop_(loop), now_(now) {}

  kv::WriteBatch& batch() { return batch_; }
  TimestampNs now() const { return now_; }
  kv::Store& store() { return store_; }
  KeyOrder key_order() const { return loop_.key_order; }

  // The topic called `name` as this batch sees it (creations and deletions staged so far count).
  TopicPtr Find(const std::string& name) const;
  // The topic's loop view staged in this batch; copied from the topic on first use.
  TopicState::LoopView& View(const TopicPtr& topic);
  // The same view, read only: staged when this batch changed it, else the topic's.
  const TopicState::LoopView& PeekView(const TopicPtr& topic) const;
  void MarkLowChanged(const TopicPtr& topic) { staged_[topic.get()].low_changed = true; }

  // Stages a new topic (id from the loop state) and its record; Find sees it from now on.
  TopicPtr StageCreate(const std::string& name, const TopicSettings& settings);
  // Stages the removal of a topic and everything stored under its id (reads its segment directory).
  Status StageDelete(const TopicPtr& topic);

  // The keys of `events` events the topic appends next: with events ordered by time, in the current
  // segment, staging the topic's directory entry when it enters that segment.
  EventKeyMaker EventKeys(const TopicPtr& topic, TopicState::LoopView& view, std::size_t events);

  Result<std::optional<records::CursorRecord>> Cursor(std::uint64_t topic_id, const std::string& consumer);
  void StageCursor(std::uint64_t topic_id, const std::string& consumer,
                   std::optional<records::CursorRecord> cursor);

  Result<std::optional<IdempotencyEntry>> Idempotency(std::uint64_t topic_id, const std::string& key);
  void StageIdempotency(std::uint64_t topic_id, const std::string& key, std::optional<IdempotencyEntry> entry);

  // An event with a key or headers is staged: the store must be marked format 3 (once).
  void UseAttributesFormat();

  // Adds the retention record of every topic trimmed in this batch: once per topic. (A topic's
  // head needs no record: its newest event holds it.)
  void Finalize();
  // After the batch is durable: makes the staged changes live. Returns the topics whose tailing
  // readers are to be woken.
  std::vector<TopicPtr> Apply();

 private:
  struct Staged {
    TopicPtr topic;
    TopicState::LoopView view;
    bool low_changed = false;
  };

  kv::Store& store_;
  TopicRegistry& registry_;
  LoopState& loop_;
  const TimestampNs now_;
  kv::WriteBatch batch_;
  std::unordered_map<const TopicState*, Staged> staged_;
  std::map<std::string, TopicPtr> created_;
  std::map<std::string, TopicPtr> deleted_;
  std::map<std::string, std::optional<records::CursorRecord>> cursors_;
  std::map<std::string, std::optional<IdempotencyEntry>> idempotency_;
  std::uint64_t next_topic_id_ = 0;  // 0: unchanged in this batch
  std::uint64_t segment_events_ = 0;  // appended in this batch
  bool marks_attributes_format_ = false;
};

}  // namespace goethe
