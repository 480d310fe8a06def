// The JSON API under /v1 of a real goethe-server: topics, produce and read with base64 or text
// payloads, keys and headers, seek, cursors, and tokens checked as gRPC checks them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <functional>
#include <optional>
#include <thread>

#include "support/http_client.h"
#include "support/http_server_fixture.h"
#include "support/server_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace goethe::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

constexpr char kToken[] = "http-api-token-0123456789";

using HttpApiTest = HttpServerTest;


TEST_F(HttpApiTest, TopicsCanBeCreatedListedDescribedAndDeleted) {
  Start();
  HttpConnection api(http_);
  HttpReply created = api.Send("POST", "/v1/topics", R"({"topic":"orders","settings":{"retentionEvents":"100"}})");
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(api.Send("POST", "/v1/topics", R"({"topic":"orders"})").status, 409) << "ALREADY_EXISTS";
  HttpReply listed = api.Send("GET", "/v1/topics");
  ASSERT_EQ(listed.status, 200);
  EXPECT_THAT(listed.body, HasSubstr("\"name\":\"orders\""));
  HttpReply described = api.Send("GET", "/v1/topics/orders");
  ASSERT_EQ(described.status, 200) << described.body;
  EXPECT_THAT(described.body, HasSubstr("\"retentionEvents\":\"100\""));
  HttpReply missing = api.Send("GET", "/v1/topics/nothing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_THAT(missing.body, HasSubstr("\"code\":\"NOT_FOUND\""));
  EXPECT_EQ(api.Send("DELETE", "/v1/topics/orders").status, 200);
  EXPECT_EQ(api.Send("GET", "/v1/topics/orders").status, 404);
  HttpReply wrong = api.Send("PATCH", "/v1/topics/orders");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.headers["allow"], "GET, DELETE");
}

TEST_F(HttpApiTest, EventsProducedOverHttpAreReadAsBase64OrTextWithKeysAndHeaders) {
  Start();
  HttpConnection api(http_);
  // Base64 payloads as protobuf's JSON has them, one with a key and a header.
  HttpReply produced = api.Send(
      "POST", "/v1/topics/t/events",
      R"({"events":[{"payload":"aGVsbG8=","key":"dXNlci0x","headers":[{"name":"type","value":"Y3JlYXRlZA=="}]},)"
      R"({"payload":"/w=="}]})");
  ASSERT_EQ(produced.status, 200) << produced.body;
  EXPECT_THAT(produced.body, HasSubstr("\"firstOffset\":\"0\""));
  // Text payloads with ?payload=text.
  ASSERT_EQ(api.Send("POST", "/v1/topics/t/events?payload=text", R"({"events":[{"payload":"third event ✓"}]})").status,
            200);

  HttpReply raw = api.Send("GET", "/v1/topics/t/events?fromOffset=0&maxEvents=10");
  ASSERT_EQ(raw.status, 200) << raw.body;
  EXPECT_THAT(raw.body, HasSubstr("\"payload\":\"aGVsbG8=\""));
  EXPECT_THAT(raw.body, HasSubstr("\"key\":\"dXNlci0x\""));
  EXPECT_THAT(raw.body, HasSubstr("\"name\":\"type\""));
  HttpReply text = api.Send("GET", "/v1/topics/t/events?from_offset=0&payload=text");
  ASSERT_EQ(text.status, 200) << text.body;
  google::protobuf::Struct page_of_text;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(text.body, &page_of_text).ok()) << text.body;
  const auto& events = page_of_text.fields().at("events").list_value().values();
  ASSERT_EQ(events.size(), 3);
  auto field = [&](int i, const std::string& name) { return events[i].struct_value().fields().at(name).string_value(); };
  EXPECT_EQ(field(0, "payload"), "hello");
  EXPECT_EQ(field(0, "payloadEncoding"), "text");
  EXPECT_EQ(field(0, "key"), "dXNlci0x") << "keys stay base64";
  EXPECT_EQ(field(1, "payload"), "/w==") << "0xff is not UTF-8";
  EXPECT_EQ(field(1, "payloadEncoding"), "base64");
  EXPECT_EQ(field(2, "payload"), "third event ✓");
  EXPECT_EQ(field(2, "payloadEncoding"), "text");
  // Paging: from offset 2.
  HttpReply page = api.Send("GET", "/v1/topics/t/events?from_offset=2&payload=text");
  EXPECT_THAT(page.body, Not(HasSubstr("hello")));
  EXPECT_THAT(page.body, HasSubstr("\"nextOffset\":\"3\""));

  // Bad input: the gRPC checks and codes, as JSON.
  HttpReply not_json = api.Send("POST", "/v1/topics/t/events", "{not json");
  EXPECT_EQ(not_json.status, 400);
  EXPECT_THAT(not_json.body, HasSubstr("INVALID_ARGUMENT"));
  HttpReply unknown_field = api.Send("POST", "/v1/topics/t/events", R"({"payload":"aGVsbG8="})");
  EXPECT_EQ(unknown_field.status, 400) << unknown_field.body;
  EXPECT_THAT(unknown_field.body, HasSubstr("goethe.v1.ProduceRequest"));
  HttpReply empty = api.Send("POST", "/v1/topics/t/events", R"({"payloads":[]})");
  EXPECT_EQ(empty.status, 400) << empty.body;
  EXPECT_EQ(api.Send("GET", "/v1/topics/t/events?payload=hex").status, 400);
  HttpReply conflict = api.Send("POST", "/v1/topics/t/events?payload=text",
                                R"({"payloads":["x"],"expectedNextOffset":"1"})");
  EXPECT_EQ(conflict.status, 409) << conflict.body;
}

