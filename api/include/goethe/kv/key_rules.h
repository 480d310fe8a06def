// The key-size rule that every plugin enforces, with the same error, so that a program behaves the
// same on every backend. LMDB refuses empty keys and keys over 511 bytes; LevelDB and RocksDB
// would accept them, but are held to the same rule here.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "goethe/kv/status.h"

namespace goethe::kv {

inline constexpr std::size_t kMinKeySize = 1;
inline constexpr std::size_t kMaxKeySize = 511;

// OK when `key` is 1..511 bytes long; otherwise InvalidArgument naming the length.
inline Status CheckKey(std::string_view key) {
  if (key.size() >= kMinKeySize && key.size() <= kMaxKeySize) return Status::Ok();
  return Status::InvalidArgument("key of " + std::to_string(key.size()) +
                                 " bytes is outside the allowed 1..511 bytes");
}

}  // namespace goethe::kv
