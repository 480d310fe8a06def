// The LevelDB plugin's entry points: the factory the host finds through goethe_kv_factory.
#include <memory>
#include <string>
#include <string_view>

#include "goethe/kv/plugin.h"
#include "leveldb_options.h"
#include "leveldb_status.h"
#include "leveldb_store.h"

namespace goethe::kv::leveldb_backend {

class Factory final : public StoreFactory {
 public:
  std::string_view name() const override { return "leveldb"; }

  Status ValidateOptions(const Options& options, OptionError* error) const override {
    return Guard("leveldb options", [&] {
      LevelDbConfig config;
      return ParseOptions(options, &config, error);
    });
  }

  Status Open(const std::string& path, const Options& options,
              std::unique_ptr<Store>* store) const override {
    return Guard("leveldb open", [&] {
      if (store == nullptr) return Status::InvalidArgument("Open needs a store to fill");
      LevelDbConfig config;
      if (Status s = ParseOptions(options, &config, nullptr); !s.ok()) return s;
      return LevelDbStore::Open(path, config, store);
    });
  }
};

}  // namespace goethe::kv::leveldb_backend

GOETHE_KV_DECLARE_PLUGIN(goethe::kv::leveldb_backend::Factory)
