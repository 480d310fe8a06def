#include "lmdb_environment.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <system_error>
#include <utility>

#include "lmdb_status.h"

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

Status CheckDirectory(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return Status::IoError("cannot inspect '" + path + "': " + ec.message());
  }
  if (fs::exists(status)) {
    if (!fs::is_directory(status)) {
      return Status::IoError("'" + path + "' exists and is not a directory");
    }
  } else if (fs::create_directories(path, ec); ec) {
    return Status::IoError("cannot create directory '" + path + "': " + ec.message());
  }
  // LMDB would fail too, but later and less plainly (often on lock.mdb).
  if (access(path.c_str(), W_OK | X_OK) != 0) {
    const int error = errno;
    return Status::IoError("directory '" + path + "' is not writable: " + std::strerror(error));
  }
  return Status::Ok();
}

}  // namespace

Environment::Environment(lmdb::env env, MDB_dbi dbi, const LmdbOptions& options,
                         std::uint64_t map_size, std::string path)
    : env_(std::move(env)),
      dbi_(dbi),
      options_(options),
      path_(std::move(path)),
      map_size_(map_size) {}

Status Environment::Open(const std::string& path, const LmdbOptions& options,
                         std::unique_ptr<Environment>* out) {
  if (Status s = CheckDirectory(path); !s.ok()) return s;

  const std::uint64_t map_size = RoundUp(options.map_size, PageSize());
  if (map_size > std::numeric_limits<std::size_t>::max()) {
    return Status::InvalidArgument("option 'map_size': too large for this platform");
  }
  // MDB_NOTLS: read transactions belong to iterators and snapshots, not to threads.
  // MDB_NOSYNC: commits never flush; LmdbStore::Write flushes after a sync write instead.
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
    return FromMdb(e.code(), std::string(e.origin()) + " on '" + path + "'");
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
