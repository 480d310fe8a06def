// EventLog::Impl: the engine's parts, wired together. Each group of methods lives in its own file:
// event_log.cc (open, close), recovery.cc, append.cc, topics.cc, reader.cc, cursors.cc, retention.cc.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "commit_loop.h"
#include "group_manager.h"
#include "goethe/engine/event_log.h"
#include "goethe/engine/kv_status.h"
#include "topic_registry.h"

namespace goethe {

class EventLog::Impl {
 public:
  Impl(std::shared_ptr<kv::Store> store, EventLogOptions options)
      : store_(std::move(store)), options_(std::move(options)) {}

  Status Recover();  // recovery.cc
  void MakeGroupManager();  // event_log_groups.cc
  void Start();
  void Close();

  // Runs `stage` as a commit job and waits for its outcome.
  Status CommitAndWait(std::function<Status(CommitContext&)> stage);
  // Queues `job` (its finish is set here) and waits for its outcome.
  Status SubmitAndWait(CommitJob job);
  // Runs `stage` as a commit job; `done` gets its outcome on the completion thread.
  void Commit(std::function<Status(CommitContext&)> stage, std::function<void(const Status&)> done);

  // append.cc
  void AppendAsync(AppendRequest request, AppendCallback done, CommitOn where);
  AppendOutcome Append(AppendRequest request);  // may commit on the caller's thread
  // The commit job of an append; nullopt (and `done` called) when the request is invalid.
  std::optional<CommitJob> MakeAppendJob(AppendRequest request, AppendCallback done);
  void AppendMultiAsync(MultiAppendRequest request, MultiAppendCallback done, CommitOn where);
  void Submit(CommitJob job, CommitOn where);  // hands an append's job to the loop as `where` says
  MultiAppendOutcome AppendMulti(MultiAppendRequest request);
  std::optional<CommitJob> MakeMultiAppendJob(MultiAppendRequest request, MultiAppendCallback done);
  Status StageMultiAppend(CommitContext& ctx, const MultiAppendRequest& request, MultiAppendOutcome& outcome);

  // What CheckAppend decided for one topic's part, for WriteAppend.
  struct AppendPlan {
    TopicPtr topic;                    // null: the topic is created when written
    TopicSettings new_topic_settings;  // for a topic to create
    bool duplicate = false;            // an idempotent retry: nothing to write
  };
  // Checks an append against the staged state without changing the context; fills `outcome`
  // with a duplicate's first answer or a conflict's next offset.
  Status CheckAppend(CommitContext& ctx, const AppendRequest& request, AppendPlan* plan, AppendOutcome& outcome);
  // Stages what CheckAppend allowed: events, index entry, idempotency key, the topic if new.
  void WriteAppend(CommitContext& ctx, const AppendRequest& request, const AppendPlan& plan, AppendOutcome& outcome);

  // topics.cc
  Result<TopicInfo> CreateTopic(const std::string& name, const TopicSettings& settings);
  Status DeleteTopic(const std::string& name);
  Result<TopicInfo> Describe(const TopicPtr& topic) const;
  TopicInfo DescribeLive(const TopicPtr& topic) const;  // without first_timestamp_ns: no store read
  Result<TopicPtr> FindTopic(const std::string& name) const;
  Status ResolveSettings(TopicSettings* settings) const;

  // event_log.cc: EventLog::WaitForOffset, which the groups use too.
  WaitId WaitForOffset(const std::string& topic, std::uint64_t offset, std::function<void()> wake);

  // reader.cc
  Result<ReadResult> Read(const ReadRequest& request) const;
  Result<ReadResult> ReadEach(const ReadRequest& request, const EventVisitor& visit) const;
  Result<ResolvedPosition> Resolve(const std::string& topic, const StartPosition& position) const;
  Result<std::uint64_t> SeekTime(const TopicState& topic, TimestampNs time, bool* exact) const;

  // cursors.cc
  Result<std::optional<CursorInfo>> GetCursor(const std::string& topic, const std::string& consumer) const;
  void CommitCursorAsync(const std::string& topic, const std::string& consumer, std::uint64_t offset,
                         CursorMove move, std::function<void(const Status&)> done);
  Result<std::vector<CursorInfo>> ListCursors(const std::string& topic) const;
  Status DeleteCursor(const std::string& topic, const std::string& consumer);

  // decided.cc: a follower's application of its leader's batches.
  Status ApplyDecided(const kv::WriteBatch& batch, bool sync);
  Status Reload();
  // What a decided batch changed, by topic.
  struct Touched {
    std::set<std::string> names;       // topic records put or deleted
    std::set<std::uint64_t> ids;       // topics with keys put or deleted
    std::set<std::uint64_t> group_ids; // topics with group records put or deleted
    bool meta = false;                 // store-wide values
    bool everything = false;           // read every topic back
  };
  static Touched TouchedBy(const kv::WriteBatch& batch);
  // On the commit loop's thread, after the batch is written: reads what it touched back.
  Status Refresh(const Touched& touched, std::vector<TopicPtr>* wake);
  void DropLive(const TopicPtr& topic, std::vector<TopicPtr>* wake);

  // retention.cc
  Status EnforceRetention();
  Status EnforceRetention(const TopicPtr& topic);
  Status ForgetExpiredIdempotencyKeys(const TopicPtr& topic);
  void RetentionThread();

  TimestampNs Now() const { return options_.clock(); }
  // The store's key order, for readers (the loop's own copy is in loop_state_).
  KeyOrder key_order() const { return key_order_.load(std::memory_order_acquire); }

  std::shared_ptr<kv::Store> store_;
  EventLogOptions options_;
  TopicRegistry registry_;
  LoopState loop_state_;
  std::atomic<KeyOrder> key_order_{KeyOrder::kTopic};  // set from loop_state_ when its marker is read
  std::unique_ptr<CommitLoop> loop_;
  std::unique_ptr<GroupManager> groups_;

  std::mutex retention_mutex_;
  std::condition_variable retention_wake_;
  bool closing_ = false;
  std::atomic<bool> closed_{false};  // set once the commit loop has stopped
  std::thread retention_thread_;
  std::once_flag close_once_;
};

}  // namespace goethe
