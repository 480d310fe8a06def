// goethe-cli groups list TOPIC | describe TOPIC GROUP [--max N] | create TOPIC GROUP [settings]
//                 | reset TOPIC GROUP --from ... | delete TOPIC GROUP
// (Joining a group is `consume TOPIC --group NAME`.)
#include "cli_context.h"

namespace goethe::cli {
namespace {

struct GroupFlags {
  std::string topic;
  std::string group;
  std::string from = "beginning";
  std::string ack_wait;
  std::uint32_t max_deliveries = 0;
  std::string dead_letter_topic;
  bool ordered_by_key = false;
  std::string reset_policy = "earliest";
  std::uint64_t max_pending = 0;
  std::uint32_t max = 100;
};

// --from for a group: like consume's, but a group cannot start at a cursor.
bool ParseGroupStart(const GroupFlags& flags, v1::StartPosition* out, std::string* error) {
  if (flags.from == "cursor") {
    *error = "--from: a group starts at beginning, end, now, an offset or a time, not at a cursor";
    return false;
  }
  return ParseStartPosition({.from = flags.from}, out, error);
}

bool FillSettings(const GroupFlags& flags, v1::GroupSettings* settings, std::string* error) {
  if (!flags.ack_wait.empty() && !SetDuration("--ack-wait", flags.ack_wait, settings->mutable_ack_wait(), error))
    return false;
  settings->set_max_deliveries(flags.max_deliveries);
  settings->set_dead_letter_topic(flags.dead_letter_topic);
  settings->set_ordered_by_key(flags.ordered_by_key);
  settings->set_reset_policy(flags.reset_policy == "latest"  ? v1::RESET_POLICY_LATEST
                             : flags.reset_policy == "error" ? v1::RESET_POLICY_ERROR
                                                             : v1::RESET_POLICY_EARLIEST);
  settings->set_max_pending(flags.max_pending);
  return true;
}

int RunList(CliContext& context, const GroupFlags& flags) {
  v1::ListGroupsRequest request;
  request.set_topic(flags.topic);
  v1::ListGroupsResponse response;
  const grpc::Status status = context.Unary(&v1::Goethe::Stub::ListGroups, request, &response);
  if (!status.ok()) return Fail(status);
  for (const v1::Group& group : response.groups()) context.out().Group(flags.topic, group);
  return kExitOk;
}

int RunDescribe(CliContext& context, const GroupFlags& flags) {
  v1::DescribeGroupRequest request;
  request.set_topic(flags.topic);
  request.set_group(flags.group);
  request.set_max_pending(flags.max);
  v1::DescribeGroupResponse response;
  const grpc::Status status = context.Unary(&v1::Goethe::Stub::DescribeGroup, request, &response);
  if (!status.ok()) return Fail(status);
  Output out = context.out();
  out.GroupDetails(flags.topic, response.group());
  for (const v1::PendingEvent& pending : response.pending()) out.Pending(flags.group, pending);
  return kExitOk;
}

int RunCreate(CliContext& context, const GroupFlags& flags) {
  v1::CreateGroupRequest request;
  request.set_topic(flags.topic);
  request.set_group(flags.group);
  std::string error;
  if (!ParseGroupStart(flags, request.mutable_start(), &error) || !FillSettings(flags, request.mutable_settings(), &error))
    return FailUsage(error);
  v1::CreateGroupResponse response;
  const grpc::Status status = context.Unary(&v1::Goethe::Stub::CreateGroup, request, &response);
  if (!status.ok()) return Fail(status);
  context.out().GroupDetails(flags.topic, response.group());
  return kExitOk;
}

int RunReset(CliContext& context, const GroupFlags& flags) {
  v1::ResetGroupRequest request;
  request.set_topic(flags.topic);
  request.set_group(flags.group);
  std::string error;
  if (!ParseGroupStart(flags, request.mutable_start(), &error)) return FailUsage(error);
  v1::ResetGroupResponse response;
  const grpc::Status status = context.Unary(&v1::Goethe::Stub::ResetGroup, request, &response);
  if (!status.ok()) return Fail(status);
  context.out().GroupDetails(flags.topic, response.group());
  return kExitOk;
}

int RunDelete(CliContext& context, const GroupFlags& flags) {
  v1::DeleteGroupRequest request;
  request.set_topic(flags.topic);
  request.set_group(flags.group);
  v1::DeleteGroupResponse response;
  const grpc::Status status = context.Unary(&v1::Goethe::Stub::DeleteGroup, request, &response);
  if (!status.ok()) return Fail(status);
  context.out().Done("deleted", "group", flags.group);
  return kExitOk;
}

// A subcommand taking TOPIC (and GROUP unless `topic_only`), running `run` with the flags.
CLI::App* AddGroupCommand(CLI::App* groups, Action* chosen, const char* name, const char* what, bool topic_only,
                          int (*run)(CliContext&, const GroupFlags&), std::shared_ptr<GroupFlags> flags) {
  CLI::App* command = groups->add_subcommand(name, what);
  command->add_option("topic", flags->topic, "Topic name")->required();
  if (!topic_only) command->add_option("group", flags->group, "Group name")->required();
  command->callback([flags, chosen, run] {
    *chosen = [flags, run](CliContext& context) { return run(context, *flags); };
  });
  return command;
}

}  // namespace

void AddGroupsCommands(CLI::App& app, Action* chosen) {
  CLI::App* groups = app.add_subcommand("groups", "List, describe, create, reset and delete consumer groups");
  groups->require_subcommand(1);
  auto flags = std::make_shared<GroupFlags>();
  AddGroupCommand(groups, chosen, "list", "A topic's groups, one per line, with their progress", true, RunList, flags);
  AddGroupCommand(groups, chosen, "describe", "A group's settings, progress and unacked events", false, RunDescribe,
                  flags)
      ->add_option("--max", flags->max, "Show at most this many unacked events")
      ->capture_default_str();
  CLI::App* create =
      AddGroupCommand(groups, chosen, "create", "Create a group (consume --group also creates one)", false, RunCreate, flags);
  create->add_option("--from", flags->from, "Where it starts: beginning, end, now, an offset or an RFC 3339 time")
      ->capture_default_str();
  create->add_option("--ack-wait", flags->ack_wait, "Redeliver an event not acked within this (default 30s)");
  create->add_option("--max-deliveries", flags->max_deliveries, "Then to the dead-letter topic (default 5)");
  create->add_option("--dead-letter-topic", flags->dead_letter_topic, "Default: TOPIC.GROUP.dead-letter");
  create->add_flag("--ordered-by-key", flags->ordered_by_key, "One event of a key in flight at a time, in order");
  create->add_option("--reset-policy", flags->reset_policy, "When retention overtakes it: earliest, latest or error")
      ->capture_default_str()
      ->check(CLI::IsMember({"earliest", "latest", "error"}));
  create->add_option("--max-pending", flags->max_pending, "Most events dispatched ahead of the oldest unacked one");
  AddGroupCommand(groups, chosen, "reset", "Start a group over (its members' streams end)", false, RunReset, flags)
      ->add_option("--from", flags->from, "beginning, end, now, an offset or an RFC 3339 time")
      ->required();
  AddGroupCommand(groups, chosen, "delete", "Delete a group and its state", false, RunDelete, flags);
}

}  // namespace goethe::cli
