#include "goethe/engine/config.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <functional>
#include <limits>

namespace goethe {
namespace {

// Reads one YAML mapping section, remembering each key's line, and refusing unknown keys.
class SectionReader {
 public:
  SectionReader(Config& config, std::string prefix) : config_(config), prefix_(std::move(prefix)) {}

  using Handler = std::function<Status(const YAML::Node& value, const std::string& key)>;

  void On(const std::string& name, Handler handler) { handlers_.emplace(name, std::move(handler)); }

  Status Read(const YAML::Node& section, const YAML::Mark& mark) {
    if (!section || section.IsNull()) return Status::Ok();
    if (!section.IsMap()) return ErrorAt(mark.line, prefix_, "expected a mapping of keys");
    for (const auto& entry : section) {
      const std::string name = entry.first.Scalar();
      const std::string key = prefix_.empty() ? name : prefix_ + "." + name;
      config_.lines[key] = entry.first.Mark().line + 1;
      auto handler = handlers_.find(name);
      if (handler == handlers_.end()) return Error(key, "unknown key (known: " + Known() + ")");
      if (Status s = handler->second(entry.second, key); !s.ok()) return s;
    }
    return Status::Ok();
  }

  Status Error(const std::string& key, const std::string& what) const {
    return InvalidArgument(config_.Where(key) + ": " + what);
  }
  Status ErrorAt(int zero_based_line, const std::string& key, const std::string& what) const {
    return InvalidArgument(config_.source + ":" + std::to_string(zero_based_line + 1) + ": " +
                           (key.empty() ? "" : key + ": ") + what);
  }

 private:
  std::string Known() const {
    std::string list;
    for (const auto& [name, handler] : handlers_) list += (list.empty() ? "" : ", ") + name;
    return list;
  }

  Config& config_;
  std::string prefix_;
  std::map<std::string, Handler> handlers_;
};

std::string Describe(const YAML::Node& value) {
  if (value.IsScalar()) return "'" + value.Scalar() + "'";
  if (value.IsMap()) return "a mapping";
  if (value.IsSequence()) return "a list";
  return "nothing";
}

// Typed field readers: each returns a handler that stores into `*out` or names what it expected.
SectionReader::Handler String(SectionReader& r, std::string* out) {
  return [&r, out](const YAML::Node& v, const std::string& key) {
    if (!v.IsScalar()) return r.Error(key, "expected a string, got " + Describe(v));
    *out = v.Scalar();
    return Status::Ok();
  };
}
SectionReader::Handler NonEmptyString(SectionReader& r, std::string* out) {
  return [&r, out](const YAML::Node& v, const std::string& key) {
    if (!v.IsScalar() || v.Scalar().empty())
      return r.Error(key, "expected a non-empty string, got " + Describe(v));
    *out = v.Scalar();
    return Status::Ok();
  };
}
SectionReader::Handler Bool(SectionReader& r, bool* out) {
  return [&r, out](const YAML::Node& v, const std::string& key) {
    if (!v.IsScalar() || (v.Scalar() != "true" && v.Scalar() != "false"))
      return r.Error(key, "expected true or false, got " + Describe(v));
    *out = v.Scalar() == "true";
    return Status::Ok();
  };
}
template <typename T>
SectionReader::Handler Count(SectionReader& r, T* out, std::uint64_t min = 1) {
  return [&r, out, min](const YAML::Node& v, const std::string& key) {
    std::uint64_t n = 0;
    std::string why;
    const std::uint64_t max = std::numeric_limits<T>::max();
    if (!v.IsScalar() || !kv::OptionReader::ParseUint(v.Scalar(), &n, &why) || n < min || n > max)
      return r.Error(key, "expected an integer from " + std::to_string(min) + " to " +
                              std::to_string(max) + ", got " + Describe(v));
    *out = static_cast<T>(n);
    return Status::Ok();
  };
}
SectionReader::Handler Size(SectionReader& r, std::uint64_t* out) {
  return [&r, out](const YAML::Node& v, const std::string& key) {
    std::string why;
    if (!v.IsScalar() || !kv::OptionReader::ParseSize(v.Scalar(), out, &why) || *out == 0)
      return r.Error(key, "expected a positive size in bytes (suffixes KiB, MiB, GiB), got " +
                              Describe(v));
    return Status::Ok();
  };
}
SectionReader::Handler Duration(SectionReader& r, std::chrono::nanoseconds* out) {
  return [&r, out](const YAML::Node& v, const std::string& key) {
    if (!v.IsScalar() || !ParseDuration(v.Scalar(), out) || out->count() <= 0)
      return r.Error(key, "expected a positive duration such as 500ms, 10s, 5m, 1h or 1d, got " +
                              Describe(v));
    return Status::Ok();
  };
}
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
  r.On("idempotency_window", Duration(r, &c.engine.idempotency_window));
  r.On("time_index_granularity", Duration(r, &c.engine.time_index_granularity));
  r.On("retention_interval", Duration(r, &c.engine.retention_interval));
  r.On("max_commit_events", Count(r, &c.engine.max_commit_events));
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
    if (!root.IsMap()) return InvalidArgument(path + ":1: expected a mapping with storage, engine, server");
    SectionReader top(config, "");
    top.On("storage", [&](const YAML::Node& v, const std::string&) { return ReadStorage(config, v, v.Mark()); });
    top.On("engine", [&](const YAML::Node& v, const std::string&) { return ReadEngine(config, v, v.Mark()); });
    top.On("server", [&](const YAML::Node& v, const std::string&) { return ReadServer(config, v, v.Mark()); });
    if (Status s = top.Read(root, root.Mark()); !s.ok()) return s;
  } catch (const YAML::Exception& e) {
    return InvalidArgument(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return config;
}

}  // namespace goethe
