#include "lmdb_environment.h"

#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <system_error>
#include <utility>

#include "format_marker.h"
#include "lmdb_status.h"
#include "store_directory.h"

namespace goethe::kv::lmdb_backend {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

std::uint64_t PageSize() {
  const long size = sysconf(_SC_PAGESIZE);
  return size > 0 ? static_cast<std::uint64_t>(size) : 4096;
}

std::uint64_t RoundUp(std::uint64_t n, std::uint64_t unit) {
  const std::uint64_t rest = n % unit;
  if (rest == 0) return n;
  return n > kMax - (unit - rest) ? n - rest : n + (unit - rest);
}

// A remap that fails inside mdb_env_set_mapsize leaves the environment with no map at all, so
// first check that the address space for the new size is there; this catches the likely
// failure (RLIMIT_AS, a 47-bit address space) while the old map is still intact.
bool CanReserve(std::uint64_t size) {
  if (size > std::numeric_limits<std::size_t>::max()) return false;
  void* p = mmap(nullptr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return false;
  munmap(p, size);
  return true;
}

// data.mdb exists but cannot hold LMDB's two meta pages. LMDB would take an empty file for a new
// environment, and the server would start on an empty store (tests/server_fault_corrupt_test.cc).
Status CheckDataFileBeforeOpen(const std::string& path) {
  const std::string file = path + "/data.mdb";
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return Status::Ok();
  const std::uintmax_t size = std::filesystem::file_size(file, ec);
  if (ec) return Status::IoError("cannot read the size of '" + file + "': " + ec.message());
  if (size < 2 * PageSize()) {
    return Status::Corruption("'" + file + "' is " + std::to_string(size) +
                              " bytes, too short for LMDB's meta pages: the file is damaged (truncated); if the "
                              "store never held data, delete the file");
  }
  return Status::Ok();
}

// Every page the newest meta page says is in use must be in the file. LMDB maps the file and
// would read past its end, and the process dies of SIGBUS on the first such read.
Status CheckDataFileSize(MDB_env* env, const std::string& path) {
  MDB_envinfo info;
  MDB_stat stat;
  if (mdb_env_info(env, &info) != MDB_SUCCESS || mdb_env_stat(env, &stat) != MDB_SUCCESS) return Status::Ok();
  const std::uint64_t in_use = (std::uint64_t{info.me_last_pgno} + 1) * stat.ms_psize;
  const std::string file = path + "/data.mdb";
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(file, ec);
  if (!ec && size < in_use) {
    return Status::Corruption("'" + file + "' is " + std::to_string(size) + " bytes but LMDB's meta page says " +
                              std::to_string(in_use) + " bytes are in use: the file is damaged (truncated)");
  }
  return Status::Ok();
}

// The file an error of mdb_env_open is about: the data file's header for these codes.
std::string OpenErrorSubject(int rc, const std::string& path) {
  const bool data_file = rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH || rc == MDB_CORRUPTED;
  return data_file ? "'" + path + "/data.mdb'" : "'" + path + "'";
}

}  // namespace

Environment::Environment(lmdb::env env, MDB_dbi dbi, const LmdbOptions& options,
                         std::uint64_t map_size, std::string path)
    : env_(std::move(env)),
      dbi_(dbi),
      options_(options),
      path_(std::move(path)),
      data_file_(path_ + "/data.mdb"),
      map_size_(map_size) {}

Status Environment::Open(const std::string& path, const LmdbOptions& options,
                         std::unique_ptr<Environment>* out) {
  // LMDB would fail on a missing or read-only directory too, but later and less plainly.
  if (Status s = backend_common::PrepareDirectory(path); !s.ok()) return s;
  if (Status s = CheckOrWriteFormatMarker(path); !s.ok()) return s;
  if (Status s = CheckDataFileBeforeOpen(path); !s.ok()) return s;

  const std::uint64_t map_size = RoundUp(options.map_size, PageSize());
  if (map_size > std::numeric_limits<std::size_t>::max()) {
    return Status::InvalidArgument("option 'map_size': too large for this platform");
  }
  // MDB_NOTLS: read transactions belong to iterators and snapshots, not to threads.
  // MDB_NOSYNC: commits do not flush; LmdbStore::Write clears it for a synced write.
  unsigned int flags = MDB_NOTLS | MDB_NOSYNC;
  if (options.no_meta_sync) flags |= MDB_NOMETASYNC;

  MDB_dbi dbi = 0;
  std::uint64_t actual_map_size = 0;
  try {
    // lmdbxx here for its RAII: a failed mdb_env_open still needs mdb_env_close.
    lmdb::env env = lmdb::env::create();
    env.set_mapsize(static_cast<std::size_t>(map_size));
    env.set_max_readers(options.max_readers);
    env.open(path.c_str(), flags, 0644);

    if (Status s = CheckDataFileSize(env.handle(), path); !s.ok()) return s;

    // The unnamed database always exists; opening its handle in a read transaction is enough.
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env.handle(), nullptr, MDB_RDONLY, &txn);
    if (rc != MDB_SUCCESS) return FromMdb(rc, "mdb_txn_begin on '" + path + "'");
    rc = mdb_dbi_open(txn, nullptr, 0, &dbi);
    if (rc != MDB_SUCCESS) {
      mdb_txn_abort(txn);
      return FromMdb(rc, "mdb_dbi_open on '" + path + "'");
    }
    rc = mdb_txn_commit(txn);  // keeps the dbi handle; frees txn either way
    if (rc != MDB_SUCCESS) return FromMdb(rc, "mdb_txn_commit on '" + path + "'");

    // LMDB may have raised the map size to fit the data already in the file.
    MDB_envinfo info;
    rc = mdb_env_info(env.handle(), &info);
    if (rc != MDB_SUCCESS) return FromMdb(rc, "mdb_env_info on '" + path + "'");
    actual_map_size = info.me_mapsize;

    out->reset(new Environment(std::move(env), dbi, options, actual_map_size, path));
  } catch (const lmdb::error& e) {
    return FromMdb(e.code(), std::string(e.origin()) + " on " + OpenErrorSubject(e.code(), path));
  }
  return Status::Ok();
}

