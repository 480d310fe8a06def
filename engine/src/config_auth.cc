// server.auth: bearer tokens and what each may do, inline in the config or in a tokens file of
// the same shape. Error messages name the file, the line and the key, and never echo a token.
#include <fstream>
#include <set>
#include <sstream>

#include "config_reader.h"

namespace goethe::config_internal {
namespace {

// Short tokens are easy to guess; 16 characters is 96 bits even as base64.
constexpr std::size_t kMinTokenLength = 16;

// The shape of a value, for errors where the value itself may be a secret.
std::string Shape(const YAML::Node& v) {
  if (v.IsScalar()) return "a string";
  if (v.IsMap()) return "a mapping";
  if (v.IsSequence()) return "a list";
  return "nothing";
}

// A value that may be one scalar or a list of scalars, as a list.
bool ScalarOrList(const YAML::Node& v, std::vector<std::string>* out) {
  if (v.IsScalar()) {
    out->push_back(v.Scalar());
    return true;
  }
  if (!v.IsSequence() || v.size() == 0) return false;
  for (const YAML::Node& item : v) {
    if (!item.IsScalar()) return false;
    out->push_back(item.Scalar());
  }
  return true;
}

bool IsTopicChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

// Topic-name characters, `*`, `?` and closed `[...]` sets: what fnmatch(3) without flags reads
// the same way we document it.
bool ValidPattern(const std::string& pattern) {
  if (pattern.empty()) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '*' || c == '?' || IsTopicChar(c)) continue;
    if (c != '[') return false;
    std::size_t j = i + 1;
    if (j < pattern.size() && (pattern[j] == '!' || pattern[j] == '^')) ++j;
    const std::size_t first = j;
    while (j < pattern.size() && pattern[j] != ']') {
      if (!IsTopicChar(pattern[j])) return false;
      ++j;
    }
    if (j == pattern.size() || j == first) return false;
    i = j;
  }
  return true;
}

Status CheckToken(const SectionReader& r, const std::string& key, const std::string& token,
                  const std::string& file) {
  const std::string source = file.empty() ? "" : " (in '" + file + "')";
  if (token.size() < kMinTokenLength)
    return r.Error(key, "expected a token of at least " + std::to_string(kMinTokenLength) + " characters" + source +
                            ", e.g. from `openssl rand -hex 32`; got " + std::to_string(token.size()));
  for (char c : token) {
    if (c < 0x21 || c > 0x7e)
      return r.Error(key, "expected a token of printable ASCII characters without spaces" + source +
                              ": it travels in an HTTP header");
  }
  return Status::Ok();
}

// The token in `path`: the whole file, less surrounding white space (a trailing newline).
std::string ReadTokenFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  const std::string content = text.str();
  const char* space = " \t\r\n";
  const std::size_t begin = content.find_first_not_of(space);
  if (begin == std::string::npos) return "";
  return content.substr(begin, content.find_last_not_of(space) - begin + 1);
}

Status ReadGrant(Config& scope, const YAML::Node& node, const std::string& key, TokenGrant* out) {
  SectionReader r(scope, key);
  r.On("permissions", [&r, out](const YAML::Node& v, const std::string& k) {
    std::vector<std::string> names;
    if (!ScalarOrList(v, &names))
      return r.Error(k, "expected a list of produce, consume, admin, got " + Describe(v));
    for (const std::string& name : names) {
      if (name == "produce") out->permissions |= Bit(Permission::kProduce);
      else if (name == "consume") out->permissions |= Bit(Permission::kConsume);
      else if (name == "admin") out->permissions |= Bit(Permission::kAdmin);
      else return r.Error(k, "unknown permission '" + name + "' (known: produce, consume, admin)");
    }
    return Status::Ok();
  });
  r.On("topics", [&r, out](const YAML::Node& v, const std::string& k) {
    if (!ScalarOrList(v, &out->topics))
      return r.Error(k, "expected a topic pattern or a list of them, got " + Describe(v));
    for (const std::string& pattern : out->topics) {
      if (!ValidPattern(pattern))
        return r.Error(k, "expected a topic pattern of letters, digits, '.', '_', '-', with * (any run), "
                          "? (one character) and [set] (one of a set), got '" + pattern + "'");
    }
    return Status::Ok();
  });
  const int line = node.Mark().line;
  if (!node.IsMap())
    return r.ErrorAt(line, key, "expected a mapping with permissions and topics, got " + Describe(node));
  if (Status s = r.Read(node, node.Mark()); !s.ok()) return s;
  if (out->permissions == 0) return r.ErrorAt(line, key, "expected permissions: a list of produce, consume, admin");
  if (out->topics.empty()) return r.ErrorAt(line, key, "expected topics: a topic pattern or a list of them");
  return Status::Ok();
}

