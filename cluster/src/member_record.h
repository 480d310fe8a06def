// MemberInfo and leader records to and from the JSON stored in etcd (protobuf's JSON mapping of
// goethe.cluster.v1, so that etcdctl shows them readably).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "goethe/cluster/coordinator.h"

namespace goethe::cluster {

std::string EncodeMember(const MemberInfo& member);
// nullopt for a value that is not a member record (written by something else, or damaged).
std::optional<MemberInfo> DecodeMember(const std::string& json);

struct LeaderInfo {
  std::string name;
  std::string address;
  std::uint64_t epoch = 0;
};
std::string EncodeLeader(const LeaderInfo& leader);
std::optional<LeaderInfo> DecodeLeader(const std::string& json);

struct InSyncInfo {
  std::uint64_t epoch = 0;
  std::vector<std::string> members;
};
std::string EncodeInSync(const InSyncInfo& in_sync);
std::optional<InSyncInfo> DecodeInSync(const std::string& json);

}  // namespace goethe::cluster
