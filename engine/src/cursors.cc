// Cursors: the last processed offset per (topic, consumer), committed through the commit loop so
// that concurrent commits for one consumer are ordered and never move it backwards by accident.
#include "event_log_impl.h"
#include "keys.h"
#include "records.h"

namespace goethe {
namespace {

CursorInfo ToInfo(std::string consumer, const records::CursorRecord& record, std::uint64_t head) {
  const std::uint64_t next = record.offset + 1;
  return {std::move(consumer), record.offset, record.updated_ns, head > next ? head - next : 0};
}

}  // namespace

Result<std::optional<CursorInfo>> EventLog::Impl::GetCursor(const std::string& name,
                                                            const std::string& consumer) const {
  if (Status s = EventLog::ValidateConsumerName(consumer); !s.ok()) return s;
  auto topic = FindTopic(name);
  if (!topic.ok()) return topic.status();
  std::string value;
  kv::Status s = store_->Get({}, keys::Cursor((*topic)->id, consumer), &value);
  if (s.IsNotFound()) return std::optional<CursorInfo>();
  if (!s.ok()) return FromKv(s, "reading cursor of '" + consumer + "'");
  auto record = records::DecodeCursor(value);
  if (!record) return DataLoss("damaged cursor record of consumer '" + consumer + "'");
  return std::optional<CursorInfo>(ToInfo(consumer, *record, (*topic)->durable_head.load(std::memory_order_acquire)));
}

void EventLog::Impl::CommitCursorAsync(const std::string& name, const std::string& consumer, std::uint64_t offset,
                                       CursorMove move, std::function<void(const Status&)> done) {
  Status valid = EventLog::ValidateTopicName(name);
  if (valid.ok()) valid = EventLog::ValidateConsumerName(consumer);
  if (!valid.ok()) {
    done(valid);
    return;
  }
  Commit([=](CommitContext& ctx) {
    TopicPtr topic = ctx.Find(name);
    if (!topic) return NotFound("topic '" + name + "' does not exist");
    const std::uint64_t next = ctx.View(topic).next_offset;
    if (offset >= next) {
      return OutOfRange("cannot commit offset " + std::to_string(offset) + " for consumer '" + consumer +
                        "': topic '" + name + "' has events only below offset " + std::to_string(next));
    }
    auto current = ctx.Cursor(topic->id, consumer);
    if (!current.ok()) return current.status();
    if (current.value() && offset < current.value()->offset) {
      if (move == CursorMove::kIgnoreBackwards) return Status::Ok();
      if (move == CursorMove::kForwardOnly) {
        return FailedPrecondition("consumer '" + consumer + "' is at offset " +
                                  std::to_string(current.value()->offset) + "; committing " +
                                  std::to_string(offset) + " would move it backwards (ask for a reset to do that)");
      }
    }
    ctx.StageCursor(topic->id, consumer, records::CursorRecord{offset, ctx.now()});
    return Status::Ok();
  }, std::move(done));
}

Result<std::vector<CursorInfo>> EventLog::Impl::ListCursors(const std::string& name) const {
  auto topic = FindTopic(name);
  if (!topic.ok()) return topic.status();
  const std::uint64_t head = (*topic)->durable_head.load(std::memory_order_acquire);
  const std::string lower = keys::FamilyStart(keys::kCursor, (*topic)->id);
  const std::string upper = keys::FamilyEnd(keys::kCursor, (*topic)->id);
  std::vector<CursorInfo> cursors;
  auto it = store_->NewIterator({.lower_bound = lower, .upper_bound = upper});
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto consumer = keys::CursorConsumer(it->key());
    auto record = records::DecodeCursor(it->value());
    if (!consumer || !record) return DataLoss("topic '" + name + "': damaged cursor record");
    cursors.push_back(ToInfo(std::string(*consumer), *record, head));
  }
  if (!it->status().ok()) return FromKv(it->status(), "listing cursors");
  return cursors;
}

Status EventLog::Impl::DeleteCursor(const std::string& name, const std::string& consumer) {
  if (Status s = EventLog::ValidateTopicName(name); !s.ok()) return s;
  if (Status s = EventLog::ValidateConsumerName(consumer); !s.ok()) return s;
  return CommitAndWait([&](CommitContext& ctx) {
    TopicPtr topic = ctx.Find(name);
    if (!topic) return NotFound("topic '" + name + "' does not exist");
    auto current = ctx.Cursor(topic->id, consumer);
    if (!current.ok()) return current.status();
    if (!current.value()) return NotFound("consumer '" + consumer + "' has no cursor on topic '" + name + "'");
    ctx.StageCursor(topic->id, consumer, std::nullopt);
    return Status::Ok();
  });
}

}  // namespace goethe
