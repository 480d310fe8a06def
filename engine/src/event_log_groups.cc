// EventLog's consumer groups: the facade over GroupManager, and the few calls of the log it gives
// the groups (GroupContext).
#include "event_log_impl.h"
#include "group_manager.h"

namespace goethe {
namespace {

// Where a group starts, by the nearest rule; a cursor means nothing to a group.
Result<std::uint64_t> GroupStart(const EventLog::Impl& log, const std::string& topic, const StartPosition& start) {
  if (start.kind == StartPosition::Kind::kCursor)
    return InvalidArgument("a group starts at the beginning, the end, an offset or a time, not at a cursor");
  auto resolved = log.Resolve(topic, start);
  if (!resolved.ok()) return resolved.status();
  return resolved->offset;
}

}  // namespace

void EventLog::Impl::MakeGroupManager() {
  GroupContext context;
  context.now = [this] { return Now(); };
  context.commit = [this](std::function<Status(CommitContext&)> stage, std::function<void(const Status&)> done) {
    Commit(std::move(stage), std::move(done));
  };
  context.read = [this](const ReadRequest& request, const EventVisitor& visit) { return ReadEach(request, visit); };
  context.stage_append = [this](CommitContext& ctx, const AppendRequest& append) {
    AppendPlan plan;
    AppendOutcome outcome;
    if (Status s = CheckAppend(ctx, append, &plan, outcome); !s.ok()) return s;
    WriteAppend(ctx, append, plan, outcome);
    return Status::Ok();
  };
  context.wait_for_offset = [this](const std::string& topic, std::uint64_t offset, std::function<void()> wake) {
    return WaitForOffset(topic, offset, std::move(wake));
  };
  groups_ = std::make_unique<GroupManager>(std::move(context));
}

Result<GroupInfo> EventLog::CreateGroup(const std::string& topic, const std::string& group,
                                        const GroupSettings& settings, const StartPosition& start) {
  auto found = impl_->FindTopic(topic);
  if (!found.ok()) return found.status();
  auto offset = GroupStart(*impl_, topic, start);
  if (!offset.ok()) return offset.status();
  return impl_->groups_->Create(*found, group, settings, *offset);
}

Result<std::shared_ptr<GroupMember>> EventLog::JoinGroup(const std::string& topic, const std::string& group,
                                                         const GroupSettings& settings, const StartPosition& start,
                                                         JoinOptions options) {
  auto found = impl_->FindTopic(topic);
  if (!found.ok()) return found.status();
  auto offset = GroupStart(*impl_, topic, start);
  if (!offset.ok()) return offset.status();
  return impl_->groups_->Join(*found, group, settings, *offset, std::move(options));
}

Result<std::vector<GroupInfo>> EventLog::ListGroups(const std::string& topic) const {
  auto found = impl_->FindTopic(topic);
  if (!found.ok()) return found.status();
  return impl_->groups_->List(*found);
}

Result<GroupInfo> EventLog::DescribeGroup(const std::string& topic, const std::string& group) const {
  auto found = impl_->FindTopic(topic);
  if (!found.ok()) return found.status();
  return impl_->groups_->Describe(*found, group);
}

Result<std::vector<GroupPendingEvent>> EventLog::GroupPending(const std::string& topic, const std::string& group,
                                                              std::size_t limit) const {
  auto found = impl_->FindTopic(topic);
  if (!found.ok()) return found.status();
  return impl_->groups_->Pending(*found, group, limit);
}

Status EventLog::ResetGroup(const std::string& topic, const std::string& group, const StartPosition& start) {
  auto found = impl_->FindTopic(topic);
  if (!found.ok()) return found.status();
  auto offset = GroupStart(*impl_, topic, start);
  if (!offset.ok()) return offset.status();
  return impl_->groups_->Reset(*found, group, *offset);
}

Status EventLog::DeleteGroup(const std::string& topic, const std::string& group) {
  auto found = impl_->FindTopic(topic);
  if (!found.ok()) return found.status();
  return impl_->groups_->Delete(*found, group);
}

Status EventLog::ValidateGroupSettings(const std::string& topic, const std::string& group, GroupSettings* settings) {
  return GroupManager::Resolve(topic, group, settings);
}

}  // namespace goethe
