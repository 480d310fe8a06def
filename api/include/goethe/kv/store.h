// Store: the ordered key-value interface that Goethe's engine stands on, and that each backend
// plugin (LevelDB, RocksDB, LMDB) implements.
//
// Keys and values are byte strings; keys order bytewise and must be 1..511 bytes (key_rules.h).
// Thread safety: every method may be called from any number of threads at once. Writes are
// atomic per WriteBatch; concurrent Write calls are serialised by the plugin. Readers never see a
// batch half-applied. Iterators and snapshots must be destroyed before the store.
// No method throws: failures come back as a Status.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "goethe/kv/iterator.h"
#include "goethe/kv/status.h"
#include "goethe/kv/write_batch.h"

namespace goethe::kv {

// A consistent, read-only view of the store at one point in time. Made by Store::GetSnapshot;
// release it (destroy it) before the store. Holding one may keep old data on disk.
class Snapshot {
 public:
  virtual ~Snapshot() = default;
};

struct ReadOptions {
  // Read this point in time; null means the store's current state.
  const Snapshot* snapshot = nullptr;
  // Iterators only see keys in [lower_bound, upper_bound); an empty string means unbounded.
  // The views must stay valid for the iterator's whole life.
  std::string_view lower_bound;
  std::string_view upper_bound;
};

struct WriteOptions {
  // When true, Write returns only after the batch is on stable storage (survives power loss).
  // When false, the batch survives a crash of this process but maybe not of the machine.
  bool sync = false;
};

class Store {
 public:
  virtual ~Store() = default;

  // Applies `batch` atomically. An invalid key anywhere in the batch fails it whole
  // (InvalidArgument) before anything is written. A full disk gives NoSpace and writes nothing.
  virtual Status Write(const WriteOptions& options, const WriteBatch& batch) = 0;

  // Reads the value of `key` into *value. NotFound when absent.
  virtual Status Get(const ReadOptions& options, std::string_view key, std::string* value) = 0;

  // A new iterator over the store (or the snapshot in `options`), not yet positioned.
  virtual std::unique_ptr<Iterator> NewIterator(const ReadOptions& options) = 0;

  // Captures the store's current state; reads through it never see later writes.
  virtual std::unique_ptr<Snapshot> GetSnapshot() = 0;

  // Approximate on-disk bytes used by keys in [begin, end); may lag recent writes.
  virtual Status ApproximateSize(std::string_view begin, std::string_view end,
                                 std::uint64_t* bytes) = 0;

  // Makes every write accepted so far durable, as if each had been written with sync.
  virtual Status Flush() = 0;
};

}  // namespace goethe::kv
