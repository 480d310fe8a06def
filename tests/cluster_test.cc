// A Goethe cluster end to end: real etcd (support/etcd_process.h) and real goethe-server nodes on
// loopback (support/cluster_fixture.h), killed, stopped, paused and cut off from etcd, with every
// wait bounded. Election and agreement, failover on SIGKILL / SIGTERM / SIGSTOP, followers that
// refuse writes and serve reads, etcd member failures, a node without etcd at start or while
// running, an etcd that asks for client certificates, the failover time over several rounds, and
// a single node's ClusterStatus.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <grpcpp/generic/generic_stub.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <map>
#include <sstream>

#include "support/cluster_fixture.h"
#include "support/grafana_dashboard.h"
#include "support/http_client.h"
#include "support/server_client.h"
#include "support/test_pki.h"

namespace goethe::testing {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The fixture's session TTL (ClusterOptions::session_ttl) and connect timeout.
constexpr std::chrono::milliseconds kTtl = 2s;
constexpr std::chrono::milliseconds kConnectTimeout = 2s;
// A new leader accepts writes within this of the old one's SIGKILL.
constexpr std::chrono::milliseconds kFailoverBound = kTtl + 1s;

long long MillisSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// Polls `done` every `every` until it holds or `timeout` has passed; whether it held.
template <typename Predicate>
bool Eventually(Predicate done, std::chrono::milliseconds timeout, std::chrono::milliseconds every = 20ms) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
}

std::unique_ptr<v1::Goethe::Stub> StubTo(const std::string& address) { return ConnectTo(address); }

std::chrono::system_clock::time_point In(std::chrono::milliseconds timeout) {
  return std::chrono::system_clock::now() + timeout;
}

// How a call ended, with the `goethe-leader` trailing metadata (empty when absent).
struct Outcome {
  grpc::Status status;
  std::string leader_hint;
};

std::string Trailing(const grpc::ClientContext& call, const std::string& key) {
  const auto& trailing = call.GetServerTrailingMetadata();
  const auto found = trailing.find(key);
  return found == trailing.end() ? std::string() : std::string(found->second.data(), found->second.size());
}

// One unary call through `invoke(context)`, bounded by `timeout`.
template <typename Invoke>
Outcome Unary(Invoke invoke, std::chrono::milliseconds timeout = 5s) {
  grpc::ClientContext call;
  call.set_deadline(In(timeout));
  Outcome outcome;
  outcome.status = invoke(&call);
  outcome.leader_hint = Trailing(call, "goethe-leader");
  return outcome;
}

Outcome ProduceTo(v1::Goethe::Stub& stub, const std::string& topic, const std::string& payload,
                  std::chrono::milliseconds timeout = 2s, v1::ProduceResponse* out = nullptr) {
  v1::ProduceRequest request;
  request.set_topic(topic);
  request.add_payloads(payload);
  v1::ProduceResponse ignored;
  return Unary([&](grpc::ClientContext* call) { return stub.Produce(call, request, out ? out : &ignored); }, timeout);
}

// A Consume stream that the server is expected to end: the subscribe, then reads until the end.
Outcome ConsumeUntilEnd(v1::Goethe::Stub& stub, const v1::Subscribe& subscribe, std::chrono::milliseconds timeout = 5s) {
  grpc::ClientContext call;
  call.set_deadline(In(timeout));
  auto stream = stub.Consume(&call);
  v1::ConsumeRequest request;
  *request.mutable_subscribe() = subscribe;
  stream->Write(request);
  v1::ConsumeResponse response;
  while (stream->Read(&response)) {
  }
  Outcome outcome;
  outcome.status = stream->Finish();
  outcome.leader_hint = Trailing(call, "goethe-leader");
  return outcome;
}

// A Consume stream expected to be served: the Subscribed answer and the first `want` events
// (fewer when they do not come within `timeout`); the stream is cancelled then.
struct Consumed {
  std::optional<v1::Subscribed> subscribed;
  std::vector<v1::Event> events;
  grpc::Status status;  // how it ended when it ended early
};
Consumed ConsumeSome(v1::Goethe::Stub& stub, const v1::Subscribe& subscribe, std::size_t want,
                     std::chrono::milliseconds timeout = 10s) {
  grpc::ClientContext call;
  call.set_deadline(In(timeout));
  auto stream = stub.Consume(&call);
  v1::ConsumeRequest request;
  *request.mutable_subscribe() = subscribe;
  stream->Write(request);
  Consumed consumed;
  v1::ConsumeResponse response;
  bool ended = false;
  while (!(consumed.subscribed && consumed.events.size() >= want)) {
    if (!stream->Read(&response)) {
      ended = true;
      break;
    }
    if (response.has_subscribed()) consumed.subscribed = response.subscribed();
    for (const v1::Event& event : response.events().events()) consumed.events.push_back(event);
  }
  if (!ended) call.TryCancel();
  while (stream->Read(&response)) {
  }
  consumed.status = stream->Finish();
  return consumed;
}

// The grpc.health.v1 status of `service` ("" = the server) on `address`: 0 UNKNOWN, 1 SERVING,
// 2 NOT_SERVING; nullopt when the call fails. Hand-encoded, as server_lifecycle_test.cc does.
std::optional<int> HealthOf(const std::string& address, const std::string& service = "") {
  grpc::GenericStub generic(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  std::string request;  // HealthCheckRequest{service}: field 1, length-delimited
  if (!service.empty()) request = std::string("\x0a", 1) + static_cast<char>(service.size()) + service;
  grpc::Slice slice(request);
  const grpc::ByteBuffer request_bytes(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext call;
  call.set_deadline(In(2s));
  std::promise<grpc::Status> done;
  generic.UnaryCall(&call, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request_bytes, &response,
                    [&done](grpc::Status status) { done.set_value(status); });
  if (!done.get_future().get().ok()) return std::nullopt;
  std::vector<grpc::Slice> slices;
  (void)response.Dump(&slices);
  std::string text;
  for (const grpc::Slice& s : slices) text.append(reinterpret_cast<const char*>(s.begin()), s.size());
  if (text.empty()) return 0;  // HealthCheckResponse{status: UNKNOWN}
  if (text.size() == 2 && text[0] == '\x08') return static_cast<int>(text[1]);
  return -1;
}

int CountLines(const std::string& text) {
  int lines = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) ++lines;
  }
  return lines;
}

int CountInState(const v1::ClusterStatusResponse& status, v1::MemberState state) {
  return static_cast<int>(std::count_if(status.members().begin(), status.members().end(),
                                        [state](const v1::ClusterMember& m) { return m.state() == state; }));
}

const v1::ClusterMember* MemberNamed(const v1::ClusterStatusResponse& status, const std::string& name) {
  for (const v1::ClusterMember& member : status.members()) {
    if (member.name() == name) return &member;
  }
  return nullptr;
}

