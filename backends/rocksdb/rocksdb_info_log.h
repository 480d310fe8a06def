// InfoLog: RocksDB's informational LOG file in the store's directory, written by the plugin.
//
// RocksDB's own file logger, as Debian builds it (assertions on), aborts the process on the first
// log line after a failed one, so a full disk took the whole server down instead of failing the
// writes (tests/server_fault_disk_test.cc). This logger writes each line with one write() and
// ignores failures: a lost log line is better than a lost process. The previous LOG is kept as
// LOG.old, so a restart after a crash still has its story.
#pragma once

#include <cstdarg>
#include <memory>
#include <string>

#include <rocksdb/env.h>

namespace goethe::kv::rocksdb_backend {

// The logger for the store in `directory` (which exists); null when LOG cannot be created, in
// which case RocksDB is left to its own.
std::shared_ptr<rocksdb::Logger> OpenInfoLog(const std::string& directory);

}  // namespace goethe::kv::rocksdb_backend
