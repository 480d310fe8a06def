// Produce and ProduceStream through the real server, on every backend: order, acknowledgements,
// optimistic concurrency, idempotency and every error a produce can get.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/server_client.h"

namespace goethe::testing {
namespace {

using ::testing::HasSubstr;

class ServerProduceTest : public ServerTest {
 protected:
  void SetUp() override {
    StartServer("max_events_per_produce: 100\n", "max_event_bytes: 1KiB\n");
  }
};

TEST_P(ServerProduceTest, UnaryProducesKeepOrderWithDenseOffsets) {
  std::vector<std::string> sent;
  for (int batch = 0; batch < 20; ++batch) {
    std::vector<std::string> payloads;
    for (int i = 0; i < 5; ++i) payloads.push_back("e" + std::to_string(batch * 5 + i));
    v1::ProduceResponse response;
    const grpc::Status status = Produce("orders", payloads, &response);
    ASSERT_TRUE(status.ok()) << Describe(status);
    EXPECT_EQ(response.first_offset(), static_cast<std::uint64_t>(batch * 5));
    EXPECT_EQ(response.event_count(), 5u);
    ASSERT_EQ(response.timestamps_unix_nanos_size(), 5);
    EXPECT_EQ(response.next_offset(), static_cast<std::uint64_t>(batch * 5 + 5));
    sent.insert(sent.end(), payloads.begin(), payloads.end());
  }
  const std::vector<v1::Event> events = ReadAll("orders");
  ASSERT_EQ(events.size(), sent.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].offset(), i);
    EXPECT_EQ(events[i].payload(), sent[i]);
    if (i > 0) {
      EXPECT_GE(events[i].timestamp_unix_nanos(), events[i - 1].timestamp_unix_nanos());
    }
  }
}

TEST_P(ServerProduceTest, StreamAcknowledgesEveryBatchInOrderWithManyInFlight) {
  grpc::ClientContext call;
  call.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto stream = stub().ProduceStream(&call);
  constexpr int kBatches = 300;  // more than the server keeps in flight per stream
  constexpr int kPerBatch = 10;
  std::thread writer([&] {
    for (int b = 0; b < kBatches; ++b) {
      v1::ProduceStreamRequest request;
      request.set_batch_id(1000 + b);
      request.mutable_batch()->set_topic(b % 2 == 0 ? "even" : "odd");
      for (int i = 0; i < kPerBatch; ++i) request.mutable_batch()->add_payloads(std::to_string(b) + "/" + std::to_string(i));
      if (!stream->Write(request)) break;
    }
    stream->WritesDone();
  });
  std::uint64_t next_even = 0, next_odd = 0;
  int acks = 0;
  v1::ProduceStreamResponse response;
  bool in_order = true;
  while (in_order && stream->Read(&response)) {
    // EXPECT and stop reading, not ASSERT: the writer thread must be joined first.
    std::uint64_t& next = acks % 2 == 0 ? next_even : next_odd;
    EXPECT_EQ(response.batch_id(), static_cast<std::uint64_t>(1000 + acks)) << "acknowledgements out of order";
    EXPECT_TRUE(response.has_result()) << response.error().message();
    EXPECT_EQ(response.result().first_offset(), next) << "batch " << response.batch_id();
    EXPECT_EQ(response.result().event_count(), static_cast<std::uint32_t>(kPerBatch));
    in_order = response.batch_id() == static_cast<std::uint64_t>(1000 + acks) && response.has_result() &&
               response.result().first_offset() == next;
    next += kPerBatch;
    ++acks;
  }
  if (!in_order) call.TryCancel();
  writer.join();
  const grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(acks, kBatches);
  const std::vector<v1::Event> even = ReadAll("even");
  ASSERT_EQ(even.size(), static_cast<std::size_t>(kBatches / 2 * kPerBatch));
  EXPECT_EQ(even[0].payload(), "0/0");
  EXPECT_EQ(even[kPerBatch].payload(), "2/0");
  EXPECT_EQ(even.back().payload(), std::to_string(kBatches - 2) + "/" + std::to_string(kPerBatch - 1));
}