double Median(std::vector<long long> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  if (n == 0) return 0;
  return n % 2 ? static_cast<double>(values[n / 2]) : (static_cast<double>(values[n / 2 - 1]) + values[n / 2]) / 2.0;
}

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why_not;
    if (!EtcdCluster::Available(&why_not)) GTEST_SKIP() << why_not;
  }

  // Every node's ClusterStatus and the tail of its log, for failure messages.
  static std::string Describe(LocalCluster& cluster) { return cluster.Describe(); }

  // Polls Produce on every running node but `skip`, one round every 20 ms, until one accepts;
  // that node's index and when its answer came, or -1 at `deadline`. `stubs` holds a client for
  // each node (connected before the failure, so that no poll waits on a connection).
  struct Accepted {
    int node = -1;
    Clock::time_point at;
    std::string last_refusal;
  };
  static Accepted FirstWriteAccepted(LocalCluster& cluster, std::vector<std::unique_ptr<v1::Goethe::Stub>>& stubs,
                                     int skip, const std::string& topic, Clock::time_point deadline) {
    Accepted accepted;
    for (int round = 0;; ++round) {
      for (int i = 0; i < cluster.size(); ++i) {
        if (i == skip || !cluster.node(i).running() || cluster.node(i).paused()) continue;
        const Outcome outcome = ProduceTo(*stubs[static_cast<std::size_t>(i)], topic,
                                          "poll-" + std::to_string(round), 500ms);
        if (outcome.status.ok()) {
          accepted.node = i;
          accepted.at = Clock::now();
          return accepted;
        }
        accepted.last_refusal = cluster.node(i).name() + ": " + testing::Describe(outcome.status);
      }
      if (Clock::now() >= deadline) return accepted;
      std::this_thread::sleep_for(20ms);
    }
  }

  static std::vector<std::unique_ptr<v1::Goethe::Stub>> StubsFor(LocalCluster& cluster) {
    std::vector<std::unique_ptr<v1::Goethe::Stub>> stubs;
    for (int i = 0; i < cluster.size(); ++i) stubs.push_back(StubTo(cluster.node(i).address()));
    return stubs;
  }

  // Waits until every node runs, names `leader` (any when -1) and lists every node as a member;
  // the leader's index, or -1.
  static int WaitForFullAgreement(LocalCluster& cluster, std::chrono::milliseconds timeout, int leader = -1) {
    int agreed = -1;
    Eventually(
        [&] {
          agreed = cluster.AgreedLeader();
          if (agreed < 0 || (leader >= 0 && agreed != leader)) return false;
          for (int i = 0; i < cluster.size(); ++i) {
            if (!cluster.node(i).running()) return false;
            std::optional<v1::ClusterStatusResponse> status = cluster.Status(i);
            if (!status || status->members_size() != cluster.size()) return false;
          }
          return true;
        },
        timeout, 50ms);
    return agreed >= 0 && (leader < 0 || agreed == leader) ? agreed : -1;
  }
};

// 1. Election and agreement.
TEST_F(ClusterTest, ThreeNodesElectOneLeaderAndEveryNodeReportsTheSameStatus) {
  LocalCluster cluster;
  cluster.StartAll();
  const int leader = cluster.WaitForLeader(15s);
  ASSERT_GE(leader, 0) << Describe(cluster);
  const std::string leader_name = cluster.node(leader).name();

  // Every node's picture settles on: the same leader and epoch, three members, one LEADER, the
  // others IN_SYNC (empty stores: at once), etcd reachable.
  auto settled = [&] {
    std::uint64_t epoch = 0;
    for (int i = 0; i < cluster.size(); ++i) {
      std::optional<v1::ClusterStatusResponse> status = cluster.Status(i);
      if (!status || status->leader() != leader_name || status->epoch() == 0) return false;
      if (epoch != 0 && status->epoch() != epoch) return false;
      epoch = status->epoch();
      if (status->members_size() != 3 || CountInState(*status, v1::MEMBER_STATE_LEADER) != 1 ||
          CountInState(*status, v1::MEMBER_STATE_IN_SYNC) != 2 || !status->coordinator_reachable())
        return false;
    }
    return true;
  };
  ASSERT_TRUE(Eventually(settled, 10s)) << Describe(cluster);

  std::uint64_t epoch = 0;
  for (int i = 0; i < cluster.size(); ++i) {
    SCOPED_TRACE(cluster.node(i).name());
    std::optional<v1::ClusterStatusResponse> status = cluster.Status(i);
    ASSERT_TRUE(status.has_value());
    EXPECT_TRUE(status->clustered());
    EXPECT_EQ(status->cluster(), "test");
    EXPECT_EQ(status->node(), cluster.node(i).name());
    EXPECT_EQ(status->leader(), leader_name);
    EXPECT_EQ(status->leader_address(), cluster.node(leader).address());
    EXPECT_TRUE(status->coordinator_reachable());
    if (i == 0) epoch = status->epoch();
    EXPECT_EQ(status->epoch(), epoch);
    ASSERT_EQ(status->members_size(), 3);
    for (int m = 0; m < 3; ++m) {
      const v1::ClusterMember& member = status->members(m);
      EXPECT_EQ(member.name(), "n" + std::to_string(m + 1)) << "members in name order";
      EXPECT_EQ(member.address(), cluster.node(m).address());
      EXPECT_FALSE(member.version().empty());
      EXPECT_EQ(member.state(), member.name() == leader_name ? v1::MEMBER_STATE_LEADER : v1::MEMBER_STATE_IN_SYNC);
      EXPECT_EQ(member.behind_leader(), 0u);
      EXPECT_GT(member.updated_unix_nanos(), 0);
    }
  }
  EXPECT_GT(epoch, 0u);

  // Only the leader takes writes.
  for (int i = 0; i < cluster.size(); ++i) {
    auto stub = StubTo(cluster.node(i).address());
    const Outcome outcome = ProduceTo(*stub, "t", "x");
    if (i == leader) {
      EXPECT_TRUE(outcome.status.ok()) << testing::Describe(outcome.status);
    } else {
      EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::UNAVAILABLE) << testing::Describe(outcome.status);
    }
  }

  // What etcd holds: the three member records and the epoch record naming the leader.
  const std::string out = cluster.etcd().Etcdctl({"get", "--prefix", "/goethe/test/"});
  std::map<std::string, std::string> kv;
  {
    std::istringstream in(out);
    for (std::string key, value; std::getline(in, key) && std::getline(in, value);) kv[key] = value;
  }
  for (int i = 0; i < cluster.size(); ++i) {
    const std::string key = "/goethe/test/members/" + cluster.node(i).name();
    ASSERT_TRUE(kv.count(key)) << key << " missing in:\n" << out;
    EXPECT_THAT(kv[key], HasSubstr("\"name\":\"" + cluster.node(i).name() + "\""));
    EXPECT_THAT(kv[key], HasSubstr(cluster.node(i).address()));
    EXPECT_THAT(kv[key], HasSubstr(i == leader ? "\"state\":\"leader\"" : "\"state\":\"in_sync\""));
  }
  ASSERT_TRUE(kv.count("/goethe/test/epoch")) << out;
  EXPECT_THAT(kv["/goethe/test/epoch"], HasSubstr("\"name\":\"" + leader_name + "\""));
  EXPECT_THAT(kv["/goethe/test/epoch"], HasSubstr(cluster.node(leader).address()));
  EXPECT_THAT(kv["/goethe/test/epoch"], HasSubstr(std::to_string(epoch)));
}

// 2. SIGKILL of the leader.
TEST_F(ClusterTest, KilledLeaderIsReplacedWithinTheTtlAndRejoinsAsAFollower) {
  LocalCluster cluster;
  cluster.StartAll();
  const int old_leader = cluster.WaitForLeader(15s);
  ASSERT_GE(old_leader, 0) << Describe(cluster);
  std::optional<v1::ClusterStatusResponse> before = cluster.Status(old_leader);
  ASSERT_TRUE(before.has_value());
  auto stubs = StubsFor(cluster);
  ASSERT_TRUE(ProduceTo(*stubs[static_cast<std::size_t>(old_leader)], "t", "before").status.ok());
  for (int i = 0; i < cluster.size(); ++i) {  // connect every client before the kill
    if (i != old_leader) (void)ProduceTo(*stubs[static_cast<std::size_t>(i)], "t", "warm-up");
  }

  const Clock::time_point killed = Clock::now();
  cluster.node(old_leader).Kill();
  const Accepted accepted = FirstWriteAccepted(cluster, stubs, old_leader, "t", killed + 15s);
  ASSERT_GE(accepted.node, 0) << "no write accepted within 15 s; last refusal: " << accepted.last_refusal
                              << Describe(cluster);
  const auto failover = std::chrono::duration_cast<std::chrono::milliseconds>(accepted.at - killed);
  std::printf("SIGKILL failover: %lld ms (%s -> %s)\n", static_cast<long long>(failover.count()),
              cluster.node(old_leader).name().c_str(), cluster.node(accepted.node).name().c_str());
  RecordProperty("sigkill_failover_ms", static_cast<int>(failover.count()));
  EXPECT_LT(failover, kFailoverBound) << Describe(cluster);

  const int new_leader = cluster.WaitForLeader(10s, old_leader);
  ASSERT_GE(new_leader, 0) << Describe(cluster);
  EXPECT_EQ(new_leader, accepted.node);
  EXPECT_NE(new_leader, old_leader);
  std::optional<v1::ClusterStatusResponse> after = cluster.Status(new_leader);
  ASSERT_TRUE(after.has_value());
  EXPECT_GT(after->epoch(), before->epoch());

  // The killed node, restarted on its data, rejoins as a follower; the leader stays.
  cluster.node(old_leader).Start();
  ASSERT_EQ(WaitForFullAgreement(cluster, 15s, new_leader), new_leader) << Describe(cluster);
  for (int i = 0; i < cluster.size(); ++i) {
    SCOPED_TRACE(cluster.node(i).name());
    std::optional<v1::ClusterStatusResponse> status = cluster.Status(i);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(status->leader(), cluster.node(new_leader).name());
    EXPECT_EQ(status->epoch(), after->epoch());
    const v1::ClusterMember* rejoined = MemberNamed(*status, cluster.node(old_leader).name());
    ASSERT_NE(rejoined, nullptr);
    EXPECT_NE(rejoined->state(), v1::MEMBER_STATE_LEADER);
  }
  // ... and does not change back a while later.
  std::this_thread::sleep_for(kTtl);
  EXPECT_EQ(cluster.AgreedLeader(), new_leader) << Describe(cluster);
  auto old_stub = StubTo(cluster.node(old_leader).address());
  const Outcome refused = ProduceTo(*old_stub, "t", "to-the-old-leader");
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::UNAVAILABLE) << testing::Describe(refused.status);
  EXPECT_EQ(refused.leader_hint, cluster.node(new_leader).address());
  EXPECT_TRUE(ProduceTo(*stubs[static_cast<std::size_t>(new_leader)], "t", "after").status.ok());
}

