// What end-to-end server tests share: ServerTest, a fixture that runs goethe-server on one backend
// (the test parameter) in a fresh temp dir and holds a client stub; and ConsumeSession, a Consume
// stream whose events a test takes one by one with a timeout, so that no test can hang on a read.
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

class ConsumeSession {
 public:
  ConsumeSession(v1::Goethe::Stub& stub, const v1::Subscribe& subscribe,
                 std::chrono::milliseconds lifetime = std::chrono::seconds(120)) {
    call_.set_deadline(std::chrono::system_clock::now() + lifetime);
    stream_ = stub.Consume(&call_);
    v1::ConsumeRequest request;
    *request.mutable_subscribe() = subscribe;
    stream_->Write(request);
    reader_ = std::thread([this] {
      v1::ConsumeResponse response;
      while (stream_->Read(&response)) {
        std::lock_guard lock(mutex_);
        if (response.has_subscribed()) {
          subscribed_ = response.subscribed();
        } else {
          for (const v1::Event& event : response.events().events()) events_.push_back(event);
          ++batches_;
        }
        changed_.notify_all();
      }
      std::lock_guard lock(mutex_);
      ended_ = true;
      changed_.notify_all();
    });
  }

  ~ConsumeSession() {
    if (!finished_) {
      call_.TryCancel();
      Finish();
    }
  }

  // The subscribe's answer, or nullopt when the stream ended first (see Finish()).
  std::optional<v1::Subscribed> Subscribed(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [this] { return subscribed_.has_value() || ended_; });
    return subscribed_;
  }

  // The next event, or nullopt when none arrives within `timeout` or the stream ended.
  std::optional<v1::Event> Next(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [this] { return !events_.empty() || ended_; });
    if (events_.empty()) return std::nullopt;
    v1::Event event = std::move(events_.front());
    events_.pop_front();
    return event;
  }

  // Up to `n` events, stopping early when one does not arrive within `timeout`.
  std::vector<v1::Event> Take(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::vector<v1::Event> events;
    while (events.size() < n) {
      std::optional<v1::Event> event = Next(timeout);
      if (!event) break;
      events.push_back(std::move(*event));
    }
    return events;
  }

  bool Ack(std::uint64_t offset) {
    v1::ConsumeRequest request;
    request.mutable_ack()->set_offset(offset);
    std::lock_guard lock(write_mutex_);
    return stream_->Write(request);
  }

  bool ended() {
    std::lock_guard lock(mutex_);
    return ended_;
  }

  // Waits up to `timeout` for the server to end the stream; true when it did.
  bool WaitEnded(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [this] { return ended_; });
  }

  // Half-closes (the server commits the last ack and finishes) and returns the final status.
  grpc::Status Close() {
    {
      std::lock_guard lock(write_mutex_);
      stream_->WritesDone();
    }
    return Finish();
  }

  // Waits for the stream to end and returns its status.
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
  int batches_ = 0;
  bool ended_ = false;
  bool finished_ = false;
  grpc::Status status_;
};

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
