// Conversions between leveldb::Slice and std::string_view: both are a pointer and a length, neither owns.
#pragma once

#include <string_view>

#include <leveldb/slice.h>

namespace goethe::kv::leveldb_backend {

inline leveldb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view View(const leveldb::Slice& s) { return {s.data(), s.size()}; }

}  // namespace goethe::kv::leveldb_backend
