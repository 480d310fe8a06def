// Topics: create, delete, find, describe.
#include "event_layout.h"
#include "event_log_impl.h"
#include "keys.h"
#include "records.h"

namespace goethe {

Status EventLog::Impl::ResolveSettings(TopicSettings* settings) const {
  if (settings->retention_age_ns < 0) return InvalidArgument("retention age must not be negative");
  if (settings->index_granularity_ns == 0) settings->index_granularity_ns = options_.default_index_granularity.count();
  if (settings->index_granularity_ns < 1'000'000) {
    return InvalidArgument("time-index granularity must be at least 1ms, got " +
                           std::to_string(settings->index_granularity_ns) + "ns");
  }
  return Status::Ok();
}

Result<TopicPtr> EventLog::Impl::FindTopic(const std::string& name) const {
  if (Status s = EventLog::ValidateTopicName(name); !s.ok()) return s;
  TopicPtr topic = registry_.Find(name);
  if (!topic) return NotFound("topic '" + name + "' does not exist");
  return topic;
}

Result<TopicInfo> EventLog::Impl::CreateTopic(const std::string& name, const TopicSettings& requested) {
  if (Status s = EventLog::ValidateTopicName(name); !s.ok()) return s;
  TopicSettings settings = requested;
  if (Status s = ResolveSettings(&settings); !s.ok()) return s;
  Status created = CommitAndWait([&](CommitContext& ctx) {
    if (ctx.Find(name)) return AlreadyExists("topic '" + name + "' already exists");
    ctx.StageCreate(name, settings);
    return Status::Ok();
  });
  if (!created.ok()) return created;
  auto topic = FindTopic(name);  // a concurrent delete may already have removed it
  if (!topic.ok()) return topic.status();
  return Describe(*topic);
}

Status EventLog::Impl::DeleteTopic(const std::string& name) {
  if (Status s = EventLog::ValidateTopicName(name); !s.ok()) return s;
  TopicPtr deleted;
  Status status = CommitAndWait([&](CommitContext& ctx) {
    TopicPtr topic = ctx.Find(name);
    if (!topic) return NotFound("topic '" + name + "' does not exist");
    if (Status s = ctx.StageDelete(topic); !s.ok()) return s;
    deleted = topic;
    return Status::Ok();
  });
  if (status.ok() && deleted) groups_->DropTopic(deleted);
  return status;
}

TopicInfo EventLog::Impl::DescribeLive(const TopicPtr& topic) const {
  TopicInfo info;
  info.name = topic->name;
  info.id = topic->id;
  info.settings = topic->settings;
  info.created_ns = topic->created_ns;
  info.next_offset = topic->durable_head.load(std::memory_order_acquire);
  info.first_offset = std::min(topic->first_offset.load(std::memory_order_acquire), info.next_offset);
  info.event_count = info.next_offset - info.first_offset;
  info.bytes = topic->retained_bytes.load(std::memory_order_acquire);
  info.last_timestamp_ns = topic->last_ns.load(std::memory_order_acquire);
  return info;
}

Result<TopicInfo> EventLog::Impl::Describe(const TopicPtr& topic) const {
  TopicInfo info = DescribeLive(topic);
  if (info.event_count > 0) {
    // Read the first retained event for its time; retention may move past it meanwhile, so take
    // whatever event comes first.
    EventScan it(*store_, key_order(), topic->id, info.first_offset, info.next_offset);
    if (it.Valid()) {
      auto event = records::DecodeEvent(it.value());
      if (!event) return DataLoss("topic '" + topic->name + "': damaged event record");
      info.first_timestamp_ns = event->timestamp_ns;
    }
  }
  return info;
}

}  // namespace goethe
