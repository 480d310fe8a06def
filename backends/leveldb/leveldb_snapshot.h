// A goethe snapshot wrapping a LevelDB snapshot, released when it is destroyed.
#pragma once

#include <leveldb/db.h>

#include "goethe/kv/store.h"

namespace goethe::kv::leveldb_backend {

class LevelDbSnapshot final : public Snapshot {
 public:
  LevelDbSnapshot(leveldb::DB* db, const leveldb::Snapshot* snapshot)
      : db_(db), snapshot_(snapshot) {}
  ~LevelDbSnapshot() override { db_->ReleaseSnapshot(snapshot_); }
  LevelDbSnapshot(const LevelDbSnapshot&) = delete;
  LevelDbSnapshot& operator=(const LevelDbSnapshot&) = delete;

  // The store checks the owner so a snapshot of another store is refused, not misread.
  const leveldb::DB* db() const { return db_; }
  const leveldb::Snapshot* get() const { return snapshot_; }

 private:
  leveldb::DB* db_;  // the store outlives its snapshots (store.h)
  const leveldb::Snapshot* snapshot_;
};

}  // namespace goethe::kv::leveldb_backend
