// cluster: this node's name and address in the cluster, and how to reach etcd. Only the shape of
// each value and the files' presence are checked here; reaching etcd is the server's business.
#include <arpa/inet.h>

#include <cstring>

#include "config_reader.h"

namespace goethe::config_internal {
namespace {

constexpr std::size_t kMaxNameLength = 63;
constexpr auto kMinSessionTtl = std::chrono::seconds(1);
constexpr auto kMaxSessionTtl = std::chrono::seconds(60);
constexpr auto kMaxConnectTimeout = std::chrono::hours(1);

// [a-z0-9][a-z0-9._-]{0,62}: safe in an etcd key and in a log line.
bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

SectionReader::Handler Name(SectionReader& r, std::string* out, const std::string& what) {
  return [&r, out, what](const YAML::Node& v, const std::string& key) {
    if (!v.IsScalar() || !ValidName(v.Scalar()))
      return r.Error(key, "expected " + what + " of 1 to 63 characters: lowercase letters, digits, '.', '_', '-', "
                          "starting with a letter or digit, got " + Describe(v));
    *out = v.Scalar();
    return Status::Ok();
  };
}

bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
         c == '_';
}

// A host:port address: a host name or IPv4 address, or an IPv6 address in brackets ([::1]:2379);
// a port from 1 to 65535. The host may be empty only when `allow_empty_host` (a listen address).
// On failure, `why` says what is wrong.
bool ParseHostPort(const std::string& text, bool allow_empty_host, std::string* host, std::string* why) {
  if (text.find("://") != std::string::npos) {
    *why = "host:port without a scheme";
    return false;
  }
  std::size_t colon = 0;
  if (!text.empty() && text[0] == '[') {
    const std::size_t close = text.find(']');
    *host = close == std::string::npos ? "" : text.substr(1, close - 1);
    const std::string address = host->substr(0, host->find('%'));  // without a zone (fe80::1%eth0)
    in6_addr ip6{};
    if (close == std::string::npos || inet_pton(AF_INET6, address.c_str(), &ip6) != 1) {
      *why = "an IPv6 address in brackets, such as [::1]:2379";
      return false;
    }
    colon = close + 1;
    if (colon >= text.size() || text[colon] != ':') {
      *why = "a port after the brackets, such as [::1]:2379";
      return false;
    }
  } else {
    colon = text.rfind(':');
    if (colon == std::string::npos) {
      *why = "host:port, with a port";
      return false;
    }
    *host = text.substr(0, colon);
    if (host->find(':') != std::string::npos) {
      *why = "an IPv6 address in brackets, such as [::1]:2379";
      return false;
    }
    if (host->empty() && !allow_empty_host) {
      *why = "a host before the port";
      return false;
    }
    for (char c : *host) {
      if (!IsHostChar(c)) {
        *why = "a host of letters, digits, '.', '-', '_' (or an IPv6 address in brackets)";
        return false;
      }
    }
  }
  const std::string port = text.substr(colon + 1);
  unsigned value = 0;
  bool digits = !port.empty() && port.size() <= 5;
  for (char c : port) {
    digits = digits && c >= '0' && c <= '9';
    if (digits) value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (!digits || value < 1 || value > 65535) {
    *why = "a port from 1 to 65535";
    return false;
  }
  return true;
}

// A host that means "every interface" when listening, and nothing a peer could connect to:
// empty, 0.0.0.0 or :: (in any spelling).
bool IsWildcardHost(const std::string& host) {
  if (host.empty()) return true;
  in_addr ip4{};
  if (inet_pton(AF_INET, host.c_str(), &ip4) == 1) return ip4.s_addr == 0;
  in6_addr ip6{};
  if (inet_pton(AF_INET6, host.c_str(), &ip6) == 1) {
    static const in6_addr kAny{};
    return std::memcmp(&ip6, &kAny, sizeof ip6) == 0;
  }
  return false;
}

// One address another node can connect to: host:port, not a wildcard host.
Status CheckAddress(const SectionReader& r, const std::string& key, const std::string& text) {
  std::string host;
  std::string why;
  if (!ParseHostPort(text, false, &host, &why)) return r.Error(key, "expected " + why + ", got '" + text + "'");
  if (IsWildcardHost(host))
    return r.Error(key, "expected an address other nodes can connect to, got the wildcard '" + text + "'");
  return Status::Ok();
}

SectionReader::Handler Address(SectionReader& r, std::string* out) {
  return [&r, out](const YAML::Node& v, const std::string& key) {
    if (!v.IsScalar()) return r.Error(key, "expected host:port, got " + Describe(v));
    if (Status s = CheckAddress(r, key, v.Scalar()); !s.ok()) return s;
    *out = v.Scalar();
    return Status::Ok();
  };
}

// etcd endpoints: one host:port, or a list of them; each at its own key (endpoints[1]) and line.
SectionReader::Handler Endpoints(SectionReader& r, std::vector<std::string>* out) {
  return [&r, out](const YAML::Node& v, const std::string& key) {
    out->clear();
    if (v.IsScalar()) {
      if (Status s = CheckAddress(r, key, v.Scalar()); !s.ok()) return s;
      out->push_back(v.Scalar());
      return Status::Ok();
    }
    if (!v.IsSequence() || v.size() == 0)
      return r.Error(key, "expected a list of etcd endpoints (host:port), got " + Describe(v));
    for (std::size_t i = 0; i < v.size(); ++i) {
      const std::string entry = Indexed(key, i);
      r.config().lines[entry] = v[i].Mark().line + 1;
      if (!v[i].IsScalar()) return r.Error(entry, "expected host:port, got " + Describe(v[i]));
      if (Status s = CheckAddress(r, entry, v[i].Scalar()); !s.ok()) return s;
      out->push_back(v[i].Scalar());
    }
    return Status::Ok();
  };
}

// A Duration() from `min` to `max`; `whole_seconds`: a whole number of seconds too.
SectionReader::Handler BoundedDuration(SectionReader& r, std::chrono::nanoseconds* out, std::chrono::nanoseconds min,
                                       std::chrono::nanoseconds max, bool whole_seconds, const std::string& range) {
  return [&r, out, min, max, whole_seconds, range](const YAML::Node& v, const std::string& key) {
    std::chrono::nanoseconds d{};
    if (Status s = Duration(r, &d)(v, key); !s.ok()) return s;
    if (d < min || d > max || (whole_seconds && d % std::chrono::seconds(1) != std::chrono::nanoseconds(0)))
      return r.Error(key, "expected " + range + ", got " + Describe(v));
    *out = d;
    return Status::Ok();
  };
}

Status ReadEtcdTls(Config& c, const YAML::Node& node, const YAML::Mark& mark) {
  EtcdTlsConfig& tls = c.cluster.etcd.tls;
  SectionReader r(c, "cluster.etcd.tls");
  r.On("ca_file", Path(r, &tls.ca_file));
  r.On("cert_file", Path(r, &tls.cert_file));
  r.On("key_file", Path(r, &tls.key_file));
  return r.Read(node, mark);
}

Status ReadEtcd(Config& c, const YAML::Node& node, const YAML::Mark& mark) {
  EtcdConfig& etcd = c.cluster.etcd;
  SectionReader r(c, "cluster.etcd");
  r.On("endpoints", Endpoints(r, &etcd.endpoints));
  r.On("connect_timeout", BoundedDuration(r, &etcd.connect_timeout, std::chrono::nanoseconds(1), kMaxConnectTimeout,
                                          false, "a positive duration of at most 1h, such as 5s"));
  r.On("wait_at_start", Bool(r, &etcd.wait_at_start));
  r.On("username", NonEmptyString(r, &etcd.username));
  r.On("password_file", Path(r, &etcd.password_file));
  r.On("tls", [&c](const YAML::Node& v, const std::string&) { return ReadEtcdTls(c, v, v.Mark()); });
  return r.Read(node, mark);
}

// "goethe.yaml:12: <key>: " for a key that was not written, pointed at its section's line.
std::string AtSection(const Config& c, const std::string& section, const std::string& key) {
  auto line = c.lines.find(section);
  return c.source + (line == c.lines.end() ? "" : ":" + std::to_string(line->second)) + ": " + key + ": ";
}

}  // namespace

Status ReadCluster(Config& c, const YAML::Node& node, const YAML::Mark& mark) {
  ClusterConfig& cluster = c.cluster;
  cluster.enabled = true;
  SectionReader r(c, "cluster");
  r.On("name", Name(r, &cluster.name, "a cluster name"));
  r.On("node", Name(r, &cluster.node, "a node name"));
  r.On("advertise", Address(r, &cluster.advertise));
  r.On("session_ttl", BoundedDuration(r, &cluster.session_ttl, kMinSessionTtl, kMaxSessionTtl, true,
                                      "whole seconds from 1s to 60s, such as 2s"));
  r.On("etcd", [&c](const YAML::Node& v, const std::string&) { return ReadEtcd(c, v, v.Mark()); });
  return r.Read(node, mark);
}

Status CheckCluster(const Config& c) {
  const ClusterConfig& cluster = c.cluster;
  if (!cluster.enabled) return Status::Ok();
  const EtcdConfig& etcd = cluster.etcd;
  const EtcdTlsConfig& tls = etcd.tls;
  auto error = [&c](const std::string& key, const std::string& what) {
    return InvalidArgument(c.Where(key) + ": " + what);
  };
  if (cluster.node.empty())
    return InvalidArgument(AtSection(c, "cluster", "cluster.node") + "expected this node's name, unique in the "
                           "cluster (lowercase letters, digits, '.', '_', '-')");
  if (etcd.endpoints.empty()) {
    const bool has_etcd = c.lines.count("cluster.etcd") != 0;
    return InvalidArgument(AtSection(c, has_etcd ? "cluster.etcd" : "cluster", "cluster.etcd.endpoints") +
                           "expected the etcd endpoints (host:port, or a list of them): a cluster needs etcd");
  }
  // Not written: LoadConfig took server.listen, which must then be an address peers can reach.
  if (c.lines.count("cluster.advertise") == 0) {
    std::string host;
    std::string why;
    const std::string& listen = cluster.advertise;
    if (!ParseHostPort(listen, true, &host, &why)) {
      why = "expected " + why;
    } else if (IsWildcardHost(host)) {
      why = "a wildcard host";
    }
    if (!why.empty())
      return InvalidArgument(AtSection(c, "cluster", "cluster.advertise") + "not set, so it would be server.listen '" +
                             listen + "', which other nodes cannot connect to (" + why +
                             "); set cluster.advertise to the host:port other nodes and clients reach this node at");
  }
  if (!etcd.username.empty() && etcd.password_file.empty())
    return error("cluster.etcd.username", "expected cluster.etcd.password_file too: the user's password");
  if (etcd.username.empty() && !etcd.password_file.empty())
    return error("cluster.etcd.password_file", "expected cluster.etcd.username too: whose password it is");
  if (!tls.cert_file.empty() && tls.key_file.empty())
    return error("cluster.etcd.tls.cert_file", "expected cluster.etcd.tls.key_file too: the certificate's private key");
  if (tls.cert_file.empty() && !tls.key_file.empty())
    return error("cluster.etcd.tls.key_file", "expected cluster.etcd.tls.cert_file too: a key without its certificate");
  if (!tls.cert_file.empty() && tls.ca_file.empty())
    return error("cluster.etcd.tls.cert_file",
                 "expected cluster.etcd.tls.ca_file too: a client certificate is only sent over TLS");
  for (const auto& [key, path] :
       {std::pair<const char*, const std::string&>{"cluster.etcd.password_file", etcd.password_file},
        {"cluster.etcd.tls.ca_file", tls.ca_file},
        {"cluster.etcd.tls.cert_file", tls.cert_file},
        {"cluster.etcd.tls.key_file", tls.key_file}}) {
    if (path.empty()) continue;
    if (Status s = CheckReadable(c, key, path); !s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace goethe::config_internal
