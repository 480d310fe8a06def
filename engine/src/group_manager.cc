#include "group_manager.h"

#include <future>

#include "commit_context.h"
#include "goethe/engine/event_log.h"
#include "goethe/engine/kv_status.h"
#include "keys.h"

namespace goethe {
namespace {

constexpr auto kMaxTimerSleep = std::chrono::seconds(1);

Status GroupNotFound(const std::string& topic, const std::string& name) {
  return NotFound("group '" + name + "' does not exist on topic '" + topic + "'");
}

records::GroupRecord NewRecord(const GroupSettings& settings, TimestampNs now, std::uint64_t start) {
  records::GroupRecord record;
  record.created_ns = now;
  record.ack_floor = record.dispatched_to = start;
  record.ack_wait_ns = settings.ack_wait.count();
  record.max_deliveries = settings.max_deliveries;
  record.ordered_by_key = settings.ordered_by_key;
  record.reset = static_cast<std::uint64_t>(settings.reset);
  record.max_pending = settings.max_pending;
  record.dead_letter_topic = settings.dead_letter_topic;
  return record;
}

}  // namespace

GroupManager::GroupManager(GroupContext context) : context_(std::move(context)) {
  context_.schedule = [this](TimestampNs when) { Schedule(when); };
}

GroupManager::~GroupManager() { Stop(); }

void GroupManager::Start() { timer_ = std::thread([this] { TimerThread(); }); }

void GroupManager::Stop() {
  {
    std::lock_guard lock(timer_mutex_);
    stopping_ = true;
    timer_wake_.notify_all();
  }
  if (timer_.joinable()) timer_.join();
  // Members still connected are told the log is closing.
  std::vector<std::shared_ptr<GroupState>> all;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, groups] : groups_) {
      for (auto& [name, group] : groups) all.push_back(group);
    }
  }
  for (auto& group : all) group->End(Unavailable("the log is closing"));
}

Status GroupManager::Resolve(const std::string& topic, const std::string& group, GroupSettings* settings) {
  if (Status s = EventLog::ValidateGroupName(group); !s.ok()) return s;
  if (settings->ack_wait.count() == 0) settings->ack_wait = std::chrono::seconds(30);
  if (settings->ack_wait < std::chrono::milliseconds(1) || settings->ack_wait > std::chrono::hours(24 * 7))
    return InvalidArgument("group setting ack_wait must be from 1ms to 7d");
  if (settings->max_deliveries == 0) settings->max_deliveries = 5;
  if (settings->max_deliveries > 1000) return InvalidArgument("group setting max_deliveries must be from 1 to 1000");
  if (settings->max_pending == 0) settings->max_pending = 20000;
  if (settings->max_pending > 1'000'000) return InvalidArgument("group setting max_pending must be from 1 to 1000000");
  if (settings->dead_letter_topic.empty()) {
    settings->dead_letter_topic = topic + "." + group + ".dead-letter";
    if (settings->dead_letter_topic.size() > 255)
      return InvalidArgument("the default dead-letter topic '" + topic + "." + group +
                             ".dead-letter' is longer than 255 bytes: name one in dead_letter_topic");
  }
  if (Status s = EventLog::ValidateTopicName(settings->dead_letter_topic); !s.ok())
    return InvalidArgument("group setting dead_letter_topic: " + s.message());
  if (settings->dead_letter_topic == topic)
    return InvalidArgument("group setting dead_letter_topic must not be the group's own topic");
  return Status::Ok();
}

