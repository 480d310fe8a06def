// CreateTopic, DeleteTopic, ListTopics and DescribeTopic.
#include <algorithm>

#include "goethe_service.h"
#include "proto_convert.h"
#include "request_validation.h"

namespace goethe::server {

grpc::ServerUnaryReactor* GoetheService::CreateTopic(grpc::CallbackServerContext* call,
                                                     const v1::CreateTopicRequest* request,
                                                     v1::CreateTopicResponse* response) {
  if (auto* refused = RefuseWrite(call, Permission::kAdmin, request->topic())) return refused;
  Result<TopicSettings> settings = ToTopicSettings(*request);
  if (!settings.ok()) return FinishNow(call, settings.status());
  EventLog* log = context_.log;
  const std::int64_t default_granularity = DefaultGranularityNs();
  return FinishOnBlockingPool(call, [log, request, response, default_granularity,
                                     settings = std::move(settings).value()]() -> Status {
    Result<TopicInfo> created = log->CreateTopic(request->topic(), settings);
    if (!created.ok()) return created.status();
    ToProto(*created, default_granularity, response->mutable_topic());
    return Status::Ok();
  });
}

grpc::ServerUnaryReactor* GoetheService::DeleteTopic(grpc::CallbackServerContext* call,
                                                     const v1::DeleteTopicRequest* request,
                                                     v1::DeleteTopicResponse* /*response*/) {
  if (auto* refused = RefuseWrite(call, Permission::kAdmin, request->topic())) return refused;
  if (Status s = Validate(*request); !s.ok()) return FinishNow(call, s);
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
  if (Status s = Validate(*request); !s.ok()) return FinishNow(call, s);
  Result<TopicInfo> topic = context_.log->DescribeTopic(request->topic());
  if (!topic.ok()) return FinishNow(call, topic.status());
  ToProto(*topic, DefaultGranularityNs(), response->mutable_topic());
  return FinishNow(call, Status::Ok());
}

}  // namespace goethe::server