// 3. SIGTERM of the leader.
TEST_F(ClusterTest, StoppedLeaderHandsOverInUnderASecondAndLeavesTheMembershipAtOnce) {
  LocalCluster cluster;
  cluster.StartAll();
  const int old_leader = cluster.WaitForLeader(15s);
  ASSERT_GE(old_leader, 0) << Describe(cluster);
  const std::string old_name = cluster.node(old_leader).name();
  auto stubs = StubsFor(cluster);
  for (int i = 0; i < cluster.size(); ++i) (void)ProduceTo(*stubs[static_cast<std::size_t>(i)], "t", "warm-up");
  // Our client stays connected to the node that stops, as a producer's would.
  const int observer = (old_leader + 1) % cluster.size();

  const Clock::time_point stopped = Clock::now();
  cluster.node(old_leader).Terminate();
  const Accepted accepted = FirstWriteAccepted(cluster, stubs, old_leader, "t", stopped + 10s);
  ASSERT_GE(accepted.node, 0) << "no write accepted within 10 s; last refusal: " << accepted.last_refusal
                              << Describe(cluster);
  const auto handover = std::chrono::duration_cast<std::chrono::milliseconds>(accepted.at - stopped);

  // Its member record goes at once: well before its lease's TTL could remove it.
  Clock::time_point gone_at{};
  const bool gone = Eventually(
      [&] {
        std::optional<v1::ClusterStatusResponse> status = cluster.Status(observer);
        if (!status || MemberNamed(*status, old_name) != nullptr) return false;
        gone_at = Clock::now();
        return true;
      },
      10s, 10ms);
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(gone_at - stopped);
  std::printf("SIGTERM handover: %lld ms; member record gone after %lld ms\n",
              static_cast<long long>(handover.count()), gone ? static_cast<long long>(left.count()) : -1LL);
  RecordProperty("sigterm_handover_ms", static_cast<int>(handover.count()));
  EXPECT_LT(handover, 1s) << Describe(cluster);
  ASSERT_TRUE(gone) << Describe(cluster);
  EXPECT_LT(left, kTtl / 2) << "the stopped node's record must go at once, not at its lease's expiry";
  EXPECT_EQ(cluster.etcd().Etcdctl({"get", "/goethe/test/members/" + old_name}), "");
  const std::optional<int> code = cluster.node(old_leader).Exited(10s);
  ASSERT_TRUE(code.has_value()) << "the stopped node did not exit within 10 s";
  EXPECT_EQ(*code, 0) << cluster.node(old_leader).output();
  EXPECT_THAT(cluster.node(old_leader).stderr_text(), HasSubstr("resigning the leadership"));
  const int new_leader = cluster.WaitForLeader(5s, old_leader);
  EXPECT_EQ(new_leader, accepted.node) << Describe(cluster);
  // Asked by its successor before it closed, the stopping node must not have rejoined the
  // in-sync set: the first write would then wait out max_lag for it (seen once on CI).
  ASSERT_GE(new_leader, 0);
  const std::string log = cluster.node(new_leader).stderr_text();
  const std::size_t leads = log.find("replication: leading epoch");
  ASSERT_NE(leads, std::string::npos) << log;
  EXPECT_THAT(log.substr(leads), Not(ContainsRegex(old_name + "@[0-9a-f]+ is in sync")));
}

// A follower that died and whose record expired still has the leader's link to it; stopping the
// leader then must not wait for it (it used to wait out the hand-over's second and warn about it).
TEST_F(ClusterTest, StoppedLeaderDoesNotWaitForAFollowerThatHasLeft) {
  LocalCluster cluster;
  cluster.StartAll();
  const int leader = cluster.WaitForLeader(15s);
  ASSERT_GE(leader, 0) << Describe(cluster);
  const int dead = (leader + 1) % cluster.size();
  const std::string dead_name = cluster.node(dead).name();
  std::unique_ptr<v1::Goethe::Stub> leader_stub = cluster.Stub(leader);

  cluster.node(dead).Kill();
  // Acknowledged by the leader and the third node once the dead one is dropped from the in-sync set.
  ASSERT_TRUE(ProduceTo(*leader_stub, "t", "after-the-kill", 10s).status.ok()) << Describe(cluster);
  ASSERT_TRUE(Eventually(
      [&] {
        std::optional<v1::ClusterStatusResponse> status = cluster.Status(leader);
        return status && MemberNamed(*status, dead_name) == nullptr;
      },
      kTtl * 5, 50ms))
      << dead_name << "'s record did not expire" << Describe(cluster);
  ASSERT_THAT(cluster.node(leader).stderr_text(), ContainsRegex(dead_name + "@[0-9a-f]+ left the in-sync set"));

  cluster.node(leader).Terminate();
  const std::optional<int> code = cluster.node(leader).Exited(10s);
  ASSERT_TRUE(code.has_value()) << "the stopped leader did not exit within 10 s";
  EXPECT_EQ(*code, 0) << cluster.node(leader).output();
  EXPECT_THAT(cluster.node(leader).stderr_text(), HasSubstr("resigning the leadership"));
  EXPECT_THAT(cluster.node(leader).stderr_text(), Not(HasSubstr("handing over without")));
}

