// Event keys and headers in the engine, on every backend: they round-trip byte for byte, count
// against the limits, filter reads, and a store written before them (format 2) opens and goes on.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/engine_fixture.h"

namespace goethe {
namespace {

using testing::kEpoch;
using testing::kSecond;

std::string BigEndian(std::uint64_t v) {
  std::string bytes;
  for (int shift = 56; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>(v >> shift));
  return bytes;
}

EventAttributes Order(const std::string& key, const std::string& type) {
  return {key, {{"type", type}, {"content-type", "application/json"}}};
}

class EngineKeysHeadersTest : public testing::EngineTest {
 protected:
  AppendOutcome AppendWith(const std::string& topic, std::vector<std::string> payloads,
                           std::vector<EventAttributes> attributes) {
    AppendRequest request;
    request.topic = topic;
    request.payloads = std::move(payloads);
    request.attributes = std::move(attributes);
    return log_->Append(std::move(request));
  }

  // The store's format marker, read straight from the store.
  std::string FormatMarker() {
    std::string value;
    EXPECT_TRUE(store_->Get({}, "Mformat", &value).ok());
    return value;
  }

  std::vector<Event> ReadFiltered(const std::string& topic, EventFilter filter, std::uint64_t* next_offset) {
    auto result = log_->Read({.topic = topic, .from_offset = 0, .max_events = 1000, .filter = std::move(filter)});
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    if (!result.ok()) return {};
    *next_offset = result->next_offset;
    return std::move(result->events);
  }
};

TEST_P(EngineKeysHeadersTest, KeysAndHeadersRoundTripByteForByteAcrossReopen) {
  const std::string binary("\0\xff\x01 value", 9);
  std::vector<EventAttributes> attributes{
      {"order-1", {{"type", "OrderPlaced"}, {"traceparent", "00-abc-01"}}},
      {"", {{"type", "Note"}, {"type", "Repeated"}, {"bin", binary}}},  // no key; a repeated name
      {std::string(255, 'k'), {}},                                      // a key alone, at the limit
      {},                                                               // nothing at all
  };
  ASSERT_TRUE(AppendWith("t", {"p0", "", "p2", "p3"}, attributes).status.ok());
  AppendOk("t", {"plain"});

  auto check = [&] {
    const std::vector<Event> events = ReadAll("t");
    ASSERT_EQ(events.size(), 5u);
    for (std::size_t i = 0; i < attributes.size(); ++i) {
      EXPECT_EQ(events[i].key, attributes[i].key) << "event " << i;
      EXPECT_EQ(events[i].headers, attributes[i].headers) << "event " << i;
    }
    EXPECT_EQ(events[1].payload, "");
    EXPECT_EQ(events[4].payload, "plain");
    EXPECT_TRUE(events[4].key.empty());
    EXPECT_TRUE(events[4].headers.empty());
  };
  ASSERT_NO_FATAL_FAILURE(check());
  ASSERT_NO_FATAL_FAILURE(Reopen());
  ASSERT_NO_FATAL_FAILURE(check());
}

TEST_P(EngineKeysHeadersTest, AnEventWithoutKeyOrHeadersIsStoredAsBefore) {
  if (TimeOrdered()) GTEST_SKIP() << "formats 2 and 3 order events by topic";
  // Attributes given but all empty: the stored value is the format-2 value, 16 bytes + payload.
  ASSERT_TRUE(AppendWith("t", {"abc"}, {EventAttributes{}}).status.ok());
  std::string value;
  ASSERT_TRUE(store_->Get({}, "e" + BigEndian(1) + BigEndian(0), &value).ok());
  EXPECT_EQ(value.size(), 16u + 3u);
  EXPECT_EQ(FormatMarker(), "goethe-log-2");  // nothing needed the new format yet
}

TEST_P(EngineKeysHeadersTest, LimitsCountKeyAndHeadersWithThePayload) {
  options_.max_event_bytes = 100;
  options_.max_key_bytes = 8;
  options_.max_headers = 2;
  ASSERT_NO_FATAL_FAILURE(Reopen());
  auto refused = [&](std::vector<EventAttributes> attributes, const std::string& words) {
    AppendOutcome outcome = AppendWith("t", {std::string(60, 'x')}, std::move(attributes));
    EXPECT_EQ(outcome.status.code(), StatusCode::kInvalidArgument) << words;
    EXPECT_NE(outcome.status.message().find(words), std::string::npos) << outcome.status.message();
  };
  refused({{"123456789", {}}}, "engine.max_key_bytes");
  refused({{"", {{"a", "1"}, {"b", "2"}, {"c", "3"}}}}, "engine.max_headers");
  refused({{"", {{"", "empty name"}}}}, "header name");
  refused({{"", {{"has space", "v"}}}}, "printable ASCII");
  refused({{"", {{"big", std::string(40, 'v')}}}}, "more than the limit of 100 bytes");  // 60 + 3 + 40
  refused({{"k", {}}, {"k", {}}}, "attributes for 2 events but has 1");
  EXPECT_FALSE(log_->DescribeTopic("t").ok()) << "a refused append created its topic";

  // Exactly at the limit: 60 payload + 8 key + 2 + 30 header bytes.
  ASSERT_TRUE(AppendWith("t", {std::string(60, 'x')}, {{"12345678", {{"h1", std::string(30, 'v')}}}}).status.ok());
  EXPECT_EQ(Describe("t").bytes, 100u);
}

TEST_P(EngineKeysHeadersTest, NoConfigurationAllowsMoreThanTheStoredLengthFieldsHold) {
  options_.max_key_bytes = 1000;
  options_.max_headers = 100000;
  ASSERT_NO_FATAL_FAILURE(Reopen());
  AppendOutcome long_key = AppendWith("t", {"p"}, {{std::string(256, 'k'), {}}});
  EXPECT_EQ(long_key.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(long_key.status.message().find("limit of 255 bytes"), std::string::npos) << long_key.status.message();
  AppendOutcome many = AppendWith("t", {"p"}, {{"", std::vector<Header>(65536, Header{"h", ""})}});
  EXPECT_EQ(many.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(many.status.message().find("limit of 65535"), std::string::npos) << many.status.message();
  EXPECT_FALSE(log_->DescribeTopic("t").ok()) << "a refused append created its topic";
}

TEST_P(EngineKeysHeadersTest, FiltersByKeyAndHeadersAndMoveOnPastSkippedEvents) {
  ASSERT_TRUE(AppendWith("t", {"a0", "b1", "a2", "c3", "a4"},
                         {Order("a", "Placed"), Order("b", "Placed"), Order("a", "Shipped"), {}, Order("a", "Placed")})
                  .status.ok());
  AppendOk("t", {"plain5", "plain6"});
  std::uint64_t next = 0;

  std::vector<Event> by_key = ReadFiltered("t", {.key = "a"}, &next);
  ASSERT_EQ(by_key.size(), 3u);
  EXPECT_EQ(by_key[0].offset, 0u);
  EXPECT_EQ(by_key[1].offset, 2u);
  EXPECT_EQ(by_key[2].offset, 4u);
  EXPECT_EQ(by_key[2].headers, Order("a", "Placed").headers);
  EXPECT_EQ(next, 7u) << "the page read on to the head past the skipped events";

  std::vector<Event> by_header = ReadFiltered("t", {.headers = {{"type", "Placed"}}}, &next);
  ASSERT_EQ(by_header.size(), 3u);
  EXPECT_EQ(by_header[1].offset, 1u);

  // Key and every header must match.
  std::vector<Event> both = ReadFiltered(
      "t", {.key = "a", .headers = {{"type", "Placed"}, {"content-type", "application/json"}}}, &next);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].offset, 0u);
  EXPECT_EQ(both[1].offset, 4u);

  // An empty key matches the events without one.
  std::vector<Event> keyless = ReadFiltered("t", {.key = ""}, &next);
  ASSERT_EQ(keyless.size(), 3u);
  EXPECT_EQ(keyless[0].offset, 3u);

  std::vector<Event> none = ReadFiltered("t", {.headers = {{"type", "Cancelled"}}}, &next);
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(next, 7u);
}

TEST_P(EngineKeysHeadersTest, AFilteredPageStopsAfterItsScanBudget) {
  std::vector<std::string> payloads(50, "x");
  std::vector<EventAttributes> attributes(50, Order("other", "T"));
  attributes[40] = Order("wanted", "T");
  ASSERT_TRUE(AppendWith("t", payloads, attributes).status.ok());
  auto page = log_->Read({.topic = "t", .from_offset = 0, .max_events = 10, .filter = {.key = "wanted"}, .max_scanned = 16});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_TRUE(page->events.empty());
  EXPECT_EQ(page->next_offset, 16u);
  std::uint64_t from = page->next_offset;
  std::vector<Event> found;
  for (int i = 0; i < 10 && from < 50; ++i) {
    auto next = log_->Read({.topic = "t", .from_offset = from, .max_events = 10, .filter = {.key = "wanted"}, .max_scanned = 16});
    ASSERT_TRUE(next.ok());
    for (Event& e : next->events) found.push_back(std::move(e));
    from = next->next_offset;
  }
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].offset, 40u);
  EXPECT_EQ(from, 50u);
}

