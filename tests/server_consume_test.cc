// Consume through the real server, on every backend: catch-up, live tail, acks and cursors,
// the window, and the stream limits.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/server_client.h"

namespace goethe::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class ServerConsumeTest : public ServerTest {
 protected:
  void SetUp() override { StartServer("max_concurrent_streams: 4\nmax_consume_window: 100\n"); }

  void ProduceNumbered(const std::string& topic, int from, int to) {
    std::vector<std::string> payloads;
    for (int i = from; i < to; ++i) payloads.push_back("e" + std::to_string(i));
    const grpc::Status status = Produce(topic, payloads);
    ASSERT_TRUE(status.ok()) << Describe(status);
  }
};

TEST_P(ServerConsumeTest, DeliversExistingEventsInOrderThenTailsNewOnes) {
  ProduceNumbered("t", 0, 30);
  ConsumeSession session(stub(), SubscribeTo("t"));
  std::optional<v1::Subscribed> subscribed = session.Subscribed();
  ASSERT_TRUE(subscribed.has_value()) << Describe(session.Finish());
  EXPECT_EQ(subscribed->resolved_offset(), 0u);
  EXPECT_EQ(subscribed->head(), 30u);
  const std::vector<v1::Event> events = session.Take(30);
  ASSERT_EQ(events.size(), 30u);
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].offset(), i);
    EXPECT_EQ(events[i].payload(), "e" + std::to_string(i));
    session.Ack(i);
  }
  EXPECT_FALSE(session.Next(100ms).has_value());

  // Live tail: an event appended now reaches the open stream without any polling delay.
  const auto sent = std::chrono::steady_clock::now();
  ProduceNumbered("t", 30, 31);
  std::optional<v1::Event> live = session.Next(10s);
  ASSERT_TRUE(live.has_value());
  EXPECT_EQ(live->offset(), 30u);
  EXPECT_EQ(live->payload(), "e30");
  EXPECT_LT(std::chrono::steady_clock::now() - sent, 5s);
  EXPECT_TRUE(session.Close().ok());
}

// A catch-up of many small batches within a window, each acked as it comes: every event once, in
// order, no batch above max_batch_events, and the cursor at the last event.
TEST_P(ServerConsumeTest, ACatchUpOfManyBatchesDeliversEveryEventOnceInOrder) {
  constexpr int kEvents = 3000;
  for (int from = 0; from < kEvents; from += 500) ProduceNumbered("t", from, from + 500);
  v1::Subscribe subscribe = SubscribeTo("t", "reader", 100);
  subscribe.set_max_batch_events(7);
  ConsumeSession session(stub(), subscribe, ConsumeSession::AckEachBatch());
  ASSERT_TRUE(session.Subscribed().has_value()) << Describe(session.Finish());
  const std::vector<v1::Event> events = session.Take(kEvents);
  ASSERT_EQ(events.size(), static_cast<std::size_t>(kEvents));
  for (int i = 0; i < kEvents; ++i) {
    ASSERT_EQ(events[i].offset(), static_cast<std::uint64_t>(i));
    ASSERT_EQ(events[i].payload(), "e" + std::to_string(i));
  }
  for (const v1::EventBatch& batch : session.Batches()) EXPECT_LE(batch.events_size(), 7);
  EXPECT_FALSE(session.Next(200ms).has_value()) << "an event came twice";
  ASSERT_TRUE(session.Ack(kEvents - 1));  // the hook's last ack may race the close below
  EXPECT_TRUE(session.Close().ok());
  std::optional<v1::Cursor> cursor = GetCursor("t", "reader");
  ASSERT_TRUE(cursor.has_value());
  EXPECT_EQ(cursor->offset(), static_cast<std::uint64_t>(kEvents - 1));
}

TEST_P(ServerConsumeTest, FromEndDeliversOnlyNewEvents) {
  ProduceNumbered("t", 0, 5);
  v1::Subscribe subscribe = SubscribeTo("t");
  subscribe.mutable_start()->set_end(true);
  ConsumeSession session(stub(), subscribe);
  ASSERT_TRUE(session.Subscribed().has_value());
  EXPECT_EQ(session.Subscribed()->resolved_offset(), 5u);
  ProduceNumbered("t", 5, 6);
  std::optional<v1::Event> event = session.Next(10s);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->offset(), 5u);
}

TEST_P(ServerConsumeTest, AConsumerThatDisconnectsResumesAfterItsLastAck) {
  ProduceNumbered("t", 0, 20);
  v1::Subscribe subscribe = SubscribeTo("t", "billing");
  subscribe.mutable_start()->mutable_cursor();  // no cursor yet: fallback beginning
  {
    ConsumeSession first(stub(), subscribe);
    const std::vector<v1::Event> events = first.Take(10);
    ASSERT_EQ(events.size(), 10u);
    ASSERT_TRUE(first.Ack(9));
    EXPECT_TRUE(first.Close().ok());
  }
  std::optional<v1::Cursor> cursor = GetCursor("t", "billing");
  ASSERT_TRUE(cursor.has_value());
  EXPECT_EQ(cursor->offset(), 9u);
  EXPECT_EQ(cursor->lag(), 10u);

  ConsumeSession second(stub(), subscribe);
  ASSERT_TRUE(second.Subscribed().has_value());
  EXPECT_EQ(second.Subscribed()->resolved_offset(), 10u);
  std::optional<v1::Event> next = second.Next();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->offset(), 10u) << "must resume after the last ack, not at it";
}

