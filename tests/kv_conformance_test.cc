// The KV contract, written once and run against every backend plugin through the real loader.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include <unistd.h>

#include "goethe/engine/plugin_loader.h"
#include "support/plugins.h"
#include "support/temp_dir.h"

namespace goethe {
namespace {

using testing::TempDir;

class KvConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto plugin = BackendPlugin::LoadFile(testing::PluginFile(GetParam()), "test");
    ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
    plugin_.emplace(std::move(plugin).value());
    Reopen();
  }

  void Reopen() {
    store_.reset();
    auto store = plugin_->Open(dir_.Sub("store"), {});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  void Put(const std::string& key, const std::string& value, bool sync = false) {
    kv::WriteBatch batch;
    batch.Put(key, value);
    ASSERT_TRUE(store_->Write({.sync = sync}, batch).ok());
  }

  std::vector<std::string> KeysForward(const kv::ReadOptions& options = {}) {
    std::vector<std::string> keys;
    auto it = store_->NewIterator(options);
    for (it->SeekToFirst(); it->Valid(); it->Next()) keys.emplace_back(it->key());
    EXPECT_TRUE(it->status().ok());
    return keys;
  }

  std::vector<std::string> KeysBackward(const kv::ReadOptions& options = {}) {
    std::vector<std::string> keys;
    auto it = store_->NewIterator(options);
    for (it->SeekToLast(); it->Valid(); it->Prev()) keys.emplace_back(it->key());
    return keys;
  }

  std::string GetOrDie(const std::string& key) {
    std::string value;
    kv::Status s = store_->Get({}, key, &value);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return value;
  }

  TempDir dir_;
  std::optional<BackendPlugin> plugin_;
  std::shared_ptr<kv::Store> store_;
};

std::string Bytes(std::initializer_list<unsigned char> bytes) { return std::string(bytes.begin(), bytes.end()); }

TEST_P(KvConformanceTest, BinaryKeysSortBytewiseWithPrefixesFirst) {
  std::vector<std::string> keys = {Bytes({0x00}), Bytes({0x00, 0x00}), Bytes({0x00, 0x01}),
                                   "a", "ab", "abc", "b", Bytes({0x7f}), Bytes({0x80}),
                                   Bytes({0xff}), Bytes({0xff, 0x00}), Bytes({0xff, 0xff})};
  std::vector<std::string> shuffled = keys;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(7));
  kv::WriteBatch batch;
  for (const std::string& k : shuffled) batch.Put(k, "v" + k);
  ASSERT_TRUE(store_->Write({}, batch).ok());

  EXPECT_EQ(KeysForward(), keys);
  std::vector<std::string> reversed(keys.rbegin(), keys.rend());
  EXPECT_EQ(KeysBackward(), reversed);
  EXPECT_EQ(GetOrDie(Bytes({0xff, 0x00})), "v" + Bytes({0xff, 0x00}));
}

TEST_P(KvConformanceTest, EmptyAndOneMebibyteValuesRoundTrip) {
  std::string big(1 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 251);
  Put("empty", "");
  Put("big", big);
  EXPECT_EQ(GetOrDie("empty"), "");
  EXPECT_EQ(GetOrDie("big"), big);
  Reopen();
  EXPECT_EQ(GetOrDie("empty"), "");
  EXPECT_EQ(GetOrDie("big"), big);
}

TEST_P(KvConformanceTest, GetOfAbsentKeyIsNotFound) {
  std::string value;
  EXPECT_EQ(store_->Get({}, "absent", &value).code(), kv::Code::kNotFound);
}

TEST_P(KvConformanceTest, KeySizeRuleIsTheSameOnEveryBackend) {
  kv::WriteBatch empty_key;
  empty_key.Put("", "v");
  kv::Status s = store_->Write({}, empty_key);
  EXPECT_EQ(s.code(), kv::Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "key of 0 bytes is outside the allowed 1..511 bytes");

  kv::WriteBatch long_key;
  long_key.Put(std::string(512, 'k'), "v");
  s = store_->Write({}, long_key);
  EXPECT_EQ(s.message(), "key of 512 bytes is outside the allowed 1..511 bytes");

  Put(std::string(511, 'k'), "longest");
  EXPECT_EQ(GetOrDie(std::string(511, 'k')), "longest");
  std::string value;
  EXPECT_EQ(store_->Get({}, "", &value).code(), kv::Code::kInvalidArgument);
}

