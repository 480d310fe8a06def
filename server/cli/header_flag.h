// --header NAME=VALUE, as goethe-cli's produce (headers to set) and consume (headers to match)
// take it.
#pragma once

#include <string>

#include "goethe/v1/goethe.pb.h"

namespace goethe::cli {

// "type=OrderPlaced" as a header: the name is everything before the first '=' (not empty), the
// value everything after it ('=' allowed). False when there is no name.
bool ParseHeaderFlag(const std::string& text, v1::Header* out);

}  // namespace goethe::cli
