// Figures a load run reports: rates, latency percentiles, and the RESULT line scripts parse.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <atomic>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace goethe::load {

using Clock = std::chrono::steady_clock;

inline double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

inline std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// Latency samples in microseconds; Percentile sorts on first use.
class Latencies {
 public:
  void Add(double micros) { samples_.push_back(micros); }
  void Merge(const Latencies& other) { samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end()); }
  std::size_t size() const { return samples_.size(); }
  double Percentile(double p) {
    if (samples_.empty()) return 0;
    std::sort(samples_.begin(), samples_.end());
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * samples_.size()));
    return samples_[std::clamp<std::size_t>(rank, 1, samples_.size()) - 1];
  }

 private:
  std::vector<double> samples_;
};

// The payloads a run sends: `bytes` of 'x' each, or with `random` a rotation through 4096 distinct
// random payloads, which compression cannot shrink (what real events are more like).
class PayloadSource {
 public:
  PayloadSource(std::size_t bytes, bool random) {
    if (!random) {
      pool_.emplace_back(bytes, 'x');
      return;
    }
    std::mt19937_64 engine(12345);
    pool_.resize(4096);
    for (std::string& payload : pool_) {
      payload.resize(bytes);
      for (char& c : payload) c = static_cast<char>(engine());
    }
  }
  // Thread-safe.
  const std::string& Next() { return pool_[next_.fetch_add(1, std::memory_order_relaxed) % pool_.size()]; }

 private:
  std::vector<std::string> pool_;
  std::atomic<std::uint64_t> next_{0};
};

// When a payload was sent (NowNs), from its first 8 bytes as SendPaced wrote them; 0 when shorter.
inline std::int64_t SentAt(const std::string& payload) {
  std::int64_t sent = 0;
  if (payload.size() >= sizeof sent) std::memcpy(&sent, payload.data(), sizeof sent);
  return sent;
}

// Calls send(i, payload) for i from 0 to total - 1 at `rate` a second, each payload the next of
// `payloads` (at least 8 bytes) with its send time in its first 8 bytes; stops early when send
// returns false. For the latency workloads, whose consumers read the time back with SentAt.
template <typename Send>
void SendPaced(double rate, std::uint64_t total, PayloadSource& payloads, Send&& send) {
  const auto interval = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / rate));
  auto next = Clock::now();
  for (std::uint64_t i = 0; i < total; ++i) {
    std::this_thread::sleep_until(next);
    next += interval;
    std::string payload = payloads.Next();
    const std::int64_t sent = NowNs();
    std::memcpy(payload.data(), &sent, sizeof sent);
    if (!send(i, std::move(payload))) return;
  }
}

// "RESULT test=produce-stream n=1000000 secs=2.1 rate=476190 ..." on stdout, one line per
// measurement, in the shape ../shared/peers uses, so the same tools read both.
inline void PrintResult(const std::string& test, const std::map<std::string, std::string>& fields) {
  std::string line = "RESULT peer=goethe test=" + test;
  for (const auto& [key, value] : fields) line += " " + key + "=" + value;
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

inline std::string Fixed(double value, int decimals = 1) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// A progress line on stderr at most once a second: "produce-stream: 420000/1000000 events".
class Progress {
 public:
  explicit Progress(std::string what, std::uint64_t total) : what_(std::move(what)), total_(total) {}
  void Update(std::uint64_t done) {
    const auto now = Clock::now();
    if (now - last_ < std::chrono::seconds(1)) return;
    last_ = now;
    std::fprintf(stderr, "\r%s: %llu/%llu events", what_.c_str(), static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(total_));
    shown_ = true;
  }
  ~Progress() {
    if (shown_) std::fprintf(stderr, "\n");
  }

 private:
  std::string what_;
  std::uint64_t total_;
  Clock::time_point last_ = Clock::now();
  bool shown_ = false;
};

}  // namespace goethe::load
