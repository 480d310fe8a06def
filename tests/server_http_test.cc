// The HTTP listener (server.http) of a real goethe-server: /healthz, /metrics with the values a
// produce and a consume leave behind, the topic-label cap, bearer tokens, and the limits a public
// port needs (header and body size, connections, a client that sends nothing).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <set>

#include "support/grafana_dashboard.h"
#include "support/http_client.h"
#include "support/http_server_fixture.h"
#include "support/prometheus_process.h"
#include "support/server_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/test_pki.h"

namespace goethe::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

constexpr char kToken[] = "http-reader-token-0123456789";

class HttpTest : public HttpServerTest {
 protected:
  void Start(const std::string& http = "", const std::string& server = "") {
    HttpServerTest::Start(http, server);
    if (server_ != nullptr) stub_ = ConnectTo(server_->address());
  }

  grpc::Status Produce(const std::string& topic, const std::vector<std::string>& payloads) {
    v1::ProduceRequest request;
    request.set_topic(topic);
    for (const std::string& payload : payloads) request.add_payloads(payload);
    v1::ProduceResponse response;
    return stub_->Produce(CallWithin(10s).get(), request, &response);
  }

  std::string Scrape(const std::map<std::string, std::string>& headers = {}) {
    const HttpReply reply = HttpGet(http_, "/metrics", headers);
    EXPECT_EQ(reply.status, 200) << reply.error << reply.body;
    return reply.body;
  }

  std::unique_ptr<v1::Goethe::Stub> stub_;
};

TEST_F(HttpTest, HealthzSaysServing) {
  Start();
  HttpReply reply = HttpGet(http_, "/healthz");
  EXPECT_EQ(reply.status, 200) << reply.error;
  EXPECT_EQ(reply.body, "{\"status\":\"SERVING\"}\n");
  EXPECT_EQ(reply.headers["content-type"], "application/json");
}

