// Turns RocksDB statuses and C++ exceptions into goethe::kv::Status, so nothing of RocksDB's error
// model (or an exception) crosses the plugin boundary.
#pragma once

#include <exception>
#include <string_view>

#include <rocksdb/status.h>

#include "goethe/kv/status.h"

namespace goethe::kv::rocksdb_backend {

// Maps a RocksDB status onto a goethe code; `context` (may be empty) prefixes the message.
Status FromRocksDb(const rocksdb::Status& status, std::string_view context = {});

// The Status for an exception caught while doing `what`. Never throws: if even building the
// message fails (out of memory), the message is dropped.
Status FromException(std::string_view what, const std::exception* e) noexcept;

// Runs `body` (returning Status) and turns any exception into Internal.
template <typename Body>
Status Guard(std::string_view what, Body&& body) noexcept {
  try {
    return body();
  } catch (const std::exception& e) {
    return FromException(what, &e);
  } catch (...) {
    return FromException(what, nullptr);
  }
}

}  // namespace goethe::kv::rocksdb_backend
