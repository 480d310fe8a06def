// The server process: restart keeps everything, SIGTERM under load loses no acknowledged event,
// start-up failures are one clear line and a non-zero exit, health and reflection answer.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <grpcpp/generic/generic_stub.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <map>

#include "support/server_client.h"

namespace goethe::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class ServerLifecycleTest : public ServerTest {};

TEST_P(ServerLifecycleTest, ARestartKeepsEventsAndCursors) {
  StartServer();
  ASSERT_TRUE(Produce("t", {"a", "b", "c"}).ok());
  v1::Subscribe subscribe = SubscribeTo("t", "reader");
  subscribe.mutable_start()->mutable_cursor();
  {
    ConsumeSession session(stub(), subscribe);
    ASSERT_EQ(session.Take(2).size(), 2u);
    session.Ack(1);
    ASSERT_TRUE(session.Close().ok());
  }
  Restart();
  const std::vector<v1::Event> events = ReadAll("t");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].payload(), "c");
  ASSERT_TRUE(GetCursor("t", "reader").has_value());
  EXPECT_EQ(GetCursor("t", "reader")->offset(), 1u);
  ConsumeSession resumed(stub(), subscribe);
  std::optional<v1::Event> next = resumed.Next();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->offset(), 2u);
  v1::ProduceResponse response;
  ASSERT_TRUE(Produce("t", {"d"}, &response).ok());
  EXPECT_EQ(response.first_offset(), 3u) << "offsets go on after a restart";
}

// Producers that record every acknowledged event, until the server goes away.
class AcknowledgedLog {
 public:
  void Record(std::uint64_t first_offset, const std::vector<std::string>& payloads) {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < payloads.size(); ++i) acked_[first_offset + i] = payloads[i];
  }
  std::map<std::uint64_t, std::string> Snapshot() {
    std::lock_guard lock(mutex_);
    return acked_;
  }

 private:
  std::mutex mutex_;
  std::map<std::uint64_t, std::string> acked_;
};

void ProduceUnaryUntilRefused(v1::Goethe::Stub& stub, int producer, AcknowledgedLog* log) {
  for (int n = 0; n < 200000; ++n) {
    v1::ProduceRequest request;
    request.set_topic("load");
    std::vector<std::string> payloads;
    for (int i = 0; i < 5; ++i) payloads.push_back("u" + std::to_string(producer) + "-" + std::to_string(n) + "-" + std::to_string(i));
    for (const std::string& p : payloads) request.add_payloads(p);
    v1::ProduceResponse response;
    if (!stub.Produce(CallWithin(10s).get(), request, &response).ok()) return;
    log->Record(response.first_offset(), payloads);
  }
}

std::vector<std::string> StreamBatch(int producer, std::uint64_t batch) {
  std::vector<std::string> payloads;
  for (int i = 0; i < 10; ++i)
    payloads.push_back("s" + std::to_string(producer) + "-" + std::to_string(batch) + "-" + std::to_string(i));
  return payloads;
}

void ProduceStreamUntilRefused(v1::Goethe::Stub& stub, int producer, AcknowledgedLog* log) {
  grpc::ClientContext call;
  call.set_deadline(std::chrono::system_clock::now() + 60s);
  auto stream = stub.ProduceStream(&call);
  std::thread writer([&] {
    for (std::uint64_t b = 0; b < 100000; ++b) {
      v1::ProduceStreamRequest request;
      request.set_batch_id(b);
      request.mutable_batch()->set_topic("load");
      for (const std::string& p : StreamBatch(producer, b)) request.mutable_batch()->add_payloads(p);
      if (!stream->Write(request)) break;
    }
  });
  v1::ProduceStreamResponse response;
  while (stream->Read(&response)) {
    if (response.has_result()) log->Record(response.result().first_offset(), StreamBatch(producer, response.batch_id()));
  }
  call.TryCancel();  // unblocks the writer if it waits for flow control
  writer.join();
  stream->Finish();
}

