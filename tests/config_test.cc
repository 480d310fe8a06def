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
            File() + ":1: storgae: unknown key (known: engine, server, storage)");
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
  EXPECT_EQ(ErrorOf("server:\n  log_level: loud\n"),
            File() + ":2: server.log_level: expected one of trace, debug, info, warn, error, "
                     "critical, off, got 'loud'");
  EXPECT_EQ(ErrorOf("storage:\n  options:\n    map_size:\n      nested: 1\n"),
            File() + ":3: storage.options.map_size: expected a single value, got a mapping");
  EXPECT_EQ(ErrorOf("storage: 5\n"), File() + ":1: storage: expected a mapping of keys");
  EXPECT_EQ(ErrorOf("- a\n- b\n"), File() + ":1: expected a mapping with storage, engine, server");
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