Status ReadToken(Config& scope, const YAML::Node& node, const std::string& key, AccessToken* out) {
  SectionReader r(scope, key);
  int sources = 0;
  r.On("name", NonEmptyString(r, &out->name));
  r.On("token", [&](const YAML::Node& v, const std::string& k) {
    ++sources;
    if (!v.IsScalar()) return r.Error(k, "expected the token as a string, got " + Shape(v));
    out->token = v.Scalar();
    return CheckToken(r, k, out->token, "");
  });
  r.On("token_file", [&](const YAML::Node& v, const std::string& k) {
    ++sources;
    std::string path;
    if (Status s = Path(r, &path)(v, k); !s.ok()) return s;
    if (Status s = CheckReadable(scope, k, path); !s.ok()) return s;
    out->token = ReadTokenFile(path);
    return CheckToken(r, k, out->token, path);
  });
  r.On("grants", [&](const YAML::Node& v, const std::string& k) {
    if (!v.IsSequence() || v.size() == 0)
      return r.Error(k, "expected a list of grants, each with permissions and topics, got " + Describe(v));
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (Status s = ReadGrant(scope, v[i], Indexed(k, i), &out->grants.emplace_back()); !s.ok()) return s;
    }
    return Status::Ok();
  });
  const int line = node.Mark().line;
  if (!node.IsMap())
    return r.ErrorAt(line, key, "expected a mapping with name, token or token_file, and grants, got " + Shape(node));
  if (Status s = r.Read(node, node.Mark()); !s.ok()) return s;
  if (out->name.empty()) return r.ErrorAt(line, key, "expected a name: it stands for the token in logs and errors");
  if (sources != 1) return r.ErrorAt(line, key, "expected exactly one of token and token_file");
  if (out->grants.empty()) return r.ErrorAt(line, key, "expected grants: a list of permissions on topics");
  return Status::Ok();
}

// A list of tokens at `key` of `scope` (the config, or the tokens file): each read, then names
// and tokens checked to be unique.
Status ReadTokenList(Config& scope, const YAML::Node& v, const std::string& key, std::vector<AccessToken>* out) {
  if (!v.IsSequence() || v.size() == 0)
    return SectionReader(scope, key).Error(key, "expected a list of tokens, each with name, token or token_file, "
                                                "and grants, got " + Shape(v));
  const std::size_t first = out->size();
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string entry = Indexed(key, i);
    scope.lines[entry] = v[i].Mark().line + 1;
    if (Status s = ReadToken(scope, v[i], entry, &out->emplace_back()); !s.ok()) return s;
    for (std::size_t j = first; j + 1 < out->size(); ++j) {
      const std::string other = Indexed(key, j - first);
      if ((*out)[j].name == out->back().name)
        return InvalidArgument(scope.Where(entry) + ": the name '" + out->back().name + "' is already used by " +
                               other + " (every token needs a name of its own)");
      if ((*out)[j].token == out->back().token)
        return InvalidArgument(scope.Where(entry) + ": the same token as " + other + " (every token must be unique)");
    }
  }
  return Status::Ok();
}

// A tokens file: a mapping whose one key, `tokens`, has the shape of server.auth.tokens.
Status ReadTokensFile(const std::string& path, std::vector<AccessToken>* out) {
  Config scope;
  scope.source = path;
  try {
    const YAML::Node root = YAML::LoadFile(path);
    SectionReader top(scope, "");
    top.On("tokens", [&](const YAML::Node& v, const std::string& k) { return ReadTokenList(scope, v, k, out); });
    if (!root.IsMap()) return InvalidArgument(path + ":1: expected a mapping with a list of tokens under 'tokens'");
    if (Status s = top.Read(root, root.Mark()); !s.ok()) return s;
  } catch (const YAML::BadFile&) {
    return InvalidArgument(path + ": cannot read the tokens file");
  } catch (const YAML::Exception& e) {
    return InvalidArgument(path + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                           ": YAML syntax error: " + e.msg);
  }
  if (out->empty()) return InvalidArgument(path + ":1: expected a mapping with a list of tokens under 'tokens'");
  return Status::Ok();
}

}  // namespace

Status ReadAuth(Config& c, const YAML::Node& node, const YAML::Mark& mark) {
  AuthConfig& auth = c.server.auth;
  auth.enabled = true;
  SectionReader r(c, "server.auth");
  int sources = 0;
  r.On("tokens", [&](const YAML::Node& v, const std::string& key) {
    ++sources;
    return ReadTokenList(c, v, key, &auth.tokens);
  });
  r.On("tokens_file", [&](const YAML::Node& v, const std::string& key) {
    ++sources;
    std::string path;
    if (Status s = Path(r, &path)(v, key); !s.ok()) return s;
    if (Status s = CheckReadable(c, key, path); !s.ok()) return s;
    return ReadTokensFile(path, &auth.tokens);
  });
  if (Status s = r.Read(node, mark); !s.ok()) return s;
  if (sources != 1) return r.Error("server.auth", "expected exactly one of tokens and tokens_file");
  return Status::Ok();
}

}  // namespace goethe::config_internal
