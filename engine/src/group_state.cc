#include "group_state.h"

#include <algorithm>
#include <atomic>
#include <future>
#include <limits>

#include "commit_context.h"
#include "group_manager.h"
#include "keys.h"

namespace goethe {
namespace {


// ordered_by_key reads ahead to find events of free keys; at most this many per wanted event.
constexpr std::size_t kLookaheadPerEvent = 8;

// The member handle given out by Join: forwards to the group, leaves it when dropped.
class GroupMemberImpl final : public GroupMember {
 public:
  GroupMemberImpl(std::shared_ptr<GroupState> group, std::uint64_t id)
      : group_(std::move(group)), id_(id), name_(std::to_string(id)) {}
  ~GroupMemberImpl() override { Leave(); }

  void Fetch(std::uint32_t max_events, std::uint64_t max_bytes,
             std::function<void(Result<std::vector<GroupDelivery>>)> deliver) override {
    group_->Fetch(id_, max_events, max_bytes, std::move(deliver));
  }
  void Ack(std::vector<OffsetRange> ranges, std::function<void(const Status&)> done) override {
    group_->Ack(id_, std::move(ranges), std::move(done));
  }
  Status Nack(const std::vector<std::uint64_t>& offsets, std::chrono::nanoseconds delay,
              const std::string& reason) override {
    return group_->Nack(id_, offsets, delay, reason);
  }
  Status Extend(const std::vector<std::uint64_t>& offsets) override { return group_->Extend(id_, offsets); }
  std::uint64_t in_flight() const override { return group_->InFlight(id_); }
  void Leave() override {
    if (!left_.exchange(true)) group_->Leave(id_);
  }
  const std::string& id() const override { return name_; }

