#include "leveldb_store.h"

#include <cstdio>
#include <filesystem>
#include <mutex>
#include <set>
#include <sstream>
#include <system_error>
#include <utility>

#include <leveldb/options.h>
#include <leveldb/write_batch.h>

#include "leveldb_iterator.h"
#include "leveldb_snapshot.h"
#include "leveldb_slice.h"
#include "leveldb_status.h"
#include "store_directory.h"

namespace goethe::kv::leveldb_backend {
namespace {

bool IsRealRange(const WriteBatch::Op& op) {
  return op.type == WriteBatch::OpType::kDeleteRange &&
         std::string_view(op.key) < std::string_view(op.value);
}

// Every table file the MANIFEST lists must be there with the size it records. LevelDB opens a
// table only when a read needs it, so without this a truncated table would be found, if at all,
// by some later read and with a message that does not name it.
Status CheckTableFiles(leveldb::DB& db, const std::string& path) {
  std::string tables;
  if (!db.GetProperty("leveldb.sstables", &tables)) return Status::Ok();
  std::istringstream lines(tables);
  for (std::string line; std::getline(lines, line);) {
    unsigned long long number = 0, recorded = 0;  // " 12:4096['a' @ 1 : 1 .. 'z' @ 9 : 1]"
    if (std::sscanf(line.c_str(), " %llu:%llu[", &number, &recorded) != 2) continue;
    char name[32];
    std::snprintf(name, sizeof name, "%06llu.ldb", number);
    std::string file = path + "/" + name;
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
      std::snprintf(name, sizeof name, "%06llu.sst", number);  // LevelDB's older name for tables
      if (std::filesystem::exists(path + "/" + name, ec)) file = path + "/" + name;
    }
    const std::uintmax_t actual = std::filesystem::file_size(file, ec);
    if (ec) return Status::Corruption("table file '" + file + "' listed in the MANIFEST is missing: the store is damaged");
    if (actual != recorded) {
      return Status::Corruption("table file '" + file + "' is " + std::to_string(actual) +
                                " bytes but the MANIFEST records " + std::to_string(recorded) +
                                ": the file is damaged (truncated or overwritten)");
    }
  }
  return Status::Ok();
}

}  // namespace

Status LevelDbStore::Open(const std::string& path, const LevelDbConfig& config,
                          std::unique_ptr<Store>* store) {
  if (path.empty()) return Status::InvalidArgument("empty store path");
  if (Status s = backend_common::PrepareDirectory(path); !s.ok()) return s;
  if (Status s = backend_common::RequireCurrentFile(path, "LevelDB"); !s.ok()) return s;

  std::unique_ptr<leveldb::Cache> cache(leveldb::NewLRUCache(config.block_cache_size));
  std::unique_ptr<const leveldb::FilterPolicy> filter;
  if (config.bloom_filter_bits > 0) {
    filter.reset(leveldb::NewBloomFilterPolicy(static_cast<int>(config.bloom_filter_bits)));
  }

  leveldb::Options options;
  options.create_if_missing = true;
  options.paranoid_checks = config.paranoid_checks;
  options.write_buffer_size = config.write_buffer_size;
  options.max_open_files = static_cast<int>(config.max_open_files);
  options.block_cache = cache.get();  // capacity 0 turns caching off
  options.compression = config.compression ? leveldb::kSnappyCompression : leveldb::kNoCompression;
  options.filter_policy = filter.get();

  leveldb::DB* raw = nullptr;
  leveldb::Status s = leveldb::DB::Open(options, path, &raw);
  std::unique_ptr<leveldb::DB> db(raw);
  if (!s.ok()) {
    Status failed = FromLevelDb(s, "opening LevelDB store '" + path + "'");
    if (s.IsCorruption() && failed.message().find("MANIFEST") == std::string::npos) {
      return Status(failed.code(), failed.message() + backend_common::NameTheManifest(path));
    }
    return failed;
  }
  if (config.paranoid_checks) {
    if (Status tables = CheckTableFiles(*db, path); !tables.ok()) return tables;
  }
  store->reset(new LevelDbStore(std::move(cache), std::move(filter), std::move(db), config.paranoid_checks));
  return Status::Ok();
}