TEST_P(ServerLifecycleTest, SigtermDuringAProduceLoadLosesNoAcknowledgedEvent) {
  StartServer();
  ASSERT_TRUE(Produce("load", {"first"}).ok());
  ConsumeSession tail(stub(), SubscribeTo("load"));
  ASSERT_TRUE(tail.Subscribed().has_value());

  AcknowledgedLog acked;
  std::vector<std::thread> producers;
  for (int p = 0; p < 2; ++p) producers.emplace_back([&, p] { ProduceUnaryUntilRefused(stub(), p, &acked); });
  for (int p = 0; p < 2; ++p) producers.emplace_back([&, p] { ProduceStreamUntilRefused(stub(), p, &acked); });
  for (int i = 0; i < 300 && acked.Snapshot().size() < 10000; ++i) std::this_thread::sleep_for(10ms);

  ASSERT_EQ(server().Stop(), 0) << server().output();
  for (std::thread& t : producers) t.join();
  const grpc::Status closed = tail.Finish();
  EXPECT_EQ(closed.error_code(), grpc::StatusCode::UNAVAILABLE) << Describe(closed);
  EXPECT_THAT(closed.error_message(), HasSubstr("shutting down"));

  const std::map<std::uint64_t, std::string> expected = acked.Snapshot();
  ASSERT_GT(expected.size(), 0u);
  Restart();
  const std::vector<v1::Event> events = ReadAll("load");
  for (std::size_t i = 0; i < events.size(); ++i) ASSERT_EQ(events[i].offset(), i) << "offsets are dense";
  std::size_t checked = 0;
  for (const auto& [offset, payload] : expected) {
    ASSERT_LT(offset, events.size()) << "acknowledged event " << offset << " is missing";
    ASSERT_EQ(events[offset].payload(), payload) << "at offset " << offset;
    ++checked;
  }
  EXPECT_EQ(checked, expected.size());
  RecordProperty("acknowledged_events", static_cast<int>(expected.size()));
  RecordProperty("stored_events", static_cast<int>(events.size()));
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerLifecycleTest, ::testing::ValuesIn(ServerLogicBackends()), BackendName);

// Start-up failures: what goethe-server prints and how it exits.
class ServerStartupTest : public ::testing::Test {
 protected:
  CommandResult Start(const std::vector<std::string>& args) {
    return RunCommand(dir_, ServerBinary(), args, "", 30s);
  }
  static int Lines(const std::string& text) {
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  }
  TempDir dir_;
};

TEST_F(ServerStartupTest, ABadConfigIsOneLineAndANonZeroExit) {
  const std::string config = dir_.WriteFile("bad.yaml", "storage:\n  backend: leveldb\n  bogus_key: 1\n");
  const CommandResult result = Start({"--config", config});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_EQ(Lines(result.err), 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("bad.yaml:3"));
  EXPECT_THAT(result.err, HasSubstr("bogus_key"));
}

TEST_F(ServerStartupTest, AMissingConfigFileIsOneLine) {
  const CommandResult result = Start({"--config", dir_.Sub("nope.yaml")});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_EQ(Lines(result.err), 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("nope.yaml"));
}

