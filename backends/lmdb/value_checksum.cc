#include "value_checksum.h"

#include <isa-l/crc.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace goethe::kv::lmdb_backend {
namespace {

// Continues `crc` over `bytes`. ISA-L's crc32_gzip_refl is zlib's crc32() (the same CRC-32, the
// same running value), computed with carry-less multiplication: 3-4x faster on an event's 130
// bytes, and it was a tenth of the server's CPU on LMDB writes. Empty input leaves the CRC as it
// is without reading the (possibly null) pointer.
std::uint32_t Extend(std::uint32_t crc, std::string_view bytes) {
  if (bytes.empty()) return crc;
  return crc32_gzip_refl(crc, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

// One pass over the key, then the value, continuing the same CRC: no copy, no allocation. In a
// leaf page LMDB stores a value right after its key, and a write batch's buffer does too, so at an
// iterator position and on a batched put they are one range: one call then, which spares ISA-L's
// setup for the short key.
std::uint32_t Crc(std::string_view key, std::string_view value) {
  if (!key.empty() && key.data() + key.size() == value.data())
    return Extend(0, std::string_view(key.data(), key.size() + value.size()));
  return Extend(Extend(0, key), value);
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