LevelDbStore::LevelDbStore(std::unique_ptr<leveldb::Cache> cache,
                           std::unique_ptr<const leveldb::FilterPolicy> filter,
                           std::unique_ptr<leveldb::DB> db, bool verify_checksums)
    : cache_(std::move(cache)),
      filter_(std::move(filter)),
      db_(std::move(db)),
      verify_checksums_(verify_checksums) {}

LevelDbStore::~LevelDbStore() {
  db_.reset();  // closes the database while the cache and filter policy still exist
}

Status LevelDbStore::ToLevelDb(const ReadOptions& options, leveldb::ReadOptions* out) const {
  out->verify_checksums = verify_checksums_;
  if (options.snapshot == nullptr) return Status::Ok();
  const auto* snapshot = dynamic_cast<const LevelDbSnapshot*>(options.snapshot);
  if (snapshot == nullptr || snapshot->db() != db_.get()) {
    return Status::InvalidArgument("snapshot was not made by this store");
  }
  out->snapshot = snapshot->get();
  return Status::Ok();
}

void LevelDbStore::ConvertPlain(const WriteBatch& batch, leveldb::WriteBatch* out) {
  for (const WriteBatch::Op& op : batch.ops()) {
    if (op.type == WriteBatch::OpType::kPut) out->Put(ToSlice(op.key), ToSlice(op.value));
    else if (op.type == WriteBatch::OpType::kDelete) out->Delete(ToSlice(op.key));
    // kDeleteRange only reaches here when empty (end <= begin): a no-op.
  }
}

Status LevelDbStore::ConvertExpandingRanges(const WriteBatch& batch, leveldb::WriteBatch* out) {
  // The keys a range must delete are those stored now plus those put earlier in this batch; a
  // put later in the batch follows the deletes and so survives, as the batch order requires.
  std::set<std::string_view> put_in_batch;
  leveldb::ReadOptions read;
  read.verify_checksums = verify_checksums_;
  read.fill_cache = false;  // a bulk delete should not evict the readers' working set
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(read));
  for (const WriteBatch::Op& op : batch.ops()) {
    switch (op.type) {
      case WriteBatch::OpType::kPut:
        out->Put(ToSlice(op.key), ToSlice(op.value));
        put_in_batch.insert(op.key);
        break;
      case WriteBatch::OpType::kDelete:
        out->Delete(ToSlice(op.key));
        put_in_batch.erase(op.key);
        break;
      case WriteBatch::OpType::kDeleteRange: {
        if (!IsRealRange(op)) break;
        const std::string_view end(op.value);
        for (it->Seek(ToSlice(op.key)); it->Valid() && View(it->key()) < end; it->Next()) {
          out->Delete(it->key());
        }
        if (!it->status().ok()) return FromLevelDb(it->status(), "reading range to delete");
        auto first = put_in_batch.lower_bound(op.key);
        auto last = put_in_batch.lower_bound(end);
        for (auto k = first; k != last; ++k) out->Delete(ToSlice(*k));
        put_in_batch.erase(first, last);
        break;
      }
    }
  }
  return Status::Ok();
}

Status LevelDbStore::Write(const WriteOptions& options, const WriteBatch& batch) {
  return Guard("leveldb write", [&] {
    // Before anything touches the database, so a bad batch writes nothing.
    if (Status s = batch.Validate(); !s.ok()) return s;
    leveldb::WriteOptions write;
    write.sync = options.sync;
    leveldb::WriteBatch converted;
    bool has_range = false;
    for (const WriteBatch::Op& op : batch.ops()) has_range = has_range || IsRealRange(op);
    if (!has_range) {
      ConvertPlain(batch, &converted);  // reads nothing from the store, so no lock needed yet
      std::shared_lock lock(write_mutex_);
      return WriteOnce(write, &converted);
    }
    std::unique_lock lock(write_mutex_);
    if (Status s = ConvertExpandingRanges(batch, &converted); !s.ok()) return s;
    return WriteOnce(write, &converted);
  });
}

