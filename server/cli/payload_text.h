// Payloads shown safely on a terminal and in JSON. Payloads are opaque bytes: a payload that is
// printable UTF-8 text is shown as it is; anything else must not reach the terminal raw.
#pragma once

#include <string>
#include <string_view>

namespace goethe::cli {

// True when `bytes` is valid UTF-8 without control characters (tab allowed).
bool IsPrintableText(std::string_view bytes);

// True when `bytes` is valid UTF-8 (control characters allowed; JSON can escape them).
bool IsValidUtf8(std::string_view bytes);

// For a terminal: printable text as it is; mostly-text bytes with C escapes (\n, \t, \\, \xNN);
// mostly-binary bytes as "hex:" followed by two hex digits per byte.
std::string ShowPayload(std::string_view bytes);

// The JSON string literal of UTF-8 `text`, quotes included, with control characters escaped.
std::string JsonString(std::string_view text);

// Standard base64 with padding.
std::string Base64(std::string_view bytes);

}  // namespace goethe::cli
