// EventBatchWire: a Consume stream's `events` message written straight in protobuf's wire format
// from the store's buffers, for gRPC to send as it is. Each payload is copied once, into the
// message's bytes; there is no v1::Event in between to fill, size and serialize (which cost the
// catch-up path about a sixth of the server's CPU). The bytes are those protobuf itself writes for
// the same ConsumeResponse (event_batch_wire_test checks it), so every client parses them as before.
#pragma once

#include <cstdint>

#include <grpcpp/support/byte_buffer.h>

#include "goethe/engine/types.h"

namespace goethe::server {

class EventBatchWire {
 public:
  // Begins a new batch (the last one's bytes belong to its ByteBuffer).
  void Start();
  // Appends `event` as the batch's next Event (delivery_count unset: not a group's delivery).
  void Add(const EventView& event);

  bool empty() const { return events_ == 0; }
  std::uint64_t events() const { return events_; }
  std::uint64_t first_offset() const { return first_offset_; }
  std::uint64_t last_offset() const { return last_offset_; }
  std::uint64_t payload_bytes() const { return payload_bytes_; }
  // Bytes held for the batch under way: none between a Finish and the next batch's first event.
  std::size_t capacity() const { return capacity_; }

  // The ConsumeResponse {events: {the events added, head, next_offset}}, ready to send. The batch
  // is empty afterwards; call Start before the next.
  grpc::ByteBuffer Finish(std::uint64_t head, std::uint64_t next_offset);

  EventBatchWire() = default;
  ~EventBatchWire();
  EventBatchWire(const EventBatchWire&) = delete;
  EventBatchWire& operator=(const EventBatchWire&) = delete;

 private:
  // Makes room for `more` bytes at the end; returns where they go.
  std::uint8_t* Extend(std::size_t more);
  // The first bytes of a batch: room for the response's header in front of the events.
  void ReserveHeaderRoom();

  // room for the response's header, then the EventBatch's fields; malloc'ed, as the slice that
  // takes them over frees them
  std::uint8_t* bytes_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
  std::size_t capacity_hint_ = 0;  // the last batch's size: the next is usually alike
  std::uint64_t events_ = 0;
  std::uint64_t first_offset_ = 0;
  std::uint64_t last_offset_ = 0;
  std::uint64_t payload_bytes_ = 0;
};

}  // namespace goethe::server
