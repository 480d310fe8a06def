// A goethe iterator over a LevelDB iterator. LevelDB has no iterator bounds, so this wrapper
// enforces ReadOptions' [lower_bound, upper_bound) itself: it seeks inside them and reports
// Valid() == false as soon as the underlying cursor leaves them.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <leveldb/iterator.h>

#include "goethe/kv/iterator.h"
#include "goethe/kv/status.h"

namespace goethe::kv::leveldb_backend {

class LevelDbIterator final : public Iterator {
 public:
  // Empty bounds mean unbounded. The bounds are copied: cheap, and safe even if the caller's views
  // die early.
  LevelDbIterator(std::unique_ptr<leveldb::Iterator> it, std::string_view lower_bound,
                  std::string_view upper_bound);
  // An iterator that is never valid and reports `error`, for a NewIterator that failed.
  explicit LevelDbIterator(Status error);

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
  // Runs a move of the underlying cursor, then recomputes valid_; an exception ends the iteration
  // with an Internal status instead of escaping.
  template <typename Move>
  void Do(const char* what, Move&& move) noexcept;
  void SeekToLastUnguarded();
  bool InBounds(std::string_view key) const;

  std::unique_ptr<leveldb::Iterator> it_;
  std::string lower_;
  std::string upper_;
  bool valid_ = false;  // cached: Valid() is called on every step of a scan
  Status error_;
};

}  // namespace goethe::kv::leveldb_backend
