#include "value_checksum.h"

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace goethe::kv::lmdb_backend {
namespace {

// Continues `crc` over `bytes`. Empty input leaves it as it is: zlib answers a null buffer (an
// empty view may have one) with the initial value 0, which would drop what came before.
uLong Extend(uLong crc, std::string_view bytes) {
  if (bytes.empty()) return crc;
  return crc32_z(crc, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size());
}

// One pass over the key, then the value, continuing the same CRC: no copy, no allocation.
std::uint32_t Crc(std::string_view key, std::string_view value) {
  return static_cast<std::uint32_t>(Extend(Extend(0L, key), value));
}

void EncodeLittleEndian(std::uint32_t n, char* out) {
  for (std::size_t i = 0; i < kTrailerBytes; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
}

std::uint32_t DecodeLittleEndian(const char* in) {
  std::uint32_t n = 0;
  for (std::size_t i = 0; i < kTrailerBytes; ++i) n |= std::uint32_t{static_cast<unsigned char>(in[i])} << (8 * i);
  return n;
}

}  // namespace

void SealValue(std::string_view key, std::string_view value, char* out) {
  if (!value.empty()) std::memcpy(out, value.data(), value.size());
  EncodeLittleEndian(Crc(key, value), out + value.size());
}

bool UnsealValue(std::string_view key, std::string_view stored, std::string_view* value) {
  if (stored.size() < kTrailerBytes) return false;
  const std::string_view plain = stored.substr(0, stored.size() - kTrailerBytes);
  if (Crc(key, plain) != DecodeLittleEndian(stored.data() + plain.size())) return false;
  *value = plain;
  return true;
}

Status ChecksumMismatch(std::string_view data_file, std::string_view key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * key.size());
  for (const char c : key) {
    hex.push_back(kHex[static_cast<unsigned char>(c) >> 4]);
    hex.push_back(kHex[static_cast<unsigned char>(c) & 0xf]);
  }
  return Status::Corruption("checksum mismatch in '" + std::string(data_file) + "' for key 0x" + hex +
                            ": the stored value is damaged; restore the store from a backup");
}

}  // namespace goethe::kv::lmdb_backend
