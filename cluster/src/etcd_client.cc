#include "etcd_client.h"

#include <fstream>
#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>

namespace goethe::cluster {
namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument(path + ": cannot read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<std::shared_ptr<grpc::ChannelCredentials>> Credentials(const EtcdTlsConfig& tls) {
  if (!tls.enabled()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  Result<std::string> ca = ReadFile(tls.ca_file);
  if (!ca.ok()) return ca.status();
  options.pem_root_certs = *ca;
  if (!tls.cert_file.empty()) {
    Result<std::string> cert = ReadFile(tls.cert_file);
    if (!cert.ok()) return cert.status();
    Result<std::string> key = ReadFile(tls.key_file);
    if (!key.ok()) return key.status();
    options.pem_cert_chain = *cert;
    options.pem_private_key = *key;
  }
  return grpc::SslCredentials(options);
}

}  // namespace

Result<std::unique_ptr<EtcdClient>> EtcdClient::Create(const EtcdConfig& config) {
  std::unique_ptr<EtcdClient> client(new EtcdClient());
  Result<std::shared_ptr<grpc::ChannelCredentials>> credentials = Credentials(config.tls);
  if (!credentials.ok()) return InvalidArgument("cluster.etcd.tls: " + credentials.status().message());
  client->tls_ = config.tls.enabled();
  if (!config.username.empty()) {
    Result<std::string> password = ReadFile(config.password_file);
    if (!password.ok()) return InvalidArgument("cluster.etcd.password_file: " + password.status().message());
    client->username_ = config.username;
    client->password_ = *password;
    while (!client->password_.empty() && (client->password_.back() == '\n' || client->password_.back() == '\r'))
      client->password_.pop_back();
  }
  for (const std::string& endpoint : config.endpoints) {
    grpc::ChannelArguments arguments;
    // A member that hangs (paused, cut off) under a long call (watch, campaign) is noticed by these
    // pings. etcd answers pings sent at its --grpc-keepalive-min-time (5 s) or more often, or with
    // no call open, with GOAWAY "too_many_pings" (seen with 5 s): so every 10 s, and only with calls.
    arguments.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
    arguments.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 2000);
    arguments.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
    // Reconnect soon after a member comes back, rather than after gRPC's default back-off: a channel
    // still backing off fails its calls at once with the member's old error, and a lease has only a
    // TTL to find a member that answers (seen in CI: a member back for 0.8 s still "refused").
    arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
    auto member = std::make_unique<Member>();
    member->address = endpoint;
    member->channel = grpc::CreateCustomChannel(endpoint, *credentials, arguments);
    member->kv = etcdserverpb::KV::NewStub(member->channel);
    member->watch = etcdserverpb::Watch::NewStub(member->channel);
    member->lease = etcdserverpb::Lease::NewStub(member->channel);
    member->auth = etcdserverpb::Auth::NewStub(member->channel);
    member->election = v3electionpb::Election::NewStub(member->channel);
    client->members_.push_back(std::move(member));
  }
  return client;
}

std::string EtcdClient::PrefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

std::string EtcdClient::endpoints() const {
  std::string text;
  for (const auto& member : members_) text += (text.empty() ? "" : ",") + member->address;
  return text;
}

EtcdClient::Member& EtcdClient::Current() { return *members_[current_.load() % members_.size()]; }

bool EtcdClient::IsMemberFailure(const grpc::Status& status) const {
  // DEADLINE_EXCEEDED: no answer in the attempt's time (a hung member, or an etcd election under
  // way). "etcdserver: no leader" and "not capable" are what a member that lost its quorum says.
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
      return true;
    default:
      return status.error_message().find("no leader") != std::string::npos;
  }
}

bool EtcdClient::IsStaleToken(const grpc::Status& status) const {
  return !username_.empty() && (status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
                                status.error_message().find("invalid auth token") != std::string::npos);
}

void EtcdClient::Failed(const Member& member, const grpc::Status& status) {
  if (IsStaleToken(status)) {
    std::lock_guard lock(token_mutex_);
    token_.clear();
    return;
  }
  if (!IsMemberFailure(status)) return;
  std::size_t seen = current_.load();
  if (members_[seen % members_.size()].get() != &member) return;  // another thread moved on already
  if (members_.size() > 1 && current_.compare_exchange_strong(seen, seen + 1)) {
    spdlog::warn("etcd member {} failed ({}); moving on to {}", member.address, status.error_message(),
                 members_[(seen + 1) % members_.size()]->address);
  }
}

void EtcdClient::AddToken(grpc::ClientContext& context) {
  std::lock_guard lock(token_mutex_);
  if (!token_.empty()) context.AddMetadata("token", token_);
}

bool EtcdClient::NeedsToken() const {
  std::lock_guard lock(token_mutex_);
  return !username_.empty() && token_.empty();
}

Status EtcdClient::PrepareLongCall(grpc::ClientContext& context) {
  if (NeedsToken()) {
    if (Status s = Authenticate(Current(), Clock::now() + std::chrono::seconds(1)); !s.ok()) return s;
  }
  AddToken(context);
  return Status::Ok();
}

Status EtcdClient::Authenticate(Member& member, Clock::time_point deadline) {
  grpc::ClientContext context;
  context.set_deadline(GrpcDeadline(deadline));
  etcdserverpb::AuthenticateRequest request;
  request.set_name(username_);
  request.set_password(password_);
  etcdserverpb::AuthenticateResponse response;
  grpc::Status status = member.auth->Authenticate(&context, request, &response);
  if (!status.ok())
    return Unavailable("etcd Authenticate as " + username_ + " at " + member.address + ": " + status.error_message());
  std::lock_guard lock(token_mutex_);
  token_ = response.token();
  return Status::Ok();
}

