// Event keys and headers, filtered reads and consumes, and atomic appends across topics
// (ProduceMulti), through the real server on every backend: what is stored comes back byte for
// byte, what is refused writes nothing, a filter delivers only what it matches while cursors and
// progress move over what it skips, and an append across topics is all or nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "support/server_client.h"

namespace goethe::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

v1::Header MakeHeader(const std::string& name, const std::string& value) {
  v1::Header header;
  header.set_name(name);
  header.set_value(value);
  return header;
}

v1::EventData MakeEvent(const std::string& payload, const std::string& key = "",
                        const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  v1::EventData event;
  event.set_payload(payload);
  event.set_key(key);
  for (const auto& [name, value] : headers) *event.add_headers() = MakeHeader(name, value);
  return event;
}

v1::ProduceRequest MakeProduce(const std::string& topic, const std::vector<v1::EventData>& events) {
  v1::ProduceRequest request;
  request.set_topic(topic);
  for (const v1::EventData& event : events) *request.add_events() = event;
  return request;
}

// An event as stored: `data` at `offset`.
struct Stored {
  std::uint64_t offset;
  v1::EventData data;
};

// Offset, key, payload and every header (order, name, value) equal, byte for byte.
void ExpectSameEvents(const std::vector<v1::Event>& got, const std::vector<Stored>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    const v1::Event& event = got[i];
    const v1::EventData& data = want[i].data;
    EXPECT_EQ(event.offset(), want[i].offset) << event.ShortDebugString();
    EXPECT_EQ(event.key(), data.key()) << event.ShortDebugString();
    EXPECT_EQ(event.payload(), data.payload()) << event.ShortDebugString();
    ASSERT_EQ(event.headers_size(), data.headers_size()) << event.ShortDebugString();
    for (int h = 0; h < event.headers_size(); ++h) {
      EXPECT_EQ(event.headers(h).name(), data.headers(h).name()) << event.ShortDebugString() << " header " << h;
      EXPECT_EQ(event.headers(h).value(), data.headers(h).value()) << event.ShortDebugString() << " header " << h;
    }
  }
}

std::vector<std::uint64_t> OffsetsOf(const std::vector<v1::Event>& events) {
  std::vector<std::uint64_t> offsets;
  for (const v1::Event& event : events) offsets.push_back(event.offset());
  return offsets;
}


bool IsProgressAt(const v1::EventBatch& batch, std::uint64_t offset) {
  return batch.events_size() == 0 && batch.next_offset() == offset && batch.head() == offset;
}

class ServerKeysHeadersTest : public ServerTest {
 protected:
  void SetUp() override {
    StartServer("max_events_per_produce: 100\nmax_consume_window: 100\n", "max_event_bytes: 1KiB\n");
  }

  grpc::Status ProduceEvents(const std::string& topic, const std::vector<v1::EventData>& events,
                             v1::ProduceResponse* response = nullptr) {
    return Produce(MakeProduce(topic, events), response);
  }

  grpc::Status ProduceMulti(const v1::ProduceMultiRequest& request, v1::ProduceMultiResponse* response = nullptr,
                            grpc::ClientContext* call = nullptr) {
    v1::ProduceMultiResponse ignored;
    std::unique_ptr<grpc::ClientContext> own = CallWithin();
    return stub().ProduceMulti(call != nullptr ? call : own.get(), request, response != nullptr ? response : &ignored);
  }

  // The topic's next offset; nullopt (and the status in `status`) when DescribeTopic fails.
  std::optional<std::uint64_t> NextOffsetOf(const std::string& topic, grpc::Status* status = nullptr) {
    v1::DescribeTopicRequest request;
    request.set_topic(topic);
    v1::DescribeTopicResponse response;
    const grpc::Status described = stub().DescribeTopic(CallWithin().get(), request, &response);
    if (status != nullptr) *status = described;
    if (!described.ok()) return std::nullopt;
    return response.topic().next_offset();
  }

  grpc::Status ReadPage(const std::string& topic, std::uint64_t from, const v1::EventFilter& filter,
                        v1::ReadResponse* response, std::uint32_t max_events = 0) {
    v1::ReadRequest request;
    request.set_topic(topic);
    request.set_from_offset(from);
    request.set_max_events(max_events);
    *request.mutable_filter() = filter;
    return stub().Read(CallWithin().get(), request, response);
  }

  // Every matching event from offset 0, page by page, checking that pages join up.
  std::vector<v1::Event> ReadFiltered(const std::string& topic, const v1::EventFilter& filter,
                                      std::uint32_t max_events = 0) {
    std::vector<v1::Event> events;
    std::uint64_t from = 0;
    for (int page = 0; page < 1000; ++page) {
      v1::ReadResponse response;
      const grpc::Status status = ReadPage(topic, from, filter, &response, max_events);
      EXPECT_TRUE(status.ok()) << Describe(status);
      if (!status.ok()) break;
      EXPECT_GE(response.next_offset(), from);
      for (const v1::Event& event : response.events()) events.push_back(event);
      from = response.next_offset();
      if (from >= response.head()) break;
    }
    return events;
  }

  // 12 events, offset i: key "k<i%3>", headers type=A (even) or type=B (odd), v=<i%4>, and for
  // i%6 == 0 a second "type" header, type=C.
  void ProduceCatalog(const std::string& topic) {
    std::vector<v1::EventData> events;
    for (int i = 0; i < 12; ++i) {
      std::vector<std::pair<std::string, std::string>> headers = {{"type", i % 2 == 0 ? "A" : "B"},
                                                                  {"v", std::to_string(i % 4)}};
      if (i % 6 == 0) headers.emplace_back("type", "C");
      events.push_back(MakeEvent("e" + std::to_string(i), "k" + std::to_string(i % 3), headers));
    }
    const grpc::Status status = ProduceEvents(topic, events);
    ASSERT_TRUE(status.ok()) << Describe(status);
  }

  // `count` events; those at `matching` offsets have key "hit", the others key "miss".
  void ProduceSparse(const std::string& topic, int count, const std::vector<int>& matching) {
    std::vector<v1::EventData> events;
    for (int i = 0; i < count; ++i) {
      const bool hit = std::find(matching.begin(), matching.end(), i) != matching.end();
      events.push_back(MakeEvent("e" + std::to_string(i), hit ? "hit" : "miss"));
    }
    const grpc::Status status = ProduceEvents(topic, events);
    ASSERT_TRUE(status.ok()) << Describe(status);
  }

  std::vector<v1::Event> ConsumeAll(const std::string& topic, std::size_t count) {
    ConsumeSession session(stub(), SubscribeTo(topic));
    std::vector<v1::Event> events = session.Take(count, 10s);
    EXPECT_FALSE(session.Next(200ms).has_value()) << "more events than were produced";
    session.Close();
    return events;
  }
};

v1::EventFilter KeyFilter(const std::string& key) {
  v1::EventFilter filter;
  filter.set_key(key);
  return filter;
}

v1::EventFilter HeaderFilter(const std::vector<std::pair<std::string, std::string>>& headers) {
  v1::EventFilter filter;
  for (const auto& [name, value] : headers) *filter.add_headers() = MakeHeader(name, value);
  return filter;
}

v1::Subscribe FilteredSubscribe(const std::string& topic, const v1::EventFilter& filter,
                                const std::string& consumer = "", std::uint32_t window = 0) {
  v1::Subscribe subscribe = SubscribeTo(topic, consumer, window);
  *subscribe.mutable_filter() = filter;
  return subscribe;
}

