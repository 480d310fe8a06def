// A client built against the wire API as released before event keys and headers keeps working with
// today's server, on every backend: it produces (unary and stream), reads and consumes as before,
// and reads the events a new client wrote with keys and headers, payloads and offsets unchanged.
// Its stubs come from the frozen compat/goethe_v1_before_keys.proto alone, so this file must not
// include anything that pulls in the current goethe.v1 headers (support/server_client.h does).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "goethe_v1_before_keys.grpc.pb.h"
#include "support/plugins.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace goethe::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

std::unique_ptr<grpc::ClientContext> CallWithin(std::chrono::milliseconds timeout = 30s) {
  auto call = std::make_unique<grpc::ClientContext>();
  call->set_deadline(std::chrono::system_clock::now() + timeout);
  return call;
}

std::string Describe(const grpc::Status& status) {
  return std::to_string(static_cast<int>(status.error_code())) + ": " + status.error_message();
}

// A Consume stream of the old client whose events a test takes with a timeout.
class OldConsumeSession {
 public:
  OldConsumeSession(v1::Goethe::Stub& stub, const v1::Subscribe& subscribe) {
    call_.set_deadline(std::chrono::system_clock::now() + 120s);
    stream_ = stub.Consume(&call_);
    v1::ConsumeRequest request;
    *request.mutable_subscribe() = subscribe;
    stream_->Write(request);
    reader_ = std::thread([this] {
      v1::ConsumeResponse response;
      while (stream_->Read(&response)) {
        std::lock_guard lock(mutex_);
        if (response.has_subscribed()) subscribed_ = response.subscribed();
        for (const v1::Event& event : response.events().events()) events_.push_back(event);
        changed_.notify_all();
      }
      std::lock_guard lock(mutex_);
      ended_ = true;
      changed_.notify_all();
    });
  }

  ~OldConsumeSession() {
    if (!finished_) {
      call_.TryCancel();
      Finish();
    }
  }

  std::optional<v1::Subscribed> Subscribed(std::chrono::milliseconds timeout = 30s) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [this] { return subscribed_.has_value() || ended_; });
    return subscribed_;
  }

  // Up to `n` events, stopping early when one does not arrive within `timeout`.
  std::vector<v1::Event> Take(std::size_t n, std::chrono::milliseconds timeout = 10s) {
    std::vector<v1::Event> taken;
    std::unique_lock lock(mutex_);
    while (taken.size() < n) {
      if (!changed_.wait_for(lock, timeout, [this] { return !events_.empty() || ended_; }) || events_.empty()) break;
      taken.push_back(std::move(events_.front()));
      events_.pop_front();
    }
    return taken;
  }

  bool Ack(std::uint64_t offset) {
    v1::ConsumeRequest request;
    request.mutable_ack()->set_offset(offset);
    std::lock_guard lock(write_mutex_);
    return stream_->Write(request);
  }

  grpc::Status Close() {
    {
      std::lock_guard lock(write_mutex_);
      stream_->WritesDone();
    }
    return Finish();
  }

  grpc::Status Finish() {
    if (finished_) return status_;
    reader_.join();
    status_ = stream_->Finish();
    finished_ = true;
    return status_;
  }

 private:
  grpc::ClientContext call_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::ConsumeRequest, v1::ConsumeResponse>> stream_;
  std::thread reader_;
  std::mutex write_mutex_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<v1::Subscribed> subscribed_;
  std::deque<v1::Event> events_;
  bool ended_ = false;
  bool finished_ = false;
  grpc::Status status_;
};

class ServerOldClientTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string config = dir_.WriteFile("goethe.yaml", ServerConfigYaml(GetParam(), dir_.Sub("data")));
    server_ = std::make_unique<ServerProcess>(dir_, config);
    stub_ = v1::Goethe::NewStub(grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    stub_.reset();  // an idle connected client holds up the server's graceful shutdown
    if (server_) {
      EXPECT_EQ(server_->Stop(), 0) << server_->output();
    }
  }

  v1::Goethe::Stub& stub() { return *stub_; }

  grpc::Status Produce(const std::string& topic, const std::vector<std::string>& payloads,
                       v1::ProduceResponse* response = nullptr) {
    v1::ProduceRequest request;
    request.set_topic(topic);
    for (const std::string& payload : payloads) request.add_payloads(payload);
    v1::ProduceResponse ignored;
    return stub().Produce(CallWithin().get(), request, response != nullptr ? response : &ignored);
  }

  // Every event of `topic`, page by page (pages of at most `page_size`).
  std::vector<v1::Event> ReadAll(const std::string& topic, std::uint32_t page_size = 1000) {
    std::vector<v1::Event> events;
    std::uint64_t from = 0;
    for (int page = 0; page < 10000; ++page) {
      v1::ReadRequest request;
      request.set_topic(topic);
      request.set_from_offset(from);
      request.set_max_events(page_size);
      v1::ReadResponse response;
      const grpc::Status status = stub().Read(CallWithin().get(), request, &response);
      EXPECT_TRUE(status.ok()) << Describe(status);
      if (!status.ok()) break;
      for (const v1::Event& event : response.events()) events.push_back(event);
      from = response.next_offset();
      if (response.events_size() == 0 || from >= response.head()) break;
    }
    return events;
  }

  // goethe-cli, the current client, against this server.
  CommandResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", server_->address()});
    return RunCommand(dir_, CliBinary(), args, "", 60s);
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::Goethe::Stub> stub_;
};

