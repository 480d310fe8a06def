// Backend options: what a deployment's config passes to a plugin, as strings.
//
// The host never interprets a backend's options; the plugin validates every key and value itself
// (OptionReader below) and names the key it refuses, so the host can point at the config line.
#pragma once

#include <charconv>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "goethe/kv/status.h"

namespace goethe::kv {

using Options = std::map<std::string, std::string, std::less<>>;

// What went wrong with one option, so the host can name the key and its line in the config.
struct OptionError {
  std::string key;      // the offending key; empty when the error is not about one key
  std::string message;  // e.g. "expected a non-negative integer, got 'abc'"
};

// Reads typed values out of Options and remembers which keys were consumed, so that whatever is
// left over can be reported as unknown. Sizes accept plain bytes or a KiB/MiB/GiB/TiB suffix.
class OptionReader {
 public:
  explicit OptionReader(const Options& options) : options_(options) {}

  // Each getter leaves *out untouched when the key is absent and returns false on a bad value
  // (the first error is kept in error()).
  bool GetUint(std::string_view key, std::uint64_t* out) { return Parse(key, out, ParseUint); }
  bool GetSize(std::string_view key, std::uint64_t* out) { return Parse(key, out, ParseSize); }
  bool GetBool(std::string_view key, bool* out) { return Parse(key, out, ParseBool); }
  bool GetChoice(std::string_view key, std::set<std::string, std::less<>> choices,
                 std::string* out) {
    const std::string* raw = Take(key);
    if (raw == nullptr) return true;
    if (choices.count(*raw) == 0) {
      std::string list;
      for (const std::string& c : choices) list += (list.empty() ? "" : ", ") + c;
      return Fail(key, "expected one of " + list + ", got '" + *raw + "'");
    }
    *out = *raw;
    return true;
  }

  // After all getters: fails on the first key nobody asked for, listing the known ones.
  bool RejectUnknown() {
    for (const auto& [key, value] : options_) {
      if (consumed_.count(key) != 0) continue;
      std::string list;
      for (const std::string& k : consumed_) list += (list.empty() ? "" : ", ") + k;
      return Fail(key, "unknown option (known: " + list + ")");
    }
    return true;
  }

  bool ok() const { return error_.message.empty(); }
  const OptionError& error() const { return error_; }
  // The error as a Status, "option 'key': message".
  Status status() const {
    if (ok()) return Status::Ok();
    return Status::InvalidArgument("option '" + error_.key + "': " + error_.message);
  }

  static bool ParseUint(std::string_view text, std::uint64_t* out, std::string* why) {
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, *out);
    if (text.empty() || ec != std::errc() || ptr != end) {
      *why = "expected a non-negative integer";
      return false;
    }
    return true;
  }
  static bool ParseSize(std::string_view text, std::uint64_t* out, std::string* why) {
    static constexpr std::pair<std::string_view, int> kSuffixes[] = {
        {"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40}};
    int shift = 0;
    for (const auto& [suffix, bits] : kSuffixes) {
      if (text.size() > suffix.size() && text.ends_with(suffix)) {
        text.remove_suffix(suffix.size());
        shift = bits;
        break;
      }
    }
    std::uint64_t n = 0;
    if (!ParseUint(text, &n, why) || (shift > 0 && n > (UINT64_MAX >> shift))) {
      *why = "expected a size in bytes, optionally with KiB, MiB, GiB or TiB";
      return false;
    }
    *out = n << shift;
    return true;
  }
  static bool ParseBool(std::string_view text, bool* out, std::string* why) {
    if (text == "true") *out = true;
    else if (text == "false") *out = false;
    else {
      *why = "expected true or false";
      return false;
    }
    return true;
  }

 private:
  const std::string* Take(std::string_view key) {
    consumed_.emplace(key);
    auto it = options_.find(key);
    return it == options_.end() ? nullptr : &it->second;
  }
  template <typename T, typename Parser>
  bool Parse(std::string_view key, T* out, Parser parser) {
    const std::string* raw = Take(key);
    if (raw == nullptr) return true;
    std::string why;
    if (!parser(*raw, out, &why)) return Fail(key, why + ", got '" + *raw + "'");
    return true;
  }
  bool Fail(std::string_view key, std::string message) {
    if (ok()) error_ = {std::string(key), std::move(message)};
    return false;
  }

  const Options& options_;
  std::set<std::string, std::less<>> consumed_;
  OptionError error_;
};

}  // namespace goethe::kv
