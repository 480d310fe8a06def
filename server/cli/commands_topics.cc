// goethe-cli topics list | create NAME [retention flags] | delete NAME | describe NAME
#include "cli_context.h"
#include "time_text.h"

namespace goethe::cli {
namespace {

struct CreateFlags {
  std::string topic;
  std::string retention_age;
  std::uint64_t retention_bytes = 0;
  std::uint64_t retention_events = 0;
  std::string index_granularity;
};

int RunList(CliContext& context) {
  v1::ListTopicsResponse response;
  const grpc::Status status = context.Unary(&v1::Goethe::Stub::ListTopics, v1::ListTopicsRequest(), &response);
  if (!status.ok()) return Fail(status);
  Output out = context.out();
  for (const v1::Topic& topic : response.topics()) out.Topic(topic);
  return kExitOk;
}

int RunCreate(CliContext& context, const CreateFlags& flags) {
  v1::CreateTopicRequest request;
  request.set_topic(flags.topic);
  v1::TopicSettings* settings = request.mutable_settings();
  std::string error;
  if (!flags.retention_age.empty() &&
      !SetDuration("--retention-age", flags.retention_age, settings->mutable_retention_age(), &error))
    return FailUsage(error);
  if (!flags.index_granularity.empty() &&
      !SetDuration("--index-granularity", flags.index_granularity, settings->mutable_index_granularity(), &error))
    return FailUsage(error);
  settings->set_retention_bytes(flags.retention_bytes);
  settings->set_retention_events(flags.retention_events);
  v1::CreateTopicResponse response;
  const grpc::Status status = context.Unary(&v1::Goethe::Stub::CreateTopic, request, &response);
  if (!status.ok()) return Fail(status);
  context.out().TopicDetails(response.topic());
  return kExitOk;
}

int RunDelete(CliContext& context, const std::string& topic) {
  v1::DeleteTopicRequest request;
  request.set_topic(topic);
  v1::DeleteTopicResponse response;
  const grpc::Status status = context.Unary(&v1::Goethe::Stub::DeleteTopic, request, &response);
  if (!status.ok()) return Fail(status);
  context.out().Done("deleted", "topic", topic);
  return kExitOk;
}

int RunDescribe(CliContext& context, const std::string& topic) {
  v1::DescribeTopicRequest request;
  request.set_topic(topic);
  v1::DescribeTopicResponse response;
  const grpc::Status status = context.Unary(&v1::Goethe::Stub::DescribeTopic, request, &response);
  if (!status.ok()) return Fail(status);
  context.out().TopicDetails(response.topic());
  return kExitOk;
}

}  // namespace

bool SetDuration(const std::string& flag, const std::string& text, google::protobuf::Duration* out, std::string* error) {
  std::optional<std::int64_t> nanos = ParseDurationNanos(text);
  if (!nanos || *nanos <= 0) {
    *error = flag + ": expected a positive duration such as 30s, 5m, 1h or 7d, got '" + text + "'";
    return false;
  }
  out->set_seconds(*nanos / 1'000'000'000);
  out->set_nanos(static_cast<std::int32_t>(*nanos % 1'000'000'000));
  return true;
}

void AddTopicsCommands(CLI::App& app, Action* chosen) {
  CLI::App* topics = app.add_subcommand("topics", "List, create, delete and describe topics");
  topics->require_subcommand(1);

  topics->add_subcommand("list", "All topics, one per line")->callback([chosen] { *chosen = RunList; });

  auto create_flags = std::make_shared<CreateFlags>();
  CLI::App* create = topics->add_subcommand("create", "Create a topic");
  create->add_option("topic", create_flags->topic, "Topic name")->required();
  create->add_option("--retention-age", create_flags->retention_age, "Delete events older than this (e.g. 7d)");
  create->add_option("--retention-bytes", create_flags->retention_bytes, "Keep at most this many payload bytes");
  create->add_option("--retention-events", create_flags->retention_events, "Keep at most this many events");
  create->add_option("--index-granularity", create_flags->index_granularity,
                     "Time-index bucket width (e.g. 1m); default: the server's");
  create->callback([create_flags, chosen] {
    *chosen = [create_flags](CliContext& context) { return RunCreate(context, *create_flags); };
  });

  auto delete_topic = std::make_shared<std::string>();
  CLI::App* remove = topics->add_subcommand("delete", "Delete a topic with its events and cursors");
  remove->add_option("topic", *delete_topic, "Topic name")->required();
  remove->callback([delete_topic, chosen] {
    *chosen = [delete_topic](CliContext& context) { return RunDelete(context, *delete_topic); };
  });

  auto describe_topic = std::make_shared<std::string>();
  CLI::App* describe = topics->add_subcommand("describe", "A topic's settings, offsets, size and times");
  describe->add_option("topic", *describe_topic, "Topic name")->required();
  describe->callback([describe_topic, chosen] {
    *chosen = [describe_topic](CliContext& context) { return RunDescribe(context, *describe_topic); };
  });
}

}  // namespace goethe::cli
