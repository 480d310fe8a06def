// Live tail: waiters are woken by the commit that makes their offset durable, by topic deletion
// and by Close — never by a timer the caller runs.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "support/engine_fixture.h"

namespace goethe {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Payloads;

class EngineTailTest : public testing::EngineTest {};

// A wake callback that records how often it ran and lets the test wait for the first call.
struct Wake {
  std::atomic<int> calls{0};
  std::promise<void> fired;
  std::future<void> future = fired.get_future();
  std::function<void()> Fn() {
    return [this] {
      if (calls.fetch_add(1) == 0) fired.set_value();
    };
  }
  bool WaitFired(std::chrono::milliseconds timeout) {
    return future.wait_for(timeout) == std::future_status::ready;
  }
};

TEST_P(EngineTailTest, WaiterIsWokenByTheAppendThatMakesItsOffsetDurable) {
  AppendOk("t", Payloads("e", 5));
  Wake wake;
  WaitId id = log_->WaitForOffset("t", 5, wake.Fn());
  ASSERT_NE(id, 0u);
  EXPECT_EQ(wake.calls.load(), 0);

  std::thread appender([&] {
    std::this_thread::sleep_for(milliseconds(50));
    AppendOk("t", {"awaited"});
  });
  ASSERT_TRUE(wake.WaitFired(seconds(10))) << "the wake callback never ran";
  // What woke the reader is readable at once.
  auto result = log_->Read({.topic = "t", .from_offset = 5});
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->events.size(), 1u);
  EXPECT_EQ(result->events[0].payload, "awaited");
  appender.join();
  EXPECT_EQ(wake.calls.load(), 1);
  EXPECT_FALSE(log_->CancelWait("t", id));  // it already ran
}

TEST_P(EngineTailTest, WaiterFurtherAheadSleepsUntilItsOwnOffset) {
  AppendOk("t", {"0"});
  Wake wake;
  ASSERT_NE(log_->WaitForOffset("t", 3, wake.Fn()), 0u);
  AppendOk("t", {"1"});
  AppendOk("t", {"2"});
  EXPECT_FALSE(wake.WaitFired(milliseconds(100)));
  EXPECT_EQ(wake.calls.load(), 0);
  AppendOk("t", {"3", "4"});
  // Append returns once durable; the wake may be delivered on the commit thread just after.
  EXPECT_TRUE(wake.WaitFired(seconds(10)));
  EXPECT_EQ(wake.calls.load(), 1);
}

TEST_P(EngineTailTest, WaitingForADurableOffsetWakesAtOnceOnThisThread) {
  AppendOk("t", Payloads("e", 3));
  int calls = 0;
  const std::thread::id me = std::this_thread::get_id();
  bool same_thread = false;
  WaitId id = log_->WaitForOffset("t", 2, [&] {
    ++calls;
    same_thread = std::this_thread::get_id() == me;
  });
  EXPECT_EQ(id, 0u);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(same_thread);
}

TEST_P(EngineTailTest, WaitingOnAnUnknownTopicReturnsZeroAndNeverWakes) {
  Wake wake;
  EXPECT_EQ(log_->WaitForOffset("absent", 0, wake.Fn()), 0u);
  AppendOk("absent", {"x"});  // creating it later does not wake the refused waiter
  EXPECT_FALSE(wake.WaitFired(milliseconds(50)));
  EXPECT_EQ(wake.calls.load(), 0);
  EXPECT_FALSE(log_->WaitForOffset("nothing", 0, milliseconds(10)));
}

TEST_P(EngineTailTest, CancelledWaiterIsNeverCalled) {
  AppendOk("t", {"0"});
  Wake wake;
  WaitId id = log_->WaitForOffset("t", 1, wake.Fn());
  ASSERT_NE(id, 0u);
  EXPECT_TRUE(log_->CancelWait("t", id));
  EXPECT_FALSE(log_->CancelWait("t", id));  // only once
  AppendOk("t", {"1", "2"});
  EXPECT_FALSE(wake.WaitFired(milliseconds(100)));
  EXPECT_EQ(wake.calls.load(), 0);
}

