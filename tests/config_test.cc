// The YAML config: defaults, every section, and the exact one-line errors a user sees.
#include <gtest/gtest.h>

#include "goethe/engine/config.h"
#include "support/temp_dir.h"

namespace goethe {
namespace {

using testing::TempDir;

class ConfigTest : public ::testing::Test {
 protected:
  // Loads `yaml` from a file named goethe.yaml; returns the error message, or "" on success.
  std::string ErrorOf(const std::string& yaml) {
    auto config = LoadConfig(dir_.WriteFile("goethe.yaml", yaml));
    return config.ok() ? "" : config.status().message();
  }
  std::string File() const { return dir_.Sub("goethe.yaml"); }

  TempDir dir_;
};

TEST_F(ConfigTest, EmptyFileGivesTheDefaults) {
  auto config = LoadConfig(dir_.WriteFile("goethe.yaml", ""));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->storage.backend, "leveldb");
  EXPECT_EQ(config->storage.path, "./data");
  EXPECT_TRUE(config->storage.sync);
  EXPECT_EQ(config->server.listen, "127.0.0.1:50051");
  EXPECT_EQ(config->engine.max_event_bytes, 1u << 20);
}

TEST_F(ConfigTest, ReadsEverySection) {
  auto config = LoadConfig(dir_.WriteFile("goethe.yaml", R"(
storage:
  backend: lmdb
  path: /var/lib/goethe
  sync: false
  plugin_dir: /opt/plugins
  options:
    map_size: 1GiB
    no_meta_sync: true
engine:
  max_event_bytes: 64KiB
  idempotency_window: 90s
  time_index_granularity: 1h
  retention_interval: 500ms
  max_commit_events: 1000
server:
  listen: 0.0.0.0:6000
  log_level: debug
  auto_create_topics: false
  max_events_per_produce: 50
  max_concurrent_streams: 7
  max_consume_window: 99
)"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->storage.backend, "lmdb");
  EXPECT_FALSE(config->storage.sync);
  EXPECT_EQ(config->storage.plugin_dir, "/opt/plugins");
  EXPECT_EQ(config->storage.options.at("map_size"), "1GiB");
  EXPECT_EQ(config->storage.options.at("no_meta_sync"), "true");
  EXPECT_EQ(config->engine.max_event_bytes, 64u * 1024);
  EXPECT_EQ(config->engine.idempotency_window, std::chrono::seconds(90));
  EXPECT_EQ(config->engine.time_index_granularity, std::chrono::hours(1));
  EXPECT_EQ(config->engine.retention_interval, std::chrono::milliseconds(500));
  EXPECT_EQ(config->engine.max_commit_events, 1000u);
  EXPECT_EQ(config->server.listen, "0.0.0.0:6000");
  EXPECT_EQ(config->server.log_level, "debug");
  EXPECT_FALSE(config->server.auto_create_topics);
  EXPECT_EQ(config->server.max_events_per_produce, 50u);
  EXPECT_EQ(config->server.max_concurrent_streams, 7u);
  EXPECT_EQ(config->server.max_consume_window, 99u);
  EXPECT_EQ(config->Where("storage.options.map_size"), File() + ":8: storage.options.map_size");
}

TEST_F(ConfigTest, MissingFileIsNamed) {
  auto config = LoadConfig(dir_.Sub("absent.yaml"));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(), dir_.Sub("absent.yaml") + ": cannot read the config file");
}

TEST_F(ConfigTest, SyntaxErrorNamesFileLineAndColumn) {
  EXPECT_EQ(ErrorOf("storage:\n  backend: [leveldb\n"),
            File() + ":3:1: YAML syntax error: end of sequence flow not found");
}

TEST_F(ConfigTest, UnknownKeysAreRefusedWithTheKnownOnes) {
  EXPECT_EQ(ErrorOf("storage:\n  backend: leveldb\n  pth: ./x\n"),
            File() + ":3: storage.pth: unknown key (known: backend, options, path, plugin_dir, sync)");
  EXPECT_EQ(ErrorOf("storgae:\n  backend: leveldb\n"),
            File() + ":1: storgae: unknown key (known: engine, server, storage)");
}

TEST_F(ConfigTest, WrongTypesNameTheKeyAndWhatWasExpected) {
  EXPECT_EQ(ErrorOf("storage:\n  sync: yes please\n"),
            File() + ":2: storage.sync: expected true or false, got 'yes please'");
  EXPECT_EQ(ErrorOf("storage:\n  path: [a, b]\n"),
            File() + ":2: storage.path: expected a non-empty string, got a list");
  EXPECT_EQ(ErrorOf("engine:\n  idempotency_window: soon\n"),
            File() + ":2: engine.idempotency_window: expected a positive duration such as 500ms, "
                     "10s, 5m, 1h or 1d, got 'soon'");
  EXPECT_EQ(ErrorOf("engine:\n  max_event_bytes: -1\n"),
            File() + ":2: engine.max_event_bytes: expected a positive size in bytes (suffixes KiB, "
                     "MiB, GiB), got '-1'");
  EXPECT_EQ(ErrorOf("server:\n  max_consume_window: 0\n"),
            File() + ":2: server.max_consume_window: expected an integer from 1 to 4294967295, got '0'");
  EXPECT_EQ(ErrorOf("server:\n  log_level: loud\n"),
            File() + ":2: server.log_level: expected one of trace, debug, info, warn, error, "
                     "critical, off, got 'loud'");
  EXPECT_EQ(ErrorOf("storage:\n  options:\n    map_size:\n      nested: 1\n"),
            File() + ":3: storage.options.map_size: expected a single value, got a mapping");
  EXPECT_EQ(ErrorOf("storage: 5\n"), File() + ":1: storage: expected a mapping of keys");
  EXPECT_EQ(ErrorOf("- a\n- b\n"), File() + ":1: expected a mapping with storage, engine, server");
}

TEST(ParseDurationTest, AcceptsUnitsAndRejectsNonsense) {
  std::chrono::nanoseconds d{};
  EXPECT_TRUE(ParseDuration("1d", &d));
  EXPECT_EQ(d, std::chrono::hours(24));
  EXPECT_TRUE(ParseDuration("250us", &d));
  EXPECT_EQ(d, std::chrono::microseconds(250));
  EXPECT_TRUE(ParseDuration("30", &d));
  EXPECT_EQ(d, std::chrono::seconds(30));
  EXPECT_FALSE(ParseDuration("1w", &d));
  EXPECT_FALSE(ParseDuration("m", &d));
  EXPECT_FALSE(ParseDuration("", &d));
  EXPECT_FALSE(ParseDuration("99999999999999999999d", &d));
}

}  // namespace
}  // namespace goethe
