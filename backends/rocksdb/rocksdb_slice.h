// Conversions between rocksdb::Slice and std::string_view: both are a pointer and a length, neither owns.
#pragma once

#include <string_view>

#include <rocksdb/slice.h>

namespace goethe::kv::rocksdb_backend {

inline rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view View(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

}  // namespace goethe::kv::rocksdb_backend