Status Environment::Grow(std::uint64_t batch_bytes) {
  if (!options_.map_growth) {
    return Status::NoSpace("LMDB map of " + std::to_string(map_size_) + " bytes in '" + path_ +
                           "' is full and map_growth is false; raise map_size");
  }
  // Double, or add twice the batch (page and tree overhead) when the batch is the bigger.
  const std::uint64_t step = std::max(map_size_, batch_bytes > kMax / 2 ? kMax : 2 * batch_bytes);
  const std::uint64_t page = PageSize();
  std::uint64_t want = RoundUp(map_size_ > kMax - step ? kMax : map_size_ + step, page);
  if (options_.max_map_size != 0 && want > options_.max_map_size) {
    want = options_.max_map_size - options_.max_map_size % page;
  }
  if (want <= map_size_) {
    return Status::NoSpace("LMDB map of " + std::to_string(map_size_) + " bytes in '" + path_ +
                           "' is full and max_map_size is " +
                           std::to_string(options_.max_map_size) + "; raise max_map_size");
  }
  if (!CanReserve(want)) {
    return Status::NoSpace("cannot grow the LMDB map of '" + path_ + "' to " +
                           std::to_string(want) + " bytes: no address space for it");
  }
  return Resize(want);
}

Status Environment::AdoptMapSize() { return Resize(0); }

Status Environment::WriteFailure(int rc, const std::string& where, std::uint64_t batch_bytes) const {
  struct statvfs fs {};
  if (rc == EIO && statvfs(path_.c_str(), &fs) == 0) {
    const std::uint64_t free_bytes = std::uint64_t{fs.f_bavail} * fs.f_frsize;
    // A batch needs its bytes plus pages of tree overhead; a margin tells "full" from "nearly full".
    constexpr std::uint64_t kMargin = std::uint64_t{1} << 20;
    if (free_bytes < batch_bytes + kMargin) {
      return Status::NoSpace("cannot write '" + data_file_ + "': No space left on device (" +
                             std::to_string(free_bytes) + " bytes free; " + where + " failed with a short write)");
    }
  }
  return FromMdb(rc, where + " on '" + data_file_ + "'");
}

Status Environment::Resize(std::uint64_t size) {
  if (!gate_.TryLockFor(kResizeWait)) {
    return Status::Busy("growing the LMDB map of '" + path_ + "' waited " +
                        std::to_string(kResizeWait.count() / 1000) +
                        " s for open iterators, snapshots and reads to end: long-lived readers "
                        "block map growth (raise map_size to need it less often)");
  }
  int rc = mdb_env_set_mapsize(env_.handle(), static_cast<std::size_t>(size));
  if (rc == MDB_SUCCESS) {
    MDB_envinfo info;
    rc = mdb_env_info(env_.handle(), &info);
    if (rc == MDB_SUCCESS) map_size_ = info.me_mapsize;
  }
  if (rc != MDB_SUCCESS) {
    // The old map may be gone: refuse all further work rather than read unmapped memory.
    broken_ = FromMdb(rc, "resizing the LMDB map of '" + path_ +
                              "' failed; the store is unusable until reopened (mdb_env_set_mapsize)");
  }
  gate_.Unlock();
  return broken_;
}

}  // namespace goethe::kv::lmdb_backend
