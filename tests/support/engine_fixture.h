// EngineTest: an EventLog over one backend plugin (the test parameter) in a fresh TempDir, with a
// clock the test controls. Tests change `options_` and call Reopen() to run with other options;
// Reopen() also shows what survives closing the log and the store.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "goethe/engine/event_log.h"
#include "goethe/engine/plugin_loader.h"
#include "support/counting_store.h"
#include "support/gated_store.h"
#include "support/plugins.h"
#include "support/temp_dir.h"

namespace goethe {

// So that gtest prints a Status as "NOT_FOUND: ..." in failed expectations.
inline void PrintTo(const Status& status, std::ostream* os) { *os << status.ToString(); }
inline void PrintTo(StatusCode code, std::ostream* os) { *os << StatusCodeName(code); }

namespace testing {

inline constexpr TimestampNs kSecond = 1'000'000'000;
// 2023-11-14T22:13:20Z, a quarter second into its second, so that events do not sit on bucket
// boundaries by accident.
inline constexpr TimestampNs kEpoch = 1'700'000'000 * kSecond + kSecond / 4;

// A clock the test sets by hand; the engine reads it through EventLogOptions::clock.
class FakeClock {
 public:
  TimestampNs Now() const { return now_.load(); }
  void Set(TimestampNs t) { now_.store(t); }
  void Advance(TimestampNs by) { now_.fetch_add(by); }
  std::function<TimestampNs()> Fn() {
    return [this] { return now_.load(); };
  }

 private:
  std::atomic<TimestampNs> now_{kEpoch};
};

inline std::vector<std::string> Payloads(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

// Bytes as text a person can read in a failure message: non-printable bytes as \xNN.
inline std::string Printable(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

inline StartPosition Beginning() { return {.kind = StartPosition::Kind::kBeginning}; }
inline StartPosition End() { return {.kind = StartPosition::Kind::kEnd}; }
inline StartPosition AtOffset(std::uint64_t offset) {
  return {.kind = StartPosition::Kind::kOffset, .offset = offset};
}
inline StartPosition AtTime(TimestampNs t) { return {.kind = StartPosition::Kind::kTime, .time_ns = t}; }
inline StartPosition AtCursor(const std::string& consumer,
                              StartPosition::Kind fallback = StartPosition::Kind::kBeginning,
                              ResetPolicy reset = ResetPolicy::kEarliest) {
  return {.kind = StartPosition::Kind::kCursor, .consumer = consumer, .fallback = fallback, .reset = reset};
}

// Collects the outcomes of AppendAsync calls by index. Shared with the callbacks, so that a late
// callback never touches a test that has already failed and returned.
class AsyncOutcomes : public std::enable_shared_from_this<AsyncOutcomes> {
 public:
  static std::shared_ptr<AsyncOutcomes> Make(int n) { return std::shared_ptr<AsyncOutcomes>(new AsyncOutcomes(n)); }

  AppendCallback Callback(int i) {
    return [self = shared_from_this(), i](AppendOutcome o) {
      std::lock_guard<std::mutex> lock(self->mu_);
      if (self->outcomes_[i].has_value()) ++self->repeated_;
      self->outcomes_[i] = std::move(o);
      ++self->done_;
      self->cv_.notify_all();
    };
  }
  // True when every callback ran within `timeout`.
  bool WaitAll(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return done_ >= static_cast<int>(outcomes_.size()); });
  }
  int done() {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }
  int repeated() {
    std::lock_guard<std::mutex> lock(mu_);
    return repeated_;
  }
  // The outcome of call i (an INTERNAL status when its callback has not run).
  AppendOutcome Get(int i) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!outcomes_[i]) return {.status = Internal("callback " + std::to_string(i) + " never ran")};
    return *outcomes_[i];
  }

 private:
  explicit AsyncOutcomes(int n) : outcomes_(n) {}
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::optional<AppendOutcome>> outcomes_;
  int done_ = 0;
  int repeated_ = 0;
};

// The engine suites run on every backend with events ordered by topic, and on RocksDB with events
// ordered by time (format 4, the order meant for it) in segments of 3 events, so that nearly every
// test crosses segments. The parameter is the backend, with "_time" for the latter. The sanitizer
// builds, whose tests are CPU-bound, run RocksDB in time order only: its plugin is exercised either
// way, and the normal build runs both (like ServerLogicBackends in plugins.h).
inline const std::vector<std::string>& EngineVariants() {
#ifdef GOETHE_TEST_SANITIZED
  static const std::vector<std::string> variants = {"leveldb", "rocksdb_time", "lmdb"};
#else
  static const std::vector<std::string> variants = {"leveldb", "rocksdb", "lmdb", "rocksdb_time"};
#endif
  return variants;
}

