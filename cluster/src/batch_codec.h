// The engine's write batches as bytes, for the replication log and the wire: each operation as a
// type byte, then its key and value, each preceded by its length as a varint.
#pragma once

#include <string>
#include <string_view>

#include "goethe/engine/status.h"
#include "goethe/kv/write_batch.h"

namespace goethe::cluster {

std::string EncodeBatch(const kv::WriteBatch& batch);
// Appends the operations `bytes` encodes to `batch`; DATA_LOSS when they are damaged.
Status DecodeBatch(std::string_view bytes, kv::WriteBatch* batch);

}  // namespace goethe::cluster
