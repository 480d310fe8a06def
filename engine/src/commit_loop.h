// CommitLoop: the one thread that writes to the store.
//
// Callers submit jobs; the loop takes everything waiting (up to a cap of events), stages each job
// into one CommitContext, writes the batch once (one sync when configured), makes it live and
// hands every job's outcome to the completion thread (or, when nothing else waits, completes them
// itself). A caller that blocks on its job anyway may commit it on its own thread when the loop is
// idle (CommitAndAwait). One commit runs at a time, so offsets never collide or skip.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "commit_context.h"
#include "commit_metrics.h"
#include "completion_bells.h"
#include "completion_thread.h"
#include "goethe/engine/replication.h"
#include "goethe/engine/status.h"

namespace goethe {

struct CommitJob {
  std::size_t events = 0;  // how many events it appends, for the per-batch cap
  // Validates and stages the job's changes; a non-OK status fails this job alone. It must check
  // everything before it changes the context, so that a failed job leaves nothing behind.
  std::function<Status(CommitContext&)> stage;
  // Called once, on the completion thread, with the job's outcome: its staging error, or the
  // batch write's status.
  std::function<void(const Status&)> finish;
  // A batch decided elsewhere (a cluster's leader): committed alone, written to the store as it
  // is (durably when `decided_sync`, never through the CommitWriter), and then `applied` brings
  // the live state up to date on the loop's thread, adding the topics whose readers to wake; its
  // status becomes the job's outcome.
  bool decided = false;
  bool decided_sync = false;
  std::function<Status(std::vector<TopicPtr>* wake)> applied;
};

class CommitLoop {
 public:
  // `writer` (may be null: write to `store`) gets every batch staged here; see replication.h.
  CommitLoop(kv::Store& store, TopicRegistry& registry, LoopState& state, bool sync,
             std::size_t max_batch_events, std::function<TimestampNs()> clock, CommitWriter* writer,
             CommitMetrics metrics = {});
  ~CommitLoop();  // Stop()s

  // Queues a job; when the loop has stopped the job finishes at once (on this thread) with
  // UNAVAILABLE.
  void Submit(CommitJob job);
  // As Submit, but where CommitAndAwait would commit on this thread, does so, the job's finish run
  // before this returns.
  void SubmitHereIfIdle(CommitJob job);
  // Commits the job and returns once its finish has run. With sync off, no CommitWriter and no
  // commit running or queued, commits it on this thread, sparing the two thread switches of a
  // hand-off to the loop and back. Otherwise the caller sleeps until its commit rings the bells.
  void CommitAndAwait(CommitJob job);
  // Finishes every queued job and runs every completion, then ends the threads. Idempotent.
  void Stop();

 private:
  static constexpr std::chrono::microseconds kSpinBeforeSleep{50};

  // As Submit, and returns the number of the commit the job should be in (the event cap may move
  // it to a later one), or 0 when it finished at once.
  std::uint64_t Enqueue(CommitJob job);
  std::uint64_t CommitHereOrEnqueue(CommitJob job);
  void Run();
  void AwaitWorkBriefly() const;
  void CommitOnce(std::deque<CommitJob>& jobs, std::uint64_t number);

  kv::Store& store_;
  TopicRegistry& registry_;
  LoopState& state_;
  const bool sync_;
  const std::size_t max_batch_events_;
  const std::function<TimestampNs()> clock_;
  CommitWriter* const writer_;
  const CommitMetrics metrics_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<CommitJob> pending_;
  bool stopping_ = false;
  bool committing_ = false;  // a commit is running, on the loop's thread or a caller's
  std::atomic<bool> has_pending_{false};  // pending_ is not empty; read without the lock
  std::uint64_t commits_started_ = 0;  // numbers the commits, for the bells
  CompletionBells bells_;  // where CommitAndAwait's callers sleep
  CompletionThread completions_;  // declared before thread_: it must exist while the loop runs
  std::thread thread_;
};

}  // namespace goethe
