// The benchmark groups and the names they register under, which the ratio report reads back.
#pragma once

#include <cstddef>
#include <string>

namespace goethe::bench {

void RegisterKvBenchmarks();
void RegisterEngineBenchmarks();
// Close the stores the benchmarks keep open between runs. Before main returns: closed at exit
// instead, a RocksDB store could outlive RocksDB's own statics and abort in its destructor.
void ReleaseFilledStores();
void ReleasePreparedLogs();

// "engine_append/leveldb/batch:1000/sync:off"
inline std::string Name(const std::string& what, const std::string& backend, std::size_t batch, bool sync) {
  return what + "/" + backend + "/batch:" + std::to_string(batch) + "/sync:" + (sync ? "on" : "off");
}

}  // namespace goethe::bench
