#include "commit_loop.h"

#include <vector>

#include "goethe/engine/kv_status.h"

namespace goethe {

CommitLoop::CommitLoop(kv::Store& store, TopicRegistry& registry, LoopState& state, bool sync,
                       std::size_t max_batch_events, std::function<TimestampNs()> clock, CommitWriter* writer,
                       CommitMetrics metrics)
    : store_(store),
      registry_(registry),
      state_(state),
      sync_(sync),
      max_batch_events_(max_batch_events),
      clock_(std::move(clock)),
      writer_(writer),
      metrics_(metrics),
      thread_([this] { Run(); }) {}

CommitLoop::~CommitLoop() { Stop(); }

void CommitLoop::Submit(CommitJob job) { (void)Enqueue(std::move(job)); }

void CommitLoop::SubmitHereIfIdle(CommitJob job) { (void)CommitHereOrEnqueue(std::move(job)); }

std::uint64_t CommitLoop::Enqueue(CommitJob job) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      pending_.push_back(std::move(job));
      has_pending_.store(true, std::memory_order_release);
      wake_.notify_one();
      return commits_started_ + 1;
    }
  }
  job.finish(Unavailable("the event log is closed"));
  return 0;
}

void CommitLoop::CommitAndAwait(CommitJob job) {
  std::atomic<bool> finished{false};
  job.finish = [finish = std::move(job.finish), &finished](const Status& outcome) {
    finish(outcome);
    finished.store(true, std::memory_order_release);  // the last touch of the caller's frame
  };
  bells_.Await(finished, CommitHereOrEnqueue(std::move(job)));
}

std::uint64_t CommitLoop::CommitHereOrEnqueue(CommitJob job) {
  // With sync on, the sync dwarfs a thread switch, and a lone commit here would split the group
  // that concurrent appenders form while the loop syncs: the loop commits those. A CommitWriter
  // (replication) is only ever called on the loop's thread, and its write waits for followers.
  if (sync_ || writer_ != nullptr) return Enqueue(std::move(job));
  std::uint64_t number = 0;
  {
    std::unique_lock lock(mutex_);
    if (stopping_ || committing_ || !pending_.empty()) {
      lock.unlock();
      return Enqueue(std::move(job));  // queued behind the others: group commit and order hold
    }
    committing_ = true;
    number = ++commits_started_;
  }
  std::deque<CommitJob> jobs;
  jobs.push_back(std::move(job));
  CommitOnce(jobs, number);
  std::lock_guard lock(mutex_);
  committing_ = false;
  wake_.notify_one();  // the loop takes what was queued meanwhile only once this commit is over
  return number;
}

void CommitLoop::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
  completions_.Stop();
}

void CommitLoop::Run() {
  for (;;) {
    std::deque<CommitJob> jobs;
    std::uint64_t number = 0;
    AwaitWorkBriefly();
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return !committing_ && (stopping_ || !pending_.empty()); });
      if (pending_.empty()) return;  // stopping, and everything queued is done
      // Take everything waiting, up to the event cap (always at least one job). A decided batch
      // is committed alone.
      std::size_t events = 0;
      while (!pending_.empty() && (jobs.empty() || events + pending_.front().events <= max_batch_events_) &&
             (jobs.empty() || (!jobs.front().decided && !pending_.front().decided))) {
        events += pending_.front().events;
        jobs.push_back(std::move(pending_.front()));
        pending_.pop_front();
      }
      has_pending_.store(!pending_.empty(), std::memory_order_release);
      committing_ = true;
      number = ++commits_started_;
    }
    CommitOnce(jobs, number);
    std::lock_guard lock(mutex_);
    committing_ = false;
  }
}

void CommitLoop::AwaitWorkBriefly() const {
  // Waking a sleeping thread costs tens of microseconds on small virtual machines, which would
  // dominate the latency of a lone append; so the loop looks for new work a little while before
  // it sleeps.
  const auto until = std::chrono::steady_clock::now() + kSpinBeforeSleep;
  while (!has_pending_.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < until) {
    std::this_thread::yield();
  }
}

void CommitLoop::CommitOnce(std::deque<CommitJob>& jobs, std::uint64_t number) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point began = Clock::now();
  CommitContext context(store_, registry_, state_, clock_());
  std::vector<Status> staged;
  staged.reserve(jobs.size());
  for (CommitJob& job : jobs) staged.push_back(job.stage(context));

  Status written;
  const bool decided = jobs.front().decided;
  context.Finalize();
  const Clock::time_point writing = Clock::now();
  if (decided) {
    if (staged.front().ok() && !context.batch().empty()) written = FromKv(store_.Write({.sync = jobs.front().decided_sync}, context.batch()), "writing a decided batch");
  } else if (!context.batch().empty()) {
    written = writer_ != nullptr ? writer_->Write(context.batch(), sync_)
                                 : FromKv(store_.Write({.sync = sync_}, context.batch()), "writing a batch");
  }
  if (metrics_.write_seconds != nullptr && !context.batch().empty())
    metrics_.write_seconds->Observe(std::chrono::duration<double>(Clock::now() - writing).count());
  std::vector<std::function<void()>> callbacks;
  callbacks.reserve(jobs.size() + 2);
  if (written.ok()) {
    std::vector<TopicPtr> topics = context.Apply();
    if (decided && staged.front().ok() && jobs.front().applied) written = jobs.front().applied(&topics);
    callbacks.push_back([topics = std::move(topics)] {
      for (const TopicPtr& topic : topics) topic->WakeReaders();
    });
  }
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    callbacks.push_back([finish = std::move(jobs[i].finish), outcome = staged[i].ok() ? written : staged[i]] {
      finish(outcome);
    });
  }
  callbacks.push_back([this, number] { bells_.Ring(number); });
  if (metrics_.commit_seconds != nullptr) {
    std::size_t events = 0;
    for (const CommitJob& job : jobs) events += job.events;
    metrics_.commit_seconds->Observe(std::chrono::duration<double>(Clock::now() - began).count());
    metrics_.commit_events->Observe(static_cast<double>(events));
  }
  // With nothing else queued, nobody waits on this thread: complete inline and save a thread hop.
  if (has_pending_.load(std::memory_order_acquire)) {
    completions_.Post(std::move(callbacks));
  } else {
    completions_.RunInOrder(std::move(callbacks));
  }
}

}  // namespace goethe
