// A store damaged on disk, on every backend: damage to what describes the store (LevelDB's and
// RocksDB's CURRENT and MANIFEST, a truncated table file, LMDB's meta pages or a truncated
// data.mdb) stops the server at start with one line naming the file; damage inside a data block
// (or, on LMDB, inside a value, which the plugin checksums) is found either at start or when
// read, and then the reader gets an error status. Never wrong data, never a crash.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "support/fault_fixture.h"

namespace goethe::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr const char* kTopic = "ledger";
constexpr std::uint64_t kEvents = 2000;         // producer 1, sequence numbers = offsets
constexpr std::uint64_t kDamagedEvent = 1000;   // whose payload kScribbledDataPage overwrites
constexpr std::size_t kPayloadFiller = 400;

enum class Damage {
  kEmptyCurrent,       // LevelDB/RocksDB: CURRENT truncated to nothing
  kMissingCurrent,     // LevelDB/RocksDB: CURRENT deleted
  kHalfManifest,       // LevelDB/RocksDB: the MANIFEST cut in half
  kHalfTable,          // LevelDB/RocksDB: the largest table file cut in half
  kScribbledTable,     // LevelDB/RocksDB: bytes inside the largest table file overwritten
  kEmptyDataFile,      // LMDB: data.mdb truncated to nothing
  kHalfDataFile,       // LMDB: data.mdb cut in half
  kScribbledMeta,      // LMDB: the two meta pages overwritten
  kScribbledDataPage,  // LMDB: bytes inside one event's payload in a data page of data.mdb overwritten
  kScribbledPageHead,  // LMDB: the header of a page amid data.mdb overwritten (outside the checksums)
  kMissingMarker,      // LMDB: the plugin's format marker deleted (as in a store from before checksums)
};

struct Case {
  std::string backend;
  Damage damage;
  std::string name;
  bool must_fail_at_open;
  std::string Param() const { return backend + "_" + name; }  // the test parameter
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = [] {
    std::vector<Case> all;
    for (const std::string backend : {"leveldb", "rocksdb"}) {
      all.push_back({backend, Damage::kEmptyCurrent, "EmptyCurrent", true});
      all.push_back({backend, Damage::kMissingCurrent, "MissingCurrent", true});
      all.push_back({backend, Damage::kHalfManifest, "HalfManifest", true});
      all.push_back({backend, Damage::kHalfTable, "HalfTable", true});
      all.push_back({backend, Damage::kScribbledTable, "ScribbledTable", false});
    }
    all.push_back({"lmdb", Damage::kEmptyDataFile, "EmptyDataFile", true});
    all.push_back({"lmdb", Damage::kHalfDataFile, "HalfDataFile", true});
    all.push_back({"lmdb", Damage::kScribbledMeta, "ScribbledMeta", true});
    all.push_back({"lmdb", Damage::kScribbledDataPage, "ScribbledDataPage", false});
    all.push_back({"lmdb", Damage::kScribbledPageHead, "ScribbledPageHead", false});
    all.push_back({"lmdb", Damage::kMissingMarker, "MissingFormatMarker", true});
    return all;
  }();
  return cases;
}

std::vector<std::string> CaseParams() {
  std::vector<std::string> params;
  for (const Case& c : Cases()) params.push_back(c.Param());
  return params;
}

// The first file in `dir` whose name starts with `prefix` / ends with `suffix`, largest first.
std::string LargestFile(const std::string& dir, const std::string& prefix, const std::string& suffix) {
  std::string best;
  std::uintmax_t best_size = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || name.size() < suffix.size() ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    if (best.empty() || entry.file_size() > best_size) {
      best = entry.path().string();
      best_size = entry.file_size();
    }
  }
  return best;
}

void Overwrite(const std::string& file, std::uintmax_t at, std::size_t count) {
  std::fstream f(file, std::ios::binary | std::ios::in | std::ios::out);
  f.seekp(static_cast<std::streamoff>(at));
  const std::string junk(count, '\x5a');
  f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
}

// Overwrites `count` bytes in the middle of every copy of `needle` in `file` (LMDB copies pages
// on write, so freed pages may still hold stale copies beside the live one); returns the copies.
int OverwriteEveryCopy(const std::string& file, const std::string& needle, std::size_t count) {
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  int copies = 0;
  for (std::size_t at = bytes.find(needle); at != std::string::npos; at = bytes.find(needle, at + 1)) {
    Overwrite(file, at + (needle.size() - count) / 2, count);
    ++copies;
  }
  return copies;
}

