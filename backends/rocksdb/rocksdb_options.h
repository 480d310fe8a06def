// Parses the RocksDB plugin's options (strings from the config) into typed settings.
#pragma once

#include <cstdint>

#include <rocksdb/compression_type.h>

#include "goethe/kv/options.h"
#include "goethe/kv/status.h"

namespace goethe::kv::rocksdb_backend {

// Typed settings; the defaults are the documented ones (see rocksdb_options.cc).
struct RocksDbConfig {
  std::uint64_t block_cache_size = std::uint64_t{8} << 20;
  std::uint64_t write_buffer_size = std::uint64_t{16} << 20;
  rocksdb::CompressionType compression = rocksdb::kNoCompression;  // ParseOptions sets the default
  std::uint64_t bloom_filter_bits = 10;
  std::uint64_t max_open_files = 1000;  // 0 = unlimited
  std::uint64_t max_background_jobs = 2;
  bool paranoid_checks = true;
};

// Reads every option into *config. On a bad or unknown key fills *error (may be null) and returns
// InvalidArgument "option 'key': reason"; *config is then partly filled and must not be used.
Status ParseOptions(const Options& options, RocksDbConfig* config, OptionError* error);

}  // namespace goethe::kv::rocksdb_backend
