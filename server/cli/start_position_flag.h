// The --from flag of consume and seek: beginning | end | cursor | OFFSET | TIME (RFC 3339) | now.
#pragma once

#include <string>

#include "goethe/v1/goethe.pb.h"

namespace goethe::cli {

struct StartFlags {
  std::string from = "beginning";
  std::string fallback = "beginning";    // cursor without a committed cursor: beginning | end
  std::string reset_policy = "earliest";  // cursor overtaken by retention: earliest | latest | error
};

// Fills `out`; false with `error` set when the flags do not parse.
bool ParseStartPosition(const StartFlags& flags, v1::StartPosition* out, std::string* error);

}  // namespace goethe::cli
