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

inline std::string PluginDir() { return GOETHE_TEST_PLUGIN_DIR; }
// The built plugin file of `backend`.
inline std::string PluginFile(const std::string& backend) { return PluginDir() + "/" + BackendPlugin::FileName(backend); }
inline std::string BrokenPluginDir() { return GOETHE_TEST_BROKEN_PLUGIN_DIR; }

}  // namespace goethe::testing
