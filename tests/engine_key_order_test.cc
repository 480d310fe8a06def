// Events ordered by time first (format 4, engine.key_order: time): many topics written in turn and
// read back across segments, what retention and topic deletion leave in the store, and that a store
// keeps the order it was created with. Every other engine suite runs in this order too (on RocksDB,
// "rocksdb_time"); these tests look at the stored keys themselves, on every backend.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "support/engine_fixture.h"

namespace goethe {
namespace {

using testing::kSecond;
using testing::Payloads;

std::uint64_t BigEndianAt(std::string_view key, std::size_t at) {
  std::uint64_t v = 0;
  for (std::size_t i = at; i < at + 8; ++i) v = (v << 8) | static_cast<unsigned char>(key[i]);
  return v;
}

class EngineKeyOrderTest : public testing::EngineTest {
 protected:
  struct StoredKeys {
    std::map<std::uint64_t, std::vector<std::uint64_t>> segments_by_topic;  // of each `E` key, in key order
    std::map<std::uint64_t, std::vector<std::uint64_t>> directory;          // first offsets of `d` entries
    std::size_t topic_ordered = 0;                                          // `e` keys
  };
  StoredKeys ReadKeys() {
    StoredKeys keys;
    auto it = store_->NewIterator({});
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string_view key = it->key();
      if (key[0] == 'E' && key.size() == 25) keys.segments_by_topic[BigEndianAt(key, 9)].push_back(BigEndianAt(key, 1));
      if (key[0] == 'd' && key.size() == 17) keys.directory[BigEndianAt(key, 1)].push_back(BigEndianAt(key, 9));
      if (key[0] == 'e') ++keys.topic_ordered;
    }
    EXPECT_TRUE(it->status().ok());
    return keys;
  }

  // What opening the log over the closed store with `options_` says.
  Status OpenedStatus() {
    auto store = plugin_->Open(dir_.Sub("store"), {});
    if (!store.ok()) return Internal("the store did not open: " + store.status().ToString());
    return EventLog::Open(std::move(store).value(), options_).status();
  }

