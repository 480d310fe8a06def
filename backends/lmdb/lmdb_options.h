// Options of the LMDB backend, parsed from the strings a deployment's config passes in.
//
//   map_size      size  256MiB  Initial size of LMDB's memory map, i.e. how much data fits before
//                               the map must grow. Only address space: the file grows as data is
//                               written. At least 64KiB; rounded up to the page size.
//   map_growth    bool  true    When a write finds the map full, grow it (double it, or add at
//                               least twice the batch size) and retry, instead of failing.
//   max_map_size  size  0       Ceiling for map_growth; 0 = unlimited. A write that would need a
//                               bigger map fails with NoSpace and writes nothing. When not 0 it
//                               must be at least map_size.
//   no_sync       bool  false   Never flush to disk on Write, even with WriteOptions::sync: a
//                               machine crash may lose (and, see lmdb_store.h, may damage) recent
//                               writes. Flush() still flushes.
//   no_meta_sync  bool  false   Sets MDB_NOMETASYNC: a synced write still flushes its pages before
//                               it writes the meta page, but does not flush the meta page, so a
//                               machine crash may undo the newest synced writes (the store stays
//                               whole). Saves one flush per synced write.
//   max_readers   uint  126     Most read transactions open at once: each Get in flight, open
//                               Iterator and Snapshot takes one. Beyond it reads fail with Busy.
//                               1..65536.
#pragma once

#include <cstdint>

#include "goethe/kv/options.h"
#include "goethe/kv/status.h"

namespace goethe::kv::lmdb_backend {

struct LmdbOptions {
  std::uint64_t map_size = std::uint64_t{256} << 20;
  bool map_growth = true;
  std::uint64_t max_map_size = 0;
  bool no_sync = false;
  bool no_meta_sync = false;
  std::uint32_t max_readers = 126;
};

// Fills *out from `options`. On a bad or unknown key fills *error (when not null) and returns
// InvalidArgument "option 'key': reason", the same text as OptionReader::status().
Status ParseOptions(const Options& options, LmdbOptions* out, OptionError* error);

}  // namespace goethe::kv::lmdb_backend
