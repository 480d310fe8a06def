// Group commit, observed deterministically: a GatedStore parks the commit loop inside a write
// while the test queues work behind it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "goethe/engine/kv_status.h"
#include "goethe/engine/replication.h"
#include "support/engine_fixture.h"

namespace goethe {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Payloads;

class EngineGroupCommitTest : public testing::EngineTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::EngineTest::SetUp());
    options_.sync = true;
    ASSERT_NO_FATAL_FAILURE(Reopen(Wrap::kGate));
    ASSERT_NE(gated_, nullptr);
  }

  // Parks the commit loop in the write of one append to `topic`; returns its outcomes.
  std::shared_ptr<testing::AsyncOutcomes> ParkLoop(const std::string& topic) {
    gated_->CloseGate();
    auto parked = testing::AsyncOutcomes::Make(1);
    log_->AppendAsync({.topic = topic, .payloads = {"parked"}}, parked->Callback(0));
    EXPECT_TRUE(gated_->WaitUntilBlocked(seconds(10))) << "the commit loop never wrote";
    return parked;
  }
};

TEST_P(EngineGroupCommitTest, AppendsQueuedDuringAWriteAreCoalescedIntoOneWrite) {
  AppendOk("a", {"0"});
  AppendOk("b", {"0"});
  auto parked = ParkLoop("a");
  const std::uint64_t writes_before = gated_->writes();

  constexpr int kQueued = 100;
  auto queued = testing::AsyncOutcomes::Make(kQueued);
  for (int i = 0; i < kQueued; ++i) {
    log_->AppendAsync({.topic = i % 2 == 0 ? "a" : "b", .payloads = Payloads("q", 1 + i % 3)}, queued->Callback(i));
  }
  EXPECT_FALSE(queued->WaitAll(milliseconds(50))) << "appends completed while the store was not written";
  gated_->OpenGate();
  ASSERT_TRUE(parked->WaitAll(seconds(30)));
  ASSERT_TRUE(queued->WaitAll(seconds(30))) << queued->done() << " of " << kQueued;
  for (int i = 0; i < kQueued; ++i) ASSERT_TRUE(queued->Get(i).status.ok()) << queued->Get(i).status.ToString();
  // The parked write, then one write (and so one sync) for all hundred queued appends.
  EXPECT_EQ(gated_->writes() - writes_before, 2u);
}

TEST_P(EngineGroupCommitTest, ABlockingAppendCommitsOnItsOwnThreadOnlyWhenTheLoopIsIdleAndSyncIsOff) {
  // With sync on, the loop makes every commit (and keeps concurrent appenders in one group).
  EXPECT_EQ(AppendOk("t", {"0"}).first_offset, 0u);
  EXPECT_NE(gated_->last_writer(), std::this_thread::get_id());

  options_.sync = false;
  ASSERT_NO_FATAL_FAILURE(Reopen(Wrap::kGate));
  // Idle loop: the caller's thread writes, and the events are readable when Append returns.
  EXPECT_EQ(AppendOk("t", {"1"}).first_offset, 1u);
  EXPECT_EQ(gated_->last_writer(), std::this_thread::get_id());
  EXPECT_EQ(ReadPayloads("t"), (std::vector<std::string>{"0", "1"}));

  // AppendAsync never writes on its caller's thread.
  auto async = testing::AsyncOutcomes::Make(1);
  log_->AppendAsync({.topic = "t", .payloads = {"2"}}, async->Callback(0));
  ASSERT_TRUE(async->WaitAll(seconds(30)));
  EXPECT_NE(gated_->last_writer(), std::this_thread::get_id());

  // Busy loop: a blocking append queues behind the running write and joins the next group.
  auto parked = ParkLoop("t");
  const std::uint64_t writes_before = gated_->writes();
  auto queued = testing::AsyncOutcomes::Make(1);
  log_->AppendAsync({.topic = "t", .payloads = {"4"}}, queued->Callback(0));
  std::latch appending(1);
  std::thread::id appender_id;
  AppendOutcome blocking;
  std::thread appender([&] {
    appender_id = std::this_thread::get_id();
    appending.count_down();
    blocking = log_->Append({.topic = "t", .payloads = {"5"}});
  });
  appending.wait();
  std::this_thread::sleep_for(milliseconds(100));  // lets the appender reach the queue
  gated_->OpenGate();
  appender.join();
  ASSERT_TRUE(parked->WaitAll(seconds(30)));
  ASSERT_TRUE(queued->WaitAll(seconds(30)));
  ASSERT_TRUE(blocking.status.ok()) << blocking.status.ToString();
  EXPECT_EQ(blocking.result.first_offset, 5u);
  EXPECT_NE(gated_->last_writer(), appender_id);
  EXPECT_EQ(gated_->writes() - writes_before, 2u) << "the parked write, then one for both queued appends";
  EXPECT_EQ(ReadPayloads("t"), (std::vector<std::string>{"0", "1", "2", "parked", "4", "5"}));
}