// 4. SIGSTOP of the leader for longer than the TTL.
TEST_F(ClusterTest, PausedLeaderIsReplacedAndOnWakingStepsDownWithoutWriting) {
  LocalCluster cluster;
  cluster.StartAll();
  const int old_leader = cluster.WaitForLeader(15s);
  ASSERT_GE(old_leader, 0) << Describe(cluster);
  std::optional<v1::ClusterStatusResponse> before = cluster.Status(old_leader);
  ASSERT_TRUE(before.has_value());
  auto stubs = StubsFor(cluster);
  v1::Goethe::Stub& old_stub = *stubs[static_cast<std::size_t>(old_leader)];
  // The topic exists on the old leader, with one event, and our client is connected to it.
  ASSERT_TRUE(ProduceTo(old_stub, "paused", "before-pause").status.ok());
  for (int i = 0; i < cluster.size(); ++i) {
    if (i != old_leader) (void)ProduceTo(*stubs[static_cast<std::size_t>(i)], "t", "warm-up");
  }

  const Clock::time_point paused = Clock::now();
  cluster.node(old_leader).Pause();
  const Accepted accepted = FirstWriteAccepted(cluster, stubs, old_leader, "t", paused + 3s);
  std::this_thread::sleep_until(paused + 3500ms);
  ASSERT_GE(accepted.node, 0) << "no other node accepted a write while the leader was paused; last refusal: "
                              << accepted.last_refusal << Describe(cluster);
  const int new_leader = accepted.node;
  std::printf("SIGSTOP: %s took writes %lld ms after the pause\n", cluster.node(new_leader).name().c_str(),
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(accepted.at - paused).count()));

  // A produce already on its way when the old leader wakes: refused, never accepted.
  auto late = std::async(std::launch::async, [&] { return ProduceTo(old_stub, "paused", "after-resume", 5s); });
  std::this_thread::sleep_for(50ms);  // the request waits in the paused node's socket
  cluster.node(old_leader).Resume();
  const Outcome woke = late.get();
  EXPECT_EQ(woke.status.error_code(), grpc::StatusCode::UNAVAILABLE) << testing::Describe(woke.status);
  // And one sent right after.
  const Outcome right_after = ProduceTo(old_stub, "paused", "right-after");
  EXPECT_EQ(right_after.status.error_code(), grpc::StatusCode::UNAVAILABLE) << testing::Describe(right_after.status);

  // Its log says it stepped down.
  EXPECT_TRUE(Eventually([&] { return cluster.node(old_leader).stderr_text().find("stepped down") != std::string::npos; }, 5s))
      << Tail(cluster.node(old_leader).stderr_text());
  // Neither event is in its store.
  v1::ReadRequest read;
  read.set_topic("paused");
  read.set_max_events(100);
  v1::ReadResponse page;
  const Outcome read_outcome = Unary([&](grpc::ClientContext* call) { return old_stub.Read(call, read, &page); });
  ASSERT_TRUE(read_outcome.status.ok()) << testing::Describe(read_outcome.status);
  ASSERT_EQ(page.events_size(), 1) << page.ShortDebugString();
  EXPECT_EQ(page.events(0).payload(), "before-pause");
  EXPECT_EQ(page.head(), 1u);

  // Later it names the new leader, in a later epoch, and points writers there.
  std::optional<v1::ClusterStatusResponse> status;
  EXPECT_TRUE(Eventually(
      [&] {
        status = cluster.Status(old_leader);
        // Its new session's member record lands a moment after the session itself.
        return status && status->leader() == cluster.node(new_leader).name() && status->coordinator_reachable() &&
               MemberNamed(*status, cluster.node(old_leader).name()) != nullptr;
      },
      10s))
      << Describe(cluster);
  ASSERT_TRUE(status.has_value());
  EXPECT_GT(status->epoch(), before->epoch());
  const v1::ClusterMember* self = MemberNamed(*status, cluster.node(old_leader).name());
  ASSERT_NE(self, nullptr) << status->ShortDebugString();
  EXPECT_NE(self->state(), v1::MEMBER_STATE_LEADER);
  const Outcome later = ProduceTo(old_stub, "paused", "later");
  EXPECT_EQ(later.status.error_code(), grpc::StatusCode::UNAVAILABLE) << testing::Describe(later.status);
  EXPECT_EQ(later.leader_hint, cluster.node(new_leader).address());
  EXPECT_EQ(cluster.WaitForLeader(5s), new_leader) << Describe(cluster);
}

