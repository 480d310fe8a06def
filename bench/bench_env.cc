#include "bench_env.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>

namespace goethe::bench {
namespace {

bool g_quick = false;
std::size_t g_payload_bytes = 100;
bool g_random_payloads = false;

std::string& Root() {
  static std::string root;
  return root;
}
std::vector<std::string>& BackendList() {
  static std::vector<std::string> backends = {"leveldb", "rocksdb", "lmdb"};
  return backends;
}

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "goethe-engine-bench: " << what << "\n";
  std::exit(2);
}

}  // namespace

const std::string& DataRoot() {
  if (Root().empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "goethe-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) Die("cannot create a data folder in /tmp");
    Root() = pattern;
  }
  return Root();
}
void SetDataRoot(std::string root) { Root() = std::move(root); }
const std::vector<std::string>& Backends() { return BackendList(); }
void SetBackends(std::vector<std::string> backends) { BackendList() = std::move(backends); }

std::size_t PayloadBytes() { return g_payload_bytes; }
void SetPayloadBytes(std::size_t bytes) { g_payload_bytes = bytes; }
bool Quick() { return g_quick; }
void SetQuick(bool quick) { g_quick = quick; }
double LongMinTime() { return g_quick ? 0.05 : 1.0; }
std::uint64_t PreparedEvents() { return g_quick ? 20'000 : 200'000; }

std::shared_ptr<kv::Store> OpenFreshStore(const std::string& backend, const std::string& name) {
  static std::atomic<int> counter{0};
  const std::string path = DataRoot() + "/" + backend + "-" + name + "-" + std::to_string(counter++);
  std::filesystem::remove_all(path);
  // Earlier runs' unwritten pages would otherwise be flushed during this one, and slow its syncs.
  ::sync();
  Config config;
  config.storage.backend = backend;
  config.storage.path = path;
  auto store = OpenConfiguredStore(config);
  if (!store.ok()) Die(store.status().ToString());
  return *store;
}

std::unique_ptr<EventLog> OpenFreshLog(const std::string& backend, const std::string& name, bool sync) {
  EventLogOptions options;
  options.sync = sync;
  auto log = EventLog::Open(OpenFreshStore(backend, name), options);
  if (!log.ok()) Die(log.status().ToString());
  return std::move(log).value();
}

bool RandomPayloads() { return g_random_payloads; }
void SetRandomPayloads(bool random) { g_random_payloads = random; }

std::string Payload() {
  if (!g_random_payloads) return std::string(PayloadBytes(), 'x');
  // Built on first use, after the flags are read.
  static const std::vector<std::string> pool = [] {
    std::mt19937_64 engine(12345);
    std::vector<std::string> payloads(4096);
    for (std::string& payload : payloads) {
      payload.resize(PayloadBytes());
      for (char& c : payload) c = static_cast<char>(engine());
    }
    return payloads;
  }();
  static std::atomic<std::uint64_t> next{0};
  return pool[next.fetch_add(1, std::memory_order_relaxed) % pool.size()];
}

std::vector<std::string> Payloads(std::size_t n) {
  std::vector<std::string> payloads;
  payloads.reserve(n);
  for (std::size_t i = 0; i < n; ++i) payloads.push_back(Payload());
  return payloads;
}

}  // namespace goethe::bench
