#include "access_policy.h"

#include <fnmatch.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cctype>

#include <spdlog/spdlog.h>

#include "goethe/engine/event_log.h"
#include "status_mapping.h"

namespace goethe::server {
namespace {

constexpr std::uint8_t kEveryPermission =
    Bit(Permission::kProduce) | Bit(Permission::kConsume) | Bit(Permission::kAdmin);

const char* Name(Permission permission) {
  switch (permission) {
    case Permission::kProduce: return "produce";
    case Permission::kConsume: return "consume";
    case Permission::kAdmin: return "admin";
  }
  return "?";
}

// The token of "Bearer <token>" (the scheme in any case, RFC 6750), or empty.
std::string_view BearerToken(std::string_view value) {
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size()) return {};
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return {};
  }
  const std::size_t start = value.find_first_not_of(' ', kScheme.size());
  return start == std::string_view::npos ? std::string_view() : value.substr(start);
}

}  // namespace

bool AccessPolicy::DigestEqual::operator()(const Digest& a, const Digest& b) const {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

AccessPolicy::Digest AccessPolicy::Sha256(std::string_view text) {
  Digest digest;
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return digest;
}

AccessPolicy::AccessPolicy() {
  anonymous_.name = "anonymous";
  anonymous_.unrestricted = true;
}

AccessPolicy::AccessPolicy(const AuthConfig& auth) : AccessPolicy() {
  enabled_ = auth.enabled;
  principals_.reserve(auth.tokens.size());
  for (const AccessToken& token : auth.tokens) {
    by_digest_.emplace(Sha256(token.token), principals_.size());
    principals_.push_back(Principal{token.name, token.grants, false});
  }
}

const AccessPolicy& AccessPolicy::Open() {
  static const AccessPolicy open;
  return open;
}

const Principal* AccessPolicy::Authenticate(const grpc::ServerContextBase& call, grpc::Status* refusal) const {
  if (!enabled_) return &anonymous_;
  const auto& metadata = call.client_metadata();
  const auto header = metadata.find("authorization");
  std::optional<std::string_view> authorization;
  if (header != metadata.end()) authorization.emplace(header->second.data(), header->second.size());
  const Principal* caller = Authenticate(authorization, refusal);
  if (caller == nullptr) spdlog::info("auth: refused a call from {}: {}", call.peer(), refusal->error_message());
  return caller;
}

const Principal* AccessPolicy::Authenticate(std::optional<std::string_view> authorization,
                                            grpc::Status* refusal) const {
  if (!enabled_) return &anonymous_;
  const char* problem = nullptr;
  if (!authorization) {
    problem = "missing credentials: send 'authorization: Bearer <token>' (gRPC metadata, or an HTTP header)";
  } else if (const std::string_view token = BearerToken(*authorization); token.empty()) {
    problem = "malformed credentials: expected 'authorization: Bearer <token>' (gRPC metadata, or an HTTP header)";
  } else {
    if (const Principal* caller = Identify(token)) return caller;
    problem = "the bearer token is not valid on this server";
  }
  *refusal = grpc::Status(grpc::StatusCode::UNAUTHENTICATED, problem);
  return nullptr;
}

const Principal* AccessPolicy::Identify(std::string_view token) const {
  // Looked up by digest: how long the lookup takes depends on the digest, never on how much of a
  // real token a guess shares.
  const auto found = by_digest_.find(Sha256(token));
  return found == by_digest_.end() ? nullptr : &principals_[found->second];
}

bool AccessPolicy::Matches(const Principal& caller, std::uint8_t wanted, const std::string& topic) const {
  if (caller.unrestricted) return true;
  for (const TokenGrant& grant : caller.grants) {
    if ((grant.permissions & wanted) == 0) continue;
    for (const std::string& pattern : grant.topics) {
      if (fnmatch(pattern.c_str(), topic.c_str(), 0) == 0) return true;
    }
  }
  return false;
}

// admin implies produce and consume on the same topics.
bool AccessPolicy::Allows(const Principal& caller, Permission permission, const std::string& topic) const {
  return Matches(caller, Bit(permission) | Bit(Permission::kAdmin), topic);
}

bool AccessPolicy::MaySee(const Principal& caller, const std::string& topic) const {
  return Matches(caller, kEveryPermission, topic);
}

grpc::Status AccessPolicy::CheckBits(const Principal& caller, std::uint8_t wanted, const char* what,
                                     const std::string& topic) const {
  if (caller.unrestricted) return grpc::Status::OK;
  // A malformed name is refused first, so that messages and logs only ever name valid topics.
  if (Status valid = EventLog::ValidateTopicName(topic); !valid.ok()) return ToGrpcStatus(valid);
  if (Matches(caller, wanted, topic)) return grpc::Status::OK;
  std::string message = "token '" + caller.name + "' has no " + what + " permission on topic '" + topic + "'";
  spdlog::info("auth: denied: {}", message);
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, std::move(message));
}

grpc::Status AccessPolicy::Check(const Principal& caller, Permission permission, const std::string& topic) const {
  return CheckBits(caller, Bit(permission) | Bit(Permission::kAdmin), Name(permission), topic);
}

grpc::Status AccessPolicy::CheckVisible(const Principal& caller, const std::string& topic) const {
  return CheckBits(caller, kEveryPermission, "produce, consume or admin", topic);
}

}  // namespace goethe::server