  // Three topics, each given two events at a time in turn: 20 rounds, segments of 3 events.
  void WriteInTurn(int rounds = 20) {
    for (int round = 0; round < rounds; ++round) {
      for (const char* topic : {"a", "b", "c"}) {
        const std::string prefix = std::string(topic) + std::to_string(round) + "-";
        AppendOk(topic, Payloads(prefix, 2));
      }
    }
  }
  static std::vector<std::string> Expected(const std::string& topic, int from_round, int rounds) {
    std::vector<std::string> out;
    for (int round = from_round; round < rounds; ++round) {
      for (const std::string& p : Payloads(topic + std::to_string(round) + "-", 2)) out.push_back(p);
    }
    return out;
  }
};

TEST_P(EngineKeyOrderTest, TopicsWrittenInTurnReadBackInOrderFromEveryOffset) {
  WriteInTurn();
  for (const std::string topic : {"a", "b", "c"}) {
    const std::vector<std::string> expected = Expected(topic, 0, 20);
    EXPECT_EQ(ReadPayloads(topic), expected) << topic;
    for (std::uint64_t from = 0; from < expected.size(); from += 3) {
      auto page = log_->Read({.topic = topic, .from_offset = from, .max_events = 4});
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      ASSERT_EQ(page->events.size(), std::min<std::size_t>(4, expected.size() - from)) << topic << " from " << from;
      for (std::size_t i = 0; i < page->events.size(); ++i) {
        EXPECT_EQ(page->events[i].offset, from + i);
        EXPECT_EQ(page->events[i].payload, expected[from + i]);
      }
    }
  }
  const StoredKeys keys = ReadKeys();
  EXPECT_EQ(keys.topic_ordered, 0u);
  ASSERT_EQ(keys.segments_by_topic.size(), 3u);
  for (const auto& [topic_id, segments] : keys.segments_by_topic) {
    EXPECT_EQ(segments.size(), 40u);
    const std::set<std::uint64_t> distinct(segments.begin(), segments.end());
    EXPECT_GT(distinct.size(), 5u) << "the topic's events should span many segments";
    EXPECT_EQ(keys.directory.at(topic_id).size(), distinct.size()) << "one directory entry per segment";
  }
}

TEST_P(EngineKeyOrderTest, AppendsAfterAReopenGoToANewerSegmentThanAnyBefore) {
  WriteInTurn(3);
  std::uint64_t newest_before = 0;
  for (const auto& [id, segments] : ReadKeys().segments_by_topic) newest_before = std::max(newest_before, segments.back());
  ASSERT_NO_FATAL_FAILURE(Reopen());
  AppendOk("a", {"after"});
  const StoredKeys keys = ReadKeys();
  const std::uint64_t id = Describe("a").id;
  EXPECT_GT(keys.segments_by_topic.at(id).back(), newest_before);
  std::vector<std::string> expected = Expected("a", 0, 3);
  expected.push_back("after");
  EXPECT_EQ(ReadPayloads("a"), expected);
}

TEST_P(EngineKeyOrderTest, RetentionRemovesPastSegmentsEventsAndDirectoryEntries) {
  ASSERT_TRUE(log_->CreateTopic("a", {.retention_events = 5}).ok());
  WriteInTurn();
  ASSERT_TRUE(log_->EnforceRetention().ok());
  const std::uint64_t a = Describe("a").id, b = Describe("b").id;
  EXPECT_EQ(Describe("a").first_offset, 35u);
  const std::vector<std::string> all_of_a = Expected("a", 0, 20);
  EXPECT_EQ(ReadPayloads("a"), std::vector<std::string>(all_of_a.begin() + 35, all_of_a.end()));
  EXPECT_EQ(ReadPayloads("b"), Expected("b", 0, 20)) << "another topic's events in the same segments stay";

  const StoredKeys keys = ReadKeys();
  EXPECT_EQ(keys.segments_by_topic.at(a).size(), 5u);
  // Only the entries from the one whose segment holds offset 35 on are left.
  const std::vector<std::uint64_t>& entries = keys.directory.at(a);
  ASSERT_FALSE(entries.empty());
  EXPECT_LE(entries.front(), 35u);
  for (std::size_t i = 1; i < entries.size(); ++i) EXPECT_GT(entries[i], 35u);
  const std::set<std::uint64_t> segments_of_b(keys.segments_by_topic.at(b).begin(), keys.segments_by_topic.at(b).end());
  EXPECT_EQ(keys.directory.at(b).size(), segments_of_b.size());

  ASSERT_NO_FATAL_FAILURE(Reopen());  // recovery checks the directory against the events
  EXPECT_EQ(Describe("a").first_offset, 35u);
  EXPECT_EQ(Describe("a").next_offset, 40u);
}

TEST_P(EngineKeyOrderTest, RetentionOfEveryEventKeepsTheHeadAcrossAReopen) {
  ASSERT_TRUE(log_->CreateTopic("a", {.retention_age_ns = kSecond}).ok());
  WriteInTurn(4);
  clock_.Advance(2 * kSecond);
  ASSERT_TRUE(log_->EnforceRetention().ok());
  EXPECT_EQ(Describe("a").event_count, 0u);
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(Describe("a").next_offset, 8u);
  EXPECT_EQ(AppendOk("a", {"next"}).first_offset, 8u);
  EXPECT_EQ(ReadPayloads("a"), std::vector<std::string>{"next"});
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(ReadPayloads("a"), std::vector<std::string>{"next"});
}

TEST_P(EngineKeyOrderTest, DeletingATopicRemovesItsEventsFromEverySegment) {
  WriteInTurn();
  const std::uint64_t b = Describe("b").id;
  ASSERT_TRUE(log_->DeleteTopic("b").ok());
  const StoredKeys keys = ReadKeys();
  EXPECT_EQ(keys.segments_by_topic.count(b), 0u);
  EXPECT_EQ(keys.directory.count(b), 0u);
  EXPECT_EQ(ReadPayloads("a"), Expected("a", 0, 20));
  EXPECT_EQ(ReadPayloads("c"), Expected("c", 0, 20));
  EXPECT_EQ(AppendOk("b", {"again"}).first_offset, 0u);
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(ReadPayloads("b"), std::vector<std::string>{"again"});
}

TEST_P(EngineKeyOrderTest, AStoreKeepsTheOrderItWasCreatedWith) {
  AppendOk("a", {"x"});
  CloseAll();
  options_.key_order = KeyOrder::kTopic;
  const Status refused = OpenedStatus();
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition) << refused.ToString();
  EXPECT_NE(refused.message().find("engine.key_order: expected time for this store, got topic: the store orders "
                                   "its events by time (format 'goethe-log-4')"),
            std::string::npos)
      << refused.message();

