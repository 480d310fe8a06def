// The plugin contract: how a backend shared library presents itself to the host.
//
// A plugin exports two C symbols, found by name at load time:
//   goethe_kv_abi_version  — returns kAbiVersion as the plugin was compiled; the host checks it
//                            before it calls anything else;
//   goethe_kv_factory      — returns the plugin's StoreFactory, a static object that lives as
//                            long as the library is loaded.
// GOETHE_KV_DECLARE_PLUGIN(FactoryType) defines both. Everything a plugin makes (stores,
// iterators, snapshots) must be destroyed before the host unloads the library; the host's loader
// ties the library's lifetime to the stores.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "goethe/kv/options.h"
#include "goethe/kv/status.h"
#include "goethe/kv/store.h"

namespace goethe::kv {

// Bump whenever any header in goethe/kv changes in a way that breaks binary compatibility.
inline constexpr std::uint32_t kAbiVersion = 2;

inline constexpr const char* kAbiVersionSymbol = "goethe_kv_abi_version";
inline constexpr const char* kFactorySymbol = "goethe_kv_factory";

class StoreFactory {
 public:
  virtual ~StoreFactory() = default;

  // The backend's name as written in configs, e.g. "leveldb".
  virtual std::string_view name() const = 0;

  // Checks the options without opening anything. On a bad key or value fills *error (key and
  // reason) and returns InvalidArgument; unknown keys are errors.
  virtual Status ValidateOptions(const Options& options, OptionError* error) const = 0;

  // Opens (creating if missing) the store in directory `path`. Validates options first, exactly
  // as ValidateOptions does. A path that is a file or cannot be written gives IoError.
  virtual Status Open(const std::string& path, const Options& options,
                      std::unique_ptr<Store>* store) const = 0;
};

using AbiVersionFunction = std::uint32_t();
using FactoryFunction = StoreFactory*();

}  // namespace goethe::kv

#define GOETHE_KV_DECLARE_PLUGIN(FactoryType)                                        \
  extern "C" __attribute__((visibility("default"))) std::uint32_t goethe_kv_abi_version() { \
    return ::goethe::kv::kAbiVersion;                                                \
  }                                                                                  \
  extern "C" __attribute__((visibility("default"))) ::goethe::kv::StoreFactory* goethe_kv_factory() { \
    static FactoryType factory;                                                      \
    return &factory;                                                                 \
  }
