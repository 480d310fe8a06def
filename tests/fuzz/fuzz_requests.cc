// Fuzzes the server's request validation, RPC by RPC. A request goes through the functions the
// handlers call — the access checks (server/src/access_policy.h), then the request checks
// (request_validation.h, produce_validation.h) — and a request they let through runs against a
// real EventLog as its handler would run it. A refusal must be UNAUTHENTICATED, PERMISSION_DENIED,
// INVALID_ARGUMENT or RESOURCE_EXHAUSTED; the engine may answer anything but INTERNAL or DATA_LOSS
// (a bug, on this healthy store); a crash, hang or sanitizer report is a request the checks should
// have refused, or a bug behind them.
//
// Input layout (make_corpus.py writes the seeds in corpus/fuzz_requests):
//   byte 0    bits 0-3: the RPC, in the order of enum Rpc (the service's order in goethe.proto, but
//             ProduceMulti and the group RPCs last, added later; 15 is skipped); bit 4: access control on (the tokens of SecuredConfig); bit 5:
//             the call carries `authorization` metadata; bit 6: server.auto_create_topics off
//   bit 5:    byte 1 is n, the next n bytes the metadata's value
//   the rest  the request, protobuf-encoded; input that does not parse is skipped. The group RPCs
//             (14) take one more byte first: which of CreateGroup, ListGroups, DescribeGroup,
//             ResetGroup, DeleteGroup (modulo 5). Consume takes
//             one ConsumeRequest: a subscribe, or an ack on a stream that subscribed to "orders"
//             and delivered up to its head. ProduceStream takes one ProduceStreamRequest (a batch
//             or an append across topics).
//
// One log serves many runs (LevelDB in a temp dir, small limits) and holds the topics of
// kBaseline; after a run that writes, Restore puts those back as they were and removes any other,
// and every kWritesPerStore such runs the store starts afresh, so that every run finds about the
// same small store.
// GOETHE_FUZZ_VERBOSE=1 prints how far each run got (to check that the seeds go deep).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <google/protobuf/stubs/logging.h>
#include <spdlog/spdlog.h>

#include "access_policy.h"
#include "fuzz_support.h"
#include "goethe/engine/event_log.h"
#include "proto_convert.h"
#include "request_validation.h"

namespace {

namespace fs = std::filesystem;
using namespace goethe;
using namespace goethe::server;

enum class Rpc : std::uint8_t {
  kProduce, kProduceStream, kConsume, kRead, kSeek, kGetCursor, kCommitCursor, kListCursors,
  kDeleteCursor, kCreateTopic, kDeleteTopic, kListTopics, kDescribeTopic, kProduceMulti, kGroups, kCount
};
constexpr const char* kRpcNames[] = {"Produce", "ProduceStream", "Consume", "Read", "Seek", "GetCursor",
                                     "CommitCursor", "ListCursors", "DeleteCursor", "CreateTopic",
                                     "DeleteTopic", "ListTopics", "DescribeTopic", "ProduceMulti", "Groups"};
static_assert(std::size(kRpcNames) == static_cast<std::size_t>(Rpc::kCount));

constexpr std::uint8_t kAccessOn = 0x10, kHasMetadata = 0x20, kNoAutoCreate = 0x40;

// Small limits, so that a run stays fast whatever the request asks for.
constexpr std::uint32_t kMaxEventsPerProduce = 16;
constexpr std::uint64_t kMaxEventBytes = 256;
constexpr std::uint32_t kMaxConsumeWindow = 64;
constexpr TimestampNs kStart = 1'700'000'000'000'000'000;

// The topics every run finds, each with `events` events and a cursor of kBaselineConsumer at 2.
struct BaselineTopic {
  const char* name;
  TopicSettings settings;
  std::uint64_t events;
};
const BaselineTopic kBaseline[] = {
    {"orders", {.retention_events = 1000}, 20},
    {"metrics.cpu", {.retention_age_ns = 3'600'000'000'000, .index_granularity_ns = 1'000'000}, 5},
};
constexpr const char* kBaselineConsumer = "billing";
constexpr std::uint64_t kWritesPerStore = 1000;
constexpr const char* kAckTopic = "orders";   // where a Consume ack's stream is subscribed
constexpr const char* kAckConsumer = "acker";

// Three tokens with different grants, so that each access answer is reachable (the seeds carry
// the tokens: libFuzzer cannot guess one through its SHA-256).
AuthConfig SecuredConfig() {
  AuthConfig auth;
  auth.enabled = true;
  auth.tokens = {
      {"admin", "fuzz-admin-token", {{Bit(Permission::kAdmin), {"*"}}}},
      {"ingest", "fuzz-ingest-token",
       {{Bit(Permission::kProduce), {"orders*"}}, {Bit(Permission::kConsume), {"metrics.?*"}}}},
      {"reader", "fuzz-reader-token", {{Bit(Permission::kConsume), {"[a-m]*", "orders"}}}},
  };
  return auth;
}

struct Harness {
  fs::path root;  // removed at exit
  std::optional<BackendPlugin> plugin;
  std::unique_ptr<EventLog> log;  // over root/store
  std::unique_ptr<AccessPolicy> secured;
  std::uint64_t baseline_ids[std::size(kBaseline)] = {};
  std::uint64_t writes = 0;  // runs that wrote to this store
  bool verbose = false;
};

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_requests: %s\n", what.c_str());
  std::abort();
}

