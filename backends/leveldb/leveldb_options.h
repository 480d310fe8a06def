// Parses the LevelDB plugin's options (strings from the config) into typed settings.
#pragma once

#include <cstdint>

#include "goethe/kv/options.h"
#include "goethe/kv/status.h"

namespace goethe::kv::leveldb_backend {

// Typed settings; the defaults here are the documented ones (see leveldb_options.cc).
struct LevelDbConfig {
  std::uint64_t block_cache_size = std::uint64_t{8} << 20;
  std::uint64_t write_buffer_size = std::uint64_t{16} << 20;
  bool compression = true;  // snappy
  std::uint64_t bloom_filter_bits = 10;
  std::uint64_t max_open_files = 1000;
  bool paranoid_checks = true;
};

// Reads every option into *config. On a bad or unknown key fills *error (may be null) and returns
// InvalidArgument "option 'key': reason"; *config is then partly filled and must not be used.
Status ParseOptions(const Options& options, LevelDbConfig* config, OptionError* error);

}  // namespace goethe::kv::leveldb_backend
