// Config: a deployment's settings, read from one YAML file (docs/config.md lists every key).
//
// Loading is strict: an unknown key, a value of the wrong type or a YAML syntax error fails the
// load with one line that names the file, the line and the key, so that nothing a user wrote is
// silently ignored. Backend options are passed through as strings for the plugin to validate.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "goethe/engine/status.h"
#include "goethe/kv/options.h"

namespace goethe {

struct StorageConfig {
  std::string backend = "leveldb";  // the plugin's name: leveldb, rocksdb, lmdb
  std::string path = "./data";      // store directory; relative to the working directory
  bool sync = true;                 // acknowledge an append only once it is on stable storage
  std::string plugin_dir;           // empty: search the build tree and the installed prefix
  kv::Options options;              // backend options, validated by the plugin
};

struct EngineConfig {
  std::uint64_t max_event_bytes = 1 << 20;
  std::chrono::nanoseconds idempotency_window = std::chrono::minutes(10);
  std::chrono::nanoseconds time_index_granularity = std::chrono::minutes(1);  // for new topics
  std::chrono::nanoseconds retention_interval = std::chrono::seconds(5);
  std::uint64_t max_commit_events = 65536;  // most events one group commit writes at once
};

struct ServerConfig {
  std::string listen = "127.0.0.1:50051";
  std::string log_level = "info";
  bool auto_create_topics = true;
  std::uint32_t max_events_per_produce = 10000;
  std::uint32_t max_concurrent_streams = 1024;
  std::uint32_t max_consume_window = 10000;
};

struct Config {
  StorageConfig storage;
  EngineConfig engine;
  ServerConfig server;

  std::string source;                  // the file it came from; empty for defaults
  std::map<std::string, int> lines;    // dotted key ("storage.options.foo") -> 1-based line

  // "config/goethe.yaml:7: storage.options.foo" — where to point a user for `key`.
  std::string Where(const std::string& key) const;
};

// Reads and checks the YAML file at `path`. Errors are InvalidArgument with a one-line message.
Result<Config> LoadConfig(const std::string& path);

// Parses durations such as "500ms", "1s", "5m", "1h", "1d" (a bare number means seconds).
bool ParseDuration(const std::string& text, std::chrono::nanoseconds* out);

}  // namespace goethe
