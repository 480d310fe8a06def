#include "bench_env.h"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace goethe::bench {
namespace {

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

std::shared_ptr<kv::Store> OpenFreshStore(const std::string& backend, const std::string& name) {
  static std::atomic<int> counter{0};
  const std::string path = DataRoot() + "/" + backend + "-" + name + "-" + std::to_string(counter++);
  std::filesystem::remove_all(path);
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

std::string Payload() { return std::string(kPayloadBytes, 'x'); }
std::vector<std::string> Payloads(std::size_t n) { return std::vector<std::string>(n, Payload()); }

}  // namespace goethe::bench
