#include "event_batch_wire.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include "goethe/v1/goethe.pb.h"

namespace goethe::server {
namespace {

using google::protobuf::io::CodedOutputStream;
using google::protobuf::internal::WireFormatLite;

// The response's own header (its `events` tag and the batch's length) goes in front of the batch,
// which is written first: this much room is kept for it.
constexpr std::size_t kHeaderRoom = 16;

constexpr std::uint32_t LengthTag(int field) {
  return static_cast<std::uint32_t>(field) << 3 | WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
}
constexpr std::uint32_t VarintTag(int field) {
  return static_cast<std::uint32_t>(field) << 3 | WireFormatLite::WIRETYPE_VARINT;
}

std::uint8_t* PutVarint(std::uint64_t value, std::uint8_t* at) { return CodedOutputStream::WriteVarint64ToArray(value, at); }

// Proto3 leaves out fields at their default (0, empty), as protobuf's own serializer does.
std::size_t VarintFieldSize(int field, std::uint64_t value) {
  return value == 0 ? 0 : CodedOutputStream::VarintSize32(VarintTag(field)) + CodedOutputStream::VarintSize64(value);
}
std::uint8_t* PutVarintField(int field, std::uint64_t value, std::uint8_t* at) {
  if (value == 0) return at;
  return PutVarint(value, PutVarint(VarintTag(field), at));
}
std::size_t BytesFieldSize(int field, std::size_t length) {
  return length == 0 ? 0 : CodedOutputStream::VarintSize32(LengthTag(field)) + CodedOutputStream::VarintSize64(length) + length;
}
std::uint8_t* PutBytesField(int field, std::string_view bytes, std::uint8_t* at) {
  if (bytes.empty()) return at;
  at = PutVarint(bytes.size(), PutVarint(LengthTag(field), at));
  std::memcpy(at, bytes.data(), bytes.size());
  return at + bytes.size();
}
// A submessage: its tag and length, whatever its size (an empty header is still there).
std::size_t MessageFieldSize(int field, std::size_t length) {
  return CodedOutputStream::VarintSize32(LengthTag(field)) + CodedOutputStream::VarintSize64(length) + length;
}

std::size_t HeaderSize(const HeaderView& header) {
  return BytesFieldSize(v1::Header::kNameFieldNumber, header.name.size()) +
         BytesFieldSize(v1::Header::kValueFieldNumber, header.value.size());
}

std::size_t EventSize(const EventView& event) {
  std::size_t size = VarintFieldSize(v1::Event::kOffsetFieldNumber, event.offset) +
                     VarintFieldSize(v1::Event::kTimestampUnixNanosFieldNumber,
                                     static_cast<std::uint64_t>(event.timestamp_ns)) +
                     BytesFieldSize(v1::Event::kPayloadFieldNumber, event.payload.size()) +
                     BytesFieldSize(v1::Event::kKeyFieldNumber, event.key.size());
  for (const HeaderView& header : *event.headers)
    size += MessageFieldSize(v1::Event::kHeadersFieldNumber, HeaderSize(header));
  return size;
}

void FreeBytes(void* bytes) { std::free(bytes); }

}  // namespace

EventBatchWire::~EventBatchWire() { std::free(bytes_); }

std::uint8_t* EventBatchWire::Extend(std::size_t more) {
  if (size_ + more > capacity_) {
    const std::size_t capacity = std::max({size_ + more, 2 * capacity_, capacity_hint_});
    auto* grown = static_cast<std::uint8_t*>(std::realloc(bytes_, capacity));
    if (grown == nullptr) throw std::bad_alloc();
    bytes_ = grown;
    capacity_ = capacity;
  }
  std::uint8_t* at = bytes_ + size_;
  size_ += more;
  return at;
}

void EventBatchWire::Start() {
  // Nothing is allocated until an event comes: a stream that has caught up starts a batch on
  // every wake-up and most find nothing, so an idle stream holds no buffer.
  size_ = 0;
  events_ = 0;
  payload_bytes_ = 0;
}

void EventBatchWire::ReserveHeaderRoom() {
  if (size_ == 0) Extend(kHeaderRoom);
}

void EventBatchWire::Add(const EventView& event) {
  ReserveHeaderRoom();
  const std::size_t event_size = EventSize(event);
  std::uint8_t* const start = Extend(MessageFieldSize(v1::EventBatch::kEventsFieldNumber, event_size));
  std::uint8_t* at = PutVarint(event_size, PutVarint(LengthTag(v1::EventBatch::kEventsFieldNumber), start));
  at = PutVarintField(v1::Event::kOffsetFieldNumber, event.offset, at);
  at = PutVarintField(v1::Event::kTimestampUnixNanosFieldNumber, static_cast<std::uint64_t>(event.timestamp_ns), at);
  at = PutBytesField(v1::Event::kPayloadFieldNumber, event.payload, at);
  at = PutBytesField(v1::Event::kKeyFieldNumber, event.key, at);
  for (const HeaderView& header : *event.headers) {
    at = PutVarint(HeaderSize(header), PutVarint(LengthTag(v1::Event::kHeadersFieldNumber), at));
    at = PutBytesField(v1::Header::kNameFieldNumber, header.name, at);
    at = PutBytesField(v1::Header::kValueFieldNumber, header.value, at);
  }
  if (events_ == 0) first_offset_ = event.offset;
  last_offset_ = event.offset;
  ++events_;
  payload_bytes_ += event.payload.size();
}

grpc::ByteBuffer EventBatchWire::Finish(std::uint64_t head, std::uint64_t next_offset) {
  ReserveHeaderRoom();
  const std::size_t tail = VarintFieldSize(v1::EventBatch::kHeadFieldNumber, head) +
                           VarintFieldSize(v1::EventBatch::kNextOffsetFieldNumber, next_offset);
  std::uint8_t* at = Extend(tail);
  PutVarintField(v1::EventBatch::kNextOffsetFieldNumber, next_offset,
                 PutVarintField(v1::EventBatch::kHeadFieldNumber, head, at));
  const std::size_t batch_size = size_ - kHeaderRoom;
  std::uint8_t header[kHeaderRoom];
  const std::size_t header_size = static_cast<std::size_t>(
      PutVarint(batch_size, PutVarint(LengthTag(v1::ConsumeResponse::kEventsFieldNumber), header)) - header);
  const std::size_t start = kHeaderRoom - header_size;
  std::memcpy(bytes_ + start, header, header_size);
  capacity_hint_ = size_;

  // The slice owns the bytes from here: gRPC frees them once they are sent.
  grpc::Slice slice(bytes_ + start, size_ - start, FreeBytes, bytes_);
  bytes_ = nullptr;
  size_ = capacity_ = 0;
  events_ = 0;
  return grpc::ByteBuffer(&slice, 1);
}

}  // namespace goethe::server
