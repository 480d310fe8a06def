// TopicState: what the engine keeps in memory about one topic.
//
// Two kinds of fields: those only the commit loop touches (it alone assigns offsets), and those it
// publishes for readers as atomics once a batch is durable. Readers look at the published fields
// only, which is why a reader never sees an event before it is durable.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "goethe/engine/types.h"
#include "waiters.h"

namespace goethe {

struct TopicState {
  TopicState(std::uint64_t id_, std::string name_, TopicSettings settings_, TimestampNs created)
      : id(id_), name(std::move(name_)), settings(settings_), created_ns(created) {}

  const std::uint64_t id;
  const std::string name;
  const TopicSettings settings;  // index_granularity_ns resolved (> 0)
  const TimestampNs created_ns;

  // Commit-loop only.
  struct LoopView {
    std::uint64_t next_offset = 0;
    std::uint64_t first_offset = 0;
    std::uint64_t appended_bytes = 0;
    std::uint64_t deleted_bytes = 0;
    TimestampNs last_ns = 0;
    TimestampNs last_deleted_ns = 0;  // of the newest event retention removed
    std::int64_t last_bucket = -1;  // start of the newest indexed time bucket; -1 for none
    std::uint64_t segment = 0;  // events ordered by time: its newest directory entry's segment; 0 for none
  } loop;

  // Published for readers after each durable commit.
  std::atomic<std::uint64_t> durable_head{0};
  std::atomic<std::uint64_t> first_offset{0};
  std::atomic<std::uint64_t> retained_bytes{0};
  std::atomic<TimestampNs> last_ns{0};
  std::atomic<bool> deleted{false};

  Waiters waiters;

  std::int64_t BucketOf(TimestampNs t) const { return t - t % settings.index_granularity_ns; }

  // Copies the loop's view into the published fields; the head last, so a reader that sees the
  // new head sees the rest too.
  void Publish() {
    first_offset.store(loop.first_offset, std::memory_order_release);
    retained_bytes.store(loop.appended_bytes - loop.deleted_bytes, std::memory_order_release);
    last_ns.store(loop.last_ns, std::memory_order_release);
    durable_head.store(loop.next_offset, std::memory_order_release);
  }

  // Wakes the readers waiting below the published head (or all of them once deleted).
  void WakeReaders() {
    if (deleted.load(std::memory_order_acquire)) waiters.FireAll();
    else waiters.Fire(durable_head.load(std::memory_order_acquire));
  }
};

using TopicPtr = std::shared_ptr<TopicState>;

}  // namespace goethe
