// The etcd coordinator in-process, against a real etcd on loopback: two or three coordinators of
// one cluster elect exactly one leader, hand over on a clean stop, and a leader whose session
// cannot be renewed stops leading before etcd could expire it. The member records and the view
// each builds from the watch. (The server-level behaviour is in cluster_test.cc.)
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "goethe/cluster/coordinator.h"
#include "support/etcd_process.h"
#include "support/temp_dir.h"

namespace goethe::cluster {
namespace {

using namespace std::chrono_literals;
using goethe::testing::EtcdCluster;

ClusterConfig ConfigFor(const EtcdCluster& etcd, const std::string& node) {
  ClusterConfig config;
  config.enabled = true;
  config.name = "unit";
  config.node = node;
  config.advertise = "127.0.0.1:1" + std::to_string(node.back() - '0');
  config.session_ttl = 2s;
  for (int i = 0; i < etcd.size(); ++i) config.etcd.endpoints.push_back(etcd.endpoint(i));
  config.etcd.connect_timeout = 2s;
  return config;
}

// What the view says of its members, without etcd: the in-sync set names replicas, and "behind"
// counts from the leader's applied entry.
TEST(ClusterViewTest, SaysWhichMembersAreInSyncAndHowFarEachIsBehindTheLeader) {
  ClusterView view;
  view.members = {{.name = "n1", .applied = 40}, {.name = "n2", .applied = 25}, {.name = "n3", .applied = 50}};
  view.in_sync = {"n1@store-a", "n3@store-c"};
  EXPECT_FALSE(view.MemberInSync("n1")) << "the set is not known yet";
  view.in_sync_known = true;
  EXPECT_TRUE(view.MemberInSync("n1"));
  EXPECT_FALSE(view.MemberInSync("n2"));
  EXPECT_FALSE(view.MemberInSync("n")) << "a prefix of a node's name is not that node";
  EXPECT_TRUE(view.InSync("n3@store-c"));
  EXPECT_FALSE(view.InSync("n3@store-x")) << "a wiped store is another replica";

  EXPECT_EQ(view.BehindLeader(view.members[1]), 0u) << "no leader: nobody is behind";
  view.leader = "n1";
  EXPECT_EQ(view.BehindLeader(view.members[0]), 0u);
  EXPECT_EQ(view.BehindLeader(view.members[1]), 15u);
  EXPECT_EQ(view.BehindLeader(view.members[2]), 0u) << "ahead of the leader's last report is not behind";
}

std::unique_ptr<Coordinator> Started(const EtcdCluster& etcd, const std::string& node,
                                     std::chrono::seconds session_ttl = 2s) {
  ClusterConfig config = ConfigFor(etcd, node);
  config.session_ttl = session_ttl;
  auto coordinator = MakeEtcdCoordinator(config, NodeIdentity{node, config.advertise, "test"});
  coordinator->ReportProgress([] { return std::uint64_t{0}; });
  const Status started = coordinator->Start(nullptr);
  EXPECT_TRUE(started.ok()) << started.message();
  return coordinator;
}

// Waits until `condition` holds; false after `timeout`.
template <typename Condition>
bool WaitFor(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

int Leaders(const std::vector<std::unique_ptr<Coordinator>>& nodes) {
  int leaders = 0;
  for (const auto& node : nodes) leaders += node && node->IsLeader() ? 1 : 0;
  return leaders;
}

class CoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!EtcdCluster::Available(&why)) GTEST_SKIP() << why;
    etcd_ = std::make_unique<EtcdCluster>(1);
    ASSERT_TRUE(etcd_->WaitHealthy(20s));
  }
  std::unique_ptr<EtcdCluster> etcd_;
};