// Events with a key, headers (a repeated name, binary values, an empty value) and empty or binary
// payloads, as a producer may send them.
std::vector<v1::EventData> VariedEvents() {
  const std::string binary("\x00\xff\x01\x80", 4);
  return {
      MakeEvent("first", "order-1", {{"type", "OrderPlaced"}, {"trace", binary}, {"type", "Audited"}}),
      MakeEvent("", "order-2", {{"empty-value", ""}}),
      MakeEvent(binary + "payload", std::string("k\x00\x01", 3), {}),
      MakeEvent("no key", "", {{"only", "headers"}}),
      MakeEvent("", "", {}),
  };
}

TEST_P(ServerKeysHeadersTest, UnaryProducedKeysAndHeadersComeBackByteIdenticalThroughReadAndConsume) {
  const std::vector<v1::EventData> sent = VariedEvents();
  v1::ProduceResponse response;
  const grpc::Status status = ProduceEvents("t", sent, &response);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(response.first_offset(), 0u);
  EXPECT_EQ(response.event_count(), sent.size());
  EXPECT_EQ(response.next_offset(), sent.size());

  std::vector<Stored> want;
  for (std::size_t i = 0; i < sent.size(); ++i) want.push_back({i, sent[i]});
  ExpectSameEvents(ReadAll("t"), want);
  ExpectSameEvents(ConsumeAll("t", sent.size()), want);
}

TEST_P(ServerKeysHeadersTest, StreamProducedKeysAndHeadersComeBackByteIdenticalThroughReadAndConsume) {
  const std::vector<v1::EventData> varied = VariedEvents();
  grpc::ClientContext call;
  call.set_deadline(std::chrono::system_clock::now() + 30s);
  auto stream = stub().ProduceStream(&call);
  // Three batches: the varied events split 2 + 2 + 1.
  const std::vector<std::vector<v1::EventData>> batches = {
      {varied[0], varied[1]}, {varied[2], varied[3]}, {varied[4]}};
  for (std::size_t b = 0; b < batches.size(); ++b) {
    v1::ProduceStreamRequest request;
    request.set_batch_id(b);
    *request.mutable_batch() = MakeProduce("t", batches[b]);
    ASSERT_TRUE(stream->Write(request));
  }
  stream->WritesDone();
  std::uint64_t next = 0;
  v1::ProduceStreamResponse response;
  for (std::size_t b = 0; b < batches.size(); ++b) {
    ASSERT_TRUE(stream->Read(&response)) << "acknowledgement " << b << " missing";
    EXPECT_EQ(response.batch_id(), b);
    ASSERT_TRUE(response.has_result()) << response.error().message();
    EXPECT_EQ(response.result().first_offset(), next);
    next += batches[b].size();
  }
  EXPECT_FALSE(stream->Read(&response));
  EXPECT_TRUE(stream->Finish().ok());

  std::vector<Stored> want;
  for (std::size_t i = 0; i < varied.size(); ++i) want.push_back({i, varied[i]});
  ExpectSameEvents(ReadAll("t"), want);
  ExpectSameEvents(ConsumeAll("t", varied.size()), want);
}

TEST_P(ServerKeysHeadersTest, PlainPayloadsComeBackWithoutKeyOrHeadersAndMixWithKeyedEventsInOneTopic) {
  ASSERT_TRUE(Produce("t", {"plain-0", "plain-1"}).ok());
  ASSERT_TRUE(ProduceEvents("t", {MakeEvent("keyed-2", "k", {{"type", "A"}})}).ok());
  ASSERT_TRUE(Produce("t", {"plain-3"}).ok());
  // `events` with a bare payload is a plain event too.
  ASSERT_TRUE(ProduceEvents("t", {MakeEvent("bare-4")}).ok());

  const std::vector<Stored> want = {{0, MakeEvent("plain-0")},
                                    {1, MakeEvent("plain-1")},
                                    {2, MakeEvent("keyed-2", "k", {{"type", "A"}})},
                                    {3, MakeEvent("plain-3")},
                                    {4, MakeEvent("bare-4")}};
  ExpectSameEvents(ReadAll("t"), want);
  ExpectSameEvents(ConsumeAll("t", want.size()), want);
}

TEST_P(ServerKeysHeadersTest, KeysAndHeadersSurviveARestartAndCountInTheTopicsBytes) {
  const std::vector<v1::EventData> sent = VariedEvents();
  ASSERT_TRUE(ProduceEvents("t", sent).ok());
  ASSERT_TRUE(Produce("t", {"plain"}).ok());
  std::uint64_t bytes = std::string("plain").size();
  for (const v1::EventData& event : sent) {
    bytes += event.payload().size() + event.key().size();
    for (const v1::Header& h : event.headers()) bytes += h.name().size() + h.value().size();
  }
  auto described_bytes = [this] {
    v1::DescribeTopicRequest request;
    request.set_topic("t");
    v1::DescribeTopicResponse response;
    const grpc::Status status = stub().DescribeTopic(CallWithin().get(), request, &response);
    EXPECT_TRUE(status.ok()) << Describe(status);
    return response.topic().bytes();
  };
  EXPECT_EQ(described_bytes(), bytes) << "payload, key, header names and values";

  Restart();
  std::vector<Stored> want;
  for (std::size_t i = 0; i < sent.size(); ++i) want.push_back({i, sent[i]});
  want.push_back({sent.size(), MakeEvent("plain")});
  ExpectSameEvents(ReadAll("t"), want);
  EXPECT_EQ(described_bytes(), bytes);
  // Appends go on after the restart, with and without attributes.
  v1::ProduceResponse response;
  ASSERT_TRUE(ProduceEvents("t", {MakeEvent("after", "k", {{"h", "v"}})}, &response).ok());
  EXPECT_EQ(response.first_offset(), sent.size() + 1);
}

TEST_P(ServerKeysHeadersTest, UnfilteredBatchesReportNextOffsetAfterTheirLastEvent) {
  ASSERT_TRUE(Produce("t", {"a", "b", "c", "d", "e"}).ok());
  v1::Subscribe subscribe = SubscribeTo("t");
  subscribe.set_max_batch_events(2);
  ConsumeSession session(stub(), subscribe);
  ASSERT_EQ(session.Take(5, 10s).size(), 5u);
  for (const v1::EventBatch& batch : session.Batches()) {
    ASSERT_GT(batch.events_size(), 0) << "an unfiltered stream sent an empty batch";
    EXPECT_EQ(batch.next_offset(), batch.events(batch.events_size() - 1).offset() + 1);
  }
  EXPECT_TRUE(session.Close().ok());
}

TEST_P(ServerKeysHeadersTest, PayloadsAndEventsInOneProduceIsInvalidArgumentAndWritesNothing) {
  ASSERT_TRUE(Produce("t", {"before"}).ok());
  v1::ProduceRequest request = MakeProduce("t", {MakeEvent("e", "k")});
  request.add_payloads("p");
  const grpc::Status status = Produce(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("payloads"));
  EXPECT_EQ(NextOffsetOf("t"), 1u);
}

TEST_P(ServerKeysHeadersTest, KeyOver255BytesIsInvalidArgumentAndWritesNothing) {
  grpc::Status status = ProduceEvents("t", {MakeEvent("p", std::string(256, 'k'))});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("255"));
  grpc::Status described;
  EXPECT_FALSE(NextOffsetOf("t", &described).has_value()) << "a refused produce created the topic";
  EXPECT_EQ(described.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(described);

  status = ProduceEvents("t", {MakeEvent("p", std::string(255, 'k'))});
  ASSERT_TRUE(status.ok()) << Describe(status);
  // Refused after the topic exists: its next offset stays.
  status = ProduceEvents("t", {MakeEvent("ok", "k"), MakeEvent("p", std::string(256, 'k'))});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  EXPECT_EQ(NextOffsetOf("t"), 1u);
}

