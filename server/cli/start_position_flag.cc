#include "start_position_flag.h"

#include <charconv>

#include "time_text.h"

namespace goethe::cli {

bool ParseStartPosition(const StartFlags& flags, v1::StartPosition* out, std::string* error) {
  const std::string& from = flags.from;
  out->Clear();
  if (from == "beginning") {
    out->set_beginning(true);
  } else if (from == "end") {
    out->set_end(true);
  } else if (from == "now") {
    out->set_time_unix_nanos(NowUnixNanos());
  } else if (from == "cursor") {
    v1::CursorStart* cursor = out->mutable_cursor();
    if (flags.fallback == "end") {
      cursor->set_fallback(v1::CURSOR_FALLBACK_END);
    } else if (flags.fallback != "beginning") {
      *error = "--fallback: expected beginning or end, got '" + flags.fallback + "'";
      return false;
    }
    if (flags.reset_policy == "latest") {
      cursor->set_reset_policy(v1::RESET_POLICY_LATEST);
    } else if (flags.reset_policy == "error") {
      cursor->set_reset_policy(v1::RESET_POLICY_ERROR);
    } else if (flags.reset_policy != "earliest") {
      *error = "--reset-policy: expected earliest, latest or error, got '" + flags.reset_policy + "'";
      return false;
    }
  } else if (!from.empty() && from.find_first_not_of("0123456789") == std::string::npos) {
    std::uint64_t offset = 0;
    auto [end, ec] = std::from_chars(from.data(), from.data() + from.size(), offset);
    if (ec != std::errc() || end != from.data() + from.size()) {
      *error = "--from: offset " + from + " is too large";
      return false;
    }
    out->set_offset(offset);
  } else if (std::optional<std::int64_t> time = ParseRfc3339(from)) {
    out->set_time_unix_nanos(*time);
  } else {
    *error = "--from: expected beginning, end, cursor, now, an offset or an RFC 3339 time such as "
             "2024-05-01T12:00:00Z, got '" + from + "'";
    return false;
  }
  return true;
}

}  // namespace goethe::cli
