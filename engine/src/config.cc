#include "goethe/engine/config.h"

#include <yaml-cpp/yaml.h>

#include <charconv>

#include "config_reader.h"

namespace goethe {
namespace {

using namespace config_internal;

SectionReader::Handler BackendOptions(SectionReader& r, Config& config, kv::Options* out) {
  return [&r, &config, out](const YAML::Node& v, const std::string& key) {
    if (v.IsNull()) return Status::Ok();
    if (!v.IsMap()) return r.Error(key, "expected a mapping of backend options, got " + Describe(v));
    for (const auto& entry : v) {
      const std::string name = entry.first.Scalar();
      const std::string option_key = key + "." + name;
      config.lines[option_key] = entry.first.Mark().line + 1;
      if (!entry.second.IsScalar())
        return r.Error(option_key, "expected a single value, got " + Describe(entry.second));
      (*out)[name] = entry.second.Scalar();
    }
    return Status::Ok();
  };
}

Status ReadStorage(Config& c, const YAML::Node& node, const YAML::Mark& mark) {
  SectionReader r(c, "storage");
  r.On("backend", NonEmptyString(r, &c.storage.backend));
  r.On("path", NonEmptyString(r, &c.storage.path));
  r.On("sync", Bool(r, &c.storage.sync));
  r.On("plugin_dir", String(r, &c.storage.plugin_dir));
  r.On("options", BackendOptions(r, c, &c.storage.options));
  return r.Read(node, mark);
}

Status ReadEngine(Config& c, const YAML::Node& node, const YAML::Mark& mark) {
  SectionReader r(c, "engine");
  r.On("max_event_bytes", Size(r, &c.engine.max_event_bytes));
  r.On("max_key_bytes", Count(r, &c.engine.max_key_bytes, 0));
  r.On("max_headers", Count(r, &c.engine.max_headers, 0));
  r.On("idempotency_window", Duration(r, &c.engine.idempotency_window));
  r.On("time_index_granularity", Duration(r, &c.engine.time_index_granularity));
  r.On("retention_interval", Duration(r, &c.engine.retention_interval));
  r.On("max_commit_events", Count(r, &c.engine.max_commit_events));
  r.On("key_order", [&r, &c](const YAML::Node& v, const std::string& key) {
    if (v.IsScalar() && v.Scalar() == "topic") c.engine.key_order = KeyOrder::kTopic;
    else if (v.IsScalar() && v.Scalar() == "time") c.engine.key_order = KeyOrder::kTime;
    else return r.Error(key, "expected topic or time, got " + Describe(v));
    return Status::Ok();
  });
  return r.Read(node, mark);
}

Status ReadServer(Config& c, const YAML::Node& node, const YAML::Mark& mark) {
  SectionReader r(c, "server");
  r.On("listen", NonEmptyString(r, &c.server.listen));
  r.On("log_level", [&r, &c](const YAML::Node& v, const std::string& key) {
    static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
    for (const char* level : kLevels) {
      if (v.IsScalar() && v.Scalar() == level) {
        c.server.log_level = level;
        return Status::Ok();
      }
    }
    return r.Error(key, "expected one of trace, debug, info, warn, error, critical, off, got " +
                            Describe(v));
  });
  r.On("auto_create_topics", Bool(r, &c.server.auto_create_topics));
  r.On("max_events_per_produce", Count(r, &c.server.max_events_per_produce));
  r.On("max_concurrent_streams", Count(r, &c.server.max_concurrent_streams));
  r.On("max_consume_window", Count(r, &c.server.max_consume_window));
  r.On("tls", [&c](const YAML::Node& v, const std::string&) { return ReadTls(c, v, v.Mark()); });
  r.On("auth", [&c](const YAML::Node& v, const std::string&) { return ReadAuth(c, v, v.Mark()); });
  r.On("http", [&c](const YAML::Node& v, const std::string&) { return ReadHttp(c, v, v.Mark()); });
  return r.Read(node, mark);
}

}  // namespace

std::string Config::Where(const std::string& key) const {
  auto line = lines.find(key);
  std::string where = source.empty() ? std::string("<defaults>") : source;
  if (line != lines.end()) where += ":" + std::to_string(line->second);
  return where + ": " + key;
}

bool ParseDuration(const std::string& text, std::chrono::nanoseconds* out) {
  using namespace std::chrono;
  static const std::pair<std::string_view, nanoseconds> kUnits[] = {
      {"ns", nanoseconds(1)}, {"us", microseconds(1)}, {"ms", milliseconds(1)},
      {"s", seconds(1)},      {"m", minutes(1)},       {"h", hours(1)},
      {"d", hours(24)}};
  std::uint64_t n = 0;
  const char* end = text.data() + text.size();
  auto [rest, ec] = std::from_chars(text.data(), end, n);
  if (ec != std::errc() || rest == text.data()) return false;
  const std::string_view unit(rest, end - rest);
  nanoseconds scale = seconds(1);
  if (!unit.empty()) {
    bool known = false;
    for (const auto& [name, value] : kUnits) {
      if (unit == name) {
        scale = value;
        known = true;
      }
    }
    if (!known) return false;
  }
  if (n > static_cast<std::uint64_t>(nanoseconds::max().count() / scale.count())) return false;
  *out = scale * static_cast<std::int64_t>(n);
  return true;
}

Result<Config> LoadConfig(const std::string& path) {
  Config config;
  config.source = path;
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return InvalidArgument(path + ": cannot read the config file");
  } catch (const YAML::Exception& e) {
    return InvalidArgument(path + ":" + std::to_string(e.mark.line + 1) + ":" +
                           std::to_string(e.mark.column + 1) + ": YAML syntax error: " + e.msg);
  }
  try {
    if (root.IsNull()) return config;
    if (!root.IsMap())
      return InvalidArgument(path + ":1: expected a mapping with storage, engine, server, cluster, replication");
    SectionReader top(config, "");
    top.On("storage", [&](const YAML::Node& v, const std::string&) { return ReadStorage(config, v, v.Mark()); });
    top.On("engine", [&](const YAML::Node& v, const std::string&) { return ReadEngine(config, v, v.Mark()); });
    top.On("server", [&](const YAML::Node& v, const std::string&) { return ReadServer(config, v, v.Mark()); });
    top.On("cluster", [&](const YAML::Node& v, const std::string&) { return ReadCluster(config, v, v.Mark()); });
    top.On("replication",
           [&](const YAML::Node& v, const std::string&) { return ReadReplication(config, v, v.Mark()); });
    if (Status s = top.Read(root, root.Mark()); !s.ok()) return s;
    if (Status s = CheckTls(config); !s.ok()) return s;
    // Only now: server.listen may come after cluster in the file. The configured address, not a
    // --listen given to the server later.
    if (config.cluster.enabled && config.cluster.advertise.empty()) config.cluster.advertise = config.server.listen;
    if (Status s = CheckCluster(config); !s.ok()) return s;
    if (Status s = CheckReplication(config); !s.ok()) return s;
  } catch (const YAML::Exception& e) {
    return InvalidArgument(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return config;
}

}  // namespace goethe
