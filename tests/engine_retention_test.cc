// Retention by count, bytes and age, and topic deletion: what goes, what stays, and that offsets
// are never given out twice.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "support/engine_fixture.h"

namespace goethe {
namespace {

using testing::AtTime;
using testing::Beginning;
using testing::kEpoch;
using testing::kSecond;
using testing::Payloads;

class EngineRetentionTest : public testing::EngineTest {
 protected:
  // True when any value in the raw store contains `needle` (layout-agnostic: payloads are stored
  // somewhere in values, whatever the engine's key scheme).
  bool StoreHolds(const std::string& needle) {
    auto it = store_->NewIterator({});
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->value().find(needle) != std::string_view::npos) return true;
    }
    EXPECT_TRUE(it->status().ok());
    return false;
  }
  std::size_t StoreKeyCount() {
    std::size_t n = 0;
    auto it = store_->NewIterator({});
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    return n;
  }
  static std::string Marked(int i) { return "payload-" + std::to_string(i) + "-QZXJ"; }
  static std::vector<std::string> MarkedPayloads(int from, int n) {
    std::vector<std::string> out;
    for (int i = from; i < from + n; ++i) out.push_back(Marked(i));
    return out;
  }
};

TEST_P(EngineRetentionTest, ByEventCountKeepsTheNewestAndNeverReusesOffsets) {
  ASSERT_TRUE(log_->CreateTopic("t", {.retention_events = 10}).ok());
  AppendOk("t", MarkedPayloads(0, 25));
  ASSERT_TRUE(log_->EnforceRetention().ok());

  TopicInfo info = Describe("t");
  EXPECT_EQ(info.first_offset, 15u);
  EXPECT_EQ(info.next_offset, 25u);
  EXPECT_EQ(info.event_count, 10u);
  std::uint64_t bytes = 0;
  for (int i = 15; i < 25; ++i) bytes += Marked(i).size();
  EXPECT_EQ(info.bytes, bytes);

  auto read = log_->Read({.topic = "t", .from_offset = 0});
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->resolved_offset, 15u);
  ASSERT_EQ(read->events.size(), 10u);
  EXPECT_EQ(read->events.front().offset, 15u);
  EXPECT_EQ(read->events.front().payload, Marked(15));
  EXPECT_EQ(read->events.back().offset, 24u);
  EXPECT_EQ(ResolveOk("t", Beginning()).offset, 15u);

  for (int i = 0; i < 15; ++i) EXPECT_FALSE(StoreHolds(Marked(i))) << "event " << i << " is still stored";
  EXPECT_TRUE(StoreHolds(Marked(15)));

  EXPECT_EQ(AppendOk("t", {"next"}).first_offset, 25u);
  ASSERT_TRUE(log_->EnforceRetention().ok());
  EXPECT_EQ(Describe("t").first_offset, 16u);
  EXPECT_EQ(Describe("t").event_count, 10u);
}

TEST_P(EngineRetentionTest, ByBytesKeepsAtMostTheBudget) {
  ASSERT_TRUE(log_->CreateTopic("t", {.retention_bytes = 550}).ok());
  AppendOk("t", std::vector<std::string>(20, std::string(100, 'x')));
  ASSERT_TRUE(log_->EnforceRetention().ok());
  TopicInfo info = Describe("t");
  EXPECT_EQ(info.first_offset, 15u);
  EXPECT_EQ(info.event_count, 5u);
  EXPECT_EQ(info.bytes, 500u);
  EXPECT_EQ(ReadAll("t").size(), 5u);
}

TEST_P(EngineRetentionTest, ByAgeDropsEventsOlderThanTheLimit) {
  ASSERT_TRUE(log_->CreateTopic("t", {.retention_age_ns = 60 * kSecond, .index_granularity_ns = kSecond}).ok());
  clock_.Set(kEpoch);
  AppendOk("t", MarkedPayloads(0, 10));
  clock_.Set(kEpoch + 100 * kSecond);
  AppendOk("t", MarkedPayloads(10, 10));
  clock_.Set(kEpoch + 130 * kSecond);  // the first ten are 130 s old, the others 30 s
  ASSERT_TRUE(log_->EnforceRetention().ok());

  TopicInfo info = Describe("t");
  EXPECT_EQ(info.first_offset, 10u);
  EXPECT_EQ(info.next_offset, 20u);
  EXPECT_EQ(info.event_count, 10u);
  EXPECT_EQ(info.first_timestamp_ns, kEpoch + 100 * kSecond);
  EXPECT_EQ(info.last_timestamp_ns, kEpoch + 100 * kSecond);
  EXPECT_FALSE(StoreHolds(Marked(9)));
  // A time before the first retained event resolves to that event.
  EXPECT_EQ(ResolveOk("t", AtTime(kEpoch)).offset, 10u);
  EXPECT_EQ(ResolveOk("t", AtTime(kEpoch + 50 * kSecond)).offset, 10u);
}

TEST_P(EngineRetentionTest, WhenEverythingExpiresTheTopicIsEmptyButKeepsItsHead) {
  ASSERT_TRUE(log_->CreateTopic("t", {.retention_age_ns = 60 * kSecond}).ok());
  clock_.Set(kEpoch);
  AppendOk("t", Payloads("e", 20));
  clock_.Set(kEpoch + 1000 * kSecond);
  ASSERT_TRUE(log_->EnforceRetention().ok());

  TopicInfo info = Describe("t");
  EXPECT_EQ(info.first_offset, 20u);
  EXPECT_EQ(info.next_offset, 20u);
  EXPECT_EQ(info.event_count, 0u);
  EXPECT_EQ(info.bytes, 0u);
  EXPECT_EQ(info.first_timestamp_ns, 0);
  EXPECT_EQ(info.last_timestamp_ns, kEpoch);  // of the newest event ever appended
  auto read = log_->Read({.topic = "t", .from_offset = 0});
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->events.empty());
  EXPECT_EQ(read->resolved_offset, 20u);
  EXPECT_EQ(ResolveOk("t", Beginning()).offset, 20u);
  EXPECT_EQ(AppendOk("t", {"new"}).first_offset, 20u);
}

