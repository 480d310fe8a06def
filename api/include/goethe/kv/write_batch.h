// WriteBatch: an ordered list of puts, deletes and range deletes applied atomically by
// Store::Write — after a crash either every operation of the batch is visible or none is.
//
// A WriteBatch is a plain container owned by the caller; it is not thread-safe, and a plugin only
// reads it. Operations apply in the order they were added, so a later put wins over an earlier
// delete of the same key.
//
// The bytes of every key and value live in the batch's own arena, a few large blocks, so that
// building a batch of thousands of events costs a handful of allocations rather than two per
// operation; an Op's views stay valid until the batch is cleared or destroyed.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "goethe/kv/key_rules.h"
#include "goethe/kv/status.h"

namespace goethe::kv {

class WriteBatch {
 public:
  enum class OpType { kPut, kDelete, kDeleteRange };

  // One operation. For kDeleteRange, `key` is the inclusive start and `value` the exclusive end.
  struct Op {
    OpType type;
    std::string_view key;
    std::string_view value;
  };

  WriteBatch() = default;
  // Moving keeps the blocks, so the moved ops' views stay valid; a copy would point into the
  // source, so there is none.
  WriteBatch(WriteBatch&&) noexcept = default;
  WriteBatch& operator=(WriteBatch&&) noexcept = default;
  WriteBatch(const WriteBatch&) = delete;
  WriteBatch& operator=(const WriteBatch&) = delete;

  void Put(std::string_view key, std::string_view value) {
    bytes_ += key.size() + value.size();
    const std::string_view stored_key = Store(key);
    ops_.push_back({OpType::kPut, stored_key, Store(value)});
  }
  // A put whose value the caller writes in place: returns `value_size` bytes to fill before the
  // batch is written, which spares building the value in a temporary first.
  char* PutUninitialized(std::string_view key, std::size_t value_size) {
    bytes_ += key.size() + value_size;
    const std::string_view stored_key = Store(key);
    char* value = Allocate(value_size);
    ops_.push_back({OpType::kPut, stored_key, std::string_view(value, value_size)});
    return value;
  }
  void Delete(std::string_view key) {
    bytes_ += key.size();
    ops_.push_back({OpType::kDelete, Store(key), {}});
  }
  // Deletes every key k with begin <= k < end (bytewise). An empty range (end <= begin) is a no-op.
  void DeleteRange(std::string_view begin, std::string_view end) {
    bytes_ += begin.size() + end.size();
    const std::string_view stored_begin = Store(begin);
    ops_.push_back({OpType::kDeleteRange, stored_begin, Store(end)});
  }
  void Clear() {
    ops_.clear();
    bytes_ = 0;
    // Keep the newest block for the next round of puts, unless one huge value made it.
    if (!blocks_.empty() && blocks_.back().size > kMaxBlockBytes) blocks_.pop_back();
    if (blocks_.size() > 1) blocks_.erase(blocks_.begin(), blocks_.end() - 1);
    next_ = nullptr;
    left_ = 0;
    if (!blocks_.empty()) {
      next_ = blocks_.back().data.get();
      left_ = blocks_.back().size;
    }
  }
  void Reserve(std::size_t ops) { ops_.reserve(ops); }

  const std::vector<Op>& ops() const { return ops_; }
  bool empty() const { return ops_.empty(); }
  std::size_t size() const { return ops_.size(); }
  // Sum of key and value bytes: what the batch asks the store to write.
  std::size_t ByteSize() const { return bytes_; }

  // OK when every key in the batch obeys the key rule (range ends included); plugins call this
  // before they touch their database so that a bad batch writes nothing.
  Status Validate() const {
    for (const Op& op : ops_) {
      if (Status s = CheckKey(op.key); !s.ok()) return s;
      if (op.type == OpType::kDeleteRange) {
        if (Status s = CheckKey(op.value); !s.ok()) return s;
      }
    }
    return Status::Ok();
  }

 private:
  static constexpr std::size_t kFirstBlockBytes = 4 << 10;
  static constexpr std::size_t kMaxBlockBytes = 4 << 20;

  struct Block {
    std::unique_ptr<char[]> data;
    std::size_t size;
  };

  std::string_view Store(std::string_view bytes) {
    if (bytes.empty()) return {};
    char* at = Allocate(bytes.size());
    std::memcpy(at, bytes.data(), bytes.size());
    return {at, bytes.size()};
  }

  char* Allocate(std::size_t n) {
    if (n > left_) {
      // Blocks double up to a cap; a value bigger than that gets a block of its own size.
      const std::size_t previous = blocks_.empty() ? kFirstBlockBytes / 2 : blocks_.back().size;
      const std::size_t size = std::max(n, std::min(previous * 2, kMaxBlockBytes));
      blocks_.push_back({std::make_unique_for_overwrite<char[]>(size), size});
      next_ = blocks_.back().data.get();
      left_ = size;
    }
    char* at = next_;
    next_ += n;
    left_ -= n;
    return at;
  }

  std::vector<Op> ops_;
  std::size_t bytes_ = 0;
  std::vector<Block> blocks_;
  char* next_ = nullptr;  // free space in the newest block
  std::size_t left_ = 0;
};

}  // namespace goethe::kv
