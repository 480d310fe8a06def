// GoetheService: the goethe.v1.Goethe service on gRPC's callback API.
//
// Each RPC turns its request into engine calls and the engine's results into a response or a gRPC
// status (status_mapping.h). Calls that wait for a commit never block a gRPC thread: Produce
// finishes from the engine's group-commit callback, and cursor or topic changes run on the
// blocking pool. The streams live in their own reactors.
//
// Every RPC first authenticates its caller and checks its permission on the topic it names
// (access_policy.h); the streams authenticate at the start and check each subscribe and batch.
#pragma once

#include <grpcpp/grpcpp.h>

#include "goethe/v1/goethe.grpc.pb.h"
#include "service_context.h"

namespace goethe::server {

class GoetheService final : public v1::Goethe::CallbackService {
 public:
  // Consume is served raw (ByteBuffers in and out, ConsumeRaw): its events go from the store into
  // the response's wire bytes with no protobuf message in between (event_batch_wire.h).
  explicit GoetheService(ServiceContext context);

  // Closes every open stream (UNAVAILABLE, after a producer stream's acknowledgements) and
  // refuses new ones. Unary calls are left to grpc::Server::Shutdown.
  void BeginShutdown();

  // Produce (service_produce.cc)
  grpc::ServerUnaryReactor* Produce(grpc::CallbackServerContext* call, const v1::ProduceRequest* request,
                                    v1::ProduceResponse* response) override;
  grpc::ServerUnaryReactor* ProduceMulti(grpc::CallbackServerContext* call, const v1::ProduceMultiRequest* request,
                                         v1::ProduceMultiResponse* response) override;
  grpc::ServerBidiReactor<v1::ProduceStreamRequest, v1::ProduceStreamResponse>* ProduceStream(
      grpc::CallbackServerContext* call) override;

  // Reading (service_read.cc)
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* ConsumeRaw(grpc::CallbackServerContext* call);
  grpc::ServerUnaryReactor* Read(grpc::CallbackServerContext* call, const v1::ReadRequest* request,
                                 v1::ReadResponse* response) override;
  grpc::ServerUnaryReactor* Seek(grpc::CallbackServerContext* call, const v1::SeekRequest* request,
                                 v1::SeekResponse* response) override;

  // Cursors (service_cursors.cc)
  grpc::ServerUnaryReactor* GetCursor(grpc::CallbackServerContext* call, const v1::GetCursorRequest* request,
                                      v1::GetCursorResponse* response) override;
  grpc::ServerUnaryReactor* CommitCursor(grpc::CallbackServerContext* call, const v1::CommitCursorRequest* request,
                                         v1::CommitCursorResponse* response) override;
  grpc::ServerUnaryReactor* ListCursors(grpc::CallbackServerContext* call, const v1::ListCursorsRequest* request,
                                        v1::ListCursorsResponse* response) override;
  grpc::ServerUnaryReactor* DeleteCursor(grpc::CallbackServerContext* call, const v1::DeleteCursorRequest* request,
                                         v1::DeleteCursorResponse* response) override;

  // Topics (service_topics.cc)
  grpc::ServerUnaryReactor* CreateTopic(grpc::CallbackServerContext* call, const v1::CreateTopicRequest* request,
                                        v1::CreateTopicResponse* response) override;
  grpc::ServerUnaryReactor* DeleteTopic(grpc::CallbackServerContext* call, const v1::DeleteTopicRequest* request,
                                        v1::DeleteTopicResponse* response) override;
  grpc::ServerUnaryReactor* ListTopics(grpc::CallbackServerContext* call, const v1::ListTopicsRequest* request,
                                       v1::ListTopicsResponse* response) override;
  grpc::ServerUnaryReactor* DescribeTopic(grpc::CallbackServerContext* call, const v1::DescribeTopicRequest* request,
                                          v1::DescribeTopicResponse* response) override;

  // Consumer groups (service_groups.cc)
  grpc::ServerUnaryReactor* CreateGroup(grpc::CallbackServerContext* call, const v1::CreateGroupRequest* request,
                                        v1::CreateGroupResponse* response) override;
  grpc::ServerUnaryReactor* ListGroups(grpc::CallbackServerContext* call, const v1::ListGroupsRequest* request,
                                       v1::ListGroupsResponse* response) override;
  grpc::ServerUnaryReactor* DescribeGroup(grpc::CallbackServerContext* call, const v1::DescribeGroupRequest* request,
                                          v1::DescribeGroupResponse* response) override;
  grpc::ServerUnaryReactor* ResetGroup(grpc::CallbackServerContext* call, const v1::ResetGroupRequest* request,
                                       v1::ResetGroupResponse* response) override;
  grpc::ServerUnaryReactor* DeleteGroup(grpc::CallbackServerContext* call, const v1::DeleteGroupRequest* request,
                                        v1::DeleteGroupResponse* response) override;

  // Cluster (service_cluster.cc)
  grpc::ServerUnaryReactor* ClusterStatus(grpc::CallbackServerContext* call, const v1::ClusterStatusRequest* request,
                                          v1::ClusterStatusResponse* response) override;

  // This server (service_server_info.cc)
  grpc::ServerUnaryReactor* ServerInfo(grpc::CallbackServerContext* call, const v1::ServerInfoRequest* request,
                                       v1::ServerInfoResponse* response) override;

 private:
  // Finishes `call` at once with `status` (an engine status, mapped).
  static grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* call, const Status& status);
  static grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* call, const grpc::Status& status);
  // The caller of `call`; nullptr after finishing the call with UNAUTHENTICATED (`*refused` is then
  // its reactor).
  const Principal* Caller(grpc::CallbackServerContext* call, grpc::ServerUnaryReactor** refused);
  // nullptr when the caller of `call` may use `permission` on `topic` (RefuseUnlessVisible: any
  // permission); otherwise finishes the call with UNAUTHENTICATED or PERMISSION_DENIED and returns
  // its reactor.
  grpc::ServerUnaryReactor* Refuse(grpc::CallbackServerContext* call, Permission permission, const std::string& topic);
  grpc::ServerUnaryReactor* RefuseUnlessVisible(grpc::CallbackServerContext* call, const std::string& topic);
  // Refuse, and then, in a cluster, UNAVAILABLE pointing at the leader unless this node leads.
  grpc::ServerUnaryReactor* RefuseWrite(grpc::CallbackServerContext* call, Permission permission,
                                        const std::string& topic);
  // Runs `work` on the blocking pool and finishes `call` with the status it returns.
  grpc::ServerUnaryReactor* FinishOnBlockingPool(grpc::CallbackServerContext* call, std::function<Status()> work);

  std::int64_t DefaultGranularityNs() const;

  ServiceContext context_;
};

}  // namespace goethe::server
