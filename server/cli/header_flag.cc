#include "header_flag.h"

namespace goethe::cli {

bool ParseHeaderFlag(const std::string& text, v1::Header* out) {
  const std::size_t equals = text.find('=');
  if (equals == std::string::npos || equals == 0) return false;
  out->set_name(text.substr(0, equals));
  out->set_value(text.substr(equals + 1));
  return true;
}

}  // namespace goethe::cli