TEST_F(HttpApiTest, SeekAndCursorsWorkOverHttp) {
  Start();
  HttpConnection api(http_);
  ASSERT_EQ(api.Send("POST", "/v1/topics/t/events?payload=text", R"({"payloads":["a","b","c"]})").status, 200);
  HttpReply seek = api.Send("GET", "/v1/topics/t/seek?start.offset=2");
  ASSERT_EQ(seek.status, 200) << seek.body;
  EXPECT_THAT(seek.body, HasSubstr("\"resolvedOffset\":\"2\""));
  HttpReply committed = api.Send("PUT", "/v1/topics/t/cursors/billing", R"({"offset":"1"})");
  ASSERT_EQ(committed.status, 200) << committed.body;
  HttpReply cursor = api.Send("GET", "/v1/topics/t/cursors/billing");
  ASSERT_EQ(cursor.status, 200) << cursor.body;
  EXPECT_THAT(cursor.body, HasSubstr("\"offset\":\"1\""));
  HttpReply cursors = api.Send("GET", "/v1/topics/t/cursors");
  EXPECT_THAT(cursors.body, HasSubstr("billing"));
  EXPECT_EQ(api.Send("DELETE", "/v1/topics/t/cursors/billing").status, 200);
  EXPECT_EQ(api.Send("GET", "/v1/topics/t/cursors/billing").status, 404);
}

TEST_F(HttpApiTest, TheApiChecksTokensAndPermissionsAsGrpcDoes) {
  const std::string auth = std::string("auth:\n  tokens:\n    - name: reader\n      token: ") + kToken +
                           "\n      grants:\n        - permissions: [consume]\n          topics: \"*\"\n";
  Start("", auth);
  HttpConnection api(http_);
  const std::map<std::string, std::string> reader = {{"Authorization", std::string("Bearer ") + kToken}};
  EXPECT_EQ(api.Send("GET", "/v1/topics").status, 401);
  EXPECT_EQ(api.Send("GET", "/v1/topics", "", reader).status, 200);
  HttpReply denied = api.Send("POST", "/v1/topics/t/events?payload=text", R"({"payloads":["x"]})", reader);
  EXPECT_EQ(denied.status, 403) << denied.body;
  EXPECT_THAT(denied.body, HasSubstr("PERMISSION_DENIED"));
  // Any valid token may ask about the server, as about the cluster; none may not.
  EXPECT_EQ(api.Send("GET", "/v1/server").status, 401);
  EXPECT_EQ(api.Send("GET", "/v1/server", "", reader).status, 200);
}

TEST_F(HttpApiTest, ServerInfoSaysWhatTheServerIsAndWhatItHasDone) {
  const auto before_start = std::chrono::system_clock::now();
  Start();
  HttpConnection api(http_);
  ASSERT_EQ(api.Send("POST", "/v1/topics/t/events?payload=text", R"({"payloads":["abc","de","f"]})").status, 200);
  ASSERT_EQ(api.Send("POST", "/v1/topics/u/events?payload=text", R"({"payloads":["ghij"]})").status, 200);
  ASSERT_EQ(api.Send("GET", "/v1/topics/t/events?fromOffset=1").status, 200);  // delivers "de" and "f"
  const HttpReply reply = api.Send("GET", "/v1/server");
  ASSERT_EQ(reply.status, 200) << reply.body;
  v1::ServerInfoResponse info;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(reply.body, &info).ok()) << reply.body;
  EXPECT_EQ(info.backend(), "leveldb");
  EXPECT_FALSE(info.sync());
  EXPECT_FALSE(info.version().empty());
  const auto started = std::chrono::system_clock::time_point(std::chrono::nanoseconds(info.started_unix_nanos()));
  EXPECT_GE(started, before_start - 1s);
  EXPECT_LE(started, std::chrono::system_clock::now());
  EXPECT_EQ(info.topics(), 2u);
  EXPECT_EQ(info.events_appended(), 4u);
  EXPECT_EQ(info.bytes_appended(), 10u);
  EXPECT_EQ(info.events_delivered(), 2u);
  EXPECT_EQ(info.bytes_delivered(), 3u);
  EXPECT_GT(info.store_bytes(), 0u);
  EXPECT_EQ(info.node(), server_->address());
  EXPECT_EQ(info.open_streams(), 0u);
}

// ---- live tail ------------------------------------------------------------------------------

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

