// GroupState: one consumer group in memory — who holds which event, what is acked — and the
// staging of its state into the group commit.
//
// Every event from the ack floor to the dispatch mark has an entry in `pending_`: waiting (never
// delivered, handed back, or timed out), in flight to a member, or acked above the floor. Changes
// are made in memory under the group's mutex and marked dirty; a commit job then writes the dirty
// entries and the group record as they are when the job is staged, so jobs may be staged in any
// order and each writes the newest state. A delivery is handed to its member only after the job
// that records it is durable.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "goethe/engine/groups.h"
#include "records.h"
#include "topic_state.h"

namespace goethe {

class CommitContext;
struct GroupContext;  // group_manager.h: what a group needs of the log

// CheckTimers' answer when no timer is set.
inline constexpr TimestampNs kNoTimerDue = std::numeric_limits<TimestampNs>::max();

class GroupState : public std::enable_shared_from_this<GroupState> {
 public:
  // What the last durable write of this group held, for Info: figures a client reads must not
  // run ahead of what a crash would keep.
  struct Durable {
    std::uint64_t sequence = 0;  // of the write; later ones replace earlier ones
    records::GroupRecord record;  // floor, dispatch mark and counters as written
    std::uint64_t acked_above_floor = 0;
  };

  GroupState(GroupContext& log, TopicPtr topic, std::string name, records::GroupRecord record);

  const std::string& name() const { return name_; }
  const TopicPtr& topic() const { return topic_; }

  // Recovery: a stored per-event record, then the rest of [floor, dispatch mark) as delivered once.
  void Restore(std::uint64_t offset, const records::GroupEventRecord& record);
  Status FinishRestore();

  std::shared_ptr<GroupMember> Join(JoinOptions options);
  GroupInfo Info() const;
  std::vector<GroupPendingEvent> Pending(std::size_t limit) const;
  // Ends every member (their on_work gets `why`) and refuses new work. For delete and reset.
  void End(const Status& why);
  // Sets the floor and dispatch mark to `offset` and forgets every pending event (after End).
  void ResetTo(std::uint64_t offset);
  // Stops writing: the group's records are gone (deleted, or its topic was).
  void Forget();

  // Stages the group's dirty state (and dead-letter appends) into `ctx`; `staged` gets what the
  // write holds (it becomes durable_ once written).
  Status Stage(CommitContext& ctx, Durable* staged);
  // Writes the group's state now and waits until it is durable.
  Status Flush();
  // Moves in-flight events past their ack_wait, and nacked ones past their delay, back to waiting;
  // returns the next time something is due (or kNoTimerDue).
  TimestampNs CheckTimers(TimestampNs now);

  // For GroupMemberImpl.
  void Fetch(std::uint64_t member, std::uint32_t max_events, std::uint64_t max_bytes,
             std::function<void(Result<std::vector<GroupDelivery>>)> deliver);
  void Ack(std::uint64_t member, std::vector<OffsetRange> ranges, std::function<void(const Status&)> done);
  Status Nack(std::uint64_t member, const std::vector<std::uint64_t>& offsets, std::chrono::nanoseconds delay,
              const std::string& reason);
  Status Extend(std::uint64_t member, const std::vector<std::uint64_t>& offsets);
  std::uint64_t InFlight(std::uint64_t member) const;
  void Leave(std::uint64_t member);

 private:
  enum class Where { kWaiting, kInFlight, kAcked };
  struct Entry {
    Where where = Where::kWaiting;
    std::uint32_t deliveries = 0;
    std::uint64_t member = 0;       // the member it was last delivered to (in flight to it: kInFlight)
    TimestampNs due_ns = 0;         // kInFlight: ack_wait expiry; kWaiting: not before (nack delay)
    TimestampNs delivered_ns = 0;
    std::string key;                // ordered_by_key only
    std::string nack_reason;
  };
  struct Member {
    std::string name;
    std::uint32_t window = 0;
    std::uint64_t in_flight = 0;
    bool starved = false;  // its last fetch found nothing: tell it when there may be work
    std::function<void(const Status&)> on_work;
  };
  using Callbacks = std::vector<std::function<void()>>;

  // Everything below assumes mutex_ is held.
  TimestampNs Now() const;
  bool Eligible(std::uint64_t offset, const Entry& entry, TimestampNs now) const;
  // An in-flight entry no longer counts against its member's window.
  void ReleaseFromMember(const Entry& entry);
  // INVALID_ARGUMENT unless every offset is in flight to `member` (`what`: "nack", "extend").
  Status CheckInFlightTo(std::uint64_t member, const std::vector<std::uint64_t>& offsets, const char* what) const;
  // Removes an entry's key lock (ordered_by_key) once it is acked.
  void ReleaseKey(std::uint64_t offset, const Entry& entry);
  void MarkAcked(std::uint64_t offset, Entry& entry);
  void ToWaiting(std::uint64_t offset, Entry& entry, TimestampNs not_before);
  void AdvanceFloor();
  // Retention deleted events from the floor on: the reset policy moves the floor (`*moved`).
  Status ApplyRetention(bool* moved);
  // New events, from the dispatch mark, up to `room` eligible ones.
  Status DispatchNew(std::size_t room, TimestampNs now, std::vector<std::uint64_t>* chosen);
  // Visits the events at `offsets` (ascending), consecutive ones with one range read.
  Status ForEachEvent(const std::vector<std::uint64_t>& offsets, const EventVisitor& visit) const;
  Status ReadEvents(const std::vector<std::uint64_t>& offsets, std::map<std::uint64_t, Event>* out) const;
  // The keys of the events at `offsets` (ordered_by_key), without copying their payloads.
  Status ReadKeys(const std::vector<std::uint64_t>& offsets, std::map<std::uint64_t, std::string>* keys) const;
  // Gives a pending entry its key and locks the key for it (ordered_by_key).
  void SetKey(std::uint64_t offset, Entry& entry, std::string key);
  void AddDeadLetter(const Event& event, const Entry& entry);
  // The starved members' on_work, to call once the lock is released; clears `starved`.
  Callbacks WakeStarved();
  // Submits a commit job that stages the dirty state; `done` gets the write's status.
  void Persist(std::function<void(const Status&)> done);
  void ArmTailWait();
  records::GroupRecord Record() const;


  GroupContext& log_;
  const TopicPtr topic_;
  const std::string name_;

  mutable std::mutex mutex_;
  records::GroupRecord record_;  // settings and counters; floor and dispatch mark live below
  GroupSettings settings_;
  std::uint64_t floor_ = 0;
  std::uint64_t dispatched_to_ = 0;
  std::map<std::uint64_t, Entry> pending_;           // exactly [floor_, dispatched_to_)
  std::uint64_t acked_above_floor_ = 0;              // the kAcked entries of pending_
  std::set<std::uint64_t> waiting_;                  // the kWaiting entries of pending_
  std::map<std::string, std::set<std::uint64_t>> key_unacked_;  // ordered_by_key: unacked offsets by key
  std::map<std::uint64_t, Member> members_;
  std::uint64_t next_member_ = 1;
  std::set<std::uint64_t> dirty_;                    // entries whose record must be rewritten
  std::uint64_t floor_persisted_ = 0;                // records below it are deleted
  bool resync_ = false;                              // a write failed: rewrite every record
  std::uint64_t stage_sequence_ = 0;
  Durable durable_;
  std::vector<AppendRequest> dead_letters_;          // staged with the next job
  bool tail_wait_armed_ = false;
  bool ended_ = false;
  Status end_status_;
  bool forgotten_ = false;
};

}  // namespace goethe
