// Start positions and the nearest rule: beginning, end, offsets, committed cursors with fallbacks
// and reset policies. (Positions in time are in engine_time_index_test.cc.)
#include <gtest/gtest.h>

#include <string>

#include "support/engine_fixture.h"

namespace goethe {
namespace {

using testing::AtCursor;
using testing::AtOffset;
using testing::Beginning;
using testing::End;
using testing::Payloads;
using Kind = StartPosition::Kind;

class EngineResolveTest : public testing::EngineTest {
 protected:
  // Topic "t": offsets 0..49 appended, retention keeps the last 13, so 37..49 remain.
  void MakeTrimmedTopic() {
    auto created = log_->CreateTopic("t", {.retention_events = 13});
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    AppendOk("t", Payloads("e", 50));
    ASSERT_TRUE(log_->EnforceRetention().ok());
    TopicInfo info = Describe("t");
    ASSERT_EQ(info.first_offset, 37u);
    ASSERT_EQ(info.next_offset, 50u);
  }
};

TEST_P(EngineResolveTest, BeginningAndEnd) {
  AppendOk("t", Payloads("e", 5));
  ResolvedPosition begin = ResolveOk("t", Beginning());
  EXPECT_EQ(begin.offset, 0u);
  EXPECT_EQ(begin.first_offset, 0u);
  EXPECT_EQ(begin.head, 5u);
  ResolvedPosition end = ResolveOk("t", End());
  EXPECT_EQ(end.offset, 5u);
  EXPECT_EQ(end.head, 5u);
  EXPECT_TRUE(end.exact);

  ASSERT_TRUE(log_->CreateTopic("empty", {}).ok());
  EXPECT_EQ(ResolveOk("empty", Beginning()).offset, 0u);
  EXPECT_EQ(ResolveOk("empty", End()).offset, 0u);
}

TEST_P(EngineResolveTest, BeginningIsTheFirstRetainedEvent) {
  ASSERT_NO_FATAL_FAILURE(MakeTrimmedTopic());
  ResolvedPosition begin = ResolveOk("t", Beginning());
  EXPECT_EQ(begin.offset, 37u);
  EXPECT_EQ(begin.first_offset, 37u);
  EXPECT_EQ(begin.head, 50u);
}

TEST_P(EngineResolveTest, OffsetsFollowTheNearestRule) {
  ASSERT_NO_FATAL_FAILURE(MakeTrimmedTopic());
  struct Case {
    std::uint64_t asked, resolved;
    bool exact;
  };
  const Case cases[] = {
      {37, 37, true},  {40, 40, true},  {49, 49, true},  // existing events
      {50, 50, true},                                      // the end itself
      {51, 50, false}, {1000000, 50, false},               // past the head: a live tail
      {0, 37, false},  {36, 37, false},                    // before the first retained event
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("offset " + std::to_string(c.asked));
    ResolvedPosition r = ResolveOk("t", AtOffset(c.asked));
    EXPECT_EQ(r.offset, c.resolved);
    EXPECT_EQ(r.exact, c.exact);
    EXPECT_EQ(r.first_offset, 37u);
    EXPECT_EQ(r.head, 50u);
  }
}

TEST_P(EngineResolveTest, CursorResumesRightAfterTheCommittedOffset) {
  AppendOk("t", Payloads("e", 10));
  ASSERT_TRUE(log_->CommitCursor("t", "c", 4).ok());
  ResolvedPosition r = ResolveOk("t", AtCursor("c"));
  EXPECT_EQ(r.offset, 5u);  // not 4: the committed event is not delivered again
  EXPECT_TRUE(r.exact);
  ASSERT_TRUE(log_->CommitCursor("t", "c", 9).ok());
  EXPECT_EQ(ResolveOk("t", AtCursor("c")).offset, 10u);  // caught up: the end
}

TEST_P(EngineResolveTest, CursorWithoutCommitUsesTheFallback) {
  ASSERT_NO_FATAL_FAILURE(MakeTrimmedTopic());
  EXPECT_EQ(ResolveOk("t", AtCursor("new", Kind::kBeginning)).offset, 37u);
  EXPECT_EQ(ResolveOk("t", AtCursor("new", Kind::kEnd)).offset, 50u);
}

TEST_P(EngineResolveTest, CursorOvertakenByRetentionFollowsItsResetPolicy) {
  // 50 events, retention keeps the last 13 (37..49): distinctive numbers for the error message.
  auto created = log_->CreateTopic("r", {.retention_events = 13});
  ASSERT_TRUE(created.ok());
  AppendOk("r", Payloads("e", 50));
  ASSERT_TRUE(log_->CommitCursor("r", "slow", 20).ok());   // 21 is gone after retention
  ASSERT_TRUE(log_->CommitCursor("r", "edge", 36).ok());   // 37 is exactly the first kept
  ASSERT_TRUE(log_->CommitCursor("r", "fresh", 45).ok());  // untouched
  ASSERT_TRUE(log_->EnforceRetention().ok());
  ASSERT_EQ(Describe("r").first_offset, 37u);

  EXPECT_EQ(ResolveOk("r", AtCursor("slow", Kind::kBeginning, ResetPolicy::kEarliest)).offset, 37u);
  EXPECT_EQ(ResolveOk("r", AtCursor("slow", Kind::kBeginning, ResetPolicy::kLatest)).offset, 50u);
  auto error = log_->Resolve("r", AtCursor("slow", Kind::kBeginning, ResetPolicy::kError));
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.status().code(), StatusCode::kOutOfRange) << error.status().ToString();
  EXPECT_NE(error.status().message().find("37"), std::string::npos)
      << "the error must name the first retained offset: " << error.status().message();

  // A cursor whose next event is the first retained one has lost nothing.
  for (ResetPolicy policy : {ResetPolicy::kEarliest, ResetPolicy::kLatest, ResetPolicy::kError}) {
    auto r = log_->Resolve("r", AtCursor("edge", Kind::kBeginning, policy));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->offset, 37u);
    auto f = log_->Resolve("r", AtCursor("fresh", Kind::kBeginning, policy));
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_EQ(f->offset, 46u);
  }
}

TEST_P(EngineResolveTest, UnknownTopicIsNotFound) {
  EXPECT_EQ(log_->Resolve("absent", Beginning()).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(log_->Resolve("absent", AtCursor("c")).status().code(), StatusCode::kNotFound);
}

GOETHE_ENGINE_TEST_SUITE(EngineResolveTest);

}  // namespace
}  // namespace goethe