TEST_P(ServerKeysHeadersTest, EmptyHeaderNameOrOneWithASpaceIsInvalidArgumentAndWritesNothing) {
  ASSERT_TRUE(Produce("t", {"before"}).ok());
  for (const std::string& name : {std::string(), std::string("has space"), std::string("tab\there"),
                                  std::string(256, 'n')}) {
    const grpc::Status status = ProduceEvents("t", {MakeEvent("ok", "", {{"fine", "x"}}),
                                                    MakeEvent("p", "", {{"type", "A"}, {name, "v"}})});
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "'" << name << "': " << Describe(status);
    EXPECT_THAT(status.error_message(), HasSubstr("header")) << name;
  }
  EXPECT_EQ(NextOffsetOf("t"), 1u);
  // Every printable character but the space is allowed in a name.
  const grpc::Status status = ProduceEvents("t", {MakeEvent("p", "", {{"x-Trace_id.1:!~", "v"}})});
  EXPECT_TRUE(status.ok()) << Describe(status);
}

TEST_P(ServerKeysHeadersTest, MoreHeadersThanEngineMaxHeadersIsInvalidArgument) {
  std::vector<std::pair<std::string, std::string>> headers(65, {"h", "v"});
  grpc::Status status = ProduceEvents("t", {MakeEvent("p", "", headers)});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("64"));
  headers.pop_back();
  status = ProduceEvents("t", {MakeEvent("p", "", headers)});
  ASSERT_TRUE(status.ok()) << Describe(status);
  ASSERT_EQ(ReadAll("t").size(), 1u);
  EXPECT_EQ(ReadAll("t")[0].headers_size(), 64);
}

TEST_P(ServerKeysHeadersTest, PayloadKeyAndHeadersTogetherOverMaxEventBytesIsInvalidArgument) {
  const std::string payload(1000, 'p');
  // The payload alone fits the 1 KiB limit, as a plain payload and as an event.
  ASSERT_TRUE(Produce("t", {payload}).ok());
  ASSERT_TRUE(ProduceEvents("t", {MakeEvent(payload)}).ok());
  // 1000 + 20 (key) + 5 + 10 (one header) = 1035 bytes.
  const grpc::Status status =
      ProduceEvents("t", {MakeEvent("small"), MakeEvent(payload, std::string(20, 'k'), {{"trace", std::string(10, 'v')}})});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("engine.max_event_bytes"));
  EXPECT_THAT(status.error_message(), HasSubstr("1035"));
  EXPECT_THAT(status.error_message(), HasSubstr("1024"));
  EXPECT_EQ(NextOffsetOf("t"), 2u);
  // Exactly at the limit is fine: 1000 + 24.
  EXPECT_TRUE(ProduceEvents("t", {MakeEvent(payload, std::string(24, 'k'))}).ok());
  EXPECT_EQ(NextOffsetOf("t"), 3u);
}

// ---------------------------------------------------------------------------------------------
// Filters on Read

TEST_P(ServerKeysHeadersTest, ReadWithAKeyFilterReturnsOnlyThatKeyAndContinuesPastSkippedEvents) {
  ProduceCatalog("t");
  v1::ReadResponse page;
  ASSERT_TRUE(ReadPage("t", 0, KeyFilter("k1"), &page).ok());
  EXPECT_EQ(OffsetsOf({page.events().begin(), page.events().end()}), (std::vector<std::uint64_t>{1, 4, 7, 10}));
  EXPECT_EQ(page.next_offset(), 12u) << "the scan went on to the head past skipped events";
  EXPECT_EQ(page.head(), 12u);
  for (const v1::Event& event : page.events()) {
    EXPECT_EQ(event.key(), "k1");
    EXPECT_EQ(event.payload(), "e" + std::to_string(event.offset()));
  }

  // Pages of two: each ends at its last match; the last one holds nothing and reaches the head.
  ASSERT_TRUE(ReadPage("t", 0, KeyFilter("k1"), &page, 2).ok());
  EXPECT_EQ(OffsetsOf({page.events().begin(), page.events().end()}), (std::vector<std::uint64_t>{1, 4}));
  EXPECT_EQ(page.next_offset(), 5u);
  ASSERT_TRUE(ReadPage("t", 5, KeyFilter("k1"), &page, 2).ok());
  EXPECT_EQ(OffsetsOf({page.events().begin(), page.events().end()}), (std::vector<std::uint64_t>{7, 10}));
  EXPECT_EQ(page.next_offset(), 11u);
  ASSERT_TRUE(ReadPage("t", 11, KeyFilter("k1"), &page, 2).ok());
  EXPECT_EQ(page.events_size(), 0);
  EXPECT_EQ(page.next_offset(), 12u);
  EXPECT_EQ(ReadFiltered("t", KeyFilter("k1"), 1).size(), 4u);
}

TEST_P(ServerKeysHeadersTest, ReadWithAHeaderFilterMatchesAnyHeaderOfThatNameIncludingRepeatedOnes) {
  ProduceCatalog("t");
  EXPECT_EQ(OffsetsOf(ReadFiltered("t", HeaderFilter({{"type", "A"}}))),
            (std::vector<std::uint64_t>{0, 2, 4, 6, 8, 10}));
  // type=C is each of those events' second "type" header.
  EXPECT_EQ(OffsetsOf(ReadFiltered("t", HeaderFilter({{"type", "C"}}))), (std::vector<std::uint64_t>{0, 6}));
  // The value must be equal, not a prefix.
  EXPECT_TRUE(ReadFiltered("t", HeaderFilter({{"type", "O"}})).empty());
  EXPECT_TRUE(ReadFiltered("t", HeaderFilter({{"typ", "A"}})).empty());
}

