// CompletionBells: where callers that block on their own commit jobs sleep until the job is done.
//
// Each commit rings once, after all its callbacks have run. Waking each caller on its own costs the
// kernel a system call and a cross-CPU wake per caller; on a small machine that load also slowed
// the sync running beside it (64 blocked appenders: fdatasync 220 us alone, 350 us beside them).
// So a commit wakes its callers all at once: it rings the bell its number picks, which the callers
// that expected that commit wait on, and the bell that every commit rings, for a caller whose job
// went to a later commit than it expected (the loop caps a commit's events).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace goethe {

class CompletionBells {
 public:
  // Returns once `finished` is set; `expected_commit` is the number of the commit the job should
  // be in. `finished` must be set before the ring of the commit that ran the job.
  void Await(const std::atomic<bool>& finished, std::uint64_t expected_commit);
  // Wakes the callers of commit `commit`, and any caller that waits for a later one than expected.
  void Ring(std::uint64_t commit);

 private:
  // Enough that a bell is not shared by commits in flight at once (one writing, a few completing).
  static constexpr std::size_t kBells = 8;

  // Sleeps on `bell` until it rings or `finished` is set; returns `finished`.
  bool WaitForRing(std::atomic<std::uint32_t>& bell, const std::atomic<bool>& finished);

  std::array<std::atomic<std::uint32_t>, kBells> by_commit_{};
  std::atomic<std::uint32_t> every_commit_{0};
  // Callers asleep or about to sleep: a ring with none skips the wake-up system calls, which a
  // lone caller committing on its own thread (sync off) would otherwise pay on every append.
  std::atomic<std::uint32_t> sleepers_{0};
};

}  // namespace goethe