Status LevelDbStore::WriteOnce(const leveldb::WriteOptions& options, leveldb::WriteBatch* batch) {
  {
    std::lock_guard lock(failure_mutex_);
    if (failed_write_) {
      return Status(failed_write_->code(),
                    "writes are refused since an earlier one failed (" + failed_write_->message() +
                        "); restart once the cause is fixed, so that LevelDB recovers its log");
    }
  }
  Status status = FromLevelDb(db_->Write(options, batch), "write");
  if (!status.ok()) {
    std::lock_guard lock(failure_mutex_);
    if (!failed_write_) failed_write_ = status;
  }
  return status;
}

Status LevelDbStore::Get(const ReadOptions& options, std::string_view key, std::string* value) {
  return Guard("leveldb get", [&] {
    if (Status s = CheckKey(key); !s.ok()) return s;
    if (value == nullptr) return Status::InvalidArgument("Get needs a value to fill");
    leveldb::ReadOptions read;
    if (Status s = ToLevelDb(options, &read); !s.ok()) return s;
    leveldb::Status s = db_->Get(read, ToSlice(key), value);
    if (s.IsNotFound()) return Status::NotFound("key not found");
    return FromLevelDb(s, "get");
  });
}

std::unique_ptr<Iterator> LevelDbStore::NewIterator(const ReadOptions& options) {
  // No Status to return here: a failure comes back as an iterator that is never valid and
  // reports it. Only if even that cannot be allocated is the result null.
  try {
    leveldb::ReadOptions read;
    if (Status s = ToLevelDb(options, &read); !s.ok()) {
      return std::make_unique<LevelDbIterator>(std::move(s));
    }
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(read));
    return std::make_unique<LevelDbIterator>(std::move(it), options.lower_bound,
                                             options.upper_bound);
  } catch (const std::exception& e) {
    try {
      return std::make_unique<LevelDbIterator>(FromException("leveldb NewIterator", &e));
    } catch (...) {
      return nullptr;
    }
  } catch (...) {
    return nullptr;
  }
}

std::unique_ptr<Snapshot> LevelDbStore::GetSnapshot() {
  const leveldb::Snapshot* snapshot = db_->GetSnapshot();
  try {
    return std::make_unique<LevelDbSnapshot>(db_.get(), snapshot);
  } catch (...) {
    db_->ReleaseSnapshot(snapshot);
    return nullptr;  // out of memory; the interface has no Status to carry it
  }
}

Status LevelDbStore::ApproximateSize(std::string_view begin, std::string_view end,
                                     std::uint64_t* bytes) {
  if (bytes == nullptr) return Status::InvalidArgument("ApproximateSize needs a result to fill");
  *bytes = 0;
  if (!(begin < end)) return Status::Ok();
  return Guard("leveldb ApproximateSize", [&] {
    // Counts table files only: data still in the memtable is not included until flushed.
    leveldb::Range range(ToSlice(begin), ToSlice(end));
    db_->GetApproximateSizes(&range, 1, bytes);
    return Status::Ok();
  });
}

Status LevelDbStore::Flush() {
  return Guard("leveldb flush", [&] {
    // LevelDB has no "sync the log" call; an empty synced write fsyncs the log, and with it every
    // earlier unsynced write.
    leveldb::WriteOptions write;
    write.sync = true;
    leveldb::WriteBatch empty;
    return WriteOnce(write, &empty);
  });
}

}  // namespace goethe::kv::leveldb_backend
