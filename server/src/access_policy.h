// AccessPolicy: who may do what, from server.auth. A call names its caller with the metadata
// `authorization: Bearer <token>`; the token's grants say which topics it may produce to, consume
// from or administer (docs/api.md has the table of RPCs per permission).
//
// Without server.auth the policy is open: every call is allowed. The per-call cost is one SHA-256
// of the presented token, one hash-map lookup and one fnmatch(3) per pattern of the caller.
#pragma once

#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "goethe/engine/config.h"

namespace goethe::server {

// The caller of a call: a token's name and grants. Lives as long as its AccessPolicy.
struct Principal {
  std::string name;
  std::vector<TokenGrant> grants;
  bool unrestricted = false;  // the open policy's caller: every permission on every topic
};

class AccessPolicy {
 public:
  // The open policy: everyone is `Anonymous()`, allowed everything.
  AccessPolicy();
  explicit AccessPolicy(const AuthConfig& auth);
  AccessPolicy(const AccessPolicy&) = delete;  // callers hold pointers into it
  AccessPolicy& operator=(const AccessPolicy&) = delete;

  // The open policy's shared instance, for contexts that set none.
  static const AccessPolicy& Open();

  bool enabled() const { return enabled_; }
  std::size_t token_count() const { return principals_.size(); }

  // The caller named by `call`'s bearer token; nullptr, with UNAUTHENTICATED in `*refusal`, when
  // the token is missing, malformed or unknown. The message never contains the token.
  const Principal* Authenticate(const grpc::ServerContextBase& call, grpc::Status* refusal) const;
  // The same for the value of the call's `authorization` metadata (nullopt: none sent), without
  // logging: what Authenticate decides, testable without a call.
  const Principal* Authenticate(std::optional<std::string_view> authorization, grpc::Status* refusal) const;
  // The caller whose token is `token`; nullptr when no configured token is.
  const Principal* Identify(std::string_view token) const;

  // OK when `caller` may use `permission` on `topic`; else PERMISSION_DENIED naming both (or, with
  // access control on, INVALID_ARGUMENT for a malformed topic name).
  grpc::Status Check(const Principal& caller, Permission permission, const std::string& topic) const;
  // The same for "any permission": what ListTopics and DescribeTopic need to show a topic.
  grpc::Status CheckVisible(const Principal& caller, const std::string& topic) const;
  bool Allows(const Principal& caller, Permission permission, const std::string& topic) const;
  bool MaySee(const Principal& caller, const std::string& topic) const;

 private:
  using Digest = std::array<unsigned char, 32>;
  struct DigestHash {
    std::size_t operator()(const Digest& d) const {
      std::size_t h;  // a SHA-256 is uniformly spread: its first bytes are a fine hash
      std::memcpy(&h, d.data(), sizeof h);
      return h;
    }
  };
  struct DigestEqual {  // in constant time, so that no timing tells how close a guess came
    bool operator()(const Digest& a, const Digest& b) const;
  };
  static Digest Sha256(std::string_view text);
  bool Matches(const Principal& caller, std::uint8_t wanted, const std::string& topic) const;
  // Check and CheckVisible: `wanted` is any of these bits; `what` names them in the refusal.
  grpc::Status CheckBits(const Principal& caller, std::uint8_t wanted, const char* what,
                         const std::string& topic) const;

  bool enabled_ = false;
  Principal anonymous_;
  std::vector<Principal> principals_;
  std::unordered_map<Digest, std::size_t, DigestHash, DigestEqual> by_digest_;  // digest of a token -> its principal
};

}  // namespace goethe::server