std::uint64_t Seed(EventLog& log, const BaselineTopic& topic) {
  Result<TopicInfo> created = log.CreateTopic(topic.name, topic.settings);
  if (!created.ok()) Fail("cannot create topic " + std::string(topic.name) + ": " + created.status().ToString());
  AppendRequest append{.topic = topic.name, .create_topic = false};
  for (std::uint64_t i = 0; i < topic.events; ++i) append.payloads.push_back("event-" + std::to_string(i));
  if (AppendOutcome out = log.Append(std::move(append)); !out.status.ok())
    Fail("cannot seed events: " + out.status.ToString());
  if (Status s = log.CommitCursor(topic.name, kBaselineConsumer, 2, CursorMove::kReset); !s.ok())
    Fail("cannot seed a cursor: " + s.ToString());
  return created->id;
}

// A new log on an empty store, holding kBaseline.
void OpenFreshLog(Harness& h) {
  h.log.reset();  // closes it
  const fs::path path = h.root / "store";
  std::error_code ec;
  fs::remove_all(path, ec);
  auto store = h.plugin->Open(path.string(), {});
  if (!store.ok()) Fail("cannot open a store: " + store.status().ToString());
  EventLogOptions options;
  options.sync = false;
  options.max_event_bytes = kMaxEventBytes;
  options.idempotency_window = std::chrono::seconds(10);
  options.default_index_granularity = std::chrono::milliseconds(10);
  options.retention_interval = std::chrono::hours(1);  // no background pass: runs stay repeatable
  // A clock that moves 1 ms a reading: events get distinct times for seeks by time to find.
  options.clock = [] {
    static std::atomic<TimestampNs> now{kStart};
    return now += 1'000'000;
  };
  auto log = EventLog::Open(std::move(store).value(), std::move(options));
  if (!log.ok()) Fail("cannot open the log: " + log.status().ToString());
  h.log = std::move(log).value();
  for (std::size_t i = 0; i < std::size(kBaseline); ++i) h.baseline_ids[i] = Seed(*h.log, kBaseline[i]);
  h.writes = 0;
}

// After a run that wrote: topics beyond kBaseline go, and a baseline topic that was deleted (or
// deleted and created again with other settings) comes back as it was. Every kWritesPerStore
// runs the store starts over: what runs leave in a topic (events, cursors, deleted records that
// LevelDB's scans must step over) would otherwise slow every later run down.
void Restore(Harness& h) {
  if (++h.writes == kWritesPerStore) return OpenFreshLog(h);
  bool present[std::size(kBaseline)] = {};
  for (const TopicInfo& topic : h.log->ListTopics()) {
    std::size_t i = 0;
    while (i < std::size(kBaseline) && topic.name != kBaseline[i].name) ++i;
    if (i < std::size(kBaseline) && topic.id == h.baseline_ids[i]) {
      present[i] = true;
      const Result<std::vector<GroupInfo>> groups = h.log->ListGroups(topic.name);
      for (const GroupInfo& group : groups.value()) (void)h.log->DeleteGroup(topic.name, group.name);
    } else {
      (void)h.log->DeleteTopic(topic.name);
    }
  }
  for (std::size_t i = 0; i < std::size(kBaseline); ++i) {
    if (!present[i]) h.baseline_ids[i] = Seed(*h.log, kBaseline[i]);
  }
}

