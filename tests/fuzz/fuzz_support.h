// What the fuzz targets that run a real store share: the LevelDB plugin, a scratch folder, and the
// GOETHE_FUZZ_VERBOSE switch. A failure here is the harness's, not the input's: it aborts.
#pragma once

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "goethe/engine/plugin_loader.h"

namespace goethe::fuzz {

// Tmpfs when there is one: a run that syncs a store spends most of its time there.
inline std::filesystem::path TempBase() {
  if (const char* tmp = std::getenv("TMPDIR"); tmp != nullptr && *tmp != '\0') return tmp;
  std::error_code ec;
  if (std::filesystem::is_directory("/dev/shm", ec)) return "/dev/shm";
  return std::filesystem::temp_directory_path();
}

// A new empty folder TempBase()/<prefix>XXXXXX; the caller removes it.
inline std::filesystem::path MakeTempDir(const std::string& prefix) {
  std::string pattern = (TempBase() / (prefix + "XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  return pattern;
}

// The real LevelDB plugin of the build tree; `target` names the program in the error.
inline BackendPlugin LoadLevelDb(const char* target) {
  const std::string file = std::string(GOETHE_FUZZ_PLUGIN_DIR) + "/" + BackendPlugin::FileName("leveldb");
  auto plugin = BackendPlugin::LoadFile(file, target);
  if (!plugin.ok()) {
    std::fprintf(stderr, "%s: %s\n", target, plugin.status().ToString().c_str());
    std::abort();
  }
  return std::move(plugin).value();
}

// GOETHE_FUZZ_VERBOSE=1: print what each run reached (to check that the seeds go deep).
inline bool Verbose() {
  const char* verbose = std::getenv("GOETHE_FUZZ_VERBOSE");
  return verbose != nullptr && *verbose != '\0' && *verbose != '0';
}

}  // namespace goethe::fuzz