TEST_F(HttpTest, MetricsCountWhatAProduceAndAConsumeDid) {
  Start();
  const std::string before = Scrape();
  EXPECT_THAT(before, HasSubstr("# TYPE goethe_appended_events_total counter"));
  EXPECT_EQ(Sample(before, "goethe_topics"), 0.0);

  ASSERT_TRUE(Produce("t", {"aaaaa", "bbbbb", "ccccc"}).ok());
  ASSERT_TRUE(Produce("u", {"1234567"}).ok());
  EXPECT_EQ(Produce("not a topic name!", {"x"}).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::ReadRequest read;
  read.set_topic("t");
  read.set_from_offset(0);
  read.set_max_events(10);
  v1::ReadResponse got;
  ASSERT_TRUE(stub_->Read(CallWithin(10s).get(), read, &got).ok());
  ASSERT_EQ(got.events_size(), 3);

  HttpReply reply = HttpGet(http_, "/metrics");
  ASSERT_EQ(reply.status, 200) << reply.error;
  EXPECT_EQ(reply.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = reply.body;
  EXPECT_EQ(Sample(text, "goethe_appended_events_total{topic=\"t\"}"), 3.0) << text;
  EXPECT_EQ(Sample(text, "goethe_appended_bytes_total{topic=\"t\"}"), 15.0);
  EXPECT_EQ(Sample(text, "goethe_appended_events_total{topic=\"u\"}"), 1.0);
  EXPECT_EQ(Sample(text, "goethe_appended_bytes_total{topic=\"u\"}"), 7.0);
  EXPECT_EQ(Sample(text, "goethe_delivered_events_total{topic=\"t\"}"), 3.0);
  EXPECT_EQ(Sample(text, "goethe_delivered_bytes_total{topic=\"t\"}"), 15.0);
  EXPECT_FALSE(Sample(text, "goethe_delivered_events_total{topic=\"u\"}").has_value()) << "nothing read from u";
  EXPECT_EQ(Sample(text, "goethe_grpc_requests_total{method=\"/goethe.v1.Goethe/Produce\",code=\"OK\"}"), 2.0);
  EXPECT_EQ(Sample(text, "goethe_grpc_requests_total{method=\"/goethe.v1.Goethe/Produce\",code=\"INVALID_ARGUMENT\"}"),
            1.0);
  EXPECT_EQ(Sample(text, "goethe_grpc_requests_total{method=\"/goethe.v1.Goethe/Read\",code=\"OK\"}"), 1.0);
  EXPECT_EQ(Sample(text, "goethe_commit_events_sum"), 4.0) << "3 and 1 events in the two commits that appended";
  EXPECT_GE(Sample(text, "goethe_commit_events_count").value_or(0), 2.0);
  EXPECT_GE(Sample(text, "goethe_commit_duration_seconds_count").value_or(0), 2.0);
  EXPECT_GE(Sample(text, "goethe_commit_write_duration_seconds_bucket{le=\"+Inf\"}").value_or(0), 2.0);
  EXPECT_GT(Sample(text, "goethe_commit_write_duration_seconds_sum").value_or(0), 0.0);
  EXPECT_EQ(Sample(text, "goethe_topics"), 2.0);
  EXPECT_EQ(Sample(text, "goethe_topic_events{topic=\"t\"}"), 3.0);
  EXPECT_EQ(Sample(text, "goethe_open_streams"), 0.0);
  EXPECT_FALSE(Sample(text, "goethe_cursor_lag_events{topic=\"t\",consumer=\"billing\"}").has_value());
  v1::CommitCursorRequest commit;
  commit.set_topic("t");
  commit.set_consumer("billing");
  commit.set_offset(0);
  v1::CommitCursorResponse committed;
  ASSERT_TRUE(stub_->CommitCursor(CallWithin(10s).get(), commit, &committed).ok());
  v1::CreateGroupRequest create;
  create.set_topic("t");
  create.set_group("shipping");
  create.mutable_start()->set_beginning(true);
  v1::CreateGroupResponse created;
  ASSERT_TRUE(stub_->CreateGroup(CallWithin(10s).get(), create, &created).ok());
  const std::string lagging = Scrape();
  EXPECT_EQ(Sample(lagging, "goethe_cursor_lag_events{topic=\"t\",consumer=\"billing\"}"), 2.0) << lagging;
  EXPECT_EQ(Sample(lagging, "goethe_group_lag_events{topic=\"t\",group=\"shipping\"}"), 3.0);
  EXPECT_GT(Sample(text, "goethe_store_size_bytes").value_or(0), 0.0);
  EXPECT_GT(Sample(text, "process_resident_memory_bytes").value_or(0), 1e6);
  EXPECT_GT(Sample(text, "process_open_fds").value_or(0), 3.0);
  EXPECT_GE(Sample(text, "process_cpu_seconds_total").value_or(-1), 0.0);
}

TEST_F(HttpTest, TopicLabelsStopAtTheCapAndTheRestCountAsOther) {
  Start();
  constexpr int kTopics = 1010;  // the cap is 1000 (ServerMetrics::kMaxTopicLabels)
  for (int i = 0; i < kTopics; ++i) ASSERT_TRUE(Produce("topic-" + std::to_string(i), {"xy"}).ok()) << i;
  const std::string text = Scrape();
  std::set<std::string> labelled;
  double total = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("goethe_appended_events_total{")) continue;
    labelled.insert(line.substr(0, line.find('}')));
    total += std::stod(line.substr(line.rfind(' ') + 1));
  }
  EXPECT_EQ(labelled.size(), 1001u) << "1000 topics and _other";
  EXPECT_EQ(Sample(text, "goethe_appended_events_total{topic=\"_other\"}"), 10.0);
  EXPECT_EQ(total, kTopics);
  EXPECT_EQ(Sample(text, "goethe_topics"), kTopics);
  EXPECT_EQ(Sample(text, "goethe_topic_events{topic=\"_other\"}"), 10.0);
}

