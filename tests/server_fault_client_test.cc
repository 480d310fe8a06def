// Slow and abusive clients, on every backend: a consumer that never reads does not make the server
// buffer what it is owed; thousands of streams opened and dropped leave no memory, threads or file
// descriptors behind; an oversized request is refused with a clear status. Memory is the server's
// RssAnon (support/proc_stats.h): heap, not the mapped store.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "support/fault_fixture.h"
#include "support/proc_stats.h"

namespace goethe::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr std::uint64_t kMiB = 1024 * 1024;

class ServerFaultClientTest : public FaultTest {
 protected:
  void SetUp() override {
    // Small memtables and caches, so that what the store legitimately holds in memory stays well
    // below the volumes the tests push through.
    WriteConfig(Backend() == "lmdb" ? "" : "write_buffer_size: 1MiB\nblock_cache_size: 1MiB\n");
    StartAgain();
  }

  ProcStats Stats() { return ReadProcStats(server().pid()); }

  // The server's figures once closing connections and idle threads are gone (up to 10 s).
  ProcStats SettledStats(const ProcStats& baseline) {
    ProcStats now = Stats();
    for (int i = 0; i < 100 && (now.open_fds > baseline.open_fds + 2 || now.threads > baseline.threads + 2); ++i) {
      std::this_thread::sleep_for(100ms);
      now = Stats();
    }
    return now;
  }

  // `megabytes` MiB of 64 KiB events, 16 to a request.
  void ProduceMegabytes(const std::string& topic, int megabytes) {
    for (int m = 0; m < megabytes; ++m) {
      const grpc::Status status = ProduceIds(topic, 1, next_sequence_, 16, 64 * 1024 - 32);
      next_sequence_ += 16;
      ASSERT_TRUE(status.ok()) << Describe(status);
    }
  }

  std::uint64_t next_sequence_ = 0;
};

// Under AddressSanitizer the server's memory says nothing about its own use: freed blocks wait in
// ASan's quarantine and every block is padded. There the scenarios still run (ASan checks them)
// and file descriptors and threads are still checked; the memory bounds are the normal build's.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kMemoryIsMeasurable = false;
#else
constexpr bool kMemoryIsMeasurable = true;
#endif

TEST_P(ServerFaultClientTest, AConsumerThatNeverReadsDoesNotMakeTheServerBuffer) {
  ProduceMegabytes("flood", 4);  // warms the store and the allocator
  grpc::ClientContext stalled_call;
  auto stalled = stub().Consume(&stalled_call);
  v1::ConsumeRequest subscribe;
  *subscribe.mutable_subscribe() = SubscribeTo("flood", "", 10000);  // a window far above what is sent
  ASSERT_TRUE(stalled->Write(subscribe));
  std::this_thread::sleep_for(500ms);
  const ProcStats before = Stats();

  ProduceMegabytes("flood", 64);
  std::this_thread::sleep_for(1s);
  const ProcStats after = Stats();
  const std::int64_t growth_mib =
      (static_cast<std::int64_t>(after.rss_anon_kib) - static_cast<std::int64_t>(before.rss_anon_kib)) / 1024;
  std::printf("[ client ] %s: 64 MiB appended past a consumer that never reads: server %s -> %s (anon %+lld MiB)\n",
              Backend().c_str(), Describe(before).c_str(), Describe(after).c_str(), static_cast<long long>(growth_mib));
  // The reactor has one batch (at most 1 MiB of payload) in flight; gRPC's flow control holds
  // the rest back. Buffering what the consumer is owed would be 64 MiB and more.
  if (kMemoryIsMeasurable) {
    EXPECT_LT(growth_mib, 16) << "the server buffers for a consumer that does not read";
  }

  v1::ProduceResponse served;
  EXPECT_TRUE(Produce("other", {"still serving"}, &served).ok());
  stalled_call.TryCancel();
  (void)stalled->Finish();
}

