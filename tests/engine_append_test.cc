// Appends: validation, dense offsets, timestamps, atomic batches, expected offsets, idempotency.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "support/engine_fixture.h"

namespace goethe {
namespace {

using testing::kSecond;
using testing::Payloads;

class EngineAppendTest : public testing::EngineTest {};

TEST_P(EngineAppendTest, TopicNamesOutsideTheRuleAreInvalid) {
  const std::vector<std::string> bad = {"", std::string(256, 'a'), "a/b", "a b", "a:b", "caf\xc3\xa9",
                                        std::string("a\0b", 3), "a*", "\xff"};
  for (const std::string& name : bad) {
    SCOPED_TRACE("name '" + name + "' (" + std::to_string(name.size()) + " bytes)");
    EXPECT_EQ(EventLog::ValidateTopicName(name).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(Append(name, {"x"}).status.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(log_->CreateTopic(name, {}).status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(log_->ListTopics().empty());

  const std::vector<std::string> good = {"a", std::string(255, 'z'), "Az09._-", "-", "..", "orders.v2_EU-1"};
  for (const std::string& name : good) {
    SCOPED_TRACE("name '" + name + "'");
    EXPECT_TRUE(EventLog::ValidateTopicName(name).ok());
    EXPECT_TRUE(Append(name, {"x"}).status.ok());
  }
  EXPECT_EQ(log_->ListTopics().size(), good.size());
}

TEST_P(EngineAppendTest, EventSizeLimitIsInclusiveAndAnEmptyBatchIsInvalid) {
  // The default limit is 1 MiB, inclusive; one byte more is refused.
  EXPECT_EQ(options_.max_event_bytes, 1u << 20);
  EXPECT_TRUE(Append("t", {std::string(1 << 20, 'x')}).status.ok());
  EXPECT_EQ(Append("t", {std::string((1 << 20) + 1, 'x')}).status.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Append("t", {""}).status.ok());  // an empty event is an event
  EXPECT_EQ(Append("t", {}).status.code(), StatusCode::kInvalidArgument);

  std::vector<std::string> payloads = ReadPayloads("t");
  ASSERT_EQ(payloads.size(), 2u);
  EXPECT_EQ(payloads[0].size(), 1u << 20);
  EXPECT_EQ(payloads[1], "");

  options_.max_event_bytes = 100;
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_TRUE(Append("t", {std::string(100, 'y')}).status.ok());
  EXPECT_EQ(Append("t", {std::string(101, 'y')}).status.code(), StatusCode::kInvalidArgument);
}

TEST_P(EngineAppendTest, BatchWithOneOversizedEventWritesNothing) {
  options_.max_event_bytes = 100;
  ASSERT_NO_FATAL_FAILURE(Reopen());
  AppendOk("t", {"before"});
  AppendOutcome outcome = Append("t", {"a", "b", std::string(101, 'x'), "d"});
  EXPECT_EQ(outcome.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadPayloads("t"), std::vector<std::string>{"before"});
  EXPECT_EQ(Describe("t").next_offset, 1u);
  EXPECT_EQ(AppendOk("t", {"after"}).first_offset, 1u);
}

TEST_P(EngineAppendTest, OffsetsAreDenseFromZeroAndBatchesGetConsecutiveOffsets) {
  AppendResult first = AppendOk("t", {"a"});
  AppendResult batch = AppendOk("t", {"b", "c", "d"});
  AppendResult last = AppendOk("t", {"e"});
  EXPECT_EQ(first.first_offset, 0u);
  EXPECT_EQ(batch.first_offset, 1u);
  EXPECT_EQ(batch.timestamps.size(), 3u);
  EXPECT_FALSE(batch.duplicate);
  EXPECT_EQ(last.first_offset, 4u);

  std::vector<Event> events = ReadAll("t");
  ASSERT_EQ(events.size(), 5u);
  const std::vector<std::string> want = {"a", "b", "c", "d", "e"};
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].offset, i);
    EXPECT_EQ(events[i].payload, want[i]);
  }
  // Another topic has its own offsets.
  EXPECT_EQ(AppendOk("other", {"x", "y"}).first_offset, 0u);
  EXPECT_EQ(AppendOk("t", {"f"}).first_offset, 5u);
}

TEST_P(EngineAppendTest, TimestampsComeFromTheClockAndMatchWhatIsRead) {
  clock_.Set(testing::kEpoch + 7 * kSecond);
  AppendResult result = AppendOk("t", {"a", "b", "c"});
  ASSERT_EQ(result.timestamps.size(), 3u);
  for (TimestampNs ts : result.timestamps) EXPECT_EQ(ts, testing::kEpoch + 7 * kSecond);
  std::vector<Event> events = ReadAll("t");
  ASSERT_EQ(events.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(events[i].timestamp_ns, result.timestamps[i]);
}

TEST_P(EngineAppendTest, TimestampsNeverDecreaseWhenTheClockStepsBack) {
  clock_.Set(testing::kEpoch + 1000 * kSecond);
  AppendResult a = AppendOk("t", {"a"});
  clock_.Set(testing::kEpoch + 500 * kSecond);  // the wall clock jumps back
  AppendResult b = AppendOk("t", {"b", "c"});
  clock_.Set(testing::kEpoch + 2000 * kSecond);
  AppendResult c = AppendOk("t", {"d"});
  ASSERT_EQ(a.timestamps.size(), 1u);
  ASSERT_EQ(b.timestamps.size(), 2u);
  ASSERT_EQ(c.timestamps.size(), 1u);
  EXPECT_GE(b.timestamps[0], a.timestamps[0]);
  EXPECT_GE(b.timestamps[1], b.timestamps[0]);
  EXPECT_GE(c.timestamps[0], b.timestamps[1]);
  EXPECT_EQ(c.timestamps[0], testing::kEpoch + 2000 * kSecond);

  std::vector<Event> events = ReadAll("t");
  ASSERT_EQ(events.size(), 4u);
  for (std::size_t i = 1; i < events.size(); ++i) EXPECT_GE(events[i].timestamp_ns, events[i - 1].timestamp_ns);
  // A topic of its own is not held back by another topic's later clock.
  EXPECT_EQ(AppendOk("fresh", {"x"}).timestamps.at(0), testing::kEpoch + 2000 * kSecond);
}

TEST_P(EngineAppendTest, ExpectedNextOffsetMismatchIsAbortedWithTheActualOffsetAndWritesNothing) {
  AppendOk("t", {"a", "b", "c"});
  for (std::uint64_t wrong : {0ull, 2ull, 4ull, 100ull}) {
    SCOPED_TRACE("expected " + std::to_string(wrong));
    AppendRequest request{.topic = "t", .payloads = {"x", "y"}, .expected_next_offset = wrong};
    AppendOutcome outcome = log_->Append(request);
    EXPECT_EQ(outcome.status.code(), StatusCode::kAborted) << outcome.status.ToString();
    EXPECT_EQ(outcome.next_offset, 3u);
  }
  EXPECT_EQ(Describe("t").next_offset, 3u);
  EXPECT_EQ(ReadPayloads("t").size(), 3u);

  AppendRequest right{.topic = "t", .payloads = {"d", "e"}, .expected_next_offset = 3};
  AppendOutcome outcome = log_->Append(right);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_EQ(outcome.result.first_offset, 3u);
  EXPECT_EQ(outcome.next_offset, 5u);

  // Expecting 0 on a topic that does not exist yet creates it.
  AppendRequest fresh{.topic = "new", .payloads = {"z"}, .expected_next_offset = 0};
  EXPECT_TRUE(log_->Append(fresh).status.ok());
}

TEST_P(EngineAppendTest, ExpectedOffsetLetsExactlyOneOfManyRacingWritersWin) {
  AppendOk("t", {"seed"});
  constexpr int kThreads = 8;
  std::vector<AppendOutcome> outcomes(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      outcomes[i] = log_->Append({.topic = "t", .payloads = {"w" + std::to_string(i)}, .expected_next_offset = 1});
    });
  }
  for (std::thread& t : threads) t.join();
  int won = 0;
  for (const AppendOutcome& o : outcomes) {
    if (o.status.ok()) {
      ++won;
      EXPECT_EQ(o.result.first_offset, 1u);
    } else {
      EXPECT_EQ(o.status.code(), StatusCode::kAborted) << o.status.ToString();
      EXPECT_EQ(o.next_offset, 2u);
    }
  }
  EXPECT_EQ(won, 1);
  EXPECT_EQ(Describe("t").next_offset, 2u);
}

TEST_P(EngineAppendTest, IdempotentRetryInsideTheWindowReturnsTheFirstResultAndWritesNothing) {
  options_.idempotency_window = std::chrono::seconds(60);
  ASSERT_NO_FATAL_FAILURE(Reopen());
  AppendOk("t", {"before"});
  AppendRequest request{.topic = "t", .payloads = {"a", "b"}, .idempotency_key = "producer-1/batch-7"};
  AppendOutcome first = log_->Append(request);
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  EXPECT_FALSE(first.result.duplicate);
  EXPECT_EQ(first.result.first_offset, 1u);

  clock_.Advance(30 * kSecond);
  AppendOk("t", {"between"});
  AppendOutcome retry = log_->Append(request);
  ASSERT_TRUE(retry.status.ok()) << retry.status.ToString();
  EXPECT_TRUE(retry.result.duplicate);
  EXPECT_EQ(retry.result.first_offset, 1u);
  EXPECT_EQ(retry.result.timestamps, first.result.timestamps);
  EXPECT_EQ(ReadPayloads("t"), (std::vector<std::string>{"before", "a", "b", "between"}));

  // A different key is a different append.
  request.idempotency_key = "producer-1/batch-8";
  AppendOutcome other = log_->Append(request);
  ASSERT_TRUE(other.status.ok());
  EXPECT_FALSE(other.result.duplicate);
  EXPECT_EQ(other.result.first_offset, 4u);
}

TEST_P(EngineAppendTest, IdempotencyKeyExpiresAfterTheWindow) {
  options_.idempotency_window = std::chrono::seconds(60);
  ASSERT_NO_FATAL_FAILURE(Reopen());
  AppendRequest request{.topic = "t", .payloads = {"a"}, .idempotency_key = "k"};
  ASSERT_TRUE(log_->Append(request).status.ok());
  clock_.Advance(61 * kSecond);
  AppendOutcome late = log_->Append(request);
  ASSERT_TRUE(late.status.ok()) << late.status.ToString();
  EXPECT_FALSE(late.result.duplicate);
  EXPECT_EQ(late.result.first_offset, 1u);
  EXPECT_EQ(Describe("t").next_offset, 2u);
}

TEST_P(EngineAppendTest, IdempotencyKeySurvivesReopen) {
  options_.idempotency_window = std::chrono::seconds(60);
  ASSERT_NO_FATAL_FAILURE(Reopen());
  AppendRequest request{.topic = "t", .payloads = {"a", "b", "c"}, .idempotency_key = "k"};
  AppendOutcome first = log_->Append(request);
  ASSERT_TRUE(first.status.ok());
  ASSERT_NO_FATAL_FAILURE(Reopen());
  AppendOutcome retry = log_->Append(request);
  ASSERT_TRUE(retry.status.ok()) << retry.status.ToString();
  EXPECT_TRUE(retry.result.duplicate);
  EXPECT_EQ(retry.result.first_offset, first.result.first_offset);
  EXPECT_EQ(retry.result.timestamps, first.result.timestamps);
  EXPECT_EQ(Describe("t").next_offset, 3u);
}

TEST_P(EngineAppendTest, IdempotentRetryOfAnAppendWithAnExpectedOffsetIsADuplicateNotAConflict) {
  AppendRequest request{.topic = "t", .payloads = {"a"}, .expected_next_offset = 0, .idempotency_key = "k"};
  AppendOutcome first = log_->Append(request);
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  // The producer did not hear the answer and retries the very same request.
  AppendOutcome retry = log_->Append(request);
  ASSERT_TRUE(retry.status.ok()) << retry.status.ToString();
  EXPECT_TRUE(retry.result.duplicate);
  EXPECT_EQ(retry.result.first_offset, 0u);
  EXPECT_EQ(Describe("t").next_offset, 1u);
}

TEST_P(EngineAppendTest, IdempotencyKeysAreScopedToTheirTopic) {
  AppendRequest request{.topic = "a", .payloads = {"x"}, .idempotency_key = "k"};
  ASSERT_TRUE(log_->Append(request).status.ok());
  AppendOk("b", {"y", "z"});
  request.topic = "b";
  AppendOutcome other = log_->Append(request);
  ASSERT_TRUE(other.status.ok());
  EXPECT_FALSE(other.result.duplicate);
  EXPECT_EQ(other.result.first_offset, 2u);
}

TEST_P(EngineAppendTest, ConcurrentAppendsWithTheSameIdempotencyKeyWriteOnce) {
  constexpr int kThreads = 8;
  std::vector<AppendOutcome> outcomes(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      outcomes[i] = log_->Append({.topic = "t", .payloads = {"only-once"}, .idempotency_key = "same"});
    });
  }
  for (std::thread& t : threads) t.join();
  int written = 0;
  for (const AppendOutcome& o : outcomes) {
    ASSERT_TRUE(o.status.ok()) << o.status.ToString();
    EXPECT_EQ(o.result.first_offset, 0u);
    if (!o.result.duplicate) ++written;
  }
  EXPECT_EQ(written, 1);
  EXPECT_EQ(ReadPayloads("t"), std::vector<std::string>{"only-once"});
}

