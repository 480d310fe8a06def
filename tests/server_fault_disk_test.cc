// Running out of space: appends fail with RESOURCE_EXHAUSTED and a message naming the problem,
// a failed batch changes nothing (the next append gets the next offset: no gap), reads and
// consumes go on, and appends resume once space returns, with every earlier event intact.
//
// LMDB's fixed map (map_growth: false) runs everywhere. A full disk for every backend is a small
// tmpfs mounted in a private user + mount namespace (support/private_tmpfs.h); where the machine
// does not allow that, those tests skip and say why.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fault_fixture.h"
#include "support/private_tmpfs.h"

namespace goethe::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr const char* kTopic = "main";
constexpr std::size_t kEventBytes = 1000;  // filler per event

class DiskFullTest : public FaultTest {
 protected:
  // Appends batches of `batch` events until one fails; returns that failure.
  grpc::Status FillUntilRefused(std::uint64_t batch, int max_batches) {
    for (int i = 0; i < max_batches; ++i) {
      const grpc::Status status = ProduceNext(batch);
      if (!status.ok()) return status;
    }
    return grpc::Status(grpc::StatusCode::INTERNAL, "the store never filled up");
  }

  // One batch of the next sequence numbers. On success it must start at the offset where the
  // last acknowledged one ended; on failure the topic's head must not have moved.
  grpc::Status ProduceNext(std::uint64_t count) {
    const std::uint64_t expected = Ledger(kTopic).end();
    v1::ProduceResponse response;
    const grpc::Status status = ProduceIds(kTopic, 1, next_sequence_, count, kEventBytes, &response);
    next_sequence_ += count;  // a refused batch's numbers are not reused
    if (status.ok()) {
      ++accepted_;
      EXPECT_EQ(response.first_offset(), expected) << "a gap (or overlap) after earlier refusals";
    } else {
      ++refused_;
      EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(status);
      EXPECT_EQ(NextOffset(kTopic), expected) << "a refused batch moved the head";
    }
    return status;
  }

  // Reads and consumes keep working on a full store: everything acknowledged, intact.
  void ExpectReadsWork() {
    const std::uint64_t stored = VerifyTopic(kTopic);
    EXPECT_EQ(stored, Ledger(kTopic).end());
    ConsumeSession session(stub(), SubscribeTo(kTopic, "", 1000));
    std::uint64_t consumed = 0;
    for (std::optional<v1::Event> event; consumed < stored && (event = session.Next(10s)); ++consumed) {
      if (event->offset() % 100 == 99) session.Ack(event->offset());  // opens the window again
    }
    EXPECT_EQ(consumed, stored);
  }

  std::uint64_t next_sequence_ = 0;
  int accepted_ = 0;
  int refused_ = 0;
};

// ---- LMDB with a fixed map -------------------------------------------------------------------

class ServerFaultLmdbMapTest : public DiskFullTest {};

