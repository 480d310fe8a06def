// ResizeGate: keeps mdb_env_set_mapsize away from live transactions.
//
// Growing LMDB's map remaps the data file, and LMDB does not check for open transactions: a read
// transaction still open in this process would then read unmapped memory. So every transaction
// (each Get, Iterator, Snapshot, and the write transaction) holds the gate shared for its whole
// life, and the writer holds it exclusively for the moment it resizes.
//
// It is a counter under a mutex rather than std::shared_timed_mutex because an Iterator or
// Snapshot may be destroyed on another thread than the one that made it, and releasing a standard
// mutex from a thread that does not own it is undefined.
//
// Fairness: for the first kHoldBack of a writer's wait, new readers wait too, so that the readers
// already inside drain and the resize gets its moment even under a steady stream of overlapping
// short reads. After that, readers are admitted again while any reader is inside, so a thread
// that already holds the gate (say, through an open iterator) and takes it again waits at most
// kHoldBack, never deadlocks. Once the reader count reaches zero with a writer waiting, new
// readers always wait for that writer. Long-lived readers can still keep a writer out; it then
// gives up when its timeout expires.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace goethe::kv::lmdb_backend {

class ResizeGate {
 public:
  static constexpr std::chrono::milliseconds kHoldBack{100};

  void LockShared();
  void UnlockShared();

  // Waits up to `timeout` for every shared holder to leave; true when the gate is now exclusive.
  bool TryLockFor(std::chrono::milliseconds timeout);
  void Unlock();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t readers_ = 0;
  std::size_t writers_waiting_ = 0;
  bool hold_back_ = false;  // a writer asked new readers to wait
  bool writer_active_ = false;
};

// Holds a ResizeGate shared for a scope.
class SharedGateLock {
 public:
  explicit SharedGateLock(ResizeGate& gate) : gate_(gate) { gate_.LockShared(); }
  ~SharedGateLock() { gate_.UnlockShared(); }
  SharedGateLock(const SharedGateLock&) = delete;
  SharedGateLock& operator=(const SharedGateLock&) = delete;

 private:
  ResizeGate& gate_;
};

}  // namespace goethe::kv::lmdb_backend
