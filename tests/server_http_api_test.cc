// The JSON API under /v1 of a real goethe-server: topics, produce and read with base64 or text
// payloads, keys and headers, seek, cursors, and tokens checked as gRPC checks them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "support/http_client.h"
#include "support/server_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace goethe::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

constexpr char kToken[] = "http-api-token-0123456789";

class HttpApiTest : public ::testing::Test {
 protected:
  // A server with HTTP on, and `server` lines under server.
  void Start(const std::string& http = "", const std::string& server = "") {
    std::string lines = server + "http:\n  listen: 127.0.0.1:0\n";
    std::istringstream in(http);
    for (std::string line; std::getline(in, line);) lines += "  " + line + "\n";
    server_ = std::make_unique<ServerProcess>(
        dir_, dir_.WriteFile("goethe.yaml", ServerConfigYaml("leveldb", dir_.Sub("data"), false, lines)));
    http_ = server_->http_address();
    ASSERT_FALSE(http_.empty()) << server_->output();
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string http_;
};


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
}

}  // namespace
}  // namespace goethe::testing
