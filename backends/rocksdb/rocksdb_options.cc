// RocksDB plugin options. Every key is optional; sizes take plain bytes or KiB/MiB/GiB/TiB.
//
//   block_cache_size     size   8MiB   LRU cache of uncompressed data blocks shared by all reads;
//                                      0 disables the block cache.
//   write_buffer_size    size   16MiB  memtable size before it is flushed to a level-0 file;
//                                      larger absorbs write bursts better, costs memory and a
//                                      longer WAL replay at open. 64KiB..64GiB.
//   compression          choice lz4    block compression: none | snappy | lz4 | zstd, limited to
//                                      what the installed RocksDB was built with. The default is
//                                      lz4, else snappy, else none, whichever is built in first.
//   bloom_filter_bits    uint   10     bloom filter bits per key (about 1% false positives at 10);
//                                      saves disk reads for absent keys; 0 turns it off. 0..64.
//   max_open_files       uint   1000   table files kept open (file descriptors); 0 = no limit
//                                      (all files stay open). 0 or 20..2147483647.
//   max_background_jobs  uint   2      threads for flushes and compactions together. 1..64.
//   paranoid_checks      bool   true   check data aggressively, so corruption is reported at open
//                                      and on read instead of silently skipped.
#include "rocksdb_options.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <rocksdb/convenience.h>

namespace goethe::kv::rocksdb_backend {
namespace {

struct CompressionName {
  const char* name;
  rocksdb::CompressionType type;
};
// In order of preference for the default: lz4 is fast on both ends, which suits a write-heavy log.
constexpr CompressionName kCompressions[] = {{"lz4", rocksdb::kLZ4Compression},
                                             {"snappy", rocksdb::kSnappyCompression},
                                             {"zstd", rocksdb::kZSTD}};

// OptionReader has no range check; report out-of-range values in its own format.
Status RangeError(std::string_view key, std::string expected, std::uint64_t value,
                  OptionError* error) {
  OptionError e{std::string(key), "expected " + std::move(expected) + ", got " +
                                      std::to_string(value)};
  Status status = Status::InvalidArgument("option '" + e.key + "': " + e.message);
  if (error != nullptr) *error = std::move(e);
  return status;
}

}  // namespace

Status ParseOptions(const Options& options, RocksDbConfig* config, OptionError* error) {
  // Offer only the algorithms this RocksDB build has: asking for another would fail at open.
  const std::vector<rocksdb::CompressionType> built_in = rocksdb::GetSupportedCompressions();
  std::set<std::string, std::less<>> choices = {"none"};
  std::string compression;
  for (const CompressionName& c : kCompressions) {
    if (std::find(built_in.begin(), built_in.end(), c.type) == built_in.end()) continue;
    choices.insert(c.name);
    if (compression.empty()) compression = c.name;
  }
  if (compression.empty()) compression = "none";

  OptionReader reader(options);
  reader.GetSize("block_cache_size", &config->block_cache_size);
  reader.GetSize("write_buffer_size", &config->write_buffer_size);
  reader.GetChoice("compression", std::move(choices), &compression);
  reader.GetUint("bloom_filter_bits", &config->bloom_filter_bits);
  reader.GetUint("max_open_files", &config->max_open_files);
  reader.GetUint("max_background_jobs", &config->max_background_jobs);
  reader.GetBool("paranoid_checks", &config->paranoid_checks);
  config->compression = rocksdb::kNoCompression;
  for (const CompressionName& c : kCompressions) {
    if (compression == c.name) config->compression = c.type;
  }

  if (reader.ok()) {
    // RocksDB would silently clip these; refusing them points the operator at the config line.
    if (config->write_buffer_size < (std::uint64_t{64} << 10) ||
        config->write_buffer_size > (std::uint64_t{64} << 30)) {
      return RangeError("write_buffer_size", "a size in 64KiB..64GiB", config->write_buffer_size,
                        error);
    }
    if ((config->max_open_files > 0 && config->max_open_files < 20) ||
        config->max_open_files > 2147483647) {
      return RangeError("max_open_files", "0 (no limit) or 20..2147483647",
                        config->max_open_files, error);
    }
    if (config->max_background_jobs < 1 || config->max_background_jobs > 64) {
      return RangeError("max_background_jobs", "a value in 1..64", config->max_background_jobs,
                        error);
    }
    if (config->bloom_filter_bits > 64) {
      return RangeError("bloom_filter_bits", "a value in 0..64", config->bloom_filter_bits, error);
    }
  }
  reader.RejectUnknown();
  if (!reader.ok() && error != nullptr) *error = reader.error();
  return reader.status();
}

}  // namespace goethe::kv::rocksdb_backend
