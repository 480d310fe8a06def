// EventLog: Goethe's append-only log engine over one KV store.
//
// Topics hold events at dense 64-bit offsets from 0. All writes — appends, cursor commits, topic
// changes, retention trims — pass through one group-commit loop that assigns offsets and
// timestamps, writes everything waiting as one KV batch with one sync, then completes each caller
// and wakes readers tailing those topics. Readers never wait on a sync and never see an event
// before it is durable.
//
// Thread safety: every method may be called from any thread. Completion callbacks run on the
// engine's completion thread, in commit order; they must be quick and must not call the blocking
// methods of this class.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "goethe/engine/config.h"
#include "goethe/engine/groups.h"
#include "goethe/engine/status.h"
#include "goethe/engine/replication.h"
#include "goethe/engine/types.h"
#include "goethe/kv/store.h"

namespace goethe::metrics {
class Registry;
}  // namespace goethe::metrics

namespace goethe {

struct EventLogOptions {
  bool sync = true;  // every commit waits for stable storage
  std::uint64_t max_event_bytes = 1 << 20;  // payload, key, header names and values together
  std::uint64_t max_key_bytes = 255;        // at most 255
  std::uint64_t max_headers = 64;           // per event; at most 65535
  std::chrono::nanoseconds idempotency_window = std::chrono::minutes(10);
  std::chrono::nanoseconds default_index_granularity = std::chrono::minutes(1);
  std::chrono::nanoseconds retention_interval = std::chrono::seconds(5);
  std::uint64_t max_commit_events = 65536;
  // Unset: a new store orders by topic, an existing one keeps its order. Set: a new store gets it,
  // an existing store with the other order is refused at open.
  std::optional<KeyOrder> key_order;
  // Where key_order was set, for the message that refuses a store of the other order.
  std::string key_order_setting = "engine.key_order";
  // With KeyOrder::kTime: appended events after which a new segment starts (tests make it small).
  std::uint64_t segment_events = 100000;
  // Wall clock; tests replace it to step time backwards or forwards.
  std::function<TimestampNs()> clock;
  // Gets every batch the commit loop stages (replication.h); null: they go straight to the store.
  // Must outlive the log.
  CommitWriter* writer = nullptr;
  // Where the commit loop's histograms go (commit time, write time, events per commit); null: not
  // measured. Must outlive the log.
  metrics::Registry* metrics = nullptr;

  static EventLogOptions FromConfig(const Config& config);
};

// What an append reports: the result, or an error. On an expected-offset conflict the status is
// ABORTED and next_offset holds the topic's actual next offset.
struct AppendOutcome {
  Status status;
  AppendResult result;
  std::uint64_t next_offset = 0;  // the topic's next offset after this append (or at the conflict)
};

using AppendCallback = std::function<void(AppendOutcome)>;

// Which thread commits an asynchronous append.
enum class CommitOn {
  kLoop,  // the commit loop: the caller goes on at once, e.g. to prepare its next batch
  // With sync off, no replication and no other commit running or queued, the caller's thread,
  // `done` called before the call returns; otherwise the loop. For a caller with nothing to do
  // meanwhile (a unary produce): spares the switches to the commit loop's thread and back. A
  // store that holds writes back (an LSM behind on compaction) then holds the caller's thread.
  kCallerIfIdle,
};

// What an append across topics reports. On success `parts` holds each topic's outcome, in the
// request's order (all duplicates, or none). On failure nothing was written anywhere; the status
// names the topic, and `failed_part` says which part failed when one part did (its outcome holds
// the topic's next offset on a conflict).
struct MultiAppendOutcome {
  Status status;
  std::vector<AppendOutcome> parts;
  std::optional<std::size_t> failed_part;
};

using MultiAppendCallback = std::function<void(MultiAppendOutcome)>;
using WaitId = std::uint64_t;

class EventLog {
 public:
  // Opens the log over `store`, recovering heads and indexes from the store alone.
  static Result<std::unique_ptr<EventLog>> Open(std::shared_ptr<kv::Store> store, EventLogOptions options);
  ~EventLog();  // Close()s

  // Stops accepting writes, completes everything queued, wakes every waiter, flushes the store.
  void Close();

  // Topic names are 1-255 bytes of [A-Za-z0-9._-].
  static Status ValidateTopicName(const std::string& name);
  // Consumer and group names follow the topic-name rule.
  static Status ValidateConsumerName(const std::string& name);
  static Status ValidateGroupName(const std::string& name);
  // Header names are 1-255 bytes of printable ASCII without spaces (0x21-0x7E).
  static Status ValidateHeaderName(const std::string& name);

  Result<TopicInfo> CreateTopic(const std::string& name, const TopicSettings& settings);
  Status DeleteTopic(const std::string& name);
  Result<TopicInfo> DescribeTopic(const std::string& name) const;
  std::vector<TopicInfo> ListTopics() const;
  // The same from memory only, without first_timestamp_ns (0): cheap enough for every scrape.
  std::vector<TopicInfo> ListTopicsLive() const;