std::optional<double> OpenStreams(const std::string& http) {
  const HttpReply metrics = HttpGet(http, "/metrics");
  return Sample(metrics.body, "goethe_open_streams");
}

TEST_F(HttpApiTest, FollowTailsATopicAsServerSentEventsFromWhereItIsAsked) {
  Start();
  HttpConnection api(http_);
  ASSERT_EQ(api.Send("POST", "/v1/topics/t/events?payload=text", R"({"payloads":["before"]})").status, 200);

  HttpConnection all(http_);
  ASSERT_TRUE(all.SendRaw("GET /v1/topics/t/events?follow=true&from=beginning&payload=text HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string seen = all.ReadUntil([](const std::string& s) { return s.find("\"before\"") != std::string::npos; }, 10s);
  EXPECT_THAT(seen, HasSubstr("HTTP/1.1 200 OK"));
  EXPECT_THAT(seen, HasSubstr("Content-Type: text/event-stream"));
  EXPECT_THAT(seen, HasSubstr("id: 0\nevent: event\ndata: {"));
  HttpConnection from_end(http_);
  ASSERT_TRUE(from_end.SendRaw("GET /v1/topics/t/events?follow=true&from=end&payload=text HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_THAT(from_end.ReadUntil([](const std::string& s) { return s.find("\r\n\r\n") != std::string::npos; }, 10s),
              HasSubstr("200 OK"));

  // Events produced now reach both, in order, with their offsets as ids.
  ASSERT_EQ(api.Send("POST", "/v1/topics/t/events?payload=text", R"({"payloads":["one","two"]})").status, 200);
  seen += all.ReadUntil([](const std::string& s) { return s.find("\"two\"") != std::string::npos; }, 10s);
  EXPECT_LT(seen.find("\"before\""), seen.find("\"one\""));
  EXPECT_LT(seen.find("\"one\""), seen.find("\"two\""));
  EXPECT_THAT(seen, HasSubstr("id: 2\nevent: event\n"));
  const std::string later = from_end.ReadUntil([](const std::string& s) { return s.find("\"two\"") != std::string::npos; }, 10s);
  EXPECT_THAT(later, HasSubstr("\"one\""));
  EXPECT_THAT(later, Not(HasSubstr("\"before\""))) << "from=end starts after what was there";
  EXPECT_EQ(Count(later, "event: event"), 2);
}

TEST_F(HttpApiTest, AFollowOfAMissingTopicIsA404BeforeAnyStream) {
  Start();
  HttpConnection api(http_);
  HttpReply missing = api.Send("GET", "/v1/topics/nothing/events?follow=true");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.headers["content-type"], "application/json");
  EXPECT_THAT(missing.body, HasSubstr("NOT_FOUND"));
}

TEST_F(HttpApiTest, AFollowEndsWhenItsReaderGoesAwayOrStallsAndTheServerStopsPromptlyWithOneOpen) {
  Start("request_timeout: 500ms");
  HttpConnection api(http_);
  ASSERT_EQ(api.Send("POST", "/v1/topics/t/events?payload=text", R"({"payloads":["x"]})").status, 200);
  {
    HttpConnection reader(http_);
    ASSERT_TRUE(reader.SendRaw("GET /v1/topics/t/events?follow=true&from=end HTTP/1.1\r\nHost: x\r\n\r\n"));
    reader.ReadUntil([](const std::string& s) { return s.find("\r\n\r\n") != std::string::npos; }, 10s);
    EXPECT_EQ(OpenStreams(http_), 1.0);
  }  // gone, while no event comes
  auto closed = [&] { return OpenStreams(http_) == 0.0; };
  auto eventually = [](const std::function<bool()>& done) {
    for (int i = 0; i < 100; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  };
  EXPECT_TRUE(eventually(closed)) << "the tail of a reader that left ends";

  // A reader that reads nothing while 20 MB of events come is dropped once a write stalls past
  // request_timeout, and holds no more than its window meanwhile.
  HttpConnection stalled(http_);
  ASSERT_TRUE(stalled.SendRaw("GET /v1/topics/t/events?follow=true&from=end HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(eventually([&] { return OpenStreams(http_) == 1.0; }));
  const std::string big = R"({"payloads":[)" + [] {
    std::string list;
    for (int i = 0; i < 100; ++i) list += (i ? "," : "") + std::string("\"") + std::string(10000, 'a' + i % 26) + "\"";
    return list;
  }() + "]}";
  for (int i = 0; i < 20; ++i) ASSERT_EQ(api.Send("POST", "/v1/topics/t/events?payload=text", big).status, 200);
  EXPECT_TRUE(eventually(closed)) << "the stalled reader's tail ends";

  HttpConnection open(http_);
  ASSERT_TRUE(open.SendRaw("GET /v1/topics/t/events?follow=true&from=end HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(eventually([&] { return OpenStreams(http_) == 1.0; }));
  const auto stopping = std::chrono::steady_clock::now();
  EXPECT_EQ(server_->Stop(), 0) << server_->output();
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, 8s);
}

}  // namespace
}  // namespace goethe::testing