Harness& Get() {
  static Harness* harness = [] {
    auto* h = new Harness;
    // Quiet: access refusals log at info, and protobuf logs every string that is not UTF-8 (a
    // request gRPC would refuse before any handler); thousands of lines a second otherwise.
    spdlog::set_level(spdlog::level::off);
    google::protobuf::SetLogHandler(nullptr);
    h->verbose = fuzz::Verbose();
    h->root = fuzz::MakeTempDir("goethe-fuzz-requests-");
    h->plugin.emplace(fuzz::LoadLevelDb("fuzz_requests"));
    h->secured = std::make_unique<AccessPolicy>(SecuredConfig());
    OpenFreshLog(*h);
    std::atexit([] {
      Harness& h = Get();
      h.log.reset();  // closes it
      std::error_code ec;
      fs::remove_all(h.root, ec);
    });
    return h;
  }();
  return *harness;
}

// One call: who makes it, under which policy and limits.
struct Call {
  Harness& h;
  const char* rpc;
  const AccessPolicy& policy;
  const Principal& caller;
  ProduceLimits limits;

  EventLog& log() const { return *h.log; }

  void Log(const char* stage, const std::string& what) const {
    if (h.verbose) std::fprintf(stderr, "%s: %s: %s\n", rpc, stage, what.c_str());
  }

  // The access check the handler makes; false when it refuses the call (which then ends).
  bool MayCall(Permission permission, const std::string& topic) const {
    return Allowed(policy.Check(caller, permission, topic), policy.Allows(caller, permission, topic));
  }
  bool MaySee(const std::string& topic) const {
    return Allowed(policy.CheckVisible(caller, topic), policy.MaySee(caller, topic));
  }
  bool Allowed(const grpc::Status& checked, bool granted) const {
    if (checked.ok() && !granted) Fail(std::string(rpc) + ": the access check passed a call no grant allows");
    if (checked.ok()) return true;
    const grpc::StatusCode code = checked.error_code();
    if (code != grpc::StatusCode::PERMISSION_DENIED && code != grpc::StatusCode::INVALID_ARGUMENT)
      Fail(std::string(rpc) + ": access refused with code " + std::to_string(code) + ": " + checked.error_message());
    Log("access", checked.error_message());
    return false;
  }

  // The request checks' answer; false when they refuse the request (which then ends).
  bool Valid(const Status& status) const {
    if (status.ok()) return true;
    if (status.code() != StatusCode::kInvalidArgument && status.code() != StatusCode::kResourceExhausted)
      Fail(std::string(rpc) + ": request refused with " + status.ToString());
    Log("refused", status.ToString());
    return false;
  }

  // What the engine answered a request the checks let through.
  void Engine(const Status& status) const {
    if (status.code() == StatusCode::kInternal || status.code() == StatusCode::kDataLoss)
      Fail(std::string(rpc) + ": the engine answered a valid request with " + status.ToString());
    Log("engine", status.ToString());
  }
};

void Produce(const Call& call, v1::ProduceRequest&& request) {
  if (!call.MayCall(Permission::kProduce, request.topic())) return;
  Result<AppendRequest> append = ToAppendRequest(std::move(request), call.limits);
  if (!call.Valid(append.status())) return;
  AppendOutcome out = call.log().Append(std::move(append).value());
  v1::ProduceResponse response;
  if (out.status.ok()) ToProto(out.result, out.next_offset, &response);
  call.Engine(out.status.ok() ? out.status : AppendFailure(out.status, out.next_offset));
}