TEST_P(ServerOldClientTest, UnaryProduceAndReadWorkAsBefore) {
  v1::ProduceResponse response;
  ASSERT_TRUE(Produce("t", {"a", "b", std::string("\x00\xff", 2)}, &response).ok());
  EXPECT_EQ(response.first_offset(), 0u);
  EXPECT_EQ(response.event_count(), 3u);
  EXPECT_EQ(response.timestamps_unix_nanos_size(), 3);
  EXPECT_EQ(response.next_offset(), 3u);
  ASSERT_TRUE(Produce("t", {""}, &response).ok());
  EXPECT_EQ(response.first_offset(), 3u);

  const std::vector<v1::Event> events = ReadAll("t", 2);
  ASSERT_EQ(events.size(), 4u);
  const std::vector<std::string> payloads = {"a", "b", std::string("\x00\xff", 2), ""};
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].offset(), i);
    EXPECT_EQ(events[i].payload(), payloads[i]);
    EXPECT_GT(events[i].timestamp_unix_nanos(), 0);
    // Events without key and headers carry nothing an old client does not know.
    EXPECT_EQ(events[i].GetReflection()->GetUnknownFields(events[i]).field_count(), 0) << i;
  }

  // Optimistic concurrency and idempotency as before.
  v1::ProduceRequest request;
  request.set_topic("t");
  request.add_payloads("x");
  request.set_expected_next_offset(1);
  grpc::Status status = stub().Produce(CallWithin().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("4"));
  request.clear_expected_next_offset();
  request.set_idempotency_key("old-client-1");
  ASSERT_TRUE(stub().Produce(CallWithin().get(), request, &response).ok());
  EXPECT_EQ(response.first_offset(), 4u);
  ASSERT_TRUE(stub().Produce(CallWithin().get(), request, &response).ok());
  EXPECT_TRUE(response.duplicate());
  EXPECT_EQ(response.first_offset(), 4u);
  EXPECT_EQ(ReadAll("t").size(), 5u);

  // An empty produce is refused as before.
  status = Produce("t", {});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
}

TEST_P(ServerOldClientTest, ProduceStreamAcknowledgesEveryBatchInOrder) {
  grpc::ClientContext call;
  call.set_deadline(std::chrono::system_clock::now() + 30s);
  auto stream = stub().ProduceStream(&call);
  constexpr int kBatches = 20;
  for (int b = 0; b < kBatches; ++b) {
    v1::ProduceStreamRequest request;
    request.set_batch_id(500 + b);
    request.mutable_batch()->set_topic(b % 2 == 0 ? "even" : "odd");
    for (int i = 0; i < 3; ++i) request.mutable_batch()->add_payloads(std::to_string(b) + "/" + std::to_string(i));
    ASSERT_TRUE(stream->Write(request));
  }
  // A refused batch is reported in its acknowledgement and the stream goes on.
  v1::ProduceStreamRequest bad;
  bad.set_batch_id(999);
  bad.mutable_batch()->set_topic("no spaces");
  bad.mutable_batch()->add_payloads("x");
  ASSERT_TRUE(stream->Write(bad));
  stream->WritesDone();

  std::vector<v1::ProduceStreamResponse> acks;
  v1::ProduceStreamResponse response;
  while (acks.size() < kBatches + 5 && stream->Read(&response)) acks.push_back(response);
  EXPECT_TRUE(stream->Finish().ok());
  ASSERT_EQ(acks.size(), static_cast<std::size_t>(kBatches + 1));
  for (int b = 0; b < kBatches; ++b) {
    EXPECT_EQ(acks[b].batch_id(), static_cast<std::uint64_t>(500 + b));
    ASSERT_TRUE(acks[b].has_result()) << acks[b].ShortDebugString();
    EXPECT_EQ(acks[b].result().first_offset(), static_cast<std::uint64_t>(b / 2 * 3));
  }
  EXPECT_EQ(acks.back().batch_id(), 999u);
  ASSERT_TRUE(acks.back().has_error());
  EXPECT_EQ(acks.back().error().code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));

  const std::vector<v1::Event> odd = ReadAll("odd");
  ASSERT_EQ(odd.size(), static_cast<std::size_t>(kBatches / 2 * 3));
  EXPECT_EQ(odd.front().payload(), "1/0");
  EXPECT_EQ(odd.back().payload(), std::to_string(kBatches - 1) + "/2");
}

