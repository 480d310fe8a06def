// Finds a backend plugin by name, loads it with Boost.DLL, checks its ABI version and opens
// stores through its factory.
//
// The shared library stays loaded for as long as a BackendPlugin or any store it opened lives:
// each store holds a reference to the library and releases it last. Loading is thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "goethe/engine/config.h"
#include "goethe/engine/kv_status.h"
#include "goethe/engine/status.h"
#include "goethe/kv/plugin.h"

namespace goethe {

class BackendPlugin {
 public:
  // The plugin file for `backend`, e.g. "libgoethe_kv_leveldb.so".
  static std::string FileName(const std::string& backend);

  // Where plugins are looked for: `plugin_dir` alone when set; otherwise the build tree's plugin
  // folder, the plugin folder beside the program's installed prefix (<bin>/../lib/goethe) and the
  // configured install prefix's plugin folder.
  static std::vector<std::string> SearchPaths(const std::string& plugin_dir);

  // Loads the plugin that `config.storage` names. Errors are one line naming the config file,
  // line and key: unknown backend, file not found (with the paths searched), load failure
  // (dlerror's text), ABI version mismatch (both versions), missing symbol.
  static Result<BackendPlugin> Load(const Config& config);

  // Loads a plugin file directly (tests, tools). `where` prefixes every error message.
  static Result<BackendPlugin> LoadFile(const std::string& file, const std::string& where);

  const kv::StoreFactory& factory() const { return *factory_; }
  const std::string& file() const { return file_; }

  // Opens the store of `config.storage` (path and options). Option and open errors name the
  // config file, line and key. The store keeps the library loaded.
  Result<std::shared_ptr<kv::Store>> Open(const Config& config) const;

  // Opens a store at `path` with `options`; errors are prefixed with nothing but the plugin's text.
  Result<std::shared_ptr<kv::Store>> Open(const std::string& path, const kv::Options& options) const;

 private:
  BackendPlugin(std::shared_ptr<void> library, kv::StoreFactory* factory, std::string file)
      : library_(std::move(library)), factory_(factory), file_(std::move(file)) {}

  std::shared_ptr<void> library_;  // a boost::dll::shared_library, type-erased
  kv::StoreFactory* factory_;      // owned by the library
  std::string file_;
};

// Loads the configured plugin and opens the configured store: what a program does at start-up.
Result<std::shared_ptr<kv::Store>> OpenConfiguredStore(const Config& config);

}  // namespace goethe
