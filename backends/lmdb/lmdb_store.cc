#include "lmdb_store.h"

#include <utility>

#include <lmdb++.h>

#include "goethe/kv/key_rules.h"
#include "lmdb_iterator.h"
#include "lmdb_snapshot.h"
#include "lmdb_status.h"
#include "value_checksum.h"

namespace goethe::kv::lmdb_backend {
namespace {

// Growth at least doubles the map, so a handful of rounds fits any batch LMDB can take at all.
constexpr int kMaxAttempts = 16;

std::string_view View(const lmdb::val& v) { return {v.data(), v.size()}; }

// Deletes every key in [begin, end) inside the write transaction `txn`.
int DeleteRange(MDB_txn* txn, MDB_dbi dbi, std::string_view begin, std::string_view end) {
  if (end <= begin) return MDB_SUCCESS;
  MDB_cursor* cursor = nullptr;
  int rc = mdb_cursor_open(txn, dbi, &cursor);
  if (rc != MDB_SUCCESS) return rc;
  lmdb::val key(begin.data(), begin.size());
  lmdb::val value(nullptr, 0);
  rc = mdb_cursor_get(cursor, key, value, MDB_SET_RANGE);
  while (rc == MDB_SUCCESS && View(key) < end) {
    rc = mdb_cursor_del(cursor, 0);
    // After a delete the cursor already rests on the following entry; MDB_NEXT returns it.
    if (rc == MDB_SUCCESS) rc = mdb_cursor_get(cursor, key, value, MDB_NEXT);
  }
  mdb_cursor_close(cursor);
  return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
}

const char* OpName(WriteBatch::OpType type) {
  switch (type) {
    case WriteBatch::OpType::kPut: return "mdb_put";
    case WriteBatch::OpType::kDelete: return "mdb_del";
    case WriteBatch::OpType::kDeleteRange: return "delete range";
  }
  return "operation";
}

}  // namespace

Status LmdbStore::Open(const std::string& path, const LmdbOptions& options,
                       std::unique_ptr<Store>* out) {
  std::unique_ptr<Environment> env;
  if (Status s = Environment::Open(path, options, &env); !s.ok()) return s;
  out->reset(new LmdbStore(std::move(env)));
  return Status::Ok();
}

int LmdbStore::ApplyOnce(const WriteBatch& batch, std::string* where) {
  // Writers are serialised already; the shared hold only states that a write transaction is a
  // transaction like any other as far as resizing goes.
  SharedGateLock hold(env_->gate());
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_->handle(), nullptr, 0, &txn);
  if (rc != MDB_SUCCESS) {
    *where = "mdb_txn_begin";
    return rc;
  }
  const auto& ops = batch.ops();
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const WriteBatch::Op& op = ops[i];
    lmdb::val key(op.key.data(), op.key.size());
    switch (op.type) {
      case WriteBatch::OpType::kPut: {
        // MDB_RESERVE: LMDB makes room in the page and returns where; value and checksum
        // trailer are written there directly, with no sealed copy in between.
        MDB_val value{op.value.size() + kTrailerBytes, nullptr};
        rc = mdb_put(txn, env_->dbi(), key, &value, MDB_RESERVE);
        if (rc == MDB_SUCCESS) SealValue(op.key, op.value, static_cast<char*>(value.mv_data));
        break;
      }
      case WriteBatch::OpType::kDelete:
        rc = mdb_del(txn, env_->dbi(), key, nullptr);
        if (rc == MDB_NOTFOUND) rc = MDB_SUCCESS;  // deleting an absent key is fine
        break;
      case WriteBatch::OpType::kDeleteRange:
        rc = DeleteRange(txn, env_->dbi(), op.key, op.value);
        break;
    }
    if (rc != MDB_SUCCESS) {
      mdb_txn_abort(txn);
      *where = std::string(OpName(op.type)) + " (operation " + std::to_string(i + 1) + " of " +
               std::to_string(ops.size()) + ")";
      return rc;
    }
  }
  // Raw C here, not lmdb::txn::commit: that one leaves its handle set when the commit fails, and
  // its destructor would then abort a transaction LMDB has already freed.
  rc = mdb_txn_commit(txn);
  if (rc != MDB_SUCCESS) *where = "mdb_txn_commit";
  return rc;
}

Status LmdbStore::Write(const WriteOptions& options, const WriteBatch& batch) {
  try {
    if (Status s = batch.Validate(); !s.ok()) return s;
    std::lock_guard lock(write_mu_);
    if (!env_->Usable().ok()) return env_->Usable();
    // LMDB itself orders a synced commit's writes (pages, flush, meta page); syncing after a
    // MDB_NOSYNC commit instead would flush pages and meta page together, in any order.
    const bool durable = options.sync && !env_->options().no_sync;
    if (const int rc = SetCommitsSync(durable); rc != MDB_SUCCESS) return FromMdb(rc, "mdb_env_set_flags");
    for (int attempt = 1;; ++attempt) {
      std::string where;
      const int rc = ApplyOnce(batch, &where);
      if (rc == MDB_SUCCESS) return Status::Ok();
      if (attempt == kMaxAttempts || (rc != MDB_MAP_FULL && rc != MDB_MAP_RESIZED)) {
        return env_->WriteFailure(rc, where, batch.ByteSize());
      }
      // The transaction is gone, so no transaction of this thread blocks the resize.
      Status grown = rc == MDB_MAP_FULL ? env_->Grow(batch.ByteSize()) : env_->AdoptMapSize();
      if (!grown.ok()) return grown;
    }
  } catch (...) {
    return FromCurrentException("LMDB Write");
  }
}