void ProduceMulti(const Call& call, v1::ProduceMultiRequest&& request) {
  for (const v1::ProduceRequest& part : request.topics()) {
    if (!call.MayCall(Permission::kProduce, part.topic())) return;
  }
  Result<MultiAppendRequest> append = ToMultiAppendRequest(std::move(request), call.limits);
  if (!call.Valid(append.status())) return;
  MultiAppendOutcome out = call.log().AppendMulti(std::move(append).value());
  v1::ProduceMultiResponse response;
  if (out.status.ok()) ToProto(out, &response);
  call.Engine(out.status.ok() ? out.status : AppendFailure(out.status, FailedNextOffset(out)));
}

void ProduceStream(const Call& call, v1::ProduceStreamRequest&& request) {
  if (request.has_multi() && request.has_batch()) return call.Log("refused", "both batch and multi");
  if (request.has_multi()) return ProduceMulti(call, std::move(*request.mutable_multi()));
  Produce(call, std::move(*request.mutable_batch()));
}

// Joining a group: one fetch, ack half of it, nack the rest, leave.
void JoinGroup(const Call& call, const v1::Subscribe& subscribe) {
  Result<GroupSubscription> subscription = ToGroupSubscription(subscribe, kMaxConsumeWindow);
  if (!call.Valid(subscription.status())) return;
  auto member = call.log().JoinGroup(subscribe.topic(), subscription->group, subscription->settings,
                                     subscription->start, {.window = kMaxConsumeWindow, .on_work = [](const Status&) {}});
  if (!member.ok()) return call.Engine(member.status());
  std::promise<Result<std::vector<GroupDelivery>>> fetched;
  (*member)->Fetch(kMaxConsumeWindow, 1 << 20, [&fetched](Result<std::vector<GroupDelivery>> got) {
    fetched.set_value(std::move(got));
  });
  Result<std::vector<GroupDelivery>> got = fetched.get_future().get();
  if (!got.ok()) return call.Engine(got.status());
  std::vector<std::uint64_t> nacked;
  std::vector<OffsetRange> acked;
  for (std::size_t i = 0; i < got->size(); ++i) {
    const std::uint64_t offset = (*got)[i].event.offset;
    if (i % 2 == 0) acked.push_back({offset, offset});
    else nacked.push_back(offset);
  }
  std::promise<Status> done;
  (*member)->Ack(acked, [&done](const Status& s) { done.set_value(s); });
  if (Status s = done.get_future().get(); !s.ok()) return call.Engine(s);
  // (A short ack_wait may have taken them back already: then the nack is refused, as it should be.)
  const Status nack = (*member)->Nack(nacked, {}, "fuzz");
  (*member)->Leave();
  call.Engine(nack);
}

// The group RPCs, as their handlers run them (the blocking ones inline).
void Groups(const Call& call, std::uint8_t which, std::string_view bytes, bool* parsed) {
  auto run = [&]<typename Message>(Message request, Permission permission, auto handle) {
    *parsed = request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
    if (*parsed && call.MayCall(permission, request.topic())) handle(request);
  };
  switch (which % 5) {
    case 0:
      return run(v1::CreateGroupRequest(), Permission::kConsume, [&](const v1::CreateGroupRequest& r) {
        Result<StartPosition> start = ToGroupStart(r.topic(), r.group(), r.start());
        if (!call.Valid(start.status())) return;
        Result<GroupSettings> settings = ToGroupSettings(r.topic(), r.group(), r.settings());
        if (!call.Valid(settings.status())) return;
        Result<GroupInfo> created = call.log().CreateGroup(r.topic(), r.group(), *settings, *start);
        v1::Group proto;
        if (created.ok()) ToProto(*created, &proto);
        call.Engine(created.status());
      });
    case 1:
      return run(v1::ListGroupsRequest(), Permission::kConsume, [&](const v1::ListGroupsRequest& r) {
        call.Engine(call.log().ListGroups(r.topic()).status());
      });
    case 2:
      return run(v1::DescribeGroupRequest(), Permission::kConsume, [&](const v1::DescribeGroupRequest& r) {
        if (!call.Valid(ValidateGroupNames(r.topic(), r.group()))) return;
        Status described = call.log().DescribeGroup(r.topic(), r.group()).status();
        if (described.ok()) described = call.log().GroupPending(r.topic(), r.group(), PendingPageSize(r)).status();
        call.Engine(described);
      });
    case 3:
      return run(v1::ResetGroupRequest(), Permission::kAdmin, [&](const v1::ResetGroupRequest& r) {
        Result<StartPosition> start = ToGroupStart(r.topic(), r.group(), r.start());
        if (!call.Valid(start.status())) return;
        call.Engine(call.log().ResetGroup(r.topic(), r.group(), *start));
      });
    default:
      return run(v1::DeleteGroupRequest(), Permission::kAdmin, [&](const v1::DeleteGroupRequest& r) {
        if (!call.Valid(ValidateGroupNames(r.topic(), r.group()))) return;
        call.Engine(call.log().DeleteGroup(r.topic(), r.group()));
      });
  }
}

