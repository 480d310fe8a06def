// Config: a deployment's settings, read from one YAML file (docs/config.md lists every key).
//
// Loading is strict: an unknown key, a value of the wrong type or a YAML syntax error fails the
// load with one line that names the file, the line and the key, so that nothing a user wrote is
// silently ignored. Backend options are passed through as strings for the plugin to validate.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "goethe/engine/status.h"
#include "goethe/kv/options.h"

namespace goethe {

struct StorageConfig {
  std::string backend = "leveldb";  // the plugin's name: leveldb, rocksdb, lmdb
  std::string path = "./data";      // store directory; relative to the working directory
  bool sync = true;                 // acknowledge an append only once it is on stable storage
  std::string plugin_dir;           // empty: search the build tree and the installed prefix
  kv::Options options;              // backend options, validated by the plugin
};

// How a store orders its events' keys (docs/storage.md): by topic, then offset (formats 2 and 3), or
// by segment, a store-wide run of appends, first (format 4), so that an LSM store never rewrites old
// events when many topics are written at once. Chosen when a store is created; a store keeps it.
enum class KeyOrder : std::uint8_t { kTopic, kTime };

struct EngineConfig {
  std::uint64_t max_event_bytes = 1 << 20;  // payload, key, header names and values together
  std::uint8_t max_key_bytes = 255;         // an event's key
  std::uint16_t max_headers = 64;           // headers per event
  std::chrono::nanoseconds idempotency_window = std::chrono::minutes(10);
  std::chrono::nanoseconds time_index_granularity = std::chrono::minutes(1);  // for new topics
  std::chrono::nanoseconds retention_interval = std::chrono::seconds(5);
  std::uint64_t max_commit_events = 65536;  // most events one group commit writes at once
  // Unset: a new store orders by topic, an existing one keeps its order. Set: a new store gets it,
  // an existing store with the other order is refused.
  std::optional<KeyOrder> key_order;
};

// TLS for the gRPC listener. Paths are absolute once loaded (relative ones are resolved against
// the config file's directory). No cert_file: plaintext.
struct TlsConfig {
  std::string cert_file;       // PEM certificate chain of the server
  std::string key_file;        // PEM private key of that certificate
  std::string client_ca_file;  // set: every client must present a certificate signed by this CA (mTLS)

  bool enabled() const { return !cert_file.empty(); }
};

// What a token may do; docs/api.md lists the RPCs each permission allows. admin implies the others.
enum class Permission : std::uint8_t { kProduce = 1, kConsume = 2, kAdmin = 4 };
constexpr std::uint8_t Bit(Permission p) { return static_cast<std::uint8_t>(p); }

// `permissions` (Bit()s) on every topic whose name matches one of `topics`, fnmatch(3) patterns
// without flags: `*` any run of characters (dots too), `?` one character, `[a-z]` one of a set.
struct TokenGrant {
  std::uint8_t permissions = 0;
  std::vector<std::string> topics;
};

struct AccessToken {
  std::string name;   // appears in logs and PERMISSION_DENIED messages; the token itself never does
  std::string token;  // the secret, sent by clients as `authorization: Bearer <token>`
  std::vector<TokenGrant> grants;
};

// Bearer-token access control. Absent from the config (enabled false): every call is allowed.
struct AuthConfig {
  bool enabled = false;
  std::vector<AccessToken> tokens;
};

// The HTTP listener (/metrics, /healthz): off while `listen` is empty. It shares server.tls (HTTPS
// when set) and server.auth (a bearer token per request) with gRPC; docs/http.md.
struct HttpConfig {
  std::string listen;                 // host:port; empty: no HTTP listener
  std::uint32_t max_connections = 256;          // further connections are closed at once
  std::uint64_t max_header_bytes = 16 << 10;    // request line and headers; larger: 431
  std::uint64_t max_body_bytes = 8 << 20;       // request body; larger: 413
  std::chrono::nanoseconds request_timeout = std::chrono::seconds(10);  // to send a whole request
  std::chrono::nanoseconds idle_timeout = std::chrono::seconds(60);     // a kept-alive idle connection
  bool open_metrics = false;  // with server.auth: /metrics and /healthz without a token
  std::string console_dir;    // the web console's files; empty: where the build or install put them

  bool enabled() const { return !listen.empty(); }
};

struct ServerConfig {
  std::string listen = "127.0.0.1:50051";
  std::string log_level = "info";
  bool auto_create_topics = true;
  std::uint32_t max_events_per_produce = 10000;
  std::uint32_t max_concurrent_streams = 1024;
  std::uint32_t max_consume_window = 10000;
  TlsConfig tls;
  AuthConfig auth;
  HttpConfig http;
};

// TLS towards etcd. No ca_file: plaintext. cert_file and key_file: a client certificate for etcd's
// --client-cert-auth. Paths are absolute once loaded (relative ones: against the config file).
struct EtcdTlsConfig {
  std::string ca_file;    // PEM CA that signed the etcd members' certificates
  std::string cert_file;  // PEM client certificate (optional)
  std::string key_file;   // its private key

  bool enabled() const { return !ca_file.empty(); }
};

struct EtcdConfig {
  std::vector<std::string> endpoints;  // host:port of each etcd member; at least one
  std::chrono::nanoseconds connect_timeout = std::chrono::seconds(5);  // at start, before giving up
  bool wait_at_start = false;  // true: keep trying to reach etcd at start instead of exiting
  std::string username;        // etcd user (etcd's auth); empty: none
  std::string password_file;   // file holding that user's password (trailing newline ignored)
  EtcdTlsConfig tls;
};

// cluster: absent (enabled false) = a single node, no etcd. docs/cluster.md explains each key.
struct ClusterConfig {
  bool enabled = false;
  std::string name = "goethe";   // the cluster's name: its keys in etcd live under /goethe/<name>/
  std::string node;              // this node's name, unique in the cluster
  std::string advertise;         // host:port clients and peers reach this node at; default server.listen
  std::chrono::nanoseconds session_ttl = std::chrono::seconds(2);  // etcd lease TTL, whole seconds
  EtcdConfig etcd;
};

// replication: how a cluster's leader copies writes to the other nodes (docs/cluster.md). Only
// meaningful with a cluster: section.
struct ReplicationConfig {
  std::uint32_t min_insync = 2;   // members (the leader included) that must hold a write before it is acknowledged
  std::chrono::nanoseconds max_lag = std::chrono::seconds(2);  // an in-sync follower silent this long while an entry waits is removed from the in-sync set
  std::uint64_t log_entries = 10000;  // replication-log entries each node keeps for followers to catch up from
  bool unclean_election = false;  // a node outside the in-sync set may become leader (may lose acknowledged writes)
};

struct Config {
  StorageConfig storage;
  EngineConfig engine;
  ServerConfig server;
  ClusterConfig cluster;
  ReplicationConfig replication;

  std::string source;                  // the file it came from; empty for defaults
  std::map<std::string, int> lines;    // dotted key ("storage.options.foo") -> 1-based line

  // "config/goethe.yaml:7: storage.options.foo" — where to point a user for `key`.
  std::string Where(const std::string& key) const;
};

// Reads and checks the YAML file at `path`. Errors are InvalidArgument with a one-line message.
Result<Config> LoadConfig(const std::string& path);

// Parses durations such as "500ms", "1s", "5m", "1h", "1d" (a bare number means seconds).
bool ParseDuration(const std::string& text, std::chrono::nanoseconds* out);

}  // namespace goethe