Status GroupManager::Recover(kv::Store& store, const TopicPtr& topic) {
  auto it = store.NewIterator({.lower_bound = keys::FamilyStart(keys::kGroup, topic->id),
                               .upper_bound = keys::FamilyEnd(keys::kGroup, topic->id)});
  std::vector<std::shared_ptr<GroupState>> recovered;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto name = keys::GroupName(it->key());
    auto record = records::DecodeGroup(it->value());
    if (!name || !record) return DataLoss("topic '" + topic->name + "': damaged consumer group record");
    recovered.push_back(std::make_shared<GroupState>(context_, topic, std::string(*name), std::move(*record)));
  }
  if (!it->status().ok()) return FromKv(it->status(), "reading the groups of topic '" + topic->name + "'");
  it.reset();
  for (auto& group : recovered) {
    auto events = store.NewIterator({.lower_bound = keys::GroupEventsStart(topic->id, group->name()),
                                     .upper_bound = keys::GroupEventsEnd(topic->id, group->name())});
    for (events->SeekToFirst(); events->Valid(); events->Next()) {
      auto offset = keys::GroupEventOffset(events->key());
      auto record = records::DecodeGroupEvent(events->value());
      if (!offset || !record) return DataLoss("group '" + group->name() + "' of topic '" + topic->name + "': damaged record");
      group->Restore(*offset, *record);
    }
    if (!events->status().ok()) return FromKv(events->status(), "reading group '" + group->name() + "'");
    if (Status s = group->FinishRestore(); !s.ok()) return s;
    std::lock_guard lock(mutex_);
    groups_[topic->id][group->name()] = group;
  }
  return Status::Ok();
}

std::shared_ptr<GroupState> GroupManager::Find(const TopicPtr& topic, const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto by_topic = groups_.find(topic->id);
  if (by_topic == groups_.end()) return nullptr;
  auto group = by_topic->second.find(name);
  return group == by_topic->second.end() ? nullptr : group->second;
}

std::shared_ptr<GroupState> GroupManager::MakeLocked(const TopicPtr& topic, const std::string& name,
                                                     const GroupSettings& settings, std::uint64_t start_offset) {
  auto group = std::make_shared<GroupState>(context_, topic, name, NewRecord(settings, context_.now(), start_offset));
  groups_[topic->id][name] = group;
  return group;
}

Status GroupManager::DeleteRecords(const std::shared_ptr<GroupState>& group) {
  std::promise<Status> written;
  auto future = written.get_future();
  const std::uint64_t id = group->topic()->id;
  const std::string name = group->name();
  const TopicPtr topic = group->topic();
  context_.commit(
      [id, name, topic](CommitContext& ctx) {
        if (ctx.Find(topic->name) != topic) return Status::Ok();  // the topic took them with it
        ctx.batch().Delete(keys::Group(id, name));
        ctx.batch().DeleteRange(keys::GroupEventsStart(id, name), keys::GroupEventsEnd(id, name));
        return Status::Ok();
      },
      [&written](const Status& s) { written.set_value(s); });
  return future.get();
}

Result<GroupInfo> GroupManager::Create(const TopicPtr& topic, const std::string& name, GroupSettings settings,
                                       std::uint64_t start_offset) {
  if (Status s = Resolve(topic->name, name, &settings); !s.ok()) return s;
  std::shared_ptr<GroupState> group;
  {
    std::lock_guard lock(mutex_);
    auto& groups = groups_[topic->id];
    if (groups.count(name) != 0)
      return AlreadyExists("group '" + name + "' already exists on topic '" + topic->name + "'");
    group = MakeLocked(topic, name, settings, start_offset);
  }
  if (Status s = group->Flush(); !s.ok()) {
    std::lock_guard lock(mutex_);
    groups_[topic->id].erase(name);
    return s;
  }
  return group->Info();
}

Result<std::shared_ptr<GroupMember>> GroupManager::Join(const TopicPtr& topic, const std::string& name,
                                                        const GroupSettings& settings, std::uint64_t start_offset,
                                                        JoinOptions options) {
  std::shared_ptr<GroupState> group;
  {
    std::lock_guard lock(mutex_);
    auto& groups = groups_[topic->id];
    if (auto it = groups.find(name); it != groups.end()) {
      group = it->second;
    } else {
      GroupSettings resolved = settings;
      if (Status s = Resolve(topic->name, name, &resolved); !s.ok()) return s;
      // Its record goes with the commit that records the first delivery (or any earlier one).
      group = MakeLocked(topic, name, resolved, start_offset);
    }
  }
  return group->Join(std::move(options));
}