// Subscribing: resolve the start, send the first batch, and wait for the next event once caught up.
void Subscribe(const Call& call, const v1::Subscribe& subscribe) {
  if (!call.MayCall(Permission::kConsume, subscribe.topic())) return;
  if (subscribe.has_group()) return JoinGroup(call, subscribe);
  Result<StartPosition> start = ToStartPosition(subscribe, kMaxConsumeWindow);
  if (!call.Valid(start.status())) return;
  const std::string& topic = subscribe.topic();
  Result<ResolvedPosition> resolved = call.log().Resolve(topic, *start);
  if (!resolved.ok()) return call.Engine(resolved.status());
  v1::EventBatch batch;
  Result<ReadResult> read = call.log().ReadEach(
      {.topic = topic, .from_offset = resolved->offset, .max_events = kMaxConsumeWindow,
       .filter = FromProto(subscribe.filter())},
      [&batch](const EventView& event) { ToProto(event, batch.add_events()); });
  if (!read.ok()) return call.Engine(read.status());
  if (WaitId id = call.log().WaitForOffset(topic, read->next_offset, [] {}); id != 0) call.log().CancelWait(topic, id);
  call.Engine(Status::Ok());
}

// An ack on a stream subscribed to kAckTopic as kAckConsumer that has delivered up to the head.
void Ack(const Call& call, const v1::Ack& ack) {
  if (!call.MayCall(Permission::kConsume, kAckTopic)) return;  // the subscribe's check
  Result<TopicInfo> topic = call.log().DescribeTopic(kAckTopic);
  if (!topic.ok()) return call.Engine(topic.status());
  if (!call.Valid(ValidateAck(ack.offset(), topic->next_offset))) return;
  call.Engine(call.log().CommitCursor(kAckTopic, kAckConsumer, ack.offset(), CursorMove::kIgnoreBackwards));
}

void Read(const Call& call, const v1::ReadRequest& request) {
  if (!call.MayCall(Permission::kConsume, request.topic())) return;
  Result<ReadRequest> read = ToReadRequest(request);
  if (!call.Valid(read.status())) return;
  Result<ReadResult> result = call.log().Read(*read);
  v1::ReadResponse response;
  if (result.ok()) {
    for (Event& event : result->events) ToProto(std::move(event), response.add_events());
  }
  call.Engine(result.status());
}

void Seek(const Call& call, const v1::SeekRequest& request) {
  if (!call.MayCall(Permission::kConsume, request.topic())) return;
  Result<StartPosition> start = ToStartPosition(request);
  if (!call.Valid(start.status())) return;
  call.Engine(call.log().Resolve(request.topic(), *start).status());
}

void GetCursor(const Call& call, const v1::GetCursorRequest& request) {
  if (!call.MayCall(Permission::kConsume, request.topic()) || !call.Valid(Validate(request))) return;
  Result<std::optional<CursorInfo>> cursor = call.log().GetCursor(request.topic(), request.consumer());
  v1::Cursor proto;
  if (cursor.ok() && cursor->has_value()) ToProto(**cursor, &proto);
  call.Engine(cursor.status());
}