// A writer as a replicating leader has: it notes the thread it runs on and writes to the store
// (whichever the fixture has open).
class ThreadNotingWriter final : public CommitWriter {
 public:
  explicit ThreadNotingWriter(const std::shared_ptr<kv::Store>& store) : store_(store) {}
  Status Write(kv::WriteBatch& batch, bool sync) override {
    last_thread_ = std::this_thread::get_id();
    ++writes_;
    return FromKv(store_->Write({.sync = sync}, batch), "test writer");
  }
  std::thread::id last_thread() const { return last_thread_; }
  int writes() const { return writes_; }

 private:
  const std::shared_ptr<kv::Store>& store_;
  std::atomic<std::thread::id> last_thread_{};
  std::atomic<int> writes_{0};
};

TEST_P(EngineGroupCommitTest, AnAsyncAppendCommitsOnItsCallerOnlyWhenAskedAndTheLoopIsIdleWithSyncOff) {
  auto append_here = [this](const std::string& payload) {
    auto outcome = testing::AsyncOutcomes::Make(1);
    log_->AppendAsync({.topic = "t", .payloads = {payload}}, outcome->Callback(0), CommitOn::kCallerIfIdle);
    return outcome;
  };
  // With sync on, the loop makes every commit.
  auto synced = append_here("0");
  ASSERT_TRUE(synced->WaitAll(seconds(30)));
  EXPECT_NE(gated_->last_writer(), std::this_thread::get_id());

  options_.sync = false;
  ASSERT_NO_FATAL_FAILURE(Reopen(Wrap::kGate));
  // Idle loop: written on this thread and answered before AppendAsync returns.
  auto here = append_here("1");
  EXPECT_EQ(here->done(), 1);
  EXPECT_TRUE(here->Get(0).status.ok()) << here->Get(0).status.ToString();
  EXPECT_EQ(here->Get(0).result.first_offset, 1u);
  EXPECT_EQ(gated_->last_writer(), std::this_thread::get_id());
  std::optional<MultiAppendOutcome> multi;
  log_->AppendMultiAsync({.parts = {{.topic = "t", .payloads = {"2"}}}},
                         [&multi](MultiAppendOutcome outcome) { multi = std::move(outcome); }, CommitOn::kCallerIfIdle);
  ASSERT_TRUE(multi.has_value()) << "the multi-topic append was not answered before AppendMultiAsync returned";
  EXPECT_TRUE(multi->status.ok()) << multi->status.ToString();

  // Busy loop: queued behind the running write and answered by the loop.
  auto parked = ParkLoop("t");
  auto queued = append_here("3");
  EXPECT_EQ(queued->done(), 0) << "answered while the store was not written";
  gated_->OpenGate();
  ASSERT_TRUE(parked->WaitAll(seconds(30)));
  ASSERT_TRUE(queued->WaitAll(seconds(30)));
  EXPECT_TRUE(queued->Get(0).status.ok()) << queued->Get(0).status.ToString();
  EXPECT_NE(gated_->last_writer(), std::this_thread::get_id());
  EXPECT_EQ(ReadPayloads("t"), (std::vector<std::string>{"0", "1", "2", "parked", "3"}));

  // A CommitWriter (replication) is only ever called on the loop's thread, for blocking appends too.
  ThreadNotingWriter writer(store_);
  options_.writer = &writer;
  ASSERT_NO_FATAL_FAILURE(Reopen());
  auto replicated = append_here("4");
  ASSERT_TRUE(replicated->WaitAll(seconds(30)));
  EXPECT_TRUE(replicated->Get(0).status.ok()) << replicated->Get(0).status.ToString();
  EXPECT_NE(writer.last_thread(), std::thread::id{}) << "the writer never wrote";
  EXPECT_NE(writer.last_thread(), std::this_thread::get_id());
  const int writes_before = writer.writes();
  EXPECT_EQ(AppendOk("t", {"5"}).first_offset, 6u);
  EXPECT_GT(writer.writes(), writes_before) << "a blocking append did not go through the writer";
  EXPECT_NE(writer.last_thread(), std::this_thread::get_id()) << "a blocking append wrote through the writer here";
  options_.writer = nullptr;
  CloseAll();  // before `writer` goes
}

