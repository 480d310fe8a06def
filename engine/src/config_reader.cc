#include "config_reader.h"

namespace goethe::config_internal {

Status SectionReader::Read(const YAML::Node& section, const YAML::Mark& mark) {
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

Status SectionReader::Error(const std::string& key, const std::string& what) const {
  return InvalidArgument(config_.Where(key) + ": " + what);
}

Status SectionReader::ErrorAt(int zero_based_line, const std::string& key, const std::string& what) const {
  return InvalidArgument(config_.source + ":" + std::to_string(zero_based_line + 1) + ": " +
                         (key.empty() ? "" : key + ": ") + what);
}

std::string SectionReader::Known() const {
  std::string list;
  for (const auto& [name, handler] : handlers_) list += (list.empty() ? "" : ", ") + name;
  return list;
}

std::string Describe(const YAML::Node& value) {
  if (value.IsScalar()) return "'" + value.Scalar() + "'";
  if (value.IsMap()) return "a mapping";
  if (value.IsSequence()) return "a list";
  return "nothing";
}

std::string Indexed(const std::string& key, std::size_t i) { return key + "[" + std::to_string(i) + "]"; }

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

}  // namespace goethe::config_internal
