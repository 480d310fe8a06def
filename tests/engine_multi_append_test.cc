// Appends across topics in the engine, on every backend: all parts or none, each part's own
// expected offset, one idempotency key for the whole, and the checks that refuse a request before
// anything is queued. (The SIGKILL test is in engine_crash_test.cc.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/engine_fixture.h"

namespace goethe {
namespace {

using testing::Payloads;

AppendRequest Part(const std::string& topic, std::vector<std::string> payloads,
                   std::optional<std::uint64_t> expected = std::nullopt) {
  AppendRequest part;
  part.topic = topic;
  part.payloads = std::move(payloads);
  part.expected_next_offset = expected;
  return part;
}

class EngineMultiAppendTest : public testing::EngineTest {
 protected:
  MultiAppendOutcome AppendMulti(std::vector<AppendRequest> parts, std::string idempotency_key = "") {
    return log_->AppendMulti({std::move(parts), std::move(idempotency_key)});
  }
  std::uint64_t NextOffset(const std::string& topic) { return Describe(topic).next_offset; }
};

TEST_P(EngineMultiAppendTest, EveryTopicGetsItsEventsInOneAppend) {
  AppendOk("orders", Payloads("o", 3));
  AppendRequest stock = Part("stock", {"s0", "s1"});
  stock.attributes = {{"sku-1", {{"type", "Reserved"}}}, {"sku-2", {{"type", "Reserved"}}}};
  MultiAppendOutcome outcome = AppendMulti({Part("orders", {"o3"}, 3), std::move(stock)});
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  ASSERT_EQ(outcome.parts.size(), 2u);
  EXPECT_EQ(outcome.parts[0].result.first_offset, 3u);
  EXPECT_EQ(outcome.parts[0].next_offset, 4u);
  EXPECT_EQ(outcome.parts[1].result.first_offset, 0u);
  EXPECT_EQ(outcome.parts[1].next_offset, 2u);
  EXPECT_EQ(outcome.parts[1].result.timestamps.size(), 2u);

  EXPECT_EQ(testing::EngineTest::ReadPayloads("orders"), (std::vector<std::string>{"o0", "o1", "o2", "o3"}));
  const std::vector<Event> stock_events = ReadAll("stock");
  ASSERT_EQ(stock_events.size(), 2u);
  EXPECT_EQ(stock_events[1].key, "sku-2");
  // One commit: both topics' events carry the same append time.
  EXPECT_EQ(ReadAll("orders")[3].timestamp_ns, stock_events[0].timestamp_ns);
}

TEST_P(EngineMultiAppendTest, OneConflictWritesNothingAnywhereAndNamesTheTopic) {
  AppendOk("orders", Payloads("o", 2));
  AppendOk("stock", Payloads("s", 5));
  MultiAppendOutcome outcome =
      AppendMulti({Part("orders", {"o2"}, 2), Part("brand-new", {"n0"}), Part("stock", {"s5"}, 4)});
  ASSERT_EQ(outcome.status.code(), StatusCode::kAborted) << outcome.status.ToString();
  EXPECT_NE(outcome.status.message().find("'stock'"), std::string::npos) << outcome.status.message();
  EXPECT_NE(outcome.status.message().find("next offset is 5"), std::string::npos) << outcome.status.message();
  ASSERT_TRUE(outcome.failed_part.has_value());
  EXPECT_EQ(*outcome.failed_part, 2u);
  EXPECT_EQ(outcome.parts[2].next_offset, 5u);

  EXPECT_EQ(NextOffset("orders"), 2u);
  EXPECT_EQ(NextOffset("stock"), 5u);
  EXPECT_EQ(log_->DescribeTopic("brand-new").status().code(), StatusCode::kNotFound);
  // The same holds after a reopen: nothing reached the store.
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(NextOffset("orders"), 2u);
  EXPECT_EQ(log_->DescribeTopic("brand-new").status().code(), StatusCode::kNotFound);
}

TEST_P(EngineMultiAppendTest, AMissingTopicWithoutAutoCreateWritesNothing) {
  AppendOk("orders", Payloads("o", 1));
  AppendRequest missing = Part("missing", {"m"});
  missing.create_topic = false;
  MultiAppendOutcome outcome = AppendMulti({Part("orders", {"o1"}), std::move(missing)});
  EXPECT_EQ(outcome.status.code(), StatusCode::kNotFound);
  EXPECT_NE(outcome.status.message().find("'missing'"), std::string::npos);
  EXPECT_EQ(NextOffset("orders"), 1u);
}

TEST_P(EngineMultiAppendTest, AnIdempotentRetryWritesNothingAndAnswersAsTheFirstTime) {
  MultiAppendOutcome first = AppendMulti({Part("a", {"a0", "a1"}), Part("b", {"b0"})}, "transfer-1");
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  AppendOk("a", {"a2"});
  MultiAppendOutcome retry = AppendMulti({Part("a", {"a0", "a1"}), Part("b", {"b0"})}, "transfer-1");
  ASSERT_TRUE(retry.status.ok()) << retry.status.ToString();
  ASSERT_EQ(retry.parts.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(retry.parts[i].result.duplicate);
    EXPECT_EQ(retry.parts[i].result.first_offset, first.parts[i].result.first_offset);
    EXPECT_EQ(retry.parts[i].result.timestamps, first.parts[i].result.timestamps);
  }
  EXPECT_EQ(NextOffset("a"), 3u);
  EXPECT_EQ(NextOffset("b"), 1u);

  // The key on a set of topics it was only partly used on names another append: refused.
  MultiAppendOutcome other = AppendMulti({Part("a", {"x"}), Part("c", {"y"})}, "transfer-1");
  EXPECT_EQ(other.status.code(), StatusCode::kFailedPrecondition) << other.status.ToString();
  EXPECT_NE(other.status.message().find("'c'"), std::string::npos) << other.status.message();
  EXPECT_EQ(NextOffset("a"), 3u);
  EXPECT_EQ(log_->DescribeTopic("c").status().code(), StatusCode::kNotFound);
}

TEST_P(EngineMultiAppendTest, MalformedRequestsAreRefusedBeforeAnythingIsQueued) {
  auto refused = [&](std::vector<AppendRequest> parts, const std::string& words, std::string key = "") {
    MultiAppendOutcome outcome = AppendMulti(std::move(parts), std::move(key));
    EXPECT_EQ(outcome.status.code(), StatusCode::kInvalidArgument) << words;
    EXPECT_NE(outcome.status.message().find(words), std::string::npos) << outcome.status.message();
  };
  refused({}, "at least one topic");
  refused({Part("a", {"1"}), Part("a", {"2"})}, "appears twice");
  AppendRequest keyed = Part("b", {"1"});
  keyed.idempotency_key = "own";
  refused({Part("a", {"1"}), std::move(keyed)}, "one idempotency key for all");
  refused({Part("a", {"1"}), Part("b", {})}, "topic 'b': an append needs at least one event");
  refused({Part("a", {"1"}), Part("bad name", {"1"})}, "topic 'bad name'");
  refused({Part("a", {"1"})}, "idempotency key must be at most 255 bytes", std::string(256, 'k'));
  EXPECT_FALSE(log_->DescribeTopic("a").ok());
}

TEST_P(EngineMultiAppendTest, ConcurrentAsyncAppendsAcrossTopicsKeepEveryTopicDense) {
  constexpr int kAppends = 200;
  auto done = std::make_shared<std::atomic<int>>(0);
  auto failures = std::make_shared<std::atomic<int>>(0);
  for (int i = 0; i < kAppends; ++i) {
    MultiAppendRequest request;
    request.parts.push_back(Part("x", {"x" + std::to_string(i)}));
    request.parts.push_back(Part("y", {"y" + std::to_string(i), "y" + std::to_string(i)}));
    log_->AppendMultiAsync(std::move(request), [done, failures](MultiAppendOutcome outcome) {
      if (!outcome.status.ok()) failures->fetch_add(1);
      done->fetch_add(1);
    });
  }
  for (int i = 0; i < 1000 && done->load() < kAppends; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(done->load(), kAppends);
  EXPECT_EQ(failures->load(), 0);
  const std::vector<Event> x = ReadAll("x");
  const std::vector<Event> y = ReadAll("y");
  ASSERT_EQ(x.size(), static_cast<std::size_t>(kAppends));
  ASSERT_EQ(y.size(), static_cast<std::size_t>(2 * kAppends));
  // Each append's parts landed together: x's i-th event pairs with y's events 2i and 2i+1.
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::string n = x[i].payload.substr(1);
    EXPECT_EQ(y[2 * i].payload, "y" + n);
    EXPECT_EQ(y[2 * i + 1].payload, "y" + n);
  }
}

GOETHE_ENGINE_TEST_SUITE(EngineMultiAppendTest);

}  // namespace
}  // namespace goethe