// 5. A follower refuses every write, pointing at the leader, and serves reads.
TEST_F(ClusterTest, FollowerRefusesEveryWriteWithTheLeadersAddressAndServesReads) {
  LocalCluster cluster;
  cluster.StartAll();
  const int first = cluster.WaitForLeader(15s);
  ASSERT_GE(first, 0) << Describe(cluster);

  // Data on the first leader's own store (not replicated yet): a topic with three events, a
  // consumer's cursor and a group. Then it stops and comes back as a follower holding them.
  {
    auto stub = StubTo(cluster.node(first).address());
    v1::CreateTopicRequest create;
    create.set_topic("t");
    v1::CreateTopicResponse created;
    ASSERT_TRUE(Unary([&](grpc::ClientContext* c) { return stub->CreateTopic(c, create, &created); }).status.ok());
    for (const char* payload : {"a", "b", "c"}) ASSERT_TRUE(ProduceTo(*stub, "t", payload).status.ok());
    v1::CommitCursorRequest commit;
    commit.set_topic("t");
    commit.set_consumer("c");
    commit.set_offset(1);
    v1::CommitCursorResponse committed;
    ASSERT_TRUE(Unary([&](grpc::ClientContext* c) { return stub->CommitCursor(c, commit, &committed); }).status.ok());
    v1::CreateGroupRequest group;
    group.set_topic("t");
    group.set_group("g");
    v1::CreateGroupResponse group_created;
    ASSERT_TRUE(Unary([&](grpc::ClientContext* c) { return stub->CreateGroup(c, group, &group_created); }).status.ok());
  }
  ASSERT_EQ(cluster.node(first).Stop(), 0) << cluster.node(first).output();
  ASSERT_GE(cluster.WaitForLeader(10s, first), 0) << Describe(cluster);
  cluster.node(first).Start();
  const int leader = WaitForFullAgreement(cluster, 15s);
  ASSERT_GE(leader, 0) << Describe(cluster);
  ASSERT_NE(leader, first);
  const int follower = first;
  const std::string leader_address = cluster.node(leader).address();
  const std::string named = "the leader is " + cluster.node(leader).name() + " at " + leader_address;
  auto stub = StubTo(cluster.node(follower).address());

  auto expect_refused = [&](const std::string& what, const Outcome& outcome) {
    SCOPED_TRACE(what);
    EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::UNAVAILABLE) << testing::Describe(outcome.status);
    EXPECT_EQ(outcome.leader_hint, leader_address);
    EXPECT_THAT(outcome.status.error_message(), HasSubstr(named));
  };

  expect_refused("Produce", ProduceTo(*stub, "t", "d"));
  {
    v1::ProduceMultiRequest request;
    v1::ProduceRequest* part = request.add_topics();
    part->set_topic("t");
    part->add_payloads("d");
    v1::ProduceMultiResponse response;
    expect_refused("ProduceMulti",
                   Unary([&](grpc::ClientContext* c) { return stub->ProduceMulti(c, request, &response); }));
  }
  {
    grpc::ClientContext call;
    call.set_deadline(In(5s));
    auto stream = stub->ProduceStream(&call);
    v1::ProduceStreamRequest request;
    request.set_batch_id(1);
    request.mutable_batch()->set_topic("t");
    request.mutable_batch()->add_payloads("d");
    stream->Write(request);
    stream->WritesDone();
    v1::ProduceStreamResponse response;
    int acks = 0;
    while (stream->Read(&response)) ++acks;
    Outcome outcome;
    outcome.status = stream->Finish();
    outcome.leader_hint = Trailing(call, "goethe-leader");
    EXPECT_EQ(acks, 0) << "no batch acknowledged: " << response.ShortDebugString();
    expect_refused("ProduceStream", outcome);
  }
  {
    v1::CommitCursorRequest request;
    request.set_topic("t");
    request.set_consumer("c");
    request.set_offset(2);
    v1::CommitCursorResponse response;
    expect_refused("CommitCursor",
                   Unary([&](grpc::ClientContext* c) { return stub->CommitCursor(c, request, &response); }));
  }
  {
    v1::DeleteCursorRequest request;
    request.set_topic("t");
    request.set_consumer("c");
    v1::DeleteCursorResponse response;
    expect_refused("DeleteCursor",
                   Unary([&](grpc::ClientContext* c) { return stub->DeleteCursor(c, request, &response); }));
  }
  {
    v1::CreateTopicRequest request;
    request.set_topic("t2");
    v1::CreateTopicResponse response;
    expect_refused("CreateTopic",
                   Unary([&](grpc::ClientContext* c) { return stub->CreateTopic(c, request, &response); }));
  }
  {
    v1::DeleteTopicRequest request;
    request.set_topic("t");
    v1::DeleteTopicResponse response;
    expect_refused("DeleteTopic",
                   Unary([&](grpc::ClientContext* c) { return stub->DeleteTopic(c, request, &response); }));
  }
  {
    v1::CreateGroupRequest request;
    request.set_topic("t");
    request.set_group("g2");
    v1::CreateGroupResponse response;
    expect_refused("CreateGroup",
                   Unary([&](grpc::ClientContext* c) { return stub->CreateGroup(c, request, &response); }));
  }
  {
    v1::ResetGroupRequest request;
    request.set_topic("t");
    request.set_group("g");
    request.mutable_start()->set_end(true);
    v1::ResetGroupResponse response;
    expect_refused("ResetGroup",
                   Unary([&](grpc::ClientContext* c) { return stub->ResetGroup(c, request, &response); }));
  }
  {
    v1::DeleteGroupRequest request;
    request.set_topic("t");
    request.set_group("g");
    v1::DeleteGroupResponse response;
    expect_refused("DeleteGroup",
                   Unary([&](grpc::ClientContext* c) { return stub->DeleteGroup(c, request, &response); }));
  }
  expect_refused("Consume with a committing consumer", ConsumeUntilEnd(*stub, SubscribeTo("t", "c")));
  {
    v1::Subscribe subscribe = SubscribeTo("t");
    subscribe.mutable_group()->set_name("g");
    expect_refused("Consume joining a group", ConsumeUntilEnd(*stub, subscribe));
  }

  // Reads are served, from what this node holds.
  auto served = [](const std::string& what, const grpc::Status& status) {
    EXPECT_TRUE(status.ok()) << what << ": " << testing::Describe(status);
  };
  {
    v1::ReadRequest request;
    request.set_topic("t");
    v1::ReadResponse response;
    served("Read", Unary([&](grpc::ClientContext* c) { return stub->Read(c, request, &response); }).status);
    ASSERT_EQ(response.events_size(), 3) << "the refused writes changed nothing";
    EXPECT_EQ(response.events(2).payload(), "c");
  }
  {
    v1::SeekRequest request;
    request.set_topic("t");
    request.mutable_start()->set_end(true);
    v1::SeekResponse response;
    served("Seek", Unary([&](grpc::ClientContext* c) { return stub->Seek(c, request, &response); }).status);
    EXPECT_EQ(response.head(), 3u);
  }
  {
    v1::DescribeTopicRequest request;
    request.set_topic("t");
    v1::DescribeTopicResponse response;
    served("DescribeTopic",
           Unary([&](grpc::ClientContext* c) { return stub->DescribeTopic(c, request, &response); }).status);
    EXPECT_EQ(response.topic().next_offset(), 3u);
  }
  {
    v1::ListTopicsResponse response;
    served("ListTopics", Unary([&](grpc::ClientContext* c) {
                           return stub->ListTopics(c, v1::ListTopicsRequest(), &response);
                         }).status);
    ASSERT_EQ(response.topics_size(), 1) << response.ShortDebugString();
    EXPECT_EQ(response.topics(0).name(), "t");
  }
  {
    const Consumed anonymous = ConsumeSome(*stub, SubscribeTo("t"), 3);
    ASSERT_TRUE(anonymous.subscribed.has_value()) << "read-only Consume (no consumer): "
                                                  << testing::Describe(anonymous.status);
    EXPECT_EQ(anonymous.events.size(), 3u);
    v1::Subscribe read_only = SubscribeTo("t", "c");
    read_only.set_read_only(true);
    read_only.mutable_start()->mutable_cursor();
    const Consumed cursor = ConsumeSome(*stub, read_only, 1);
    ASSERT_TRUE(cursor.subscribed.has_value()) << "read-only Consume (read_only): " << testing::Describe(cursor.status);
    EXPECT_EQ(cursor.subscribed->resolved_offset(), 2u);
    ASSERT_EQ(cursor.events.size(), 1u);
    EXPECT_EQ(cursor.events[0].payload(), "c");
  }
  {
    v1::GetCursorRequest request;
    request.set_topic("t");
    request.set_consumer("c");
    v1::GetCursorResponse response;
    served("GetCursor", Unary([&](grpc::ClientContext* c) { return stub->GetCursor(c, request, &response); }).status);
    EXPECT_EQ(response.cursor().offset(), 1u) << "the refused commit and delete changed nothing";
    v1::ListCursorsRequest list;
    list.set_topic("t");
    v1::ListCursorsResponse cursors;
    served("ListCursors", Unary([&](grpc::ClientContext* c) { return stub->ListCursors(c, list, &cursors); }).status);
    EXPECT_EQ(cursors.cursors_size(), 1);
  }
  {
    v1::ListGroupsRequest request;
    request.set_topic("t");
    v1::ListGroupsResponse response;
    served("ListGroups", Unary([&](grpc::ClientContext* c) { return stub->ListGroups(c, request, &response); }).status);
    ASSERT_EQ(response.groups_size(), 1) << "the refused group writes changed nothing";
    EXPECT_EQ(response.groups(0).name(), "g");
    v1::DescribeGroupRequest describe;
    describe.set_topic("t");
    describe.set_group("g");
    v1::DescribeGroupResponse described;
    served("DescribeGroup",
           Unary([&](grpc::ClientContext* c) { return stub->DescribeGroup(c, describe, &described); }).status);
  }
  {
    v1::ClusterStatusResponse response;
    served("ClusterStatus", Unary([&](grpc::ClientContext* c) {
                              return stub->ClusterStatus(c, v1::ClusterStatusRequest(), &response);
                            }).status);
    EXPECT_EQ(response.leader_address(), leader_address);
  }
  // A topic this node does not hold: NOT_FOUND, served all the same (not UNAVAILABLE).
  {
    v1::ReadRequest request;
    request.set_topic("elsewhere");
    v1::ReadResponse response;
    const Outcome outcome = Unary([&](grpc::ClientContext* c) { return stub->Read(c, request, &response); });
    EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::NOT_FOUND) << testing::Describe(outcome.status);
    const Outcome consume = ConsumeUntilEnd(*stub, SubscribeTo("elsewhere"));
    EXPECT_EQ(consume.status.error_code(), grpc::StatusCode::NOT_FOUND) << testing::Describe(consume.status);
  }
}

// 6. A 3-member etcd loses one member, each in turn: Goethe notices nothing.
// Over HTTP as over gRPC: a follower refuses writes with 503 and the leader's address in
// Goethe-Leader, serves reads and ClusterStatus, and says it is healthy.
TEST_F(ClusterTest, OverHttpAFollowerRefusesWritesNamingTheLeaderAndServesReads) {
  ClusterOptions options;
  options.http = true;
  LocalCluster cluster(options);
  cluster.StartAll();
  const int leader = cluster.AgreedLeader();
  ASSERT_GE(leader, 0) << Describe(cluster);
  const int follower = (leader + 1) % cluster.size();
  const std::string on_leader = cluster.node(leader).http_address();
  const std::string on_follower = cluster.node(follower).http_address();
  ASSERT_FALSE(on_leader.empty() || on_follower.empty()) << cluster.node(leader).output();

  HttpConnection to_follower(on_follower);
  HttpReply refused = to_follower.Send("POST", "/v1/topics/t/events?payload=text", R"({"payloads":["x"]})");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_THAT(refused.body, HasSubstr("\"code\":\"UNAVAILABLE\""));
  EXPECT_EQ(refused.headers["goethe-leader"], cluster.node(leader).address());
  HttpConnection to_leader(on_leader);
  HttpReply written = to_leader.Send("POST", "/v1/topics/t/events?payload=text", R"({"payloads":["x"]})");
  ASSERT_EQ(written.status, 200) << written.body;
  // The follower serves the event once it has applied it.
  EXPECT_TRUE(Eventually(
      [&] { return to_follower.Send("GET", "/v1/topics/t/events?payload=text").body.find("\"payload\":\"x\"") != std::string::npos; },
      10s));
  HttpReply status = to_follower.Send("GET", "/v1/cluster");
  EXPECT_EQ(status.status, 200);
  EXPECT_THAT(status.body, HasSubstr("\"leader\":\"" + cluster.node(leader).name() + "\""));
  EXPECT_EQ(to_follower.Send("GET", "/healthz").status, 200);

  // The cluster's metrics, as each node sees it: one leader, three members all in sync, and none
  // behind once the follower has reported the entry it applied.
  const std::string name = cluster.node(follower).name();
  auto scrape = [](const std::string& at) { return HttpGet(at, "/metrics").body; };
  EXPECT_EQ(Sample(scrape(on_leader), "goethe_cluster_leader"), 1.0);
  EXPECT_EQ(Sample(scrape(on_follower), "goethe_cluster_leader"), 0.0);
  const std::string follower_view = scrape(on_follower);
  EXPECT_EQ(Sample(follower_view, "goethe_cluster_members"), 3.0);
  EXPECT_EQ(Sample(follower_view, "goethe_cluster_coordinator_reachable"), 1.0);
  EXPECT_GT(Sample(follower_view, "goethe_cluster_epoch").value_or(0), 0.0);
  EXPECT_TRUE(Eventually(
      [&] {
        const std::string now = scrape(on_follower);
        return Sample(now, "goethe_cluster_in_sync_members") == 3.0 &&
               Sample(now, "goethe_cluster_member_in_sync{member=\"" + name + "\"}") == 1.0;
      },
      10s))
      << scrape(on_follower);
  EXPECT_TRUE(Eventually(
      [&] {
        const std::string now = scrape(on_leader);
        return Sample(now, "goethe_cluster_member_behind_leader_entries{member=\"" + name + "\"}") == 0.0 &&
               Sample(now, "goethe_cluster_member_applied_entries{member=\"" + name + "\"}").value_or(0) > 0;
      },
      10s))
      << scrape(on_leader);
  // The shipped Grafana dashboard's cluster panels name metrics a cluster node has.
  const std::string leader_scrape = scrape(on_leader);
  int cluster_names = 0;
  for (const std::string& expr : DashboardQueries()) {
    for (const std::string& metric : MetricNamesIn(expr)) {
      if (!metric.starts_with("goethe_cluster_")) continue;
      EXPECT_TRUE(ScrapeDeclares(leader_scrape, metric)) << metric << " in " << expr;
      ++cluster_names;
    }
  }
  EXPECT_GE(cluster_names, 5);
}