TEST_P(ServerProduceTest, AFailedBatchIsReportedInItsAckAndTheStreamGoesOn) {
  grpc::ClientContext call;
  call.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto stream = stub().ProduceStream(&call);
  v1::ProduceStreamRequest good;
  good.set_batch_id(1);
  good.mutable_batch()->set_topic("t");
  good.mutable_batch()->add_payloads("a");
  v1::ProduceStreamRequest bad = good;
  bad.set_batch_id(2);
  bad.mutable_batch()->set_topic("no spaces allowed");
  v1::ProduceStreamRequest again = good;
  again.set_batch_id(3);
  ASSERT_TRUE(stream->Write(good));
  ASSERT_TRUE(stream->Write(bad));
  ASSERT_TRUE(stream->Write(again));
  stream->WritesDone();
  v1::ProduceStreamResponse response;
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.batch_id(), 1u);
  EXPECT_EQ(response.result().first_offset(), 0u);
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.batch_id(), 2u);
  ASSERT_TRUE(response.has_error());
  EXPECT_EQ(response.error().code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.batch_id(), 3u);
  EXPECT_EQ(response.result().first_offset(), 1u);
  EXPECT_FALSE(stream->Read(&response));
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_P(ServerProduceTest, ExpectedOffsetConflictIsAbortedAndNamesTheActualOffset) {
  ASSERT_TRUE(Produce("t", {"a", "b", "c"}).ok());
  v1::ProduceRequest request;
  request.set_topic("t");
  request.add_payloads("d");
  request.set_expected_next_offset(1);
  grpc::ClientContext call;
  v1::ProduceResponse response;
  const grpc::Status status = stub().Produce(&call, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("3"));
  const auto& trailers = call.GetServerTrailingMetadata();
  auto next = trailers.find("goethe-next-offset");
  ASSERT_NE(next, trailers.end());
  EXPECT_EQ(std::string(next->second.data(), next->second.size()), "3");

  request.set_expected_next_offset(3);
  ASSERT_TRUE(Produce(request, &response).ok());
  EXPECT_EQ(response.first_offset(), 3u);
  EXPECT_EQ(ReadAll("t").size(), 4u);
}

TEST_P(ServerProduceTest, IdempotentRetryReturnsTheFirstOffsetsAndWritesNothing) {
  v1::ProduceRequest request;
  request.set_topic("t");
  request.add_payloads("x");
  request.add_payloads("y");
  request.set_idempotency_key("order-42");
  v1::ProduceResponse first, retry;
  ASSERT_TRUE(Produce("t", {"before"}).ok());
  ASSERT_TRUE(Produce(request, &first).ok());
  EXPECT_FALSE(first.duplicate());
  ASSERT_TRUE(Produce(request, &retry).ok());
  EXPECT_TRUE(retry.duplicate());
  EXPECT_EQ(retry.first_offset(), first.first_offset());
  EXPECT_EQ(retry.event_count(), 2u);
  ASSERT_EQ(retry.timestamps_unix_nanos_size(), 2);
  EXPECT_EQ(retry.timestamps_unix_nanos(0), first.timestamps_unix_nanos(0));
  EXPECT_EQ(ReadAll("t").size(), 3u);
}

TEST_P(ServerProduceTest, BadTopicNameIsInvalidArgument) {
  for (const std::string& topic : {std::string(), std::string("a/b"), std::string(256, 'x')}) {
    const grpc::Status status = Produce(topic, {"x"});
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << topic << ": " << Describe(status);
  }
}

TEST_P(ServerProduceTest, EmptyBatchIsInvalidArgument) {
  const grpc::Status status = Produce("t", {});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("empty"));
}

TEST_P(ServerProduceTest, OversizedEventIsInvalidArgumentNamingSizeAndLimit) {
  ASSERT_TRUE(Produce("t", {std::string(1024, 'x')}).ok());
  const grpc::Status status = Produce("t", {"small", std::string(1025, 'x')});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("1025"));
  EXPECT_THAT(status.error_message(), HasSubstr("1024"));
  EXPECT_EQ(ReadAll("t").size(), 1u);
}

TEST_P(ServerProduceTest, TooManyEventsInOneProduceIsResourceExhausted) {
  std::vector<std::string> payloads(101, "x");
  const grpc::Status status = Produce("t", payloads);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("100"));
  payloads.pop_back();
  EXPECT_TRUE(Produce("t", payloads).ok());
}

TEST_P(ServerProduceTest, RequestOverTheMessageLimitIsRefusedByGrpc) {
  // 16 x 1 KiB + 1 MiB is what the server accepts in one message with max_event_bytes: 1KiB.
  const grpc::Status status = Produce("t", {std::string(2 << 20, 'x')});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(status);
  EXPECT_TRUE(Produce("t", {"the server still serves"}).ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerProduceTest, ::testing::ValuesIn(ServerLogicBackends()), BackendName);

class ServerNoAutoCreateTest : public ServerTest {};

TEST_P(ServerNoAutoCreateTest, ProduceToAnUnknownTopicIsNotFound) {
  StartServer("auto_create_topics: false\n");
  const grpc::Status status = Produce("unknown", {"x"});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("unknown"));

  v1::CreateTopicRequest create;
  create.set_topic("unknown");
  v1::CreateTopicResponse created;
  ASSERT_TRUE(stub().CreateTopic(CallWithin().get(), create, &created).ok());
  EXPECT_TRUE(Produce("unknown", {"x"}).ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerNoAutoCreateTest, ::testing::Values("leveldb"), BackendName);

}  // namespace
}  // namespace goethe::testing
