// LevelDB plugin options. Every key is optional; sizes take plain bytes or KiB/MiB/GiB/TiB.
//
//   block_cache_size   size   8MiB    LRU cache of uncompressed data blocks shared by all reads;
//                                     0 disables caching.
//   write_buffer_size  size   16MiB   memtable size before it is flushed to a level-0 file;
//                                     larger absorbs write bursts better, costs memory and a
//                                     longer log replay at open. 64KiB..1GiB.
//   compression        choice snappy  block compression: none | snappy.
//   bloom_filter_bits  uint   10      bloom filter bits per key (about 1% false positives at 10);
//                                     saves disk reads for absent keys; 0 turns the filter off.
//                                     0..64.
//   max_open_files     uint   1000    table files kept open (file descriptors). 74..50000.
//   paranoid_checks    bool   true    check data aggressively, so corruption is reported at open
//                                     and on read instead of silently skipped: table sizes are
//                                     checked at open, block checksums on every read.
#include "leveldb_options.h"

#include <string>

namespace goethe::kv::leveldb_backend {
namespace {

// OptionReader has no range check; report out-of-range values in its own format.
Status RangeError(std::string_view key, std::uint64_t value, std::uint64_t lo, std::uint64_t hi,
                  OptionError* error) {
  OptionError e{std::string(key), "expected a value in " + std::to_string(lo) + ".." +
                                      std::to_string(hi) + ", got " + std::to_string(value)};
  Status status = Status::InvalidArgument("option '" + e.key + "': " + e.message);
  if (error != nullptr) *error = std::move(e);
  return status;
}

}  // namespace

Status ParseOptions(const Options& options, LevelDbConfig* config, OptionError* error) {
  OptionReader reader(options);
  std::string compression = config->compression ? "snappy" : "none";
  reader.GetSize("block_cache_size", &config->block_cache_size);
  reader.GetSize("write_buffer_size", &config->write_buffer_size);
  reader.GetChoice("compression", {"none", "snappy"}, &compression);
  reader.GetUint("bloom_filter_bits", &config->bloom_filter_bits);
  reader.GetUint("max_open_files", &config->max_open_files);
  reader.GetBool("paranoid_checks", &config->paranoid_checks);
  config->compression = compression == "snappy";

  if (reader.ok()) {
    // LevelDB silently clips these ranges; refusing them instead points the operator at the line.
    if (config->write_buffer_size < (std::uint64_t{64} << 10) ||
        config->write_buffer_size > (std::uint64_t{1} << 30)) {
      return RangeError("write_buffer_size", config->write_buffer_size, std::uint64_t{64} << 10,
                        std::uint64_t{1} << 30, error);
    }
    if (config->max_open_files < 74 || config->max_open_files > 50000) {
      return RangeError("max_open_files", config->max_open_files, 74, 50000, error);
    }
    if (config->bloom_filter_bits > 64) {
      return RangeError("bloom_filter_bits", config->bloom_filter_bits, 0, 64, error);
    }
  }
  reader.RejectUnknown();
  if (!reader.ok() && error != nullptr) *error = reader.error();
  return reader.status();
}

}  // namespace goethe::kv::leveldb_backend
