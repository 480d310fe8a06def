// EventBatchWire writes a Consume response's events by hand: its bytes must be exactly those
// protobuf writes for the same ConsumeResponse, for every shape an event can take.
#include <gtest/gtest.h>
#include <grpcpp/support/byte_buffer.h>

#include <limits>
#include <string>
#include <vector>

#include "event_batch_wire.h"
#include "goethe/v1/goethe.pb.h"
#include "proto_convert.h"

namespace goethe::server {
namespace {

struct StoredEvent {
  std::uint64_t offset;
  TimestampNs timestamp_ns;
  std::string key;
  std::vector<Header> headers;
  std::string payload;
};

std::string Flatten(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buffer.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& slice : slices) bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  return bytes;
}

// The batch through EventBatchWire, and the same ConsumeResponse built and serialized by protobuf.
void ExpectSameBytes(const std::vector<StoredEvent>& events, std::uint64_t head, std::uint64_t next_offset) {
  EventBatchWire wire;
  wire.Start();
  v1::ConsumeResponse expected;
  v1::EventBatch* batch = expected.mutable_events();
  std::uint64_t payload_bytes = 0;
  for (const StoredEvent& stored : events) {
    std::vector<HeaderView> headers;
    for (const Header& h : stored.headers) headers.push_back({h.name, h.value});
    const EventView view{stored.offset, stored.timestamp_ns, stored.key, &headers, stored.payload};
    wire.Add(view);
    ToProto(view, batch->add_events());
    payload_bytes += stored.payload.size();
  }
  batch->set_head(head);
  batch->set_next_offset(next_offset);
  EXPECT_EQ(wire.events(), events.size());
  EXPECT_EQ(wire.payload_bytes(), payload_bytes);
  if (!events.empty()) {
    EXPECT_EQ(wire.first_offset(), events.front().offset);
    EXPECT_EQ(wire.last_offset(), events.back().offset);
  }
  const std::string written = Flatten(wire.Finish(head, next_offset));
  EXPECT_EQ(written, expected.SerializeAsString());
  v1::ConsumeResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(written));
  EXPECT_EQ(parsed.DebugString(), expected.DebugString());
}

TEST(EventBatchWireTest, PlainEventsAreWrittenAsProtobufWritesThem) {
  ExpectSameBytes({{7, 1'700'000'000'000'000'000, "", {}, std::string(100, 'x')},
                   {8, 1'700'000'000'000'000'001, "", {}, "y"}},
                  9, 9);
}

TEST(EventBatchWireTest, KeysHeadersAndEmptyFieldsAreWrittenAsProtobufWritesThem) {
  ExpectSameBytes({{0, 0, "", {}, ""},                                // every field at its default
                   {1, -5, "order-17", {}, "negative time"},         // int64 below zero: ten bytes
                   {2, 3, "", {{"type", "created"}, {"empty", ""}}, "with headers"},
                   {3, 4, std::string(255, 'k'), {{"h", std::string(300, 'v')}}, std::string(200, '\0')},
                   {std::numeric_limits<std::uint64_t>::max(), std::numeric_limits<std::int64_t>::max(), "k", {}, "z"}},
                  0, std::numeric_limits<std::uint64_t>::max());
}

TEST(EventBatchWireTest, ABatchWithNoEventsStillSaysHowFarTheStreamRead) {
  ExpectSameBytes({}, 42, 40);
  ExpectSameBytes({}, 0, 0);  // present though empty: the client sees an `events` message
}

TEST(EventBatchWireTest, LargeBatchesNeedLongerLengthsAndTheWriterIsReusable) {
  EventBatchWire reused;
  for (int round = 0; round < 3; ++round) {
    std::vector<StoredEvent> events;
    for (std::uint64_t i = 0; i < 1000; ++i) events.push_back({i + 1000 * round, 5, "", {}, std::string(1000, 'p')});
    ExpectSameBytes(events, 5000, 4000);  // a batch of about 1 MB: a three-byte length in front
    reused.Start();
    for (const StoredEvent& e : events) {
      std::vector<HeaderView> none;
      reused.Add({e.offset, e.timestamp_ns, e.key, &none, e.payload});
    }
    v1::ConsumeResponse parsed;
    ASSERT_TRUE(parsed.ParseFromString(Flatten(reused.Finish(1, 2))));
    ASSERT_EQ(parsed.events().events_size(), 1000);
    EXPECT_EQ(parsed.events().events(999).offset(), 999 + 1000 * round);
  }
}

TEST(EventBatchWireTest, ABatchHoldsNoMemoryUntilItsFirstEventAndHandsItsBytesOver) {
  // A caught-up stream starts a batch on every wake-up; most find nothing and then it sits idle:
  // it must not keep a buffer the size of its last (possibly 1 MB) batch meanwhile.
  EventBatchWire wire;
  std::vector<HeaderView> none;
  const std::string payload(1000, 'p');
  wire.Start();
  for (std::uint64_t i = 0; i < 1000; ++i) wire.Add({i, 5, "", &none, payload});
  EXPECT_GE(wire.capacity(), 1000u * 1000u);
  const grpc::ByteBuffer sent = wire.Finish(1000, 1000);
  EXPECT_EQ(wire.capacity(), 0u);  // the bytes went with the ByteBuffer

  wire.Start();
  EXPECT_EQ(wire.capacity(), 0u);
  EXPECT_TRUE(wire.empty());
  wire.Start();  // the read found nothing; the next wake-up starts again
  EXPECT_EQ(wire.capacity(), 0u);

  wire.Add({1000, 6, "", &none, "next"});
  EXPECT_GE(wire.capacity(), 1000u * 1000u);  // sized like the last batch: the next is usually alike
  v1::ConsumeResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(Flatten(wire.Finish(1001, 1001))));
  ASSERT_EQ(parsed.events().events_size(), 1);
  EXPECT_EQ(parsed.events().events(0).payload(), "next");
  // The first batch's bytes are the ByteBuffer's, untouched by the batches after it.
  ASSERT_TRUE(parsed.ParseFromString(Flatten(sent)));
  ASSERT_EQ(parsed.events().events_size(), 1000);
  EXPECT_EQ(parsed.events().events(999).payload(), payload);
}

}  // namespace
}  // namespace goethe::server
