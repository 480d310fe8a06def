#include "lmdb_read_txn.h"

#include "lmdb_status.h"

namespace goethe::kv::lmdb_backend {

Status ReadTxn::Begin(Environment& env, std::unique_ptr<ReadTxn>* out) {
  ResizeGate& gate = env.gate();
  gate.LockShared();
  if (!env.Usable().ok()) {
    Status broken = env.Usable();
    gate.UnlockShared();
    return broken;
  }
  MDB_txn* txn = nullptr;
  const int rc = mdb_txn_begin(env.handle(), nullptr, MDB_RDONLY, &txn);
  if (rc != MDB_SUCCESS) {
    gate.UnlockShared();
    return FromMdb(rc, "mdb_txn_begin (read-only)");
  }
  try {
    out->reset(new ReadTxn(gate, txn));
  } catch (...) {
    mdb_txn_abort(txn);
    gate.UnlockShared();
    throw;
  }
  return Status::Ok();
}

ReadTxn::~ReadTxn() {
  mdb_txn_abort(txn_);
  gate_.UnlockShared();
}

}  // namespace goethe::kv::lmdb_backend
