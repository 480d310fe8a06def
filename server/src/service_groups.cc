// CreateGroup, ListGroups, DescribeGroup, ResetGroup and DeleteGroup. (Joining a group is a
// Consume stream: consume_reactor_group.cc.)
#include "goethe_service.h"
#include "proto_convert.h"
#include "request_validation.h"

namespace goethe::server {

grpc::ServerUnaryReactor* GoetheService::CreateGroup(grpc::CallbackServerContext* call,
                                                     const v1::CreateGroupRequest* request,
                                                     v1::CreateGroupResponse* response) {
  if (auto* refused = RefuseWrite(call, Permission::kConsume, request->topic())) return refused;
  Result<StartPosition> start = ToGroupStart(request->topic(), request->group(), request->start());
  if (!start.ok()) return FinishNow(call, start.status());
  Result<GroupSettings> settings = ToGroupSettings(request->topic(), request->group(), request->settings());
  if (!settings.ok()) return FinishNow(call, settings.status());
  EventLog* log = context_.log;
  return FinishOnBlockingPool(call, [log, request, response, start = *start, settings = *settings]() -> Status {
    Result<GroupInfo> created = log->CreateGroup(request->topic(), request->group(), settings, start);
    if (!created.ok()) return created.status();
    ToProto(*created, response->mutable_group());
    return Status::Ok();
  });
}

grpc::ServerUnaryReactor* GoetheService::ListGroups(grpc::CallbackServerContext* call,
                                                    const v1::ListGroupsRequest* request,
                                                    v1::ListGroupsResponse* response) {
  if (auto* refused = Refuse(call, Permission::kConsume, request->topic())) return refused;
  Result<std::vector<GroupInfo>> groups = context_.log->ListGroups(request->topic());
  if (!groups.ok()) return FinishNow(call, groups.status());
  for (const GroupInfo& group : *groups) ToProto(group, response->add_groups());
  return FinishNow(call, Status::Ok());
}

grpc::ServerUnaryReactor* GoetheService::DescribeGroup(grpc::CallbackServerContext* call,
                                                       const v1::DescribeGroupRequest* request,
                                                       v1::DescribeGroupResponse* response) {
  if (auto* refused = Refuse(call, Permission::kConsume, request->topic())) return refused;
  if (Status s = ValidateGroupNames(request->topic(), request->group()); !s.ok()) return FinishNow(call, s);
  Result<GroupInfo> group = context_.log->DescribeGroup(request->topic(), request->group());
  if (!group.ok()) return FinishNow(call, group.status());
  ToProto(*group, response->mutable_group());
  auto pending = context_.log->GroupPending(request->topic(), request->group(), PendingPageSize(*request));
  if (!pending.ok()) return FinishNow(call, pending.status());
  for (const GroupPendingEvent& event : *pending) ToProto(event, response->add_pending());
  return FinishNow(call, Status::Ok());
}

grpc::ServerUnaryReactor* GoetheService::ResetGroup(grpc::CallbackServerContext* call,
                                                    const v1::ResetGroupRequest* request,
                                                    v1::ResetGroupResponse* response) {
  if (auto* refused = RefuseWrite(call, Permission::kAdmin, request->topic())) return refused;
  Result<StartPosition> start = ToGroupStart(request->topic(), request->group(), request->start());
  if (!start.ok()) return FinishNow(call, start.status());
  EventLog* log = context_.log;
  return FinishOnBlockingPool(call, [log, request, response, start = *start]() -> Status {
    if (Status s = log->ResetGroup(request->topic(), request->group(), start); !s.ok()) return s;
    Result<GroupInfo> group = log->DescribeGroup(request->topic(), request->group());
    if (!group.ok()) return group.status();
    ToProto(*group, response->mutable_group());
    return Status::Ok();
  });
}

grpc::ServerUnaryReactor* GoetheService::DeleteGroup(grpc::CallbackServerContext* call,
                                                     const v1::DeleteGroupRequest* request,
                                                     v1::DeleteGroupResponse*) {
  if (auto* refused = RefuseWrite(call, Permission::kAdmin, request->topic())) return refused;
  if (Status s = ValidateGroupNames(request->topic(), request->group()); !s.ok()) return FinishNow(call, s);
  EventLog* log = context_.log;
  return FinishOnBlockingPool(call, [log, request] { return log->DeleteGroup(request->topic(), request->group()); });
}

}  // namespace goethe::server
