// WriteBatch: an ordered list of puts, deletes and range deletes applied atomically by
// Store::Write — after a crash either every operation of the batch is visible or none is.
//
// A WriteBatch is a plain container owned by the caller; it is not thread-safe, and a plugin only
// reads it. Operations apply in the order they were added, so a later put wins over an earlier
// delete of the same key.
#pragma once

#include <cstddef>
#include <string>
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
    std::string key;
    std::string value;
  };

  void Put(std::string_view key, std::string_view value) {
    bytes_ += key.size() + value.size();
    ops_.push_back({OpType::kPut, std::string(key), std::string(value)});
  }
  // Put that takes ownership of the bytes: saves a copy of large values on the append path.
  void PutOwned(std::string key, std::string value) {
    bytes_ += key.size() + value.size();
    ops_.push_back({OpType::kPut, std::move(key), std::move(value)});
  }
  void Delete(std::string_view key) {
    bytes_ += key.size();
    ops_.push_back({OpType::kDelete, std::string(key), {}});
  }
  // Deletes every key k with begin <= k < end (bytewise). An empty range (end <= begin) is a no-op.
  void DeleteRange(std::string_view begin, std::string_view end) {
    bytes_ += begin.size() + end.size();
    ops_.push_back({OpType::kDeleteRange, std::string(begin), std::string(end)});
  }
  void Clear() {
    ops_.clear();
    bytes_ = 0;
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
  std::vector<Op> ops_;
  std::size_t bytes_ = 0;
};

}  // namespace goethe::kv