TEST_P(ServerKeysHeadersTest, AHeaderFilterMatchesBinaryAndEmptyValuesExactly) {
  ASSERT_TRUE(ProduceEvents("t", VariedEvents()).ok());
  EXPECT_EQ(OffsetsOf(ReadFiltered("t", HeaderFilter({{"trace", std::string("\x00\xff\x01\x80", 4)}}))),
            (std::vector<std::uint64_t>{0}));
  EXPECT_TRUE(ReadFiltered("t", HeaderFilter({{"trace", std::string("\x00\xff\x01", 3)}})).empty());
  EXPECT_EQ(OffsetsOf(ReadFiltered("t", HeaderFilter({{"empty-value", ""}}))), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(OffsetsOf(ReadFiltered("t", KeyFilter(std::string("k\x00\x01", 3)))), (std::vector<std::uint64_t>{2}));
}

TEST_P(ServerKeysHeadersTest, ReadWithKeyAndTwoHeadersReturnsOnlyEventsMatchingAllOfThem) {
  ProduceCatalog("t");
  // k0: 0 3 6 9; type=A: even; v=2: 2 6 10. All three: 6 alone.
  v1::EventFilter filter = HeaderFilter({{"type", "A"}, {"v", "2"}});
  filter.set_key("k0");
  const std::vector<v1::Event> events = ReadFiltered("t", filter);
  ASSERT_EQ(OffsetsOf(events), (std::vector<std::uint64_t>{6}));
  ExpectSameEvents(events, {{6, MakeEvent("e6", "k0", {{"type", "A"}, {"v", "2"}, {"type", "C"}})}});
  // Two headers of one name: both must be there.
  EXPECT_EQ(OffsetsOf(ReadFiltered("t", HeaderFilter({{"type", "A"}, {"type", "C"}}))),
            (std::vector<std::uint64_t>{0, 6}));
  EXPECT_TRUE(ReadFiltered("t", HeaderFilter({{"type", "A"}, {"type", "B"}})).empty());
}

TEST_P(ServerKeysHeadersTest, ReadWithAFilterMatchingNothingReturnsNoEventsAndNextOffsetAtTheHead) {
  ProduceCatalog("t");
  v1::ReadResponse page;
  ASSERT_TRUE(ReadPage("t", 0, KeyFilter("nobody"), &page).ok());
  EXPECT_EQ(page.events_size(), 0);
  EXPECT_EQ(page.next_offset(), 12u);
  EXPECT_EQ(page.head(), 12u);
  ASSERT_TRUE(ReadPage("t", 3, HeaderFilter({{"absent", "x"}}), &page).ok());
  EXPECT_EQ(page.events_size(), 0);
  EXPECT_EQ(page.next_offset(), 12u);
}

TEST_P(ServerKeysHeadersTest, AFilterOnTheEmptyKeyReturnsOnlyEventsWithoutAKey) {
  ASSERT_TRUE(Produce("t", {"plain-0"}).ok());
  ASSERT_TRUE(ProduceEvents("t", {MakeEvent("keyed-1", "k"), MakeEvent("headers-only-2", "", {{"h", "v"}})}).ok());
  EXPECT_EQ(OffsetsOf(ReadFiltered("t", KeyFilter(""))), (std::vector<std::uint64_t>{0, 2}));
  // No filter at all: every event.
  EXPECT_EQ(ReadFiltered("t", v1::EventFilter()).size(), 3u);
}

TEST_P(ServerKeysHeadersTest, ABadFilterIsInvalidArgumentOnReadAndConsume) {
  ASSERT_TRUE(Produce("t", {"x"}).ok());
  std::vector<std::pair<std::string, v1::EventFilter>> bad = {
      {"empty header name", HeaderFilter({{"", "v"}})},
      {"header name with a space", HeaderFilter({{"a b", "v"}})},
      {"key over 255 bytes", KeyFilter(std::string(256, 'k'))},
  };
  std::vector<std::pair<std::string, std::string>> seventeen;
  for (int i = 0; i < 17; ++i) seventeen.emplace_back("h" + std::to_string(i), "v");
  bad.emplace_back("17 header matches", HeaderFilter(seventeen));
  for (const auto& [what, filter] : bad) {
    v1::ReadResponse page;
    const grpc::Status read = ReadPage("t", 0, filter, &page);
    EXPECT_EQ(read.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << what << ": " << Describe(read);
    ConsumeSession session(stub(), FilteredSubscribe("t", filter), 30s);
    const grpc::Status consumed = session.Finish();
    EXPECT_EQ(consumed.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << what << ": " << Describe(consumed);
  }
  // The limits themselves are fine.
  seventeen.pop_back();
  v1::EventFilter sixteen = HeaderFilter(seventeen);
  sixteen.set_key(std::string(255, 'k'));
  v1::ReadResponse page;
  const grpc::Status status = ReadPage("t", 0, sixteen, &page);
  EXPECT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(page.events_size(), 0);
}

// ---------------------------------------------------------------------------------------------
// Filters on Consume

TEST_P(ServerKeysHeadersTest, ConsumeWithAFilterDeliversOnlyMatchingEventsInOrder) {
  ProduceCatalog("t");
  v1::EventFilter filter = HeaderFilter({{"type", "B"}});
  ConsumeSession session(stub(), FilteredSubscribe("t", filter));
  ASSERT_TRUE(session.Subscribed().has_value()) << Describe(session.Finish());
  const std::vector<v1::Event> events = session.Take(6, 10s);
  EXPECT_EQ(OffsetsOf(events), (std::vector<std::uint64_t>{1, 3, 5, 7, 9, 11}));
  for (const v1::Event& event : events) {
    ASSERT_GE(event.headers_size(), 1);
    EXPECT_EQ(event.headers(0).value(), "B");
  }
  EXPECT_FALSE(session.Next(300ms).has_value());
  for (const v1::EventBatch& batch : session.Batches()) {
    EXPECT_EQ(batch.head(), 12u);
    if (batch.events_size() > 0) {
      EXPECT_GT(batch.next_offset(), batch.events(batch.events_size() - 1).offset());
    }
  }
  EXPECT_TRUE(session.Close().ok());
}

TEST_P(ServerKeysHeadersTest, TheWindowCountsDeliveredEventsOnly) {
  // Matches every fifth event: a window of 2 holds two matches, not two events read.
  ProduceSparse("t", 30, {0, 5, 10, 15, 20, 25});
  ConsumeSession session(stub(), FilteredSubscribe("t", KeyFilter("hit"), "", 2));
  ASSERT_TRUE(session.Subscribed().has_value()) << Describe(session.Finish());
  EXPECT_EQ(session.Subscribed()->window(), 2u);
  std::vector<std::uint64_t> delivered;
  for (int round = 0; round < 3; ++round) {
    const std::vector<v1::Event> events = session.Take(2, 10s);
    ASSERT_EQ(events.size(), 2u) << "round " << round;
    EXPECT_FALSE(session.Next(300ms).has_value()) << "more than the window in flight, round " << round;
    for (const v1::Event& event : events) delivered.push_back(event.offset());
    ASSERT_TRUE(session.Ack(events.back().offset()));
  }
  EXPECT_EQ(delivered, (std::vector<std::uint64_t>{0, 5, 10, 15, 20, 25}));
  EXPECT_FALSE(session.Next(300ms).has_value());
  EXPECT_TRUE(session.Close().ok());
}

TEST_P(ServerKeysHeadersTest, AFilteredConsumerCommitsOverSkippedEventsAfterItsLastAck) {
  // Ten events, matches at 2 and 5: acking 5 processes everything read, 6..9 too.
  ProduceSparse("t", 10, {2, 5});
  v1::Subscribe subscribe = FilteredSubscribe("t", KeyFilter("hit"), "billing");
  subscribe.mutable_start()->mutable_cursor();  // no cursor yet: fallback beginning
  {
    ConsumeSession session(stub(), subscribe);
    const std::vector<v1::Event> events = session.Take(2, 10s);
    ASSERT_EQ(OffsetsOf(events), (std::vector<std::uint64_t>{2, 5}));
    ASSERT_TRUE(session.Ack(5));
    EXPECT_TRUE(session.Close().ok());
  }
  std::optional<v1::Cursor> cursor = GetCursor("t", "billing");
  ASSERT_TRUE(cursor.has_value());
  EXPECT_EQ(cursor->offset(), 9u) << "the cursor stopped at the last match instead of the last event read";
  EXPECT_EQ(cursor->lag(), 0u);

  // Resuming finds nothing left to skip; a new match arrives.
  ConsumeSession again(stub(), subscribe);
  ASSERT_TRUE(again.Subscribed().has_value()) << Describe(again.Finish());
  EXPECT_EQ(again.Subscribed()->resolved_offset(), 10u);
  ProduceSparse("t", 2, {1});  // offsets 10 (miss) and 11 (hit)
  std::optional<v1::Event> next = again.Next(10s);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->offset(), 11u);
  EXPECT_TRUE(again.Close().ok());
}

TEST_P(ServerKeysHeadersTest, AFilteredConsumerAckingAnEarlierMatchCommitsOnlyUpToIt) {
  ProduceSparse("t", 10, {2, 5});
  v1::Subscribe subscribe = FilteredSubscribe("t", KeyFilter("hit"), "early");
  ConsumeSession session(stub(), subscribe);
  ASSERT_EQ(OffsetsOf(session.Take(2, 10s)), (std::vector<std::uint64_t>{2, 5}));
  ASSERT_TRUE(session.Ack(2));  // 5 is still in flight
  EXPECT_TRUE(session.Close().ok());
  std::optional<v1::Cursor> cursor = GetCursor("t", "early");
  ASSERT_TRUE(cursor.has_value());
  EXPECT_EQ(cursor->offset(), 2u);
}

TEST_P(ServerKeysHeadersTest, AFilteredReadOnlyConsumerCommitsNothing) {
  ProduceSparse("t", 10, {2, 5});
  v1::Subscribe subscribe = FilteredSubscribe("t", KeyFilter("hit"), "peek");
  subscribe.set_read_only(true);
  ConsumeSession session(stub(), subscribe);
  ASSERT_EQ(session.Take(2, 10s).size(), 2u);
  ASSERT_TRUE(session.Ack(5));
  EXPECT_TRUE(session.Close().ok());
  EXPECT_FALSE(GetCursor("t", "peek").has_value());
}

TEST_P(ServerKeysHeadersTest, WhenAllRemainingEventsAreSkippedTheStreamSendsAnEmptyBatchAtTheHead) {
  ProduceSparse("t", 10, {2});
  {
    // Nothing matches at all: one progress batch, no events.
    ConsumeSession session(stub(), FilteredSubscribe("t", KeyFilter("nobody")));
    ASSERT_TRUE(session.WaitForBatch([](const v1::EventBatch& b) { return IsProgressAt(b, 10); }, 10s).has_value())
        << "no empty batch with next_offset == head";
    EXPECT_FALSE(session.Next(200ms).has_value());
    EXPECT_TRUE(session.Close().ok());
  }
  // A window of one: the match, then (after its ack) the skipped rest as progress, and the server
  // commits it itself since nothing is in flight.
  ConsumeSession session(stub(), FilteredSubscribe("t", KeyFilter("hit"), "tail", 1));
  std::optional<v1::Event> event = session.Next(10s);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->offset(), 2u);
  ASSERT_TRUE(session.Ack(2));
  ASSERT_TRUE(session.WaitForBatch([](const v1::EventBatch& b) { return IsProgressAt(b, 10); }, 10s).has_value())
      << "no empty batch with next_offset == head after the last match";
  EXPECT_TRUE(session.Close().ok());
  std::optional<v1::Cursor> cursor = GetCursor("t", "tail");
  ASSERT_TRUE(cursor.has_value());
  EXPECT_EQ(cursor->offset(), 9u);
}

TEST_P(ServerKeysHeadersTest, ALiveTailingFilteredConsumeGetsNewMatchesOnly) {
  ASSERT_TRUE(ProduceEvents("t", {MakeEvent("a", "K"), MakeEvent("b", "X"), MakeEvent("c", "K")}).ok());
  ConsumeSession session(stub(), FilteredSubscribe("t", KeyFilter("K")));
  ASSERT_EQ(OffsetsOf(session.Take(2, 10s)), (std::vector<std::uint64_t>{0, 2}));
  EXPECT_FALSE(session.Next(200ms).has_value());

  // A non-matching event after catching up: no event, only progress to the new head.
  ASSERT_TRUE(ProduceEvents("t", {MakeEvent("d", "X")}).ok());
  ASSERT_TRUE(session.WaitForBatch([](const v1::EventBatch& b) { return IsProgressAt(b, 4); }, 10s).has_value())
      << "no progress batch for the skipped live event";
  EXPECT_FALSE(session.Next(200ms).has_value()) << "a non-matching live event was delivered";

  const auto sent = std::chrono::steady_clock::now();
  ASSERT_TRUE(ProduceEvents("t", {MakeEvent("e", "K", {{"n", "5"}})}).ok());
  std::optional<v1::Event> live = session.Next(10s);
  ASSERT_TRUE(live.has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - sent, 5s);
  ExpectSameEvents({*live}, {{4, MakeEvent("e", "K", {{"n", "5"}})}});
  ASSERT_TRUE(ProduceEvents("t", {MakeEvent("f", "X")}).ok());
  EXPECT_FALSE(session.Next(300ms).has_value());
  EXPECT_TRUE(session.Close().ok());
}

// ---------------------------------------------------------------------------------------------
// ProduceMulti

v1::ProduceMultiRequest MakeMulti(const std::vector<v1::ProduceRequest>& parts, const std::string& key = "") {
  v1::ProduceMultiRequest request;
  for (const v1::ProduceRequest& part : parts) *request.add_topics() = part;
  request.set_idempotency_key(key);
  return request;
}

v1::ProduceRequest PlainPart(const std::string& topic, const std::vector<std::string>& payloads) {
  v1::ProduceRequest part;
  part.set_topic(topic);
  for (const std::string& payload : payloads) part.add_payloads(payload);
  return part;
}

TEST_P(ServerKeysHeadersTest, ProduceMultiAppendsToAnExistingAndANewTopicWithOffsetsInRequestOrder) {
  ASSERT_TRUE(Produce("orders", {"o0", "o1", "o2"}).ok());
  const std::vector<v1::EventData> order_events = {MakeEvent("o3", "order-9", {{"type", "Placed"}}),
                                                   MakeEvent("o4", "order-9", {{"type", "Paid"}})};
  v1::ProduceMultiResponse response;
  const grpc::Status status =
      ProduceMulti(MakeMulti({MakeProduce("orders", order_events), PlainPart("audit", {"a0"})}), &response);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_FALSE(response.duplicate());
  ASSERT_EQ(response.topics_size(), 2);
  EXPECT_EQ(response.topics(0).first_offset(), 3u);
  EXPECT_EQ(response.topics(0).event_count(), 2u);
  EXPECT_EQ(response.topics(0).timestamps_unix_nanos_size(), 2);
  EXPECT_EQ(response.topics(0).next_offset(), 5u);
  EXPECT_EQ(response.topics(1).first_offset(), 0u);
  EXPECT_EQ(response.topics(1).event_count(), 1u);
  EXPECT_EQ(response.topics(1).next_offset(), 1u);

  const std::vector<v1::Event> orders = ReadAll("orders");
  ASSERT_EQ(orders.size(), 5u);
  ExpectSameEvents({orders.begin() + 3, orders.end()}, {{3, order_events[0]}, {4, order_events[1]}});
  ExpectSameEvents(ReadAll("audit"), {{0, MakeEvent("a0")}});
}

TEST_P(ServerKeysHeadersTest, ProduceMultiConflictOnTheSecondTopicIsAbortedAndWritesNothingAnywhere) {
  ASSERT_TRUE(Produce("orders", {"o0", "o1", "o2"}).ok());
  v1::ProduceRequest stale = PlainPart("orders", {"o3"});
  stale.set_expected_next_offset(1);
  grpc::ClientContext call;
  call.set_deadline(std::chrono::system_clock::now() + 30s);
  const grpc::Status status = ProduceMulti(MakeMulti({PlainPart("fresh", {"f0"}), stale}), nullptr, &call);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("orders"));
  EXPECT_THAT(status.error_message(), HasSubstr("3"));
  const auto& trailers = call.GetServerTrailingMetadata();
  auto next = trailers.find("goethe-next-offset");
  ASSERT_NE(next, trailers.end());
  EXPECT_EQ(std::string(next->second.data(), next->second.size()), "3");

  EXPECT_EQ(NextOffsetOf("orders"), 3u);
  grpc::Status described;
  EXPECT_FALSE(NextOffsetOf("fresh", &described).has_value()) << "the new topic was created by a failed append";
  EXPECT_EQ(described.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(described);

  // With the right offset the same append goes through.
  v1::ProduceMultiRequest retry = MakeMulti({PlainPart("fresh", {"f0"}), stale});
  retry.mutable_topics(1)->set_expected_next_offset(3);
  v1::ProduceMultiResponse response;
  ASSERT_TRUE(ProduceMulti(retry, &response).ok());
  EXPECT_EQ(response.topics(1).first_offset(), 3u);
  EXPECT_EQ(NextOffsetOf("fresh"), 1u);
}

TEST_P(ServerKeysHeadersTest, ProduceMultiExpectingAnOffsetOfANewTopicIsAbortedWithNextOffsetZero) {
  ASSERT_TRUE(Produce("orders", {"o0"}).ok());
  v1::ProduceRequest part = PlainPart("fresh", {"f0"});
  part.set_expected_next_offset(2);
  grpc::ClientContext call;
  call.set_deadline(std::chrono::system_clock::now() + 30s);
  const grpc::Status status = ProduceMulti(MakeMulti({PlainPart("orders", {"o1"}), part}), nullptr, &call);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("fresh"));
  const auto& trailers = call.GetServerTrailingMetadata();
  auto next = trailers.find("goethe-next-offset");
  ASSERT_NE(next, trailers.end());
  EXPECT_EQ(std::string(next->second.data(), next->second.size()), "0");
  EXPECT_EQ(NextOffsetOf("orders"), 1u);
  EXPECT_FALSE(NextOffsetOf("fresh").has_value());
}

