// Seek, Read and cursor start positions through the real server: seek by time, the nearest rule,
// cursor fallbacks and reset policies.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/server_client.h"

namespace goethe::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class ServerSeekTest : public ServerTest {
 protected:
  void SetUp() override { StartServer("", "retention_interval: 100ms\n"); }

  grpc::Status Seek(const std::string& topic, const v1::StartPosition& start, v1::SeekResponse* response,
                    const std::string& consumer = "") {
    v1::SeekRequest request;
    request.set_topic(topic);
    *request.mutable_start() = start;
    request.set_consumer(consumer);
    return stub().Seek(CallWithin().get(), request, response);
  }

  // The offset `start` resolves to; fails the test on an error.
  std::uint64_t SeekOffset(const std::string& topic, const v1::StartPosition& start, bool* exact = nullptr) {
    v1::SeekResponse response;
    const grpc::Status status = Seek(topic, start, &response);
    EXPECT_TRUE(status.ok()) << Describe(status);
    if (exact != nullptr) *exact = response.exact();
    return response.resolved_offset();
  }

  static v1::StartPosition AtTime(std::int64_t unix_nanos) {
    v1::StartPosition start;
    start.set_time_unix_nanos(unix_nanos);
    return start;
  }

  static v1::StartPosition AtOffset(std::uint64_t offset) {
    v1::StartPosition start;
    start.set_offset(offset);
    return start;
  }

  static v1::StartPosition AtCursor(v1::CursorFallback fallback, v1::ResetPolicy reset) {
    v1::StartPosition start;
    start.mutable_cursor()->set_fallback(fallback);
    start.mutable_cursor()->set_reset_policy(reset);
    return start;
  }
};

