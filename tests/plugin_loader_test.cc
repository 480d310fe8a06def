// The loader: finding, checking and opening plugins, with real broken plugins built by the test
// build, and the exact one-line errors for each failure.
#include <gtest/gtest.h>

#include "goethe/engine/config.h"
#include "goethe/engine/plugin_loader.h"
#include "support/plugins.h"
#include "support/temp_dir.h"

namespace goethe {
namespace {

using testing::TempDir;

class PluginLoaderTest : public ::testing::Test {
 protected:
  Config LoadYaml(const std::string& yaml) {
    auto config = LoadConfig(dir_.WriteFile("goethe.yaml", yaml));
    EXPECT_TRUE(config.ok()) << config.status().ToString();
    return config.ok() ? config.value() : Config{};
  }
  std::string File() const { return dir_.Sub("goethe.yaml"); }
  std::string Broken() const { return testing::BrokenPluginDir(); }

  TempDir dir_;
};

TEST_F(PluginLoaderTest, OpensEveryBundledBackendFromTheBuildTree) {
  for (const std::string& backend : testing::AllBackends()) {
    Config config = LoadYaml("storage:\n  backend: " + backend + "\n  path: " + dir_.Sub(backend) + "\n");
    auto store = OpenConfiguredStore(config);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    kv::WriteBatch batch;
    batch.Put("k", backend);
    ASSERT_TRUE((*store)->Write({.sync = true}, batch).ok());
  }
}

TEST_F(PluginLoaderTest, StoreKeepsTheLibraryLoadedAfterThePluginObjectIsGone) {
  std::shared_ptr<kv::Store> store;
  {
    Config config = LoadYaml("storage:\n  backend: lmdb\n  path: " + dir_.Sub("s") + "\n");
    auto plugin = BackendPlugin::Load(config);
    ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
    auto opened = plugin->Open(config);
    ASSERT_TRUE(opened.ok());
    store = *opened;
  }
  kv::WriteBatch batch;
  batch.Put("still", "here");
  EXPECT_TRUE(store->Write({}, batch).ok());
  auto it = store->NewIterator({});
  it->SeekToFirst();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "still");
}

TEST_F(PluginLoaderTest, UnknownBackendListsTheKnownOnes) {
  Config config = LoadYaml("storage:\n  path: ./x\n  backend: mongodb\n");
  auto plugin = BackendPlugin::Load(config);
  ASSERT_FALSE(plugin.ok());
  EXPECT_EQ(plugin.status().message(),
            File() + ":3: storage.backend: unknown backend 'mongodb' (known: leveldb, lmdb, rocksdb)");
}

TEST_F(PluginLoaderTest, MissingPluginFileListsThePathsSearched) {
  Config config = LoadYaml("storage:\n  backend: lmdb\n  plugin_dir: " + dir_.Sub("empty") + "\n");
  auto plugin = BackendPlugin::Load(config);
  ASSERT_FALSE(plugin.ok());
  EXPECT_EQ(plugin.status().message(),
            File() + ":2: storage.backend: plugin file libgoethe_kv_lmdb.so not found (searched: " +
                dir_.Sub("empty") + ")");
}

TEST_F(PluginLoaderTest, AbiVersionMismatchNamesBothVersions) {
  Config config = LoadYaml("storage:\n  backend: bad_abi\n  plugin_dir: " + Broken() + "\n");
  auto plugin = BackendPlugin::Load(config);
  ASSERT_FALSE(plugin.ok());
  EXPECT_EQ(plugin.status().message(),
            File() + ":2: storage.backend: plugin " + Broken() +
                "/libgoethe_kv_bad_abi.so has ABI version 999, this program needs ABI version " +
                std::to_string(kv::kAbiVersion));
}

TEST_F(PluginLoaderTest, MissingFactorySymbolIsNamed) {
  Config config = LoadYaml("storage:\n  backend: no_factory\n  plugin_dir: " + Broken() + "\n");
  auto plugin = BackendPlugin::Load(config);
  ASSERT_FALSE(plugin.ok());
  EXPECT_EQ(plugin.status().message(),
            File() + ":2: storage.backend: plugin " + Broken() +
                "/libgoethe_kv_no_factory.so does not export the factory symbol goethe_kv_factory");
}

TEST_F(PluginLoaderTest, UnresolvedSymbolFailsAtLoadWithTheLinkerText) {
  Config config = LoadYaml("storage:\n  backend: unresolved\n  plugin_dir: " + Broken() + "\n");
  auto plugin = BackendPlugin::Load(config);
  ASSERT_FALSE(plugin.ok());
  EXPECT_NE(plugin.status().message().find("cannot load plugin"), std::string::npos);
  EXPECT_NE(plugin.status().message().find("goethe_symbol_that_does_not_exist"), std::string::npos)
      << plugin.status().message();
}

TEST_F(PluginLoaderTest, UnknownBackendOptionNamesItsLine) {
  Config config = LoadYaml("storage:\n  backend: leveldb\n  path: " + dir_.Sub("s") +
                           "\n  options:\n    block_cache_size: 1MiB\n    turbo: true\n");
  auto store = OpenConfiguredStore(config);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(store.status().message().starts_with(File() + ":6: storage.options.turbo: unknown option (known: "))
      << store.status().message();
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("s"))) << "a bad option must not create the store";
}

TEST_F(PluginLoaderTest, BadOptionValueNamesTheKeyAndTheExpectedType) {
  for (const std::string& backend : testing::AllBackends()) {
    const std::string key = backend == "lmdb" ? "map_size" : "block_cache_size";
    Config config = LoadYaml("storage:\n  backend: " + backend + "\n  path: " + dir_.Sub(backend) +
                             "\n  options:\n    " + key + ": lots\n");
    auto store = OpenConfiguredStore(config);
    ASSERT_FALSE(store.ok()) << backend;
    EXPECT_EQ(store.status().message(),
              File() + ":5: storage.options." + key +
                  ": expected a size in bytes, optionally with KiB, MiB, GiB or TiB, got 'lots' (backend " +
                  backend + ")");
  }
}

TEST_F(PluginLoaderTest, UnopenablePathNamesTheConfigKey) {
  const std::string file = dir_.WriteFile("plain-file", "x");
  Config config = LoadYaml("storage:\n  backend: leveldb\n  path: " + file + "\n");
  auto store = OpenConfiguredStore(config);
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(store.status().message().starts_with(File() + ":3: storage.path: cannot open the store at '" + file + "': "))
      << store.status().message();
}

}  // namespace
}  // namespace goethe
