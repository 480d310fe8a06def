// Reads and topic descriptions: order, count and byte budgets, positions past the head.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "support/engine_fixture.h"

namespace goethe {
namespace {

using testing::kEpoch;
using testing::kSecond;
using testing::Payloads;

class EngineReadTest : public testing::EngineTest {};

TEST_P(EngineReadTest, ReadsEventsInOrderFromAnOffset) {
  AppendOk("t", Payloads("e", 10));
  auto result = log_->Read({.topic = "t", .from_offset = 4, .max_events = 3});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->events.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(result->events[i].offset, 4 + i);
    EXPECT_EQ(result->events[i].payload, "e" + std::to_string(4 + i));
  }
  EXPECT_EQ(result->resolved_offset, 4u);
  EXPECT_EQ(result->next_offset, 7u);
  EXPECT_EQ(result->head, 10u);

  auto rest = log_->Read({.topic = "t", .from_offset = 7});
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->events.size(), 3u);
  EXPECT_EQ(rest->events.back().offset, 9u);
  EXPECT_EQ(rest->next_offset, 10u);
}

// ReadEach hands over what Read collects, in order, with the same bounds and positions.
TEST_P(EngineReadTest, ReadEachVisitsWhatReadReturns) {
  AppendOk("t", Payloads("e", 10));
  const ReadRequest request{.topic = "t", .from_offset = 2, .max_events = 5};
  auto read = log_->Read(request);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  std::vector<Event> visited;
  auto each = log_->ReadEach(request, [&](const EventView& event) {
    visited.push_back({event.offset, event.timestamp_ns, std::string(event.payload)});
  });
  ASSERT_TRUE(each.ok()) << each.status().ToString();
  EXPECT_TRUE(each->events.empty());
  ASSERT_EQ(visited.size(), read->events.size());
  for (std::size_t i = 0; i < visited.size(); ++i) {
    EXPECT_EQ(visited[i].offset, read->events[i].offset);
    EXPECT_EQ(visited[i].timestamp_ns, read->events[i].timestamp_ns);
    EXPECT_EQ(visited[i].payload, read->events[i].payload);
  }
  EXPECT_EQ(each->resolved_offset, read->resolved_offset);
  EXPECT_EQ(each->next_offset, 7u);
  EXPECT_EQ(each->head, read->head);
}

TEST_P(EngineReadTest, ByteBudgetStopsBeforeExceedingButReturnsAtLeastOneEvent) {
  AppendOk("t", std::vector<std::string>(10, std::string(100, 'x')));
  auto two = log_->Read({.topic = "t", .from_offset = 0, .max_events = 1000, .max_bytes = 250});
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->events.size(), 2u);
  EXPECT_EQ(two->next_offset, 2u);

  auto one = log_->Read({.topic = "t", .from_offset = 5, .max_events = 1000, .max_bytes = 10});
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->events.size(), 1u);  // a single event larger than the budget still comes
  EXPECT_EQ(one->events[0].offset, 5u);
  EXPECT_EQ(one->next_offset, 6u);

  auto zero_budget = log_->Read({.topic = "t", .from_offset = 9, .max_events = 1000, .max_bytes = 0});
  ASSERT_TRUE(zero_budget.ok());
  EXPECT_EQ(zero_budget->events.size(), 1u);

  AppendOk("big", {std::string(1 << 20, 'b'), "small"});
  auto big = log_->Read({.topic = "big", .from_offset = 0, .max_events = 1000, .max_bytes = 1024});
  ASSERT_TRUE(big.ok());
  ASSERT_EQ(big->events.size(), 1u);
  EXPECT_EQ(big->events[0].payload.size(), 1u << 20);
}

TEST_P(EngineReadTest, CountLimitIsHonoured) {
  AppendOk("t", Payloads("e", 50));
  auto result = log_->Read({.topic = "t", .from_offset = 0, .max_events = 7});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->events.size(), 7u);
  EXPECT_EQ(result->next_offset, 7u);
}

