// Retention: trims old events by age, bytes and count, and forgets expired idempotency keys.
// The reading is done here, off the commit loop; the loop only applies short trim jobs, so
// appends are never blocked for long.
#include "event_layout.h"
#include "event_log_impl.h"
#include "keys.h"
#include "records.h"

namespace goethe {
namespace {

constexpr std::uint64_t kMaxEventsPerTrim = 20000;  // bounds one trim job's time in the loop
constexpr std::size_t kMaxKeysPerForget = 10000;

}  // namespace

Status EventLog::Impl::EnforceRetention() {
  Status first_error;
  for (const TopicPtr& topic : registry_.All()) {
    Status s = EnforceRetention(topic);
    if (s.ok()) s = ForgetExpiredIdempotencyKeys(topic);
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  return first_error;
}

Status EventLog::Impl::EnforceRetention(const TopicPtr& topic) {
  const TopicSettings& settings = topic->settings;
  if (settings.retention_age_ns == 0 && settings.retention_bytes == 0 && settings.retention_events == 0) {
    return Status::Ok();
  }
  for (;;) {
    if (topic->deleted.load(std::memory_order_acquire)) return Status::Ok();
    const std::uint64_t head = topic->durable_head.load(std::memory_order_acquire);
    const std::uint64_t first = topic->first_offset.load(std::memory_order_acquire);
    const std::uint64_t retained = topic->retained_bytes.load(std::memory_order_acquire);

    // The offset below which events must go, by count and by age.
    std::uint64_t cut = first;
    if (settings.retention_events > 0 && head - first > settings.retention_events) {
      cut = head - settings.retention_events;
    }
    if (settings.retention_age_ns > 0) {
      bool exact = false;
      auto by_age = SeekTime(*topic, Now() - settings.retention_age_ns, &exact);
      if (!by_age.ok()) return by_age.status();
      cut = std::max(cut, *by_age);
    }
    const bool over_bytes = settings.retention_bytes > 0 && retained > settings.retention_bytes;
    if (cut == first && !over_bytes) return Status::Ok();

    // Walk the events to go, summing their bytes; the byte limit may push the cut further. (The scan
    // is closed before the commit: an LMDB read transaction must not outlive it.)
    std::uint64_t new_first = first, deleted_bytes = 0;
    TimestampNs last_deleted_time = 0;
    TimestampNs new_first_time = topic->last_ns.load(std::memory_order_acquire);
    {
      EventScan it(*store_, key_order(), topic->id, first, head);
      for (; it.Valid(); it.Next()) {
        auto offset = it.offset();
        auto event = records::DecodeEvent(it.value());
        if (!offset || !event) return DataLoss("topic '" + topic->name + "': damaged event record");
        const bool needed_by_cut = *offset < cut;
        const bool needed_by_bytes =
            settings.retention_bytes > 0 && retained - deleted_bytes > settings.retention_bytes;
        if ((!needed_by_cut && !needed_by_bytes) || new_first - first >= kMaxEventsPerTrim) {
          new_first_time = event->timestamp_ns;
          break;
        }
        deleted_bytes += event->event_bytes;
        last_deleted_time = event->timestamp_ns;
        new_first = *offset + 1;
      }
      if (!it.status().ok()) return FromKv(it.status(), "reading for retention");
    }
    if (new_first == first) return Status::Ok();
    KeyRanges events;
    kv::Status ranged = TrimRanges(*store_, key_order(), topic->id, first, new_first, &events);
    if (!ranged.ok()) return FromKv(ranged, "reading the segment directory for retention");

    // Index entries of buckets wholly before the new first event go too.
    const std::uint64_t keep_bucket = static_cast<std::uint64_t>(topic->BucketOf(new_first_time));
    Status trimmed = CommitAndWait([&](CommitContext& ctx) {
      TopicPtr live = ctx.Find(topic->name);
      if (live != topic) return Status::Ok();  // deleted, or deleted and created again
      TopicState::LoopView& view = ctx.View(topic);
      if (view.first_offset != first) return Status::Ok();  // someone else trimmed meanwhile
      for (const auto& [begin, end] : events) ctx.batch().DeleteRange(begin, end);
      ctx.batch().DeleteRange(keys::FamilyStart(keys::kIndex, topic->id), keys::Index(topic->id, keep_bucket));
      view.first_offset = new_first;
      view.deleted_bytes += deleted_bytes;
      view.last_deleted_ns = last_deleted_time;
      ctx.MarkLowChanged(topic);
      return Status::Ok();
    });
    if (!trimmed.ok()) return trimmed;
  }
}

Status EventLog::Impl::ForgetExpiredIdempotencyKeys(const TopicPtr& topic) {
  const TimestampNs cutoff = Now() - options_.idempotency_window.count();
  const std::string lower = keys::FamilyStart(keys::kIdempotency, topic->id);
  const std::string upper = keys::FamilyEnd(keys::kIdempotency, topic->id);
  std::vector<std::string> expired;
  {
    auto it = store_->NewIterator({.lower_bound = lower, .upper_bound = upper});
    for (it->SeekToFirst(); it->Valid() && expired.size() < kMaxKeysPerForget; it->Next()) {
      auto record = records::DecodeIdempotency(it->value());
      if (!record || record->created_ns < cutoff) expired.emplace_back(it->key().substr(lower.size()));
    }
    if (!it->status().ok()) return FromKv(it->status(), "reading idempotency keys");
  }
  if (expired.empty()) return Status::Ok();
  return CommitAndWait([&](CommitContext& ctx) {
    if (ctx.Find(topic->name) != topic) return Status::Ok();
    for (const std::string& key : expired) {
      auto entry = ctx.Idempotency(topic->id, key);
      // Re-checked here: a retry may have stored the key again since the scan.
      if (!entry.ok() || (entry.value() && entry.value()->record.created_ns < cutoff)) {
        ctx.StageIdempotency(topic->id, key, std::nullopt);
      }
    }
    return Status::Ok();
  });
}

void EventLog::Impl::RetentionThread() {
  std::unique_lock lock(retention_mutex_);
  while (!closing_) {
    retention_wake_.wait_for(lock, options_.retention_interval, [this] { return closing_; });
    if (closing_) return;
    lock.unlock();
    (void)EnforceRetention();  // failures are retried on the next pass
    lock.lock();
  }
}

}  // namespace goethe