  options_.key_order.reset();  // unset: the store's own order
  ASSERT_NO_FATAL_FAILURE(Open());
  EXPECT_EQ(ReadPayloads("a"), std::vector<std::string>{"x"});
  AppendOk("a", {"y"});
  EXPECT_EQ(ReadKeys().topic_ordered, 0u);
}

TEST_P(EngineKeyOrderTest, ATopicOrderedStoreIsNotReorderedByTheSetting) {
  CloseAll();
  options_.key_order = KeyOrder::kTopic;
  std::filesystem::remove_all(dir_.Sub("store"));
  ASSERT_NO_FATAL_FAILURE(Open());
  AppendOk("a", {"x"});
  CloseAll();
  options_.key_order = KeyOrder::kTime;
  const Status refused = OpenedStatus();
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition) << refused.ToString();
  EXPECT_NE(refused.message().find("engine.key_order: expected topic for this store, got time"), std::string::npos)
      << refused.message();
}

TEST_P(EngineKeyOrderTest, AFollowerRefusesEventsWrittenInTheOtherOrder) {
  AppendOk("a", {"x"});
  kv::WriteBatch leader_batch;
  leader_batch.Put(std::string("e") + std::string(7, '\0') + "\1" + std::string(7, '\0') + "\1", "value");
  Status applied = log_->ApplyDecided(leader_batch, false);
  EXPECT_EQ(applied.code(), StatusCode::kFailedPrecondition) << applied.ToString();
  EXPECT_NE(applied.message().find("every node of a cluster needs the same engine.key_order"), std::string::npos)
      << applied.message();
  EXPECT_EQ(ReadKeys().topic_ordered, 0u) << "nothing of the refused batch is written";
  EXPECT_EQ(ReadPayloads("a"), std::vector<std::string>{"x"});
}

TEST_P(EngineKeyOrderTest, ADamagedDirectoryEntryIsDataLossAtOpen) {
  AppendOk("a", {"x"});
  const std::uint64_t id = Describe("a").id;
  CloseAll();
  {
    auto store = plugin_->Open(dir_.Sub("store"), {});
    ASSERT_TRUE(store.ok());
    std::string key = "d";  // the entry of offset 0
    for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>(id >> shift));
    key.append(8, '\0');
    kv::WriteBatch batch;
    batch.Put(key, "short");
    ASSERT_TRUE(store.value()->Write({.sync = true}, batch).ok());
  }
  const Status opened = OpenedStatus();
  EXPECT_EQ(opened.code(), StatusCode::kDataLoss) << opened.ToString();
  EXPECT_NE(opened.message().find("damaged segment directory entry"), std::string::npos) << opened.message();
}

// The newest directory entry came with the first event of its segment: newest events lost after it
// are found even where the time index (one entry per minute here) cannot tell.
TEST_P(EngineKeyOrderTest, LostEventsThatTheDirectoryNamesAreDataLossAtOpen) {
  AppendOk("a", Payloads("x", 3));  // a segment of 3 events is full: the next append starts another
  AppendOk("a", Payloads("y", 3));
  const std::uint64_t id = Describe("a").id;
  ASSERT_EQ(ReadKeys().directory.at(id), (std::vector<std::uint64_t>{0, 3}));
  CloseAll();
  {
    auto store = plugin_->Open(dir_.Sub("store"), {});
    ASSERT_TRUE(store.ok());
    std::string lost_from;  // the key of offset 3, the first of the newest segment
    auto it = store.value()->NewIterator({.lower_bound = "E", .upper_bound = "F"});
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (BigEndianAt(it->key(), 9) == id && BigEndianAt(it->key(), 17) == 3) lost_from = std::string(it->key());
    }
    it.reset();
    ASSERT_FALSE(lost_from.empty());
    std::string end = lost_from;
    end[24] = 6;  // offsets 3, 4 and 5
    kv::WriteBatch batch;
    batch.DeleteRange(lost_from, end);
    ASSERT_TRUE(store.value()->Write({.sync = true}, batch).ok());
  }
  const Status opened = OpenedStatus();
  EXPECT_EQ(opened.code(), StatusCode::kDataLoss) << opened.ToString();
  EXPECT_NE(opened.message().find("segment directory names offset 3, but its newest event is 2"), std::string::npos)
      << opened.message();
}

INSTANTIATE_TEST_SUITE_P(TimeOrdered, EngineKeyOrderTest,
                         ::testing::Values("leveldb_time", "rocksdb_time", "lmdb_time"),
                         ::goethe::testing::BackendName);

}  // namespace
}  // namespace goethe
