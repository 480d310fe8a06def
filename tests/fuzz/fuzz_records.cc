// Fuzzes the decoders of what the engine stores (records.h) and of its keys (keys.h): any bytes
// decode to nullopt or to a value, never a crash or an out-of-bounds read; and a decoded value
// encodes back to exactly the bytes it came from (every encoding is canonical: fixed-width
// big-endian fields behind a prefix or format byte), so no two stored forms mean the same thing.
//
// Input: raw bytes, tried as a value of every record type and as a key of every family (also with
// the first byte replaced by the family prefix or the format byte, so mutations need not find
// those first). Seeds: corpus/fuzz_records (one valid encoding of each record and key).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "keys.h"
#include "records.h"

namespace {

using namespace goethe;

// Aborts with the property that failed; libFuzzer then saves the input.
#define FUZZ_CHECK(condition)                                                   \
  do {                                                                          \
    if (!(condition)) {                                                         \
      std::fprintf(stderr, "fuzz_records: check failed: %s\n", #condition);     \
      std::abort();                                                             \
    }                                                                           \
  } while (0)

// Copies each decoded view into its own heap buffer so that ASan would catch a decoder handing
// back a view that reaches past the input.
std::string Copy(std::string_view v) { return std::string(v.data(), v.size()); }

void Records(std::string_view bytes) {
  if (auto v = records::DecodeCounter(bytes)) FUZZ_CHECK(records::EncodeCounter(*v) == bytes);
  if (auto r = records::DecodeTopic(bytes)) {
    FUZZ_CHECK(r->id != 0 && r->settings.index_granularity_ns > 0);
    FUZZ_CHECK(records::Encode(*r) == bytes);
  }
  if (auto r = records::DecodeLow(bytes)) FUZZ_CHECK(records::Encode(*r) == bytes);
  if (auto r = records::DecodeCursor(bytes)) FUZZ_CHECK(records::Encode(*r) == bytes);
  if (auto r = records::DecodeIdempotency(bytes)) {
    FUZZ_CHECK(r->count != 0);
    FUZZ_CHECK(records::Encode(*r) == bytes);
  }
  if (auto r = records::DecodeGroup(bytes)) {
    FUZZ_CHECK(r->ack_floor <= r->dispatched_to && !r->dead_letter_topic.empty());
    FUZZ_CHECK(records::Encode(*r) == bytes);
  }
  if (auto r = records::DecodeGroupEvent(bytes)) FUZZ_CHECK(records::Encode(*r) == bytes);
  std::vector<HeaderView> headers;
  if (auto e = records::DecodeEvent(bytes, &headers)) {
    // Re-encoding what was decoded gives the same bytes: the decoder accepts only what the
    // encoder writes, and every header it hands out lies inside the value.
    FUZZ_CHECK(records::DecodeEvent(bytes).has_value());  // with or without the headers wanted
    EventAttributes attributes{Copy(e->key), {}};
    for (const HeaderView& h : headers) attributes.headers.push_back({Copy(h.name), Copy(h.value)});
    FUZZ_CHECK(records::EventBytes(e->payload, &attributes) == e->event_bytes);
    FUZZ_CHECK(e->appended_bytes >= e->event_bytes);
    std::string encoded;
    records::AppendEventValue(&encoded, e->timestamp_ns, e->appended_bytes, Copy(e->payload), &attributes);
    FUZZ_CHECK(encoded == bytes);
  }
}

void Keys(std::string_view key) {
  // The topic id of a key that has one (a decoder succeeding guarantees the length).
  auto topic_id = [&] { return keys::ReadBigEndian64(key.substr(1, 8)); };
  if (auto offset = keys::EventOffset(key)) FUZZ_CHECK(keys::Event(topic_id(), *offset) == key);
  if (auto bucket = keys::IndexBucket(key)) FUZZ_CHECK(keys::Index(topic_id(), *bucket) == key);
  if (auto consumer = keys::CursorConsumer(key)) {
    FUZZ_CHECK(!consumer->empty());
    FUZZ_CHECK(keys::Cursor(topic_id(), Copy(*consumer)) == key);
  }
  if (auto group = keys::GroupName(key)) FUZZ_CHECK(keys::Group(topic_id(), Copy(*group)) == key);
  if (auto offset = keys::GroupEventOffset(key)) {
    const std::string name = Copy(key.substr(10, static_cast<unsigned char>(key[9])));
    FUZZ_CHECK(keys::GroupEvent(topic_id(), name, *offset) == key);
    FUZZ_CHECK(keys::GroupEventsStart(topic_id(), name) <= key && key < keys::GroupEventsEnd(topic_id(), name));
  }
  if (auto name = keys::TopicName(key)) {
    FUZZ_CHECK(!name->empty());
    FUZZ_CHECK(keys::Topic(Copy(*name)) == key);
  }
}

// Bytewise key order is numeric order: what keeps a topic's events together and in offset order,
// and what makes FamilyStart/FamilyEnd bound exactly one topic's keys of one family.
void KeyOrder(const std::uint8_t* data, std::size_t size) {
  if (size < 32) return;
  std::uint64_t n[4];
  for (int i = 0; i < 4; ++i) {
    n[i] = keys::ReadBigEndian64(std::string_view(reinterpret_cast<const char*>(data) + 8 * i, 8));
    std::string be;
    keys::PutBigEndian64(&be, n[i]);
    FUZZ_CHECK(keys::ReadBigEndian64(be) == n[i]);
  }
  const auto [id_a, off_a, id_b, off_b] = n;
  const std::string a = keys::Event(id_a, off_a), b = keys::Event(id_b, off_b);
  FUZZ_CHECK((a < b) == (id_a < id_b || (id_a == id_b && off_a < off_b)));
  if (id_a != UINT64_MAX) {  // ids count up from 1; FamilyEnd(UINT64_MAX) would wrap
    for (char family : {keys::kEvent, keys::kIndex, keys::kCursor, keys::kIdempotency}) {
      const std::string start = keys::FamilyStart(family, id_a), end = keys::FamilyEnd(family, id_a);
      std::string key;
      if (family == keys::kEvent) key = keys::Event(id_a, off_a);
      if (family == keys::kIndex) key = keys::Index(id_a, off_a);
      if (family == keys::kCursor) key = keys::Cursor(id_a, "c");
      if (family == keys::kIdempotency) key = keys::Idempotency(id_a, std::string(1, '\xff'));
      FUZZ_CHECK(start <= key && key < end);
      // A key of the next topic is outside the bounds.
      const std::string next = keys::FamilyStart(family, id_a + 1);
      FUZZ_CHECK(!(next < end));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A heap copy of exactly `size` bytes: any read past the end is an ASan report.
  char* copy = new char[size == 0 ? 1 : size];
  if (size > 0) std::memcpy(copy, data, size);
  const std::string_view bytes(copy, size);

  Records(bytes);
  Keys(bytes);
  KeyOrder(data, size);
  if (size > 0) {
    std::string variant(bytes);
    variant[0] = records::kFormat;
    Records(variant);
    for (char family : {keys::kMeta, keys::kTopic, keys::kLow, keys::kEvent, keys::kIndex,
                        keys::kCursor, keys::kIdempotency}) {
      variant[0] = family;
      Keys(variant);
    }
  }
  delete[] copy;
  return 0;
}