TEST_P(ServerFaultLmdbMapTest, AFullMapRefusesAppendsKeepsReadsAndResumesWithoutAGap) {
  WriteConfig("map_size: 1MiB\nmap_growth: false\n");
  StartAgain();
  for (int b = 0; b < 6; ++b) ASSERT_TRUE(ProduceIds("ballast", 9, b * 25, 25, kEventBytes).ok());

  grpc::Status full = FillUntilRefused(25, 400);
  ASSERT_EQ(full.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(full);
  EXPECT_THAT(full.error_message(), HasSubstr("is full and map_growth is false; raise map_size"));
  const std::uint64_t at_first_refusal = Ledger(kTopic).end();
  ExpectReadsWork();

  // LMDB reuses the pages a deleted topic frees, but only two commits later (the previous
  // snapshot stays a valid recovery point), and the delete needs free pages of its own since
  // LMDB copies on write. So on a map this full a small append must get through first.
  v1::DeleteTopicRequest drop;
  drop.set_topic("ballast");
  v1::DeleteTopicResponse dropped;
  const grpc::Status deleted = stub().DeleteTopic(CallWithin().get(), drop, &dropped);
  bool freed_in_process = false;
  if (deleted.ok()) {
    freed_in_process = ProduceNext(1).ok() && ProduceNext(1).ok() && ProduceNext(25).ok();
  } else {
    EXPECT_EQ(deleted.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(deleted);
  }
  // Smaller batches until even one event is refused: refusals and successes interleave, and
  // each success must continue right after the last one.
  for (std::uint64_t batch : {25, 12, 6, 3, 1, 1, 1, 1}) ProduceNext(batch);
  for (int i = 0; i < 200 && ProduceNext(1).ok(); ++i) {
  }
  ExpectReadsWork();

  // A larger map after a restart: the rest of the space returns.
  StopServer();
  WriteConfig("map_size: 8MiB\nmap_growth: false\n");
  StartAgain();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(ProduceNext(25).ok());
  ExpectReadsWork();
  std::printf("[ disk ] lmdb map full: first refusal after %llu events; deleting a topic then %s; %d batches "
              "accepted, %d refused; %llu events verified\n",
              static_cast<unsigned long long>(at_first_refusal),
              freed_in_process ? "freed space in the same process"
                               : (deleted.ok() ? "freed nothing usable yet" : "was refused too"),
              accepted_, refused_,
              static_cast<unsigned long long>(Ledger(kTopic).end()));
  StopServer();
}

INSTANTIATE_TEST_SUITE_P(Lmdb, ServerFaultLmdbMapTest, ::testing::Values("lmdb"), BackendName);

// ---- A full file system, every backend ---------------------------------------------------------

class ServerFaultDiskFullTest : public DiskFullTest {};

TEST_P(ServerFaultDiskFullTest, AFullDiskRefusesAppendsKeepsReadsAndResumesWhenSpaceReturns) {
  std::string why_not;
  std::unique_ptr<PrivateTmpfs> disk = PrivateTmpfs::Mount(dir_, DataDir(), "6m", &why_not);
  if (!disk) GTEST_SKIP() << why_not;
  WriteConfig();
  StartAgain(disk->Launcher());

  grpc::Status full = FillUntilRefused(50, 1000);
  ASSERT_EQ(full.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(full);
  EXPECT_THAT(full.error_message(), HasSubstr("No space left on device"));
  const std::uint64_t at_first_refusal = Ledger(kTopic).end();
  for (std::uint64_t batch : {10, 1}) ProduceNext(batch);
  ExpectReadsWork();

  // Space returns. Whether appends resume without a restart is the backend's business: LMDB at
  // once, RocksDB once its error recovery notices (about 5 s), LevelDB only after a restart (the
  // plugin refuses writes after a failed one); none may leave a gap.
  ASSERT_TRUE(disk->Resize("64m"));
  const auto resized = std::chrono::steady_clock::now();
  bool resumed_in_process = false;
  const int tries = Backend() == "leveldb" ? 1 : 16;  // 8 s for RocksDB's recovery
  for (int i = 0; i < tries && !resumed_in_process; ++i) {
    resumed_in_process = ProduceNext(10).ok();
    if (!resumed_in_process) std::this_thread::sleep_for(500ms);
  }
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - resized).count();
  if (Backend() == "lmdb") {
    EXPECT_TRUE(resumed_in_process) << "LMDB appends again as soon as there is space";
  }
  if (Backend() == "leveldb") {
    EXPECT_FALSE(resumed_in_process) << "LevelDB must not write behind a failed write";
  }

  StopServer();
  StartAgain(disk->Launcher());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(ProduceNext(50).ok());
  ExpectReadsWork();
  std::printf("[ disk ] %s full tmpfs: first refusal after %llu events (%s); resumed %s; %d batches accepted, "
              "%d refused; %llu events verified\n",
              backend().c_str(), static_cast<unsigned long long>(at_first_refusal), full.error_message().c_str(),
              resumed_in_process ? ("without a restart after " + std::to_string(waited) + " s").c_str()
                                 : "only after a restart",
              accepted_, refused_, static_cast<unsigned long long>(Ledger(kTopic).end()));
  StopServer();
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerFaultDiskFullTest, ::testing::ValuesIn(AllBackends()), BackendName);

}  // namespace
}  // namespace goethe::testing
