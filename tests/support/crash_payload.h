// The payloads of the crash test: each event says which batch it belongs to, its index in the
// batch and the batch's size, followed by filler that is a function of those, so that the parent
// can tell a whole, correct event from a torn or misplaced one.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "goethe/engine/types.h"

namespace goethe::testing {

inline constexpr const char* kCrashTopic = "crash";
// The topics an append across topics writes to; the first is kCrashTopic.
inline constexpr const char* kCrashTopics[] = {"crash", "crash.stock", "crash.audit"};

// How many events topic `t` gets of a batch whose first part has `size`: different per topic.
inline std::uint32_t CrashPartSize(std::uint32_t size, std::size_t t) {
  return t == 0 ? size : static_cast<std::uint32_t>(1 + (size + 7 * t) % 20);
}

struct CrashEvent {
  std::uint64_t batch = 0;
  std::uint32_t index = 0;
  std::uint32_t size = 0;
};

inline std::string EncodeCrashEvent(const CrashEvent& e) {
  std::string out = "B" + std::to_string(e.batch) + " I" + std::to_string(e.index) + " N" + std::to_string(e.size) + " ";
  const std::size_t filler = (e.batch * 31 + e.index * 7) % 200;
  out.append(filler, static_cast<char>('a' + (e.batch + e.index) % 26));
  return out;
}

// The event a payload encodes, or nothing when the payload is not exactly what EncodeCrashEvent
// makes of it.
inline std::optional<CrashEvent> DecodeCrashEvent(std::string_view payload) {
  CrashEvent e;
  auto number = [&](char tag, auto* out) {
    if (payload.empty() || payload[0] != tag) return false;
    payload.remove_prefix(1);
    auto [ptr, ec] = std::from_chars(payload.data(), payload.data() + payload.size(), *out);
    if (ec != std::errc() || ptr == payload.data() || ptr == payload.data() + payload.size() || *ptr != ' ') return false;
    payload.remove_prefix(ptr - payload.data() + 1);
    return true;
  };
  const std::string_view whole = payload;
  if (!number('B', &e.batch) || !number('I', &e.index) || !number('N', &e.size)) return std::nullopt;
  if (EncodeCrashEvent(e) != whole) return std::nullopt;
  return e;
}

// The key and headers of event `index` of a batch, so that the parent can check them too.
inline EventAttributes CrashAttributes(std::uint64_t batch, std::uint32_t index) {
  return {"batch-" + std::to_string(batch),
          {{"index", std::to_string(index)}, {"type", "crash"}, {"index", std::string(1, static_cast<char>(index))}}};
}

}  // namespace goethe::testing
