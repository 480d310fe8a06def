// Environment: one open LMDB environment (a directory holding data.mdb and lock.mdb) with its
// single unnamed database, the ResizeGate that guards its map, and map growth.
//
// Owned by LmdbStore; iterators and snapshots keep a plain pointer to it, which is safe because
// they must be destroyed before the store.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <lmdb++.h>
#include <lmdb.h>

#include "goethe/kv/status.h"
#include "lmdb_options.h"
#include "resize_gate.h"

namespace goethe::kv::lmdb_backend {

class Environment {
 public:
  // How long a resize waits for open readers before the write gives up with Busy.
  static constexpr std::chrono::milliseconds kResizeWait{10'000};

  // Creates directory `path` if missing and opens the environment in it. A path that is not a
  // directory, or a directory this process cannot write, gives IoError naming the path; a store
  // without this plugin's format marker (format_marker.h) gives NotSupported.
  static Status Open(const std::string& path, const LmdbOptions& options,
                     std::unique_ptr<Environment>* out);

  // Closes the environment; every transaction must already be gone.
  ~Environment() = default;
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  MDB_env* handle() const { return env_.handle(); }
  MDB_dbi dbi() const { return dbi_; }
  ResizeGate& gate() { return gate_; }
  const LmdbOptions& options() const { return options_; }
  // "<path>/data.mdb", for error messages.
  const std::string& data_file() const { return data_file_; }

  // OK unless a failed resize left the map unmapped, after which every call must fail instead of
  // touching it. Read it while holding the gate (shared or exclusive) or the store's writer lock.
  const Status& Usable() const { return broken_; }

  // The writer calls these with its writer lock held and no transaction open in this thread.
  // Grow: makes room for a batch of `batch_bytes` after MDB_MAP_FULL, within max_map_size;
  // NoSpace when growth is off or at its ceiling, Busy when readers kept the gate too long.
  Status Grow(std::uint64_t batch_bytes);
  // AdoptMapSize: after MDB_MAP_RESIZED, takes on the bigger map another process set.
  Status AdoptMapSize();

  // The Status for a write transaction that failed with `rc` at `where`. LMDB reports a short
  // write of its data file as EIO, which is what a full file system causes: then it is NoSpace,
  // naming the file system's free space, rather than an I/O error.
  Status WriteFailure(int rc, const std::string& where, std::uint64_t batch_bytes) const;

 private:
  Environment(lmdb::env env, MDB_dbi dbi, const LmdbOptions& options, std::uint64_t map_size,
              std::string path);
  Status Resize(std::uint64_t size);

  lmdb::env env_;
  MDB_dbi dbi_;
  LmdbOptions options_;
  std::string path_;
  std::string data_file_;
  ResizeGate gate_;
  std::uint64_t map_size_;  // current map size; changed only by the writer, under the gate
  Status broken_;
};

}  // namespace goethe::kv::lmdb_backend
