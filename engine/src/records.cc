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

constexpr std::size_t kGroupFields = 11;

std::string Encode(const GroupRecord& r) {
  return Pack<kGroupFields>({U(r.created_ns), r.ack_floor, r.dispatched_to, r.redeliveries, r.dead_lettered,
                             r.lost_to_retention, U(r.ack_wait_ns), r.max_deliveries, r.ordered_by_key ? 1u : 0u,
                             r.reset, r.max_pending}) +
         r.dead_letter_topic;
}

std::optional<GroupRecord> DecodeGroup(std::string_view bytes) {
  constexpr std::size_t kFixed = 1 + 8 * kGroupFields;
  if (bytes.size() <= kFixed) return std::nullopt;  // the dead-letter topic is never empty
  auto f = Unpack<kGroupFields>(bytes.substr(0, kFixed));
  if (!f) return std::nullopt;
  const auto& v = *f;
  // The dispatch mark never runs more than max_pending past the floor: a record that says so is
  // damaged, and restoring it would size memory by it (found by fuzzing:
  // tests/fuzz/regressions/fuzz_engine_open/group-dispatch-span-huge).
  if (v[1] > v[2] || v[2] - v[1] > v[10] || S(v[6]) <= 0 || v[7] == 0 || v[8] > 1 || v[9] > 2 || v[10] == 0 ||
      v[10] > 1'000'000)
    return std::nullopt;
  return GroupRecord{S(v[0]), v[1], v[2], v[3], v[4], v[5], S(v[6]), v[7], v[8] == 1, v[9], v[10],
                     std::string(bytes.substr(kFixed))};
}

std::string Encode(const GroupEventRecord& r) { return Pack<2>({r.deliveries, r.acked ? 1u : 0u}); }

std::optional<GroupEventRecord> DecodeGroupEvent(std::string_view bytes) {
  auto f = Unpack<2>(bytes);
  if (!f || (*f)[1] > 1) return std::nullopt;
  return GroupEventRecord{(*f)[0], (*f)[1] == 1};
}

std::uint64_t EventBytes(std::string_view payload, const EventAttributes* attributes) {
  std::uint64_t bytes = payload.size();
  if (attributes == nullptr) return bytes;
  bytes += attributes->key.size();
  for (const Header& h : attributes->headers) bytes += h.name.size() + h.value.size();
  return bytes;
}

std::size_t EventValueSize(std::string_view payload, const EventAttributes* attributes) {
  std::size_t size = kEventHeaderBytes + payload.size();
  if (attributes == nullptr || attributes->empty()) return size;
  size += 1 + attributes->key.size() + 2;
  for (const Header& h : attributes->headers) size += 1 + h.name.size() + 4 + h.value.size();
  return size;
}

namespace {
char* Put(char* out, std::string_view bytes) {
  if (!bytes.empty()) std::memcpy(out, bytes.data(), bytes.size());
  return out + bytes.size();
}
}  // namespace

void EncodeEventValue(char* out, TimestampNs timestamp, std::uint64_t appended_bytes, std::string_view payload,
                      const EventAttributes* attributes) {
  const bool has_attributes = attributes != nullptr && !attributes->empty();
  keys::EncodeBigEndian64(out, U(timestamp));
  keys::EncodeBigEndian64(out + 8, appended_bytes | (has_attributes ? kHasAttributes : 0));
  out += kEventHeaderBytes;
  if (has_attributes) {
    *out++ = static_cast<char>(attributes->key.size());
    out = Put(out, attributes->key);
    const auto count = static_cast<std::uint16_t>(attributes->headers.size());
    *out++ = static_cast<char>(count >> 8);
    *out++ = static_cast<char>(count & 0xFF);
    for (const Header& h : attributes->headers) {
      *out++ = static_cast<char>(h.name.size());
      out = Put(out, h.name);
      const auto size = static_cast<std::uint32_t>(h.value.size());
      for (int shift = 24; shift >= 0; shift -= 8) *out++ = static_cast<char>((size >> shift) & 0xFF);
      out = Put(out, h.value);
    }
  }
  Put(out, payload);
}

void AppendEventValue(std::string* out, TimestampNs timestamp, std::uint64_t appended_bytes,
                      std::string_view payload, const EventAttributes* attributes) {
  const std::size_t at = out->size();
  out->resize(at + EventValueSize(payload, attributes));
  EncodeEventValue(out->data() + at, timestamp, appended_bytes, payload, attributes);
}

namespace {

// Reads the attributes section at the start of `rest`; advances `rest` past it. False when damaged.
bool ReadAttributes(std::string_view* rest, StoredEvent* event, std::vector<HeaderView>* headers) {
  auto take = [rest](std::size_t n, std::string_view* out) {
    if (rest->size() < n) return false;
    *out = rest->substr(0, n);
    rest->remove_prefix(n);
    return true;
  };
  auto number = [](std::string_view bytes) {
    std::size_t value = 0;
    for (unsigned char b : bytes) value = value << 8 | b;
    return value;
  };
  std::string_view field;
  if (!take(1, &field) || !take(number(field), &event->key)) return false;
  if (!take(2, &field)) return false;
  const std::size_t count = number(field);
  if (event->key.empty() && count == 0) return false;  // the flag promised attributes
  for (std::size_t i = 0; i < count; ++i) {
    std::string_view name, value;
    if (!take(1, &field) || number(field) == 0 || !take(number(field), &name)) return false;
    if (!take(4, &field) || !take(number(field), &value)) return false;
    event->event_bytes += name.size() + value.size();
    if (headers != nullptr) headers->push_back({name, value});
  }
  event->event_bytes += event->key.size();
  return true;
}

}  // namespace

std::optional<StoredEvent> DecodeEvent(std::string_view value, std::vector<HeaderView>* headers) {
  if (value.size() < kEventHeaderBytes) return std::nullopt;
  const std::uint64_t total = keys::ReadBigEndian64(value.substr(8));
  StoredEvent event{S(keys::ReadBigEndian64(value)), total & ~kHasAttributes, 0, {}, {}};
  std::string_view rest = value.substr(kEventHeaderBytes);
  if ((total & kHasAttributes) != 0 && !ReadAttributes(&rest, &event, headers)) return std::nullopt;
  event.payload = rest;
  event.event_bytes += rest.size();
  if (event.appended_bytes < event.event_bytes) return std::nullopt;  // the total includes this event
  return event;
}

}  // namespace goethe::records
