// What the config loader's parts share: SectionReader, which reads one YAML mapping and refuses
// unknown keys, and the typed field readers that store a value or name what they expected.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>

#include "goethe/engine/config.h"

namespace goethe::config_internal {

// Reads one YAML mapping section, remembering each key's line in `config.lines`, and refusing
// unknown keys. Errors name `config.source`, the line and the dotted key.
class SectionReader {
 public:
  SectionReader(Config& config, std::string prefix) : config_(config), prefix_(std::move(prefix)) {}

  using Handler = std::function<Status(const YAML::Node& value, const std::string& key)>;

  void On(const std::string& name, Handler handler) { handlers_.emplace(name, std::move(handler)); }

  Status Read(const YAML::Node& section, const YAML::Mark& mark);

  Status Error(const std::string& key, const std::string& what) const;
  Status ErrorAt(int zero_based_line, const std::string& key, const std::string& what) const;

  Config& config() const { return config_; }

 private:
  std::string Known() const;

  Config& config_;
  std::string prefix_;
  std::map<std::string, Handler> handlers_;
};

// "'text'", "a mapping", "a list" or "nothing": what a user wrote, for error messages.
std::string Describe(const YAML::Node& value);
// "key[i]": the i-th item of a list, as errors name it.
std::string Indexed(const std::string& key, std::size_t i);

// Typed field readers: each returns a handler that stores into `*out` or names what it expected.
SectionReader::Handler String(SectionReader& r, std::string* out);
SectionReader::Handler NonEmptyString(SectionReader& r, std::string* out);
SectionReader::Handler Bool(SectionReader& r, bool* out);
SectionReader::Handler Size(SectionReader& r, std::uint64_t* out);
SectionReader::Handler Duration(SectionReader& r, std::chrono::nanoseconds* out);

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

// Files named in a config (config_files.cc). A relative path is relative to the directory of
// the file that names it (`config.source`), not to the working directory.
std::string ResolvePath(const Config& config, const std::string& path);
// A handler for a file path: non-empty, stored resolved.
SectionReader::Handler Path(SectionReader& r, std::string* out);
// OK when `path` is a regular file this process can read; else an error at `key` saying why not.
Status CheckReadable(const Config& config, const std::string& key, const std::string& path);

// The server.tls section, and its checks across keys once the whole file is read (config_tls.cc).
Status ReadHttp(Config& config, const YAML::Node& node, const YAML::Mark& mark);
Status ReadTls(Config& config, const YAML::Node& node, const YAML::Mark& mark);
Status CheckTls(const Config& config);

// The server.auth section, with its tokens inline or in a file of their own (config_auth.cc).
Status ReadAuth(Config& config, const YAML::Node& node, const YAML::Mark& mark);

// The cluster section and its etcd, and its checks across keys once the whole file is read and
// cluster.advertise has taken server.listen if it was not set (config_cluster.cc).
Status ReadCluster(Config& config, const YAML::Node& node, const YAML::Mark& mark);
Status CheckCluster(const Config& config);

// The replication section, and its checks once the whole file is read: it needs a cluster
// section (config_replication.cc).
Status ReadReplication(Config& config, const YAML::Node& node, const YAML::Mark& mark);
Status CheckReplication(const Config& config);

}  // namespace goethe::config_internal
