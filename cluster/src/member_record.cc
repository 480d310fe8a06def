#include "member_record.h"

#include <algorithm>

#include <google/protobuf/util/json_util.h>

#include "goethe/cluster/v1/records.pb.h"

namespace goethe::cluster {
namespace {

template <typename Message>
std::string ToJson(const Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

template <typename Message>
bool FromJson(const std::string& json, Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // written by a newer version
  return google::protobuf::util::JsonStringToMessage(json, message, options).ok();
}

}  // namespace

const char* MemberStateName(MemberState state) {
  switch (state) {
    case MemberState::kStarting: return "starting";
    case MemberState::kCatchingUp: return "catching_up";
    case MemberState::kInSync: return "in_sync";
    case MemberState::kLeader: return "leader";
    case MemberState::kStopping: return "stopping";
  }
  return "starting";
}

bool ParseMemberState(const std::string& name, MemberState* out) {
  for (MemberState state : {MemberState::kStarting, MemberState::kCatchingUp, MemberState::kInSync,
                            MemberState::kLeader, MemberState::kStopping}) {
    if (name == MemberStateName(state)) {
      *out = state;
      return true;
    }
  }
  return false;
}

std::string EncodeMember(const MemberInfo& member) {
  v1::MemberRecord record;
  record.set_name(member.name);
  record.set_address(member.address);
  record.set_version(member.version);
  record.set_state(MemberStateName(member.state));
  record.set_applied(member.applied);
  record.set_updated_unix_nanos(member.updated_unix_nanos);
  return ToJson(record);
}

std::optional<MemberInfo> DecodeMember(const std::string& json) {
  v1::MemberRecord record;
  if (!FromJson(json, &record) || record.name().empty()) return std::nullopt;
  MemberInfo member;
  member.name = record.name();
  member.address = record.address();
  member.version = record.version();
  if (!ParseMemberState(record.state(), &member.state)) member.state = MemberState::kStarting;
  member.applied = record.applied();
  member.updated_unix_nanos = record.updated_unix_nanos();
  return member;
}

std::string EncodeLeader(const LeaderInfo& leader) {
  v1::LeaderRecord record;
  record.set_name(leader.name);
  record.set_address(leader.address);
  record.set_epoch(leader.epoch);
  return ToJson(record);
}

std::optional<LeaderInfo> DecodeLeader(const std::string& json) {
  v1::LeaderRecord record;
  if (!FromJson(json, &record) || record.name().empty()) return std::nullopt;
  return LeaderInfo{record.name(), record.address(), record.epoch()};
}

std::string EncodeInSync(const InSyncInfo& in_sync) {
  v1::InSyncRecord record;
  record.set_epoch(in_sync.epoch);
  for (const std::string& member : in_sync.members) record.add_members(member);
  return ToJson(record);
}

std::optional<InSyncInfo> DecodeInSync(const std::string& json) {
  v1::InSyncRecord record;
  if (!FromJson(json, &record)) return std::nullopt;
  return InSyncInfo{record.epoch(), {record.members().begin(), record.members().end()}};
}

bool ClusterView::HasMember(const std::string& name) const {
  return std::any_of(members.begin(), members.end(), [&](const MemberInfo& member) { return member.name == name; });
}

bool ClusterView::InSync(const std::string& replica) const {
  for (const std::string& entry : in_sync) {
    if (entry == replica) return true;
  }
  return false;
}

bool ClusterView::MemberInSync(const std::string& member) const {
  if (!in_sync_known) return false;
  for (const std::string& replica : in_sync) {
    if (replica.substr(0, replica.find('@')) == member) return true;
  }
  return false;
}

std::uint64_t ClusterView::BehindLeader(const MemberInfo& member) const {
  for (const MemberInfo& other : members) {
    if (other.name == leader) return member.applied >= other.applied ? 0 : other.applied - member.applied;
  }
  return 0;
}

}  // namespace goethe::cluster
