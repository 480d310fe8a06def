// The tailing side of tail-fanout: N read-only Consume streams on one topic, each timing the events
// it receives. Two clients implement it: gRPC's own callback API, and a raw HTTP/2 client on
// nghttp2 whose per-message cost is a fraction of gRPC's, so that the client's cost does not hide
// the server's at thousands of streams (issue #18, point 2).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "load_runs.h"
#include "load_stats.h"

namespace goethe::load {

// Counts the streams subscribed and ended, for the run to wait on. Thread-safe.
class Roll {
 public:
  void Subscribed() { Bump(subscribed_); }
  void Ended() { Bump(ended_); }
  // False at once when a stream ends first (refused, say): it will never subscribe.
  bool WaitSubscribed(std::size_t n, std::chrono::seconds at_most) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, at_most, [&] { return subscribed_ >= n || ended_ > 0; });
    return subscribed_ >= n;
  }
  bool WaitEnded(std::size_t n, std::chrono::seconds at_most) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, at_most, [&] { return ended_ >= n; });
  }
  std::size_t subscribed() {
    std::lock_guard lock(mutex_);
    return subscribed_;
  }

 private:
  void Bump(std::size_t& count) {
    std::lock_guard lock(mutex_);
    ++count;
    changed_.notify_all();
  }
  std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t subscribed_ = 0, ended_ = 0;
};

// What a tailing stream does with each response, whichever client reads it: times its events from
// their send stamps, counts them, and says when to ack: once half the window is unacked, as a client
// library would (an ack per event doubles the server's messages). `received()` may be read from
// another thread; the rest belongs to the stream's reader.
class TailTally {
 public:
  explicit TailTally(std::uint64_t window) : window_(window == 0 ? 10000 : window) {}

  // The offset to ack now, when one is due.
  std::optional<std::uint64_t> Record(const v1::ConsumeResponse& response) {
    const auto& events = response.events().events();
    if (events.empty()) return std::nullopt;
    const std::int64_t now = NowNs();
    for (const v1::Event& event : events) latencies_.Add((now - SentAt(event.payload())) / 1000.0);
    received_.fetch_add(static_cast<std::uint64_t>(events.size()), std::memory_order_relaxed);
    unacked_ += static_cast<std::uint64_t>(events.size());
    if (unacked_ * 2 < window_) return std::nullopt;
    unacked_ = 0;
    return events.rbegin()->offset();
  }
  std::uint64_t received() const { return received_.load(std::memory_order_relaxed); }
  const Latencies& latencies() const { return latencies_; }

 private:
  const std::uint64_t window_;
  std::uint64_t unacked_ = 0;  // delivered since the last ack
  std::atomic<std::uint64_t> received_{0};
  Latencies latencies_;
};

// What the streams got, once they are stopped.
struct TailSummary {
  std::uint64_t received = 0;  // events, over all streams
  Latencies latencies;         // send to arrival, every event on every stream
  std::string first_error;     // the first stream that ended other than by being cancelled
};

// One client's streams. A subclass registers each stream's tally in `tallies_`.
class TailClients {
 public:
  virtual ~TailClients() = default;
  // Every stream has received at least `events` events. Callable while they run.
  bool AllReceived(std::uint64_t events) const {
    for (const TailTally* tally : tallies_) {
      if (tally->received() < events) return false;
    }
    return true;
  }
  // Cancels every stream and waits (bounded) until they ended; then Summary() may be called.
  virtual void Stop() = 0;
  TailSummary Summary() const {
    TailSummary summary;
    for (const TailTally* tally : tallies_) {
      summary.received += tally->received();
      summary.latencies.Merge(tally->latencies());
    }
    summary.first_error = FirstError();
    return summary;
  }

 protected:
  // The first stream's error, in stream order; empty when none ended other than by a cancel.
  virtual std::string FirstError() const = 0;
  std::vector<const TailTally*> tallies_;
};

// Each opens `options.consumers` streams sending `subscribe` first, reporting to `roll` as each
// stream subscribes and ends. The gRPC streams share `first` (the producer's connection) and open
// `options.connections` - 1 more: the producer's acks and the tails in one client, as one service's
// instance would have them; a separate connection for the producer costs gRPC's client more CPU.
std::unique_ptr<TailClients> StartGrpcTails(Stub& first, const StubFactory& connect, const LoadOptions& options,
                                            const v1::ConsumeRequest& subscribe, Roll& roll);
// Plaintext HTTP/2 to `address` (host:port), `options.connections` connections, the `authorization`
// header when `token` is not empty. nullptr with `*error` set when it cannot connect.
std::unique_ptr<TailClients> StartH2Tails(const std::string& address, const std::string& token,
                                          const LoadOptions& options, const v1::ConsumeRequest& subscribe, Roll& roll,
                                          std::string* error);

}  // namespace goethe::load
