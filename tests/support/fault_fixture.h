// FaultTest: what the server fault tests share on top of ServerTest — a config with backend
// options, starting the server again after a kill or through a launcher, producing self-checking
// events (support/verified_payload.h) into a ledger, and checking a whole topic against it.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "support/server_client.h"
#include "support/verified_payload.h"

namespace goethe::testing {

class FaultTest : public ServerTest {
 protected:
  // The backend: the test parameter, or its part before '_' when a test adds a variant
  // ("leveldb_EmptyCurrent").
  std::string Backend() const { return GetParam().substr(0, GetParam().find('_')); }

  // Writes the config; `storage_options` lines ("key: value\n") go under storage.options.
  void WriteConfig(const std::string& storage_options = "", const std::string& extra_server = "",
                   const std::string& extra_engine = "") {
    std::string yaml = ServerConfigYaml(Backend(), DataDir(), true, extra_server, extra_engine);
    if (!storage_options.empty()) {
      std::string options = "  options:\n";
      for (std::size_t at = 0; at < storage_options.size();) {
        const std::size_t end = storage_options.find('\n', at);
        options += "    " + storage_options.substr(at, end - at) + "\n";
        at = end == std::string::npos ? storage_options.size() : end + 1;
      }
      yaml.insert(yaml.find("engine:\n"), options);
    }
    config_path_ = dir_.WriteFile("goethe.yaml", yaml);
  }

  // Starts the server on the config written last, after a Stop(), a Kill() or none; `launcher`
  // runs it (see ServerProcess).
  void StartAgain(const std::vector<std::string>& launcher = {}) {
    stub_.reset();
    server_.reset();
    server_ = std::make_unique<ServerProcess>(dir_, config_path_, std::chrono::seconds(30), launcher);
    stub_ = ConnectTo(server_->address());
  }

  // Stops the server cleanly (SIGTERM), expecting exit code 0; the client goes first.
  void StopServer() {
    stub_.reset();
    if (server_) {
      EXPECT_EQ(server_->Stop(), 0) << server_->output();
    }
    server_.reset();
  }

  // Produces `count` events of `producer` from `first_sequence` in one request; on success they
  // go into the ledger. `filler`: payload filler bytes, 0 for the default mix.
  grpc::Status ProduceIds(const std::string& topic, std::uint32_t producer, std::uint64_t first_sequence,
                          std::uint64_t count, std::size_t filler = 0, v1::ProduceResponse* response = nullptr) {
    v1::ProduceRequest request;
    request.set_topic(topic);
    std::vector<PayloadId> ids;
    for (std::uint64_t i = 0; i < count; ++i) {
      ids.push_back({producer, first_sequence + i});
      request.add_payloads(filler == 0 ? EncodePayload(ids.back()) : EncodePayload(ids.back(), filler));
    }
    v1::ProduceResponse ignored;
    v1::ProduceResponse* out = response != nullptr ? response : &ignored;
    const grpc::Status status = Produce(request, out);
    if (status.ok()) Ledger(topic).Record(out->first_offset(), ids);
    return status;
  }

  // Reads the whole topic and checks it: offsets dense from 0, every payload whole, each producer
  // in order and once, every acknowledged event at its offset. Returns the number of events.
  std::uint64_t VerifyTopic(const std::string& topic) {
    const std::vector<v1::Event> events = ReadAll(topic);
    const AckLedger& ledger = Ledger(topic);
    LogVerifier verifier;
    for (const v1::Event& event : events) {
      const std::string problem = verifier.Add(event.offset(), event.payload());
      EXPECT_EQ(problem, "");
      if (!problem.empty()) return events.size();
    }
    EXPECT_TRUE(events.empty() || events.front().offset() == 0) << "the topic starts at " << events.front().offset();
    for (std::uint64_t offset = 0; offset < ledger.end(); ++offset) {
      if (!ledger.At(offset)) continue;
      if (offset >= events.size()) {
        ADD_FAILURE() << "acknowledged offset " << offset << " is missing (" << events.size() << " events stored)";
        break;
      }
      const std::string problem = CheckAgainstLedger(ledger, offset, events[offset].payload());
      EXPECT_EQ(problem, "");
      if (!problem.empty()) break;
    }
    return events.size();
  }

  // The topic's next offset as the server reports it.
  std::uint64_t NextOffset(const std::string& topic) {
    v1::DescribeTopicRequest request;
    request.set_topic(topic);
    v1::DescribeTopicResponse response;
    const grpc::Status status = stub().DescribeTopic(CallWithin().get(), request, &response);
    EXPECT_TRUE(status.ok()) << Describe(status);
    return response.topic().next_offset();
  }

  // What producers were told, per topic. Look a topic up before threads share it: the first
  // look-up inserts.
  AckLedger& Ledger(const std::string& topic) { return ledgers_[topic]; }

 private:
  std::map<std::string, AckLedger> ledgers_;
};

}  // namespace goethe::testing