TEST_P(EngineGroupCommitTest, TheEventCapSplitsTheQueueAcrossWrites) {
  options_.max_commit_events = 10;
  ASSERT_NO_FATAL_FAILURE(Reopen(Wrap::kGate));
  auto parked = ParkLoop("t");
  const std::uint64_t writes_before = gated_->writes();
  constexpr int kQueued = 60;
  auto queued = testing::AsyncOutcomes::Make(kQueued + 1);
  for (int i = 0; i < kQueued; ++i) log_->AppendAsync({.topic = "t", .payloads = {"x"}}, queued->Callback(i));
  // An append larger than the cap still lands, whole.
  log_->AppendAsync({.topic = "t", .payloads = Payloads("big", 25)}, queued->Callback(kQueued));
  gated_->OpenGate();
  ASSERT_TRUE(queued->WaitAll(seconds(30))) << queued->done() << " of " << kQueued + 1;
  for (int i = 0; i <= kQueued; ++i) ASSERT_TRUE(queued->Get(i).status.ok()) << queued->Get(i).status.ToString();
  EXPECT_GE(gated_->writes() - writes_before, 1u + kQueued / 10) << "the cap did not split the queue";
  EXPECT_EQ(queued->Get(kQueued).result.first_offset, 1u + kQueued);
  std::vector<std::string> payloads = ReadPayloads("t");
  ASSERT_EQ(payloads.size(), 1u + kQueued + 25);
  EXPECT_EQ(payloads[1 + kQueued], "big0");
  EXPECT_EQ(payloads.back(), "big24");
}

// Blocking appenders sleep until the commit they expect rings; those the cap moves to a later
// commit must still wake, each with its own outcome. A lost wake-up hangs the test (the CTest
// timeout fails it).
TEST_P(EngineGroupCommitTest, BlockingAppendersMovedToLaterCommitsByTheCapAllReturnTheirOwnOffsets) {
  options_.max_commit_events = 4;
  ASSERT_NO_FATAL_FAILURE(Reopen(Wrap::kGate));
  auto parked = ParkLoop("t");
  const std::uint64_t writes_before = gated_->writes();
  constexpr int kAppenders = 12;
  std::vector<AppendOutcome> outcomes(kAppenders);
  std::latch started(kAppenders);
  std::vector<std::thread> appenders;
  for (int i = 0; i < kAppenders; ++i) {
    appenders.emplace_back([&, i] {
      started.count_down();
      outcomes[i] = log_->Append({.topic = "t", .payloads = {"b" + std::to_string(i)}});
    });
  }
  started.wait();
  std::this_thread::sleep_for(milliseconds(100));  // lets every appender reach the queue
  gated_->OpenGate();
  for (std::thread& appender : appenders) appender.join();
  ASSERT_TRUE(parked->WaitAll(seconds(30)));

  EXPECT_GE(gated_->writes() - writes_before, 1u + kAppenders / 4) << "the cap did not split the queue";
  const std::vector<std::string> payloads = ReadPayloads("t");
  ASSERT_EQ(payloads.size(), 1u + kAppenders);
  for (int i = 0; i < kAppenders; ++i) {
    ASSERT_TRUE(outcomes[i].status.ok()) << outcomes[i].status.ToString();
    ASSERT_LT(outcomes[i].result.first_offset, payloads.size());
    EXPECT_EQ(payloads[outcomes[i].result.first_offset], "b" + std::to_string(i)) << "appender " << i;
  }
}

TEST_P(EngineGroupCommitTest, ReadersNeitherWaitForAWriteNorSeeItsEventsEarly) {
  AppendOk("t", Payloads("e", 3));
  ASSERT_TRUE(log_->CommitCursor("t", "c", 1).ok());
  auto parked = ParkLoop("t");

  // While the loop is parked inside the write, every read answers at once from durable state.
  const auto start = std::chrono::steady_clock::now();
  auto read = log_->Read({.topic = "t", .from_offset = 0});
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->events.size(), 3u) << "a reader saw an event before it was durable";
  EXPECT_EQ(read->head, 3u);
  EXPECT_EQ(Describe("t").next_offset, 3u);
  EXPECT_EQ(ResolveOk("t", testing::End()).offset, 3u);
  auto cursor = log_->GetCursor("t", "c");
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ((*cursor)->offset, 1u);
  EXPECT_EQ(log_->ListTopics().size(), 1u);
  EXPECT_FALSE(log_->WaitForOffset("t", 3, milliseconds(50)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5)) << "readers waited for the write";
  EXPECT_EQ(parked->done(), 0);

  gated_->OpenGate();
  ASSERT_TRUE(parked->WaitAll(seconds(30)));
  EXPECT_TRUE(log_->WaitForOffset("t", 3, seconds(10)));
  EXPECT_EQ(ReadPayloads("t").back(), "parked");
}

GOETHE_ENGINE_TEST_SUITE(EngineGroupCommitTest);

}  // namespace
}  // namespace goethe