TEST_P(ServerKeysHeadersTest, ProduceMultiNamingOneTopicTwiceIsInvalidArgument) {
  const grpc::Status status = ProduceMulti(MakeMulti({PlainPart("t", {"a"}), PlainPart("t", {"b"})}));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("'t'"));
  grpc::Status described;
  EXPECT_FALSE(NextOffsetOf("t", &described).has_value());
}

TEST_P(ServerKeysHeadersTest, ProduceMultiPartWithItsOwnIdempotencyKeyIsInvalidArgument) {
  v1::ProduceRequest keyed = PlainPart("b", {"b0"});
  keyed.set_idempotency_key("part-key");
  const grpc::Status status = ProduceMulti(MakeMulti({PlainPart("a", {"a0"}), keyed}));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("idempotency"));
  EXPECT_FALSE(NextOffsetOf("a").has_value());
  EXPECT_FALSE(NextOffsetOf("b").has_value());
}

TEST_P(ServerKeysHeadersTest, ProduceMultiBadEventInOnePartIsInvalidArgumentNamingItsTopic) {
  ASSERT_TRUE(Produce("a", {"a0"}).ok());
  const grpc::Status status =
      ProduceMulti(MakeMulti({PlainPart("a", {"a1"}), MakeProduce("b", {MakeEvent("p", std::string(256, 'k'))})}));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("'b'"));
  EXPECT_EQ(NextOffsetOf("a"), 1u);
  EXPECT_FALSE(NextOffsetOf("b").has_value());
}

