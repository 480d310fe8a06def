// LmdbStore: goethe::kv::Store on one LMDB environment with one unnamed database. LMDB's default
// key order (memcmp, then the shorter key first) is the bytewise order the interface asks for.
//
// Durability: the environment always runs with MDB_NOSYNC, so a commit writes its pages to the
// OS but never waits for the disk; a batch then survives a crash of this process, not a power
// loss. A Write with WriteOptions::sync calls mdb_env_sync(env, 1) after its commit, which makes
// that batch and every earlier one durable before Write returns, unless the option no_sync is set
// (the operator chose speed over durability; the sync is skipped). Flush() always syncs.
// Caveat from LMDB's documentation: with MDB_NOSYNC a machine crash between flushes may also
// leave the database inconsistent unless the filesystem keeps write order, since a meta page can
// reach the disk before the pages it points to. no_meta_sync (MDB_NOMETASYNC) has no effect while
// MDB_NOSYNC is set.
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

  std::unique_ptr<Environment> env_;
  std::mutex write_mu_;
};

}  // namespace goethe::kv::lmdb_backend
