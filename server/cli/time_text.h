// Times and durations as people type and read them: RFC 3339 in UTC for output; RFC 3339 with any
// offset, or "now", for input; durations such as 500ms, 30s, 5m, 1h, 7d.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace goethe::cli {

// "2024-05-01T12:00:00.123456789Z": nanoseconds since the Unix epoch, in UTC, full precision.
std::string FormatRfc3339(std::int64_t unix_nanos);

// Parses "2024-05-01T12:00:00Z", "2024-05-01T12:00:00.5+02:00", "2024-05-01 12:00:00z" (a space
// or 't' for 'T', up to nine fraction digits). nullopt when `text` is not such a time.
std::optional<std::int64_t> ParseRfc3339(std::string_view text);

// The current wall-clock time in nanoseconds since the Unix epoch.
std::int64_t NowUnixNanos();

// Parses "500ms", "30s", "5m", "1h", "7d", "100us", "10ns" (a bare number means seconds).
std::optional<std::int64_t> ParseDurationNanos(std::string_view text);

}  // namespace goethe::cli
