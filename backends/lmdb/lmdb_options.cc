#include "lmdb_options.h"

#include <string>
#include <utility>

namespace goethe::kv::lmdb_backend {
namespace {

constexpr std::uint64_t kMinMapSize = std::uint64_t{64} << 10;
constexpr std::uint64_t kMaxReaders = 65536;

// OptionReader keeps its failure private, so range checks build the same error by hand.
Status Refuse(std::string key, std::string message, OptionError* error) {
  Status status = Status::InvalidArgument("option '" + key + "': " + message);
  if (error != nullptr) *error = {std::move(key), std::move(message)};
  return status;
}

}  // namespace

Status ParseOptions(const Options& options, LmdbOptions* out, OptionError* error) {
  LmdbOptions parsed;
  std::uint64_t readers = parsed.max_readers;
  OptionReader reader(options);
  reader.GetSize("map_size", &parsed.map_size);
  reader.GetBool("map_growth", &parsed.map_growth);
  reader.GetSize("max_map_size", &parsed.max_map_size);
  reader.GetBool("no_sync", &parsed.no_sync);
  reader.GetBool("no_meta_sync", &parsed.no_meta_sync);
  reader.GetUint("max_readers", &readers);
  reader.RejectUnknown();
  if (!reader.ok()) {
    if (error != nullptr) *error = reader.error();
    return reader.status();
  }

  if (parsed.map_size < kMinMapSize) {
    return Refuse("map_size", "must be at least 64KiB, got " + std::to_string(parsed.map_size),
                  error);
  }
  if (parsed.max_map_size != 0 && parsed.max_map_size < parsed.map_size) {
    return Refuse("max_map_size",
                  "must be 0 (unlimited) or at least map_size (" +
                      std::to_string(parsed.map_size) + "), got " +
                      std::to_string(parsed.max_map_size),
                  error);
  }
  // LMDB sizes its lock file by the reader count, so an absurd value costs real disk.
  if (readers < 1 || readers > kMaxReaders) {
    return Refuse("max_readers", "must be 1..65536, got " + std::to_string(readers), error);
  }
  parsed.max_readers = static_cast<std::uint32_t>(readers);
  *out = parsed;
  return Status::Ok();
}

}  // namespace goethe::kv::lmdb_backend
