#include "lmdb_iterator.h"

#include <utility>

#include "goethe/kv/key_rules.h"
#include "lmdb_status.h"
#include "value_checksum.h"

namespace goethe::kv::lmdb_backend {

std::unique_ptr<Iterator> LmdbIterator::Open(std::unique_ptr<ReadTxn> owned, MDB_txn* txn,
                                             MDB_dbi dbi, std::string_view data_file,
                                             std::string_view lower_bound,
                                             std::string_view upper_bound) {
  MDB_cursor* cursor = nullptr;
  const int rc = mdb_cursor_open(txn, dbi, &cursor);
  if (rc != MDB_SUCCESS) return Failed(FromMdb(rc, "mdb_cursor_open"));
  try {
    // Copies: the caller's views need only outlive the ReadOptions, not be trusted beyond.
    return std::unique_ptr<Iterator>(new LmdbIterator(std::move(owned), cursor, data_file,
                                                      std::string(lower_bound),
                                                      std::string(upper_bound), Status::Ok()));
  } catch (...) {
    mdb_cursor_close(cursor);
    throw;
  }
}

std::unique_ptr<Iterator> LmdbIterator::Failed(Status error) {
  return std::unique_ptr<Iterator>(
      new LmdbIterator(nullptr, nullptr, {}, {}, {}, std::move(error)));
}

LmdbIterator::LmdbIterator(std::unique_ptr<ReadTxn> owned, MDB_cursor* cursor,
                           std::string_view data_file, std::string lower, std::string upper,
                           Status status)
    : owned_(std::move(owned)),
      cursor_(cursor),
      data_file_(data_file),
      lower_(std::move(lower)),
      upper_(std::move(upper)),
      status_(std::move(status)) {}

LmdbIterator::~LmdbIterator() {
  // A read-only transaction's cursor must be closed explicitly; do it before owned_ aborts the
  // transaction.
  if (cursor_ != nullptr) mdb_cursor_close(cursor_);
}

int LmdbIterator::Move(MDB_cursor_op op) { return mdb_cursor_get(cursor_, key_, stored_, op); }

int LmdbIterator::SetRange(std::string_view target) {
  // LMDB rejects empty and over-long keys with MDB_BAD_VALSIZE even as seek targets.
  if (target.empty()) return Move(MDB_FIRST);
  if (target.size() <= kMaxKeySize) {
    key_.assign(target.data(), target.size());
    return Move(MDB_SET_RANGE);
  }
  // Stored keys are at most 511 bytes, so the only key >= the prefix yet < target is the
  // prefix itself.
  const std::string_view prefix = target.substr(0, kMaxKeySize);
  key_.assign(prefix.data(), prefix.size());
  int rc = Move(MDB_SET_RANGE);
  if (rc == MDB_SUCCESS && View(key_) == prefix) rc = Move(MDB_NEXT);
  return rc;
}

int LmdbIterator::PositionBefore(std::string_view target) {
  if (target.empty()) return Move(MDB_LAST);
  int rc = SetRange(target);
  if (rc == MDB_SUCCESS) return Move(MDB_PREV);
  if (rc == MDB_NOTFOUND) return Move(MDB_LAST);  // every key is < target
  return rc;
}

void LmdbIterator::Land(int rc) {
  valid_ = false;
  value_ = {};
  if (rc == MDB_SUCCESS) {
    const std::string_view key = View(key_);
    if (key < lower_ || (!upper_.empty() && key >= upper_)) return;
    valid_ = UnsealValue(key, View(stored_), &value_);
    if (!valid_) status_ = ChecksumMismatch(data_file_, key);
  } else if (rc != MDB_NOTFOUND) {
    status_ = FromMdb(rc, "mdb_cursor_get");
  }
}

bool LmdbIterator::BeginSeek() {
  valid_ = false;
  if (cursor_ == nullptr) return false;
  status_ = Status::Ok();
  return true;
}

void LmdbIterator::SeekToFirst() {
  if (!BeginSeek()) return;
  Land(SetRange(lower_));
}

void LmdbIterator::SeekToLast() {
  if (!BeginSeek()) return;
  Land(PositionBefore(upper_));
}

void LmdbIterator::Seek(std::string_view target) {
  if (!BeginSeek()) return;
  Land(SetRange(target < lower_ ? std::string_view(lower_) : target));
}

void LmdbIterator::SeekForPrev(std::string_view target) {
  if (!BeginSeek()) return;
  if (!upper_.empty() && target >= upper_) return Land(PositionBefore(upper_));
  if (target.empty()) return;  // no key is <= ""
  int rc = SetRange(target);
  if (rc == MDB_SUCCESS) {
    if (View(key_) != target) rc = Move(MDB_PREV);  // landed past target: step back
  } else if (rc == MDB_NOTFOUND) {
    rc = Move(MDB_LAST);  // every key is < target
  }
  Land(rc);
}

void LmdbIterator::Next() {
  if (valid_) Land(Move(MDB_NEXT));
}

void LmdbIterator::Prev() {
  if (valid_) Land(Move(MDB_PREV));
}

}  // namespace goethe::kv::lmdb_backend
