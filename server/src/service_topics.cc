// CreateTopic, DeleteTopic, ListTopics and DescribeTopic.
#include <algorithm>

#include "goethe_service.h"
#include "proto_convert.h"

namespace goethe::server {

grpc::ServerUnaryReactor* GoetheService::CreateTopic(grpc::CallbackServerContext* call,
                                                     const v1::CreateTopicRequest* request,
                                                     v1::CreateTopicResponse* response) {
  if (auto* refused = Refuse(call, Permission::kAdmin, request->topic())) return refused;
  if (Status s = EventLog::ValidateTopicName(request->topic()); !s.ok()) return FinishNow(call, s);
  const v1::TopicSettings& proto = request->settings();
  if (proto.retention_age().seconds() < 0 || proto.retention_age().nanos() < 0)
    return FinishNow(call, InvalidArgument("settings.retention_age must not be negative"));
  if (proto.index_granularity().seconds() < 0 || proto.index_granularity().nanos() < 0 ||
      (proto.has_index_granularity() && FromProto(proto).index_granularity_ns == 0))
    return FinishNow(call, InvalidArgument("settings.index_granularity must be positive when set"));
  EventLog* log = context_.log;
  const std::int64_t default_granularity = DefaultGranularityNs();
  return FinishOnBlockingPool(call, [log, request, response, default_granularity]() -> Status {
    Result<TopicInfo> created = log->CreateTopic(request->topic(), FromProto(request->settings()));
    if (!created.ok()) return created.status();
    ToProto(*created, default_granularity, response->mutable_topic());
    return Status::Ok();
  });
}

grpc::ServerUnaryReactor* GoetheService::DeleteTopic(grpc::CallbackServerContext* call,
                                                     const v1::DeleteTopicRequest* request,
                                                     v1::DeleteTopicResponse* /*response*/) {
  if (auto* refused = Refuse(call, Permission::kAdmin, request->topic())) return refused;
  if (Status s = EventLog::ValidateTopicName(request->topic()); !s.ok()) return FinishNow(call, s);
  EventLog* log = context_.log;
  return FinishOnBlockingPool(call, [log, request] { return log->DeleteTopic(request->topic()); });
}

grpc::ServerUnaryReactor* GoetheService::ListTopics(grpc::CallbackServerContext* call,
                                                    const v1::ListTopicsRequest* /*request*/,
                                                    v1::ListTopicsResponse* response) {
  grpc::ServerUnaryReactor* refused = nullptr;
  const Principal* caller = Caller(call, &refused);
  if (caller == nullptr) return refused;
  std::vector<TopicInfo> topics = context_.log->ListTopics();
  std::sort(topics.begin(), topics.end(), [](const TopicInfo& a, const TopicInfo& b) { return a.name < b.name; });
  for (const TopicInfo& topic : topics) {
    // Only the topics the caller holds some permission on.
    if (context_.access->MaySee(*caller, topic.name)) ToProto(topic, DefaultGranularityNs(), response->add_topics());
  }
  return FinishNow(call, Status::Ok());
}

grpc::ServerUnaryReactor* GoetheService::DescribeTopic(grpc::CallbackServerContext* call,
                                                       const v1::DescribeTopicRequest* request,
                                                       v1::DescribeTopicResponse* response) {
  if (auto* refused = RefuseUnlessVisible(call, request->topic())) return refused;
  if (Status s = EventLog::ValidateTopicName(request->topic()); !s.ok()) return FinishNow(call, s);
  Result<TopicInfo> topic = context_.log->DescribeTopic(request->topic());
  if (!topic.ok()) return FinishNow(call, topic.status());
  ToProto(*topic, DefaultGranularityNs(), response->mutable_topic());
  return FinishNow(call, Status::Ok());
}

}  // namespace goethe::server