class ServerFaultCorruptTest : public FaultTest {
 protected:
  const Case& TheCase() const {
    return *std::find_if(Cases().begin(), Cases().end(), [this](const Case& c) { return c.Param() == GetParam(); });
  }

  // Damages the stopped store as the case says; returns the file it damaged.
  std::string DamageStore(Damage damage) {
    const std::string dir = DataDir();
    std::string file;
    switch (damage) {
      case Damage::kEmptyCurrent:
        file = dir + "/CURRENT";
        fs::resize_file(file, 0);
        break;
      case Damage::kMissingCurrent:
        file = dir + "/CURRENT";
        fs::remove(file);
        break;
      case Damage::kHalfManifest:
        file = LargestFile(dir, "MANIFEST-", "");
        fs::resize_file(file, fs::file_size(file) / 2);
        break;
      case Damage::kHalfTable:
        file = LargestFile(dir, "", Backend() == "leveldb" ? ".ldb" : ".sst");
        fs::resize_file(file, fs::file_size(file) / 2);
        break;
      case Damage::kScribbledTable:
        file = LargestFile(dir, "", Backend() == "leveldb" ? ".ldb" : ".sst");
        Overwrite(file, fs::file_size(file) / 3, 64);
        break;
      case Damage::kEmptyDataFile:
        file = dir + "/data.mdb";
        fs::resize_file(file, 0);
        break;
      case Damage::kHalfDataFile:
        file = dir + "/data.mdb";
        fs::resize_file(file, fs::file_size(file) / 2);
        break;
      case Damage::kScribbledMeta:
        file = dir + "/data.mdb";
        Overwrite(file, 0, 2 * 4096);
        break;
      case Damage::kScribbledDataPage:
        file = dir + "/data.mdb";
        EXPECT_GE(OverwriteEveryCopy(file, EncodePayload({1, kDamagedEvent}, kPayloadFiller), 64), 1);
        break;
      case Damage::kScribbledPageHead:
        file = dir + "/data.mdb";
        Overwrite(file, fs::file_size(file) / 4096 / 2 * 4096, 64);
        break;
      case Damage::kMissingMarker:
        file = dir + "/goethe-lmdb-format";
        fs::remove(file);
        break;
    }
    EXPECT_FALSE(file.empty()) << "nothing to damage in " << dir;
    return file;
  }

  struct ReadOutcome {
    grpc::Status status;      // of the read that ended it
    std::uint64_t events = 0;  // good events before it ended
    std::string wrong_data;    // what was wrong with an event served as data, if one was
  };

  // Reads the topic page by page from `from` until the end (or offset `until`), an error or a
  // wrong event.
  ReadOutcome ReadChecked(std::uint64_t from = 0, std::uint64_t until = UINT64_MAX) {
    ReadOutcome outcome;
    LogVerifier verifier;
    for (int page = 0; page < 10000 && from < until; ++page) {
      v1::ReadRequest request;
      request.set_topic(kTopic);
      request.set_from_offset(from);
      request.set_max_events(static_cast<std::uint32_t>(std::min<std::uint64_t>(500, until - from)));
      v1::ReadResponse response;
      outcome.status = stub().Read(CallWithin().get(), request, &response);
      if (!outcome.status.ok()) return outcome;
      for (const v1::Event& event : response.events()) {
        outcome.wrong_data = verifier.Add(event.offset(), event.payload());
        if (outcome.wrong_data.empty()) {
          outcome.wrong_data = CheckAgainstLedger(Ledger(kTopic), event.offset(), event.payload());
        }
        if (!outcome.wrong_data.empty()) return outcome;
        ++outcome.events;
      }
      from = response.next_offset();
      if (response.events_size() == 0 || from >= response.head()) break;
    }
    return outcome;
  }