TEST_P(EngineTailTest, ManyWaitersOnOneOffsetAreAllWoken) {
  AppendOk("t", {"0"});
  constexpr int kWaiters = 20;
  std::vector<std::unique_ptr<Wake>> wakes;
  for (int i = 0; i < kWaiters; ++i) {
    wakes.push_back(std::make_unique<Wake>());
    ASSERT_NE(log_->WaitForOffset("t", 1 + i % 2, wakes.back()->Fn()), 0u);
  }
  AppendOk("t", {"1", "2"});
  for (auto& w : wakes) EXPECT_TRUE(w->WaitFired(seconds(10)));
  for (auto& w : wakes) EXPECT_EQ(w->calls.load(), 1);
}

TEST_P(EngineTailTest, BlockingWaitReturnsTrueWhenTheOffsetArrivesAndFalseOnTimeout) {
  AppendOk("t", {"0"});
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(log_->WaitForOffset("t", 1, milliseconds(100)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(90));

  EXPECT_TRUE(log_->WaitForOffset("t", 0, milliseconds(0)));  // already durable

  std::thread appender([&] {
    std::this_thread::sleep_for(milliseconds(50));
    AppendOk("t", {"1"});
  });
  start = std::chrono::steady_clock::now();
  EXPECT_TRUE(log_->WaitForOffset("t", 1, seconds(20)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(10));
  appender.join();
}

TEST_P(EngineTailTest, DeletingTheTopicWakesItsWaiters) {
  AppendOk("t", {"0"});
  Wake wake, farthest;
  ASSERT_NE(log_->WaitForOffset("t", 10, wake.Fn()), 0u);
  ASSERT_NE(log_->WaitForOffset("t", UINT64_MAX, farthest.Fn()), 0u);
  ASSERT_TRUE(log_->DeleteTopic("t").ok());
  EXPECT_TRUE(wake.WaitFired(seconds(10)));
  EXPECT_EQ(wake.calls.load(), 1);
  EXPECT_TRUE(farthest.WaitFired(seconds(1))) << "a waiter for offset 2^64-1 was not woken by the deletion";
}

TEST_P(EngineTailTest, CloseWakesEveryWaiterAndUnblocksBlockingWaits) {
  AppendOk("t", {"0"});
  Wake wake, farthest;
  ASSERT_NE(log_->WaitForOffset("t", 10, wake.Fn()), 0u);
  ASSERT_NE(log_->WaitForOffset("t", UINT64_MAX, farthest.Fn()), 0u);
  std::atomic<bool> blocked_result{true};
  std::atomic<bool> returned{false};
  std::thread blocked([&] {
    blocked_result = log_->WaitForOffset("t", 10, seconds(30));
    returned = true;
  });
  std::this_thread::sleep_for(milliseconds(50));
  const auto start = std::chrono::steady_clock::now();
  log_->Close();
  EXPECT_TRUE(wake.WaitFired(seconds(10)));
  blocked.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(10)) << "Close did not unblock the wait";
  EXPECT_TRUE(returned.load());
  EXPECT_FALSE(blocked_result.load());
  EXPECT_EQ(wake.calls.load(), 1);
  EXPECT_TRUE(farthest.WaitFired(seconds(1))) << "a waiter for offset 2^64-1 was not woken by Close";
}

TEST_P(EngineTailTest, WaitingAfterCloseWakesAtOnce) {
  AppendOk("t", {"0"});
  log_->Close();
  int calls = 0;
  EXPECT_EQ(log_->WaitForOffset("t", 5, [&] { ++calls; }), 0u);
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(log_->WaitForOffset("t", 5, seconds(10)));
}

GOETHE_ENGINE_TEST_SUITE(EngineTailTest);

}  // namespace
}  // namespace goethe
