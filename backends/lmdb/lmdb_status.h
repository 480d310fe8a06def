// Turns LMDB return codes and exceptions into goethe::kv::Status, so that nothing LMDB (or
// lmdbxx, or the standard library) raises crosses the plugin boundary.
#pragma once

#include <string_view>

#include "goethe/kv/status.h"

namespace goethe::kv::lmdb_backend {

// Maps an LMDB return code (MDB_* or an errno value) to a Status whose message is
// "<context>: <mdb_strerror text>". `rc` must not be MDB_SUCCESS.
Status FromMdb(int rc, std::string_view context);

// Call only inside a catch block: classifies the exception being handled (lmdb::error by its
// code, std::bad_alloc, other std::exception, anything else) into a Status.
Status FromCurrentException(std::string_view context) noexcept;

}  // namespace goethe::kv::lmdb_backend