void CommitCursor(const Call& call, const v1::CommitCursorRequest& request) {
  if (!call.MayCall(Permission::kConsume, request.topic()) || !call.Valid(Validate(request))) return;
  const CursorMove move = request.reset() ? CursorMove::kReset : CursorMove::kForwardOnly;
  Status committed = call.log().CommitCursor(request.topic(), request.consumer(), request.offset(), move);
  if (committed.ok()) committed = call.log().GetCursor(request.topic(), request.consumer()).status();
  call.Engine(committed);
}

void ListCursors(const Call& call, const v1::ListCursorsRequest& request) {
  if (!call.MayCall(Permission::kConsume, request.topic()) || !call.Valid(Validate(request))) return;
  Result<std::vector<CursorInfo>> cursors = call.log().ListCursors(request.topic());
  v1::ListCursorsResponse response;
  if (cursors.ok()) {
    for (const CursorInfo& cursor : *cursors) ToProto(cursor, response.add_cursors());
  }
  call.Engine(cursors.status());
}

void DeleteCursor(const Call& call, const v1::DeleteCursorRequest& request) {
  if (!call.MayCall(Permission::kAdmin, request.topic()) || !call.Valid(Validate(request))) return;
  call.Engine(call.log().DeleteCursor(request.topic(), request.consumer()));
}

std::int64_t DefaultGranularityNs(const Call& call) { return call.log().options().default_index_granularity.count(); }

// Creating, then what the topic's settings do: a few appends and a retention pass over them.
void CreateTopic(const Call& call, const v1::CreateTopicRequest& request) {
  if (!call.MayCall(Permission::kAdmin, request.topic())) return;
  Result<TopicSettings> settings = ToTopicSettings(request);
  if (!call.Valid(settings.status())) return;
  Result<TopicInfo> created = call.log().CreateTopic(request.topic(), *settings);
  if (!created.ok()) return call.Engine(created.status());
  v1::Topic proto;
  ToProto(*created, DefaultGranularityNs(call), &proto);
  AppendOutcome out =
      call.log().Append({.topic = request.topic(), .payloads = {"a", "bb", "ccc"}, .create_topic = false});
  if (!out.status.ok()) return call.Engine(out.status);
  if (Status s = call.log().EnforceRetention(); !s.ok()) return call.Engine(s);
  call.Engine(call.log().DescribeTopic(request.topic()).status());
}

void DeleteTopic(const Call& call, const v1::DeleteTopicRequest& request) {
  if (!call.MayCall(Permission::kAdmin, request.topic()) || !call.Valid(Validate(request))) return;
  call.Engine(call.log().DeleteTopic(request.topic()));
}

void ListTopics(const Call& call) {
  v1::ListTopicsResponse response;
  for (const TopicInfo& topic : call.log().ListTopics()) {
    if (call.policy.MaySee(call.caller, topic.name)) ToProto(topic, DefaultGranularityNs(call), response.add_topics());
  }
  call.Engine(Status::Ok());
}

void DescribeTopic(const Call& call, const v1::DescribeTopicRequest& request) {
  if (!call.MaySee(request.topic()) || !call.Valid(Validate(request))) return;
  Result<TopicInfo> topic = call.log().DescribeTopic(request.topic());
  v1::Topic proto;
  if (topic.ok()) ToProto(*topic, DefaultGranularityNs(call), &proto);
  call.Engine(topic.status());
}

// Parses `bytes` as a `Message` and hands it to `run`; false when they are no such message.
template <typename Message, typename Run>
bool Parsed(std::string_view bytes, Run run) {
  Message request;
  if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return false;
  run(request);
  return true;
}

