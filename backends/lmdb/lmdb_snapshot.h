// LmdbSnapshot: a Snapshot is simply an open read-only LMDB transaction, which sees the database
// as of its start for as long as it lives.
//
// Store::GetSnapshot cannot return a Status, so a snapshot that failed to begin (e.g. max_readers
// reached) is still returned and carries the error: every read through it fails with that
// Status instead of silently reading the current state.
//
// Holding a snapshot keeps LMDB from reusing pages freed after it began (the file may grow) and
// blocks map growth (see resize_gate.h). Iterators made from a snapshot borrow its transaction,
// so the snapshot must outlive them. Reads through one snapshot from several threads at once
// share one LMDB read transaction; LMDB's read paths do not modify it.
#pragma once

#include <memory>
#include <utility>

#include <lmdb.h>

#include "goethe/kv/status.h"
#include "goethe/kv/store.h"
#include "lmdb_environment.h"
#include "lmdb_read_txn.h"

namespace goethe::kv::lmdb_backend {

class LmdbSnapshot final : public Snapshot {
 public:
  LmdbSnapshot(const Environment* env, std::unique_ptr<ReadTxn> txn)
      : env_(env), txn_(std::move(txn)) {}
  LmdbSnapshot(const Environment* env, Status error) : env_(env), error_(std::move(error)) {}

  const Environment* env() const { return env_; }
  const Status& status() const { return error_; }
  MDB_txn* txn() const { return txn_ ? txn_->get() : nullptr; }

 private:
  const Environment* env_;
  std::unique_ptr<ReadTxn> txn_;
  Status error_;
};

}  // namespace goethe::kv::lmdb_backend