TEST_P(EngineAppendTest, UnknownTopicWithoutCreateIsNotFound) {
  AppendOutcome outcome = log_->Append({.topic = "absent", .payloads = {"x"}, .create_topic = false});
  EXPECT_EQ(outcome.status.code(), StatusCode::kNotFound) << outcome.status.ToString();
  EXPECT_EQ(log_->DescribeTopic("absent").status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(log_->CreateTopic("present", {}).ok());
  EXPECT_TRUE(log_->Append({.topic = "present", .payloads = {"x"}, .create_topic = false}).status.ok());
}

TEST_P(EngineAppendTest, CreatingATopicTwiceIsAlreadyExists) {
  auto created = log_->CreateTopic("t", {.retention_events = 5});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->name, "t");
  EXPECT_EQ(created->next_offset, 0u);
  EXPECT_EQ(created->settings.retention_events, 5u);
  EXPECT_EQ(log_->CreateTopic("t", {}).status().code(), StatusCode::kAlreadyExists);
  AppendOk("auto", {"x"});
  EXPECT_EQ(log_->CreateTopic("auto", {}).status().code(), StatusCode::kAlreadyExists);
  // The first settings stay.
  EXPECT_EQ(Describe("t").settings.retention_events, 5u);
}

TEST_P(EngineAppendTest, ConcurrentAppendersGetUniqueDenseOffsetsInTheirOwnOrder) {
  options_.sync = true;  // the real group-commit path: one sync for many callers
  ASSERT_NO_FATAL_FAILURE(Reopen());
  constexpr int kThreads = 16;
  constexpr int kPerThread = 200;
  std::vector<std::vector<std::uint64_t>> offsets(kThreads);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        AppendOutcome o = Append("t", {std::to_string(t) + ":" + std::to_string(i)});
        if (!o.status.ok()) {
          ++failures;
          return;
        }
        offsets[t].push_back(o.result.first_offset);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);

  std::vector<bool> seen(kThreads * kPerThread, false);
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(offsets[t].size(), static_cast<std::size_t>(kPerThread));
    for (int i = 0; i < kPerThread; ++i) {
      const std::uint64_t off = offsets[t][i];
      ASSERT_LT(off, seen.size());
      EXPECT_FALSE(seen[off]) << "offset " << off << " given twice";
      seen[off] = true;
      if (i > 0) {
        EXPECT_GT(off, offsets[t][i - 1]) << "thread " << t;
      }
    }
  }
  std::vector<Event> events = ReadAll("t");
  ASSERT_EQ(events.size(), seen.size());
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      EXPECT_EQ(events[offsets[t][i]].payload, std::to_string(t) + ":" + std::to_string(i));
    }
  }
}