TEST_P(ServerKeysHeadersTest, ProduceMultiRetryWithTheSameKeyIsADuplicateWithTheSameOffsetsAndWritesNothing) {
  ASSERT_TRUE(Produce("a", {"before"}).ok());
  const v1::ProduceMultiRequest request =
      MakeMulti({PlainPart("a", {"a1", "a2"}), MakeProduce("b", {MakeEvent("b0", "k")})}, "transfer-7");
  v1::ProduceMultiResponse first, retry;
  ASSERT_TRUE(ProduceMulti(request, &first).ok());
  EXPECT_FALSE(first.duplicate());
  const grpc::Status status = ProduceMulti(request, &retry);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_TRUE(retry.duplicate());
  ASSERT_EQ(retry.topics_size(), 2);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(retry.topics(i).first_offset(), first.topics(i).first_offset()) << "topic " << i;
    EXPECT_EQ(retry.topics(i).event_count(), first.topics(i).event_count()) << "topic " << i;
    ASSERT_EQ(retry.topics(i).timestamps_unix_nanos_size(), first.topics(i).timestamps_unix_nanos_size());
    EXPECT_EQ(retry.topics(i).timestamps_unix_nanos(0), first.topics(i).timestamps_unix_nanos(0));
    EXPECT_TRUE(retry.topics(i).duplicate());
  }
  EXPECT_EQ(retry.topics(0).first_offset(), 1u);
  EXPECT_EQ(retry.topics(1).first_offset(), 0u);
  EXPECT_EQ(NextOffsetOf("a"), 3u);
  EXPECT_EQ(NextOffsetOf("b"), 1u);
}

TEST_P(ServerKeysHeadersTest, ProduceMultiRetryIsStillADuplicateAfterARestart) {
  const v1::ProduceMultiRequest request =
      MakeMulti({PlainPart("a", {"a0"}), MakeProduce("b", {MakeEvent("b0", "k", {{"h", "v"}})})}, "transfer-9");
  v1::ProduceMultiResponse first, retry;
  ASSERT_TRUE(ProduceMulti(request, &first).ok());
  Restart();
  const grpc::Status status = ProduceMulti(request, &retry);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_TRUE(retry.duplicate());
  ASSERT_EQ(retry.topics_size(), 2);
  EXPECT_EQ(retry.topics(0).first_offset(), first.topics(0).first_offset());
  EXPECT_EQ(retry.topics(1).first_offset(), first.topics(1).first_offset());
  EXPECT_EQ(NextOffsetOf("a"), 1u);
  EXPECT_EQ(NextOffsetOf("b"), 1u);
}

TEST_P(ServerKeysHeadersTest, ConcurrentRetriesOfOneAppendAcrossNewTopicsWriteItOnce) {
  // Retries racing each other, likely in one group commit, with topics that do not exist yet.
  const v1::ProduceMultiRequest request =
      MakeMulti({PlainPart("fresh-a", {"a0", "a1"}), PlainPart("fresh-b", {"b0"})}, "transfer-race");
  constexpr int kClients = 8;
  std::vector<grpc::Status> statuses(kClients);
  std::vector<v1::ProduceMultiResponse> responses(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] { statuses[i] = ProduceMulti(request, &responses[i]); });
  }
  for (std::thread& client : clients) client.join();
  int originals = 0;
  for (int i = 0; i < kClients; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << i << ": " << Describe(statuses[i]);
    ASSERT_EQ(responses[i].topics_size(), 2);
    if (!responses[i].duplicate()) ++originals;
    EXPECT_EQ(responses[i].topics(0).first_offset(), 0u) << i;
    EXPECT_EQ(responses[i].topics(1).first_offset(), 0u) << i;
  }
  EXPECT_EQ(originals, 1);
  EXPECT_EQ(NextOffsetOf("fresh-a"), 2u);
  EXPECT_EQ(NextOffsetOf("fresh-b"), 1u);
}

TEST_P(ServerKeysHeadersTest, ConcurrentAppendsAcrossNewTopicsAllLandWithDistinctOffsets) {
  constexpr int kClients = 8;
  std::vector<grpc::Status> statuses(kClients);
  std::vector<v1::ProduceMultiResponse> responses(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      const std::string tag = std::to_string(i);
      statuses[i] = ProduceMulti(MakeMulti({PlainPart("new-a", {"a" + tag}), PlainPart("new-b", {"b" + tag})}),
                                 &responses[i]);
    });
  }
  for (std::thread& client : clients) client.join();
  for (int i = 0; i < kClients; ++i) ASSERT_TRUE(statuses[i].ok()) << i << ": " << Describe(statuses[i]);
  const std::vector<v1::Event> a = ReadAll("new-a");
  const std::vector<v1::Event> b = ReadAll("new-b");
  ASSERT_EQ(a.size(), static_cast<std::size_t>(kClients));
  ASSERT_EQ(b.size(), static_cast<std::size_t>(kClients));
  for (int i = 0; i < kClients; ++i) {
    // Each append's events sit where its response says, in both topics.
    const std::string tag = std::to_string(i);
    EXPECT_EQ(a[responses[i].topics(0).first_offset()].payload(), "a" + tag);
    EXPECT_EQ(b[responses[i].topics(1).first_offset()].payload(), "b" + tag);
  }
}

