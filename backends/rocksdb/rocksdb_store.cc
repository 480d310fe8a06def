#include "rocksdb_store.h"

#include <utility>

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include "rocksdb_info_log.h"
#include "rocksdb_iterator.h"
#include "rocksdb_snapshot.h"
#include "rocksdb_slice.h"
#include "rocksdb_status.h"
#include "store_directory.h"

namespace goethe::kv::rocksdb_backend {
namespace {

rocksdb::Options ToRocksDbOptions(const RocksDbConfig& config) {
  rocksdb::BlockBasedTableOptions table;
  if (config.block_cache_size == 0) {
    table.no_block_cache = true;  // otherwise RocksDB would make a default-sized cache
  } else {
    table.block_cache = rocksdb::NewLRUCache(config.block_cache_size);
  }
  if (config.bloom_filter_bits > 0) {
    table.filter_policy.reset(
        rocksdb::NewBloomFilterPolicy(static_cast<double>(config.bloom_filter_bits)));
  }

  rocksdb::Options options;
  options.create_if_missing = true;
  options.paranoid_checks = config.paranoid_checks;
  options.write_buffer_size = config.write_buffer_size;
  options.max_open_files =
      config.max_open_files == 0 ? -1 : static_cast<int>(config.max_open_files);
  // Not IncreaseParallelism(): it resizes the process-wide default Env's thread pools, which
  // would shrink them under another open store. RocksDB's Open raises the pools to fit
  // max_background_jobs and never lowers them.
  options.max_background_jobs = static_cast<int>(config.max_background_jobs);
  options.compression = config.compression;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

}  // namespace

Status RocksDbStore::Open(const std::string& path, const RocksDbConfig& config,
                          std::unique_ptr<Store>* store) {
  if (path.empty()) return Status::InvalidArgument("empty store path");
  if (Status s = backend_common::PrepareDirectory(path); !s.ok()) return s;
  if (Status s = backend_common::RequireCurrentFile(path, "RocksDB"); !s.ok()) return s;

  rocksdb::Options options = ToRocksDbOptions(config);
  options.info_log = OpenInfoLog(path);
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, path, &raw);
  std::unique_ptr<rocksdb::DB> db(raw);
  if (!s.ok()) return FromRocksDb(s, "opening RocksDB store '" + path + "'");
  store->reset(new RocksDbStore(std::move(db)));
  return Status::Ok();
}

RocksDbStore::~RocksDbStore() {
  // Close() first so background flushes and compactions stop in an orderly way; the status has
  // nowhere to go from a destructor (it only fails with snapshots still held, a caller bug).
  db_->Close().PermitUncheckedError();
  db_.reset();
}

Status RocksDbStore::ToRocksDb(const ReadOptions& options, rocksdb::ReadOptions* out) const {
  if (options.snapshot == nullptr) return Status::Ok();
  const auto* snapshot = dynamic_cast<const RocksDbSnapshot*>(options.snapshot);
  if (snapshot == nullptr || snapshot->db() != db_.get()) {
    return Status::InvalidArgument("snapshot was not made by this store");
  }
  out->snapshot = snapshot->get();
  return Status::Ok();
}

Status RocksDbStore::Write(const WriteOptions& options, const WriteBatch& batch) {
  return Guard("rocksdb write", [&] {
    // Before anything touches the database, so a bad batch writes nothing.
    if (Status s = batch.Validate(); !s.ok()) return s;
    rocksdb::WriteBatch converted;
    for (const WriteBatch::Op& op : batch.ops()) {
      rocksdb::Status s;
      switch (op.type) {
        case WriteBatch::OpType::kPut:
          s = converted.Put(ToSlice(op.key), ToSlice(op.value));
          break;
        case WriteBatch::OpType::kDelete:
          s = converted.Delete(ToSlice(op.key));
          break;
        case WriteBatch::OpType::kDeleteRange:
          // Our contract makes end <= begin a no-op; RocksDB may reject such a range instead.
          if (std::string_view(op.key) < std::string_view(op.value)) {
            s = converted.DeleteRange(ToSlice(op.key), ToSlice(op.value));
          }
          break;
      }
      if (!s.ok()) return FromRocksDb(s, "building write batch");
    }
    rocksdb::WriteOptions write;
    write.sync = options.sync;
    return FromRocksDb(db_->Write(write, &converted), "write");
  });
}

Status RocksDbStore::Get(const ReadOptions& options, std::string_view key, std::string* value) {
  return Guard("rocksdb get", [&] {
    if (Status s = CheckKey(key); !s.ok()) return s;
    if (value == nullptr) return Status::InvalidArgument("Get needs a value to fill");
    rocksdb::ReadOptions read;
    if (Status s = ToRocksDb(options, &read); !s.ok()) return s;
    rocksdb::Status s = db_->Get(read, db_->DefaultColumnFamily(), ToSlice(key), value);
    if (s.IsNotFound()) return Status::NotFound("key not found");
    return FromRocksDb(s, "get");
  });
}

std::unique_ptr<Iterator> RocksDbStore::NewIterator(const ReadOptions& options) {
  // No Status to return here: a failure comes back as an iterator that is never valid and
  // reports it. Only if even that cannot be allocated is the result null.
  try {
    rocksdb::ReadOptions read;
    if (Status s = ToRocksDb(options, &read); !s.ok()) {
      return std::make_unique<RocksDbIterator>(std::move(s));
    }
    return std::make_unique<RocksDbIterator>(db_.get(), read, options.lower_bound,
                                             options.upper_bound);
  } catch (const std::exception& e) {
    try {
      return std::make_unique<RocksDbIterator>(FromException("rocksdb NewIterator", &e));
    } catch (...) {
      return nullptr;
    }
  } catch (...) {
    return nullptr;
  }
}

std::unique_ptr<Snapshot> RocksDbStore::GetSnapshot() {
  const rocksdb::Snapshot* snapshot = db_->GetSnapshot();
  try {
    return std::make_unique<RocksDbSnapshot>(db_.get(), snapshot);
  } catch (...) {
    db_->ReleaseSnapshot(snapshot);
    return nullptr;  // out of memory; the interface has no Status to carry it
  }
}

Status RocksDbStore::ApproximateSize(std::string_view begin, std::string_view end,
                                     std::uint64_t* bytes) {
  if (bytes == nullptr) return Status::InvalidArgument("ApproximateSize needs a result to fill");
  *bytes = 0;
  if (!(begin < end)) return Status::Ok();
  return Guard("rocksdb ApproximateSize", [&] {
    // Memtables included, so recent writes count before they are flushed to table files.
    rocksdb::SizeApproximationOptions size_options;
    size_options.include_memtables = true;
    size_options.include_files = true;
    rocksdb::Range range(ToSlice(begin), ToSlice(end));
    return FromRocksDb(
        db_->GetApproximateSizes(size_options, db_->DefaultColumnFamily(), &range, 1, bytes),
        "approximate size");
  });
}

Status RocksDbStore::Flush() {
  // Syncs the WAL, which holds every accepted write; memtables need not reach table files.
  return Guard("rocksdb flush", [&] { return FromRocksDb(db_->FlushWAL(true), "flush"); });
}

}  // namespace goethe::kv::rocksdb_backend
