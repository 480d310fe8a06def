// A goethe iterator over a RocksDB iterator. RocksDB enforces the bounds itself
// (iterate_lower_bound / iterate_upper_bound); this object owns the bound bytes and the Slices
// pointing at them, because RocksDB keeps only the pointers and they must outlive its iterator.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>

#include "goethe/kv/iterator.h"
#include "goethe/kv/status.h"

namespace goethe::kv::rocksdb_backend {

class RocksDbIterator final : public Iterator {
 public:
  // Makes a RocksDB iterator over `db` with `read` plus the bounds (empty = unbounded).
  RocksDbIterator(rocksdb::DB* db, rocksdb::ReadOptions read, std::string_view lower_bound,
                  std::string_view upper_bound);
  // An iterator that is never valid and reports `error`, for a NewIterator that failed.
  explicit RocksDbIterator(Status error);
  RocksDbIterator(const RocksDbIterator&) = delete;
  RocksDbIterator& operator=(const RocksDbIterator&) = delete;

  bool Valid() const override { return valid_; }
  void SeekToFirst() override;
  void SeekToLast() override;
  void Seek(std::string_view target) override;
  void SeekForPrev(std::string_view target) override;
  void Next() override;
  void Prev() override;
  std::string_view key() const override;
  std::string_view value() const override;
  Status status() const override;

 private:
  // Runs a move of the underlying cursor, then refreshes valid_; an exception ends the iteration
  // with an Internal status instead of escaping.
  template <typename Move>
  void Do(const char* what, Move&& move) noexcept;

  // Declared before it_: RocksDB reads them through the Slices until it_ is destroyed.
  std::string lower_;
  std::string upper_;
  rocksdb::Slice lower_slice_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
  bool valid_ = false;
  Status error_;
};

}  // namespace goethe::kv::rocksdb_backend
