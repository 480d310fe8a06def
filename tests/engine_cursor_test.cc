// Cursors: the last processed offset per (topic, consumer), its moves, its lag, its errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/engine_fixture.h"

namespace goethe {
namespace {

using testing::kEpoch;
using testing::kSecond;
using testing::Payloads;

class EngineCursorTest : public testing::EngineTest {
 protected:
  std::optional<CursorInfo> GetCursorOk(const std::string& topic, const std::string& consumer) {
    auto cursor = log_->GetCursor(topic, consumer);
    EXPECT_TRUE(cursor.ok()) << cursor.status().ToString();
    return cursor.ok() ? cursor.value() : std::nullopt;
  }
  // The committed offset, or UINT64_MAX when there is none.
  std::uint64_t CursorOffset(const std::string& topic, const std::string& consumer) {
    std::optional<CursorInfo> cursor = GetCursorOk(topic, consumer);
    EXPECT_TRUE(cursor.has_value()) << topic << "/" << consumer << " has no cursor";
    return cursor ? cursor->offset : UINT64_MAX;
  }
};

TEST_P(EngineCursorTest, CommitThenGetReturnsTheLastProcessedOffset) {
  AppendOk("t", Payloads("e", 10));
  EXPECT_FALSE(GetCursorOk("t", "reader").has_value());
  clock_.Set(kEpoch + 5 * kSecond);
  ASSERT_TRUE(log_->CommitCursor("t", "reader", 3).ok());
  std::optional<CursorInfo> cursor = GetCursorOk("t", "reader");
  ASSERT_TRUE(cursor.has_value());
  EXPECT_EQ(cursor->consumer, "reader");
  EXPECT_EQ(cursor->offset, 3u);
  EXPECT_EQ(cursor->lag, 6u);  // offsets 4..9 are still to deliver
  EXPECT_EQ(cursor->updated_ns, kEpoch + 5 * kSecond);

  ASSERT_TRUE(log_->CommitCursor("t", "reader", 9).ok());
  cursor = GetCursorOk("t", "reader");
  ASSERT_TRUE(cursor.has_value());
  EXPECT_EQ(cursor->offset, 9u);
  EXPECT_EQ(cursor->lag, 0u);
  // Another consumer on the same topic is separate.
  EXPECT_FALSE(GetCursorOk("t", "other").has_value());
}

TEST_P(EngineCursorTest, CommitAtOrPastTheHeadIsOutOfRange) {
  AppendOk("t", Payloads("e", 5));
  EXPECT_EQ(log_->CommitCursor("t", "c", 5).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(log_->CommitCursor("t", "c", 1000).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(log_->CommitCursor("t", "c", 5, CursorMove::kReset).code(), StatusCode::kOutOfRange);
  EXPECT_FALSE(GetCursorOk("t", "c").has_value());
  ASSERT_TRUE(log_->CreateTopic("empty", {}).ok());
  EXPECT_EQ(log_->CommitCursor("empty", "c", 0).code(), StatusCode::kOutOfRange);
  EXPECT_TRUE(log_->CommitCursor("t", "c", 4).ok());
}

TEST_P(EngineCursorTest, ForwardOnlyRefusesToMoveBackwards) {
  AppendOk("t", Payloads("e", 10));
  ASSERT_TRUE(log_->CommitCursor("t", "c", 6).ok());
  Status back = log_->CommitCursor("t", "c", 2, CursorMove::kForwardOnly);
  EXPECT_EQ(back.code(), StatusCode::kFailedPrecondition) << back.ToString();
  EXPECT_EQ(CursorOffset("t", "c"), 6u);
  EXPECT_TRUE(log_->CommitCursor("t", "c", 6).ok()) << "re-committing the same offset is not a move back";
  EXPECT_EQ(CursorOffset("t", "c"), 6u);
}

TEST_P(EngineCursorTest, IgnoreBackwardsKeepsTheCursorWhereItIs) {
  AppendOk("t", Payloads("e", 10));
  ASSERT_TRUE(log_->CommitCursor("t", "c", 6).ok());
  EXPECT_TRUE(log_->CommitCursor("t", "c", 2, CursorMove::kIgnoreBackwards).ok());
  EXPECT_EQ(CursorOffset("t", "c"), 6u);
  EXPECT_TRUE(log_->CommitCursor("t", "c", 8, CursorMove::kIgnoreBackwards).ok());
  EXPECT_EQ(CursorOffset("t", "c"), 8u);
}

TEST_P(EngineCursorTest, ResetMovesTheCursorBackwards) {
  AppendOk("t", Payloads("e", 10));
  ASSERT_TRUE(log_->CommitCursor("t", "c", 6).ok());
  EXPECT_TRUE(log_->CommitCursor("t", "c", 2, CursorMove::kReset).ok());
  EXPECT_EQ(CursorOffset("t", "c"), 2u);
  EXPECT_TRUE(log_->CommitCursor("t", "c", 0, CursorMove::kReset).ok());
  EXPECT_EQ(CursorOffset("t", "c"), 0u);
}

TEST_P(EngineCursorTest, ListCursorsGivesEveryConsumerWithItsLag) {
  AppendOk("t", Payloads("e", 10));
  AppendOk("u", Payloads("e", 3));
  ASSERT_TRUE(log_->CommitCursor("t", "a", 3).ok());
  ASSERT_TRUE(log_->CommitCursor("t", "b", 9).ok());
  ASSERT_TRUE(log_->CommitCursor("t", "c", 0).ok());
  ASSERT_TRUE(log_->CommitCursor("u", "a", 1).ok());
  auto list = log_->ListCursors("t");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  std::vector<CursorInfo> cursors = list.value();
  std::sort(cursors.begin(), cursors.end(), [](const auto& x, const auto& y) { return x.consumer < y.consumer; });
  ASSERT_EQ(cursors.size(), 3u);
  EXPECT_EQ(cursors[0].consumer, "a");
  EXPECT_EQ(cursors[0].offset, 3u);
  EXPECT_EQ(cursors[0].lag, 6u);
  EXPECT_EQ(cursors[1].consumer, "b");
  EXPECT_EQ(cursors[1].lag, 0u);
  EXPECT_EQ(cursors[2].consumer, "c");
  EXPECT_EQ(cursors[2].lag, 9u);

  AppendOk("t", Payloads("more", 5));  // lag follows the head
  list = log_->ListCursors("t");
  ASSERT_TRUE(list.ok());
  for (const CursorInfo& c : list.value()) {
    if (c.consumer == "b") {
      EXPECT_EQ(c.lag, 5u);
    }
  }
  auto u = log_->ListCursors("u");
  ASSERT_TRUE(u.ok());
  ASSERT_EQ(u->size(), 1u);
  EXPECT_EQ(u->at(0).lag, 1u);
}

TEST_P(EngineCursorTest, DeleteCursorForgetsIt) {
  AppendOk("t", Payloads("e", 4));
  ASSERT_TRUE(log_->CommitCursor("t", "a", 2).ok());
  ASSERT_TRUE(log_->CommitCursor("t", "b", 1).ok());
  ASSERT_TRUE(log_->DeleteCursor("t", "a").ok());
  EXPECT_FALSE(GetCursorOk("t", "a").has_value());
  auto list = log_->ListCursors("t");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(list->at(0).consumer, "b");
  // Committing again after a delete starts over: a lower offset is fine.
  EXPECT_TRUE(log_->CommitCursor("t", "a", 0).ok());
  EXPECT_EQ(CursorOffset("t", "a"), 0u);
}

TEST_P(EngineCursorTest, UnknownTopicIsNotFoundForEveryCursorCall) {
  EXPECT_EQ(log_->GetCursor("absent", "c").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(log_->CommitCursor("absent", "c", 0).code(), StatusCode::kNotFound);
  EXPECT_EQ(log_->ListCursors("absent").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(log_->DeleteCursor("absent", "c").code(), StatusCode::kNotFound);
  EXPECT_EQ(log_->DescribeTopic("absent").status().code(), StatusCode::kNotFound);  // not auto-created
}

TEST_P(EngineCursorTest, ConsumerNamesFollowTheTopicNameRule) {
  AppendOk("t", Payloads("e", 2));
  for (const std::string& bad : {std::string(), std::string(256, 'c'), std::string("a b"), std::string("a/b")}) {
    EXPECT_EQ(EventLog::ValidateConsumerName(bad).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(log_->CommitCursor("t", bad, 0).code(), StatusCode::kInvalidArgument) << "'" << bad << "'";
  }
  EXPECT_TRUE(EventLog::ValidateConsumerName(std::string(255, 'c')).ok());
  EXPECT_TRUE(log_->CommitCursor("t", std::string(255, 'c'), 0).ok());
}

TEST_P(EngineCursorTest, ConcurrentCommitsOfOneConsumerEndAtTheHighest) {
  AppendOk("t", Payloads("e", 1000));
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < 1000; i += 4) {
        Status s = log_->CommitCursor("t", "shared", i, CursorMove::kIgnoreBackwards);
        if (!s.ok()) ++errors;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(CursorOffset("t", "shared"), 999u);
}

TEST_P(EngineCursorTest, CursorsSurviveReopen) {
  AppendOk("t", Payloads("e", 10));
  ASSERT_TRUE(log_->CommitCursor("t", "a", 7).ok());
  ASSERT_TRUE(log_->CommitCursor("t", "b", 2).ok());
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(CursorOffset("t", "a"), 7u);
  EXPECT_EQ(CursorOffset("t", "b"), 2u);
  auto list = log_->ListCursors("t");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 2u);
  // The forward-only rule still holds against the recovered value.
  EXPECT_EQ(log_->CommitCursor("t", "a", 6).code(), StatusCode::kFailedPrecondition);
}

GOETHE_ENGINE_TEST_SUITE(EngineCursorTest);

}  // namespace
}  // namespace goethe
