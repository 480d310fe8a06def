// Where the test build finds the real backend plugins and the deliberately broken ones.
#pragma once

#include <string>
#include <vector>

#include "goethe/engine/plugin_loader.h"

namespace goethe::testing {

inline const std::vector<std::string>& AllBackends() {
  static const std::vector<std::string> backends = {"leveldb", "rocksdb", "lmdb"};
  return backends;
}

// The backends the server suites that test the server's own logic run on. That logic is the same
// over every backend, and each backend is covered under the sanitizers by the engine and plugin
// suites (and under ASan by the fault suites); so the sanitizer builds, whose tests are CPU-bound,
// run these suites on LevelDB (the default) only, and the normal build on all three.
inline const std::vector<std::string>& ServerLogicBackends() {
#ifdef GOETHE_TEST_SANITIZED
  static const std::vector<std::string> backends = {"leveldb"};
  return backends;
#else
  return AllBackends();
#endif
}

inline std::string PluginDir() { return GOETHE_TEST_PLUGIN_DIR; }
// The built plugin file of `backend`.
inline std::string PluginFile(const std::string& backend) { return PluginDir() + "/" + BackendPlugin::FileName(backend); }
inline std::string BrokenPluginDir() { return GOETHE_TEST_BROKEN_PLUGIN_DIR; }

}  // namespace goethe::testing