TEST_P(ServerOldClientTest, ConsumeWithAcksCommitsTheCursorAndResumesAfterIt) {
  ASSERT_TRUE(Produce("t", {"e0", "e1", "e2", "e3", "e4"}).ok());
  v1::Subscribe subscribe;
  subscribe.set_topic("t");
  subscribe.set_consumer("old");
  subscribe.mutable_start()->mutable_cursor();
  {
    OldConsumeSession session(stub(), subscribe);
    ASSERT_TRUE(session.Subscribed().has_value()) << Describe(session.Finish());
    EXPECT_EQ(session.Subscribed()->head(), 5u);
    const std::vector<v1::Event> events = session.Take(5);
    ASSERT_EQ(events.size(), 5u);
    for (std::size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(events[i].offset(), i);
      EXPECT_EQ(events[i].payload(), "e" + std::to_string(i));
    }
    ASSERT_TRUE(session.Ack(2));
    EXPECT_TRUE(session.Close().ok());
  }
  v1::GetCursorRequest get;
  get.set_topic("t");
  get.set_consumer("old");
  v1::GetCursorResponse cursor;
  ASSERT_TRUE(stub().GetCursor(CallWithin().get(), get, &cursor).ok());
  EXPECT_EQ(cursor.cursor().offset(), 2u);
  EXPECT_EQ(cursor.cursor().lag(), 2u);

  OldConsumeSession again(stub(), subscribe);
  ASSERT_TRUE(again.Subscribed().has_value()) << Describe(again.Finish());
  EXPECT_EQ(again.Subscribed()->resolved_offset(), 3u);
  const std::vector<v1::Event> rest = again.Take(2);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].offset(), 3u);
  // Live tail as before.
  ASSERT_TRUE(Produce("t", {"e5"}).ok());
  const std::vector<v1::Event> live = again.Take(1);
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].offset(), 5u);
  EXPECT_EQ(live[0].payload(), "e5");
  EXPECT_TRUE(again.Close().ok());
}

TEST_P(ServerOldClientTest, ReadsAndConsumesEventsANewClientWroteWithKeysAndHeaders) {
  ASSERT_TRUE(Produce("t", {"old-0"}).ok());
  // The current client writes events with a key and headers (one header name twice).
  const CommandResult produced = Cli({"produce", "--key", "order-7", "--header", "type=Placed", "--header",
                                      "trace=abc", "--header", "type=Audited", "t", "new-1", "new-2"});
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  ASSERT_TRUE(Produce("t", {"old-3"}).ok());

  const std::vector<std::string> payloads = {"old-0", "new-1", "new-2", "old-3"};
  auto check = [&payloads](const std::vector<v1::Event>& events, const std::string& how) {
    ASSERT_EQ(events.size(), payloads.size()) << how;
    for (std::size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(events[i].offset(), i) << how;
      EXPECT_EQ(events[i].payload(), payloads[i]) << how;
      EXPECT_GT(events[i].timestamp_unix_nanos(), 0) << how;
      // The key and headers reach the old client as fields it does not know, and only there.
      const int unknown = events[i].GetReflection()->GetUnknownFields(events[i]).field_count();
      if (i == 1 || i == 2) {
        EXPECT_GT(unknown, 0) << how << " event " << i;
      } else {
        EXPECT_EQ(unknown, 0) << how << " event " << i;
      }
    }
  };
  check(ReadAll("t"), "read");
  check(ReadAll("t", 1), "read in pages of one");

  v1::Subscribe subscribe;
  subscribe.set_topic("t");
  OldConsumeSession session(stub(), subscribe);
  check(session.Take(4), "consume");
  EXPECT_TRUE(session.Take(1, 200ms).empty());
  EXPECT_TRUE(session.Close().ok());

  v1::DescribeTopicRequest describe;
  describe.set_topic("t");
  v1::DescribeTopicResponse topic;
  ASSERT_TRUE(stub().DescribeTopic(CallWithin().get(), describe, &topic).ok());
  EXPECT_EQ(topic.topic().next_offset(), 4u);
  EXPECT_EQ(topic.topic().event_count(), 4u);
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerOldClientTest, ::testing::ValuesIn(ServerLogicBackends()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace goethe::testing
