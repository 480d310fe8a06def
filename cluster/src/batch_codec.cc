#include "batch_codec.h"

#include <cstdint>

namespace goethe::cluster {
namespace {

void PutVarint(std::string* out, std::uint64_t value) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>(value | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

bool GetVarint(std::string_view* in, std::uint64_t* value) {
  *value = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const auto byte = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    *value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

bool GetBytes(std::string_view* in, std::string_view* bytes) {
  std::uint64_t size = 0;
  if (!GetVarint(in, &size) || size > in->size()) return false;
  *bytes = in->substr(0, size);
  in->remove_prefix(size);
  return true;
}

}  // namespace

std::string EncodeBatch(const kv::WriteBatch& batch) {
  std::string out;
  out.reserve(batch.ops().size() * 8 + 64);
  for (const kv::WriteBatch::Op& op : batch.ops()) {
    out.push_back(static_cast<char>(op.type));
    PutVarint(&out, op.key.size());
    out.append(op.key);
    PutVarint(&out, op.value.size());
    out.append(op.value);
  }
  return out;
}

Status DecodeBatch(std::string_view bytes, kv::WriteBatch* batch) {
  while (!bytes.empty()) {
    const auto type = static_cast<kv::WriteBatch::OpType>(bytes.front());
    bytes.remove_prefix(1);
    std::string_view key, value;
    if (!GetBytes(&bytes, &key) || !GetBytes(&bytes, &value)) return DataLoss("damaged replicated batch");
    switch (type) {
      case kv::WriteBatch::OpType::kPut: batch->Put(key, value); break;
      case kv::WriteBatch::OpType::kDelete: batch->Delete(key); break;
      case kv::WriteBatch::OpType::kDeleteRange: batch->DeleteRange(key, value); break;
      default: return DataLoss("damaged replicated batch: unknown operation");
    }
  }
  return Status::Ok();
}

}  // namespace goethe::cluster