TEST_P(ServerFaultClientTest, ThousandsOfStreamsOpenedAndDroppedLeaveNothingBehind) {
  ASSERT_TRUE(ProduceIds("streams", 1, 0, 100).ok());
  constexpr int kRounds = 11;
  constexpr int kConsumePerRound = 250;
  constexpr int kProducePerRound = 250;
  auto round = [&](int r) {
    // A fresh channel (connection) each round; it is dropped at the end of the round.
    std::unique_ptr<v1::Goethe::Stub> client = ConnectTo(server().address());
    std::vector<std::unique_ptr<grpc::ClientContext>> calls;
    std::vector<std::unique_ptr<grpc::ClientReaderWriter<v1::ConsumeRequest, v1::ConsumeResponse>>> consumers;
    std::vector<std::unique_ptr<grpc::ClientReaderWriter<v1::ProduceStreamRequest, v1::ProduceStreamResponse>>> producers;
    for (int i = 0; i < kConsumePerRound; ++i) {
      calls.push_back(CallWithin(60s));
      consumers.push_back(client->Consume(calls.back().get()));
      v1::ConsumeRequest subscribe;
      *subscribe.mutable_subscribe() = SubscribeTo("streams", i % 2 == 0 ? "c" + std::to_string(i % 7) : "", 50);
      consumers.back()->Write(subscribe);
    }
    for (int i = 0; i < kProducePerRound; ++i) {
      calls.push_back(CallWithin(60s));
      producers.push_back(client->ProduceStream(calls.back().get()));
      v1::ProduceStreamRequest batch;
      batch.set_batch_id(1);
      batch.mutable_batch()->set_topic("streams-in");
      batch.mutable_batch()->add_payloads("r" + std::to_string(r) + "-" + std::to_string(i));
      producers.back()->Write(batch);
      v1::ProduceStreamResponse ack;
      EXPECT_TRUE(producers.back()->Read(&ack) && ack.has_result()) << "round " << r << " stream " << i;
    }
    // Half end cleanly (half-close, then drain), half are cancelled; the last round's are simply
    // abandoned with the connection.
    for (std::size_t i = 0; i < consumers.size(); ++i) {
      if (r == kRounds - 1) break;
      if (i % 2 == 0) {
        calls[i]->TryCancel();
      } else {
        consumers[i]->WritesDone();
        v1::ConsumeResponse ignored;
        while (consumers[i]->Read(&ignored)) {
        }
      }
      (void)consumers[i]->Finish();
    }
    for (std::size_t i = 0; i < producers.size(); ++i) {
      if (r == kRounds - 1) break;
      if (i % 2 == 0) {
        calls[consumers.size() + i]->TryCancel();
      } else {
        producers[i]->WritesDone();
        v1::ProduceStreamResponse ignored;
        while (producers[i]->Read(&ignored)) {
        }
      }
      (void)producers[i]->Finish();
    }
    if (r == kRounds - 1) {
      for (auto& call : calls) call->TryCancel();
      for (auto& c : consumers) (void)c->Finish();
      for (auto& p : producers) (void)p->Finish();
    }
  };

  // gRPC grows its thread pools and the allocator its arenas under the first load, so the
  // baseline comes after one round; a leak shows as growth in the second half as in the first.
  round(0);
  std::this_thread::sleep_for(2s);
  const ProcStats baseline = Stats();
  const auto started = std::chrono::steady_clock::now();
  for (int r = 1; r <= kRounds / 2; ++r) round(r);
  const ProcStats halfway = SettledStats(baseline);
  for (int r = kRounds / 2 + 1; r < kRounds; ++r) round(r);
  const ProcStats after = SettledStats(baseline);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  std::printf("[ client ] %s: %d streams in %.1f s; server %s; halfway %s; after %s\n", Backend().c_str(),
              (kRounds - 1) * (kConsumePerRound + kProducePerRound), seconds, Describe(baseline).c_str(),
              Describe(halfway).c_str(), Describe(after).c_str());
  EXPECT_LE(after.open_fds, baseline.open_fds + 2) << "file descriptors leak";
  EXPECT_LE(after.threads, baseline.threads + 2) << "threads leak";
  if (kMemoryIsMeasurable) {
    EXPECT_LE(after.rss_anon_kib, baseline.rss_anon_kib + 32 * 1024) << "memory grows";
  }
  // Allocator noise is a few MiB; a leaked call (gRPC's arena and a reactor: several KiB each)
  // over 2,500 streams would be more than 8.
  if (kMemoryIsMeasurable) {
    EXPECT_LE(after.rss_anon_kib, halfway.rss_anon_kib + 8 * 1024) << "memory leaks: it grew again in the second half";
  }

  ConsumeSession still(stub(), SubscribeTo("streams"));
  EXPECT_EQ(still.Take(100, 10s).size(), 100u) << "the server no longer serves";
}

TEST_P(ServerFaultClientTest, AnOversizedRequestIsRefusedWithAClearStatus) {
  ProduceMegabytes("big", 2);
  std::this_thread::sleep_for(500ms);
  const ProcStats before = Stats();

  v1::ProduceRequest huge;
  huge.set_topic("big");
  huge.add_payloads(std::string(64 * kMiB, 'x'));
  v1::ProduceResponse ignored;
  const grpc::Status unary = Produce(huge, &ignored);
  EXPECT_EQ(unary.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(unary);
  EXPECT_THAT(unary.error_message(), HasSubstr("larger than max"));

  {
    grpc::ClientContext call;
    call.set_deadline(std::chrono::system_clock::now() + 60s);
    auto stream = stub().ProduceStream(&call);
    v1::ProduceStreamRequest batch;
    batch.set_batch_id(1);
    *batch.mutable_batch() = huge;
    stream->Write(batch);
    v1::ProduceStreamResponse response;
    while (stream->Read(&response)) {
    }
    const grpc::Status streamed = stream->Finish();
    EXPECT_EQ(streamed.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(streamed);
  }
  const ProcStats after = Stats();

  // Just over the event limit, well under the message limit: the server names the sizes.
  v1::ProduceRequest over;
  over.set_topic("big");
  over.add_payloads(std::string(1 * kMiB + 1, 'y'));
  const grpc::Status refused = Produce(over, &ignored);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(refused);
  EXPECT_THAT(refused.error_message(), HasSubstr("engine.max_event_bytes"));

  const std::int64_t peak_growth_mib =
      (static_cast<std::int64_t>(after.peak_rss_kib) - static_cast<std::int64_t>(before.peak_rss_kib)) / 1024;
  std::printf("[ client ] %s: two 64 MiB requests refused (%s); server %s -> %s (peak %+lld MiB)\n", Backend().c_str(),
              unary.error_message().c_str(), Describe(before).c_str(), Describe(after).c_str(),
              static_cast<long long>(peak_growth_mib));
  // gRPC 1.51 (Debian bookworm) enforces the receive limit only once the whole message has
  // arrived, so the server does hold each oversized request whole (and a copy) before refusing it:
  // about +90 MiB of peak for 64 MiB. What this checks is that nothing more is kept, per request.
  // docs/storage.md has the numbers; a newer gRPC that refuses on the length prefix passes too.
  if (kMemoryIsMeasurable) {
    EXPECT_LT(peak_growth_mib, 2 * 64 + 32) << "the server kept more than one copy of an oversized request";
  }
  EXPECT_TRUE(ProduceIds("big", 2, 0, 1).ok()) << "the server no longer serves";
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerFaultClientTest, ::testing::ValuesIn(ServerLogicBackends()), BackendName);

}  // namespace
}  // namespace goethe::testing
