#include "leader_router.h"

#include <utility>

namespace goethe::client {

std::vector<std::string> SplitServers(const std::string& text) {
  std::vector<std::string> servers;
  std::size_t begin = 0;
  while (begin <= text.size()) {
    std::size_t end = text.find(',', begin);
    if (end == std::string::npos) end = text.size();
    std::string entry = text.substr(begin, end - begin);
    const std::size_t first = entry.find_first_not_of(" \t");
    if (first != std::string::npos) servers.push_back(entry.substr(first, entry.find_last_not_of(" \t") - first + 1));
    begin = end + 1;
  }
  return servers;
}

std::string LeaderHint(const grpc::ClientContext& call) {
  const auto& trailers = call.GetServerTrailingMetadata();
  const auto found = trailers.find(kLeaderMetadata);
  return found == trailers.end() ? std::string() : std::string(found->second.data(), found->second.size());
}

bool RefusedAsNotLeader(const grpc::Status& status, const grpc::ClientContext& call) {
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return false;
  // "not the leader:" exactly: "not the leader any more (...)" is a write of unknown outcome.
  return !LeaderHint(call).empty() || status.error_message().find("not the leader:") != std::string::npos;
}

bool NothingWritten(const grpc::Status& status, const grpc::ClientContext& call) {
  if (RefusedAsNotLeader(status, call)) return true;
  // A leader refusing before it wrote anything (taking over, too few members in sync) says so.
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
      status.error_message().find("nothing was written") != std::string::npos)
    return true;
  // gRPC's words when no connection could be made (pick_first, gRPC 1.51): the call never left.
  return status.error_code() == grpc::StatusCode::UNAVAILABLE &&
         status.error_message().find("failed to connect to all addresses") != std::string::npos;
}

LeaderRouter::LeaderRouter(std::vector<std::string> servers, ChannelFactory connect,
                           std::chrono::milliseconds probe_timeout)
    : servers_(std::move(servers)), connect_(std::move(connect)), probe_timeout_(probe_timeout) {
  RouteTo(servers_.front());
}

Route LeaderRouter::Current() const {
  std::lock_guard lock(mutex_);
  return route_;
}

std::shared_ptr<v1::Goethe::Stub> LeaderRouter::StubFor(const std::string& address) {
  std::lock_guard lock(mutex_);
  std::shared_ptr<v1::Goethe::Stub>& stub = stubs_[address];
  if (!stub) stub = v1::Goethe::NewStub(connect_(address));
  return stub;
}

void LeaderRouter::RouteTo(const std::string& address) {
  std::shared_ptr<v1::Goethe::Stub> stub = StubFor(address);
  std::lock_guard lock(mutex_);
  route_.stub = std::move(stub);
  route_.address = address;
  ++route_.generation;
}

std::optional<v1::ClusterStatusResponse> LeaderRouter::Ask(const std::string& address) {
  grpc::ClientContext call;
  call.set_deadline(std::chrono::system_clock::now() + probe_timeout_);
  v1::ClusterStatusResponse response;
  if (!StubFor(address)->ClusterStatus(&call, v1::ClusterStatusRequest(), &response).ok()) return std::nullopt;
  return response;
}

// The address to route to (see FindLeader), each server asked at most once.
std::optional<std::string> LeaderRouter::Leader() {
  std::map<std::string, std::optional<v1::ClusterStatusResponse>> answers;
  auto ask = [&](const std::string& address) -> const std::optional<v1::ClusterStatusResponse>& {
    auto found = answers.find(address);
    if (found == answers.end()) found = answers.emplace(address, Ask(address)).first;
    return found->second;
  };
  std::optional<std::string> first_answer;
  for (const std::string& server : servers_) {
    const std::optional<v1::ClusterStatusResponse>& status = ask(server);
    if (!status) continue;
    if (!first_answer) first_answer = server;
    // A single node leads itself; a node that names itself is reached best where it answered.
    if (!status->clustered() || (!status->leader().empty() && status->leader() == status->node())) return server;
    if (status->leader_address().empty()) continue;  // an election is under way
    // A follower's view may still name a leader that has died: go there only once it answers as leader.
    const std::optional<v1::ClusterStatusResponse>& leader = ask(status->leader_address());
    if (leader && leader->clustered() && leader->leader() == leader->node()) return status->leader_address();
  }
  return first_answer;
}

bool LeaderRouter::FindLeader() {
  if (!routing()) return true;
  std::lock_guard follow(follow_mutex_);
  std::optional<std::string> leader = Leader();
  if (leader) RouteTo(*leader);
  return leader.has_value();
}

void LeaderRouter::Follow(const Route& failed, const std::string& hint) {
  if (!routing()) return;
  std::lock_guard follow(follow_mutex_);
  if (Current().generation != failed.generation) return;
  if (!hint.empty() && hint != failed.address) {
    RouteTo(hint);
    return;
  }
  std::optional<std::string> leader = Leader();
  if (leader) RouteTo(*leader);
}

}  // namespace goethe::client
