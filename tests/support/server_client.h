// What end-to-end server tests share: ServerTest, a fixture that runs goethe-server on one backend
// (the test parameter) in a fresh temp dir and holds a client stub; ConsumeSession
// (consume_session.h) reads a Consume stream with timeouts.
#pragma once

#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "goethe/v1/goethe.grpc.pb.h"
#include "support/consume_session.h"
#include "support/plugins.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace goethe::testing {

inline std::unique_ptr<v1::Goethe::Stub> ConnectTo(const std::string& address) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(-1);
  arguments.SetMaxSendMessageSize(-1);
  return v1::Goethe::NewStub(grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), arguments));
}

// A client context whose call fails instead of hanging after `timeout`.
inline std::unique_ptr<grpc::ClientContext> CallWithin(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  auto call = std::make_unique<grpc::ClientContext>();
  call->set_deadline(std::chrono::system_clock::now() + timeout);
  return call;
}

// "INVALID_ARGUMENT: message", for assertion output.
inline std::string Describe(const grpc::Status& status) {
  return std::to_string(static_cast<int>(status.error_code())) + ": " + status.error_message();
}

inline v1::Subscribe SubscribeTo(const std::string& topic, const std::string& consumer = "",
                                 std::uint32_t window = 0) {
  v1::Subscribe subscribe;
  subscribe.set_topic(topic);
  subscribe.set_consumer(consumer);
  subscribe.set_window(window);
  return subscribe;
}

// Runs goethe-server on the backend named by the test parameter.
class ServerTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::string backend() const { return GetParam(); }
  std::string DataDir() const { return dir_.Sub("data"); }

  // Writes the config (extra lines go into the server / engine sections) and starts the server.
  void StartServer(const std::string& extra_server = "", const std::string& extra_engine = "", bool sync = true) {
    config_path_ = dir_.WriteFile("goethe.yaml", ServerConfigYaml(backend(), DataDir(), sync, extra_server, extra_engine));
    Restart();
  }

  // Stops the server if it runs and starts it again on the same config and data.
  void Restart() {
    // The client goes first: a connected idle client holds a server's graceful shutdown for up
    // to its next poll (about 5 s).
    stub_.reset();
    if (server_) {
      EXPECT_EQ(server_->Stop(), 0) << server_->output();
    }
    server_.reset();
    server_ = std::make_unique<ServerProcess>(dir_, config_path_);
    stub_ = ConnectTo(server_->address());
  }

  // Every test ends with a clean shutdown: SIGTERM, exit code 0.
  void TearDown() override {
    stub_.reset();
    if (server_) {
      EXPECT_EQ(server_->Stop(), 0) << server_->output();
    }
  }

  v1::Goethe::Stub& stub() { return *stub_; }
  ServerProcess& server() { return *server_; }

  grpc::Status Produce(const std::string& topic, const std::vector<std::string>& payloads,
                       v1::ProduceResponse* response = nullptr) {
    v1::ProduceRequest request;
    request.set_topic(topic);
    for (const std::string& payload : payloads) request.add_payloads(payload);
    return Produce(request, response);
  }

  grpc::Status Produce(const v1::ProduceRequest& request, v1::ProduceResponse* response = nullptr) {
    v1::ProduceResponse ignored;
    return stub().Produce(CallWithin().get(), request, response != nullptr ? response : &ignored);
  }

  // Every event of `topic` from `from`, page by page.
  std::vector<v1::Event> ReadAll(const std::string& topic, std::uint64_t from = 0) {
    std::vector<v1::Event> events;
    for (int page = 0; page < 100000; ++page) {
      v1::ReadRequest request;
      request.set_topic(topic);
      request.set_from_offset(from);
      request.set_max_events(1000);
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

  std::optional<v1::Cursor> GetCursor(const std::string& topic, const std::string& consumer) {
    v1::GetCursorRequest request;
    request.set_topic(topic);
    request.set_consumer(consumer);
    v1::GetCursorResponse response;
    const grpc::Status status = stub().GetCursor(CallWithin().get(), request, &response);
    if (!status.ok()) return std::nullopt;
    return response.cursor();
  }

  TempDir dir_;
  std::string config_path_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::Goethe::Stub> stub_;
};

inline std::string BackendName(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

}  // namespace goethe::testing