TEST_F(CoordinatorTest, ExactlyOneOfThreeLeadsAndEveryViewAgrees) {
  std::vector<std::unique_ptr<Coordinator>> nodes;
  for (const char* name : {"n1", "n2", "n3"}) nodes.push_back(Started(*etcd_, name));
  ASSERT_TRUE(WaitFor([&] { return Leaders(nodes) == 1; }, 5s));
  std::string leader;
  std::uint64_t epoch = 0;
  for (const auto& node : nodes) {
    if (node->IsLeader()) {
      leader = node->View().self;
      epoch = node->LeaderEpoch();
    }
  }
  ASSERT_GT(epoch, 0u);
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const auto& node : nodes) {
          const ClusterView view = node->View();
          if (view.leader != leader || view.epoch != epoch || view.members.size() != 3 || !view.reachable) return false;
        }
        return true;
      },
      5s));
  for (const auto& node : nodes) {
    const ClusterView view = node->View();
    EXPECT_EQ(view.members[0].name, "n1");  // in name order
    EXPECT_EQ(view.members[2].address, "127.0.0.1:13");
    EXPECT_EQ(node->State(), node->IsLeader() ? MemberState::kLeader : MemberState::kInSync);
    EXPECT_EQ(node->LeaderEpoch(), node->IsLeader() ? epoch : 0u);
  }
  // The epoch record names the leader; only it could write it.
  EXPECT_NE(etcd_->Etcdctl({"get", "/goethe/unit/epoch", "--print-value-only"}).find("\"" + leader + "\""),
            std::string::npos);
}

TEST_F(CoordinatorTest, CleanStopHandsOverAtOnceAndRemovesTheMember) {
  std::vector<std::unique_ptr<Coordinator>> nodes;
  for (const char* name : {"n1", "n2"}) nodes.push_back(Started(*etcd_, name));
  ASSERT_TRUE(WaitFor([&] { return Leaders(nodes) == 1; }, 5s));
  const int leader = nodes[0]->IsLeader() ? 0 : 1;
  const int follower = 1 - leader;
  const std::uint64_t old_epoch = nodes[static_cast<std::size_t>(leader)]->LeaderEpoch();

  const auto stopping = std::chrono::steady_clock::now();
  nodes[static_cast<std::size_t>(leader)]->BeginStop();
  EXPECT_FALSE(nodes[static_cast<std::size_t>(leader)]->IsLeader());  // at once, before anything else
  ASSERT_TRUE(WaitFor([&] { return nodes[static_cast<std::size_t>(follower)]->IsLeader(); }, 1s));
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, 1s);
  EXPECT_GT(nodes[static_cast<std::size_t>(follower)]->LeaderEpoch(), old_epoch);
  nodes[static_cast<std::size_t>(leader)]->Stop();
  nodes[static_cast<std::size_t>(leader)].reset();
  // Its member record went with its revoked lease, well before a TTL.
  EXPECT_TRUE(WaitFor([&] { return nodes[static_cast<std::size_t>(follower)]->View().members.size() == 1; }, 1s));
}

