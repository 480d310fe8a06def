// The goethe::kv::Store implementation over one RocksDB database (default column family).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <rocksdb/db.h>

#include "goethe/kv/store.h"
#include "rocksdb_options.h"

namespace goethe::kv::rocksdb_backend {

// RocksDB is thread-safe and has native DeleteRange, so unlike the LevelDB plugin this store
// needs no lock of its own: RocksDB serialises (and group-commits) concurrent writers.
class RocksDbStore final : public Store {
 public:
  // Opens (creating if missing) the database in directory `path`.
  static Status Open(const std::string& path, const RocksDbConfig& config,
                     std::unique_ptr<Store>* store);
  ~RocksDbStore() override;

  Status Write(const WriteOptions& options, const WriteBatch& batch) override;
  Status Get(const ReadOptions& options, std::string_view key, std::string* value) override;
  std::unique_ptr<Iterator> NewIterator(const ReadOptions& options) override;
  std::unique_ptr<Snapshot> GetSnapshot() override;
  Status ApproximateSize(std::string_view begin, std::string_view end,
                         std::uint64_t* bytes) override;
  Status Flush() override;

 private:
  explicit RocksDbStore(std::unique_ptr<rocksdb::DB> db) : db_(std::move(db)) {}

  // Fills the library's read options from ours; refuses a snapshot made by another store.
  Status ToRocksDb(const ReadOptions& options, rocksdb::ReadOptions* out) const;

  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace goethe::kv::rocksdb_backend
