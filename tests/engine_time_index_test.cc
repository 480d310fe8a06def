// Seeking by time: the edge cases of the nearest rule, and a cost that does not grow with the
// topic's length (reads counted by a CountingStore between the engine and the backend).
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/engine_fixture.h"

namespace goethe {
namespace {

using testing::AtTime;
using testing::kEpoch;
using testing::kSecond;
using testing::Payloads;

class EngineTimeIndexTest : public testing::EngineTest {
 protected:
  // Offsets 0,1,2 at T+1000s (three appends under a constant clock), 3,4,5 at T+2000s, 6 at
  // T+3000s; the clock then stands at T+4000s.
  void AppendSteps(const std::string& topic, std::int64_t granularity_ns) {
    ASSERT_TRUE(log_->CreateTopic(topic, {.index_granularity_ns = granularity_ns}).ok());
    clock_.Set(kEpoch + 1000 * kSecond);
    for (int i = 0; i < 3; ++i) AppendOk(topic, {"a" + std::to_string(i)});
    clock_.Set(kEpoch + 2000 * kSecond);
    AppendOk(topic, {"b0", "b1"});
    AppendOk(topic, {"b2"});
    clock_.Set(kEpoch + 3000 * kSecond);
    AppendOk(topic, {"c0"});
    clock_.Set(kEpoch + 4000 * kSecond);
  }