TEST_F(ClusterTest, LosingAnyOneOfThreeEtcdMembersChangesNothingForGoethe) {
  ClusterOptions options;
  options.etcd_members = 3;
  // The default TTL here; under the sanitizers, twice it: with three sanitized suites on 2 cores,
  // the etcd members left once answered no renewal for over 2 s after a kill (every call timed out
  // or was reset while they elected a new raft leader), and a follower lost its session.
#ifdef GOETHE_TEST_SANITIZED
  const std::chrono::milliseconds ttl = 2 * kTtl;
#else
  const std::chrono::milliseconds ttl = kTtl;
#endif
  options.session_ttl = std::to_string(ttl.count() / 1000) + "s";
  LocalCluster cluster(options);
  cluster.StartAll();
  const int leader = cluster.WaitForLeader(15s);
  ASSERT_GE(leader, 0) << Describe(cluster);
  std::optional<v1::ClusterStatusResponse> before = cluster.Status(leader);
  ASSERT_TRUE(before.has_value());
  auto stub = StubTo(cluster.node(leader).address());

  int produced = 0;
  int refused = 0;
  std::string first_refusal;
  // Produces to the leader for `duration`, one write every 20 ms; every one must be acknowledged.
  auto produce_for = [&](std::chrono::milliseconds duration) {
    const auto until = Clock::now() + duration;
    while (Clock::now() < until) {
      const Outcome outcome = ProduceTo(*stub, "t", "e" + std::to_string(produced + refused), 2s);
      if (outcome.status.ok()) {
        ++produced;
      } else if (refused++ == 0) {
        first_refusal = testing::Describe(outcome.status);
      }
      std::this_thread::sleep_for(20ms);
    }
  };
  auto unchanged = [&](const std::string& when) {
    SCOPED_TRACE(when);
    EXPECT_EQ(cluster.AgreedLeader(), leader) << Describe(cluster);
    for (int i = 0; i < cluster.size(); ++i) {
      std::optional<v1::ClusterStatusResponse> status = cluster.Status(i);
      ASSERT_TRUE(status.has_value()) << cluster.node(i).name();
      EXPECT_EQ(status->leader(), cluster.node(leader).name()) << cluster.node(i).name();
      EXPECT_EQ(status->epoch(), before->epoch()) << cluster.node(i).name();
      EXPECT_TRUE(status->coordinator_reachable()) << cluster.node(i).name();
    }
  };

  produce_for(300ms);
  for (int member = 0; member < cluster.etcd().size(); ++member) {
    const std::string which = "etcd member " + cluster.etcd().name(member);
    cluster.etcd().Kill(member);
    produce_for(ttl + 1500ms);  // longer than a session TTL: renewals must go through the others
    unchanged("with " + which + " down");
    cluster.etcd().Restart(member);
    ASSERT_TRUE(cluster.etcd().WaitHealthy(20s));
    produce_for(1s);
    unchanged("after " + which + " came back");
  }
  EXPECT_EQ(refused, 0) << "of " << produced + refused << " writes; the first refusal: " << first_refusal
                        << "\nthe leader's log:\n" << Tail(cluster.node(leader).stderr_text());
  EXPECT_GT(produced, 100);
  for (int i = 0; i < cluster.size(); ++i) {
    const std::string log = cluster.node(i).stderr_text();
    EXPECT_THAT(log, Not(HasSubstr("stepped down"))) << cluster.node(i).name() << ":\n" << Tail(log);
    EXPECT_THAT(log, Not(HasSubstr("lost the etcd session"))) << cluster.node(i).name() << ":\n" << Tail(log);
  }
  std::printf("3-member etcd, each member killed in turn: %d writes acknowledged, %d refused\n", produced, refused);
}

// 7. etcd unreachable at start: one clear line and a non-zero exit ...
TEST_F(ClusterTest, NodeThatCannotReachEtcdAtStartExitsWithOneClearLine) {
  ClusterOptions options;
  options.nodes = 1;
  LocalCluster cluster(options);
  cluster.etcd().Kill(0);  // its port is closed now
  const std::string endpoint = cluster.etcd().endpoint(0);
  ClusterNode& node = cluster.node(0);
  const Clock::time_point launched = Clock::now();
  node.Launch();
  const std::optional<int> code = node.Exited(kConnectTimeout + 5s);
  const long long took = MillisSince(launched);
  ASSERT_TRUE(code.has_value()) << "still running after " << took << " ms: " << node.output();
  EXPECT_NE(*code, 0);
  EXPECT_LT(took, std::chrono::milliseconds(kConnectTimeout + 1500ms).count()) << "connect_timeout is 2s";
  EXPECT_FALSE(node.Serving());
  const std::string err = node.stderr_text();
  EXPECT_EQ(CountLines(err), 1) << err;
  EXPECT_THAT(err, HasSubstr("etcd"));
  EXPECT_THAT(err, HasSubstr(endpoint));
  EXPECT_THAT(err, HasSubstr("cluster.etcd.connect_timeout"));
  std::printf("exit %d after %lld ms: %s", *code, took, err.c_str());
}

// ... or, with wait_at_start, waits (not serving) until etcd comes up, then serves ...
TEST_F(ClusterTest, NodeSetToWaitForEtcdServesOnceEtcdComesUp) {
  ClusterOptions options;
  options.nodes = 1;
  options.extra_etcd = "wait_at_start: true\n";
  LocalCluster cluster(options);
  cluster.etcd().Kill(0);
  ClusterNode& node = cluster.node(0);
  node.Launch();
  std::this_thread::sleep_for(kConnectTimeout + 1500ms);
  ASSERT_FALSE(node.Exited().has_value()) << "it gave up: " << node.output();
  EXPECT_FALSE(node.Serving());
  EXPECT_FALSE(cluster.Status(0).has_value()) << "it answers before it has joined";
  EXPECT_THAT(node.stderr_text(), HasSubstr("waiting for etcd"));

  cluster.etcd().Restart(0);
  ASSERT_TRUE(cluster.etcd().WaitHealthy(20s));
  const Clock::time_point etcd_up = Clock::now();
  ASSERT_TRUE(Eventually([&] { return node.Serving() || node.Exited().has_value(); }, 30s)) << node.output();
  ASSERT_TRUE(node.Serving()) << node.output();
  const long long joined = MillisSince(etcd_up);
  std::printf("serving %lld ms after etcd came back\n", joined);
  // It tries about once a second (each attempt at most 1 s), so it serves soon after etcd is up.
  EXPECT_LT(joined, 5000) << node.output();
  ASSERT_EQ(cluster.WaitForLeader(10s), 0) << Describe(cluster);
  auto stub = StubTo(node.address());
  EXPECT_TRUE(Eventually([&] { return ProduceTo(*stub, "t", "x").status.ok(); }, 5s)) << Describe(cluster);
  EXPECT_TRUE(Eventually([&] { return HealthOf(node.address()) == 1; }, 5s));
  stub.reset();
  EXPECT_EQ(node.Stop(), 0) << node.output();
}