 private:
  std::shared_ptr<GroupState> group_;
  const std::uint64_t id_;
  const std::string name_;
  std::atomic<bool> left_{false};
};

void RunAll(std::vector<std::function<void()>>& callbacks) {
  for (auto& callback : callbacks) callback();
}

}  // namespace

GroupState::GroupState(GroupContext& log, TopicPtr topic, std::string name, records::GroupRecord record)
    : log_(log), topic_(std::move(topic)), name_(std::move(name)), record_(std::move(record)) {
  settings_.ack_wait = std::chrono::nanoseconds(record_.ack_wait_ns);
  settings_.max_deliveries = static_cast<std::uint32_t>(record_.max_deliveries);
  settings_.dead_letter_topic = record_.dead_letter_topic;
  settings_.ordered_by_key = record_.ordered_by_key;
  settings_.reset = static_cast<ResetPolicy>(record_.reset);
  settings_.max_pending = record_.max_pending;
  floor_ = record_.ack_floor;
  dispatched_to_ = record_.dispatched_to;
  durable_ = {0, record_, 0};
}

TimestampNs GroupState::Now() const { return log_.now(); }

void GroupState::Restore(std::uint64_t offset, const records::GroupEventRecord& record) {
  std::lock_guard lock(mutex_);
  if (offset < floor_ || offset >= dispatched_to_) return;  // stale: the next write deletes it
  Entry& entry = pending_[offset];
  entry.deliveries = static_cast<std::uint32_t>(record.deliveries);
  entry.where = record.acked ? Where::kAcked : Where::kWaiting;
  if (record.acked) ++acked_above_floor_;
}

Status GroupState::FinishRestore() {
  std::lock_guard lock(mutex_);
  // Events dispatched without a record of their own were delivered once and not acked.
  for (std::uint64_t offset = floor_; offset < dispatched_to_; ++offset) {
    auto [it, inserted] = pending_.try_emplace(offset);
    if (inserted) it->second.deliveries = 1;
    if (it->second.where == Where::kWaiting) waiting_.insert(offset);
  }
  floor_persisted_ = 0;  // the first write deletes any stale record below the floor
  AdvanceFloor();
  durable_ = {0, Record(), acked_above_floor_};
  if (!settings_.ordered_by_key) return Status::Ok();
  // Keys decide the order of delivery: learn them for every unacked event.
  std::vector<std::uint64_t> unacked;
  for (const auto& [offset, entry] : pending_) {
    if (entry.where != Where::kAcked) unacked.push_back(offset);
  }
  std::map<std::uint64_t, std::string> keys;
  if (Status s = ReadKeys(unacked, &keys); !s.ok()) return s;
  for (auto& [offset, key] : keys) SetKey(offset, pending_[offset], std::move(key));
  return Status::Ok();
}

std::shared_ptr<GroupMember> GroupState::Join(JoinOptions options) {
  std::lock_guard lock(mutex_);
  const std::uint64_t id = next_member_++;
  Member& member = members_[id];
  member.name = options.member.empty() ? "member-" + std::to_string(id) : options.member;
  member.window = std::max<std::uint32_t>(options.window, 1);
  member.on_work = std::move(options.on_work);
  return std::make_shared<GroupMemberImpl>(shared_from_this(), id);
}

records::GroupRecord GroupState::Record() const {
  records::GroupRecord record = record_;
  record.ack_floor = floor_;
  record.dispatched_to = dispatched_to_;
  return record;
}

GroupInfo GroupState::Info() const {
  std::lock_guard lock(mutex_);
  GroupInfo info;
  info.topic = topic_->name;
  info.name = name_;
  info.settings = settings_;
  info.created_ns = record_.created_ns;
  // Progress as written: an ack counts once it is durable.
  info.ack_floor = durable_.record.ack_floor;
  info.dispatched_to = durable_.record.dispatched_to;
  info.acked_above_floor = durable_.acked_above_floor;
  for (const auto& [offset, entry] : pending_) {
    if (entry.where == Where::kInFlight) ++info.in_flight;
  }
  const std::uint64_t head = topic_->durable_head.load(std::memory_order_acquire);
  const std::uint64_t first = std::max(info.ack_floor, topic_->first_offset.load(std::memory_order_acquire));
  info.lag = head > first ? head - first - std::min(info.acked_above_floor, head - first) : 0;
  info.members = static_cast<std::uint32_t>(members_.size());
  info.redeliveries = durable_.record.redeliveries;
  info.dead_lettered = durable_.record.dead_lettered;
  info.lost_to_retention = durable_.record.lost_to_retention;
  return info;
}

std::vector<GroupPendingEvent> GroupState::Pending(std::size_t limit) const {
  std::lock_guard lock(mutex_);
  std::vector<GroupPendingEvent> out;
  for (const auto& [offset, entry] : pending_) {
    if (out.size() >= limit) break;
    if (entry.where == Where::kAcked || entry.deliveries == 0) continue;
    GroupPendingEvent event{offset, {}, entry.deliveries, entry.delivered_ns, 0};
    if (entry.where == Where::kInFlight) {
      auto member = members_.find(entry.member);
      event.member = member != members_.end() ? member->second.name : "?";
    } else {
      event.not_before_ns = entry.due_ns;
    }
    out.push_back(std::move(event));
  }
  return out;
}

void GroupState::End(const Status& why) {
  std::vector<std::function<void(const Status&)>> ended;
  {
    std::lock_guard lock(mutex_);
    ended_ = true;
    end_status_ = why;
    for (auto& [id, member] : members_) {
      if (member.on_work) ended.push_back(std::move(member.on_work));
    }
    members_.clear();
    for (auto& [offset, entry] : pending_) {
      if (entry.where == Where::kInFlight) ToWaiting(offset, entry, 0);
    }
  }
  for (auto& on_work : ended) on_work(why);
}

void GroupState::ResetTo(std::uint64_t offset) {
  std::lock_guard lock(mutex_);
  pending_.clear();
  acked_above_floor_ = 0;
  waiting_.clear();
  key_unacked_.clear();
  dirty_.clear();
  dead_letters_.clear();
  floor_ = dispatched_to_ = offset;
  resync_ = true;  // every per-event record goes
  ended_ = false;
}

void GroupState::Forget() {
  std::lock_guard lock(mutex_);
  forgotten_ = true;
}

// ---- delivery ----------------------------------------------------------------------------------

bool GroupState::Eligible(std::uint64_t offset, const Entry& entry, TimestampNs now) const {
  if (entry.where != Where::kWaiting || entry.due_ns > now) return false;
  if (!settings_.ordered_by_key || entry.key.empty()) return true;
  // The oldest unacked event of its key, and none of the key in flight (an in-flight one would
  // be older, since only the oldest is ever delivered).
  auto it = key_unacked_.find(entry.key);
  return it != key_unacked_.end() && *it->second.begin() == offset;
}

void GroupState::ReleaseKey(std::uint64_t offset, const Entry& entry) {
  if (!settings_.ordered_by_key || entry.key.empty()) return;
  auto it = key_unacked_.find(entry.key);
  if (it == key_unacked_.end()) return;
  it->second.erase(offset);
  if (it->second.empty()) key_unacked_.erase(it);
}

void GroupState::ReleaseFromMember(const Entry& entry) {
  if (entry.where != Where::kInFlight) return;
  if (auto member = members_.find(entry.member); member != members_.end()) --member->second.in_flight;
}

Status GroupState::CheckInFlightTo(std::uint64_t member, const std::vector<std::uint64_t>& offsets,
                                   const char* what) const {
  for (std::uint64_t offset : offsets) {
    auto it = pending_.find(offset);
    if (it == pending_.end() || it->second.where != Where::kInFlight || it->second.member != member)
      return InvalidArgument(std::string(what) + " of offset " + std::to_string(offset) +
                             ", which is not in flight to this member");
  }
  return Status::Ok();
}

void GroupState::MarkAcked(std::uint64_t offset, Entry& entry) {
  ReleaseFromMember(entry);
  if (entry.where == Where::kWaiting) waiting_.erase(offset);
  entry.where = Where::kAcked;
  ++acked_above_floor_;
  ReleaseKey(offset, entry);
  dirty_.insert(offset);
}

void GroupState::ToWaiting(std::uint64_t offset, Entry& entry, TimestampNs not_before) {
  ReleaseFromMember(entry);
  entry.where = Where::kWaiting;
  entry.due_ns = not_before;
  waiting_.insert(offset);
}

void GroupState::AdvanceFloor() {
  while (!pending_.empty() && pending_.begin()->first == floor_ && pending_.begin()->second.where == Where::kAcked) {
    pending_.erase(pending_.begin());
    --acked_above_floor_;
    ++floor_;
  }
  if (pending_.empty()) floor_ = dispatched_to_;
}

Status GroupState::ApplyRetention(bool* moved) {
  const std::uint64_t first = topic_->first_offset.load(std::memory_order_acquire);
  *moved = first > floor_;
  if (!*moved) return Status::Ok();
  if (settings_.reset == ResetPolicy::kError) {
    return OutOfRange("group '" + name_ + "' of topic '" + topic_->name + "' resumes at offset " +
                      std::to_string(floor_) + ", but retention deleted it; the first retained offset is " +
                      std::to_string(first));
  }
  const std::uint64_t to =
      settings_.reset == ResetPolicy::kLatest ? topic_->durable_head.load(std::memory_order_acquire) : first;
  std::uint64_t lost = 0;
  for (auto it = pending_.begin(); it != pending_.end() && it->first < to;) {
    if (it->second.where == Where::kAcked) --acked_above_floor_;
    else ++lost;
    ReleaseFromMember(it->second);
    waiting_.erase(it->first);
    ReleaseKey(it->first, it->second);
    it = pending_.erase(it);
  }
  if (to > dispatched_to_) lost += to - dispatched_to_;
  record_.lost_to_retention += lost;
  floor_ = to;
  dispatched_to_ = std::max(dispatched_to_, to);
  AdvanceFloor();
  return Status::Ok();
}

Status GroupState::ForEachEvent(const std::vector<std::uint64_t>& offsets, const EventVisitor& visit) const {
  for (std::size_t i = 0; i < offsets.size();) {
    std::size_t j = i + 1;
    while (j < offsets.size() && offsets[j] == offsets[j - 1] + 1) ++j;
    const std::uint64_t from = offsets[i];
    const auto count = static_cast<std::uint32_t>(j - i);
    auto read = log_.read({.topic = topic_->name, .from_offset = from, .max_events = count,
                           .max_bytes = std::numeric_limits<std::uint64_t>::max()},
                          [&](const EventView& view) {
                            // Retention may have moved the read past `from`: nothing beyond the run.
                            if (view.offset < from + count) visit(view);
                          });
    if (!read.ok()) return read.status();
    i = j;
  }
  return Status::Ok();
}

Status GroupState::ReadEvents(const std::vector<std::uint64_t>& offsets, std::map<std::uint64_t, Event>* out) const {
  return ForEachEvent(offsets, [out](const EventView& view) { out->emplace(view.offset, ToEvent(view)); });
}

Status GroupState::ReadKeys(const std::vector<std::uint64_t>& offsets, std::map<std::uint64_t, std::string>* keys) const {
  return ForEachEvent(offsets, [keys](const EventView& view) { keys->emplace(view.offset, view.key); });
}

void GroupState::SetKey(std::uint64_t offset, Entry& entry, std::string key) {
  entry.key = std::move(key);
  if (!entry.key.empty()) key_unacked_[entry.key].insert(offset);
}

Status GroupState::DispatchNew(std::size_t room, TimestampNs now, std::vector<std::uint64_t>* chosen) {
  const std::uint64_t head = topic_->durable_head.load(std::memory_order_acquire);
  const std::uint64_t limit = std::min(head, floor_ + settings_.max_pending);
  if (dispatched_to_ >= limit) return Status::Ok();
  if (!settings_.ordered_by_key) {
    const std::uint64_t to = std::min<std::uint64_t>(limit, dispatched_to_ + room);
    for (std::uint64_t offset = dispatched_to_; offset < to; ++offset) {
      pending_[offset];
      waiting_.insert(offset);
      chosen->push_back(offset);
    }
    dispatched_to_ = to;
    return Status::Ok();
  }
  // Read ahead to learn the keys; events of a key in flight wait (recorded as never delivered).
  const std::uint64_t to = std::min<std::uint64_t>(limit, dispatched_to_ + room * kLookaheadPerEvent);
  std::vector<std::uint64_t> offsets;
  for (std::uint64_t offset = dispatched_to_; offset < to; ++offset) offsets.push_back(offset);
  std::map<std::uint64_t, std::string> keys;
  if (Status s = ReadKeys(offsets, &keys); !s.ok()) return s;
  for (std::uint64_t offset : offsets) {
    if (chosen->size() >= room) break;
    Entry& entry = pending_[offset];
    SetKey(offset, entry, std::move(keys[offset]));
    waiting_.insert(offset);
    dirty_.insert(offset);  // 0 deliveries must be recorded: no record means "delivered once"
    dispatched_to_ = offset + 1;
    if (Eligible(offset, entry, now)) chosen->push_back(offset);
  }
  return Status::Ok();
}

void GroupState::AddDeadLetter(const Event& event, const Entry& entry) {
  AppendRequest append;
  append.topic = settings_.dead_letter_topic;
  append.payloads.push_back(event.payload);
  EventAttributes attributes{event.key, event.headers};
  attributes.headers.push_back({"goethe-origin-topic", topic_->name});
  attributes.headers.push_back({"goethe-origin-offset", std::to_string(event.offset)});
  attributes.headers.push_back({"goethe-origin-timestamp-unix-nanos", std::to_string(event.timestamp_ns)});
  attributes.headers.push_back({"goethe-group", name_});
  attributes.headers.push_back({"goethe-deliveries", std::to_string(entry.deliveries)});
  if (!entry.nack_reason.empty()) attributes.headers.push_back({"goethe-nack-reason", entry.nack_reason});
  append.attributes.push_back(std::move(attributes));
  dead_letters_.push_back(std::move(append));
  ++record_.dead_lettered;
}

void GroupState::Fetch(std::uint64_t member_id, std::uint32_t max_events, std::uint64_t max_bytes,
                       std::function<void(Result<std::vector<GroupDelivery>>)> deliver) {
  std::vector<GroupDelivery> deliveries;
  bool persist = false;
  bool arm_tail_wait = false;
  {
    std::lock_guard lock(mutex_);
    auto member = members_.find(member_id);
    if (ended_ || member == members_.end()) {
      Status why = ended_ ? end_status_ : Unavailable("the member has left its group");
      return deliver(why);
    }
    bool retention_moved = false;
    if (Status s = ApplyRetention(&retention_moved); !s.ok()) return deliver(s);
    const TimestampNs now = Now();
    const std::uint64_t free = member->second.window > member->second.in_flight
                                   ? member->second.window - member->second.in_flight
                                   : 0;
    // While other members wait for work, take a fair share, so that new events spread over the
    // idle members instead of filling the first one's whole window.
    std::uint64_t idle_others = 0;
    for (const auto& [id, other] : members_) idle_others += id != member_id && other.starved ? 1 : 0;
    const std::uint64_t share = std::max<std::uint64_t>(1, member->second.window / (1 + idle_others));
    const std::size_t room = static_cast<std::size_t>(std::min<std::uint64_t>({max_events, free, share}));
    std::vector<std::uint64_t> chosen;
    // Events waiting to be delivered again come first; not to the member that just failed to
    // ack them (it timed out, nacked them) while another member is there to take them.
    const bool others = members_.size() > 1;
    for (std::uint64_t offset : waiting_) {
      if (chosen.size() >= room) break;
      const Entry& entry = pending_[offset];
      if (others && entry.deliveries > 0 && entry.member == member_id) continue;
      if (Eligible(offset, entry, now)) chosen.push_back(offset);
    }
    if (chosen.size() < room) {
      if (Status s = DispatchNew(room - chosen.size(), now, &chosen); !s.ok()) return deliver(s);
    }
    std::sort(chosen.begin(), chosen.end());
    std::map<std::uint64_t, Event> events;
    if (Status s = ReadEvents(chosen, &events); !s.ok()) return deliver(s);

    std::uint64_t bytes = 0;
    for (std::uint64_t offset : chosen) {
      Entry& entry = pending_[offset];
      auto event = events.find(offset);
      if (event == events.end()) continue;  // retention raced this read; the next fetch applies it
      if (!deliveries.empty() && bytes + event->second.payload.size() > max_bytes) break;
      if (entry.deliveries >= settings_.max_deliveries) {
        AddDeadLetter(event->second, entry);
        MarkAcked(offset, entry);
        persist = true;
        continue;
      }
      bytes += event->second.payload.size();
      ++entry.deliveries;
      if (entry.deliveries > 1) ++record_.redeliveries;
      entry.where = Where::kInFlight;
      entry.member = member_id;
      entry.due_ns = now + settings_.ack_wait.count();
      entry.delivered_ns = now;
      entry.nack_reason.clear();
      waiting_.erase(offset);
      ++member->second.in_flight;
      if (entry.deliveries != 1) dirty_.insert(offset);
      deliveries.push_back({std::move(event->second), entry.deliveries});
    }
    // Dispatched but not delivered (the byte budget ended the batch, or retention raced the read):
    // recorded as 0 deliveries, since no record would mean "delivered once".
    for (std::uint64_t offset : chosen) {
      const Entry& entry = pending_[offset];
      if (entry.deliveries == 0 && entry.where == Where::kWaiting) dirty_.insert(offset);
    }
    if (!deliveries.empty()) {
      log_.schedule(now + settings_.ack_wait.count());
    } else {
      member->second.starved = true;
      arm_tail_wait = !tail_wait_armed_ && dispatched_to_ >= topic_->durable_head.load(std::memory_order_acquire);
      tail_wait_armed_ = tail_wait_armed_ || arm_tail_wait;
    }
    AdvanceFloor();
    // (A dispatch that moved the mark left deliveries or dirty entries behind.)
    persist = persist || retention_moved || !deliveries.empty() || !dirty_.empty();
  }
  if (arm_tail_wait) ArmTailWait();
  if (!persist) return deliver(std::move(deliveries));
  auto shared = std::make_shared<std::vector<GroupDelivery>>(std::move(deliveries));
  Persist([self = shared_from_this(), member_id, shared, deliver = std::move(deliver)](const Status& written) {
    if (written.ok()) {
      const bool empty = shared->empty();
      deliver(std::move(*shared));
      if (!empty) return;
      // Only dead letters (or read-ahead) were recorded: there may be more work right away.
      Callbacks wake;
      {
        std::lock_guard lock(self->mutex_);
        wake = self->WakeStarved();
      }
      return RunAll(wake);
    }
    // Not recorded: hand the events back, so that they are delivered again once writes work.
    {
      std::lock_guard lock(self->mutex_);
      for (const GroupDelivery& d : *shared) {
        auto entry = self->pending_.find(d.event.offset);
        if (entry == self->pending_.end() || entry->second.where != Where::kInFlight ||
            entry->second.member != member_id) {
          continue;
        }
        self->ToWaiting(d.event.offset, entry->second, 0);
      }
    }
    deliver(written);
  });
}

void GroupState::ArmTailWait() {
  std::uint64_t at = 0;
  {
    std::lock_guard lock(mutex_);
    at = dispatched_to_;
  }
  // Outside the lock: the wake-up may run at once, on this thread.
  std::weak_ptr<GroupState> weak = shared_from_this();
  const std::uint64_t id = log_.wait_for_offset(topic_->name, at, [weak] {
    auto self = weak.lock();
    if (!self) return;
    Callbacks wake;
    {
      std::lock_guard lock(self->mutex_);
      self->tail_wait_armed_ = false;
      wake = self->WakeStarved();
    }
    RunAll(wake);
  });
  if (id == 0) {
    std::lock_guard lock(mutex_);
    // Either it fired already (and cleared the flag) or the topic is gone; a later fetch re-arms.
    tail_wait_armed_ = false;
  }
}

GroupState::Callbacks GroupState::WakeStarved() {
  Callbacks wake;
  for (auto& [id, member] : members_) {
    if (!member.starved || !member.on_work) continue;
    member.starved = false;
    wake.push_back([on_work = member.on_work] { on_work(Status::Ok()); });
  }
  return wake;
}

// ---- acknowledgements ----------------------------------------------------------------------------

void GroupState::Ack(std::uint64_t member_id, std::vector<OffsetRange> ranges, std::function<void(const Status&)> done) {
  Callbacks wake;
  bool changed = false;
  {
    std::lock_guard lock(mutex_);
    if (ended_) return done(end_status_);
    // Check every range before changing anything: a refused call applies nothing.
    for (const OffsetRange& range : ranges) {
      if (range.last < range.first)
        return done(InvalidArgument("ack range " + std::to_string(range.first) + ".." + std::to_string(range.last) +
                                    " ends before it starts"));
      if (range.last >= dispatched_to_)
        return done(InvalidArgument("ack of offset " + std::to_string(range.last) + ", which group '" + name_ +
                                    "' has not delivered (it has delivered below " + std::to_string(dispatched_to_) +
                                    ")"));
      // A single offset must have been delivered; a range may span events never delivered yet.
      auto single = pending_.find(range.first);
      if (range.first == range.last && single != pending_.end() && single->second.deliveries == 0)
        return done(InvalidArgument("ack of offset " + std::to_string(range.first) + ", which group '" + name_ +
                                    "' has not delivered yet"));
    }
    const std::uint64_t floor_before = floor_;
    const bool span_full = dispatched_to_ - floor_ >= settings_.max_pending;
    bool key_released = false;
    for (const OffsetRange& range : ranges) {
      for (auto it = pending_.lower_bound(range.first); it != pending_.end() && it->first <= range.last; ++it) {
        // Only events last delivered to this member: a range never acks another member's work.
        // (One that timed out and waits is still this member's to ack, late.)
        if (it->second.where == Where::kAcked || it->second.deliveries == 0 || it->second.member != member_id) continue;
        key_released = key_released || (settings_.ordered_by_key && !it->second.key.empty());
        MarkAcked(it->first, it->second);
        changed = true;
      }
    }
    AdvanceFloor();
    if (key_released || (span_full && floor_ != floor_before)) wake = WakeStarved();
  }
  RunAll(wake);
  if (!changed) return done(Status::Ok());
  Persist(std::move(done));
}

Status GroupState::Nack(std::uint64_t member_id, const std::vector<std::uint64_t>& offsets,
                        std::chrono::nanoseconds delay, const std::string& reason) {
  Callbacks wake;
  {
    std::lock_guard lock(mutex_);
    if (Status s = CheckInFlightTo(member_id, offsets, "nack"); !s.ok()) return s;
    const TimestampNs not_before = delay.count() > 0 ? Now() + delay.count() : 0;
    for (std::uint64_t offset : offsets) {
      Entry& entry = pending_[offset];
      ToWaiting(offset, entry, not_before);
      entry.nack_reason = reason.substr(0, 1024);
    }
    if (not_before == 0) wake = WakeStarved();
  }
  if (delay.count() > 0) log_.schedule(Now() + delay.count());
  RunAll(wake);
  return Status::Ok();
}

Status GroupState::Extend(std::uint64_t member_id, const std::vector<std::uint64_t>& offsets) {
  std::lock_guard lock(mutex_);
  if (Status s = CheckInFlightTo(member_id, offsets, "extend"); !s.ok()) return s;
  const TimestampNs due = Now() + settings_.ack_wait.count();
  for (std::uint64_t offset : offsets) pending_[offset].due_ns = due;
  return Status::Ok();
}

std::uint64_t GroupState::InFlight(std::uint64_t member_id) const {
  std::lock_guard lock(mutex_);
  auto member = members_.find(member_id);
  return member == members_.end() ? 0 : member->second.in_flight;
}

void GroupState::Leave(std::uint64_t member_id) {
  Callbacks wake;
  {
    std::lock_guard lock(mutex_);
    if (members_.erase(member_id) == 0) return;
    bool returned = false;
    for (auto& [offset, entry] : pending_) {
      if (entry.where != Where::kInFlight || entry.member != member_id) continue;
      ToWaiting(offset, entry, 0);
      returned = true;
    }
    if (returned) wake = WakeStarved();
  }
  RunAll(wake);
}

TimestampNs GroupState::CheckTimers(TimestampNs now) {
  Callbacks wake;
  TimestampNs next = kNoTimerDue;
  {
    std::lock_guard lock(mutex_);
    bool due = false;
    for (auto& [offset, entry] : pending_) {
      if (entry.where == Where::kInFlight) {
        if (entry.due_ns <= now) {
          ToWaiting(offset, entry, 0);
          due = true;
        } else {
          next = std::min(next, entry.due_ns);
        }
      } else if (entry.where == Where::kWaiting && entry.due_ns != 0) {
        if (entry.due_ns <= now) {
          entry.due_ns = 0;
          due = true;
        } else {
          next = std::min(next, entry.due_ns);
        }
      }
    }
    if (due) wake = WakeStarved();
  }
  RunAll(wake);
  return next;
}

// ---- persistence -------------------------------------------------------------------------------

void GroupState::Persist(std::function<void(const Status&)> done) {
  std::weak_ptr<GroupState> weak = shared_from_this();
  auto staged = std::make_shared<Durable>();
  log_.commit(
      [weak, staged](CommitContext& ctx) {
        auto self = weak.lock();
        return self ? self->Stage(ctx, staged.get()) : Status::Ok();
      },
      [weak, staged, done = std::move(done)](const Status& written) {
        if (auto self = weak.lock()) {
          std::lock_guard lock(self->mutex_);
          if (!written.ok()) {
            self->resync_ = true;  // what this write carried must be written again
          } else if (staged->sequence > self->durable_.sequence) {
            self->durable_ = *staged;
          }
        }
        done(written);
      });
}

Status GroupState::Flush() {
  std::promise<Status> written;
  auto future = written.get_future();
  Persist([&written](const Status& s) { written.set_value(s); });
  return future.get();
}

Status GroupState::Stage(CommitContext& ctx, Durable* staged) {
  std::lock_guard lock(mutex_);
  if (forgotten_ || ctx.Find(topic_->name) != topic_) return Status::Ok();
  // Dead letters first: if the dead-letter topic refuses them, nothing of this job is written.
  for (const AppendRequest& append : dead_letters_) {
    if (Status s = log_.stage_append(ctx, append); !s.ok()) {
      return Status(s.code(), "group '" + name_ + "': moving an event to its dead-letter topic '" + append.topic +
                                  "' failed: " + s.message());
    }
  }
  dead_letters_.clear();
  kv::WriteBatch& batch = ctx.batch();
  const std::uint64_t id = topic_->id;
  if (resync_) {
    batch.DeleteRange(keys::GroupEventsStart(id, name_), keys::GroupEventsEnd(id, name_));
    for (const auto& [offset, entry] : pending_) dirty_.insert(offset);
    resync_ = false;
  } else if (floor_persisted_ < floor_) {
    batch.DeleteRange(keys::GroupEvent(id, name_, floor_persisted_), keys::GroupEvent(id, name_, floor_));
  }
  for (std::uint64_t offset : dirty_) {
    auto it = pending_.find(offset);
    if (it == pending_.end()) continue;  // below the floor now: the range delete covers it
    const Entry& entry = it->second;
    const bool acked = entry.where == Where::kAcked;
    if (acked || entry.deliveries != 1) {
      batch.Put(keys::GroupEvent(id, name_, offset), records::Encode(records::GroupEventRecord{entry.deliveries, acked}));
    } else {
      batch.Delete(keys::GroupEvent(id, name_, offset));
    }
  }
  dirty_.clear();
  floor_persisted_ = floor_;
  *staged = {++stage_sequence_, Record(), acked_above_floor_};
  batch.Put(keys::Group(id, name_), records::Encode(staged->record));
  return Status::Ok();
}

}  // namespace goethe
