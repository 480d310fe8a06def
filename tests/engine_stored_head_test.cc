// Where a topic's head lives in the store: in its newest event (offset, timestamp, running payload
// total), so that appends only ever write new keys; and what opening does when the events and the
// retention record disagree.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "support/engine_fixture.h"

namespace goethe {
namespace {

using testing::kEpoch;
using testing::kSecond;
using testing::Payloads;
using testing::Printable;

class EngineStoredHeadTest : public testing::EngineTest {
 protected:
  static std::string BigEndian(std::uint64_t v) {
    std::string bytes;
    for (int shift = 56; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>(v >> shift));
    return bytes;
  }
  // An event's key and value as docs/storage.md lays them out: 'e', topic id, offset (ordered by
  // time: 'E', the segment it was written in, topic id, offset); time (0 here), running payload
  // total, payload.
  static std::string EventKey(kv::Store& store, std::uint64_t topic_id, std::uint64_t offset) {
    const std::string by_topic = "e" + BigEndian(topic_id) + BigEndian(offset);
    if (!TimeOrdered()) return by_topic;
    const std::string suffix = BigEndian(topic_id) + BigEndian(offset);
    auto it = store.NewIterator({.lower_bound = "E", .upper_bound = "F"});
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() == 25 && it->key().substr(9) == suffix) return std::string(it->key());
    }
    ADD_FAILURE() << "no stored key for offset " << offset;
    return by_topic;
  }
  static std::string EventValue(std::uint64_t running_total, const std::string& payload) {
    return BigEndian(0) + BigEndian(running_total) + payload;
  }
  static void Put(kv::Store& store, const std::string& key, const std::string& value) {
    kv::WriteBatch batch;
    batch.Put(key, value);
    ASSERT_TRUE(store.Write({.sync = true}, batch).ok());
  }
  static void Delete(kv::Store& store, const std::string& key) {
    kv::WriteBatch batch;
    batch.Delete(key);
    ASSERT_TRUE(store.Write({.sync = true}, batch).ok());
  }

  // Closes the log, changes the store directly, and opens the log over it again.
  Status ReopenAfter(const std::function<void(kv::Store&)>& change) {
    CloseAll();
    {
      auto store = plugin_->Open(dir_.Sub("store"), {});
      EXPECT_TRUE(store.ok()) << store.status().ToString();
      if (!store.ok()) return Internal("the store did not open");
      change(*store.value());
    }
    auto store = plugin_->Open(dir_.Sub("store"), {});
    if (!store.ok()) return Internal("the store did not open: " + store.status().ToString());
    store_ = std::move(store).value();
    auto log = EventLog::Open(store_, options_);
    if (!log.ok()) return log.status();
    log_ = std::move(log).value();
    return Status::Ok();
  }

  // Appends ten events of two bytes to `topic` and trims it to the newest four (offsets 6 to 9).
  std::uint64_t TrimmedTopic(const std::string& topic) {
    EXPECT_TRUE(log_->CreateTopic(topic, {.retention_events = 4}).ok());
    AppendOk(topic, Payloads("e", 10));
    EXPECT_TRUE(log_->EnforceRetention().ok());
    EXPECT_EQ(Describe(topic).first_offset, 6u);
    return Describe(topic).id;
  }
};

// A key written by every commit (a head record) makes every table an LSM store flushes overlap the
// others, so that compaction rewrites all events once more; appends must only add keys.
TEST_P(EngineStoredHeadTest, AppendsNeverWriteTheSameKeyTwice) {
  ASSERT_NO_FATAL_FAILURE(Reopen(Wrap::kCountReads));
  ASSERT_TRUE(log_->CreateTopic("t", {.index_granularity_ns = kSecond}).ok());
  for (int i = 0; i < 60; ++i) {
    clock_.Advance(kSecond / 3);  // a new index bucket every third append
    AppendOk("t", Payloads("t" + std::to_string(i) + "-", 1 + i % 3));
    if (i % 4 == 0) AppendOk("u", {"u" + std::to_string(i)});
    if (i % 10 == 0) {
      AppendRequest keyed{.topic = "t", .payloads = {"keyed"}, .idempotency_key = "k" + std::to_string(i)};
      ASSERT_TRUE(log_->Append(std::move(keyed)).status.ok());
    }
  }
  std::map<std::string, int> puts;
  for (const std::string& key : counting_->put_keys()) ++puts[key];
  ASSERT_GT(puts.size(), 150u);
  for (const auto& [key, times] : puts) {
    // Creating topic "u" (on its first append) counts the next topic id once more; nothing else may.
    if (key == "Mnext_topic_id") continue;
    EXPECT_EQ(times, 1) << "key " << Printable(key) << " was written " << times << " times";
  }

  const TopicInfo t = Describe("t"), u = Describe("u");
  ASSERT_NO_FATAL_FAILURE(Reopen());
  for (const auto& [before, name] : {std::pair{t, "t"}, std::pair{u, "u"}}) {
    const TopicInfo after = Describe(name);
    EXPECT_EQ(after.next_offset, before.next_offset) << name;
    EXPECT_EQ(after.bytes, before.bytes) << name;
    EXPECT_EQ(after.last_timestamp_ns, before.last_timestamp_ns) << name;
  }
}

