// The format marker: a small file beside data.mdb that says how the values in it are laid out.
// Stores written before value checksums (value_checksum.h) have no trailers and no marker; read
// with this plugin every value of theirs would fail its check, so such a store is refused at open
// with a message that says why, instead of failing on every read.
#pragma once

#include <string>

#include "goethe/kv/status.h"

namespace goethe::kv::lmdb_backend {

inline constexpr const char* kFormatMarkerFile = "goethe-lmdb-format";
// The marker's first line; later lines are comments for a person reading the file.
inline constexpr const char* kFormatMarkerLine = "goethe-lmdb-format 1";

// Call before LMDB opens directory `dir`. When `dir`/data.mdb exists, the marker must be there
// and name this format (NotSupported otherwise, naming the marker file and what to do); when
// data.mdb does not exist, a new store is about to be made, and this writes the marker, durably,
// unless one naming this format is already there.
Status CheckOrWriteFormatMarker(const std::string& dir);

}  // namespace goethe::kv::lmdb_backend
