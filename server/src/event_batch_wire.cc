#include "event_batch_wire.h"

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

std::uint32_t LengthTag(int field) {
  return WireFormatLite::MakeTag(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
}
std::uint32_t VarintTag(int field) { return WireFormatLite::MakeTag(field, WireFormatLite::WIRETYPE_VARINT); }

void AppendVarint(std::string& out, std::uint64_t value) {
  std::uint8_t buffer[10];
  const std::uint8_t* end = CodedOutputStream::WriteVarint64ToArray(value, buffer);
  out.append(reinterpret_cast<const char*>(buffer), static_cast<std::size_t>(end - buffer));
}

// Proto3 leaves out fields at their default (0, empty), as protobuf's own serializer does.
std::size_t VarintFieldSize(int field, std::uint64_t value) {
  return value == 0 ? 0 : CodedOutputStream::VarintSize32(VarintTag(field)) + CodedOutputStream::VarintSize64(value);
}
void AppendVarintField(std::string& out, int field, std::uint64_t value) {
  if (value == 0) return;
  AppendVarint(out, VarintTag(field));
  AppendVarint(out, value);
}
std::size_t BytesFieldSize(int field, std::size_t length) {
  return CodedOutputStream::VarintSize32(LengthTag(field)) + CodedOutputStream::VarintSize64(length) + length;
}
void AppendBytesField(std::string& out, int field, std::string_view bytes) {
  if (bytes.empty()) return;
  AppendVarint(out, LengthTag(field));
  AppendVarint(out, bytes.size());
  out.append(bytes);
}

std::size_t HeaderSize(const HeaderView& header) {
  return (header.name.empty() ? 0 : BytesFieldSize(v1::Header::kNameFieldNumber, header.name.size())) +
         (header.value.empty() ? 0 : BytesFieldSize(v1::Header::kValueFieldNumber, header.value.size()));
}

std::size_t EventSize(const EventView& event) {
  std::size_t size = VarintFieldSize(v1::Event::kOffsetFieldNumber, event.offset) +
                     VarintFieldSize(v1::Event::kTimestampUnixNanosFieldNumber,
                                     static_cast<std::uint64_t>(event.timestamp_ns));
  if (!event.payload.empty()) size += BytesFieldSize(v1::Event::kPayloadFieldNumber, event.payload.size());
  if (!event.key.empty()) size += BytesFieldSize(v1::Event::kKeyFieldNumber, event.key.size());
  for (const HeaderView& header : *event.headers)
    size += BytesFieldSize(v1::Event::kHeadersFieldNumber, HeaderSize(header));
  return size;
}

}  // namespace

void EventBatchWire::Start() {
  bytes_.clear();
  bytes_.reserve(capacity_hint_);
  bytes_.append(kHeaderRoom, '\0');
  events_ = 0;
  payload_bytes_ = 0;
}

void EventBatchWire::Add(const EventView& event) {
  AppendVarint(bytes_, LengthTag(v1::EventBatch::kEventsFieldNumber));
  AppendVarint(bytes_, EventSize(event));
  AppendVarintField(bytes_, v1::Event::kOffsetFieldNumber, event.offset);
  AppendVarintField(bytes_, v1::Event::kTimestampUnixNanosFieldNumber, static_cast<std::uint64_t>(event.timestamp_ns));
  AppendBytesField(bytes_, v1::Event::kPayloadFieldNumber, event.payload);
  AppendBytesField(bytes_, v1::Event::kKeyFieldNumber, event.key);
  for (const HeaderView& header : *event.headers) {
    AppendVarint(bytes_, LengthTag(v1::Event::kHeadersFieldNumber));
    AppendVarint(bytes_, HeaderSize(header));
    AppendBytesField(bytes_, v1::Header::kNameFieldNumber, header.name);
    AppendBytesField(bytes_, v1::Header::kValueFieldNumber, header.value);
  }
  if (events_ == 0) first_offset_ = event.offset;
  last_offset_ = event.offset;
  ++events_;
  payload_bytes_ += event.payload.size();
}

grpc::ByteBuffer EventBatchWire::Finish(std::uint64_t head, std::uint64_t next_offset) {
  AppendVarintField(bytes_, v1::EventBatch::kHeadFieldNumber, head);
  AppendVarintField(bytes_, v1::EventBatch::kNextOffsetFieldNumber, next_offset);
  const std::size_t batch_size = bytes_.size() - kHeaderRoom;
  std::string header;
  AppendVarint(header, LengthTag(v1::ConsumeResponse::kEventsFieldNumber));
  AppendVarint(header, batch_size);
  const std::size_t start = kHeaderRoom - header.size();
  bytes_.replace(start, header.size(), header);
  capacity_hint_ = bytes_.size();

  // The slice owns the bytes from here: gRPC frees them once they are sent.
  auto* owned = new std::string(std::move(bytes_));
  grpc::Slice slice(owned->data() + start, owned->size() - start,
                    [](void* bytes) { delete static_cast<std::string*>(bytes); }, owned);
  bytes_ = std::string();
  events_ = 0;
  return grpc::ByteBuffer(&slice, 1);
}

}  // namespace goethe::server
