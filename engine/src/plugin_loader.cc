#include "goethe/engine/plugin_loader.h"

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <filesystem>
#include <set>

namespace goethe {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFilePrefix = "libgoethe_kv_";
constexpr const char* kFileSuffix = ".so";
const std::set<std::string> kBundledBackends = {"leveldb", "lmdb", "rocksdb"};

bool IsValidBackendName(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Every backend a user could name: the bundled ones and any plugin file in the search paths.
std::set<std::string> KnownBackends(const std::vector<std::string>& paths) {
  std::set<std::string> known = kBundledBackends;
  for (const std::string& dir : paths) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.starts_with(kFilePrefix) && name.ends_with(kFileSuffix)) {
        known.insert(name.substr(std::string(kFilePrefix).size(),
                                 name.size() - std::string(kFilePrefix).size() -
                                     std::string(kFileSuffix).size()));
      }
    }
  }
  return known;
}

std::string Join(const auto& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// Holds a store and, after it, the library its code lives in: members are destroyed in reverse
// order, so the store goes first.
struct StoreWithLibrary {
  std::shared_ptr<void> library;
  std::unique_ptr<kv::Store> store;
};

}  // namespace

std::string BackendPlugin::FileName(const std::string& backend) {
  return kFilePrefix + backend + kFileSuffix;
}

std::vector<std::string> BackendPlugin::SearchPaths(const std::string& plugin_dir) {
  if (!plugin_dir.empty()) return {plugin_dir};
  std::vector<std::string> paths = {GOETHE_BUILD_PLUGIN_DIR};
  boost::dll::fs::error_code ec;
  const auto program = boost::dll::program_location(ec);
  if (!ec) paths.push_back((program.parent_path() / GOETHE_PLUGIN_DIR_FROM_BIN).lexically_normal().string());
  paths.push_back(GOETHE_INSTALL_PLUGIN_DIR);
  std::vector<std::string> unique;
  for (const std::string& p : paths) {
    if (std::find(unique.begin(), unique.end(), p) == unique.end()) unique.push_back(p);
  }
  return unique;
}

Result<BackendPlugin> BackendPlugin::Load(const Config& config) {
  const std::string& backend = config.storage.backend;
  const std::string where = config.Where("storage.backend");
  const std::vector<std::string> paths = SearchPaths(config.storage.plugin_dir);
  const std::set<std::string> known = KnownBackends(paths);
  if (!IsValidBackendName(backend) || known.count(backend) == 0) {
    return InvalidArgument(where + ": unknown backend '" + backend + "' (known: " + Join(known) + ")");
  }
  for (const std::string& dir : paths) {
    const fs::path candidate = fs::path(dir) / FileName(backend);
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return LoadFile(candidate.string(), where);
  }
  return InvalidArgument(where + ": plugin file " + FileName(backend) +
                         " not found (searched: " + Join(paths) + ")");
}

Result<BackendPlugin> BackendPlugin::LoadFile(const std::string& file, const std::string& where) {
  namespace dll = boost::dll;
  auto library = std::make_shared<dll::shared_library>();
  try {
    // rtld_now: a plugin with an unresolved symbol fails here, with dlerror's text, not later.
    // RTLD_NODELETE: the database libraries a plugin pulls in keep static state and background
    // threads (RocksDB's thread pool) that must not be unmapped under them; the code stays
    // mapped until the process exits, while the handle still tracks the objects' lifetime.
    const auto mode = static_cast<dll::load_mode::type>(dll::load_mode::rtld_now | dll::load_mode::rtld_local |
                                                         RTLD_NODELETE);
    library->load(file, mode);
  } catch (const std::exception& e) {
    return FailedPrecondition(where + ": cannot load plugin " + file + ": " + e.what());
  }
  if (!library->has(kv::kAbiVersionSymbol)) {
    return FailedPrecondition(where + ": plugin " + file + " does not export " + kv::kAbiVersionSymbol);
  }
  const std::uint32_t version = library->get<kv::AbiVersionFunction>(kv::kAbiVersionSymbol)();
  if (version != kv::kAbiVersion) {
    return FailedPrecondition(where + ": plugin " + file + " has ABI version " +
                              std::to_string(version) + ", this program needs ABI version " +
                              std::to_string(kv::kAbiVersion));
  }
  if (!library->has(kv::kFactorySymbol)) {
    return FailedPrecondition(where + ": plugin " + file + " does not export the factory symbol " +
                              kv::kFactorySymbol);
  }
  kv::StoreFactory* factory = library->get<kv::FactoryFunction>(kv::kFactorySymbol)();
  if (factory == nullptr) {
    return FailedPrecondition(where + ": plugin " + file + " returned no factory");
  }
  return BackendPlugin(std::move(library), factory, file);
}

Result<std::shared_ptr<kv::Store>> BackendPlugin::Open(const Config& config) const {
  kv::OptionError option_error;
  if (kv::Status s = factory_->ValidateOptions(config.storage.options, &option_error); !s.ok()) {
    const std::string key = option_error.key.empty() ? "storage.options"
                                                     : "storage.options." + option_error.key;
    return InvalidArgument(config.Where(key) + ": " + option_error.message + " (backend " +
                           std::string(factory_->name()) + ")");
  }
  auto store = Open(config.storage.path, config.storage.options);
  if (!store.ok()) {
    return Status(store.status().code(),
                  config.Where("storage.path") + ": cannot open the store at '" +
                      config.storage.path + "': " + store.status().message());
  }
  return store;
}

Result<std::shared_ptr<kv::Store>> BackendPlugin::Open(const std::string& path,
                                                       const kv::Options& options) const {
  std::unique_ptr<kv::Store> store;
  if (kv::Status s = factory_->Open(path, options, &store); !s.ok()) return FromKv(s);
  if (store == nullptr) return Internal("plugin " + file_ + " opened no store");
  auto holder = std::make_shared<StoreWithLibrary>(StoreWithLibrary{library_, std::move(store)});
  kv::Store* raw = holder->store.get();
  return std::shared_ptr<kv::Store>(std::move(holder), raw);
}

Result<std::shared_ptr<kv::Store>> OpenConfiguredStore(const Config& config) {
  auto plugin = BackendPlugin::Load(config);
  if (!plugin.ok()) return plugin.status();
  return plugin->Open(config);
}

}  // namespace goethe
