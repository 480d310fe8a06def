// The one mapping from KV plugin statuses to engine statuses.
#pragma once

#include <string>

#include "goethe/engine/status.h"
#include "goethe/kv/status.h"

namespace goethe {

// NoSpace -> RESOURCE_EXHAUSTED, Corruption -> DATA_LOSS, IOError and Busy -> UNAVAILABLE, ...
// `context`, when given, goes before the plugin's message.
Status FromKv(const kv::Status& status, const std::string& context = "");

}  // namespace goethe
