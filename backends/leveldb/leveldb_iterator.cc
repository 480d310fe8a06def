#include "leveldb_iterator.h"

#include <utility>

#include "leveldb_slice.h"
#include "leveldb_status.h"

namespace goethe::kv::leveldb_backend {

LevelDbIterator::LevelDbIterator(std::unique_ptr<leveldb::Iterator> it,
                                 std::string_view lower_bound, std::string_view upper_bound)
    : it_(std::move(it)), lower_(lower_bound), upper_(upper_bound) {}

LevelDbIterator::LevelDbIterator(Status error) : error_(std::move(error)) {}

bool LevelDbIterator::InBounds(std::string_view key) const {
  // std::string_view compares bytes as unsigned char, like LevelDB's bytewise comparator.
  if (!lower_.empty() && key < std::string_view(lower_)) return false;
  if (!upper_.empty() && key >= std::string_view(upper_)) return false;
  return true;
}

template <typename Move>
void LevelDbIterator::Do(const char* what, Move&& move) noexcept {
  valid_ = false;
  if (it_ == nullptr || !error_.ok()) return;
  try {
    move();
    valid_ = it_->Valid() && InBounds(View(it_->key()));
  } catch (const std::exception& e) {
    error_ = FromException(what, &e);
  } catch (...) {
    error_ = FromException(what, nullptr);
  }
}

void LevelDbIterator::SeekToFirst() {
  Do("SeekToFirst", [&] {
    if (lower_.empty()) it_->SeekToFirst();
    else it_->Seek(ToSlice(lower_));
  });
}

void LevelDbIterator::SeekToLastUnguarded() {
  if (upper_.empty()) {
    it_->SeekToLast();
    return;
  }
  // The last key below the exclusive upper bound: step back from the first key >= upper.
  it_->Seek(ToSlice(upper_));
  if (it_->Valid()) it_->Prev();
  else if (it_->status().ok()) it_->SeekToLast();  // everything is below upper
}

void LevelDbIterator::SeekToLast() {
  Do("SeekToLast", [&] { SeekToLastUnguarded(); });
}

void LevelDbIterator::Seek(std::string_view target) {
  Do("Seek", [&] {
    if (!lower_.empty() && target < std::string_view(lower_)) target = lower_;
    it_->Seek(ToSlice(target));
  });
}

void LevelDbIterator::SeekForPrev(std::string_view target) {
  Do("SeekForPrev", [&] {
    if (!upper_.empty() && target >= std::string_view(upper_)) {
      SeekToLastUnguarded();
      return;
    }
    it_->Seek(ToSlice(target));
    if (!it_->Valid()) {
      if (it_->status().ok()) it_->SeekToLast();  // every key is < target
    } else if (View(it_->key()) > target) {
      it_->Prev();
    }
    // A result below lower_ is rejected by InBounds.
  });
}

// Next and Prev require Valid(); on an invalid iterator they do nothing rather than let LevelDB
// step an unpositioned cursor.
void LevelDbIterator::Next() {
  if (!valid_) return;
  Do("Next", [&] { it_->Next(); });
}

void LevelDbIterator::Prev() {
  if (!valid_) return;
  Do("Prev", [&] { it_->Prev(); });
}

std::string_view LevelDbIterator::key() const { return View(it_->key()); }
std::string_view LevelDbIterator::value() const { return View(it_->value()); }

Status LevelDbIterator::status() const {
  if (!error_.ok()) return error_;
  if (it_ == nullptr) return Status::Ok();
  return Guard("iterator status", [&] { return FromLevelDb(it_->status(), "iterator"); });
}

}  // namespace goethe::kv::leveldb_backend
