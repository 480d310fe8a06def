// A goethe snapshot wrapping a RocksDB snapshot, released when it is destroyed.
#pragma once

#include <rocksdb/db.h>

#include "goethe/kv/store.h"

namespace goethe::kv::rocksdb_backend {

class RocksDbSnapshot final : public Snapshot {
 public:
  RocksDbSnapshot(rocksdb::DB* db, const rocksdb::Snapshot* snapshot)
      : db_(db), snapshot_(snapshot) {}
  ~RocksDbSnapshot() override { db_->ReleaseSnapshot(snapshot_); }
  RocksDbSnapshot(const RocksDbSnapshot&) = delete;
  RocksDbSnapshot& operator=(const RocksDbSnapshot&) = delete;

  // The store checks the owner so a snapshot of another store is refused, not misread.
  const rocksdb::DB* db() const { return db_; }
  const rocksdb::Snapshot* get() const { return snapshot_; }

 private:
  rocksdb::DB* db_;  // the store outlives its snapshots (store.h)
  const rocksdb::Snapshot* snapshot_;
};

}  // namespace goethe::kv::rocksdb_backend