TEST_P(ServerKeysHeadersTest, ProduceMultiKeyReusedOnADifferentTopicSetIsFailedPrecondition) {
  ASSERT_TRUE(ProduceMulti(MakeMulti({PlainPart("a", {"a0"}), PlainPart("b", {"b0"})}, "transfer-8")).ok());
  ASSERT_TRUE(Produce("c", {"c0"}).ok());
  // "a" has seen the key, "c" (existing) and "new" (not yet created) have not.
  for (const std::string& other : {std::string("c"), std::string("new")}) {
    const grpc::Status status =
        ProduceMulti(MakeMulti({PlainPart("a", {"a1"}), PlainPart(other, {"x"})}, "transfer-8"));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << other << ": " << Describe(status);
    EXPECT_THAT(status.error_message(), HasSubstr("transfer-8"));
  }
  EXPECT_EQ(NextOffsetOf("a"), 1u);
  EXPECT_EQ(NextOffsetOf("b"), 1u);
  EXPECT_EQ(NextOffsetOf("c"), 1u);
  EXPECT_FALSE(NextOffsetOf("new").has_value());
}

TEST_P(ServerKeysHeadersTest, ProduceMultiWithNoTopicsIsInvalidArgument) {
  const grpc::Status status = ProduceMulti(v1::ProduceMultiRequest());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  // A part without events is refused like an empty produce.
  const grpc::Status empty_part = ProduceMulti(MakeMulti({PlainPart("a", {"a0"}), PlainPart("b", {})}));
  EXPECT_EQ(empty_part.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(empty_part);
  EXPECT_FALSE(NextOffsetOf("a").has_value());
}

TEST_P(ServerKeysHeadersTest, ProduceMultiWithMoreEventsInAllThanMaxEventsPerProduceIsResourceExhausted) {
  // 60 + 41 = 101 events, each part under the limit of 100.
  const grpc::Status status = ProduceMulti(MakeMulti(
      {PlainPart("a", std::vector<std::string>(60, "x")), PlainPart("b", std::vector<std::string>(41, "y"))}));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("100"));
  EXPECT_FALSE(NextOffsetOf("a").has_value());
  EXPECT_FALSE(NextOffsetOf("b").has_value());
  const grpc::Status fits = ProduceMulti(MakeMulti(
      {PlainPart("a", std::vector<std::string>(60, "x")), PlainPart("b", std::vector<std::string>(40, "y"))}));
  EXPECT_TRUE(fits.ok()) << Describe(fits);
}

TEST_P(ServerKeysHeadersTest, ProduceStreamInterleavesMultiAndPlainBatchesAcknowledgingInOrder) {
  grpc::ClientContext call;
  call.set_deadline(std::chrono::system_clock::now() + 30s);
  auto stream = stub().ProduceStream(&call);
  std::vector<v1::ProduceStreamRequest> requests(5);
  *requests[0].mutable_batch() = PlainPart("a", {"a0", "a1"});
  *requests[1].mutable_multi() = MakeMulti({MakeProduce("a", {MakeEvent("a2", "k")}), PlainPart("b", {"b0"})});
  *requests[2].mutable_batch() = PlainPart("b", {"b1"});
  v1::ProduceRequest stale = PlainPart("b", {"never"});
  stale.set_expected_next_offset(0);
  *requests[3].mutable_multi() = MakeMulti({PlainPart("a", {"never"}), stale});
  *requests[4].mutable_batch() = PlainPart("a", {"a3"});
  for (std::size_t i = 0; i < requests.size(); ++i) {
    requests[i].set_batch_id(100 + i);
    ASSERT_TRUE(stream->Write(requests[i]));
  }
  stream->WritesDone();

  std::vector<v1::ProduceStreamResponse> acks;
  v1::ProduceStreamResponse response;
  while (acks.size() < 10 && stream->Read(&response)) acks.push_back(response);
  EXPECT_TRUE(stream->Finish().ok());
  ASSERT_EQ(acks.size(), requests.size());
  for (std::size_t i = 0; i < acks.size(); ++i) EXPECT_EQ(acks[i].batch_id(), 100 + i) << "out of order";

  ASSERT_TRUE(acks[0].has_result()) << acks[0].ShortDebugString();
  EXPECT_EQ(acks[0].result().first_offset(), 0u);
  ASSERT_TRUE(acks[1].has_multi_result()) << acks[1].ShortDebugString();
  ASSERT_EQ(acks[1].multi_result().topics_size(), 2);
  EXPECT_EQ(acks[1].multi_result().topics(0).first_offset(), 2u);
  EXPECT_EQ(acks[1].multi_result().topics(1).first_offset(), 0u);
  ASSERT_TRUE(acks[2].has_result()) << acks[2].ShortDebugString();
  EXPECT_EQ(acks[2].result().first_offset(), 1u);
  ASSERT_TRUE(acks[3].has_error()) << acks[3].ShortDebugString();
  EXPECT_EQ(acks[3].error().code(), static_cast<int>(grpc::StatusCode::ABORTED));
  EXPECT_THAT(acks[3].error().message(), HasSubstr("'b'"));
  EXPECT_THAT(acks[3].error().message(), HasSubstr("2"));
  ASSERT_TRUE(acks[4].has_result()) << acks[4].ShortDebugString();
  EXPECT_EQ(acks[4].result().first_offset(), 3u) << "the failed multi wrote to 'a' after all";

  ExpectSameEvents(ReadAll("a"), {{0, MakeEvent("a0")}, {1, MakeEvent("a1")}, {2, MakeEvent("a2", "k")},
                                  {3, MakeEvent("a3")}});
  ExpectSameEvents(ReadAll("b"), {{0, MakeEvent("b0")}, {1, MakeEvent("b1")}});
}

TEST_P(ServerKeysHeadersTest, AStreamRequestWithBothBatchAndMultiIsRefusedInItsAck) {
  grpc::ClientContext call;
  call.set_deadline(std::chrono::system_clock::now() + 30s);
  auto stream = stub().ProduceStream(&call);
  v1::ProduceStreamRequest both;
  both.set_batch_id(1);
  *both.mutable_batch() = PlainPart("a", {"a0"});
  *both.mutable_multi() = MakeMulti({PlainPart("b", {"b0"})});
  v1::ProduceStreamRequest good;
  good.set_batch_id(2);
  *good.mutable_batch() = PlainPart("a", {"a0"});
  ASSERT_TRUE(stream->Write(both));
  ASSERT_TRUE(stream->Write(good));
  stream->WritesDone();
  v1::ProduceStreamResponse response;
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.batch_id(), 1u);
  ASSERT_TRUE(response.has_error()) << response.ShortDebugString();
  EXPECT_EQ(response.error().code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.batch_id(), 2u);
  ASSERT_TRUE(response.has_result()) << response.ShortDebugString();
  EXPECT_EQ(response.result().first_offset(), 0u);
  EXPECT_FALSE(stream->Read(&response));
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_FALSE(NextOffsetOf("b").has_value());
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerKeysHeadersTest, ::testing::ValuesIn(ServerLogicBackends()), BackendName);

// ---------------------------------------------------------------------------------------------
// Filters over more events than one read scans (100,000)

class ServerLongScanTest : public ServerKeysHeadersTest {
 protected:
  // Server defaults (10,000 events per produce), and no sync: the point is the scan, not the disk.
  void SetUp() override { StartServer("", "", false); }

  static constexpr int kMisses = 100000;