// Parses the request of `rpc` and runs it; false when the bytes are no such request.
bool Run(const Call& call, Rpc rpc, std::string_view bytes) {
  switch (rpc) {
    case Rpc::kProduce:
      return Parsed<v1::ProduceRequest>(bytes, [&](auto& r) { Produce(call, std::move(r)); });
    case Rpc::kProduceStream:
      return Parsed<v1::ProduceStreamRequest>(bytes, [&](auto& r) { ProduceStream(call, std::move(r)); });
    case Rpc::kConsume:
      return Parsed<v1::ConsumeRequest>(bytes, [&](auto& r) {
        if (r.has_subscribe()) return Subscribe(call, r.subscribe());
        if (r.has_ack()) return Ack(call, r.ack());
        call.Log("refused", "the first message on a Consume stream must be 'subscribe'");
      });
    case Rpc::kRead: return Parsed<v1::ReadRequest>(bytes, [&](auto& r) { Read(call, r); });
    case Rpc::kSeek: return Parsed<v1::SeekRequest>(bytes, [&](auto& r) { Seek(call, r); });
    case Rpc::kGetCursor: return Parsed<v1::GetCursorRequest>(bytes, [&](auto& r) { GetCursor(call, r); });
    case Rpc::kCommitCursor: return Parsed<v1::CommitCursorRequest>(bytes, [&](auto& r) { CommitCursor(call, r); });
    case Rpc::kListCursors: return Parsed<v1::ListCursorsRequest>(bytes, [&](auto& r) { ListCursors(call, r); });
    case Rpc::kDeleteCursor: return Parsed<v1::DeleteCursorRequest>(bytes, [&](auto& r) { DeleteCursor(call, r); });
    case Rpc::kCreateTopic: return Parsed<v1::CreateTopicRequest>(bytes, [&](auto& r) { CreateTopic(call, r); });
    case Rpc::kDeleteTopic: return Parsed<v1::DeleteTopicRequest>(bytes, [&](auto& r) { DeleteTopic(call, r); });
    case Rpc::kListTopics: return Parsed<v1::ListTopicsRequest>(bytes, [&](auto&) { ListTopics(call); });
    case Rpc::kDescribeTopic: return Parsed<v1::DescribeTopicRequest>(bytes, [&](auto& r) { DescribeTopic(call, r); });
    case Rpc::kProduceMulti:
      return Parsed<v1::ProduceMultiRequest>(bytes, [&](auto& r) { ProduceMulti(call, std::move(r)); });
    case Rpc::kGroups: {
      if (bytes.empty()) return false;
      bool parsed = false;
      Groups(call, static_cast<std::uint8_t>(bytes[0]), bytes.substr(1), &parsed);
      return parsed;
    }
    case Rpc::kCount: break;
  }
  return false;
}

bool Writes(Rpc rpc) {
  return rpc == Rpc::kProduce || rpc == Rpc::kProduceStream || rpc == Rpc::kConsume || rpc == Rpc::kCommitCursor ||
         rpc == Rpc::kDeleteCursor || rpc == Rpc::kCreateTopic || rpc == Rpc::kDeleteTopic || rpc == Rpc::kProduceMulti ||
         rpc == Rpc::kGroups;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  const auto rpc = static_cast<Rpc>(flags & 0x0f);
  if (rpc >= Rpc::kCount) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::optional<std::string_view> metadata;
  if (flags & kHasMetadata) {
    if (rest.empty()) return 0;
    const std::size_t length = std::min<std::size_t>(static_cast<std::uint8_t>(rest[0]), rest.size() - 1);
    metadata = rest.substr(1, length);
    rest.remove_prefix(1 + length);
  }

  Harness& h = Get();
  const char* name = kRpcNames[static_cast<std::size_t>(rpc)];
  const AccessPolicy& policy = (flags & kAccessOn) ? *h.secured : AccessPolicy::Open();
  grpc::Status refusal;
  const Principal* caller = policy.Authenticate(metadata, &refusal);
  if (caller == nullptr) {
    if (refusal.error_code() != grpc::StatusCode::UNAUTHENTICATED)
      Fail(std::string(name) + ": refused, but not UNAUTHENTICATED: " + refusal.error_message());
    if (h.verbose) std::fprintf(stderr, "%s: unauthenticated: %s\n", name, refusal.error_message().c_str());
    return 0;
  }
  const Call call{h, name, policy, *caller,
                  {.max_events_per_produce = kMaxEventsPerProduce, .max_event_bytes = kMaxEventBytes,
                   .auto_create_topics = (flags & kNoAutoCreate) == 0}};
  if (!Run(call, rpc, rest)) {
    call.Log("skipped", "not a request of this RPC");
  } else if (Writes(rpc)) {
    Restore(h);
  }
  return 0;
}
