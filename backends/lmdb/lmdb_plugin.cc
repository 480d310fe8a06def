// The plugin's entry points: the "lmdb" StoreFactory and the two exported C symbols.
#include <memory>
#include <string>
#include <string_view>

#include "goethe/kv/plugin.h"
#include "lmdb_options.h"
#include "lmdb_status.h"
#include "lmdb_store.h"

namespace goethe::kv::lmdb_backend {

class Factory final : public StoreFactory {
 public:
  std::string_view name() const override { return "lmdb"; }

  Status ValidateOptions(const Options& options, OptionError* error) const override {
    try {
      LmdbOptions parsed;
      return ParseOptions(options, &parsed, error);
    } catch (...) {
      return FromCurrentException("LMDB ValidateOptions");
    }
  }

  Status Open(const std::string& path, const Options& options,
              std::unique_ptr<Store>* store) const override {
    try {
      if (store == nullptr) return Status::InvalidArgument("Open: store must not be null");
      LmdbOptions parsed;
      OptionError error;
      if (Status s = ParseOptions(options, &parsed, &error); !s.ok()) return s;
      return LmdbStore::Open(path, parsed, store);
    } catch (...) {
      return FromCurrentException("LMDB Open of '" + path + "'");
    }
  }
};

}  // namespace goethe::kv::lmdb_backend

GOETHE_KV_DECLARE_PLUGIN(goethe::kv::lmdb_backend::Factory)