  // Queues an append; `done` is called once, when the events are durable or the append failed.
  void AppendAsync(AppendRequest request, AppendCallback done, CommitOn where = CommitOn::kLoop);
  // Blocks until done. With sync off, no replication and no other commit running or waiting, the
  // commit runs on this thread (it would wait anyway), sparing two thread switches; otherwise it
  // joins the group commit.
  AppendOutcome Append(AppendRequest request);

  // Appends to several topics atomically: either every part's events are durable with their
  // offsets, or nothing was written. `done` is called once, as for AppendAsync.
  void AppendMultiAsync(MultiAppendRequest request, MultiAppendCallback done, CommitOn where = CommitOn::kLoop);
  MultiAppendOutcome AppendMulti(MultiAppendRequest request);

  // Reads from `from_offset` (nearest rule: before the first retained event starts at it).
  Result<ReadResult> Read(const ReadRequest& request) const;
  // The same read, handing each event to `visit` instead of collecting copies (result.events
  // stays empty): a server can encode events straight from the store's buffer. The payload view
  // is valid only during the call; `visit` must not call back into the log.
  Result<ReadResult> ReadEach(const ReadRequest& request, const EventVisitor& visit) const;

  // Resolves a start position to the next offset to deliver (the nearest rule; docs/engine.md).
  Result<ResolvedPosition> Resolve(const std::string& topic, const StartPosition& position) const;

  // Calls `wake` once, as soon as offset `offset` of `topic` is durable, or the topic is deleted,
  // or the log closes — on the thread that completes the commit (the engine's, or the caller of a
  // blocking Append that committed on its own thread), or at once on this thread when that is
  // already so. `wake` must be quick: it should schedule work, not do it. Returns an id for
  // CancelWait, or 0 when `wake` already ran or the topic does not exist (then wake is not called).
  WaitId WaitForOffset(const std::string& topic, std::uint64_t offset, std::function<void()> wake);
  // Removes a waiter; true when it was still waiting (and so will never be called).
  bool CancelWait(const std::string& topic, WaitId id);
  // Blocks until offset `offset` is durable or `timeout` passes; true when it is durable.
  bool WaitForOffset(const std::string& topic, std::uint64_t offset, std::chrono::milliseconds timeout);

  // Cursors: the last processed offset per (topic, consumer); delivery resumes after it.
  Result<std::optional<CursorInfo>> GetCursor(const std::string& topic, const std::string& consumer) const;
  Status CommitCursor(const std::string& topic, const std::string& consumer, std::uint64_t offset,
                      CursorMove move = CursorMove::kForwardOnly);
  // The same, without blocking: `done` runs on the completion thread once the commit is durable.
  void CommitCursorAsync(const std::string& topic, const std::string& consumer, std::uint64_t offset,
                         CursorMove move, std::function<void(const Status&)> done);
  Result<std::vector<CursorInfo>> ListCursors(const std::string& topic) const;
  Status DeleteCursor(const std::string& topic, const std::string& consumer);

  // Consumer groups (groups.h). Group names follow the topic-name rule; a group starts at the
  // beginning, the end, an offset or a time (nearest rule). Settings left at zero take defaults.
  Result<GroupInfo> CreateGroup(const std::string& topic, const std::string& group, const GroupSettings& settings,
                                const StartPosition& start);  // ALREADY_EXISTS when it exists
  // Joins the group; creates it with `settings` at `start` when it does not exist (both are
  // ignored when it does).
  Result<std::shared_ptr<GroupMember>> JoinGroup(const std::string& topic, const std::string& group,
                                                 const GroupSettings& settings, const StartPosition& start,
                                                 JoinOptions options);
  Result<std::vector<GroupInfo>> ListGroups(const std::string& topic) const;
  Result<GroupInfo> DescribeGroup(const std::string& topic, const std::string& group) const;
  // The group's unacked events above its floor, oldest first, at most `limit`.
  Result<std::vector<GroupPendingEvent>> GroupPending(const std::string& topic, const std::string& group,
                                                      std::size_t limit) const;
  // Ends every member's stream (ABORTED) and starts the group over at `start`.
  Status ResetGroup(const std::string& topic, const std::string& group, const StartPosition& start);
  // Ends every member's stream (NOT_FOUND) and removes the group and its records.
  Status DeleteGroup(const std::string& topic, const std::string& group);
  // Fills in the defaults and checks the ranges of `settings`, as CreateGroup does.
  static Status ValidateGroupSettings(const std::string& topic, const std::string& group, GroupSettings* settings);

  // Runs one retention pass over every topic now (the background thread does it periodically).
  Status EnforceRetention();

  // Replication (replication.h). A cluster's follower applies a batch its leader decided: the
  // batch's KV operations are written as they are, durably when `sync`, after whatever is queued
  // and never through the CommitWriter; then the live state of every topic they touch (created,
  // deleted, appended to, trimmed; cursors, groups) is read back from the store and the topics'
  // readers are woken.
  Status ApplyDecided(const kv::WriteBatch& batch, bool sync);
  // Reads every topic's live state back from the store, as ApplyDecided does for the topics a
  // batch touches: after a snapshot replaced the store's contents, or when a follower becomes the
  // leader (its groups).
  Status Reload();

  const EventLogOptions& options() const;

  class Impl;

 private:
  explicit EventLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace goethe