Result<GroupInfo> GroupManager::Describe(const TopicPtr& topic, const std::string& name) const {
  auto group = Find(topic, name);
  if (!group) return GroupNotFound(topic->name, name);
  return group->Info();
}

std::vector<GroupInfo> GroupManager::List(const TopicPtr& topic) const {
  std::vector<std::shared_ptr<GroupState>> groups;
  {
    std::lock_guard lock(mutex_);
    if (auto it = groups_.find(topic->id); it != groups_.end()) {
      for (auto& [name, group] : it->second) groups.push_back(group);
    }
  }
  std::vector<GroupInfo> infos;
  for (auto& group : groups) infos.push_back(group->Info());
  return infos;
}

Result<std::vector<GroupPendingEvent>> GroupManager::Pending(const TopicPtr& topic, const std::string& name,
                                                             std::size_t limit) const {
  auto group = Find(topic, name);
  if (!group) return GroupNotFound(topic->name, name);
  return group->Pending(limit);
}

Status GroupManager::Reset(const TopicPtr& topic, const std::string& name, std::uint64_t offset) {
  auto group = Find(topic, name);
  if (!group) return GroupNotFound(topic->name, name);
  group->End(Aborted("group '" + name + "' was reset to offset " + std::to_string(offset) + ": subscribe again"));
  group->ResetTo(offset);
  return group->Flush();
}

Status GroupManager::Delete(const TopicPtr& topic, const std::string& name) {
  std::shared_ptr<GroupState> group;
  {
    std::lock_guard lock(mutex_);
    auto by_topic = groups_.find(topic->id);
    if (by_topic == groups_.end() || by_topic->second.count(name) == 0) return GroupNotFound(topic->name, name);
    group = by_topic->second[name];
    by_topic->second.erase(name);
  }
  group->Forget();
  group->End(NotFound("group '" + name + "' was deleted"));
  return DeleteRecords(group);
}

void GroupManager::DropTopic(const TopicPtr& topic, const Status& why) {
  std::map<std::string, std::shared_ptr<GroupState>> groups;
  {
    std::lock_guard lock(mutex_);
    auto it = groups_.find(topic->id);
    if (it == groups_.end()) return;
    groups = std::move(it->second);
    groups_.erase(it);
  }
  for (auto& [name, group] : groups) {
    group->Forget();
    group->End(why.ok() ? NotFound("topic " + topic->name + " no longer exists") : why);
  }
}

void GroupManager::Schedule(TimestampNs when) {
  std::lock_guard lock(timer_mutex_);
  if (when >= planned_wake_) return;  // the thread wakes by then anyway: no wake-up per fetch
  planned_wake_ = when;
  rescheduled_ = true;
  timer_wake_.notify_all();
}

void GroupManager::TimerThread() {
  std::unique_lock lock(timer_mutex_);
  while (!stopping_) {
    rescheduled_ = false;
    planned_wake_ = kNoTimerDue;  // what is scheduled during the pass is seen after it
    lock.unlock();
    std::vector<std::shared_ptr<GroupState>> all;
    {
      std::lock_guard groups_lock(mutex_);
      for (auto& [id, groups] : groups_) {
        for (auto& [name, group] : groups) all.push_back(group);
      }
    }
    TimestampNs next = kNoTimerDue;
    const TimestampNs now = context_.now();
    for (auto& group : all) next = std::min(next, group->CheckTimers(now));
    lock.lock();
    if (stopping_) break;
    next = std::min(next, planned_wake_);
    // The engine's clock may be a test's: sleep on the steady clock for the gap, at most a
    // second, and look again.
    const auto gap = std::chrono::nanoseconds(next == kNoTimerDue ? std::chrono::nanoseconds(kMaxTimerSleep).count()
                                                                  : std::max<TimestampNs>(next - now, 0));
    const auto sleep = std::min<std::chrono::nanoseconds>(gap, kMaxTimerSleep);
    planned_wake_ = now + sleep.count();
    if (sleep.count() > 0 && !rescheduled_) {
      timer_wake_.wait_for(lock, sleep, [this] { return stopping_ || rescheduled_; });
    }
  }
}

}  // namespace goethe
