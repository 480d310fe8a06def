#include "records.h"

#include <array>
#include <cstring>

#include "keys.h"

namespace goethe::records {
namespace {

// Writes the format byte followed by each field as 8 big-endian bytes.
template <std::size_t N>
std::string Pack(const std::array<std::uint64_t, N>& fields) {
  std::string out;
  out.reserve(1 + 8 * N);
  out.push_back(kFormat);
  for (std::uint64_t f : fields) keys::PutBigEndian64(&out, f);
  return out;
}

// Reads N fields written by Pack; nullopt on a wrong size or format byte.
template <std::size_t N>
std::optional<std::array<std::uint64_t, N>> Unpack(std::string_view bytes) {
  if (bytes.size() != 1 + 8 * N || bytes[0] != kFormat) return std::nullopt;
  std::array<std::uint64_t, N> fields{};
  for (std::size_t i = 0; i < N; ++i) fields[i] = keys::ReadBigEndian64(bytes.substr(1 + 8 * i));
  return fields;
}

std::uint64_t U(std::int64_t v) { return static_cast<std::uint64_t>(v); }
std::int64_t S(std::uint64_t v) { return static_cast<std::int64_t>(v); }

}  // namespace

std::string EncodeCounter(std::uint64_t value) { return Pack<1>({value}); }
std::optional<std::uint64_t> DecodeCounter(std::string_view bytes) {
  auto f = Unpack<1>(bytes);
  if (!f) return std::nullopt;
  return (*f)[0];
}

std::string Encode(const TopicRecord& r) {
  return Pack<6>({r.id, U(r.created_ns), U(r.settings.retention_age_ns), r.settings.retention_bytes,
                  r.settings.retention_events, U(r.settings.index_granularity_ns)});
}
std::optional<TopicRecord> DecodeTopic(std::string_view bytes) {
  auto f = Unpack<6>(bytes);
  if (!f || (*f)[0] == 0 || S((*f)[5]) <= 0) return std::nullopt;
  TopicRecord r;
  r.id = (*f)[0];
  r.created_ns = S((*f)[1]);
  r.settings = {S((*f)[2]), (*f)[3], (*f)[4], S((*f)[5])};
  return r;
}

std::string Encode(const LowRecord& r) { return Pack<3>({r.first_offset, r.deleted_bytes, U(r.last_deleted_ns)}); }
std::optional<LowRecord> DecodeLow(std::string_view bytes) {
  auto f = Unpack<3>(bytes);
  if (!f) return std::nullopt;
  return LowRecord{(*f)[0], (*f)[1], S((*f)[2])};
}

std::string Encode(const CursorRecord& r) { return Pack<2>({r.offset, U(r.updated_ns)}); }
std::optional<CursorRecord> DecodeCursor(std::string_view bytes) {
  auto f = Unpack<2>(bytes);
  if (!f) return std::nullopt;
  return CursorRecord{(*f)[0], S((*f)[1])};
}

std::string Encode(const IdempotencyRecord& r) { return Pack<3>({r.first_offset, r.count, U(r.created_ns)}); }
std::optional<IdempotencyRecord> DecodeIdempotency(std::string_view bytes) {
  auto f = Unpack<3>(bytes);
  if (!f || (*f)[1] == 0) return std::nullopt;
  return IdempotencyRecord{(*f)[0], (*f)[1], S((*f)[2])};
}

void AppendEventValue(std::string* out, TimestampNs timestamp, std::uint64_t appended_bytes,
                      std::string_view payload) {
  const std::size_t at = out->size();
  out->resize(at + kEventHeaderBytes + payload.size());
  EncodeEventValue(out->data() + at, timestamp, appended_bytes, payload);
}

void EncodeEventValue(char* out, TimestampNs timestamp, std::uint64_t appended_bytes, std::string_view payload) {
  keys::EncodeBigEndian64(out, U(timestamp));
  keys::EncodeBigEndian64(out + 8, appended_bytes);
  if (!payload.empty()) std::memcpy(out + kEventHeaderBytes, payload.data(), payload.size());
}

std::optional<EventView> DecodeEvent(std::string_view value) {
  if (value.size() < kEventHeaderBytes) return std::nullopt;
  const std::string_view payload = value.substr(kEventHeaderBytes);
  const std::uint64_t appended_bytes = keys::ReadBigEndian64(value.substr(8));
  if (appended_bytes < payload.size()) return std::nullopt;  // the total includes this payload
  return EventView{S(keys::ReadBigEndian64(value)), appended_bytes, payload};
}

}  // namespace goethe::records