int LmdbStore::SetCommitsSync(bool durable) {
  if (durable == commits_sync_) return MDB_SUCCESS;
  const int rc = mdb_env_set_flags(env_->handle(), MDB_NOSYNC, durable ? 0 : 1);
  if (rc == MDB_SUCCESS) commits_sync_ = durable;
  return rc;
}

Status LmdbStore::ReadTxnFor(const ReadOptions& options, std::unique_ptr<ReadTxn>* owned,
                             MDB_txn** txn) {
  if (options.snapshot == nullptr) {
    if (Status s = ReadTxn::Begin(*env_, owned); !s.ok()) return s;
    *txn = (*owned)->get();
    return Status::Ok();
  }
  const auto* snapshot = dynamic_cast<const LmdbSnapshot*>(options.snapshot);
  if (snapshot == nullptr || snapshot->env() != env_.get()) {
    return Status::InvalidArgument("the snapshot was not made by this LMDB store");
  }
  if (!snapshot->status().ok()) return snapshot->status();
  *txn = snapshot->txn();
  return Status::Ok();
}

Status LmdbStore::Get(const ReadOptions& options, std::string_view key, std::string* value) {
  try {
    if (value == nullptr) return Status::InvalidArgument("Get: value must not be null");
    if (Status s = CheckKey(key); !s.ok()) return s;
    std::unique_ptr<ReadTxn> owned;
    MDB_txn* txn = nullptr;
    if (Status s = ReadTxnFor(options, &owned, &txn); !s.ok()) return s;
    lmdb::val k(key.data(), key.size());
    lmdb::val v(nullptr, 0);
    const int rc = mdb_get(txn, env_->dbi(), k, v);
    if (rc == MDB_NOTFOUND) return Status::NotFound("key not found");
    if (rc != MDB_SUCCESS) return FromMdb(rc, "mdb_get");
    std::string_view plain;
    if (!UnsealValue(key, View(v), &plain)) return ChecksumMismatch(env_->data_file(), key);
    value->assign(plain);  // copy before the transaction ends
    return Status::Ok();
  } catch (...) {
    return FromCurrentException("LMDB Get");
  }
}

std::unique_ptr<Iterator> LmdbStore::NewIterator(const ReadOptions& options) {
  try {
    std::unique_ptr<ReadTxn> owned;
    MDB_txn* txn = nullptr;
    if (Status s = ReadTxnFor(options, &owned, &txn); !s.ok()) return LmdbIterator::Failed(s);
    return LmdbIterator::Open(std::move(owned), txn, env_->dbi(), env_->data_file(),
                              options.lower_bound, options.upper_bound);
  } catch (...) {
    try {
      return LmdbIterator::Failed(FromCurrentException("LMDB NewIterator"));
    } catch (...) {
      return nullptr;  // not even an error iterator could be made (out of memory)
    }
  }
}

std::unique_ptr<Snapshot> LmdbStore::GetSnapshot() {
  try {
    std::unique_ptr<ReadTxn> txn;
    if (Status s = ReadTxn::Begin(*env_, &txn); !s.ok()) {
      return std::make_unique<LmdbSnapshot>(env_.get(), std::move(s));
    }
    return std::make_unique<LmdbSnapshot>(env_.get(), std::move(txn));
  } catch (...) {
    try {
      return std::make_unique<LmdbSnapshot>(env_.get(),
                                            FromCurrentException("LMDB GetSnapshot"));
    } catch (...) {
      return nullptr;
    }
  }
}

// LMDB keeps no per-range statistics, so this walks the range and sums key and value bytes:
// exact rather than approximate, and O(keys in range). Page overhead and checksum trailers are
// not counted; a damaged value in the range makes it fail with Corruption.
Status LmdbStore::ApproximateSize(std::string_view begin, std::string_view end,
                                  std::uint64_t* bytes) {
  try {
    if (bytes == nullptr) return Status::InvalidArgument("ApproximateSize: bytes must not be null");
    *bytes = 0;
    if (end <= begin) return Status::Ok();
    std::unique_ptr<ReadTxn> txn;
    if (Status s = ReadTxn::Begin(*env_, &txn); !s.ok()) return s;
    MDB_txn* raw = txn->get();
    std::unique_ptr<Iterator> it = LmdbIterator::Open(std::move(txn), raw, env_->dbi(),
                                                    env_->data_file(), begin, end);
    std::uint64_t total = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) total += it->key().size() + it->value().size();
    if (Status s = it->status(); !s.ok()) return s;
    *bytes = total;
    return Status::Ok();
  } catch (...) {
    return FromCurrentException("LMDB ApproximateSize");
  }
}

Status LmdbStore::Flush() {
  try {
    // mdb_env_sync only fdatasyncs the file descriptor; it does not touch the map, so it needs
    // neither the gate nor the writer lock.
    const int rc = mdb_env_sync(env_->handle(), 1);
    if (rc != MDB_SUCCESS) return FromMdb(rc, "mdb_env_sync");
    return Status::Ok();
  } catch (...) {
    return FromCurrentException("LMDB Flush");
  }
}

}  // namespace goethe::kv::lmdb_backend