// ... and a SIGTERM while it waits ends it at once, cleanly.
TEST_F(ClusterTest, SigtermWhileWaitingForEtcdExitsZeroPromptly) {
  ClusterOptions options;
  options.nodes = 1;
  options.extra_etcd = "wait_at_start: true\n";
  LocalCluster cluster(options);
  cluster.etcd().Kill(0);
  ClusterNode& node = cluster.node(0);
  node.Launch();
  std::this_thread::sleep_for(1500ms);
  ASSERT_FALSE(node.Exited().has_value()) << node.output();
  const Clock::time_point terminated = Clock::now();
  node.Terminate();
  const std::optional<int> code = node.Exited(10s);
  const long long took = MillisSince(terminated);
  ASSERT_TRUE(code.has_value()) << "no exit within 10 s of SIGTERM: " << node.output();
  EXPECT_EQ(*code, 0) << node.output();
  EXPECT_LT(took, 2000) << node.output();
  EXPECT_FALSE(node.Serving());
  std::printf("exit %d %lld ms after SIGTERM\n", *code, took);
}

// cluster.etcd.tls against an etcd that serves clients over TLS only and asks for a client
// certificate: a node with the CA, a certificate from it and its key joins, leads, registers and
// takes writes; one presenting a certificate from a CA etcd does not trust is turned away and exits
// with one line naming the endpoint.
TEST_F(ClusterTest, NodesReachAnEtcdThatServesTlsAndAsksForClientCertificates) {
  TempDir pki_dir;
  const TestPki pki(pki_dir);
  ClusterOptions options;
  options.nodes = 1;
  options.etcd_tls = EtcdClientTls{pki.Cert("server"), pki.Key("server"), pki.Cert("ca"), pki.Cert("client"),
                                   pki.Key("client")};
  options.extra_etcd = "tls:\n  ca_file: " + pki.Cert("ca") + "\n  cert_file: " + pki.Cert("client") +
                       "\n  key_file: " + pki.Key("client") + "\n";
  LocalCluster cluster(options);
  ClusterNode& node = cluster.node(0);
  node.Start();
  ASSERT_EQ(cluster.WaitForLeader(10s), 0) << Describe(cluster);
  auto stub = StubTo(node.address());
  EXPECT_TRUE(Eventually([&] { return ProduceTo(*stub, "t", "over-tls").status.ok(); }, 5s)) << Describe(cluster);
  EXPECT_THAT(cluster.etcd().Etcdctl({"get", "--prefix", "--keys-only", "/goethe/test/members/"}),
              HasSubstr("/goethe/test/members/n1"));

  const int stranger_port = FreeLoopbackPorts(1)[0];
  std::string stranger_config = cluster.ConfigYaml("n2", stranger_port);
  for (const std::string part : {"client.pem", "client.key"}) {
    const std::size_t at = stranger_config.find(pki_dir.Sub(part));
    ASSERT_NE(at, std::string::npos) << stranger_config;
    stranger_config.replace(at, pki_dir.Sub(part).size(), pki_dir.Sub("other-" + part));
  }
  ClusterNode stranger(cluster.dir(), "n2", stranger_port, cluster.dir().WriteFile("n2.yaml", stranger_config));
  // Under ASan, LeakSanitizer now and then reports OpenSSL's per-thread error state of gRPC's
  // threads that saw the refused handshake (1 run in 9): OpenSSL 3.0 does not always free it when
  // such a thread exits (openssl/openssl#24357, grpc/grpc#38539). Only this node forgives leaks
  // allocated inside libcrypto; every other leak of it, and every leak of the other node, fails.
  const std::string openssl_exit_leaks = cluster.dir().WriteFile("openssl-thread-exit.supp", "leak:libcrypto.so\n");
  stranger.Launch({"LSAN_OPTIONS=suppressions=" + openssl_exit_leaks + ":print_suppressions=0"});
  const std::optional<int> code = stranger.Exited(kConnectTimeout + 5s);
  ASSERT_TRUE(code.has_value()) << "a node etcd refuses is still running: " << stranger.output();
  EXPECT_NE(*code, 0);
  const std::string err = stranger.stderr_text();
  EXPECT_EQ(CountLines(err), 1) << err;
  EXPECT_THAT(err, HasSubstr(cluster.etcd().endpoint(0)));
  EXPECT_THAT(err, HasSubstr("cluster.etcd.tls"));
  std::printf("a certificate from another CA: exit %d: %s", *code, err.c_str());
  const std::optional<v1::ClusterStatusResponse> status = cluster.Status(0);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->members_size(), 1) << "the stranger never joined";
}

// Health follows catching up: a follower that missed writes and restarts while its leader is
// paused (so nothing can bring it up to date) is NOT_SERVING and says it is catching up; once the
// leader resumes and it is in sync again, it serves. The session TTL is 6 s here, so that the
// pause, well under it, deposes nobody.
TEST_F(ClusterTest, ARestartedFollowerIsNotServingWhileItCatchesUpAndServesOnceInSync) {
  ClusterOptions options;
  options.session_ttl = "6s";
  LocalCluster cluster(options);
  cluster.StartAll();
  const int leader = cluster.WaitForLeader(15s);
  ASSERT_GE(leader, 0) << Describe(cluster);
  const int follower = (leader + 1) % 3;
  ClusterNode& behind = cluster.node(follower);
  EXPECT_EQ(HealthOf(behind.address()), 1);

  behind.Kill();
  auto stub = StubTo(cluster.node(leader).address());
  for (int i = 0; i < 20; ++i) {  // the first waits for the killed member up to max_lag (1 s)
    const Outcome produced = ProduceTo(*stub, "t", "missed-" + std::to_string(i), 5s);
    ASSERT_TRUE(produced.status.ok()) << i << ": " << testing::Describe(produced.status);
  }
  cluster.node(leader).Pause();
  const Clock::time_point paused = Clock::now();
  behind.Start();
  // Its own record says so once its session has written it (at start it says "starting").
  v1::MemberState own_state = v1::MEMBER_STATE_UNSPECIFIED;
  Eventually(
      [&] {
        std::optional<v1::ClusterStatusResponse> status = cluster.Status(follower);
        const v1::ClusterMember* self = status ? MemberNamed(*status, behind.name()) : nullptr;
        if (self != nullptr) own_state = self->state();
        return own_state == v1::MEMBER_STATE_CATCHING_UP;
      },
      2s);
  const std::optional<int> health_while_behind = HealthOf(behind.address());
  cluster.node(leader).Resume();
  const long long paused_ms = MillisSince(paused);
  ASSERT_LT(paused_ms, 4000) << "paused too close to the TTL for this test to mean anything";
  EXPECT_EQ(own_state, v1::MEMBER_STATE_CATCHING_UP) << Describe(cluster);
  EXPECT_EQ(health_while_behind, std::optional<int>(2)) << Tail(behind.stderr_text());

  const Clock::time_point resumed = Clock::now();
  EXPECT_TRUE(Eventually([&] { return HealthOf(behind.address()) == 1; }, 15s)) << Describe(cluster);
  std::printf("NOT_SERVING while paused %lld ms; SERVING %lld ms after the leader resumed\n", paused_ms,
              MillisSince(resumed));
  EXPECT_EQ(cluster.EventsOn(follower, "t"), std::optional<std::uint64_t>(20)) << "what it missed was brought to it";
}