class EngineTest : public ::testing::TestWithParam<std::string> {
 protected:
  static constexpr std::string_view kTimeSuffix = "_time";
  static bool TimeOrdered() { return GetParam().ends_with(kTimeSuffix); }
  // The backend's name, without the key order.
  static std::string Backend() {
    return TimeOrdered() ? GetParam().substr(0, GetParam().size() - kTimeSuffix.size()) : GetParam();
  }

  void SetUp() override {
    auto plugin = BackendPlugin::LoadFile(PluginFile(Backend()), "test");
    ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
    plugin_.emplace(std::move(plugin).value());
    options_.sync = false;  // tests that need durability across a crash turn it on
    options_.clock = clock_.Fn();
    options_.retention_interval = std::chrono::hours(1);  // tests call EnforceRetention() themselves
    if (TimeOrdered()) {
      options_.key_order = KeyOrder::kTime;
      options_.segment_events = 3;
    }
    ASSERT_NO_FATAL_FAILURE(Open());
  }

  void TearDown() override { CloseAll(); }

  // Destroys the log, then the store (in that order: the log uses the store to the end).
  void CloseAll() {
    if (gated_ != nullptr) gated_->OpenGate();  // never leave the commit loop parked
    log_.reset();
    counting_ = nullptr;
    gated_ = nullptr;
    store_.reset();
  }

  // How the log sees the store: directly, through a CountingStore (counting_) or through a
  // GatedStore (gated_).
  enum class Wrap { kNone, kCountReads, kGate };

  // Opens the store at the same directory and the log over it with `options_`.
  void Open(Wrap wrap = Wrap::kNone) {
    auto store = plugin_->Open(dir_.Sub("store"), {});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    std::shared_ptr<kv::Store> seen = store_;
    if (wrap == Wrap::kCountReads) {
      auto counting = std::make_shared<CountingStore>(store_);
      counting_ = counting.get();
      seen = counting;
    } else if (wrap == Wrap::kGate) {
      auto gated = std::make_shared<GatedStore>(store_);
      gated_ = gated.get();
      seen = gated;
    }
    auto log = EventLog::Open(seen, options_);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
  }

  void Reopen(Wrap wrap = Wrap::kNone) {
    CloseAll();
    ASSERT_NO_FATAL_FAILURE(Open(wrap));
  }

  AppendResult AppendOk(const std::string& topic, std::vector<std::string> payloads) {
    AppendRequest request;
    request.topic = topic;
    request.payloads = std::move(payloads);
    AppendOutcome outcome = log_->Append(std::move(request));
    EXPECT_TRUE(outcome.status.ok()) << outcome.status.ToString();
    return outcome.result;
  }

  AppendOutcome Append(const std::string& topic, std::vector<std::string> payloads) {
    AppendRequest request;
    request.topic = topic;
    request.payloads = std::move(payloads);
    return log_->Append(std::move(request));
  }

  TopicInfo Describe(const std::string& topic) {
    auto info = log_->DescribeTopic(topic);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? info.value() : TopicInfo{};
  }

  ResolvedPosition ResolveOk(const std::string& topic, const StartPosition& position) {
    auto resolved = log_->Resolve(topic, position);
    EXPECT_TRUE(resolved.ok()) << resolved.status().ToString();
    return resolved.ok() ? resolved.value() : ResolvedPosition{.offset = ~0ull};
  }

  // Every event from `from` to the head, page by page (bounded number of pages).
  std::vector<Event> ReadAll(const std::string& topic, std::uint64_t from = 0) {
    std::vector<Event> events;
    for (int page = 0; page < 100000; ++page) {
      auto result = log_->Read({.topic = topic, .from_offset = from, .max_events = 1000});
      EXPECT_TRUE(result.ok()) << result.status().ToString();
      if (!result.ok() || result->events.empty()) break;
      for (Event& e : result->events) events.push_back(std::move(e));
      from = result->next_offset;
    }
    return events;
  }

  std::vector<std::string> ReadPayloads(const std::string& topic, std::uint64_t from = 0) {
    std::vector<std::string> out;
    for (Event& e : ReadAll(topic, from)) out.push_back(std::move(e.payload));
    return out;
  }

  TempDir dir_;
  FakeClock clock_;
  EventLogOptions options_;
  std::optional<BackendPlugin> plugin_;
  std::shared_ptr<kv::Store> store_;
  CountingStore* counting_ = nullptr;  // set by Open(Wrap::kCountReads); owned by the log
  GatedStore* gated_ = nullptr;        // set by Open(Wrap::kGate); owned by the log
  std::unique_ptr<EventLog> log_;
};

// Names parameterised tests after the variant: "AllBackends/EngineAppendTest.X/rocksdb_time".
inline std::string BackendName(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

}  // namespace testing
}  // namespace goethe

#define GOETHE_ENGINE_TEST_SUITE(Suite)                                                  \
  INSTANTIATE_TEST_SUITE_P(AllBackends, Suite, ::testing::ValuesIn(::goethe::testing::EngineVariants()), \
                           ::goethe::testing::BackendName)