Status EtcdClient::Call(const std::string& what, Clock::time_point deadline, const Attempt& attempt,
                        std::chrono::milliseconds per_attempt, bool wait_for_ready) {
  grpc::Status last;
  std::string last_address;
  for (;;) {
    Member& member = Current();
    if (NeedsToken()) {
      if (Status s = Authenticate(member, std::min(deadline, Clock::now() + per_attempt)); !s.ok()) {
        last = grpc::Status(grpc::StatusCode::UNAVAILABLE, s.message());
        last_address = member.address;
        Failed(member, last);
        if (Clock::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
    }
    grpc::ClientContext context;
    context.set_deadline(GrpcDeadline(std::min(deadline, Clock::now() + per_attempt)));
    context.set_wait_for_ready(wait_for_ready);
    AddToken(context);
    last = attempt(member, context);
    last_address = member.address;
    if (last.ok()) return Status::Ok();
    if (!IsStaleToken(last) && !IsMemberFailure(last)) break;
    Failed(member, last);
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const StatusCode code = IsMemberFailure(last) ? StatusCode::kUnavailable : StatusCode::kFailedPrecondition;
  std::string why = last.error_message();
  // A deadline spent waiting for a connection says less than that.
  if (last.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
      Current().channel->GetState(false) != GRPC_CHANNEL_READY)
    why = tls_ ? "no connection (is etcd running there, serving TLS, and does it trust this node's certificate? "
                 "see cluster.etcd.tls)"
               : "no connection (is etcd running there?)";
  return Status(code, "etcd " + what + " at " + last_address + ": " + why);
}

Status EtcdClient::Range(const std::string& prefix, Clock::time_point deadline, etcdserverpb::RangeResponse* out) {
  etcdserverpb::RangeRequest request;
  request.set_key(prefix);
  request.set_range_end(PrefixEnd(prefix));
  Status status = Call("Range " + prefix, deadline, [&](Member& m, grpc::ClientContext& c) {
    return m.kv->Range(&c, request, out);
  });
  if (status.ok()) Remember(out->header());
  return status;
}

Status EtcdClient::Put(const std::string& key, const std::string& value, std::int64_t lease,
                       Clock::time_point deadline) {
  etcdserverpb::PutRequest request;
  request.set_key(key);
  request.set_value(value);
  request.set_lease(lease);
  etcdserverpb::PutResponse response;
  return Call("Put " + key, deadline, [&](Member& m, grpc::ClientContext& c) {
    return m.kv->Put(&c, request, &response);
  });
}

Status EtcdClient::Txn(const etcdserverpb::TxnRequest& request, Clock::time_point deadline,
                       etcdserverpb::TxnResponse* out) {
  return Call("Txn", deadline, [&](Member& m, grpc::ClientContext& c) { return m.kv->Txn(&c, request, out); });
}

Status EtcdClient::Grant(std::chrono::seconds ttl, Clock::time_point deadline, etcdserverpb::LeaseGrantResponse* out) {
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(ttl.count());
  Status status = Call(
      "LeaseGrant", deadline,
      [&](Member& m, grpc::ClientContext& c) { return m.lease->LeaseGrant(&c, request, out); },
      std::chrono::milliseconds(1000), /*wait_for_ready=*/true);
  if (status.ok() && !out->error().empty()) return Unavailable("etcd LeaseGrant: " + out->error());
  if (status.ok()) Remember(out->header());
  return status;
}

void EtcdClient::Remember(const etcdserverpb::ResponseHeader& header) {
  if (header.cluster_id() != 0) cluster_id_.store(header.cluster_id());
}

Status EtcdClient::Revoke(std::int64_t lease, Clock::time_point deadline) {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(lease);
  etcdserverpb::LeaseRevokeResponse response;
  return Call("LeaseRevoke", deadline, [&](Member& m, grpc::ClientContext& c) {
    return m.lease->LeaseRevoke(&c, request, &response);
  });
}

Status EtcdClient::KeepAliveOnce(std::int64_t lease, Clock::time_point deadline, std::int64_t* ttl_seconds) {
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(lease);
  return Call(
      "LeaseKeepAlive", deadline,
      [&](Member& m, grpc::ClientContext& c) {
        auto stream = m.lease->LeaseKeepAlive(&c);
        etcdserverpb::LeaseKeepAliveResponse response;
        if (!stream->Write(request) || !stream->Read(&response)) {
          stream->WritesDone();
          grpc::Status status = stream->Finish();
          return status.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "keep-alive stream ended") : status;
        }
        *ttl_seconds = response.ttl();
        // Half-closing ends the stream on etcd's side too; Finish waits for that (bounded by the
        // attempt's deadline), and its status no longer matters: the answer is in.
        stream->WritesDone();
        (void)stream->Finish();
        return grpc::Status::OK;
      },
      std::chrono::milliseconds(500));
}

Status EtcdClient::Resign(const v3electionpb::LeaderKey& leader, Clock::time_point deadline) {
  v3electionpb::ResignRequest request;
  *request.mutable_leader() = leader;
  v3electionpb::ResignResponse response;
  return Call("Resign", deadline, [&](Member& m, grpc::ClientContext& c) {
    return m.election->Resign(&c, request, &response);
  });
}

}  // namespace goethe::cluster
