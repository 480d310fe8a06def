// The YAML config: defaults, every section, and the exact one-line errors a user sees.
#include <gtest/gtest.h>

#include <filesystem>

#include "goethe/engine/config.h"
#include "support/temp_dir.h"

namespace goethe {
namespace {

using testing::TempDir;

class ConfigTest : public ::testing::Test {
 protected:
  // Loads `yaml` from a file named goethe.yaml; returns the error message, or "" on success.
  std::string ErrorOf(const std::string& yaml) {
    auto config = LoadConfig(dir_.WriteFile("goethe.yaml", yaml));
    return config.ok() ? "" : config.status().message();
  }
  std::string File() const { return dir_.Sub("goethe.yaml"); }

  TempDir dir_;
};

TEST_F(ConfigTest, EmptyFileGivesTheDefaults) {
  auto config = LoadConfig(dir_.WriteFile("goethe.yaml", ""));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->storage.backend, "leveldb");
  EXPECT_EQ(config->storage.path, "./data");
  EXPECT_TRUE(config->storage.sync);
  EXPECT_EQ(config->server.listen, "127.0.0.1:50051");
  EXPECT_EQ(config->engine.max_event_bytes, 1u << 20);
  EXPECT_FALSE(config->engine.key_order.has_value()) << "unset: each store keeps its own order";
}

TEST_F(ConfigTest, ReadsEverySection) {
  auto config = LoadConfig(dir_.WriteFile("goethe.yaml", R"(
storage:
  backend: lmdb
  path: /var/lib/goethe
  sync: false
  plugin_dir: /opt/plugins
  options:
    map_size: 1GiB
    no_meta_sync: true
engine:
  max_event_bytes: 64KiB
  idempotency_window: 90s
  time_index_granularity: 1h
  retention_interval: 500ms
  max_commit_events: 1000
  max_key_bytes: 16
  max_headers: 0
  key_order: time
server:
  listen: 0.0.0.0:6000
  log_level: debug
  auto_create_topics: false
  max_events_per_produce: 50
  max_concurrent_streams: 7
  max_consume_window: 99
)"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->storage.backend, "lmdb");
  EXPECT_FALSE(config->storage.sync);
  EXPECT_EQ(config->storage.plugin_dir, "/opt/plugins");
  EXPECT_EQ(config->storage.options.at("map_size"), "1GiB");
  EXPECT_EQ(config->storage.options.at("no_meta_sync"), "true");
  EXPECT_EQ(config->engine.max_event_bytes, 64u * 1024);
  EXPECT_EQ(config->engine.idempotency_window, std::chrono::seconds(90));
  EXPECT_EQ(config->engine.time_index_granularity, std::chrono::hours(1));
  EXPECT_EQ(config->engine.retention_interval, std::chrono::milliseconds(500));
  EXPECT_EQ(config->engine.max_commit_events, 1000u);
  EXPECT_EQ(config->engine.max_key_bytes, 16u);
  EXPECT_EQ(config->engine.max_headers, 0u);
  EXPECT_EQ(config->engine.key_order, KeyOrder::kTime);
  EXPECT_EQ(config->server.listen, "0.0.0.0:6000");
  EXPECT_EQ(config->server.log_level, "debug");
  EXPECT_FALSE(config->server.auto_create_topics);
  EXPECT_EQ(config->server.max_events_per_produce, 50u);
  EXPECT_EQ(config->server.max_concurrent_streams, 7u);
  EXPECT_EQ(config->server.max_consume_window, 99u);
  EXPECT_EQ(config->Where("storage.options.map_size"), File() + ":8: storage.options.map_size");
}

TEST_F(ConfigTest, MissingFileIsNamed) {
  auto config = LoadConfig(dir_.Sub("absent.yaml"));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(), dir_.Sub("absent.yaml") + ": cannot read the config file");
}

TEST_F(ConfigTest, SyntaxErrorNamesFileLineAndColumn) {
  EXPECT_EQ(ErrorOf("storage:\n  backend: [leveldb\n"),
            File() + ":3:1: YAML syntax error: end of sequence flow not found");
}

TEST_F(ConfigTest, UnknownKeysAreRefusedWithTheKnownOnes) {
  EXPECT_EQ(ErrorOf("storage:\n  backend: leveldb\n  pth: ./x\n"),
            File() + ":3: storage.pth: unknown key (known: backend, options, path, plugin_dir, sync)");
  EXPECT_EQ(ErrorOf("storgae:\n  backend: leveldb\n"),
            File() + ":1: storgae: unknown key (known: cluster, engine, replication, server, storage)");
}

TEST_F(ConfigTest, WrongTypesNameTheKeyAndWhatWasExpected) {
  EXPECT_EQ(ErrorOf("storage:\n  sync: yes please\n"),
            File() + ":2: storage.sync: expected true or false, got 'yes please'");
  EXPECT_EQ(ErrorOf("storage:\n  path: [a, b]\n"),
            File() + ":2: storage.path: expected a non-empty string, got a list");
  EXPECT_EQ(ErrorOf("engine:\n  idempotency_window: soon\n"),
            File() + ":2: engine.idempotency_window: expected a positive duration such as 500ms, "
                     "10s, 5m, 1h or 1d, got 'soon'");
  EXPECT_EQ(ErrorOf("engine:\n  max_event_bytes: -1\n"),
            File() + ":2: engine.max_event_bytes: expected a positive size in bytes (suffixes KiB, "
                     "MiB, GiB), got '-1'");
  EXPECT_EQ(ErrorOf("engine:\n  max_key_bytes: 256\n"),
            File() + ":2: engine.max_key_bytes: expected an integer from 0 to 255, got '256'");
  EXPECT_EQ(ErrorOf("engine:\n  max_headers: 70000\n"),
            File() + ":2: engine.max_headers: expected an integer from 0 to 65535, got '70000'");
  EXPECT_EQ(ErrorOf("server:\n  max_consume_window: 0\n"),
            File() + ":2: server.max_consume_window: expected an integer from 1 to 4294967295, got '0'");
  EXPECT_EQ(ErrorOf("engine:\n  key_order: offset\n"),
            File() + ":2: engine.key_order: expected topic or time, got 'offset'");
  EXPECT_EQ(ErrorOf("server:\n  log_level: loud\n"),
            File() + ":2: server.log_level: expected one of trace, debug, info, warn, error, "
                     "critical, off, got 'loud'");
  EXPECT_EQ(ErrorOf("storage:\n  options:\n    map_size:\n      nested: 1\n"),
            File() + ":3: storage.options.map_size: expected a single value, got a mapping");
  EXPECT_EQ(ErrorOf("storage: 5\n"), File() + ":1: storage: expected a mapping of keys");
  EXPECT_EQ(ErrorOf("- a\n- b\n"),
            File() + ":1: expected a mapping with storage, engine, server, cluster, replication");
}

TEST_F(ConfigTest, ReadsServerHttpAndNamesItsErrors) {
  auto config = LoadConfig(dir_.WriteFile(
      "goethe.yaml",
      "server:\n  http:\n    listen: 127.0.0.1:9090\n    max_connections: 3\n    max_header_bytes: 4KiB\n"
      "    max_body_bytes: 1MiB\n    request_timeout: 2s\n    idle_timeout: 30s\n    open_metrics: true\n"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const HttpConfig& http = config->server.http;
  EXPECT_TRUE(http.enabled());
  EXPECT_EQ(http.listen, "127.0.0.1:9090");
  EXPECT_EQ(http.max_connections, 3u);
  EXPECT_EQ(http.max_header_bytes, 4096u);
  EXPECT_EQ(http.max_body_bytes, 1u << 20);
  EXPECT_EQ(http.request_timeout, std::chrono::seconds(2));
  EXPECT_EQ(http.idle_timeout, std::chrono::seconds(30));
  EXPECT_TRUE(http.open_metrics);
  EXPECT_FALSE(LoadConfig(dir_.WriteFile("goethe.yaml", ""))->server.http.enabled()) << "off unless configured";

  EXPECT_EQ(ErrorOf("server:\n  http:\n    listen: 127.0.0.1:1\n    max_header_bytes: 100\n"),
            File() + ":4: server.http.max_header_bytes: expected at least 1KiB, got 100 bytes");
  EXPECT_EQ(ErrorOf("server:\n  http:\n    port: 80\n"),
            File() + ":3: server.http.port: unknown key (known: console_dir, idle_timeout, listen, "
                     "max_body_bytes, max_connections, max_header_bytes, open_metrics, request_timeout)");
  EXPECT_EQ(ErrorOf("server:\n  http:\n    request_timeout: 0s\n"),
            File() + ":3: server.http.request_timeout: expected a positive duration such as 500ms, 10s, 5m, 1h or "
                     "1d, got '0s'");
}

TEST_F(ConfigTest, ConsoleDirResolvesAgainstTheConfigAndMustHoldTheConsole) {
  std::filesystem::create_directories(dir_.Sub("web"));
  dir_.WriteFile("web/index.html", "<!doctype html>");
  auto config = LoadConfig(dir_.WriteFile("goethe.yaml", "server:\n  http:\n    console_dir: web\n"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server.http.console_dir, dir_.Sub("web"));
  EXPECT_EQ(ErrorOf("server:\n  http:\n    console_dir: nowhere\n"),
            File() + ":3: server.http.console_dir: expected a directory holding the web console's index.html, got " +
                dir_.Sub("nowhere"));
}

TEST_F(ConfigTest, TheShippedConfigLoadsAndTurnsHttpOnAtPort8080) {
  auto config = LoadConfig(std::string(GOETHE_TEST_SOURCE_DIR) + "/config/goethe.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server.listen, "127.0.0.1:50051");
  EXPECT_EQ(config->server.http.listen, "127.0.0.1:8080");
  EXPECT_EQ(config->storage.path, "./data");
}

TEST_F(ConfigTest, TlsPathsResolveAgainstTheConfigDirectory) {
  dir_.WriteFile("server.pem", "cert");
  dir_.WriteFile("server.key", "key");
  dir_.WriteFile("clients.pem", "ca");
  auto config = LoadConfig(dir_.WriteFile("goethe.yaml", "server:\n  tls:\n    cert_file: server.pem\n"
                                                         "    key_file: ./server.key\n    client_ca_file: " +
                                                         dir_.Sub("clients.pem") + "\n"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->server.tls.enabled());
  EXPECT_EQ(config->server.tls.cert_file, dir_.Sub("server.pem"));
  EXPECT_EQ(config->server.tls.key_file, dir_.Sub("server.key"));
  EXPECT_EQ(config->server.tls.client_ca_file, dir_.Sub("clients.pem"));
  EXPECT_FALSE(config->server.auth.enabled);
}

TEST_F(ConfigTest, TlsErrorsNameTheKey) {
  dir_.WriteFile("server.pem", "cert");
  EXPECT_EQ(ErrorOf("server:\n  tls:\n    cert_file: server.pem\n"),
            File() + ":3: server.tls.cert_file: expected server.tls.key_file too: the certificate's private key");
  EXPECT_EQ(ErrorOf("server:\n  tls:\n    key_file: server.pem\n"),
            File() + ":3: server.tls.key_file: expected server.tls.cert_file too: a key without its certificate");
  EXPECT_EQ(ErrorOf("server:\n  tls:\n    client_ca_file: server.pem\n"),
            File() + ":3: server.tls.client_ca_file: expected server.tls.cert_file and key_file too: client "
                     "certificates are only asked for over TLS");
  EXPECT_EQ(ErrorOf("server:\n  tls:\n    cert_file: server.pem\n    key_file: absent.key\n"),
            File() + ":4: server.tls.key_file: cannot read '" + dir_.Sub("absent.key") + "' (no such file)");
  EXPECT_EQ(ErrorOf("server:\n  tls:\n    cert_file: server.pem\n    key_file: .\n"),
            File() + ":4: server.tls.key_file: cannot read '" + dir_.path().string() + "/' (not a regular file)");
  EXPECT_EQ(ErrorOf("server:\n  tls:\n    cert: server.pem\n"),
            File() + ":3: server.tls.cert: unknown key (known: cert_file, client_ca_file, key_file)");
  EXPECT_EQ(ErrorOf("server:\n  tls:\n    cert_file: [a]\n"),
            File() + ":3: server.tls.cert_file: expected a file path, got a list");
}

TEST_F(ConfigTest, ReadsTokensInlineAndFromTokenFiles) {
  dir_.WriteFile("reader.token", "  reader-token-0123456789\n");
  auto config = LoadConfig(dir_.WriteFile("goethe.yaml", R"(
server:
  auth:
    tokens:
      - name: ingest
        token: ingest-token-0123456789
        grants:
          - permissions: [produce]
            topics: "orders.*"
      - name: reader
        token_file: reader.token
        grants:
          - permissions: consume
            topics: [orders.eu, "audit-?", "log[0-9]"]
          - permissions: [admin, produce]
            topics: "*"
)"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const AuthConfig& auth = config->server.auth;
  ASSERT_TRUE(auth.enabled);
  ASSERT_EQ(auth.tokens.size(), 2u);
  EXPECT_EQ(auth.tokens[0].name, "ingest");
  EXPECT_EQ(auth.tokens[0].token, "ingest-token-0123456789");
  ASSERT_EQ(auth.tokens[0].grants.size(), 1u);
  EXPECT_EQ(auth.tokens[0].grants[0].permissions, Bit(Permission::kProduce));
  EXPECT_EQ(auth.tokens[0].grants[0].topics, std::vector<std::string>{"orders.*"});
  EXPECT_EQ(auth.tokens[1].token, "reader-token-0123456789");  // surrounding white space dropped
  ASSERT_EQ(auth.tokens[1].grants.size(), 2u);
  EXPECT_EQ(auth.tokens[1].grants[0].permissions, Bit(Permission::kConsume));
  EXPECT_EQ(auth.tokens[1].grants[0].topics, (std::vector<std::string>{"orders.eu", "audit-?", "log[0-9]"}));
  EXPECT_EQ(auth.tokens[1].grants[1].permissions, Bit(Permission::kAdmin) | Bit(Permission::kProduce));
}

TEST_F(ConfigTest, ReadsATokensFileRelativeToTheConfig) {
  std::filesystem::create_directories(dir_.Sub("secrets"));
  dir_.WriteFile("secrets/ops.token", "ops-token-0123456789abcdef\n");
  dir_.WriteFile("secrets/tokens.yaml", "tokens:\n  - name: ops\n    token_file: ops.token\n"
                                        "    grants:\n      - {permissions: [admin], topics: '*'}\n");
  auto config = LoadConfig(dir_.WriteFile("goethe.yaml", "server:\n  auth:\n    tokens_file: secrets/tokens.yaml\n"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->server.auth.tokens.size(), 1u);
  EXPECT_EQ(config->server.auth.tokens[0].name, "ops");
  EXPECT_EQ(config->server.auth.tokens[0].token, "ops-token-0123456789abcdef");  // token_file beside tokens.yaml

  // An error inside the tokens file names that file, its line and the key there.
  const std::string tokens = dir_.WriteFile("secrets/tokens.yaml", "tokens:\n  - name: ops\n    token_file: ops.token\n"
                                                                    "    grants:\n      - {permissions: [root], topics: '*'}\n");
  EXPECT_EQ(ErrorOf("server:\n  auth:\n    tokens_file: secrets/tokens.yaml\n"),
            tokens + ":5: tokens[0].grants[0].permissions: unknown permission 'root' (known: produce, consume, admin)");
  EXPECT_EQ(ErrorOf("server:\n  auth:\n    tokens_file: secrets/absent.yaml\n"),
            File() + ":3: server.auth.tokens_file: cannot read '" + dir_.Sub("secrets/absent.yaml") + "' (no such file)");
  dir_.WriteFile("secrets/tokens.yaml", "tokens: []\n");
  EXPECT_EQ(ErrorOf("server:\n  auth:\n    tokens_file: secrets/tokens.yaml\n"),
            tokens + ":1: tokens: expected a list of tokens, each with name, token or token_file, and grants, got a list");
}

TEST_F(ConfigTest, AuthErrorsNameTheKeyAndNeverTheToken) {
  const std::string secret = "s3cret-0123456789-abcdef";
  auto token = [](const std::string& name, const std::string& value, const std::string& grants =
                      "        grants:\n          - {permissions: [consume], topics: '*'}\n") {
    return "      - name: " + name + "\n        token: \"" + value + "\"\n" + grants;
  };
  const std::string head = "server:\n  auth:\n    tokens:\n";
  EXPECT_EQ(ErrorOf("server:\n  auth:\n"), File() + ":2: server.auth: expected exactly one of tokens and tokens_file");
  EXPECT_EQ(ErrorOf("server:\n  auth:\n    tokenz: []\n"),
            File() + ":3: server.auth.tokenz: unknown key (known: tokens, tokens_file)");

  std::string error = ErrorOf(head + token("a", "short"));
  EXPECT_EQ(error, File() + ":5: server.auth.tokens[0].token: expected a token of at least 16 characters, e.g. "
                            "from `openssl rand -hex 32`; got 5");
  error = ErrorOf(head + token("a", "with space " + secret));
  EXPECT_EQ(error, File() + ":5: server.auth.tokens[0].token: expected a token of printable ASCII characters "
                            "without spaces: it travels in an HTTP header");
  error = ErrorOf(head + token("a", secret) + token("b", secret));
  EXPECT_EQ(error, File() + ":8: server.auth.tokens[1]: the same token as server.auth.tokens[0] (every token "
                            "must be unique)");
  EXPECT_EQ(error.find(secret), std::string::npos);
  EXPECT_EQ(ErrorOf(head + token("a", secret) + token("a", secret + "x")),
            File() + ":8: server.auth.tokens[1]: the name 'a' is already used by server.auth.tokens[0] (every "
                     "token needs a name of its own)");
  EXPECT_EQ(ErrorOf(head + token("a", secret, "")),
            File() + ":4: server.auth.tokens[0]: expected grants: a list of permissions on topics");
  EXPECT_EQ(ErrorOf(head + "      - name: a\n        grants: [{permissions: [admin], topics: '*'}]\n"),
            File() + ":4: server.auth.tokens[0]: expected exactly one of token and token_file");
  EXPECT_EQ(ErrorOf(head + token("a", secret) + "        token_file: a.token\n"),
            File() + ":8: server.auth.tokens[0].token_file: cannot read '" + dir_.Sub("a.token") + "' (no such file)");
  dir_.WriteFile("empty.token", "\n");
  EXPECT_EQ(ErrorOf(head + "      - name: a\n        token_file: empty.token\n"),
            File() + ":5: server.auth.tokens[0].token_file: expected a token of at least 16 characters (in '" +
                dir_.Sub("empty.token") + "'), e.g. from `openssl rand -hex 32`; got 0");
  EXPECT_EQ(ErrorOf(head + token("a", secret, "        grants:\n          - {permissions: [read], topics: '*'}\n")),
            File() + ":7: server.auth.tokens[0].grants[0].permissions: unknown permission 'read' (known: produce, "
                     "consume, admin)");
  EXPECT_EQ(ErrorOf(head + token("a", secret, "        grants:\n          - {permissions: [admin]}\n")),
            File() + ":7: server.auth.tokens[0].grants[0]: expected topics: a topic pattern or a list of them");
  for (const char* bad : {"orders/*", "[a-z", "x]", "[]", "a b"}) {
    EXPECT_EQ(ErrorOf(head + token("a", secret, std::string("        grants:\n          - permissions: [admin]\n") +
                                                    "            topics: \"" + bad + "\"\n")),
              File() + ":8: server.auth.tokens[0].grants[0].topics: expected a topic pattern of letters, digits, "
                       "'.', '_', '-', with * (any run), ? (one character) and [set] (one of a set), got '" +
                  bad + "'");
  }
  EXPECT_EQ(ErrorOf(head + "      - " + secret + "\n"),
            File() + ":4: server.auth.tokens[0]: expected a mapping with name, token or token_file, and grants, got a "
                     "string");
}

// The cluster section: what LoadConfig gives a clustered node, and the errors a user sees.
class ConfigClusterTest : public ConfigTest {
 protected:
  // A valid cluster section (lines 1-4: cluster, node, etcd, endpoints) followed by `more`, which
  // starts at line 5: indented by 2 it is in cluster, by 4 in cluster.etcd.
  static std::string Cluster(const std::string& more) {
    return "cluster:\n  node: n1\n  etcd:\n    endpoints: 127.0.0.1:2379\n" + more;
  }
};

TEST_F(ConfigClusterTest, ReadsEveryKey) {
  std::filesystem::create_directories(dir_.Sub("secrets"));
  std::filesystem::create_directories(dir_.Sub("tls"));
  dir_.WriteFile("secrets/etcd.pass", "hunter2\n");
  dir_.WriteFile("tls/etcd-ca.pem", "ca");
  dir_.WriteFile("tls/client.pem", "cert");
  dir_.WriteFile("client.key", "key");
  auto config = LoadConfig(dir_.WriteFile("goethe.yaml", R"(server:
  listen: 0.0.0.0:50051
cluster:
  name: prod.eu-1
  node: n1_a
  advertise: goethe-1.internal:50051
  session_ttl: 5s
  etcd:
    endpoints:
      - 10.0.0.10:2379
      - etcd-2.internal:2379
      - "[fd00::3]:2379"
    connect_timeout: 90s
    wait_at_start: true
    username: goethe
    password_file: secrets/etcd.pass
    tls:
      ca_file: tls/etcd-ca.pem
      cert_file: ./tls/client.pem
      key_file: )" + dir_.Sub("client.key") + "\n"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const ClusterConfig& cluster = config->cluster;
  EXPECT_TRUE(cluster.enabled);
  EXPECT_EQ(cluster.name, "prod.eu-1");
  EXPECT_EQ(cluster.node, "n1_a");
  EXPECT_EQ(cluster.advertise, "goethe-1.internal:50051");
  EXPECT_EQ(cluster.session_ttl, std::chrono::seconds(5));
  EXPECT_EQ(cluster.etcd.endpoints,
            (std::vector<std::string>{"10.0.0.10:2379", "etcd-2.internal:2379", "[fd00::3]:2379"}));
  EXPECT_EQ(cluster.etcd.connect_timeout, std::chrono::seconds(90));
  EXPECT_TRUE(cluster.etcd.wait_at_start);
  EXPECT_EQ(cluster.etcd.username, "goethe");
  EXPECT_EQ(cluster.etcd.password_file, dir_.Sub("secrets/etcd.pass"));
  EXPECT_TRUE(cluster.etcd.tls.enabled());
  EXPECT_EQ(cluster.etcd.tls.ca_file, dir_.Sub("tls/etcd-ca.pem"));
  EXPECT_EQ(cluster.etcd.tls.cert_file, dir_.Sub("tls/client.pem"));
  EXPECT_EQ(cluster.etcd.tls.key_file, dir_.Sub("client.key"));
  EXPECT_EQ(config->Where("cluster.etcd.endpoints[2]"), File() + ":12: cluster.etcd.endpoints[2]");
  EXPECT_EQ(config->Where("cluster.etcd.tls.key_file"), File() + ":20: cluster.etcd.tls.key_file");
}

TEST_F(ConfigClusterTest, AbsentMeansASingleNodeWithTheDefaults) {
  auto config = LoadConfig(dir_.WriteFile("goethe.yaml", "server:\n  listen: 0.0.0.0:50051\n"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const ClusterConfig& cluster = config->cluster;
  EXPECT_FALSE(cluster.enabled);
  EXPECT_EQ(cluster.name, "goethe");
  EXPECT_EQ(cluster.node, "");
  EXPECT_EQ(cluster.advertise, "");  // a wildcard listen is fine without a cluster
  EXPECT_EQ(cluster.session_ttl, std::chrono::seconds(2));
  EXPECT_TRUE(cluster.etcd.endpoints.empty());
  EXPECT_EQ(cluster.etcd.connect_timeout, std::chrono::seconds(5));
  EXPECT_FALSE(cluster.etcd.wait_at_start);
  EXPECT_EQ(cluster.etcd.username, "");
  EXPECT_EQ(cluster.etcd.password_file, "");
  EXPECT_FALSE(cluster.etcd.tls.enabled());

  // The smallest cluster section: the defaults of everything but node and endpoints.
  config = LoadConfig(dir_.WriteFile("goethe.yaml", Cluster("")));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->cluster.enabled);
  EXPECT_EQ(config->cluster.name, "goethe");
  EXPECT_EQ(config->cluster.session_ttl, std::chrono::seconds(2));
  EXPECT_EQ(config->cluster.etcd.connect_timeout, std::chrono::seconds(5));
  EXPECT_FALSE(config->cluster.etcd.wait_at_start);
  EXPECT_FALSE(config->cluster.etcd.tls.enabled());
}

TEST_F(ConfigClusterTest, AcceptsOneEndpointAsAString) {
  auto config =
      LoadConfig(dir_.WriteFile("goethe.yaml", "cluster:\n  node: n1\n  etcd:\n    endpoints: \"[::1]:2379\"\n"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->cluster.etcd.endpoints, std::vector<std::string>{"[::1]:2379"});
  config = LoadConfig(dir_.WriteFile("goethe.yaml", "cluster: {node: n1, etcd: {endpoints: [etcd:2379]}}\n"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->cluster.etcd.endpoints, std::vector<std::string>{"etcd:2379"});
}

TEST_F(ConfigClusterTest, AdvertiseDefaultsToTheConfiguredListenAddress) {
  // server.listen after cluster: the default is taken once the whole file is read.
  auto config = LoadConfig(dir_.WriteFile("goethe.yaml", Cluster("server:\n  listen: 10.1.2.3:7000\n")));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->cluster.advertise, "10.1.2.3:7000");
  config = LoadConfig(dir_.WriteFile("goethe.yaml", Cluster("")));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->cluster.advertise, "127.0.0.1:50051");  // server.listen's default
  // A wildcard listen is fine when advertise is set.
  config = LoadConfig(dir_.WriteFile("goethe.yaml", Cluster("  advertise: n1.internal:50051\nserver:\n  listen: "
                                                           "0.0.0.0:50051\n")));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->cluster.advertise, "n1.internal:50051");
  EXPECT_EQ(config->server.listen, "0.0.0.0:50051");
}

TEST_F(ConfigClusterTest, AdvertiseDefaultRefusesAListenAddressPeersCannotReach) {
  const std::string fix = "; set cluster.advertise to the host:port other nodes and clients reach this node at";
  for (const std::string listen : {"0.0.0.0:50051", "[::]:50051", ":50051", "[0:0::0]:50051"}) {
    EXPECT_EQ(ErrorOf(Cluster("server:\n  listen: \"" + listen + "\"\n")),
              File() + ":1: cluster.advertise: not set, so it would be server.listen '" + listen +
                  "', which other nodes cannot connect to (a wildcard host)" + fix);
  }
  EXPECT_EQ(ErrorOf(Cluster("server:\n  listen: 127.0.0.1:0\n")),
            File() + ":1: cluster.advertise: not set, so it would be server.listen '127.0.0.1:0', which other "
                     "nodes cannot connect to (expected a port from 1 to 65535)" + fix);
  // Written, it is checked where it is written.
  EXPECT_EQ(ErrorOf(Cluster("  advertise: 0.0.0.0:50051\n")),
            File() + ":5: cluster.advertise: expected an address other nodes can connect to, got the wildcard "
                     "'0.0.0.0:50051'");
  EXPECT_EQ(ErrorOf(Cluster("  advertise: n1.internal\n")),
            File() + ":5: cluster.advertise: expected host:port, with a port, got 'n1.internal'");
  EXPECT_EQ(ErrorOf(Cluster("  advertise: [a, b]\n")),
            File() + ":5: cluster.advertise: expected host:port, got a list");
}

TEST_F(ConfigClusterTest, NamesFollowTheEtcdKeyRule) {
  const std::string rule = " of 1 to 63 characters: lowercase letters, digits, '.', '_', '-', starting with a "
                           "letter or digit, got ";
  for (const std::string bad : {"Prod", "-prod", ".x", "a/b", "a b", "é"}) {
    EXPECT_EQ(ErrorOf(Cluster("  name: \"" + bad + "\"\n")),
              File() + ":5: cluster.name: expected a cluster name" + rule + "'" + bad + "'");
  }
  EXPECT_EQ(ErrorOf(Cluster("  name: " + std::string(64, 'a') + "\n")),
            File() + ":5: cluster.name: expected a cluster name" + rule + "'" + std::string(64, 'a') + "'");
  EXPECT_EQ(ErrorOf(Cluster("  name: \"\"\n")), File() + ":5: cluster.name: expected a cluster name" + rule + "''");
  EXPECT_EQ(ErrorOf(Cluster("  name: {a: 1}\n")),
            File() + ":5: cluster.name: expected a cluster name" + rule + "a mapping");
  EXPECT_EQ(ErrorOf("cluster:\n  node: N1\n"), File() + ":2: cluster.node: expected a node name" + rule + "'N1'");
  auto config = LoadConfig(dir_.WriteFile("goethe.yaml", Cluster("  name: 0" + std::string(62, 'z') + "\n")));
  EXPECT_TRUE(config.ok()) << config.status().ToString();
}

TEST_F(ConfigClusterTest, NodeAndEndpointsAreRequired) {
  EXPECT_EQ(ErrorOf("cluster:\n"),
            File() + ":1: cluster.node: expected this node's name, unique in the cluster (lowercase letters, "
                     "digits, '.', '_', '-')");
  EXPECT_EQ(ErrorOf("storage:\n  sync: true\ncluster:\n  etcd:\n    endpoints: 127.0.0.1:2379\n"),
            File() + ":3: cluster.node: expected this node's name, unique in the cluster (lowercase letters, "
                     "digits, '.', '_', '-')");
  const std::string endpoints = "cluster.etcd.endpoints: expected the etcd endpoints (host:port, or a list of "
                                "them): a cluster needs etcd";
  EXPECT_EQ(ErrorOf("cluster:\n  node: n1\n"), File() + ":1: " + endpoints);
  EXPECT_EQ(ErrorOf("cluster:\n  node: n1\n  etcd:\n    wait_at_start: true\n"), File() + ":3: " + endpoints);
  EXPECT_EQ(ErrorOf("cluster:\n  node: n1\n  etcd:\n    endpoints: []\n"),
            File() + ":4: cluster.etcd.endpoints: expected a list of etcd endpoints (host:port), got a list");
  EXPECT_EQ(ErrorOf("cluster:\n  node: n1\n  etcd:\n    endpoints:\n"),
            File() + ":4: cluster.etcd.endpoints: expected a list of etcd endpoints (host:port), got nothing");
}

TEST_F(ConfigClusterTest, EndpointsAreHostAndPort) {
  auto error = [this](const std::string& endpoint) {
    return ErrorOf("cluster:\n  node: n1\n  etcd:\n    endpoints: \"" + endpoint + "\"\n");
  };
  const std::string at = File() + ":4: cluster.etcd.endpoints: expected ";
  EXPECT_EQ(error("localhost"), at + "host:port, with a port, got 'localhost'");
  EXPECT_EQ(error(":2379"), at + "a host before the port, got ':2379'");
  for (const std::string port : {"0", "65536", "x", "", "-1", "123456"}) {
    EXPECT_EQ(error("etcd:" + port), at + "a port from 1 to 65535, got 'etcd:" + port + "'");
  }
  EXPECT_EQ(error("http://etcd:2379"), at + "host:port without a scheme, got 'http://etcd:2379'");
  EXPECT_EQ(error("::1:2379"), at + "an IPv6 address in brackets, such as [::1]:2379, got '::1:2379'");
  EXPECT_EQ(error("[zz]:2379"), at + "an IPv6 address in brackets, such as [::1]:2379, got '[zz]:2379'");
  EXPECT_EQ(error("[::1]"), at + "a port after the brackets, such as [::1]:2379, got '[::1]'");
  EXPECT_EQ(error("et cd:2379"),
            at + "a host of letters, digits, '.', '-', '_' (or an IPv6 address in brackets), got 'et cd:2379'");
  EXPECT_EQ(error("0.0.0.0:2379"), at + "an address other nodes can connect to, got the wildcard '0.0.0.0:2379'");
  // In a list, each endpoint is named by its index and line.
  EXPECT_EQ(ErrorOf("cluster:\n  node: n1\n  etcd:\n    endpoints:\n      - etcd-1:2379\n      - etcd-2\n"),
            File() + ":6: cluster.etcd.endpoints[1]: expected host:port, with a port, got 'etcd-2'");
  EXPECT_EQ(ErrorOf("cluster:\n  node: n1\n  etcd:\n    endpoints:\n      - etcd-1:2379\n      - {host: etcd-2}\n"),
            File() + ":6: cluster.etcd.endpoints[1]: expected host:port, got a mapping");
  EXPECT_EQ(ErrorOf("cluster:\n  node: n1\n  etcd:\n    endpoints: {host: etcd-2}\n"),
            File() + ":4: cluster.etcd.endpoints: expected a list of etcd endpoints (host:port), got a mapping");
}

TEST_F(ConfigClusterTest, DurationsAreBounded) {
  EXPECT_EQ(ErrorOf(Cluster("  session_ttl: 1500ms\n")),
            File() + ":5: cluster.session_ttl: expected whole seconds from 1s to 60s, such as 2s, got '1500ms'");
  EXPECT_EQ(ErrorOf(Cluster("  session_ttl: 61s\n")),
            File() + ":5: cluster.session_ttl: expected whole seconds from 1s to 60s, such as 2s, got '61s'");
  EXPECT_EQ(ErrorOf(Cluster("  session_ttl: 500ms\n")),
            File() + ":5: cluster.session_ttl: expected whole seconds from 1s to 60s, such as 2s, got '500ms'");
  EXPECT_EQ(ErrorOf(Cluster("  session_ttl: 0s\n")),
            File() + ":5: cluster.session_ttl: expected a positive duration such as 500ms, 10s, 5m, 1h or 1d, "
                     "got '0s'");
  EXPECT_EQ(ErrorOf(Cluster("    connect_timeout: 2h\n")),
            File() + ":5: cluster.etcd.connect_timeout: expected a positive duration of at most 1h, such as 5s, "
                     "got '2h'");
  EXPECT_EQ(ErrorOf(Cluster("    connect_timeout: soon\n")),
            File() + ":5: cluster.etcd.connect_timeout: expected a positive duration such as 500ms, 10s, 5m, 1h "
                     "or 1d, got 'soon'");
  EXPECT_EQ(ErrorOf(Cluster("    wait_at_start: maybe\n")),
            File() + ":5: cluster.etcd.wait_at_start: expected true or false, got 'maybe'");
  auto config = LoadConfig(dir_.WriteFile("goethe.yaml", Cluster("    connect_timeout: 1h\n  session_ttl: 1m\n")));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->cluster.etcd.connect_timeout, std::chrono::hours(1));
  EXPECT_EQ(config->cluster.session_ttl, std::chrono::seconds(60));
}

TEST_F(ConfigClusterTest, CredentialsComeInPairsAndFilesMustBeReadable) {
  dir_.WriteFile("etcd.pass", "secret\n");
  dir_.WriteFile("c.pem", "cert");
  EXPECT_EQ(ErrorOf(Cluster("    username: alice\n")),
            File() + ":5: cluster.etcd.username: expected cluster.etcd.password_file too: the user's password");
  EXPECT_EQ(ErrorOf(Cluster("    password_file: etcd.pass\n")),
            File() + ":5: cluster.etcd.password_file: expected cluster.etcd.username too: whose password it is");
  EXPECT_EQ(ErrorOf(Cluster("    username: alice\n    password_file: absent.pass\n")),
            File() + ":6: cluster.etcd.password_file: cannot read '" + dir_.Sub("absent.pass") + "' (no such file)");
  EXPECT_EQ(ErrorOf(Cluster("    username: \"\"\n")),
            File() + ":5: cluster.etcd.username: expected a non-empty string, got ''");
  EXPECT_EQ(ErrorOf(Cluster("    password_file: \"\"\n")),
            File() + ":5: cluster.etcd.password_file: expected a file path, got ''");

  const std::string tls = "    tls:\n";
  EXPECT_EQ(ErrorOf(Cluster(tls + "      ca_file: c.pem\n      cert_file: c.pem\n")),
            File() + ":7: cluster.etcd.tls.cert_file: expected cluster.etcd.tls.key_file too: the certificate's "
                     "private key");
  EXPECT_EQ(ErrorOf(Cluster(tls + "      ca_file: c.pem\n      key_file: c.pem\n")),
            File() + ":7: cluster.etcd.tls.key_file: expected cluster.etcd.tls.cert_file too: a key without its "
                     "certificate");
  EXPECT_EQ(ErrorOf(Cluster(tls + "      cert_file: c.pem\n      key_file: c.pem\n")),
            File() + ":6: cluster.etcd.tls.cert_file: expected cluster.etcd.tls.ca_file too: a client certificate "
                     "is only sent over TLS");
  EXPECT_EQ(ErrorOf(Cluster(tls + "      ca_file: ca.pem\n")),
            File() + ":6: cluster.etcd.tls.ca_file: cannot read '" + dir_.Sub("ca.pem") + "' (no such file)");
  EXPECT_EQ(ErrorOf(Cluster(tls + "      ca_file: c.pem\n      cert_file: c.pem\n      key_file: .\n")),
            File() + ":8: cluster.etcd.tls.key_file: cannot read '" + dir_.path().string() + "/' (not a regular file)");
  EXPECT_EQ(ErrorOf(Cluster(tls + "      ca_file: [c.pem]\n")),
            File() + ":6: cluster.etcd.tls.ca_file: expected a file path, got a list");
  auto config = LoadConfig(dir_.WriteFile("goethe.yaml", Cluster(tls + "      ca_file: c.pem\n")));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->cluster.etcd.tls.enabled());  // TLS with etcd's server certificate only
}

TEST_F(ConfigClusterTest, UnknownKeysAreRefusedAtEveryLevel) {
  EXPECT_EQ(ErrorOf(Cluster("  nodes: n2\n")),
            File() + ":5: cluster.nodes: unknown key (known: advertise, etcd, name, node, session_ttl)");
  EXPECT_EQ(ErrorOf(Cluster("    endpoint: etcd:2379\n")),
            File() + ":5: cluster.etcd.endpoint: unknown key (known: connect_timeout, endpoints, password_file, tls, "
                     "username, wait_at_start)");
  EXPECT_EQ(ErrorOf(Cluster("    tls:\n      ca: ca.pem\n")),
            File() + ":6: cluster.etcd.tls.ca: unknown key (known: ca_file, cert_file, key_file)");
  EXPECT_EQ(ErrorOf("cluster: n1\n"), File() + ":1: cluster: expected a mapping of keys");
  EXPECT_EQ(ErrorOf("cluster:\n  node: n1\n  etcd: [127.0.0.1:2379]\n"),
            File() + ":3: cluster.etcd: expected a mapping of keys");
  EXPECT_EQ(ErrorOf(Cluster("    tls: true\n")), File() + ":5: cluster.etcd.tls: expected a mapping of keys");
}

TEST_F(ConfigClusterTest, ServerTlsIsCheckedFirst) {
  EXPECT_EQ(ErrorOf("cluster:\n  node: n1\nserver:\n  tls:\n    key_file: server.key\n"),
            File() + ":5: server.tls.key_file: expected server.tls.cert_file too: a key without its certificate");
}

// The replication section: read within a cluster, refused without one.
class ConfigReplicationTest : public ConfigClusterTest {
 protected:
  // The valid cluster section of Cluster() (lines 1-4), then `replication:` at line 5 and `keys`
  // from line 6, each indented by 2.
  static std::string Replication(const std::string& keys) { return Cluster("replication:\n" + keys); }

  static void ExpectDefaults(const ReplicationConfig& replication) {
    EXPECT_EQ(replication.min_insync, 2u);
    EXPECT_EQ(replication.max_lag, std::chrono::seconds(2));
    EXPECT_EQ(replication.log_entries, 10000u);
    EXPECT_FALSE(replication.unclean_election);
  }
};

TEST_F(ConfigReplicationTest, ReadsEveryKey) {
  auto config = LoadConfig(dir_.WriteFile("goethe.yaml", Replication("  min_insync: 3\n  max_lag: 500ms\n"
                                                                     "  log_entries: 250000\n"
                                                                     "  unclean_election: true\n")));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const ReplicationConfig& replication = config->replication;
  EXPECT_EQ(replication.min_insync, 3u);
  EXPECT_EQ(replication.max_lag, std::chrono::milliseconds(500));
  EXPECT_EQ(replication.log_entries, 250000u);
  EXPECT_TRUE(replication.unclean_election);
  EXPECT_EQ(config->Where("replication"), File() + ":5: replication");
  EXPECT_EQ(config->Where("replication.unclean_election"), File() + ":9: replication.unclean_election");

  // The bounds themselves are accepted; replication may come before cluster in the file.
  config = LoadConfig(dir_.WriteFile("goethe.yaml", "replication:\n  min_insync: 1\n  max_lag: 100ms\n"
                                                    "  log_entries: 100\n  unclean_election: false\n" +
                                                        Cluster("")));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->replication.min_insync, 1u);
  EXPECT_EQ(config->replication.max_lag, std::chrono::milliseconds(100));
  EXPECT_EQ(config->replication.log_entries, 100u);
  EXPECT_FALSE(config->replication.unclean_election);
  config = LoadConfig(dir_.WriteFile("goethe.yaml", Replication("  min_insync: 64\n  max_lag: 1h\n"
                                                                "  log_entries: 100000000\n")));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->replication.min_insync, 64u);
  EXPECT_EQ(config->replication.max_lag, std::chrono::hours(1));
  EXPECT_EQ(config->replication.log_entries, 100000000u);
}

TEST_F(ConfigReplicationTest, AbsentOrEmptyGivesTheDefaults) {
  auto config = LoadConfig(dir_.WriteFile("goethe.yaml", ""));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ExpectDefaults(config->replication);
  config = LoadConfig(dir_.WriteFile("goethe.yaml", Cluster("")));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ExpectDefaults(config->replication);
  config = LoadConfig(dir_.WriteFile("goethe.yaml", Replication("")));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ExpectDefaults(config->replication);
  config = LoadConfig(dir_.WriteFile("goethe.yaml", Replication("  max_lag: 5s\n")));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->replication.min_insync, 2u);
  EXPECT_EQ(config->replication.max_lag, std::chrono::seconds(5));
  EXPECT_EQ(config->replication.log_entries, 10000u);
  EXPECT_FALSE(config->replication.unclean_election);
}

TEST_F(ConfigReplicationTest, RangesNameTheKeyAndLine) {
  for (const std::string bad : {"0", "65", "-1", "two", "1.5"}) {
    EXPECT_EQ(ErrorOf(Replication("  min_insync: \"" + bad + "\"\n")),
              File() + ":6: replication.min_insync: expected an integer from 1 to 64, got '" + bad + "'");
  }
  EXPECT_EQ(ErrorOf(Replication("  min_insync: [2]\n")),
            File() + ":6: replication.min_insync: expected an integer from 1 to 64, got a list");
  for (const std::string bad : {"99ms", "61m", "2h", "1d"}) {
    EXPECT_EQ(ErrorOf(Replication("  log_entries: 500\n  max_lag: " + bad + "\n")),
              File() + ":7: replication.max_lag: expected a duration from 100ms to 1h, such as 2s, got '" + bad +
                  "'");
  }
  for (const std::string bad : {"0s", "soon", "-1s"}) {
    EXPECT_EQ(ErrorOf(Replication("  max_lag: " + bad + "\n")),
              File() + ":6: replication.max_lag: expected a positive duration such as 500ms, 10s, 5m, 1h or 1d, "
                       "got '" + bad + "'");
  }
  for (const std::string bad : {"99", "0", "100000001", "1e6", "many"}) {
    EXPECT_EQ(ErrorOf(Replication("  log_entries: " + bad + "\n")),
              File() + ":6: replication.log_entries: expected an integer from 100 to 100000000, got '" + bad + "'");
  }
  EXPECT_EQ(ErrorOf(Replication("  unclean_election: maybe\n")),
            File() + ":6: replication.unclean_election: expected true or false, got 'maybe'");
  EXPECT_EQ(ErrorOf(Replication("  min_isr: 2\n")),
            File() + ":6: replication.min_isr: unknown key (known: log_entries, max_lag, min_insync, "
                     "unclean_election)");
  EXPECT_EQ(ErrorOf(Cluster("replication: 2\n")), File() + ":5: replication: expected a mapping of keys");
}

TEST_F(ConfigReplicationTest, WithoutAClusterIsRefused) {
  const std::string needs = ": replication: needs a cluster section: replication copies writes between the nodes of "
                            "a cluster, and without cluster this is a single node";
  EXPECT_EQ(ErrorOf("replication:\n  min_insync: 1\n"), File() + ":1" + needs);
  EXPECT_EQ(ErrorOf("server:\n  listen: 127.0.0.1:6000\nreplication:\n"), File() + ":3" + needs);
  // The section's own errors come first: they are found while reading.
  EXPECT_EQ(ErrorOf("replication:\n  min_insync: 0\n"),
            File() + ":2: replication.min_insync: expected an integer from 1 to 64, got '0'");
}

TEST(ParseDurationTest, AcceptsUnitsAndRejectsNonsense) {
  std::chrono::nanoseconds d{};
  EXPECT_TRUE(ParseDuration("1d", &d));
  EXPECT_EQ(d, std::chrono::hours(24));
  EXPECT_TRUE(ParseDuration("250us", &d));
  EXPECT_EQ(d, std::chrono::microseconds(250));
  EXPECT_TRUE(ParseDuration("30", &d));
  EXPECT_EQ(d, std::chrono::seconds(30));
  EXPECT_FALSE(ParseDuration("1w", &d));
  EXPECT_FALSE(ParseDuration("m", &d));
  EXPECT_FALSE(ParseDuration("", &d));
  EXPECT_FALSE(ParseDuration("99999999999999999999d", &d));
}

}  // namespace
}  // namespace goethe