  // LMDB checksums each value: the damaged event is DATA_LOSS, the events around it read fine.
  // A full page stops at its last event without looking past it, so pages of 500 from the start
  // deliver every event before the damaged one and then fail.
  void ExpectOnlyTheDamagedEventLost(const ReadOutcome& from_start) {
    EXPECT_EQ(from_start.status.error_code(), grpc::StatusCode::DATA_LOSS) << Describe(from_start.status);
    EXPECT_EQ(from_start.events, kDamagedEvent) << "the read failed before reaching the damaged event";
    EXPECT_EQ(from_start.wrong_data, "");
    // The damaged event's key (docs/storage.md): 'e', topic id 1, offset kDamagedEvent (1000).
    EXPECT_THAT(from_start.status.error_message(),
                HasSubstr("data.mdb' for key 0x65" "0000000000000001" "00000000000003e8"));

    // A page that ends right before the damaged event is whole.
    const ReadOutcome before = ReadChecked(0, kDamagedEvent);
    EXPECT_TRUE(before.status.ok()) << Describe(before.status);
    EXPECT_EQ(before.wrong_data, "");
    EXPECT_EQ(before.events, kDamagedEvent);

    v1::ReadRequest request;
    request.set_topic(kTopic);
    request.set_from_offset(kDamagedEvent);
    request.set_max_events(1);
    v1::ReadResponse response;
    const grpc::Status just_it = stub().Read(CallWithin().get(), request, &response);
    EXPECT_EQ(just_it.error_code(), grpc::StatusCode::DATA_LOSS) << Describe(just_it);
    EXPECT_EQ(response.events_size(), 0) << "the damaged payload was served";

    const ReadOutcome after = ReadChecked(kDamagedEvent + 1);
    EXPECT_TRUE(after.status.ok()) << Describe(after.status);
    EXPECT_EQ(after.wrong_data, "");
    EXPECT_EQ(after.events, kEvents - kDamagedEvent - 1) << "events after the damaged one were lost";
  }
};

TEST_P(ServerFaultCorruptTest, DamageIsRefusedAtStartOrReportedOnReadNeverServedAsData) {
  const Case& c = TheCase();
  // A small write buffer and no compression: several table files of plain bytes.
  WriteConfig(c.backend == "lmdb" ? "" : "write_buffer_size: 256KiB\ncompression: none\n");
  StartAgain();
  for (std::uint64_t b = 0; b < kEvents / 50; ++b) {
    ASSERT_TRUE(ProduceIds(kTopic, 1, b * 50, 50, kPayloadFiller).ok());
  }
  // A restart turns LevelDB's and RocksDB's log into table files, so there is a table to damage.
  StopServer();
  StartAgain();
  StopServer();

  const std::string damaged = DamageStore(c.damage);
  std::string refusal;
  try {
    StartAgain();
  } catch (const std::runtime_error& e) {
    refusal = e.what();
  }
  if (!refusal.empty()) {
    // "goethe-server exited with N before serving: <stderr>"
    EXPECT_THAT(refusal, HasSubstr("exited with 1 before serving")) << "a crash is not a refusal";
    const std::string err = refusal.substr(refusal.find("before serving: ") + 16);
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    EXPECT_THAT(err, HasSubstr(fs::path(damaged).filename().string())) << "the message names the damaged file";
    std::printf("[ corrupt ] %s %s: refused at start: %s", c.backend.c_str(), c.name.c_str(), err.c_str());
    return;
  }
  EXPECT_FALSE(c.must_fail_at_open) << "the server started on a store with a damaged "
                                    << fs::path(damaged).filename().string();
  const ReadOutcome read = ReadChecked();
  // Still serving: the damage did not take the process down.
  v1::ListTopicsResponse topics;
  EXPECT_TRUE(stub().ListTopics(CallWithin().get(), v1::ListTopicsRequest(), &topics).ok());
  std::printf("[ corrupt ] %s %s: served; reading gave %llu good events then %s%s\n", c.backend.c_str(),
              c.name.c_str(), static_cast<unsigned long long>(read.events), Describe(read.status).c_str(),
              read.wrong_data.empty() ? "" : (", then wrong data: " + read.wrong_data).c_str());
  EXPECT_EQ(read.wrong_data, "") << "a read returned wrong data instead of an error";
  if (read.status.ok()) {
    EXPECT_EQ(read.events, Ledger(kTopic).end()) << "events went missing without an error";
  } else {
    EXPECT_EQ(read.status.error_code(), grpc::StatusCode::DATA_LOSS) << Describe(read.status);
  }
  if (c.damage == Damage::kScribbledDataPage) ExpectOnlyTheDamagedEventLost(read);
  StopServer();
}

INSTANTIATE_TEST_SUITE_P(Damages, ServerFaultCorruptTest, ::testing::ValuesIn(CaseParams()), BackendName);

}  // namespace
}  // namespace goethe::testing