TEST_P(KvConformanceTest, BatchWithOneBadKeyWritesNothing) {
  kv::WriteBatch batch;
  batch.Put("first", "1");
  batch.Put(std::string(600, 'x'), "bad");
  batch.Put("last", "3");
  EXPECT_FALSE(store_->Write({}, batch).ok());
  EXPECT_TRUE(KeysForward().empty());
}

TEST_P(KvConformanceTest, BatchIsAppliedWholeAndSurvivesReopen) {
  kv::WriteBatch batch;
  for (int i = 0; i < 100; ++i) batch.Put("key" + std::to_string(1000 + i), std::to_string(i));
  batch.Delete("key1050");
  batch.Put("key1050", "again");  // later operations win over earlier ones
  ASSERT_TRUE(store_->Write({.sync = true}, batch).ok());
  Reopen();
  EXPECT_EQ(KeysForward().size(), 100u);
  EXPECT_EQ(GetOrDie("key1050"), "again");
  EXPECT_EQ(GetOrDie("key1099"), "99");
}

TEST_P(KvConformanceTest, DeleteRangeRemovesExactlyTheHalfOpenRange) {
  kv::WriteBatch batch;
  for (char c = 'a'; c <= 'h'; ++c) batch.Put(std::string(1, c), "v");
  batch.Put("c0", "v");
  ASSERT_TRUE(store_->Write({}, batch).ok());
  kv::WriteBatch del;
  del.DeleteRange("c", "f");
  ASSERT_TRUE(store_->Write({}, del).ok());
  EXPECT_EQ(KeysForward(), (std::vector<std::string>{"a", "b", "f", "g", "h"}));
  Reopen();
  EXPECT_EQ(KeysForward(), (std::vector<std::string>{"a", "b", "f", "g", "h"}));
}

TEST_P(KvConformanceTest, SeeksPastTheEndAndBeforeTheStart) {
  for (const char* k : {"b", "d", "f"}) Put(k, "v");
  auto it = store_->NewIterator({});
  it->Seek("g");
  EXPECT_FALSE(it->Valid());
  it->Seek("a");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "b");
  it->Prev();
  EXPECT_FALSE(it->Valid());
  it->Seek("c");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "d");
  it->SeekForPrev("e");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "d");
  it->SeekForPrev("d");
  EXPECT_EQ(it->key(), "d");
  it->SeekForPrev("a");
  EXPECT_FALSE(it->Valid());
  it->SeekForPrev("z");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "f");
  it->Next();
  EXPECT_FALSE(it->Valid());
  it->SeekToLast();
  EXPECT_EQ(it->key(), "f");
  EXPECT_EQ(it->value(), "v");
}

TEST_P(KvConformanceTest, IteratorsStayInsideTheirBounds) {
  for (const char* k : {"a", "b", "c", "d", "e"}) Put(k, "v");
  kv::ReadOptions bounded{.lower_bound = "b", .upper_bound = "d"};
  EXPECT_EQ(KeysForward(bounded), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(KeysBackward(bounded), (std::vector<std::string>{"c", "b"}));
  auto it = store_->NewIterator(bounded);
  it->Seek("a");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "b");
  it->Seek("d");
  EXPECT_FALSE(it->Valid());
  it->SeekForPrev("z");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "c");
  it->Next();
  EXPECT_FALSE(it->Valid());
  kv::ReadOptions upper_only{.upper_bound = "c"};
  EXPECT_EQ(KeysBackward(upper_only), (std::vector<std::string>{"b", "a"}));
}

TEST_P(KvConformanceTest, SnapshotDoesNotSeeLaterWrites) {
  Put("a", "old");
  std::unique_ptr<kv::Snapshot> snapshot = store_->GetSnapshot();
  Put("a", "new");
  Put("b", "new");
  kv::WriteBatch del;
  del.DeleteRange("a", "b");
  ASSERT_TRUE(store_->Write({}, del).ok());

  kv::ReadOptions at_snapshot{.snapshot = snapshot.get()};
  EXPECT_EQ(KeysForward(at_snapshot), (std::vector<std::string>{"a"}));
  std::string value;
  ASSERT_TRUE(store_->Get(at_snapshot, "a", &value).ok());
  EXPECT_EQ(value, "old");
  EXPECT_EQ(KeysForward(), (std::vector<std::string>{"b"}));
  snapshot.reset();
}