TEST_F(HttpTest, WithTokensConfiguredEveryRouteWantsOneUnlessMetricsAreOpen) {
  const std::string auth = std::string("auth:\n  tokens:\n    - name: reader\n      token: ") + kToken +
                           "\n      grants:\n        - permissions: [consume]\n          topics: \"*\"\n";
  Start("", auth);
  HttpReply none = HttpGet(http_, "/metrics");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.headers["www-authenticate"], "Bearer");
  EXPECT_THAT(none.body, HasSubstr("\"code\":\"UNAUTHENTICATED\""));
  EXPECT_THAT(none.body, HasSubstr("authorization: Bearer <token>"));
  EXPECT_EQ(HttpGet(http_, "/healthz").status, 401);
  EXPECT_EQ(HttpGet(http_, "/metrics", {{"Authorization", "Bearer wrong-token-0123456789"}}).status, 401);
  EXPECT_EQ(HttpGet(http_, "/metrics", {{"Authorization", "Basic abc"}}).status, 401);
  const HttpReply ok = HttpGet(http_, "/metrics", {{"Authorization", std::string("Bearer ") + kToken}});
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_THAT(ok.body, HasSubstr("goethe_topics "));
  server_->Stop();

  Start("open_metrics: true", auth);
  EXPECT_EQ(HttpGet(http_, "/metrics").status, 200);
  EXPECT_EQ(HttpGet(http_, "/healthz").status, 200);
}

// A real Prometheus scrapes the server with a bearer token, as docs/http.md's scrape config says,
// and stores the values a produce left behind.
TEST_F(HttpTest, ARealPrometheusScrapesTheServerAndStoresItsValues) {
  Start("", std::string("auth:\n  tokens:\n    - name: app\n      token: ") + kToken +
                "\n      grants:\n        - permissions: [produce, consume]\n          topics: \"*\"\n");
  v1::ProduceRequest request;
  request.set_topic("t");
  for (const char* payload : {"aaaa", "bbbb", "cccc"}) request.add_payloads(payload);
  v1::ProduceResponse response;
  std::unique_ptr<grpc::ClientContext> call = CallWithin(10s);
  call->AddMetadata("authorization", std::string("Bearer ") + kToken);
  ASSERT_TRUE(stub_->Produce(call.get(), request, &response).ok());

  PrometheusProcess prometheus(dir_, http_, kToken);
  // Prometheus scrapes every second; until a scrape is stored, a query finds nothing.
  auto expect_stored = [&](const std::string& query, const std::string& value) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    std::string answer;
    while (std::chrono::steady_clock::now() < deadline) {
      answer = prometheus.Query(query);
      if (answer.find(",\"" + value + "\"]") != std::string::npos) return;
      std::this_thread::sleep_for(200ms);
    }
    ADD_FAILURE() << query << " never gave " << value << "; last answer: " << answer << "\nprometheus log:\n"
                  << prometheus.log();
  };
  expect_stored("up{job=\"goethe\"}", "1");
  expect_stored("goethe_appended_events_total{topic=\"t\"}", "3");
  expect_stored("goethe_appended_bytes_total{topic=\"t\"}", "12");
  expect_stored("goethe_topic_events{topic=\"t\"}", "3");
  expect_stored("goethe_commit_events_sum", "3");
  expect_stored("goethe_grpc_requests_total{method=\"/goethe.v1.Goethe/Produce\",code=\"OK\"}", "1");

  // Every query of the shipped Grafana dashboard is valid PromQL and names metrics the server has
  // (the cluster's only a cluster has: cluster_test checks those).
  const std::string scrape = Scrape({{"Authorization", std::string("Bearer ") + kToken}});
  int queries = 0;
  for (std::string expr : DashboardQueries()) {
    for (const std::string& name : MetricNamesIn(expr)) {
      if (name.starts_with("goethe_cluster_")) continue;
      EXPECT_TRUE(ScrapeDeclares(scrape, name)) << name << " in " << expr;
    }
    for (const auto& [variable, value] : {std::pair<std::string, std::string>{"$instance", ".*"}, {"$__rate_interval", "1m"}}) {
      for (std::size_t v = expr.find(variable); v != std::string::npos; v = expr.find(variable)) expr.replace(v, variable.size(), value);
    }
    EXPECT_THAT(prometheus.Query(expr), HasSubstr("\"status\":\"success\"")) << expr;
    ++queries;
  }
  EXPECT_GE(queries, 21);
}

