// What the benchmarks share: where data goes, how a backend is opened, and payloads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "goethe/engine/event_log.h"
#include "goethe/engine/plugin_loader.h"

namespace goethe::bench {

inline constexpr std::size_t kPayloadBytes = 100;

// The folder benchmark stores live under (--data-dir; default: a fresh folder in /tmp).
const std::string& DataRoot();
void SetDataRoot(std::string root);
// The backends to run (--backends=leveldb,rocksdb,lmdb).
const std::vector<std::string>& Backends();
void SetBackends(std::vector<std::string> backends);

// A fresh, empty store of `backend` in its own folder; aborts the benchmark run on failure.
std::shared_ptr<kv::Store> OpenFreshStore(const std::string& backend, const std::string& name);
// An event log over a fresh store.
std::unique_ptr<EventLog> OpenFreshLog(const std::string& backend, const std::string& name, bool sync);

std::string Payload();
// A batch of `n` payloads of kPayloadBytes.
std::vector<std::string> Payloads(std::size_t n);

}  // namespace goethe::bench