TEST_P(KvConformanceTest, OpenIteratorKeepsItsPointInTime) {
  Put("a", "1");
  auto it = store_->NewIterator({});
  Put("b", "2");
  it->SeekToFirst();
  ASSERT_TRUE(it->Valid());
  it->Next();
  EXPECT_FALSE(it->Valid()) << "saw a key written after the iterator was made";
}

TEST_P(KvConformanceTest, DataSurviveCloseAndReopen) {
  for (int i = 0; i < 1000; ++i) Put("k" + std::to_string(i), std::string(100, 'x'));
  ASSERT_TRUE(store_->Flush().ok());
  Reopen();
  EXPECT_EQ(KeysForward().size(), 1000u);
}

TEST_P(KvConformanceTest, ApproximateSizeOfEmptyRangeIsZeroAndOfDataIsBounded) {
  for (int i = 0; i < 2000; ++i) Put("k" + std::to_string(10000 + i), std::string(1000, 'x'));
  ASSERT_TRUE(store_->Flush().ok());
  std::uint64_t bytes = 1;
  ASSERT_TRUE(store_->ApproximateSize("z0", "z9", &bytes).ok());
  EXPECT_EQ(bytes, 0u);
  ASSERT_TRUE(store_->ApproximateSize("k", "l", &bytes).ok());
  EXPECT_LE(bytes, 4u * 2000 * 1000);  // an estimate, but not a wild one
}

// One writer rewrites ten keys to the same value in every batch; readers must never see two
// different values at once, in an iterator or across snapshot reads.
TEST_P(KvConformanceTest, ConcurrentReadersNeverSeeATornBatch) {
  constexpr int kKeys = 10;
  auto write_generation = [&](int generation) {
    kv::WriteBatch batch;
    for (int k = 0; k < kKeys; ++k) batch.Put("key" + std::to_string(k), std::to_string(generation));
    return store_->Write({}, batch);
  };
  ASSERT_TRUE(write_generation(0).ok());

  std::atomic<bool> stop{false};
  std::atomic<int> torn{0}, reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&, r] {
      while (!stop.load()) {
        std::set<std::string> seen;
        if (r % 2 == 0) {
          auto it = store_->NewIterator({});
          for (it->SeekToFirst(); it->Valid(); it->Next()) seen.emplace(it->value());
        } else {
          auto snapshot = store_->GetSnapshot();
          for (int k = 0; k < kKeys; ++k) {
            std::string v;
            if (store_->Get({.snapshot = snapshot.get()}, "key" + std::to_string(k), &v).ok()) seen.insert(v);
          }
        }
        if (seen.size() != 1) torn++;
        reads++;
      }
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  int generation = 1;
  for (; generation <= 2000 && std::chrono::steady_clock::now() < deadline; ++generation) {
    ASSERT_TRUE(write_generation(generation).ok());
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GT(reads.load(), 0);
  EXPECT_GT(generation, 10);
}

TEST_P(KvConformanceTest, OpeningAFileOrAnUnwritablePlaceFails) {
  const std::string file = dir_.WriteFile("not-a-dir", "x");
  auto on_file = plugin_->Open(file, {});
  ASSERT_FALSE(on_file.ok());
  EXPECT_NE(on_file.status().message().find("not-a-dir"), std::string::npos) << on_file.status().ToString();

  // /proc refuses new directories even to root, which chmod-based checks cannot show.
  auto in_proc = plugin_->Open("/proc/goethe-cannot-be-here", {});
  EXPECT_FALSE(in_proc.ok());

  const std::string readonly = dir_.Sub("readonly");
  std::filesystem::create_directory(readonly);
  std::filesystem::permissions(readonly, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  if (geteuid() != 0) {
    EXPECT_FALSE(plugin_->Open(readonly + "/store", {}).ok());
  }
}

TEST_P(KvConformanceTest, UnknownOptionIsNamed) {
  kv::OptionError error;
  kv::Status s = plugin_->factory().ValidateOptions({{"no_such_option", "1"}}, &error);
  EXPECT_EQ(s.code(), kv::Code::kInvalidArgument);
  EXPECT_EQ(error.key, "no_such_option");
  EXPECT_NE(error.message.find("unknown option"), std::string::npos);
  auto store = plugin_->Open(dir_.Sub("other"), {{"no_such_option", "1"}});
  EXPECT_FALSE(store.ok());
}

INSTANTIATE_TEST_SUITE_P(AllBackends, KvConformanceTest, ::testing::ValuesIn(testing::AllBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace goethe
