// Topic lifecycle under concurrency: deletion and re-creation racing with appends must leave the
// log in a state that a reopen (which reads the store alone) agrees with.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/engine_fixture.h"

namespace goethe {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Payloads;

class EngineTopicTest : public testing::EngineTest {
 protected:
  // What a client can see of a topic: nothing, or its head and payloads.
  struct Seen {
    bool exists = false;
    std::uint64_t first = 0, next = 0;
    std::vector<std::string> payloads;
    bool operator==(const Seen&) const = default;
  };
  Seen Look(const std::string& topic) {
    Seen seen;
    auto info = log_->DescribeTopic(topic);
    if (!info.ok()) {
      EXPECT_EQ(info.status().code(), StatusCode::kNotFound) << info.status().ToString();
      return seen;
    }
    seen.exists = true;
    seen.first = info->first_offset;
    seen.next = info->next_offset;
    seen.payloads = ReadPayloads(topic);
    return seen;
  }
  static std::string Show(const Seen& s) {
    if (!s.exists) return "no topic";
    std::string out = "offsets " + std::to_string(s.first) + ".." + std::to_string(s.next) + " [";
    for (const std::string& p : s.payloads) out += p + " ";
    return out + "]";
  }
};

// DeleteTopic and then an append that re-creates the topic, committed by the loop in one batch.
TEST_P(EngineTopicTest, DeleteThenAppendInOneGroupCommitLeavesTheNewTopic) {
  ASSERT_NO_FATAL_FAILURE(Reopen(Wrap::kGate));
  AppendOk("t", Payloads("old", 3));
  gated_->CloseGate();
  auto parked = testing::AsyncOutcomes::Make(1);
  log_->AppendAsync({.topic = "other", .payloads = {"x"}}, parked->Callback(0));
  ASSERT_TRUE(gated_->WaitUntilBlocked(seconds(10)));
  std::atomic<bool> deleted{false};
  std::thread deleter([&] { deleted = log_->DeleteTopic("t").ok(); });
  std::this_thread::sleep_for(milliseconds(100));  // the delete is queued behind the parked write
  auto reborn = testing::AsyncOutcomes::Make(1);
  log_->AppendAsync({.topic = "t", .payloads = {"reborn"}}, reborn->Callback(0));
  gated_->OpenGate();
  deleter.join();
  ASSERT_TRUE(reborn->WaitAll(seconds(10)));
  ASSERT_TRUE(deleted.load());
  ASSERT_TRUE(reborn->Get(0).status.ok()) << reborn->Get(0).status.ToString();

  const Seen before = Look("t");
  if (reborn->Get(0).result.first_offset == 0) {  // the delete went first, as queued
    EXPECT_TRUE(before.exists) << "an acknowledged append created a topic nobody can see";
    EXPECT_EQ(before.payloads, std::vector<std::string>{"reborn"});
  } else {  // the thread scheduling put the append first: it went to the old topic, then deleted
    EXPECT_EQ(reborn->Get(0).result.first_offset, 3u);
    EXPECT_FALSE(before.exists);
  }
  ASSERT_NO_FATAL_FAILURE(Reopen());
  const Seen after = Look("t");
  EXPECT_TRUE(before == after) << "before reopen: " << Show(before) << "; after: " << Show(after);
}

TEST_P(EngineTopicTest, DeleteThenCreateInOneGroupCommitLeavesTheNewTopic) {
  ASSERT_NO_FATAL_FAILURE(Reopen(Wrap::kGate));
  AppendOk("t", Payloads("old", 3));
  gated_->CloseGate();
  auto parked = testing::AsyncOutcomes::Make(1);
  log_->AppendAsync({.topic = "other", .payloads = {"x"}}, parked->Callback(0));
  ASSERT_TRUE(gated_->WaitUntilBlocked(seconds(10)));
  std::atomic<bool> deleted{false};
  std::thread deleter([&] { deleted = log_->DeleteTopic("t").ok(); });
  std::this_thread::sleep_for(milliseconds(100));
  std::optional<Result<TopicInfo>> created;
  std::thread creator([&] { created.emplace(log_->CreateTopic("t", {.retention_events = 77})); });
  std::this_thread::sleep_for(milliseconds(100));
  gated_->OpenGate();
  deleter.join();
  creator.join();
  ASSERT_TRUE(deleted.load());
  ASSERT_TRUE(created.has_value());
  if (created->status().code() == StatusCode::kAlreadyExists) {
    // The thread scheduling put the create before the delete: then nothing is left.
    EXPECT_FALSE(Look("t").exists);
    ASSERT_NO_FATAL_FAILURE(Reopen());
    EXPECT_FALSE(Look("t").exists);
    return;
  }
  ASSERT_TRUE(created->ok()) << created->status().ToString();
  EXPECT_EQ(created->value().settings.retention_events, 77u);
  auto info = log_->DescribeTopic("t");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->settings.retention_events, 77u);
  EXPECT_EQ(info->next_offset, 0u);
  // And it is the topic that appends go to, before and after a reopen.
  EXPECT_EQ(AppendOk("t", {"new"}).first_offset, 0u);
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(Describe("t").settings.retention_events, 77u);
  EXPECT_EQ(ReadPayloads("t"), std::vector<std::string>{"new"});
}

TEST_P(EngineTopicTest, DeletesRacingAppendsLeaveAStateThatReopenAgreesWith) {
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> appenders;
  for (int t = 0; t < 3; ++t) {
    appenders.emplace_back([&, t] {
      for (int i = 0; i < 400 && !stop; ++i) {
        AppendOutcome o = Append("t", {"a" + std::to_string(t) + "-" + std::to_string(i)});
        if (!o.status.ok()) ++failures;
      }
    });
  }
  std::thread deleter([&] {
    for (int i = 0; i < 40 && !stop; ++i) {
      Status s = log_->DeleteTopic("t");
      if (!s.ok() && s.code() != StatusCode::kNotFound) ++failures;
      std::this_thread::sleep_for(milliseconds(2));
    }
  });
  for (std::thread& a : appenders) a.join();
  stop = true;
  deleter.join();
  EXPECT_EQ(failures.load(), 0);

  const Seen before = Look("t");
  if (before.exists) {
    EXPECT_EQ(before.payloads.size(), before.next - before.first);
  }
  ASSERT_NO_FATAL_FAILURE(Reopen());
  const Seen after = Look("t");
  EXPECT_TRUE(before == after) << "before reopen: " << Show(before) << "; after: " << Show(after);

  // Finally deleting it leaves no key of any of its incarnations behind.
  if (after.exists) {
    ASSERT_TRUE(log_->DeleteTopic("t").ok());
  }
  std::size_t keys = 0;
  std::string leftover;
  auto it = store_->NewIterator({});
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++keys;
    if (it->value().find("a0-") != std::string_view::npos || it->value().find("a1-") != std::string_view::npos ||
        it->value().find("a2-") != std::string_view::npos) {
      leftover = std::string(it->value());
    }
  }
  EXPECT_TRUE(leftover.empty()) << "an event of a deleted topic is still stored: " << testing::Printable(leftover) << " (" << keys
                                << " keys in the store)";
}

GOETHE_ENGINE_TEST_SUITE(EngineTopicTest);

}  // namespace
}  // namespace goethe