// With server.tls the HTTP side speaks HTTPS with the same certificate, and asks for a client
// certificate when client_ca_file is set.
TEST_F(HttpTest, WithServerTlsItIsHttpsAndMutualWhenAsked) {
  TestPki pki(dir_);
  const std::string tls = "tls:\n  cert_file: " + pki.Cert("server") + "\n  key_file: " + pki.Key("server") + "\n";
  Start("", tls);
  HttpReply secure = HttpsGet(http_, "/healthz", pki.Cert("ca"));
  EXPECT_EQ(secure.status, 200) << secure.error;
  EXPECT_EQ(secure.body, "{\"status\":\"SERVING\"}\n");
  EXPECT_EQ(HttpGet(http_, "/healthz").status, 0) << "plaintext is not answered";
  EXPECT_EQ(HttpsGet(http_, "/healthz", pki.Cert("other-ca")).status, 0) << "a certificate the client does not trust";
  server_->Stop();

  Start("", tls + "  client_ca_file: " + pki.Cert("ca") + "\n");
  HttpReply anonymous = HttpsGet(http_, "/healthz", pki.Cert("ca"));
  EXPECT_EQ(anonymous.status, 0) << "no client certificate";
  HttpReply stranger = HttpsGet(http_, "/healthz", pki.Cert("ca"), pki.Cert("other-client"), pki.Key("other-client"));
  EXPECT_EQ(stranger.status, 0) << "a client certificate of another CA";
  HttpReply known = HttpsGet(http_, "/healthz", pki.Cert("ca"), pki.Cert("client"), pki.Key("client"));
  EXPECT_EQ(known.status, 200) << known.error;
}

TEST_F(HttpTest, UnknownRoutesAndMethodsGetJsonErrors) {
  Start();
  const HttpReply missing = HttpGet(http_, "/nothing-here");
  EXPECT_EQ(missing.status, 404);
  EXPECT_THAT(missing.body, HasSubstr("\"code\":\"NOT_FOUND\""));
  HttpConnection connection(http_);
  HttpReply posted = connection.Send("POST", "/metrics", "x");
  EXPECT_EQ(posted.status, 405);
  EXPECT_EQ(posted.headers["allow"], "GET, HEAD");
  // The connection stays usable after an error it could answer.
  EXPECT_EQ(connection.Send("GET", "/healthz").status, 200);
}