  // Fills `topic` with `buckets` one-second buckets of kPerBucket events each, the events of
  // bucket k sharing the timestamp kEpoch + k s.
  void FillBuckets(const std::string& topic, int buckets, int per_bucket) {
    ASSERT_TRUE(log_->CreateTopic(topic, {.index_granularity_ns = kSecond}).ok());
    for (int k = 0; k < buckets; ++k) {
      clock_.Set(kEpoch + k * kSecond);
      AppendOutcome o = Append(topic, Payloads("p", per_bucket));
      ASSERT_TRUE(o.status.ok()) << o.status.ToString();
      ASSERT_EQ(o.result.first_offset, static_cast<std::uint64_t>(k) * per_bucket);
    }
  }
};

TEST_P(EngineTimeIndexTest, SeekByTimeEdgeCases) {
  // One topic whose events fall in many small buckets, one where they share a single bucket.
  const std::pair<std::string, std::int64_t> topics[] = {{"fine", kSecond}, {"coarse", 24 * 3600 * kSecond}};
  for (const auto& [topic, granularity] : topics) {
    ASSERT_NO_FATAL_FAILURE(AppendSteps(topic, granularity));
    struct Case {
      const char* what;
      TimestampNs t;
      std::uint64_t offset;
      std::optional<bool> exact;  // unset: the contract leaves it open
    };
    const Case cases[] = {
        {"long before the first event", kEpoch, 0, false},
        {"just before the first event", kEpoch + 1000 * kSecond - 1, 0, false},
        {"exactly on the first events (shared timestamp)", kEpoch + 1000 * kSecond, 0, true},
        {"just after the first events", kEpoch + 1000 * kSecond + 1, 3, false},
        {"between two timestamps", kEpoch + 1500 * kSecond, 3, false},
        {"exactly on a timestamp three events share", kEpoch + 2000 * kSecond, 3, true},
        {"exactly on the last event", kEpoch + 3000 * kSecond, 6, true},
        {"just after the last event", kEpoch + 3000 * kSecond + 1, 7, std::nullopt},
        {"now", clock_.Now(), 7, std::nullopt},
        {"in the future", clock_.Now() + 3600 * kSecond, 7, std::nullopt},
    };
    for (const Case& c : cases) {
      SCOPED_TRACE(topic + ": " + c.what);
      ResolvedPosition r = ResolveOk(topic, AtTime(c.t));
      EXPECT_EQ(r.offset, c.offset);
      if (c.exact) {
        EXPECT_EQ(r.exact, *c.exact);
      }
      EXPECT_EQ(r.head, 7u);
    }
  }
}

TEST_P(EngineTimeIndexTest, SeekByTimeOnAnEmptyTopicIsItsHead) {
  ASSERT_TRUE(log_->CreateTopic("empty", {}).ok());
  EXPECT_EQ(ResolveOk("empty", AtTime(kEpoch)).offset, 0u);
  EXPECT_EQ(log_->Resolve("absent", AtTime(kEpoch)).status().code(), StatusCode::kNotFound);
}

TEST_P(EngineTimeIndexTest, SeekByTimeSeesTimestampsClampedAfterTheClockStepsBack) {
  ASSERT_TRUE(log_->CreateTopic("t", {.index_granularity_ns = kSecond}).ok());
  clock_.Set(kEpoch + 100 * kSecond);
  AppendOk("t", {"0"});
  clock_.Set(kEpoch + 50 * kSecond);  // steps back: the event gets (at least) T+100s
  AppendOk("t", {"1"});
  clock_.Set(kEpoch + 200 * kSecond);
  AppendOk("t", {"2"});
  EXPECT_EQ(ResolveOk("t", AtTime(kEpoch + 50 * kSecond)).offset, 0u);
  EXPECT_EQ(ResolveOk("t", AtTime(kEpoch + 100 * kSecond + 1)).offset, 2u);
  EXPECT_EQ(ResolveOk("t", AtTime(kEpoch + 150 * kSecond)).offset, 2u);
}

TEST_P(EngineTimeIndexTest, SeekByTimeWorksAfterReopen) {
  ASSERT_NO_FATAL_FAILURE(AppendSteps("t", kSecond));
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(ResolveOk("t", AtTime(kEpoch + 1500 * kSecond)).offset, 3u);
  EXPECT_EQ(ResolveOk("t", AtTime(kEpoch + 2000 * kSecond)).offset, 3u);
  EXPECT_EQ(ResolveOk("t", AtTime(kEpoch + 3000 * kSecond + 1)).offset, 7u);
}

constexpr int kPerBucket = 10;

TEST_P(EngineTimeIndexTest, SeekByTimeCostDoesNotGrowWithTheTopicsLength) {
  ASSERT_NO_FATAL_FAILURE(Reopen(Wrap::kCountReads));
  ASSERT_NE(counting_, nullptr);
  // The short topic between two long ones, so that seeks also must stop at topic bounds.
  ASSERT_NO_FATAL_FAILURE(FillBuckets("long", 2000, kPerBucket));    // 20,000 events
  ASSERT_NO_FATAL_FAILURE(FillBuckets("short", 100, kPerBucket));    //  1,000 events
  ASSERT_NO_FATAL_FAILURE(FillBuckets("longer", 2000, kPerBucket));  // 20,000 events
  clock_.Set(kEpoch + 5000 * kSecond);

  struct Seek {
    std::string topic;
    int bucket;
  };
  const Seek seeks[] = {{"short", 0},  {"short", 50},   {"short", 98},    {"long", 0},      {"long", 50},
                        {"long", 1000}, {"long", 1998}, {"longer", 1500}, {"longer", 1998}};
  std::uint64_t short_max = 0, long_max = 0;
  for (const Seek& s : seeks) {
    SCOPED_TRACE(s.topic + " bucket " + std::to_string(s.bucket));
    // One nanosecond past the bucket's events: the answer is the next bucket's first event, the
    // most expensive case (the whole bucket is passed over).
    counting_->Reset();
    ResolvedPosition late = ResolveOk(s.topic, AtTime(kEpoch + s.bucket * kSecond + 1));
    const testing::ReadCounts late_cost = counting_->counts();
    EXPECT_EQ(late.offset, static_cast<std::uint64_t>(s.bucket + 1) * kPerBucket);

    counting_->Reset();
    ResolvedPosition on = ResolveOk(s.topic, AtTime(kEpoch + s.bucket * kSecond));
    const testing::ReadCounts on_cost = counting_->counts();
    EXPECT_EQ(on.offset, static_cast<std::uint64_t>(s.bucket) * kPerBucket);
    EXPECT_TRUE(on.exact);

    std::cout << "[ cost     ] " << GetParam() << " " << s.topic << " bucket " << s.bucket
              << ": past the bucket " << late_cost.reads() << " reads (" << late_cost.gets << " gets, "
              << late_cost.seeks << " seeks, " << late_cost.steps << " steps), on the bucket "
              << on_cost.reads() << " reads\n";
    // At most one bucket of events plus a small constant.
    EXPECT_LE(late_cost.reads(), static_cast<std::uint64_t>(kPerBucket) + 10);
    EXPECT_LE(on_cost.reads(), static_cast<std::uint64_t>(kPerBucket) + 10);
    std::uint64_t& max = s.topic == "short" ? short_max : long_max;
    max = std::max({max, late_cost.reads(), on_cost.reads()});
  }
  // Twenty times the events, the same cost (give or take a read for a bucket boundary).
  EXPECT_LE(long_max, short_max + 2) << "seek cost grows with the topic's length";
}

GOETHE_ENGINE_TEST_SUITE(EngineTimeIndexTest);

}  // namespace
}  // namespace goethe