TEST_P(EngineRetentionTest, TopicsWithoutLimitsKeepEverything) {
  ASSERT_TRUE(log_->CreateTopic("limited", {.retention_events = 1}).ok());
  AppendOk("limited", Payloads("e", 5));
  AppendOk("free", Payloads("e", 5));
  clock_.Advance(365LL * 24 * 3600 * kSecond);
  ASSERT_TRUE(log_->EnforceRetention().ok());
  EXPECT_EQ(Describe("limited").event_count, 1u);
  EXPECT_EQ(Describe("free").event_count, 5u);
  EXPECT_EQ(Describe("free").first_offset, 0u);
}

TEST_P(EngineRetentionTest, RetentionRunningBesideAppendsKeepsOffsetsDense) {
  ASSERT_TRUE(log_->CreateTopic("t", {.retention_events = 100}).ok());
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::thread appender([&] {
    for (int i = 0; i < 300; ++i) {
      if (!Append("t", Payloads("b" + std::to_string(i) + "-", 10)).status.ok()) ++failures;
    }
    done = true;
  });
  for (int pass = 0; pass < 10000 && !done; ++pass) {
    ASSERT_TRUE(log_->EnforceRetention().ok());
    auto read = log_->Read({.topic = "t", .from_offset = 0, .max_events = 50});
    ASSERT_TRUE(read.ok());
    for (std::size_t i = 0; i < read->events.size(); ++i) {
      ASSERT_EQ(read->events[i].offset, read->resolved_offset + i);  // no holes inside a read
    }
  }
  appender.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_TRUE(log_->EnforceRetention().ok());
  TopicInfo info = Describe("t");
  EXPECT_EQ(info.next_offset, 3000u);
  EXPECT_EQ(info.first_offset, 2900u);
  EXPECT_EQ(info.event_count, 100u);
  std::vector<Event> events = ReadAll("t");
  ASSERT_EQ(events.size(), 100u);
  for (std::size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].offset, 2900 + i);
  EXPECT_EQ(events.back().payload, "b299-9");
}

TEST_P(EngineRetentionTest, DeleteTopicRemovesEventsIndexAndCursors) {
  ASSERT_TRUE(log_->CreateTopic("keep", {}).ok());
  AppendOk("keep", {"k"});
  const std::size_t baseline = StoreKeyCount();

  ASSERT_TRUE(log_->CreateTopic("t", {.index_granularity_ns = kSecond}).ok());
  for (int k = 0; k < 20; ++k) {  // events over twenty index buckets
    clock_.Set(kEpoch + k * kSecond);
    AppendOk("t", MarkedPayloads(k * 5, 5));
  }
  ASSERT_TRUE(log_->CommitCursor("t", "reader", 50).ok());
  ASSERT_TRUE(log_->DeleteTopic("t").ok());

  EXPECT_EQ(log_->DescribeTopic("t").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(log_->Read({.topic = "t"}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(log_->GetCursor("t", "reader").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(log_->ListTopics().size(), 1u);
  for (int i = 0; i < 100; i += 7) EXPECT_FALSE(StoreHolds(Marked(i))) << "event " << i << " is still stored";
  EXPECT_EQ(StoreKeyCount(), baseline) << "the deleted topic left keys behind";
  EXPECT_EQ(ReadAll("keep").size(), 1u);

  // The same name again: a new, empty topic.
  clock_.Set(kEpoch + 100 * kSecond);
  auto again = log_->CreateTopic("t", {});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->next_offset, 0u);
  EXPECT_EQ(again->event_count, 0u);
  auto cursors = log_->ListCursors("t");
  ASSERT_TRUE(cursors.ok());
  EXPECT_TRUE(cursors->empty());
  auto cursor = log_->GetCursor("t", "reader");
  ASSERT_TRUE(cursor.ok());
  EXPECT_FALSE(cursor->has_value());
  EXPECT_EQ(AppendOk("t", {"fresh"}).first_offset, 0u);
  EXPECT_EQ(ReadPayloads("t"), std::vector<std::string>{"fresh"});
  // The old time index is gone too: a seek lands on the new event, not on an old bucket.
  EXPECT_EQ(ResolveOk("t", AtTime(kEpoch)).offset, 0u);
  EXPECT_EQ(ResolveOk("t", AtTime(kEpoch + 10 * kSecond)).offset, 0u);
  EXPECT_EQ(ResolveOk("t", AtTime(kEpoch + 100 * kSecond + 1)).offset, 1u);

  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(ReadPayloads("t"), std::vector<std::string>{"fresh"});
  EXPECT_EQ(Describe("t").next_offset, 1u);
}

TEST_P(EngineRetentionTest, DeletingAnUnknownTopicIsNotFound) {
  EXPECT_EQ(log_->DeleteTopic("absent").code(), StatusCode::kNotFound);
}

GOETHE_ENGINE_TEST_SUITE(EngineRetentionTest);

}  // namespace
}  // namespace goethe