// 8. etcd lost while running: no more writes, NOT_SERVING, a log line; back when etcd is.
TEST_F(ClusterTest, NodeThatLosesEtcdStopsTakingWritesAndSaysSoInHealthAndLog) {
  LocalCluster cluster;
  cluster.StartAll();
  const int leader = cluster.WaitForLeader(15s);
  ASSERT_GE(leader, 0) << Describe(cluster);
  ClusterNode& node = cluster.node(leader);
  auto stub = StubTo(node.address());
  ASSERT_TRUE(ProduceTo(*stub, "t", "before").status.ok());
  EXPECT_EQ(HealthOf(node.address()), 1);
  EXPECT_EQ(HealthOf(node.address(), "goethe.v1.Goethe"), 1);

  const Clock::time_point lost = Clock::now();
  cluster.etcd().Kill(0);
  Outcome refusal;
  int accepted_after = 0;
  const bool refused = Eventually(
      [&] {
        refusal = ProduceTo(*stub, "t", "during", 1s);
        if (refusal.status.ok()) ++accepted_after;
        return !refusal.status.ok();
      },
      kFailoverBound + 2s);
  const long long took = MillisSince(lost);
  ASSERT_TRUE(refused) << "still accepting writes " << took << " ms after etcd went away";
  std::printf("etcd lost: the leader refused writes after %lld ms (%d accepted meanwhile)\n", took, accepted_after);
  EXPECT_LT(took, kFailoverBound.count());
  EXPECT_EQ(refusal.status.error_code(), grpc::StatusCode::UNAVAILABLE) << testing::Describe(refusal.status);
  EXPECT_THAT(refusal.status.error_message(), HasSubstr("cannot reach etcd"));

  EXPECT_TRUE(Eventually([&] { return HealthOf(node.address()) == 2; }, 3s)) << Tail(node.stderr_text());
  EXPECT_EQ(HealthOf(node.address(), "goethe.v1.Goethe"), 2);
  for (int i = 0; i < cluster.size(); ++i) {  // no node can reach etcd: none serves
    EXPECT_TRUE(Eventually([&] { return HealthOf(cluster.node(i).address()) == 2; }, 5s)) << cluster.node(i).name();
  }
  EXPECT_TRUE(Eventually(
      [&] {
        const std::string log = node.stderr_text();
        return log.find("stepped down") != std::string::npos && log.find("cannot reach etcd") != std::string::npos;
      },
      5s))
      << Tail(node.stderr_text());
  std::optional<v1::ClusterStatusResponse> status = cluster.Status(leader);
  ASSERT_TRUE(status.has_value()) << "ClusterStatus is answered without etcd too";
  EXPECT_FALSE(status->coordinator_reachable());

  // etcd back (same data): a leader again, and writes.
  cluster.etcd().Restart(0);
  ASSERT_TRUE(cluster.etcd().WaitHealthy(20s));
  // Which node leads then is found by writing to all of them: for a while after etcd is back the
  // nodes may agree on a leader that no longer leads (its lost session's election key is still
  // there until its lease expires), so their agreement alone does not say who takes writes.
  const Clock::time_point back = Clock::now();
  auto stubs = StubsFor(cluster);
  const Accepted accepted = FirstWriteAccepted(cluster, stubs, -1, "t", back + 20s);
  ASSERT_GE(accepted.node, 0) << "no write accepted within 20 s of etcd's return; last refusal: "
                              << accepted.last_refusal << Describe(cluster);
  const int again = accepted.node;
  std::printf("etcd back: %s took writes %lld ms later\n", cluster.node(again).name().c_str(),
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(accepted.at - back).count()));
  // Right after etcd's return the leadership may still move once (sessions renewed at different
  // moments), and the nodes' views may still name the old leader until their watches reconnect; the
  // cluster must settle on a leader every node names and that takes writes.
  int settled = -1;
  std::string last_refusal = "no leader agreed";
  const bool settled_on_one = Eventually(
      [&] {
        settled = cluster.AgreedLeader();
        if (settled < 0) return false;
        const Outcome outcome = ProduceTo(*stubs[static_cast<std::size_t>(settled)], "t", "settled");
        last_refusal = cluster.node(settled).name() + ": " + outcome.status.error_message();
        return outcome.status.ok();
      },
      15s);
  ASSERT_TRUE(settled_on_one) << "last refusal: " << last_refusal << Describe(cluster);
  EXPECT_TRUE(Eventually([&] { return HealthOf(cluster.node(settled).address()) == 1; }, 5s));
  EXPECT_THAT(node.stderr_text(), HasSubstr("etcd session restored"));
}

// 9. The failover time, leader SIGKILL -> first write accepted by the new leader, over N rounds.
TEST_F(ClusterTest, FailoverRoundsLeaderKill) {
  int rounds = 5;
  if (const char* env = std::getenv("GOETHE_FAILOVER_ROUNDS"); env != nullptr && std::atoi(env) > 0)
    rounds = std::atoi(env);
  LocalCluster cluster;
  cluster.StartAll();
  ASSERT_GE(WaitForFullAgreement(cluster, 15s), 0) << Describe(cluster);
  std::vector<long long> times;
  for (int round = 1; round <= rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const int leader = cluster.AgreedLeader();
    ASSERT_GE(leader, 0) << Describe(cluster);
    auto stubs = StubsFor(cluster);
    for (int i = 0; i < cluster.size(); ++i) {  // connect every client before the kill
      if (i != leader) (void)ProduceTo(*stubs[static_cast<std::size_t>(i)], "failover", "warm-up");
    }
    const Clock::time_point killed = Clock::now();
    cluster.node(leader).Kill();
    const Accepted accepted = FirstWriteAccepted(cluster, stubs, leader, "failover", killed + 15s);
    ASSERT_GE(accepted.node, 0) << "no write accepted within 15 s; last refusal: " << accepted.last_refusal
                                << Describe(cluster);
    const long long ms = std::chrono::duration_cast<std::chrono::milliseconds>(accepted.at - killed).count();
    times.push_back(ms);
    std::printf("failover round %d: %lld ms (%s -> %s)\n", round, ms, cluster.node(leader).name().c_str(),
                cluster.node(accepted.node).name().c_str());
    EXPECT_LT(ms, kFailoverBound.count());
    stubs.clear();
    cluster.node(leader).Start();
    ASSERT_EQ(WaitForFullAgreement(cluster, 15s, accepted.node), accepted.node) << Describe(cluster);
  }
  const double median = Median(times);
  const long long max = *std::max_element(times.begin(), times.end());
  std::printf("FAILOVER rounds=%d median_ms=%.0f max_ms=%lld\n", rounds, median, max);
  std::fflush(stdout);
  RecordProperty("failover_rounds", rounds);
  RecordProperty("failover_median_ms", static_cast<int>(median));
  RecordProperty("failover_max_ms", static_cast<int>(max));
}

// 10. A single node (no cluster: section) is its own leader, and writes as before.
TEST(SingleNodeClusterStatusTest, ASingleNodeIsItsOwnLeaderOutsideAnyCluster) {
  TempDir dir;
  const std::string config = dir.WriteFile("goethe.yaml", ServerConfigYaml("leveldb", dir.Sub("data")));
  ServerProcess server(dir, config);
  {
    auto stub = StubTo(server.address());
    ASSERT_TRUE(ProduceTo(*stub, "t", "a").status.ok());
    ASSERT_TRUE(ProduceTo(*stub, "t", "b").status.ok());
    v1::ClusterStatusResponse status;
    const Outcome outcome = Unary([&](grpc::ClientContext* c) {
      return stub->ClusterStatus(c, v1::ClusterStatusRequest(), &status);
    });
    ASSERT_TRUE(outcome.status.ok()) << testing::Describe(outcome.status);
    EXPECT_FALSE(status.clustered());
    EXPECT_TRUE(status.coordinator_reachable());
    EXPECT_EQ(status.epoch(), 0u);
    EXPECT_EQ(status.leader_address(), server.address());
    ASSERT_EQ(status.members_size(), 1) << status.ShortDebugString();
    EXPECT_EQ(status.members(0).state(), v1::MEMBER_STATE_LEADER);
    EXPECT_EQ(status.members(0).address(), server.address());
    EXPECT_EQ(status.members(0).applied(), 2u);
    EXPECT_EQ(status.leader(), status.members(0).name());
    v1::ProduceResponse produced;
    ASSERT_TRUE(ProduceTo(*stub, "t", "c", 2s, &produced).status.ok());
    EXPECT_EQ(produced.first_offset(), 2u);
    EXPECT_EQ(HealthOf(server.address()), 1);
  }
  EXPECT_EQ(server.Stop(), 0) << server.output();
}

}  // namespace
}  // namespace goethe::testing