TEST_P(EngineKeysHeadersTest, SizesAndRetentionCountKeysAndHeaders) {
  options_.max_event_bytes = 1 << 20;
  ASSERT_NO_FATAL_FAILURE(Reopen());
  auto created = log_->CreateTopic("t", {.retention_bytes = 100});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  // Each event: 10 payload + 5 key + 4 + 11 header bytes = 30.
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(AppendWith("t", {std::string(10, 'p')}, {{"key-" + std::to_string(i), {{"type", "header-val1"}}}})
                    .status.ok());
  }
  EXPECT_EQ(Describe("t").bytes, 150u);
  ASSERT_TRUE(log_->EnforceRetention().ok());
  TopicInfo trimmed = Describe("t");
  EXPECT_EQ(trimmed.bytes, 90u);
  EXPECT_EQ(trimmed.first_offset, 2u);
  // Recovery checks the running total against the retention record: it must agree.
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(Describe("t").bytes, 90u);
  EXPECT_EQ(Describe("t").first_offset, 2u);
}

// A store as the version before keys and headers wrote it (format 2), written here byte by byte as
// docs/storage.md lays it out: it opens with no step by the user, its events read back with no
// key and no headers, and new events with them go into the same topic.
TEST_P(EngineKeysHeadersTest, AFormatTwoStoreOpensReadsAndTakesEventsWithKeysAndHeaders) {
  if (TimeOrdered()) GTEST_SKIP() << "formats 2 and 3 order events by topic (engine_key_order_test.cc: a store keeps its order)";
  CloseAll();
  ASSERT_TRUE(std::filesystem::remove_all(dir_.Sub("store")) > 0);
  {
    auto store = plugin_->Open(dir_.Sub("store"), {});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    const std::uint64_t topic_id = 1;
    const std::int64_t minute = 60 * kSecond;
    kv::WriteBatch batch;
    batch.Put("Mformat", "goethe-log-2");
    batch.Put("Mnext_topic_id", std::string(1, '\1') + BigEndian(2));
    batch.Put("Torders", std::string(1, '\1') + BigEndian(topic_id) + BigEndian(kEpoch - kSecond) + BigEndian(0) +
                             BigEndian(0) + BigEndian(0) + BigEndian(minute));
    std::uint64_t total = 0;
    for (std::uint64_t offset = 0; offset < 3; ++offset) {
      const std::string payload = "old" + std::to_string(offset);
      total += payload.size();
      batch.Put("e" + BigEndian(topic_id) + BigEndian(offset),
                BigEndian(kEpoch - kSecond + offset) + BigEndian(total) + payload);
    }
    const std::uint64_t bucket = (kEpoch - kSecond) - (kEpoch - kSecond) % minute;
    batch.Put("I" + BigEndian(topic_id) + BigEndian(bucket), BigEndian(0));
    ASSERT_TRUE(store.value()->Write({.sync = true}, batch).ok());
  }
  ASSERT_NO_FATAL_FAILURE(Open());
  EXPECT_EQ(FormatMarker(), "goethe-log-2");
  EXPECT_EQ(Describe("orders").next_offset, 3u);
  EXPECT_EQ(Describe("orders").bytes, 12u);

  AppendOk("orders", {"plain"});
  EXPECT_EQ(FormatMarker(), "goethe-log-2") << "events without keys or headers need no new format";
  ASSERT_TRUE(AppendWith("orders", {"new"}, {Order("o-1", "OrderPlaced")}).status.ok());
  EXPECT_EQ(FormatMarker(), "goethe-log-3") << "the first event with attributes marks the store";

  auto check = [&] {
    const std::vector<Event> events = ReadAll("orders");
    ASSERT_EQ(events.size(), 5u);
    for (std::uint64_t i = 0; i < 3; ++i) {
      EXPECT_EQ(events[i].offset, i);
      EXPECT_EQ(events[i].timestamp_ns, kEpoch - kSecond + static_cast<TimestampNs>(i));
      EXPECT_EQ(events[i].payload, "old" + std::to_string(i));
      EXPECT_TRUE(events[i].key.empty());
      EXPECT_TRUE(events[i].headers.empty());
    }
    EXPECT_EQ(events[3].payload, "plain");
    EXPECT_EQ(events[4].payload, "new");
    EXPECT_EQ(events[4].key, "o-1");
    EXPECT_EQ(events[4].headers, Order("o-1", "OrderPlaced").headers);
  };
  ASSERT_NO_FATAL_FAILURE(check());
  ASSERT_NO_FATAL_FAILURE(Reopen());
  ASSERT_NO_FATAL_FAILURE(check());
  EXPECT_EQ(FormatMarker(), "goethe-log-3");
}

TEST_P(EngineKeysHeadersTest, AStoreOfAnUnknownFormatIsRefusedNamingTheKnownOnes) {
  CloseAll();
  {
    auto store = plugin_->Open(dir_.Sub("store"), {});
    ASSERT_TRUE(store.ok());
    kv::WriteBatch batch;
    batch.Put("Mformat", "goethe-log-5");
    ASSERT_TRUE(store.value()->Write({.sync = true}, batch).ok());
  }
  auto store = plugin_->Open(dir_.Sub("store"), {});
  ASSERT_TRUE(store.ok());
  auto log = EventLog::Open(store.value(), options_);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(log.status().message().find("goethe-log-2"), std::string::npos) << log.status().message();
  EXPECT_NE(log.status().message().find("goethe-log-3"), std::string::npos) << log.status().message();
  EXPECT_NE(log.status().message().find("goethe-log-4"), std::string::npos) << log.status().message();
}

GOETHE_ENGINE_TEST_SUITE(EngineKeysHeadersTest);

}  // namespace
}  // namespace goethe
