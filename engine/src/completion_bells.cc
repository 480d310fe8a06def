#include "completion_bells.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>

namespace goethe {
namespace {

// The bells sleep and wake through the futex system call itself: std::atomic::wait (libstdc++ 12)
// yields the CPU a few times before it sleeps, and with dozens of blocked callers on two cores
// those yields were most of the context switches of a run (330,000 in 1.5 s).
static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
              std::atomic<std::uint32_t>::is_always_lock_free);

void SleepWhileUnrung(std::atomic<std::uint32_t>& bell, std::uint32_t rung) {
  // Returns at once when the bell no longer holds `rung`; a spurious return is harmless.
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&bell), FUTEX_WAIT_PRIVATE, rung, nullptr, nullptr, 0);
}

void WakeAll(std::atomic<std::uint32_t>& bell) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&bell), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

}  // namespace

// The bell is read before `finished`, so a ring between the two reads ends the wait at once.
bool CompletionBells::WaitForRing(std::atomic<std::uint32_t>& bell, const std::atomic<bool>& finished) {
  const std::uint32_t rung = bell.load(std::memory_order_acquire);
  while (!finished.load(std::memory_order_acquire)) {
    // Counted before the bell is checked (both sequentially consistent, as in Ring): a ring that
    // finds no sleeper has moved the bell before this check, which then does not sleep.
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    const bool rang = bell.load(std::memory_order_seq_cst) != rung;
    if (!rang) SleepWhileUnrung(bell, rung);
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
    if (rang) return finished.load(std::memory_order_acquire);
  }
  return true;
}

void CompletionBells::Await(const std::atomic<bool>& finished, std::uint64_t expected_commit) {
  if (WaitForRing(by_commit_[expected_commit % kBells], finished)) return;
  while (!WaitForRing(every_commit_, finished)) {
  }
}

void CompletionBells::Ring(std::uint64_t commit) {
  std::atomic<std::uint32_t>& bell = by_commit_[commit % kBells];
  bell.fetch_add(1, std::memory_order_seq_cst);
  every_commit_.fetch_add(1, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) == 0) return;
  WakeAll(bell);
  WakeAll(every_commit_);
}

}  // namespace goethe
