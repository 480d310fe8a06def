// The goethe::kv::Store implementation over one LevelDB database.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>

#include "goethe/kv/store.h"
#include "leveldb_options.h"

namespace goethe::kv::leveldb_backend {

class LevelDbStore final : public Store {
 public:
  // Opens (creating if missing) the database in directory `path`.
  static Status Open(const std::string& path, const LevelDbConfig& config,
                     std::unique_ptr<Store>* store);
  ~LevelDbStore() override;

  Status Write(const WriteOptions& options, const WriteBatch& batch) override;
  Status Get(const ReadOptions& options, std::string_view key, std::string* value) override;
  std::unique_ptr<Iterator> NewIterator(const ReadOptions& options) override;
  std::unique_ptr<Snapshot> GetSnapshot() override;
  Status ApproximateSize(std::string_view begin, std::string_view end,
                         std::uint64_t* bytes) override;
  Status Flush() override;

 private:
  LevelDbStore(std::unique_ptr<leveldb::Cache> cache,
               std::unique_ptr<const leveldb::FilterPolicy> filter,
               std::unique_ptr<leveldb::DB> db, bool verify_checksums);

  // Fills the library's read options from ours; refuses a snapshot made by another store.
  Status ToLevelDb(const ReadOptions& options, leveldb::ReadOptions* out) const;
  // Converts a batch without range deletes.
  static void ConvertPlain(const WriteBatch& batch, leveldb::WriteBatch* out);
  // Converts a batch with range deletes, expanding each into point deletes of the keys in range.
  // The caller holds write_mutex_ exclusively so the keys read cannot change before the write.
  Status ConvertExpandingRanges(const WriteBatch& batch, leveldb::WriteBatch* out);
  // Writes through LevelDB unless an earlier write failed; remembers a failure (see failed_write_).
  Status WriteOnce(const leveldb::WriteOptions& options, leveldb::WriteBatch* batch);

  // Declared before db_ so they are destroyed after it: the DB uses both until it closes.
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  std::unique_ptr<leveldb::DB> db_;
  // Every read checks the checksum of each block it reads (with paranoid_checks, the default).
  // LevelDB's own default does not, and serves a damaged uncompressed block as data
  // (tests/server_fault_corrupt_test.cc).
  const bool verify_checksums_;

  // LevelDB has no DeleteRange, so a batch with one reads the range and then writes point
  // deletes. Ordinary batches take this lock shared (LevelDB serialises and group-commits them
  // itself); a range-delete batch takes it exclusively, so no other write lands between its read
  // and its write and the batch stays atomic. In effect all writers are serialised, and a
  // range-delete batch briefly blocks other writers (never readers).
  std::shared_mutex write_mutex_;

  // The first failed write (a full disk, say), after which every write is refused until the store
  // is reopened. LevelDB itself goes on appending to its log after a failed append, behind the
  // partly written record, and recovery then stops at that record: later writes, acknowledged as
  // durable, vanished on the next open (tests/server_fault_disk_test.cc). Reopening recovers up to
  // the last whole record and starts a new log.
  std::mutex failure_mutex_;
  std::optional<Status> failed_write_;
};

}  // namespace goethe::kv::leveldb_backend
