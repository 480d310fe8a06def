// Recovery and shutdown: what a reopened log finds in the store alone, and what Close() does.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <utility>
#include <string>
#include <vector>

#include "support/engine_fixture.h"

namespace goethe {
namespace {

using testing::AtTime;
using testing::kEpoch;
using testing::kSecond;
using testing::Payloads;

class EngineRecoveryTest : public testing::EngineTest {};

void ExpectSameTopic(const TopicInfo& a, const TopicInfo& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.created_ns, b.created_ns);
  EXPECT_EQ(a.first_offset, b.first_offset);
  EXPECT_EQ(a.next_offset, b.next_offset);
  EXPECT_EQ(a.event_count, b.event_count);
  EXPECT_EQ(a.bytes, b.bytes);
  EXPECT_EQ(a.first_timestamp_ns, b.first_timestamp_ns);
  EXPECT_EQ(a.last_timestamp_ns, b.last_timestamp_ns);
  EXPECT_EQ(a.settings.retention_age_ns, b.settings.retention_age_ns);
  EXPECT_EQ(a.settings.retention_bytes, b.settings.retention_bytes);
  EXPECT_EQ(a.settings.retention_events, b.settings.retention_events);
  EXPECT_EQ(a.settings.index_granularity_ns, b.settings.index_granularity_ns);
}

TEST_P(EngineRecoveryTest, ReopenKeepsHeadsEventsCursorsAndSettings) {
  options_.sync = true;
  ASSERT_NO_FATAL_FAILURE(Reopen());
  const TopicSettings settings{.retention_age_ns = 3600 * kSecond, .retention_bytes = 1 << 30,
                               .retention_events = 1000000, .index_granularity_ns = 10 * kSecond};
  ASSERT_TRUE(log_->CreateTopic("orders", settings).ok());
  clock_.Set(kEpoch + 5 * kSecond);
  AppendOk("orders", Payloads("o", 30));
  clock_.Set(kEpoch + 25 * kSecond);
  AppendOk("orders", Payloads("p", 7));
  AppendOk("audit", {"a", "bb"});
  ASSERT_TRUE(log_->CommitCursor("orders", "billing", 12).ok());
  ASSERT_TRUE(log_->CommitCursor("audit", "archiver", 1).ok());
  const TopicInfo orders = Describe("orders");
  const TopicInfo audit = Describe("audit");
  const std::vector<Event> events = ReadAll("orders");

  ASSERT_NO_FATAL_FAILURE(Reopen());
  ExpectSameTopic(Describe("orders"), orders);
  ExpectSameTopic(Describe("audit"), audit);
  std::vector<Event> again = ReadAll("orders");
  ASSERT_EQ(again.size(), events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(again[i].offset, events[i].offset);
    EXPECT_EQ(again[i].timestamp_ns, events[i].timestamp_ns);
    EXPECT_EQ(again[i].payload, events[i].payload);
  }
  auto cursor = log_->GetCursor("orders", "billing");
  ASSERT_TRUE(cursor.ok());
  ASSERT_TRUE(cursor->has_value());
  EXPECT_EQ((*cursor)->offset, 12u);
  EXPECT_EQ(ResolveOk("orders", testing::AtCursor("billing")).offset, 13u);
  EXPECT_EQ(ResolveOk("orders", AtTime(kEpoch + 25 * kSecond)).offset, 30u);

  // Appends continue where they stopped.
  EXPECT_EQ(AppendOk("orders", {"next"}).first_offset, 37u);
  EXPECT_EQ(AppendOk("audit", {"next"}).first_offset, 2u);
}

TEST_P(EngineRecoveryTest, ReopenKeepsTheFirstOffsetAfterRetention) {
  ASSERT_TRUE(log_->CreateTopic("t", {.retention_events = 4}).ok());
  AppendOk("t", Payloads("e", 10));
  ASSERT_TRUE(log_->EnforceRetention().ok());
  ASSERT_NO_FATAL_FAILURE(Reopen());
  TopicInfo info = Describe("t");
  EXPECT_EQ(info.first_offset, 6u);
  EXPECT_EQ(info.next_offset, 10u);
  EXPECT_EQ(info.event_count, 4u);
  EXPECT_EQ(info.bytes, 8u);
}

TEST_P(EngineRecoveryTest, ReopenAfterRetentionEmptiedATopicNeverReusesItsOffsets) {
  ASSERT_TRUE(log_->CreateTopic("t", {.retention_age_ns = kSecond}).ok());
  clock_.Set(kEpoch);
  AppendOk("t", Payloads("e", 12));
  clock_.Set(kEpoch + 100 * kSecond);
  ASSERT_TRUE(log_->EnforceRetention().ok());
  ASSERT_EQ(Describe("t").event_count, 0u);
  ASSERT_NO_FATAL_FAILURE(Reopen());
  TopicInfo info = Describe("t");
  EXPECT_EQ(info.next_offset, 12u);
  EXPECT_EQ(info.first_offset, 12u);
  EXPECT_EQ(info.event_count, 0u);
  EXPECT_EQ(AppendOk("t", {"after"}).first_offset, 12u);
}

TEST_P(EngineRecoveryTest, TimestampsStayMonotonicAcrossReopenWhenTheClockStepsBack) {
  clock_.Set(kEpoch + 1000 * kSecond);
  AppendOk("t", {"before"});
  clock_.Set(kEpoch + 10 * kSecond);  // the machine comes back with an earlier clock
  ASSERT_NO_FATAL_FAILURE(Reopen());
  AppendResult after = AppendOk("t", {"after"});
  ASSERT_EQ(after.timestamps.size(), 1u);
  EXPECT_GE(after.timestamps[0], kEpoch + 1000 * kSecond);
}

TEST_P(EngineRecoveryTest, NewTopicsAfterReopenGetIdsOfTheirOwn) {
  std::set<std::uint64_t> ids;
  for (int i = 0; i < 20; ++i) {
    const std::string topic = "topic" + std::to_string(i);
    AppendOk(topic, Payloads(topic + "-", i + 1));
    ids.insert(Describe(topic).id);
  }
  ASSERT_EQ(ids.size(), 20u);
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(log_->ListTopics().size(), 20u);
  AppendOk("late", {"late-0", "late-1"});
  EXPECT_EQ(ids.count(Describe("late").id), 0u) << "a topic id was given out twice";
  for (int i = 0; i < 20; ++i) {
    const std::string topic = "topic" + std::to_string(i);
    std::vector<std::string> payloads = ReadPayloads(topic);
    ASSERT_EQ(payloads.size(), static_cast<std::size_t>(i + 1)) << topic;
    EXPECT_EQ(payloads.back(), topic + "-" + std::to_string(i));
  }
  EXPECT_EQ(ReadPayloads("late"), (std::vector<std::string>{"late-0", "late-1"}));
}

TEST_P(EngineRecoveryTest, AppendsAfterCloseAreUnavailable) {
  AppendOk("t", {"0"});
  log_->Close();
  EXPECT_EQ(Append("t", {"late"}).status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(Append("other", {"late"}).status.code(), StatusCode::kUnavailable);

  auto async = testing::AsyncOutcomes::Make(1);
  log_->AppendAsync({.topic = "t", .payloads = {"late"}}, async->Callback(0));
  ASSERT_TRUE(async->WaitAll(std::chrono::seconds(10))) << "the callback of an append after Close never ran";
  EXPECT_EQ(async->Get(0).status.code(), StatusCode::kUnavailable);
  EXPECT_FALSE(log_->CommitCursor("t", "c", 0).ok());
  EXPECT_FALSE(log_->CreateTopic("new", {}).ok());
  log_->Close();  // a second Close is harmless

  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(ReadPayloads("t"), std::vector<std::string>{"0"});
  EXPECT_EQ(log_->DescribeTopic("other").status().code(), StatusCode::kNotFound);
}

TEST_P(EngineRecoveryTest, CloseDuringConcurrentAppendsLosesNoAcknowledgedEvent) {
  options_.sync = true;
  ASSERT_NO_FATAL_FAILURE(Reopen());
  constexpr int kThreads = 4;
  std::vector<std::vector<std::pair<std::uint64_t, std::string>>> acked(kThreads);
  std::atomic<int> other_errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100000; ++i) {
        const std::string payload = std::to_string(t) + ":" + std::to_string(i);
        AppendOutcome o = Append("t", {payload});
        if (o.status.code() == StatusCode::kUnavailable) return;
        if (!o.status.ok()) {
          ++other_errors;
          return;
        }
        acked[t].emplace_back(o.result.first_offset, payload);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  log_->Close();
  for (std::thread& th : threads) th.join();  // each ends at its first UNAVAILABLE
  EXPECT_EQ(other_errors.load(), 0);

  ASSERT_NO_FATAL_FAILURE(Reopen());
  std::vector<Event> events = ReadAll("t");
  std::size_t total = 0;
  for (const auto& list : acked) {
    total += list.size();
    for (const auto& [offset, payload] : list) {
      ASSERT_LT(offset, events.size()) << "acknowledged " << payload << " at " << offset << " is lost";
      EXPECT_EQ(events[offset].payload, payload);
    }
  }
  EXPECT_GT(total, 0u);
  EXPECT_EQ(events.size(), total) << "events that no caller was told about";
}

TEST_P(EngineRecoveryTest, CloseCompletesEverythingQueuedBeforeIt) {
  options_.sync = true;
  ASSERT_NO_FATAL_FAILURE(Reopen());
  constexpr int kAppends = 300;
  auto outcomes = testing::AsyncOutcomes::Make(kAppends);
  for (int i = 0; i < kAppends; ++i) {
    log_->AppendAsync({.topic = "t", .payloads = {std::to_string(i)}}, outcomes->Callback(i));
  }
  log_->Close();
  ASSERT_EQ(outcomes->done(), kAppends) << "Close returned before completing every queued append";
  std::set<std::uint64_t> offsets;
  for (int i = 0; i < kAppends; ++i) {
    AppendOutcome o = outcomes->Get(i);
    ASSERT_TRUE(o.status.ok()) << i << ": " << o.status.ToString();
    offsets.insert(o.result.first_offset);
  }
  ASSERT_EQ(offsets.size(), static_cast<std::size_t>(kAppends));
  ASSERT_EQ(*offsets.rbegin(), static_cast<std::uint64_t>(kAppends - 1));

  ASSERT_NO_FATAL_FAILURE(Reopen());
  std::vector<Event> events = ReadAll("t");
  ASSERT_EQ(events.size(), static_cast<std::size_t>(kAppends));
  for (int i = 0; i < kAppends; ++i) {
    EXPECT_EQ(events[outcomes->Get(i).result.first_offset].payload, std::to_string(i));
  }
}

GOETHE_ENGINE_TEST_SUITE(EngineRecoveryTest);

}  // namespace
}  // namespace goethe