TEST_F(HttpTest, TheConsoleIsServedFromTheRepositoryByDefault) {
  Start();
  HttpReply index = HttpGet(http_, "/");
  ASSERT_EQ(index.status, 200) << index.body;
  EXPECT_EQ(index.body, ReadWholeFile(std::string(GOETHE_TEST_SOURCE_DIR) + "/console/index.html"));
  EXPECT_EQ(index.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_THAT(index.headers["content-security-policy"], HasSubstr("default-src 'self'"));
  HttpReply script = HttpGet(http_, "/console/app.js");
  ASSERT_EQ(script.status, 200) << script.body;
  EXPECT_EQ(script.body, ReadWholeFile(std::string(GOETHE_TEST_SOURCE_DIR) + "/console/app.js"));
  EXPECT_EQ(script.headers["content-type"], "text/javascript; charset=utf-8");
}

TEST_F(HttpTest, ConsoleFilesComeOnlyFromTheConsoleDirectory) {
  std::filesystem::create_directories(dir_.Sub("web/pages"));
  dir_.WriteFile("web/index.html", "<!doctype html><title>test console</title>");
  dir_.WriteFile("web/pages/list.js", "export const list = 1;");
  dir_.WriteFile("web/.hidden", "hidden content");
  dir_.WriteFile("secret.txt", "outside the console");
  Start("console_dir: " + dir_.Sub("web"),
        std::string("auth:\n  tokens:\n    - name: reader\n      token: ") + kToken +
            "\n      grants:\n        - permissions: [consume]\n          topics: \"*\"\n");
  // The files hold no data: no token needed (the API they call asks for one).
  HttpReply index = HttpGet(http_, "/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<!doctype html><title>test console</title>");
  EXPECT_EQ(index.headers["cache-control"], "no-cache");
  EXPECT_EQ(index.headers["x-content-type-options"], "nosniff");
  const HttpReply module = HttpGet(http_, "/console/pages/list.js");
  EXPECT_EQ(module.status, 200);
  EXPECT_EQ(module.body, "export const list = 1;");
  EXPECT_EQ(HttpGet(http_, "/v1/topics").status, 401) << "the API still wants a token";
  for (const char* outside : {"/console/../secret.txt", "/console/%2e%2e/secret.txt", "/console/.hidden",
                              "/console//index.html", "/console/", "/console/pages", "/console/nothing.js",
                              "/index.html/../../secret.txt"}) {
    HttpConnection connection(http_);
    ASSERT_TRUE(connection.SendRaw(std::string("GET ") + outside + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    const HttpReply reply = connection.Receive();
    EXPECT_EQ(reply.status, 404) << outside;
    EXPECT_THAT(reply.body, Not(HasSubstr("outside the console"))) << outside;
    EXPECT_THAT(reply.body, Not(HasSubstr("hidden content"))) << outside;
  }
  HttpConnection connection(http_);
  HttpReply posted = connection.Send("POST", "/", "x");
  EXPECT_EQ(posted.status, 405);
  EXPECT_EQ(posted.headers["allow"], "GET, HEAD");
}

TEST_F(HttpTest, OversizedHeadersAndBodiesAreRefusedAndMalformedRequestsGet400) {
  Start("max_header_bytes: 2KiB\nmax_body_bytes: 1KiB");
  const HttpReply headers = HttpGet(http_, "/healthz", {{"X-Filler", std::string(4096, 'a')}});
  EXPECT_EQ(headers.status, 431) << headers.error;
  EXPECT_THAT(headers.body, HasSubstr("server.http.max_header_bytes"));
  HttpConnection connection(http_);
  const HttpReply body = connection.Send("POST", "/metrics", std::string(4096, 'b'));
  EXPECT_EQ(body.status, 413) << body.error;
  EXPECT_THAT(body.body, HasSubstr("server.http.max_body_bytes"));
  HttpConnection garbage(http_);
  ASSERT_TRUE(garbage.SendRaw("NOT HTTP AT ALL\r\n\r\n"));
  EXPECT_EQ(garbage.Receive().status, 400);
  // The server is still fine.
  EXPECT_EQ(HttpGet(http_, "/healthz").status, 200);
}

TEST_F(HttpTest, AClientThatSendsNothingIsDroppedAfterTheRequestTimeout) {
  Start("request_timeout: 300ms");
  HttpConnection silent(http_);
  ASSERT_TRUE(silent.connected());
  const auto began = std::chrono::steady_clock::now();
  const HttpReply reply = silent.Receive();  // the server closes: no answer
  const auto waited = std::chrono::steady_clock::now() - began;
  EXPECT_EQ(reply.status, 0);
  EXPECT_LT(waited, 5s) << "the client's own timeout is 10 s";
  // A client that sends half a request is dropped too.
  HttpConnection partial(http_);
  ASSERT_TRUE(partial.SendRaw("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
  EXPECT_EQ(partial.Receive().status, 0);
  EXPECT_EQ(HttpGet(http_, "/healthz").status, 200);
}

TEST_F(HttpTest, ConnectionsBeyondTheLimitAreClosedAndTheOthersServed) {
  Start("max_connections: 2");
  HttpConnection first(http_), second(http_);
  ASSERT_EQ(first.Send("GET", "/healthz").status, 200);
  ASSERT_EQ(second.Send("GET", "/healthz").status, 200);
  HttpConnection third(http_);
  const HttpReply refused = third.connected() ? third.Send("GET", "/healthz") : HttpReply{};
  EXPECT_EQ(refused.status, 0) << "a third connection is closed unanswered";
  EXPECT_EQ(first.Send("GET", "/healthz").status, 200);
  EXPECT_EQ(second.Send("GET", "/healthz").status, 200);
}

TEST_F(HttpTest, AnAddressThatCannotBeBoundStopsTheServerWithOneClearLine) {
  const std::string config = dir_.WriteFile(
      "bad.yaml", ServerConfigYaml("leveldb", dir_.Sub("data"), false, "http:\n  listen: 192.0.2.1:8080\n"));
  try {
    ServerProcess server(dir_, config, 20s);
    ADD_FAILURE() << "the server started: " << server.output();
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("server.http.listen: cannot listen on 192.0.2.1:8080"));
  }
}

}  // namespace
}  // namespace goethe::testing
