// The RocksDB plugin's entry points: the factory the host finds through goethe_kv_factory.
#include <memory>
#include <string>
#include <string_view>

#include "goethe/kv/plugin.h"
#include "rocksdb_options.h"
#include "rocksdb_status.h"
#include "rocksdb_store.h"

namespace goethe::kv::rocksdb_backend {

class Factory final : public StoreFactory {
 public:
  std::string_view name() const override { return "rocksdb"; }

  Status ValidateOptions(const Options& options, OptionError* error) const override {
    return Guard("rocksdb options", [&] {
      RocksDbConfig config;
      return ParseOptions(options, &config, error);
    });
  }

  Status Open(const std::string& path, const Options& options,
              std::unique_ptr<Store>* store) const override {
    return Guard("rocksdb open", [&] {
      if (store == nullptr) return Status::InvalidArgument("Open needs a store to fill");
      RocksDbConfig config;
      if (Status s = ParseOptions(options, &config, nullptr); !s.ok()) return s;
      return RocksDbStore::Open(path, config, store);
    });
  }
};

}  // namespace goethe::kv::rocksdb_backend

GOETHE_KV_DECLARE_PLUGIN(goethe::kv::rocksdb_backend::Factory)