TEST_P(EngineStoredHeadTest, ATopicThatRetentionEmptiedKeepsItsNewestTimestampAcrossReopen) {
  ASSERT_TRUE(log_->CreateTopic("t", {.retention_age_ns = kSecond}).ok());
  clock_.Set(kEpoch + 1000 * kSecond);
  const AppendResult appended = AppendOk("t", Payloads("e", 3));
  clock_.Set(kEpoch + 1100 * kSecond);
  ASSERT_TRUE(log_->EnforceRetention().ok());
  ASSERT_EQ(Describe("t").event_count, 0u);

  clock_.Set(kEpoch + 10 * kSecond);  // the machine comes back with an earlier clock
  ASSERT_NO_FATAL_FAILURE(Reopen());
  const TopicInfo info = Describe("t");
  EXPECT_EQ(info.next_offset, 3u);
  EXPECT_EQ(info.bytes, 0u);
  EXPECT_EQ(info.last_timestamp_ns, appended.timestamps.back());
  const AppendResult after = AppendOk("t", {"after"});
  EXPECT_EQ(after.first_offset, 3u);
  EXPECT_GE(after.timestamps[0], appended.timestamps.back());
}

TEST_P(EngineStoredHeadTest, AStoreOfTheEarlierFormatIsRefusedNamingBothFormats) {
  AppendOk("t", {"x"});
  Status opened = ReopenAfter([](kv::Store& store) { Put(store, "Mformat", "goethe-log-1"); });
  EXPECT_EQ(opened.code(), StatusCode::kFailedPrecondition) << opened.ToString();
  EXPECT_NE(opened.message().find("'goethe-log-1'"), std::string::npos) << opened.ToString();
  EXPECT_NE(opened.message().find("'goethe-log-2'"), std::string::npos) << opened.ToString();
}

TEST_P(EngineStoredHeadTest, AMissingOldestEventOfATrimmedTopicIsDataLossAtOpen) {
  const std::uint64_t id = TrimmedTopic("t");
  Status opened = ReopenAfter([&](kv::Store& store) { Delete(store, EventKey(store, id, 6)); });
  EXPECT_EQ(opened.code(), StatusCode::kDataLoss) << opened.ToString();
  EXPECT_NE(opened.message().find("does not follow on from its retention record"), std::string::npos)
      << opened.ToString();
}

TEST_P(EngineStoredHeadTest, AMissingFirstEventOfAnUntrimmedTopicIsDataLossAtOpen) {
  AppendOk("t", Payloads("e", 3));
  const std::uint64_t id = Describe("t").id;
  Status opened = ReopenAfter([&](kv::Store& store) { Delete(store, EventKey(store, id, 0)); });
  EXPECT_EQ(opened.code(), StatusCode::kDataLoss) << opened.ToString();
  EXPECT_NE(opened.message().find("oldest event (offset 1)"), std::string::npos) << opened.ToString();
}

TEST_P(EngineStoredHeadTest, LostNewestEventsThatTheTimeIndexNamesAreDataLossAtOpen) {
  ASSERT_TRUE(log_->CreateTopic("t", {.index_granularity_ns = kSecond}).ok());
  AppendOk("t", Payloads("a", 3));
  clock_.Advance(2 * kSecond);
  AppendOk("t", Payloads("b", 3));  // a new bucket, whose index entry names offset 3
  const std::uint64_t id = Describe("t").id;
  Status opened = ReopenAfter([&](kv::Store& store) {
    for (std::uint64_t offset = 3; offset < 6; ++offset) Delete(store, EventKey(store, id, offset));
  });
  EXPECT_EQ(opened.code(), StatusCode::kDataLoss) << opened.ToString();
  EXPECT_NE(opened.message().find("time index names offset 3, but its newest event is 2"), std::string::npos)
      << opened.ToString();
}

TEST_P(EngineStoredHeadTest, AnOldestEventWhoseRunningTotalDisagreesWithRetentionIsDataLossAtOpen) {
  const std::uint64_t id = TrimmedTopic("t");  // six events of two bytes removed: event 6 carries 14
  Status opened = ReopenAfter([&](kv::Store& store) { Put(store, EventKey(store, id, 6), EventValue(12, "e6")); });
  EXPECT_EQ(opened.code(), StatusCode::kDataLoss) << opened.ToString();
}

TEST_P(EngineStoredHeadTest, ANewestEventWhoseRunningTotalIsDamagedIsDataLossAtOpen) {
  AppendOk("t", {"abc", "defg"});
  const std::uint64_t id = Describe("t").id;
  // A running total of 3 bytes cannot include this event's 4.
  Status opened = ReopenAfter([&](kv::Store& store) { Put(store, EventKey(store, id, 1), EventValue(3, "defg")); });
  EXPECT_EQ(opened.code(), StatusCode::kDataLoss) << opened.ToString();
  EXPECT_NE(opened.message().find("damaged newest event record"), std::string::npos) << opened.ToString();
}

GOETHE_ENGINE_TEST_SUITE(EngineStoredHeadTest);

}  // namespace
}  // namespace goethe
