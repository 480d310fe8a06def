// What the benchmarks share: where data goes, how a backend is opened, and payloads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "goethe/engine/event_log.h"
#include "goethe/engine/plugin_loader.h"

namespace goethe::bench {

// Bytes per event payload (--payload-bytes=B; default 100).
std::size_t PayloadBytes();
void SetPayloadBytes(std::size_t bytes);

// The folder benchmark stores live under (--data-dir; default: a fresh folder in /tmp).
const std::string& DataRoot();
void SetDataRoot(std::string root);
// The backends to run (--backends=leveldb,rocksdb,lmdb).
const std::vector<std::string>& Backends();
void SetBackends(std::vector<std::string> backends);
// --quick (scripts/compare-backends.sh --quick): smaller prepared stores, the long runs cut short.
bool Quick();
void SetQuick(bool quick);
// The minimum time of the runs that need long ones (sync batch 1, concurrent appenders): 1 s, or
// 0.05 s with --quick.
double LongMinTime();
// Events in the stores that reads, scans and point gets run over: 200,000, or 20,000 with --quick.
std::uint64_t PreparedEvents();

// A fresh, empty store of `backend` in its own folder; aborts the benchmark run on failure.
std::shared_ptr<kv::Store> OpenFreshStore(const std::string& backend, const std::string& name);
// An event log over a fresh store.
std::unique_ptr<EventLog> OpenFreshLog(const std::string& backend, const std::string& name, bool sync);

// --random-payloads: payloads of random bytes, which compression cannot shrink, drawn in turn
// from a pool of 4096 (by default every payload is PayloadBytes() of 'x').
bool RandomPayloads();
void SetRandomPayloads(bool random);

// The next payload of PayloadBytes() (thread-safe).
std::string Payload();
// A batch of `n` payloads of PayloadBytes().
std::vector<std::string> Payloads(std::size_t n);

}  // namespace goethe::bench
