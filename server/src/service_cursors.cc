// GetCursor, CommitCursor, ListCursors and DeleteCursor.
#include <algorithm>

#include "goethe_service.h"
#include "proto_convert.h"
#include "request_validation.h"

namespace goethe::server {
namespace {

// The cursor of `consumer`, or NOT_FOUND naming both when it has none.
Result<CursorInfo> FindCursor(const EventLog& log, const std::string& topic, const std::string& consumer) {
  Result<std::optional<CursorInfo>> cursor = log.GetCursor(topic, consumer);
  if (!cursor.ok()) return cursor.status();
  if (!cursor->has_value())
    return NotFound("consumer " + consumer + " has no committed cursor on topic " + topic);
  return std::move(**cursor);
}

}  // namespace

grpc::ServerUnaryReactor* GoetheService::GetCursor(grpc::CallbackServerContext* call,
                                                   const v1::GetCursorRequest* request,
                                                   v1::GetCursorResponse* response) {
  if (auto* refused = Refuse(call, Permission::kConsume, request->topic())) return refused;
  if (Status s = Validate(*request); !s.ok()) return FinishNow(call, s);
  Result<CursorInfo> cursor = FindCursor(*context_.log, request->topic(), request->consumer());
  if (!cursor.ok()) return FinishNow(call, cursor.status());
  ToProto(*cursor, response->mutable_cursor());
  return FinishNow(call, Status::Ok());
}

grpc::ServerUnaryReactor* GoetheService::CommitCursor(grpc::CallbackServerContext* call,
                                                      const v1::CommitCursorRequest* request,
                                                      v1::CommitCursorResponse* response) {
  if (auto* refused = RefuseWrite(call, Permission::kConsume, request->topic())) return refused;
  if (Status s = Validate(*request); !s.ok()) return FinishNow(call, s);
  EventLog* log = context_.log;
  return FinishOnBlockingPool(call, [log, request, response]() -> Status {
    const CursorMove move = request->reset() ? CursorMove::kReset : CursorMove::kForwardOnly;
    if (Status s = log->CommitCursor(request->topic(), request->consumer(), request->offset(), move); !s.ok()) return s;
    Result<CursorInfo> cursor = FindCursor(*log, request->topic(), request->consumer());
    if (!cursor.ok()) return cursor.status();
    ToProto(*cursor, response->mutable_cursor());
    return Status::Ok();
  });
}

grpc::ServerUnaryReactor* GoetheService::ListCursors(grpc::CallbackServerContext* call,
                                                     const v1::ListCursorsRequest* request,
                                                     v1::ListCursorsResponse* response) {
  if (auto* refused = Refuse(call, Permission::kConsume, request->topic())) return refused;
  if (Status s = Validate(*request); !s.ok()) return FinishNow(call, s);
  Result<std::vector<CursorInfo>> cursors = context_.log->ListCursors(request->topic());
  if (!cursors.ok()) return FinishNow(call, cursors.status());
  std::sort(cursors->begin(), cursors->end(),
            [](const CursorInfo& a, const CursorInfo& b) { return a.consumer < b.consumer; });
  for (const CursorInfo& cursor : *cursors) ToProto(cursor, response->add_cursors());
  return FinishNow(call, Status::Ok());
}

grpc::ServerUnaryReactor* GoetheService::DeleteCursor(grpc::CallbackServerContext* call,
                                                      const v1::DeleteCursorRequest* request,
                                                      v1::DeleteCursorResponse* /*response*/) {
  if (auto* refused = RefuseWrite(call, Permission::kAdmin, request->topic())) return refused;
  if (Status s = Validate(*request); !s.ok()) return FinishNow(call, s);
  EventLog* log = context_.log;
  return FinishOnBlockingPool(call, [log, request] { return log->DeleteCursor(request->topic(), request->consumer()); });
}

}  // namespace goethe::server