TEST_P(ServerSeekTest, SeekByTimeFollowsTheNearestRule) {
  // e0, then e1 and e2 in one batch, then e3: three distinct moments, two events sharing one.
  std::vector<std::int64_t> times;
  for (const std::vector<std::string>& batch : std::vector<std::vector<std::string>>{{"e0"}, {"e1", "e2"}, {"e3"}}) {
    v1::ProduceResponse response;
    ASSERT_TRUE(Produce("t", batch, &response).ok());
    for (std::int64_t t : response.timestamps_unix_nanos()) times.push_back(t);
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(times.size(), 4u);
  ASSERT_LT(times[0], times[1]);
  ASSERT_LT(times[2], times[3]);

  bool exact = false;
  EXPECT_EQ(SeekOffset("t", AtTime(times[0] - 1'000'000'000)), 0u) << "before the first event";
  EXPECT_EQ(SeekOffset("t", AtTime(times[1]), &exact), 1u) << "exactly on an event";
  EXPECT_EQ(SeekOffset("t", AtTime(times[0] + 1)), 1u) << "between two events: the next one";
  EXPECT_EQ(SeekOffset("t", AtTime(times[2])), times[1] == times[2] ? 1u : 2u) << "a shared timestamp: the first";
  EXPECT_EQ(SeekOffset("t", AtTime(times[3] + 1)), 4u) << "after the last event: the end";
  v1::StartPosition now;
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  now.mutable_time()->set_seconds(seconds.count());
  now.mutable_time()->set_nanos(static_cast<std::int32_t>((since_epoch - seconds).count()));
  EXPECT_EQ(SeekOffset("t", now), 4u) << "now: the end";
}

TEST_P(ServerSeekTest, SeekByOffsetResolvesToTheNearestEventAndSaysSo) {
  ASSERT_TRUE(Produce("t", {"a", "b", "c"}).ok());
  bool exact = false;
  EXPECT_EQ(SeekOffset("t", AtOffset(1), &exact), 1u);
  EXPECT_TRUE(exact);
  EXPECT_EQ(SeekOffset("t", AtOffset(3), &exact), 3u) << "the head is the end";
  EXPECT_EQ(SeekOffset("t", AtOffset(1000), &exact), 3u) << "past the head: the end, not an error";
  EXPECT_FALSE(exact);
  v1::StartPosition end;
  end.set_end(true);
  EXPECT_EQ(SeekOffset("t", end), 3u);
}

// A Timestamp whose nanos (any int32 on the wire) carry it past int64 nanoseconds is after (or
// before) everything, like any time beyond that range. It used to overflow (the inputs are in
// tests/fuzz/regressions/fuzz_requests).
TEST_P(ServerSeekTest, TimesPastTheRangeOfNanosecondsSaturate) {
  ASSERT_TRUE(Produce("t", {"a", "b", "c"}).ok());
  v1::StartPosition late;
  late.mutable_time()->set_seconds(9'223'372'035);
  late.mutable_time()->set_nanos(2'000'000'000);
  EXPECT_EQ(SeekOffset("t", late), 3u) << "after everything: the end";
  v1::StartPosition early;
  early.mutable_time()->set_seconds(-9'223'372'035);
  early.mutable_time()->set_nanos(-2'000'000'000);
  EXPECT_EQ(SeekOffset("t", early), 0u) << "before everything: the first event";
}

TEST_P(ServerSeekTest, CursorStartUsesTheFallbackWithoutACursor) {
  ASSERT_TRUE(Produce("t", {"a", "b", "c"}).ok());
  v1::SeekResponse response;
  ASSERT_TRUE(Seek("t", AtCursor(v1::CURSOR_FALLBACK_END, v1::RESET_POLICY_EARLIEST), &response, "new").ok());
  EXPECT_EQ(response.resolved_offset(), 3u);
  ASSERT_TRUE(Seek("t", AtCursor(v1::CURSOR_FALLBACK_BEGINNING, v1::RESET_POLICY_EARLIEST), &response, "new").ok());
  EXPECT_EQ(response.resolved_offset(), 0u);
  const grpc::Status status = Seek("t", AtCursor(v1::CURSOR_FALLBACK_BEGINNING, v1::RESET_POLICY_EARLIEST), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "a cursor start needs a consumer";
}

TEST_P(ServerSeekTest, ACursorOvertakenByRetentionFollowsItsResetPolicy) {
  v1::CreateTopicRequest create;
  create.set_topic("short");
  create.mutable_settings()->set_retention_events(2);
  v1::CreateTopicResponse created;
  ASSERT_TRUE(stub().CreateTopic(CallWithin().get(), create, &created).ok());
  EXPECT_EQ(created.topic().settings().retention_events(), 2u);
  ASSERT_TRUE(Produce("short", {"0", "1", "2"}).ok());
  v1::CommitCursorRequest commit;
  commit.set_topic("short");
  commit.set_consumer("slow");
  commit.set_offset(0);
  v1::CommitCursorResponse committed;
  ASSERT_TRUE(stub().CommitCursor(CallWithin().get(), commit, &committed).ok());
  ASSERT_TRUE(Produce("short", {"3", "4", "5", "6", "7", "8", "9"}).ok());

  // Retention runs every 100 ms here; wait (bounded) until it has kept only the last two.
  v1::Topic topic;
  for (int i = 0; i < 100; ++i) {
    v1::DescribeTopicRequest describe;
    describe.set_topic("short");
    v1::DescribeTopicResponse described;
    ASSERT_TRUE(stub().DescribeTopic(CallWithin().get(), describe, &described).ok());
    topic = described.topic();
    if (topic.first_offset() == 8) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(topic.first_offset(), 8u);
  EXPECT_EQ(topic.event_count(), 2u);

  v1::SeekResponse response;
  ASSERT_TRUE(Seek("short", AtCursor(v1::CURSOR_FALLBACK_BEGINNING, v1::RESET_POLICY_EARLIEST), &response, "slow").ok());
  EXPECT_EQ(response.resolved_offset(), 8u);
  ASSERT_TRUE(Seek("short", AtCursor(v1::CURSOR_FALLBACK_BEGINNING, v1::RESET_POLICY_LATEST), &response, "slow").ok());
  EXPECT_EQ(response.resolved_offset(), 10u);
  const grpc::Status status =
      Seek("short", AtCursor(v1::CURSOR_FALLBACK_BEGINNING, v1::RESET_POLICY_ERROR), &response, "slow");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("8"));

  // Reading from an offset retention deleted starts at the first retained event.
  v1::ReadRequest read;
  read.set_topic("short");
  read.set_from_offset(0);
  v1::ReadResponse page;
  ASSERT_TRUE(stub().Read(CallWithin().get(), read, &page).ok());
  EXPECT_EQ(page.resolved_offset(), 8u);
  ASSERT_EQ(page.events_size(), 2);
  EXPECT_EQ(page.events(0).payload(), "8");
}

TEST_P(ServerSeekTest, CursorCommitsAreForwardOnlyUnlessReset) {
  ASSERT_TRUE(Produce("t", {"a", "b", "c", "d"}).ok());
  auto commit = [&](std::uint64_t offset, bool reset) {
    v1::CommitCursorRequest request;
    request.set_topic("t");
    request.set_consumer("c");
    request.set_offset(offset);
    request.set_reset(reset);
    v1::CommitCursorResponse response;
    return stub().CommitCursor(CallWithin().get(), request, &response);
  };
  ASSERT_TRUE(commit(2, false).ok());
  EXPECT_EQ(commit(1, false).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(commit(4, false).error_code(), grpc::StatusCode::OUT_OF_RANGE) << "past the head";
  ASSERT_TRUE(commit(1, true).ok());
  EXPECT_EQ(GetCursor("t", "c")->offset(), 1u);

  v1::ListCursorsRequest list;
  list.set_topic("t");
  v1::ListCursorsResponse listed;
  ASSERT_TRUE(stub().ListCursors(CallWithin().get(), list, &listed).ok());
  ASSERT_EQ(listed.cursors_size(), 1);
  EXPECT_EQ(listed.cursors(0).lag(), 2u);

  v1::DeleteCursorRequest remove;
  remove.set_topic("t");
  remove.set_consumer("c");
  v1::DeleteCursorResponse removed;
  ASSERT_TRUE(stub().DeleteCursor(CallWithin().get(), remove, &removed).ok());
  v1::GetCursorRequest get;
  get.set_topic("t");
  get.set_consumer("c");
  v1::GetCursorResponse got;
  EXPECT_EQ(stub().GetCursor(CallWithin().get(), get, &got).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_P(ServerSeekTest, TopicsAreCreatedDescribedListedAndDeleted) {
  v1::CreateTopicRequest create;
  create.set_topic("b-topic");
  create.mutable_settings()->mutable_retention_age()->set_seconds(3600);
  create.mutable_settings()->mutable_index_granularity()->set_seconds(1);
  v1::CreateTopicResponse created;
  ASSERT_TRUE(stub().CreateTopic(CallWithin().get(), create, &created).ok());
  EXPECT_EQ(created.topic().settings().retention_age().seconds(), 3600);
  EXPECT_EQ(created.topic().settings().index_granularity().seconds(), 1);
  EXPECT_EQ(stub().CreateTopic(CallWithin().get(), create, &created).error_code(), grpc::StatusCode::ALREADY_EXISTS);
  ASSERT_TRUE(Produce("a-topic", {"x", "yy"}).ok());

  v1::ListTopicsResponse listed;
  ASSERT_TRUE(stub().ListTopics(CallWithin().get(), v1::ListTopicsRequest(), &listed).ok());
  ASSERT_EQ(listed.topics_size(), 2);
  EXPECT_EQ(listed.topics(0).name(), "a-topic");
  EXPECT_EQ(listed.topics(1).name(), "b-topic");
  EXPECT_GT(listed.topics(1).settings().index_granularity().seconds(), 0) << "the granularity in effect";

  v1::DescribeTopicRequest describe;
  describe.set_topic("a-topic");
  v1::DescribeTopicResponse described;
  ASSERT_TRUE(stub().DescribeTopic(CallWithin().get(), describe, &described).ok());
  EXPECT_EQ(described.topic().next_offset(), 2u);
  EXPECT_EQ(described.topic().event_count(), 2u);
  EXPECT_EQ(described.topic().bytes(), 3u);
  EXPECT_GT(described.topic().first_timestamp_unix_nanos(), 0);
  EXPECT_GE(described.topic().last_timestamp_unix_nanos(), described.topic().first_timestamp_unix_nanos());

  v1::DeleteTopicRequest remove;
  remove.set_topic("a-topic");
  v1::DeleteTopicResponse removed;
  ASSERT_TRUE(stub().DeleteTopic(CallWithin().get(), remove, &removed).ok());
  EXPECT_EQ(stub().DescribeTopic(CallWithin().get(), describe, &described).error_code(), grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(Produce("a-topic", {"again"}).ok());
  EXPECT_EQ(ReadAll("a-topic").front().offset(), 0u) << "a topic created again starts empty";
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerSeekTest, ::testing::ValuesIn(ServerLogicBackends()), BackendName);

}  // namespace
}  // namespace goethe::testing