  // kMisses events with key "miss", one with key "hit" at offset kMisses, then five more misses.
  void ProduceLongTopic() {
    for (int produced = 0; produced < kMisses; produced += 10000) {
      const grpc::Status status = Produce("t", std::vector<std::string>(10000, "m"));
      ASSERT_TRUE(status.ok()) << Describe(status);
    }
    ASSERT_TRUE(ProduceEvents("t", {MakeEvent("the hit", "hit")}).ok());
    ASSERT_TRUE(Produce("t", std::vector<std::string>(5, "m")).ok());
  }
};

TEST_P(ServerLongScanTest, AFilteredReadPageEndsAfterOneScanAndTheNextFindsTheMatch) {
  ProduceLongTopic();
  v1::ReadResponse page;
  ASSERT_TRUE(ReadPage("t", 0, KeyFilter("hit"), &page).ok());
  EXPECT_EQ(page.events_size(), 0);
  EXPECT_EQ(page.next_offset(), static_cast<std::uint64_t>(kMisses)) << "a page scans at most 100,000 events";
  EXPECT_EQ(page.head(), static_cast<std::uint64_t>(kMisses + 6));
  ASSERT_TRUE(ReadPage("t", page.next_offset(), KeyFilter("hit"), &page).ok());
  ASSERT_EQ(page.events_size(), 1);
  EXPECT_EQ(page.events(0).offset(), static_cast<std::uint64_t>(kMisses));
  EXPECT_EQ(page.events(0).payload(), "the hit");
  EXPECT_EQ(page.next_offset(), static_cast<std::uint64_t>(kMisses + 6));
}

TEST_P(ServerLongScanTest, AFilteredConsumeReadsOnPastOneScanToALaterMatchAndCommitsToTheHead) {
  ProduceLongTopic();
  ConsumeSession session(stub(), FilteredSubscribe("t", KeyFilter("hit"), "far"));
  std::optional<v1::Event> event = session.Next(60s);
  ASSERT_TRUE(event.has_value()) << "the match after 100,000 skipped events never came";
  EXPECT_EQ(event->offset(), static_cast<std::uint64_t>(kMisses));
  EXPECT_FALSE(session.Next(300ms).has_value());
  ASSERT_TRUE(session.Ack(kMisses));
  EXPECT_TRUE(session.Close().ok());
  std::optional<v1::Cursor> cursor = GetCursor("t", "far");
  ASSERT_TRUE(cursor.has_value());
  EXPECT_EQ(cursor->offset(), static_cast<std::uint64_t>(kMisses + 5));

  // Nothing matching at all: progress at the head, after more than one scan.
  ConsumeSession none(stub(), FilteredSubscribe("t", KeyFilter("nobody")));
  EXPECT_TRUE(none.WaitForBatch([](const v1::EventBatch& b) { return IsProgressAt(b, kMisses + 6); }, 60s).has_value())
      << "no progress batch at the head";
  EXPECT_FALSE(none.Next(200ms).has_value());
  EXPECT_TRUE(none.Close().ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerLongScanTest, ::testing::ValuesIn(ServerLogicBackends()), BackendName);

// ---------------------------------------------------------------------------------------------
// Access control of appends across topics

constexpr char kProducerToken[] = "producer-token-0123456789";
constexpr char kAdminToken[] = "admin-token-0123456789abcdef";

class ServerMultiAccessTest : public ServerKeysHeadersTest {
 protected:
  // producer: produce on orders.* only; admin: everything.
  void SetUp() override {
    StartServer(std::string("auth:\n"
                            "  tokens:\n"
                            "    - name: producer\n"
                            "      token: ") + kProducerToken + "\n"
                "      grants:\n"
                "        - permissions: [produce]\n"
                "          topics: \"orders.*\"\n"
                "    - name: admin\n"
                "      token: " + kAdminToken + "\n"
                "      grants:\n"
                "        - permissions: [admin]\n"
                "          topics: \"*\"\n");
  }

  static std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
    std::unique_ptr<grpc::ClientContext> call = CallWithin();
    call->AddMetadata("authorization", "Bearer " + token);
    return call;
  }

  std::optional<std::uint64_t> AdminNextOffsetOf(const std::string& topic) {
    v1::DescribeTopicRequest request;
    request.set_topic(topic);
    v1::DescribeTopicResponse response;
    if (!stub().DescribeTopic(As(kAdminToken).get(), request, &response).ok()) return std::nullopt;
    return response.topic().next_offset();
  }
};

TEST_P(ServerMultiAccessTest, ProduceMultiNeedsProduceOnEveryTopic) {
  v1::ProduceMultiResponse response;
  grpc::Status status = stub().ProduceMulti(
      As(kProducerToken).get(), MakeMulti({PlainPart("orders.eu", {"o"}), PlainPart("audit", {"a"})}), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("audit"));
  EXPECT_FALSE(AdminNextOffsetOf("orders.eu").has_value()) << "a refused append across topics wrote a part";
  EXPECT_FALSE(AdminNextOffsetOf("audit").has_value());
  status = stub().ProduceMulti(As(kProducerToken).get(),
                               MakeMulti({PlainPart("orders.eu", {"o"}), PlainPart("orders.us", {"u"})}), &response);
  EXPECT_TRUE(status.ok()) << Describe(status);
  status = stub().ProduceMulti(CallWithin().get(), MakeMulti({PlainPart("orders.eu", {"o"})}), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(status);
}

TEST_P(ServerMultiAccessTest, AStreamMultiBatchNeedsProduceOnEveryTopic) {
  std::unique_ptr<grpc::ClientContext> call = As(kProducerToken);
  auto stream = stub().ProduceStream(call.get());
  v1::ProduceStreamRequest denied;
  denied.set_batch_id(1);
  *denied.mutable_multi() = MakeMulti({PlainPart("orders.eu", {"o"}), PlainPart("audit", {"a"})});
  v1::ProduceStreamRequest allowed;
  allowed.set_batch_id(2);
  *allowed.mutable_multi() = MakeMulti({PlainPart("orders.eu", {"o"}), PlainPart("orders.us", {"u"})});
  ASSERT_TRUE(stream->Write(denied));
  ASSERT_TRUE(stream->Write(allowed));
  stream->WritesDone();
  v1::ProduceStreamResponse response;
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.batch_id(), 1u);
  ASSERT_TRUE(response.has_error()) << response.ShortDebugString();
  EXPECT_EQ(response.error().code(), static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.batch_id(), 2u);
  ASSERT_TRUE(response.has_multi_result()) << response.ShortDebugString();
  EXPECT_EQ(response.multi_result().topics(0).first_offset(), 0u);
  EXPECT_FALSE(stream->Read(&response));
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(AdminNextOffsetOf("orders.eu"), 1u);
  EXPECT_FALSE(AdminNextOffsetOf("audit").has_value());
}

// Access control does not depend on the backend.
INSTANTIATE_TEST_SUITE_P(Backends, ServerMultiAccessTest, ::testing::Values("leveldb"), BackendName);

class ServerMultiNoAutoCreateTest : public ServerKeysHeadersTest {
 protected:
  void SetUp() override { StartServer("auto_create_topics: false\n"); }
};

TEST_P(ServerMultiNoAutoCreateTest, ProduceMultiToAnUnknownTopicIsNotFoundAndWritesNothing) {
  v1::CreateTopicRequest create;
  create.set_topic("known");
  v1::CreateTopicResponse created;
  ASSERT_TRUE(stub().CreateTopic(CallWithin().get(), create, &created).ok());
  const grpc::Status status = ProduceMulti(MakeMulti({PlainPart("known", {"k"}), PlainPart("unknown", {"u"})}));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("unknown"));
  EXPECT_EQ(NextOffsetOf("known"), 0u);
  EXPECT_FALSE(NextOffsetOf("unknown").has_value());
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerMultiNoAutoCreateTest, ::testing::Values("leveldb"), BackendName);


}  // namespace
}  // namespace goethe::testing
