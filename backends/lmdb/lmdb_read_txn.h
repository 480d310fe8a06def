// ReadTxn: a read-only LMDB transaction together with the shared hold on the ResizeGate that
// keeps the map from moving under it. Made for each Get, Iterator and Snapshot.
//
// With MDB_NOTLS the transaction is not tied to the thread that began it, so a ReadTxn may be
// used and destroyed on any thread, one at a time.
#pragma once

#include <memory>

#include <lmdb.h>

#include "goethe/kv/status.h"
#include "lmdb_environment.h"

namespace goethe::kv::lmdb_backend {

class ReadTxn {
 public:
  // Busy (MDB_READERS_FULL) when max_readers transactions are already open.
  static Status Begin(Environment& env, std::unique_ptr<ReadTxn>* out);

  ~ReadTxn();
  ReadTxn(const ReadTxn&) = delete;
  ReadTxn& operator=(const ReadTxn&) = delete;

  MDB_txn* get() const { return txn_; }

 private:
  ReadTxn(ResizeGate& gate, MDB_txn* txn) : gate_(gate), txn_(txn) {}

  ResizeGate& gate_;
  MDB_txn* txn_;
};

}  // namespace goethe::kv::lmdb_backend
