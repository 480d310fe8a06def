// Iterator: an ordered cursor over the keys of a Store, in bytewise (memcmp, then length) order.
//
// An iterator reads one consistent point in time: the snapshot it was given, or the store's state
// when it was created. It is not thread-safe: one thread uses it at a time. It must be destroyed
// before the Store that made it.
#pragma once

#include <string_view>

#include "goethe/kv/status.h"

namespace goethe::kv {

class Iterator {
 public:
  virtual ~Iterator() = default;

  // True when the iterator is positioned at an entry inside its bounds (ReadOptions).
  virtual bool Valid() const = 0;

  // Positions at the first / last entry within the bounds; invalid when there is none.
  virtual void SeekToFirst() = 0;
  virtual void SeekToLast() = 0;
  // Positions at the first entry with key >= target (and within the bounds).
  virtual void Seek(std::string_view target) = 0;
  // Positions at the last entry with key <= target (and within the bounds).
  virtual void SeekForPrev(std::string_view target) = 0;

  // Require Valid(). Next moves to the following entry, Prev to the preceding one.
  virtual void Next() = 0;
  virtual void Prev() = 0;

  // Require Valid(). The views stay valid only until the next move or the iterator's destruction.
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;

  // Not OK when an error ended the iteration early (Valid() is then false).
  virtual Status status() const = 0;
};

}  // namespace goethe::kv