TEST_P(EngineAppendTest, ConcurrentAppendsToManyTopicsKeepEachTopicDense) {
  options_.sync = true;
  ASSERT_NO_FATAL_FAILURE(Reopen());
  constexpr int kThreads = 8;
  constexpr int kTopics = 4;
  constexpr int kPerThread = 100;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Batches of 1..3 to mix sizes within one commit.
        std::vector<std::string> batch(1 + i % 3, "t" + std::to_string(t));
        if (!Append("topic" + std::to_string((t + i) % kTopics), batch).status.ok()) ++failures;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  std::uint64_t total = 0;
  for (int k = 0; k < kTopics; ++k) {
    const std::string topic = "topic" + std::to_string(k);
    std::vector<Event> events = ReadAll(topic);
    for (std::size_t i = 0; i < events.size(); ++i) ASSERT_EQ(events[i].offset, i) << topic;
    TopicInfo info = Describe(topic);
    EXPECT_EQ(info.next_offset, events.size());
    EXPECT_EQ(info.event_count, events.size());
    total += events.size();
  }
  std::uint64_t expected = 0;
  for (int i = 0; i < kPerThread; ++i) expected += 1 + i % 3;
  EXPECT_EQ(total, expected * kThreads);
}

TEST_P(EngineAppendTest, AsyncAppendsFromOneThreadCompleteInSubmissionOrder) {
  constexpr int kAppends = 500;
  auto outcomes = testing::AsyncOutcomes::Make(kAppends);
  for (int i = 0; i < kAppends; ++i) {
    log_->AppendAsync({.topic = "t", .payloads = Payloads("a" + std::to_string(i) + "-", 1 + i % 2)},
                      outcomes->Callback(i));
  }
  ASSERT_TRUE(outcomes->WaitAll(std::chrono::seconds(30))) << outcomes->done() << " of " << kAppends << " completed";
  EXPECT_EQ(outcomes->repeated(), 0) << "a callback ran twice";
  std::uint64_t next = 0;
  for (int i = 0; i < kAppends; ++i) {
    AppendOutcome o = outcomes->Get(i);
    ASSERT_TRUE(o.status.ok()) << i << ": " << o.status.ToString();
    EXPECT_EQ(o.result.first_offset, next) << "append " << i;
    next += 1 + i % 2;
  }
  std::vector<std::string> payloads = ReadPayloads("t");
  ASSERT_EQ(payloads.size(), next);
  EXPECT_EQ(payloads[0], "a0-0");
  EXPECT_EQ(payloads[next - 1], "a" + std::to_string(kAppends - 1) + "-1");
}

GOETHE_ENGINE_TEST_SUITE(EngineAppendTest);

}  // namespace
}  // namespace goethe
