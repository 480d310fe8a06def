// LmdbIterator: an LMDB cursor on a read-only transaction, kept inside [lower_bound, upper_bound).
//
// The transaction is either the iterator's own (holding the ResizeGate shared until the
// iterator is destroyed) or borrowed from a snapshot, which must then outlive the iterator.
// key() and value() point straight into LMDB's map: they stay valid until the next move, since
// the transaction stays open. Each position's value is checked against its checksum trailer
// (value_checksum.h) when the iterator lands on it; on a mismatch the iterator becomes invalid
// and status() is Corruption naming the data file and the key.
//
// Seek targets need not obey the key rule: an empty target means "before every key", and one
// longer than 511 bytes (no stored key is) is handled by seeking on its 511-byte prefix.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <lmdb++.h>
#include <lmdb.h>

#include "goethe/kv/iterator.h"
#include "goethe/kv/status.h"
#include "lmdb_read_txn.h"

namespace goethe::kv::lmdb_backend {

class LmdbIterator final : public Iterator {
 public:
  // Opens a cursor on `txn`; `owned` is the ReadTxn behind it, or null when borrowed.
  // `data_file` (for error messages) must outlive the iterator. On failure returns an iterator
  // that is never Valid and reports the error in status().
  static std::unique_ptr<Iterator> Open(std::unique_ptr<ReadTxn> owned, MDB_txn* txn,
                                        MDB_dbi dbi, std::string_view data_file,
                                        std::string_view lower_bound,
                                        std::string_view upper_bound);
  // An iterator that only reports `error`.
  static std::unique_ptr<Iterator> Failed(Status error);

  ~LmdbIterator() override;

  bool Valid() const override { return valid_; }
  void SeekToFirst() override;
  void SeekToLast() override;
  void Seek(std::string_view target) override;
  void SeekForPrev(std::string_view target) override;
  void Next() override;
  void Prev() override;
  std::string_view key() const override { return View(key_); }
  std::string_view value() const override { return value_; }
  Status status() const override { return status_; }

 private:
  LmdbIterator(std::unique_ptr<ReadTxn> owned, MDB_cursor* cursor, std::string_view data_file,
               std::string lower, std::string upper, Status status);

  static std::string_view View(const lmdb::val& v) { return {v.data(), v.size()}; }
  int Move(MDB_cursor_op op);
  // First entry with key >= target (any target, see above).
  int SetRange(std::string_view target);
  // Last entry with key < target; target empty means "after every key".
  int PositionBefore(std::string_view target);
  // Takes the outcome of a cursor move: valid when it found an entry inside the bounds whose
  // value passes its checksum.
  void Land(int rc);
  // False (and invalid) when the iterator failed to open; resets the status for a fresh seek.
  bool BeginSeek();

  std::unique_ptr<ReadTxn> owned_;
  MDB_cursor* cursor_;
  std::string_view data_file_;
  std::string lower_;
  std::string upper_;
  lmdb::val key_{nullptr, 0};
  lmdb::val stored_{nullptr, 0};  // the value as stored, with its trailer
  std::string_view value_;         // the caller's value inside stored_, once checked
  bool valid_ = false;
  Status status_;
};

}  // namespace goethe::kv::lmdb_backend
