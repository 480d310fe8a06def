// The LMDB plugin's own guard against damage on disk: LMDB keeps no checksums, so the plugin
// stores a CRC-32 of key and value with every value (backends/lmdb/value_checksum.h) and a format
// marker beside data.mdb (backends/lmdb/format_marker.h). Here bytes of data.mdb are overwritten
// under a closed store, and stores without the marker are opened.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "goethe/engine/plugin_loader.h"
#include "support/plugins.h"
#include "support/temp_dir.h"

namespace goethe {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A value no other bytes of the store repeat, so that searching data.mdb finds only its copies.
const std::string kVictimValue = "victim-value:" + std::string(200, 'v') + ":end-of-victim";
const std::string kVictimKey = "victim-key";
const std::string kVictimKeyHex = "0x76696374696d2d6b6579";  // "victim-key"

// The whole of `file`.
std::string FileBytes(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Flips one bit in the middle of every copy of `needle` in `file` (LMDB copies pages on write, so
// a stale copy may sit in a freed page next to the live one); returns how many copies it hit.
int FlipInEveryCopy(const std::string& file, const std::string& needle) {
  const std::string bytes = FileBytes(file);
  std::fstream f(file, std::ios::binary | std::ios::in | std::ios::out);
  int hits = 0;
  for (std::size_t at = bytes.find(needle); at != std::string::npos; at = bytes.find(needle, at + 1)) {
    const std::size_t target = at + needle.size() / 2;
    f.clear();
    f.seekp(static_cast<std::streamoff>(target));
    f.put(static_cast<char>(bytes[target] ^ 0x01));
    ++hits;
  }
  return hits;
}

class LmdbChecksumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto plugin = BackendPlugin::LoadFile(testing::PluginFile("lmdb"), "test");
    ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
    plugin_.emplace(std::move(plugin).value());
  }

  std::shared_ptr<kv::Store> OpenOrDie() {
    auto store = plugin_->Open(Path(), {});
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // Writes "a", the victim and "z", then closes the store.
  void WriteThreeKeys() {
    std::shared_ptr<kv::Store> store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    kv::WriteBatch batch;
    batch.Put("a", "first");
    batch.Put(kVictimKey, kVictimValue);
    batch.Put("z", "last");
    ASSERT_TRUE(store->Write({.sync = true}, batch).ok());
  }

  std::string Path() const { return dir_.Sub("store"); }
  std::string DataFile() const { return Path() + "/data.mdb"; }
  std::string Marker() const { return Path() + "/goethe-lmdb-format"; }

  testing::TempDir dir_;
  std::optional<BackendPlugin> plugin_;
};

void ExpectNamesFileAndKey(const kv::Status& s, const std::string& data_file) {
  EXPECT_EQ(s.code(), kv::Code::kCorruption) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(data_file));
  EXPECT_THAT(s.message(), HasSubstr(kVictimKeyHex));
}

TEST_F(LmdbChecksumTest, DamagedValueIsCorruptionOnGetAndOnTheIterator) {
  WriteThreeKeys();
  ASSERT_GE(FlipInEveryCopy(DataFile(), kVictimValue), 1);
  std::shared_ptr<kv::Store> store = OpenOrDie();
  ASSERT_NE(store, nullptr);

  std::string value;
  ExpectNamesFileAndKey(store->Get({}, kVictimKey, &value), DataFile());
  EXPECT_EQ(value, "") << "the damaged bytes were handed out";
  ASSERT_TRUE(store->Get({}, "a", &value).ok());
  EXPECT_EQ(value, "first");

  auto it = store->NewIterator({});
  it->SeekToFirst();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->value(), "first");
  it->Next();
  EXPECT_FALSE(it->Valid()) << "the iterator stood on the damaged value";
  ExpectNamesFileAndKey(it->status(), DataFile());
  it->Seek("z");  // a fresh seek past the damage works again
  ASSERT_TRUE(it->Valid()) << it->status().ToString();
  EXPECT_EQ(it->value(), "last");
  it->Prev();
  EXPECT_FALSE(it->Valid());
  ExpectNamesFileAndKey(it->status(), DataFile());
}

