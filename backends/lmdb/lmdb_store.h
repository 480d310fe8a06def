// LmdbStore: goethe::kv::Store on one LMDB environment with one unnamed database. LMDB's default
// key order (memcmp, then the shorter key first) is the bytewise order the interface asks for.
//
// Durability: a Write with WriteOptions::sync commits in LMDB's safe order: the new pages, one
// fdatasync, then the meta page that names them through LMDB's O_DSYNC descriptor; so it is durable
// when Write returns, and a power loss leaves the old or the new meta page, each naming pages on
// disk. Any other Write commits with MDB_NOSYNC: it survives a crash of this process, not a power
// loss, and (LMDB's caveat) a power loss before the next synced write or Flush() can leave the
// store unreadable, since its meta page may reach the disk before its pages. The option no_sync
// makes every write unsynced; no_meta_sync (MDB_NOMETASYNC) keeps the order but skips the meta
// page's sync, so a power loss may undo the newest synced writes without damaging the store.
//
// Checksums: every stored value carries a CRC-32 of key and value (value_checksum.h), checked on
// every Get and at every iterator position; a mismatch is Corruption naming data.mdb and the key.
// The store directory holds a format marker (format_marker.h) saying so.
//
// Threads: writers are serialised by a mutex, one LMDB write transaction per batch. Readers (Get,
// iterators, snapshots) run in parallel with each other and with the writer, each holding the
// ResizeGate shared for as long as its read transaction lives (see resize_gate.h).
//
// Map growth: when a write finds the map full, the writer aborts its transaction, waits up to
// 10 s for every reader to finish, grows the map and retries; if readers stay, the write fails
// with Busy. A thread that holds an iterator or snapshot and then writes can therefore stall its
// own write for those 10 s (it waits for itself) when that write needs the map to grow: release
// readers before writing, or give the map room to start with (map_size).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <lmdb.h>

#include "goethe/kv/store.h"
#include "lmdb_environment.h"
#include "lmdb_options.h"
#include "lmdb_read_txn.h"

namespace goethe::kv::lmdb_backend {

class LmdbStore final : public Store {
 public:
  static Status Open(const std::string& path, const LmdbOptions& options,
                     std::unique_ptr<Store>* out);

  Status Write(const WriteOptions& options, const WriteBatch& batch) override;
  Status Get(const ReadOptions& options, std::string_view key, std::string* value) override;
  std::unique_ptr<Iterator> NewIterator(const ReadOptions& options) override;
  std::unique_ptr<Snapshot> GetSnapshot() override;
  Status ApproximateSize(std::string_view begin, std::string_view end,
                         std::uint64_t* bytes) override;
  Status Flush() override;

 private:
  explicit LmdbStore(std::unique_ptr<Environment> env) : env_(std::move(env)) {}

  // One attempt at the whole batch in one write transaction; MDB_SUCCESS once committed.
  // On failure nothing is written and *where names the step that failed.
  int ApplyOnce(const WriteBatch& batch, std::string* where);
  // The snapshot's transaction, or a new ReadTxn in *owned.
  Status ReadTxnFor(const ReadOptions& options, std::unique_ptr<ReadTxn>* owned, MDB_txn** txn);

  // Makes the commits that follow sync (durable) or not, by MDB_NOSYNC; under write_mu_.
  int SetCommitsSync(bool durable);

  std::unique_ptr<Environment> env_;
  std::mutex write_mu_;
  bool commits_sync_ = false;  // true while MDB_NOSYNC is clear (the environment opens with it set)
};

}  // namespace goethe::kv::lmdb_backend
