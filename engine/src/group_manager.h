// GroupManager: every consumer group of the log — created, joined, listed, reset, deleted,
// recovered at open — and the one thread that redelivers events whose ack_wait ran out or whose
// nack delay passed.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "goethe/engine/groups.h"
#include "goethe/kv/store.h"
#include "group_state.h"

namespace goethe {

class CommitContext;

// What a group needs of the log, so that groups depend on these few calls and not on all of it.
struct GroupContext {
  std::function<TimestampNs()> now;
  // Queues a commit job (see CommitLoop); `done` gets its outcome on the completion thread.
  std::function<void(std::function<Status(CommitContext&)>, std::function<void(const Status&)>)> commit;
  // Reads events of `topic` from `from` (at most `max_events`), as EventLog::ReadEach.
  std::function<Result<ReadResult>(const ReadRequest&, const EventVisitor&)> read;
  // Stages an append (the dead-letter topic's) into a commit: checks it, then writes it.
  std::function<Status(CommitContext&, const AppendRequest&)> stage_append;
  // EventLog::WaitForOffset.
  std::function<std::uint64_t(const std::string&, std::uint64_t, std::function<void()>)> wait_for_offset;
  // Tells the redelivery thread that something is due at `when`.
  std::function<void(TimestampNs when)> schedule;
};

class GroupManager {
 public:
  explicit GroupManager(GroupContext context);
  ~GroupManager();  // Stop()s

  // Recovery: the groups of `topic` as stored.
  Status Recover(kv::Store& store, const TopicPtr& topic);
  void Start();
  void Stop();

  // Creates the group at `start_offset`, durably; ALREADY_EXISTS when it exists.
  Result<GroupInfo> Create(const TopicPtr& topic, const std::string& name, GroupSettings settings,
                           std::uint64_t start_offset);
  // Joins the group, creating it at `start_offset` when it does not exist (its record is written
  // by the commit before the first delivery).
  Result<std::shared_ptr<GroupMember>> Join(const TopicPtr& topic, const std::string& name,
                                            const GroupSettings& settings, std::uint64_t start_offset,
                                            JoinOptions options);
  Result<GroupInfo> Describe(const TopicPtr& topic, const std::string& name) const;
  std::vector<GroupInfo> List(const TopicPtr& topic) const;
  Result<std::vector<GroupPendingEvent>> Pending(const TopicPtr& topic, const std::string& name,
                                                 std::size_t limit) const;
  Status Reset(const TopicPtr& topic, const std::string& name, std::uint64_t offset);
  Status Delete(const TopicPtr& topic, const std::string& name);
  // The topic was deleted: its groups end (their records went with it). `why` replaces the
  // NOT_FOUND their members' streams end with (a follower reading groups back from the store).
  void DropTopic(const TopicPtr& topic, const Status& why = Status::Ok());

  // Fills in defaults and checks ranges; the error names the setting.
  static Status Resolve(const std::string& topic, const std::string& group, GroupSettings* settings);

  // Wakes the redelivery thread for a deadline at `when`.
  void Schedule(TimestampNs when);

 private:
  std::shared_ptr<GroupState> Find(const TopicPtr& topic, const std::string& name) const;
  std::shared_ptr<GroupState> MakeLocked(const TopicPtr& topic, const std::string& name,
                                         const GroupSettings& settings, std::uint64_t start_offset);
  void TimerThread();
  // Deletes the group's records now and waits for it (unless its topic took them already).
  Status DeleteRecords(const std::shared_ptr<GroupState>& group);

  GroupContext context_;
  mutable std::mutex mutex_;
  // By topic id, then group name.
  std::map<std::uint64_t, std::map<std::string, std::shared_ptr<GroupState>>> groups_;

  std::mutex timer_mutex_;
  std::condition_variable timer_wake_;
  TimestampNs planned_wake_ = 0;  // when the thread looks next (engine clock)
  bool rescheduled_ = false;      // something is due before planned_wake_
  bool stopping_ = false;
  std::thread timer_;
};

}  // namespace goethe