TEST_P(ServerConsumeTest, TwoStreamsWithOneConsumerNameShareTheCursor) {
  ProduceNumbered("t", 0, 20);
  v1::Subscribe subscribe = SubscribeTo("t", "shared");
  subscribe.mutable_start()->mutable_cursor();
  ConsumeSession a(stub(), subscribe);
  ConsumeSession b(stub(), subscribe);
  ASSERT_EQ(a.Take(20).size(), 20u);
  ASSERT_EQ(b.Take(20).size(), 20u);
  ASSERT_TRUE(b.Ack(14));
  EXPECT_TRUE(b.Close().ok());
  // A lagging ack from the other stream never moves the shared cursor back.
  ASSERT_TRUE(a.Ack(4));
  EXPECT_TRUE(a.Close().ok());
  std::optional<v1::Cursor> cursor = GetCursor("t", "shared");
  ASSERT_TRUE(cursor.has_value());
  EXPECT_EQ(cursor->offset(), 14u);

  ConsumeSession c(stub(), subscribe);
  std::optional<v1::Event> next = c.Next();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->offset(), 15u);
}

TEST_P(ServerConsumeTest, ReadOnlyAcksDoNotCommit) {
  ProduceNumbered("t", 0, 5);
  v1::Subscribe subscribe = SubscribeTo("t", "peek");
  subscribe.set_read_only(true);
  ConsumeSession session(stub(), subscribe);
  ASSERT_EQ(session.Take(5).size(), 5u);
  ASSERT_TRUE(session.Ack(4));
  EXPECT_TRUE(session.Close().ok());
  EXPECT_FALSE(GetCursor("t", "peek").has_value());
}

TEST_P(ServerConsumeTest, NeverMoreThanWindowUnacknowledgedEventsInFlight) {
  ProduceNumbered("t", 0, 50);
  ConsumeSession session(stub(), SubscribeTo("t", "", 5));
  ASSERT_TRUE(session.Subscribed().has_value());
  EXPECT_EQ(session.Subscribed()->window(), 5u);
  EXPECT_EQ(session.Take(5).size(), 5u);
  EXPECT_FALSE(session.Next(500ms).has_value()) << "a sixth event arrived before any ack";
  ASSERT_TRUE(session.Ack(2));  // opens three places
  std::vector<v1::Event> more = session.Take(3);
  ASSERT_EQ(more.size(), 3u);
  EXPECT_EQ(more.front().offset(), 5u);
  EXPECT_FALSE(session.Next(500ms).has_value()) << "more than the window in flight";
  ASSERT_TRUE(session.Ack(7));
  EXPECT_EQ(session.Take(5).size(), 5u);
}

TEST_P(ServerConsumeTest, AWindowAboveTheLimitIsInvalidArgument) {
  ProduceNumbered("t", 0, 1);
  ConsumeSession session(stub(), SubscribeTo("t", "", 101));
  const grpc::Status status = session.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("100"));
}

TEST_P(ServerConsumeTest, AnUnknownTopicIsNotFound) {
  ConsumeSession session(stub(), SubscribeTo("nothing-here"));
  const grpc::Status status = session.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(status);
}

TEST_P(ServerConsumeTest, AckOfAnUndeliveredOffsetIsInvalidArgument) {
  ProduceNumbered("t", 0, 3);
  ConsumeSession session(stub(), SubscribeTo("t", "c"));
  ASSERT_EQ(session.Take(3).size(), 3u);
  session.Ack(7);
  const grpc::Status status = session.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
}

TEST_P(ServerConsumeTest, StreamsBeyondTheLimitAreResourceExhaustedAndOthersGoOn) {
  ProduceNumbered("t", 0, 1);
  std::vector<std::unique_ptr<ConsumeSession>> open;
  for (int i = 0; i < 4; ++i) {
    open.push_back(std::make_unique<ConsumeSession>(stub(), SubscribeTo("t")));
    ASSERT_TRUE(open.back()->Subscribed().has_value());
  }
  ConsumeSession refused(stub(), SubscribeTo("t"));
  const grpc::Status status = refused.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("4"));
  // Unary calls and the open streams are unaffected; a closed stream frees its place.
  EXPECT_TRUE(Produce("t", {"more"}).ok());
  EXPECT_TRUE(open.front()->Take(2).size() == 2u);
  EXPECT_TRUE(open.front()->Close().ok());
  open.erase(open.begin());
  bool admitted = false;
  for (int attempt = 0; attempt < 50 && !admitted; ++attempt) {
    ConsumeSession again(stub(), SubscribeTo("t"));
    admitted = again.Subscribed(5s).has_value();
    if (!admitted) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(admitted);
}

TEST_P(ServerConsumeTest, DeletingTheTopicEndsItsStreamsWithNotFound) {
  ProduceNumbered("t", 0, 2);
  ConsumeSession session(stub(), SubscribeTo("t"));
  ASSERT_EQ(session.Take(2).size(), 2u);
  session.Ack(1);
  v1::DeleteTopicRequest request;
  request.set_topic("t");
  v1::DeleteTopicResponse response;
  ASSERT_TRUE(stub().DeleteTopic(CallWithin().get(), request, &response).ok());
  ASSERT_TRUE(session.WaitEnded(10s));
  EXPECT_EQ(session.Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerConsumeTest, ::testing::ValuesIn(ServerLogicBackends()), BackendName);

}  // namespace
}  // namespace goethe::testing
