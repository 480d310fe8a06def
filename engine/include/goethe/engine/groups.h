// Consumer groups: the instances of a service share one topic's events.
//
// A group on a topic hands every event from its start to one member at a time. A member acks an
// event when it has processed it, nacks it to hand it back (optionally after a delay), or extends
// it to keep it longer. An event not acked within the group's ack_wait, or held by a member whose
// stream ends, goes back to the group and is delivered again, to any member. After
// max_deliveries deliveries an event is moved to the group's dead-letter topic, with headers that
// say where it came from, and the group moves on. With ordered_by_key, events of one key are never
// in flight twice at once and are delivered in offset order.
//
// What a group stores (docs/storage.md): its ack floor (every event below is acked or
// dead-lettered), how far it has dispatched, counters, and one record per event above the floor
// that was acked out of order or delivered more than once; all written by the group commit, in
// the same batches as everything else. Storage per group is bounded by max_pending, never by the
// topic's length.
//
// Thread safety: every method may be called from any thread. Callbacks run on the engine's
// threads (or at once on the caller's); they must be quick and must not call blocking methods.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "goethe/engine/status.h"
#include "goethe/engine/types.h"

namespace goethe {

struct GroupSettings {
  std::chrono::nanoseconds ack_wait = std::chrono::seconds(30);  // delivered, not acked: redeliver after
  std::uint32_t max_deliveries = 5;  // then the event goes to the dead-letter topic (1 to 1000)
  std::string dead_letter_topic;     // empty: "<topic>.<group>.dead-letter"
  bool ordered_by_key = false;
  ResetPolicy reset = ResetPolicy::kEarliest;  // when retention deleted events the group had not acked
  std::uint64_t max_pending = 20000;  // most events dispatched ahead of the ack floor (1 to 1,000,000)
};

// A group as described to clients.
struct GroupInfo {
  std::string topic;
  std::string name;
  GroupSettings settings;  // dead_letter_topic always filled in
  TimestampNs created_ns = 0;
  std::uint64_t ack_floor = 0;      // every event below is acked or dead-lettered
  std::uint64_t dispatched_to = 0;  // the next event never delivered
  std::uint64_t acked_above_floor = 0;
  std::uint64_t lag = 0;            // events from the floor to the head not yet acked
  std::uint64_t in_flight = 0;      // delivered to a member, not acked
  std::uint32_t members = 0;        // connected members
  std::uint64_t redeliveries = 0;   // deliveries after the first, since the group was created
  std::uint64_t dead_lettered = 0;
  std::uint64_t lost_to_retention = 0;  // events retention deleted before the group acked them
};

// One event of a group above its ack floor that is not acked: in flight to a member, or waiting
// to be delivered again.
struct GroupPendingEvent {
  std::uint64_t offset = 0;
  std::string member;          // empty: waiting (returned, nacked or timed out)
  std::uint32_t deliveries = 0;
  TimestampNs delivered_ns = 0;  // of the latest delivery; 0 when never delivered since the restart
  TimestampNs not_before_ns = 0;  // waiting after a nack with a delay
};

struct OffsetRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
};

// An event delivered to a group member.
struct GroupDelivery {
  Event event;
  std::uint32_t deliveries = 0;  // 1 on the first delivery
};

// A connected member of a group; made by EventLog::JoinGroup. Dropping the last reference (or
// Leave) hands its unacked events back to the group at once.
class GroupMember {
 public:
  virtual ~GroupMember() = default;

  // Takes up to `max_events` events for this member (never more than its window has room for)
  // and marks them in flight; `deliver` runs once, after the delivery is recorded durably, with
  // the events (possibly none: then `on_work` is called when there may be some) or an error.
  virtual void Fetch(std::uint32_t max_events, std::uint64_t max_bytes,
                     std::function<void(Result<std::vector<GroupDelivery>>)> deliver) = 0;
  // Acks the events of `ranges` last delivered to this member (in flight, or handed back after a
  // timeout and not delivered since); `done` runs once the acks are durable. Events of a range
  // delivered to another member are left alone. An offset the group never delivered (past its
  // dispatch mark, or a single-offset range of an event not delivered yet) is INVALID_ARGUMENT and
  // nothing of the call is applied; an event already acked is no error.
  virtual void Ack(std::vector<OffsetRange> ranges, std::function<void(const Status&)> done) = 0;
  // Hands events in flight to this member back, to be delivered again no sooner than `delay`.
  // `reason` goes into the dead-letter headers if the event ends there.
  virtual Status Nack(const std::vector<std::uint64_t>& offsets, std::chrono::nanoseconds delay,
                      const std::string& reason) = 0;
  // Gives events in flight to this member a fresh ack_wait.
  virtual Status Extend(const std::vector<std::uint64_t>& offsets) = 0;
  // Events in flight to this member.
  virtual std::uint64_t in_flight() const = 0;
  // Hands every unacked event back and stops `on_work`. Idempotent.
  virtual void Leave() = 0;
  virtual const std::string& id() const = 0;
};

struct JoinOptions {
  std::string member;            // a name for listings (e.g. the peer); need not be unique
  std::uint32_t window = 1000;   // most events in flight to this member
  // Called when there may be work for this member, or when the member is ended: the group or its
  // topic was deleted or reset (`ended` then holds why). Quick; it should schedule a Fetch.
  std::function<void(const Status& ended)> on_work;
};

}  // namespace goethe
