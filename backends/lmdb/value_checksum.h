// Value checksums: LMDB keeps none of its own, so without them bytes overwritten inside a data
// page would be read back as a good value. Every value in data.mdb is the caller's value followed
// by a 4-byte trailer, the CRC-32 (zlib's) of the key and then the value, little-endian. Covering
// the key too means a damaged key is caught as well, and a value moved under another key is not
// taken for that key's.
#pragma once

#include <cstddef>
#include <string_view>

#include "goethe/kv/status.h"

namespace goethe::kv::lmdb_backend {

inline constexpr std::size_t kTrailerBytes = 4;

// Writes `value` and its trailer to `out`, which has room for value.size() + kTrailerBytes bytes.
void SealValue(std::string_view key, std::string_view value, char* out);

// Sets *value to the caller's value inside `stored` (a view into it, without the trailer) and
// returns true when the trailer matches; false when it does not or `stored` is too short for one.
bool UnsealValue(std::string_view key, std::string_view stored, std::string_view* value);

// The Corruption status for a value that failed UnsealValue: names the file and the key (hex).
Status ChecksumMismatch(std::string_view data_file, std::string_view key);

}  // namespace goethe::kv::lmdb_backend