TEST_F(ServerStartupTest, APortInUseIsOneLineAndANonZeroExit) {
  // Hold a port, then ask the server for it.
  const int holder = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(holder, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ASSERT_EQ(bind(holder, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(holder, 1), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(getsockname(holder, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string listen = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  const std::string config = dir_.WriteFile("goethe.yaml", ServerConfigYaml("leveldb", dir_.Sub("data")));
  const CommandResult result = Start({"--config", config, "--listen", listen});
  close(holder);
  EXPECT_NE(result.exit_code, 0);
  EXPECT_EQ(Lines(result.err), 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr(listen));
}

TEST_F(ServerStartupTest, APortAnotherGoetheServerServesIsRefusedAndTheFirstKeepsServing) {
  // gRPC would share a port between two servers (SO_REUSEPORT) unless told not to.
  const std::string first_config =
      dir_.WriteFile("first.yaml", ServerConfigYaml("leveldb", dir_.Sub("first"), true, "http:\n  listen: 127.0.0.1:0\n"));
  ServerProcess first(dir_, first_config);
  const std::string second_config = dir_.WriteFile("second.yaml", ServerConfigYaml("leveldb", dir_.Sub("second")));
  const CommandResult grpc_taken = Start({"--config", second_config, "--listen", first.address()});
  EXPECT_NE(grpc_taken.exit_code, 0);
  EXPECT_EQ(Lines(grpc_taken.err), 1) << grpc_taken.err;
  EXPECT_THAT(grpc_taken.err, HasSubstr(first.address()));

  const std::string http_config = dir_.WriteFile(
      "second-http.yaml",
      ServerConfigYaml("leveldb", dir_.Sub("second"), true, "http:\n  listen: " + first.http_address() + "\n"));
  const CommandResult http_taken = Start({"--config", http_config, "--listen", "127.0.0.1:0"});
  EXPECT_NE(http_taken.exit_code, 0);
  EXPECT_EQ(Lines(http_taken.err), 1) << http_taken.err;
  EXPECT_THAT(http_taken.err, HasSubstr(first.http_address()));

  // The first server still serves what is written through its address.
  for (int i = 0; i < 10; ++i) {
    v1::ProduceRequest request;
    request.set_topic("t");
    request.add_payloads("e" + std::to_string(i));
    v1::ProduceResponse response;
    const grpc::Status status = ConnectTo(first.address())->Produce(CallWithin().get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.first_offset(), static_cast<std::uint64_t>(i));
  }
  EXPECT_EQ(first.Stop(), 0);
}

TEST_F(ServerStartupTest, AnUnopenableStoreIsOneLineAndANonZeroExit) {
  const std::string file = dir_.WriteFile("not-a-directory", "x");
  for (const std::string& backend : AllBackends()) {
    const std::string config = dir_.WriteFile("goethe.yaml", ServerConfigYaml(backend, file + "/data"));
    const CommandResult result = Start({"--config", config, "--listen", "127.0.0.1:0"});
    EXPECT_NE(result.exit_code, 0) << backend;
    EXPECT_EQ(Lines(result.err), 1) << backend << ": " << result.err;
    EXPECT_THAT(result.err, HasSubstr("not-a-directory")) << backend;
  }
}

TEST_F(ServerStartupTest, AnUnknownBackendNamesTheKnownOnes) {
  const std::string config = dir_.WriteFile("goethe.yaml", ServerConfigYaml("cassandra", dir_.Sub("data")));
  const CommandResult result = Start({"--config", config});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_EQ(Lines(result.err), 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("leveldb"));
}

// Health checking and reflection, spoken through a generic stub with hand-encoded messages so
// that the test needs no extra generated code.
class ServerToolingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = dir_.WriteFile("goethe.yaml", ServerConfigYaml("leveldb", dir_.Sub("data")));
    server_ = std::make_unique<ServerProcess>(dir_, config_);
    channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  }

  static grpc::ByteBuffer Bytes(const std::string& bytes) {
    grpc::Slice slice(bytes);
    return grpc::ByteBuffer(&slice, 1);
  }
  static std::string Text(const grpc::ByteBuffer& buffer) {
    std::vector<grpc::Slice> slices;
    (void)buffer.Dump(&slices);
    std::string text;
    for (const grpc::Slice& s : slices) text.append(reinterpret_cast<const char*>(s.begin()), s.size());
    return text;
  }

  TempDir dir_;
  std::string config_;
  std::unique_ptr<ServerProcess> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ServerToolingTest, HealthCheckSaysServing) {
  grpc::GenericStub generic(channel_);
  for (const std::string& service : {std::string(), std::string("goethe.v1.Goethe")}) {
    // HealthCheckRequest{service}: field 1, length-delimited.
    std::string request;
    if (!service.empty()) request = std::string("\x0a", 1) + static_cast<char>(service.size()) + service;
    const grpc::ByteBuffer request_bytes = Bytes(request);
    grpc::ByteBuffer response;
    grpc::ClientContext call;
    call.set_deadline(std::chrono::system_clock::now() + 10s);
    std::promise<grpc::Status> done;
    generic.UnaryCall(&call, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request_bytes, &response,
                      [&done](grpc::Status status) { done.set_value(status); });
    const grpc::Status status = done.get_future().get();
    ASSERT_TRUE(status.ok()) << service << ": " << Describe(status);
    EXPECT_EQ(Text(response), std::string("\x08\x01", 2)) << "status SERVING for '" << service << "'";
  }
}

TEST_F(ServerToolingTest, ReflectionListsTheGoetheService) {
  grpc::GenericStub generic(channel_);
  grpc::CompletionQueue queue;
  grpc::ClientContext call;
  call.set_deadline(std::chrono::system_clock::now() + 10s);
  auto next = [&queue](void* expected) {
    void* tag = nullptr;
    bool ok = false;
    EXPECT_TRUE(queue.Next(&tag, &ok));
    EXPECT_EQ(tag, expected);
    return ok;
  };
  int tags[5];
  auto stream = generic.PrepareCall(&call, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &queue);
  stream->StartCall(&tags[0]);
  ASSERT_TRUE(next(&tags[0]));
  // ServerReflectionRequest{list_services: ""}: field 7, length-delimited, empty.
  stream->Write(Bytes(std::string("\x3a\x00", 2)), &tags[1]);
  ASSERT_TRUE(next(&tags[1]));
  grpc::ByteBuffer response;
  stream->Read(&response, &tags[2]);
  ASSERT_TRUE(next(&tags[2]));
  EXPECT_THAT(Text(response), HasSubstr("goethe.v1.Goethe"));
  EXPECT_THAT(Text(response), HasSubstr("grpc.health.v1.Health"));
  stream->WritesDone(&tags[3]);
  next(&tags[3]);
  grpc::Status status;
  stream->Finish(&status, &tags[4]);
  next(&tags[4]);
  EXPECT_TRUE(status.ok()) << Describe(status);
  queue.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (queue.Next(&tag, &ok)) {
  }
}

}  // namespace
}  // namespace goethe::testing