TEST_F(LmdbChecksumTest, DamagedKeyIsCorruptionOnTheIterator) {
  WriteThreeKeys();
  ASSERT_GE(FlipInEveryCopy(DataFile(), kVictimKey), 1);
  std::shared_ptr<kv::Store> store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  auto it = store->NewIterator({});
  it->SeekToFirst();
  ASSERT_TRUE(it->Valid());
  it->Next();
  EXPECT_FALSE(it->Valid()) << "a damaged key was served with its value";
  EXPECT_EQ(it->status().code(), kv::Code::kCorruption) << it->status().ToString();
}

// Every store written so far carries zlib's CRC-32 of key then value as the trailer. Whatever code
// computes it, it must stay that value, or those stores would read as damaged.
TEST_F(LmdbChecksumTest, TrailerIsZlibsCrc32OfKeyThenValue) {
  std::mt19937 random(18);
  std::vector<std::pair<std::string, std::string>> records;
  for (const std::size_t size : {24, 133, 1000, 5000}) {  // 5000: on LMDB's overflow pages
    std::string value(size, '\0');
    for (char& c : value) c = static_cast<char>(random());
    records.emplace_back("key-" + std::to_string(size), std::move(value));
  }
  {
    std::shared_ptr<kv::Store> store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    kv::WriteBatch batch;
    for (const auto& [key, value] : records) batch.Put(key, value);
    ASSERT_TRUE(store->Write({.sync = true}, batch).ok());
  }
  const std::string bytes = FileBytes(DataFile());
  for (const auto& [key, value] : records) {
    const std::size_t at = bytes.find(value);
    ASSERT_NE(at, std::string::npos) << key << "'s value is not in data.mdb";
    ASSERT_LE(at + value.size() + 4, bytes.size());
    uLong crc = crc32_z(0, reinterpret_cast<const Bytef*>(key.data()), key.size());
    crc = crc32_z(crc, reinterpret_cast<const Bytef*>(value.data()), value.size());
    std::uint32_t trailer = 0;  // little-endian, right after the value
    for (int i = 0; i < 4; ++i) {
      trailer |= std::uint32_t{static_cast<unsigned char>(bytes[at + value.size() + i])} << (8 * i);
    }
    EXPECT_EQ(trailer, static_cast<std::uint32_t>(crc)) << key << ", " << value.size() << " bytes";
  }
}

TEST_F(LmdbChecksumTest, NewStoreGetsTheMarkerAndReopens) {
  WriteThreeKeys();
  std::ifstream in(Marker());
  std::string line;
  ASSERT_TRUE(std::getline(in, line)) << Marker() << " was not written";
  EXPECT_EQ(line, "goethe-lmdb-format 1");
  std::shared_ptr<kv::Store> store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  std::string value;
  ASSERT_TRUE(store->Get({}, kVictimKey, &value).ok());
  EXPECT_EQ(value, kVictimValue);
}

TEST_F(LmdbChecksumTest, StoreWithoutMarkerIsRefusedNamingTheMarker) {
  WriteThreeKeys();
  fs::remove(Marker());
  auto store = plugin_->Open(Path(), {});
  ASSERT_FALSE(store.ok()) << "opened a store whose values may carry no checksums";
  EXPECT_THAT(store.status().message(), HasSubstr(Marker()));
  EXPECT_THAT(store.status().message(), HasSubstr("is missing"));
  EXPECT_FALSE(fs::exists(Marker())) << "the refusal wrote a marker";
}

TEST_F(LmdbChecksumTest, MarkerOfAnotherFormatIsRefusedNamingIt) {
  WriteThreeKeys();
  std::ofstream(Marker(), std::ios::trunc) << "goethe-lmdb-format 2\n";
  auto store = plugin_->Open(Path(), {});
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr(Marker()));
  EXPECT_THAT(store.status().message(), HasSubstr("goethe-lmdb-format 2"));
}

}  // namespace
}  // namespace goethe