TEST_P(EngineReadTest, ReadingAtOrPastTheHeadIsEmptyAndResolvesToTheHead) {
  AppendOk("t", Payloads("e", 5));
  for (std::uint64_t from : {5ull, 6ull, 1000000ull}) {
    SCOPED_TRACE("from " + std::to_string(from));
    auto result = log_->Read({.topic = "t", .from_offset = from});
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_TRUE(result->events.empty());
    EXPECT_EQ(result->resolved_offset, 5u);
    EXPECT_EQ(result->next_offset, 5u);
    EXPECT_EQ(result->head, 5u);
  }
  ASSERT_TRUE(log_->CreateTopic("empty", {}).ok());
  auto empty = log_->Read({.topic = "empty", .from_offset = 0});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->events.empty());
  EXPECT_EQ(empty->head, 0u);
}

TEST_P(EngineReadTest, ReadOfAnUnknownTopicIsNotFound) {
  EXPECT_EQ(log_->Read({.topic = "absent"}).status().code(), StatusCode::kNotFound);
}

TEST_P(EngineReadTest, ReadsStopAtTheTopicsEndAndNeverShowAnotherTopic) {
  // Topic ids are adjacent in the key space; a read must not run into the next topic.
  AppendOk("a", Payloads("a", 3));
  AppendOk("b", Payloads("b", 3));
  AppendOk("a", Payloads("a-late", 1));
  std::vector<std::string> a = ReadPayloads("a");
  EXPECT_EQ(a, (std::vector<std::string>{"a0", "a1", "a2", "a-late0"}));
  EXPECT_EQ(ReadPayloads("b"), (std::vector<std::string>{"b0", "b1", "b2"}));
}

TEST_P(EngineReadTest, BinaryPayloadsRoundTrip) {
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  AppendOk("t", {binary, std::string(3, '\0'), ""});
  EXPECT_EQ(ReadPayloads("t"), (std::vector<std::string>{binary, std::string(3, '\0'), ""}));
}

TEST_P(EngineReadTest, DescribeTopicReportsOffsetsCountBytesAndTimestamps) {
  clock_.Set(kEpoch);
  auto created = log_->CreateTopic("t", {});
  ASSERT_TRUE(created.ok());
  TopicInfo empty = Describe("t");
  EXPECT_EQ(empty.name, "t");
  EXPECT_EQ(empty.first_offset, 0u);
  EXPECT_EQ(empty.next_offset, 0u);
  EXPECT_EQ(empty.event_count, 0u);
  EXPECT_EQ(empty.bytes, 0u);
  EXPECT_EQ(empty.first_timestamp_ns, 0);
  EXPECT_EQ(empty.last_timestamp_ns, 0);
  EXPECT_EQ(empty.created_ns, kEpoch);

  clock_.Set(kEpoch + 10 * kSecond);
  AppendOk("t", {"1", "22", "333"});
  clock_.Set(kEpoch + 20 * kSecond);
  AppendOk("t", {"4444", ""});
  TopicInfo info = Describe("t");
  EXPECT_EQ(info.first_offset, 0u);
  EXPECT_EQ(info.next_offset, 5u);
  EXPECT_EQ(info.event_count, 5u);
  EXPECT_EQ(info.bytes, 10u);
  EXPECT_EQ(info.first_timestamp_ns, kEpoch + 10 * kSecond);
  EXPECT_EQ(info.last_timestamp_ns, kEpoch + 20 * kSecond);
  EXPECT_EQ(info.created_ns, kEpoch);
  EXPECT_EQ(info.id, created->id);
}

TEST_P(EngineReadTest, ListTopicsNamesEveryTopicWithDistinctIds) {
  ASSERT_TRUE(log_->CreateTopic("x", {}).ok());
  AppendOk("y", {"1"});
  AppendOk("z", {"1", "2"});
  std::vector<TopicInfo> topics = log_->ListTopics();
  ASSERT_EQ(topics.size(), 3u);
  std::vector<std::string> names;
  for (const TopicInfo& t : topics) names.push_back(t.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_NE(topics[0].id, topics[1].id);
  EXPECT_NE(topics[1].id, topics[2].id);
  EXPECT_NE(topics[0].id, topics[2].id);
  for (const TopicInfo& t : topics) {
    if (t.name == "z") {
      EXPECT_EQ(t.next_offset, 2u);
    }
  }
}

GOETHE_ENGINE_TEST_SUITE(EngineReadTest);

}  // namespace
}  // namespace goethe