// A node that starts leading acts on its view at once (a new leader keeps the in-sync members its
// view lists). That view must already hold the election it won: not the predecessor still leading,
// nor members whose expiry elected it (seen once: a leader that kept a dead member in sync waited
// replication.max_lag for it). Checked the moment each new leader tells its listeners, over
// several hand-overs.
TEST_F(CoordinatorTest, ANewLeadersFirstViewAlreadyShowsItLeading) {
  struct Node {
    std::unique_ptr<Coordinator> coordinator;
    std::string name;
    bool leading = false;  // as its listener last saw
  };
  std::mutex mutex;
  std::vector<std::string> stale;  // what a new leader's first view said instead
  auto start = [&](const std::string& name) {
    auto node = std::make_unique<Node>();
    node->name = name;
    ClusterConfig config = ConfigFor(*etcd_, name);
    node->coordinator = MakeEtcdCoordinator(config, NodeIdentity{name, config.advertise, "test"});
    node->coordinator->ReportProgress([] { return std::uint64_t{0}; });
    Node* raw = node.get();
    node->coordinator->OnChange([raw, &mutex, &stale] {
      // The epoch is read once: the test may stop this node while its listener runs (LeaderEpoch()
      // is 0 from then on, and its resignation may reach the view). A view is stale only if the node
      // still led that epoch after the view was read.
      const std::uint64_t epoch = raw->coordinator->LeaderEpoch();
      const bool leading = epoch != 0;
      std::lock_guard lock(mutex);
      if (leading && !raw->leading) {
        const ClusterView view = raw->coordinator->View();
        const bool still_leading = raw->coordinator->LeaderEpoch() == epoch;
        if (still_leading && (view.leader != raw->name || view.epoch != epoch))
          stale.push_back(raw->name + " leads epoch " + std::to_string(epoch) + " but its view says " +
                          (view.leader.empty() ? "nobody" : view.leader) + " leads epoch " + std::to_string(view.epoch));
      }
      raw->leading = leading;
    });
    const Status started = node->coordinator->Start(nullptr);
    EXPECT_TRUE(started.ok()) << started.message();
    return node;
  };
  std::vector<std::unique_ptr<Node>> nodes;
  nodes.push_back(start("n1"));
  nodes.push_back(start("n2"));
  for (int round = 3; round <= 8; ++round) {
    auto leader = [&] {
      return std::find_if(nodes.begin(), nodes.end(), [](const auto& n) { return n->coordinator->IsLeader(); });
    };
    ASSERT_TRUE(WaitFor([&] { return leader() != nodes.end(); }, 5s)) << "round " << round;
    auto stopping = leader();
    (*stopping)->coordinator->BeginStop();
    (*stopping)->coordinator->Stop();
    nodes.erase(stopping);
    nodes.push_back(start("n" + std::to_string(round)));
  }
  ASSERT_TRUE(WaitFor(
      [&] { return std::any_of(nodes.begin(), nodes.end(), [](const auto& n) { return n->coordinator->IsLeader(); }); },
      5s));
  for (const auto& node : nodes) node->coordinator->Stop();  // no listener runs after this
  EXPECT_TRUE(stale.empty()) << stale.size() << " stale first views, e.g. " << stale.front();
}

TEST_F(CoordinatorTest, ALeaderThatCannotRenewStopsLeadingBeforeEtcdCouldExpireItsLease) {
  std::vector<std::unique_ptr<Coordinator>> nodes;
  nodes.push_back(Started(*etcd_, "n1"));
  ASSERT_TRUE(WaitFor([&] { return nodes[0]->IsLeader(); }, 5s));
  // Pausing etcd stops every renewal; the lease cannot expire meanwhile (etcd is not running), so
  // the node must give up on its own clock: within the TTL of the last renewal.
  const auto paused = std::chrono::steady_clock::now();
  etcd_->Pause(0);
  EXPECT_TRUE(WaitFor([&] { return !nodes[0]->IsLeader(); }, 2s));
  EXPECT_LT(std::chrono::steady_clock::now() - paused, 2s);
  EXPECT_FALSE(nodes[0]->View().reachable);
  EXPECT_NE(nodes[0]->State(), MemberState::kLeader);
  etcd_->Resume(0);
  // etcd back: a new session, and a new (larger) epoch.
  EXPECT_TRUE(WaitFor([&] { return nodes[0]->IsLeader(); }, 10s));
  EXPECT_TRUE(nodes[0]->View().reachable);
}

TEST_F(CoordinatorTest, UnreachableEtcdFailsStartNamingTheEndpoints) {
  ClusterConfig config = ConfigFor(*etcd_, "n1");
  config.etcd.endpoints = {"127.0.0.1:1"};  // nothing listens there
  config.etcd.connect_timeout = 500ms;
  auto coordinator = MakeEtcdCoordinator(config, NodeIdentity{"n1", config.advertise, "test"});
  const auto began = std::chrono::steady_clock::now();
  const Status started = coordinator->Start(nullptr);
  EXPECT_EQ(started.code(), StatusCode::kUnavailable);
  EXPECT_NE(started.message().find("127.0.0.1:1"), std::string::npos) << started.message();
  EXPECT_NE(started.message().find("cluster.etcd.connect_timeout"), std::string::npos) << started.message();
  EXPECT_LT(std::chrono::steady_clock::now() - began, 3s);
  EXPECT_FALSE(coordinator->IsLeader());
}

