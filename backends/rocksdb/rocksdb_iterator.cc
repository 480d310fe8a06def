#include "rocksdb_iterator.h"

#include <utility>

#include "rocksdb_slice.h"
#include "rocksdb_status.h"

namespace goethe::kv::rocksdb_backend {

RocksDbIterator::RocksDbIterator(rocksdb::DB* db, rocksdb::ReadOptions read,
                                 std::string_view lower_bound, std::string_view upper_bound)
    : lower_(lower_bound), upper_(upper_bound), lower_slice_(lower_), upper_slice_(upper_) {
  read.iterate_lower_bound = lower_.empty() ? nullptr : &lower_slice_;
  read.iterate_upper_bound = upper_.empty() ? nullptr : &upper_slice_;
  it_.reset(db->NewIterator(read));
}

RocksDbIterator::RocksDbIterator(Status error) : error_(std::move(error)) {}

template <typename Move>
void RocksDbIterator::Do(const char* what, Move&& move) noexcept {
  valid_ = false;
  if (it_ == nullptr || !error_.ok()) return;
  try {
    move();
    valid_ = it_->Valid();
  } catch (const std::exception& e) {
    error_ = FromException(what, &e);
  } catch (...) {
    error_ = FromException(what, nullptr);
  }
}

void RocksDbIterator::SeekToFirst() {
  Do("SeekToFirst", [&] { it_->SeekToFirst(); });
}
void RocksDbIterator::SeekToLast() {
  Do("SeekToLast", [&] { it_->SeekToLast(); });
}
void RocksDbIterator::Seek(std::string_view target) {
  Do("Seek", [&] { it_->Seek(ToSlice(target)); });
}
void RocksDbIterator::SeekForPrev(std::string_view target) {
  Do("SeekForPrev", [&] { it_->SeekForPrev(ToSlice(target)); });
}

// Next and Prev require Valid(); on an invalid iterator they do nothing rather than let RocksDB
// step an unpositioned cursor.
void RocksDbIterator::Next() {
  if (!valid_) return;
  Do("Next", [&] { it_->Next(); });
}
void RocksDbIterator::Prev() {
  if (!valid_) return;
  Do("Prev", [&] { it_->Prev(); });
}

std::string_view RocksDbIterator::key() const { return View(it_->key()); }
std::string_view RocksDbIterator::value() const { return View(it_->value()); }

Status RocksDbIterator::status() const {
  if (!error_.ok()) return error_;
  if (it_ == nullptr) return Status::Ok();
  return Guard("iterator status", [&] { return FromRocksDb(it_->status(), "iterator"); });
}

}  // namespace goethe::kv::rocksdb_backend
