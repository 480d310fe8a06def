#include <filesystem>
#include <fstream>

#include "config_reader.h"

namespace goethe::config_internal {

std::string ResolvePath(const Config& config, const std::string& path) {
  const std::filesystem::path named(path);
  if (named.is_absolute() || config.source.empty()) return named.lexically_normal().string();
  return (std::filesystem::path(config.source).parent_path() / named).lexically_normal().string();
}

SectionReader::Handler Path(SectionReader& r, std::string* out) {
  return [&r, out](const YAML::Node& v, const std::string& key) {
    if (!v.IsScalar() || v.Scalar().empty()) return r.Error(key, "expected a file path, got " + Describe(v));
    *out = ResolvePath(r.config(), v.Scalar());
    return Status::Ok();
  };
}

Status CheckReadable(const Config& config, const std::string& key, const std::string& path) {
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  const bool regular = std::filesystem::is_regular_file(path, ec);
  if (regular && std::ifstream(path).good()) return Status::Ok();
  const char* why = !exists ? "no such file" : !regular ? "not a regular file" : "permission denied";
  return InvalidArgument(config.Where(key) + ": cannot read '" + path + "' (" + why + ")");
}

}  // namespace goethe::config_internal