TEST_F(CoordinatorTest, WaitingForEtcdEndsWhenAskedToGiveUp) {
  ClusterConfig config = ConfigFor(*etcd_, "n1");
  config.etcd.endpoints = {"127.0.0.1:1"};
  config.etcd.wait_at_start = true;
  auto coordinator = MakeEtcdCoordinator(config, NodeIdentity{"n1", config.advertise, "test"});
  int asked = 0;
  const Status started = coordinator->Start([&] { return ++asked == 3; });
  EXPECT_EQ(started.code(), StatusCode::kUnavailable);
  EXPECT_EQ(asked, 3);
}

TEST_F(CoordinatorTest, AuthenticatesToAnEtcdWithAuthOn) {
  etcd_->Etcdctl({"user", "add", "root:secret-pw"});
  etcd_->Etcdctl({"user", "grant-role", "root", "root"});
  etcd_->Etcdctl({"auth", "enable"});
  goethe::testing::TempDir dir;
  ClusterConfig config = ConfigFor(*etcd_, "n1");
  config.etcd.username = "root";
  config.etcd.password_file = dir.WriteFile("password", "wrong\n");
  auto refused = MakeEtcdCoordinator(config, NodeIdentity{"n1", config.advertise, "test"});
  const Status wrong = refused->Start(nullptr);
  EXPECT_FALSE(wrong.ok());
  EXPECT_NE(wrong.message().find("Authenticate as root"), std::string::npos) << wrong.message();

  config.etcd.password_file = dir.WriteFile("password", "secret-pw\n");  // the newline is not part of it
  auto coordinator = MakeEtcdCoordinator(config, NodeIdentity{"n1", config.advertise, "test"});
  const Status started = coordinator->Start(nullptr);
  ASSERT_TRUE(started.ok()) << started.message();
  // Campaign and Watch carry the token too: the node leads and sees itself.
  EXPECT_TRUE(WaitFor([&] { return coordinator->IsLeader() && coordinator->View().members.size() == 1; }, 5s));
  coordinator->Stop();
}

TEST(CoordinatorThreeEtcdTest, LosingOneEtcdMemberChangesNothing) {
  std::string why;
  if (!EtcdCluster::Available(&why)) GTEST_SKIP() << why;
  EtcdCluster etcd(3);
  ASSERT_TRUE(etcd.WaitHealthy(20s));
  std::vector<std::unique_ptr<Coordinator>> nodes;
  // etcd's own election after its leader is killed (500 ms configured, well over a second seen on a
  // loaded CI machine) must fit in a session TTL with renewals to spare, as docs/cluster.md advises:
  // with 2 s, CI once saw etcd answer no renewal for 1.3 s and the leader step down, as it must.
  for (const char* name : {"n1", "n2"}) {
    ClusterConfig config = ConfigFor(etcd, name);
    config.session_ttl = 4s;
    nodes.push_back(MakeEtcdCoordinator(config, NodeIdentity{name, config.advertise, "test"}));
    nodes.back()->ReportProgress([] { return std::uint64_t{0}; });
    const Status started = nodes.back()->Start(nullptr);
    ASSERT_TRUE(started.ok()) << started.message();
  }
  ASSERT_TRUE(WaitFor([&] { return Leaders(nodes) == 1; }, 5s));
  const int leader = nodes[0]->IsLeader() ? 0 : 1;
  const std::uint64_t epoch = nodes[static_cast<std::size_t>(leader)]->LeaderEpoch();
  for (int member = 0; member < 3; ++member) {
    etcd.Kill(member);
    // Two TTLs with one etcd member gone: the leader never wavers.
    const auto until = std::chrono::steady_clock::now() + 8s;
    while (std::chrono::steady_clock::now() < until) {
      ASSERT_TRUE(nodes[static_cast<std::size_t>(leader)]->IsLeader()) << "etcd member " << member << " killed";
      ASSERT_EQ(nodes[static_cast<std::size_t>(leader)]->LeaderEpoch(), epoch);
      std::this_thread::sleep_for(20ms);
    }
    etcd.Restart(member);
    ASSERT_TRUE(etcd.WaitHealthy(20s));
  }
}

}  // namespace
}  // namespace goethe::cluster
