// goethe-cli against a real cluster (support/cluster_fixture.h: real etcd and three goethe-server
// nodes on loopback): `cluster status`, --server with several addresses finding the leader, following
// it across a SIGKILL, a follower named alone refusing a produce with the leader's address, and
// which produces are sent again when the leader dies with one under way; goethe-bench's produce-unary
// following the leader too. Every wait is bounded.
//
// Every acknowledged event is replicated to the in-sync nodes, so where a produce landed is seen in
// the leader's answer and in every node holding it, not in which node holds it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <google/protobuf/util/json_util.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "support/cluster_fixture.h"

namespace goethe::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The CLI's --failover-timeout in these tests (its default), and a bound on any one CLI run.
constexpr auto kFailoverTimeout = 15s;
constexpr auto kCliBound = 45s;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Whether process `pid` holds an established TCP connection to `port` on loopback: its socket
// inodes matched against /proc/net/tcp and tcp6 (gRPC connects to 127.0.0.1 through an IPv6 socket
// with the IPv4-mapped address).
bool HasConnectionTo(pid_t pid, int port) {
  std::set<std::string> inodes;
  const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
  if (DIR* dir = opendir(fd_dir.c_str())) {
    while (dirent* entry = readdir(dir)) {
      char target[256];
      const ssize_t size = readlink((fd_dir + "/" + entry->d_name).c_str(), target, sizeof target - 1);
      if (size <= 0) continue;
      const std::string link(target, static_cast<std::size_t>(size));
      if (link.rfind("socket:[", 0) == 0) inodes.insert(link.substr(8, link.size() - 9));
    }
    closedir(dir);
  }
  char remote_port[16];
  std::snprintf(remote_port, sizeof remote_port, ":%04X", port);
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream tcp(table);
    std::string line;
    std::getline(tcp, line);  // the header
    while (std::getline(tcp, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
      const bool loopback =
          remote.rfind("0100007F:", 0) == 0 || remote.rfind("0000000000000000FFFF00000100007F:", 0) == 0;
      if (loopback && remote.size() >= 5 && remote.compare(remote.size() - 5, 5, remote_port) == 0 && state == "01" &&
          inodes.count(inode) > 0)
        return true;
    }
  }
  return false;
}

template <typename Predicate>
bool Within(std::chrono::milliseconds timeout, Predicate done) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// Whether every thread of `pid` has stopped (SIGSTOP). The kernel stops a process's threads one
// after the other; until the last has, one of them may still serve a request.
bool AllThreadsStopped(pid_t pid) {
  const std::string task_dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* dir = opendir(task_dir.c_str());
  if (dir == nullptr) return false;
  bool stopped = true;
  int threads = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    ++threads;
    const std::string stat = ReadWholeFile(task_dir + "/" + entry->d_name + "/stat");
    const std::size_t paren = stat.rfind(')');  // "tid (comm) S ...": the state follows the name
    if (paren == std::string::npos || paren + 2 >= stat.size() || (stat[paren + 2] != 'T' && stat[paren + 2] != 't'))
      stopped = false;
  }
  closedir(dir);
  return stopped && threads > 0;
}

class CliClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why_not;
    if (!EtcdCluster::Available(&why_not)) GTEST_SKIP() << why_not;
    cluster_ = std::make_unique<LocalCluster>();
    cluster_->StartAll();
  }

  LocalCluster& cluster() { return *cluster_; }
  std::string Address(int i) { return cluster().node(i).address(); }

  CommandResult Cli(const std::vector<std::string>& args, const std::string& stdin_text = "") {
    return RunCommand(cluster().dir(), CliBinary(), args, stdin_text, kCliBound);
  }

  // The agreed leader's index, once every node lists all three members; fails the test after 15 s.
  int FullyAgreedLeader() {
    const auto deadline = Clock::now() + 15s;
    for (;;) {
      const int leader = cluster().AgreedLeader();
      bool complete = leader >= 0;
      for (int i = 0; complete && i < cluster().size(); ++i) {
        std::optional<v1::ClusterStatusResponse> status = cluster().Status(i);
        complete = status && status->members_size() == cluster().size();
      }
      if (complete) return leader;
      if (Clock::now() >= deadline) {
        ADD_FAILURE() << "the nodes did not agree on a leader with every member listed";
        return -1;
      }
      std::this_thread::sleep_for(50ms);
    }
  }

  // SIGSTOP to node `i`, and waits (bounded) until all of its threads have stopped.
  void PauseFully(int i) {
    cluster().node(i).Pause();
    ASSERT_TRUE(Within(5s, [&] { return AllThreadsStopped(cluster().node(i).pid()); }))
        << cluster().node(i).name() << " did not stop";
  }

  // Every address, `first` first and the others in order.
  std::string AddressesFrom(int first) {
    std::string text = Address(first);
    for (int i = 0; i < cluster().size(); ++i) {
      if (i != first) text += "," + Address(i);
    }
    return text;
  }

  // The agreed leader other than `old`, within the failover bound; -1 when none.
  int NewLeader(int old) { return cluster().WaitForLeader(std::chrono::milliseconds(kFailoverTimeout), old); }

  std::unique_ptr<LocalCluster> cluster_;
};

// (a) Any node prints the whole cluster; --json is protobuf's JSON of the response.
TEST_F(CliClusterTest, ClusterStatusOnAnyNodeListsEveryMemberAndTheLeader) {
  const int leader = FullyAgreedLeader();
  ASSERT_GE(leader, 0);
  const ClusterNode& chief = cluster().node(leader);
  for (int i = 0; i < cluster().size(); ++i) {
    const CommandResult status = Cli({"--server", Address(i), "cluster", "status"});
    ASSERT_EQ(status.exit_code, 0) << status.err;
    EXPECT_THAT(status.out, HasSubstr("cluster:  test\n"));
    EXPECT_THAT(status.out, HasSubstr("node:     " + cluster().node(i).name() + " "));
    EXPECT_THAT(status.out, HasSubstr("leader:   " + chief.name() + " at " + chief.address() + "\n"));
    EXPECT_THAT(status.out, HasSubstr("etcd:     reachable\n"));
    EXPECT_THAT(status.out, ::testing::MatchesRegex("(.|\n)*epoch:    [1-9][0-9]*\n(.|\n)*"));
    // The table: a header and one row per member, its state in lower case.
    const std::vector<std::string> lines = Lines(status.out);
    const auto header =
        std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("NAME", 0) == 0; });
    ASSERT_NE(header, lines.end()) << status.out;
    EXPECT_THAT(*header, ::testing::MatchesRegex("NAME +ADDRESS +STATE +APPLIED +BEHIND +UPDATED"));
    ASSERT_EQ(lines.end() - header, 4) << status.out;
    for (int m = 0; m < cluster().size(); ++m) {
      const ClusterNode& member = cluster().node(m);
      const std::string row = *(header + 1 + m);  // in name order: n1, n2, n3
      EXPECT_THAT(row, ::testing::StartsWith(member.name() + " "));
      EXPECT_THAT(row, HasSubstr(" " + member.address() + " "));
      // A follower is in sync at once here (nothing written yet), unless caught still registering.
      EXPECT_THAT(row, ::testing::MatchesRegex(m == leader ? ".* leader .*" : ".* (in_sync|starting) .*"));
      EXPECT_THAT(row, ::testing::MatchesRegex(".* [0-9]+ +[0-9]+ +[0-9]+\\.[0-9]s ago"));
    }
  }

  const CommandResult json = Cli({"--server", Address((leader + 1) % 3), "--json", "cluster", "status"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  ASSERT_EQ(Lines(json.out).size(), 1u) << json.out;
  v1::ClusterStatusResponse parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.out, &parsed).ok()) << json.out;
  EXPECT_TRUE(parsed.clustered());
  EXPECT_EQ(parsed.cluster(), "test");
  EXPECT_EQ(parsed.node(), cluster().node((leader + 1) % 3).name());
  EXPECT_EQ(parsed.leader(), chief.name());
  EXPECT_EQ(parsed.leader_address(), chief.address());
  EXPECT_GT(parsed.epoch(), 0u);
  EXPECT_TRUE(parsed.coordinator_reachable());
  ASSERT_EQ(parsed.members_size(), 3);
  EXPECT_EQ(parsed.members(leader).state(), v1::MEMBER_STATE_LEADER);
  EXPECT_THAT(json.out, HasSubstr("\"leader_address\":\"" + chief.address() + "\""));  // proto field names
}

// (a) A single node is not a cluster, and says so.
TEST(CliSingleNodeTest, ClusterStatusSaysNotClustered) {
  TempDir dir;
  const std::string config = dir.WriteFile("goethe.yaml", ServerConfigYaml("leveldb", dir.Sub("data"), false));
  ServerProcess server(dir, config);
  const CommandResult text =
      RunCommand(dir, CliBinary(), {"--server", server.address(), "cluster", "status"}, "", kCliBound);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, ::testing::StartsWith("not clustered: "));
  const CommandResult json =
      RunCommand(dir, CliBinary(), {"--server", server.address(), "cluster", "status", "--json"}, "", kCliBound);
  ASSERT_EQ(json.exit_code, 0) << json.err;
  v1::ClusterStatusResponse parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.out, &parsed).ok()) << json.out;
  EXPECT_FALSE(parsed.clustered());
  EXPECT_THAT(json.out, HasSubstr("\"clustered\":false"));
  // Several addresses with a single node among them: it is the one to use.
  const CommandResult produced =
      RunCommand(dir, CliBinary(), {"--server", "127.0.0.1:1," + server.address(), "produce", "t", "x"}, "", kCliBound);
  EXPECT_EQ(produced.exit_code, 0) << produced.err;
}

// (b) With every address, a produce (and a read) goes to the leader, though a follower comes first.
TEST_F(CliClusterTest, ProduceWithEveryAddressLandsOnTheLeaderEvenWithAFollowerFirst) {
  const int leader = FullyAgreedLeader();
  ASSERT_GE(leader, 0);
  const int follower = (leader + 1) % 3;
  const CommandResult produced = Cli({"--server", AddressesFrom(follower), "produce", "orders", "a", "b"});
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  EXPECT_THAT(produced.out, HasSubstr("orders  0  "));
  EXPECT_THAT(produced.out, HasSubstr("orders  1  "));
  EXPECT_EQ(cluster().EventsOn(leader, "orders"), std::optional<std::uint64_t>(2));
  for (int i = 0; i < 3; ++i) {  // replicated: every node holds them (the followers a moment later)
    EXPECT_TRUE(Within(5s, [&] { return cluster().EventsOn(i, "orders") == std::optional<std::uint64_t>(2); }))
        << cluster().node(i).name();
  }
  // Reads go to the leader too.
  const CommandResult consumed = Cli({"--server", AddressesFrom(follower), "consume", "orders"});
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  EXPECT_EQ(Lines(consumed.out).size(), 2u) << consumed.out;
  // So do admin commands (a topic change is a write).
  const CommandResult created = Cli({"--server", AddressesFrom(follower), "topics", "create", "audit"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_TRUE(cluster().EventsOn(leader, "audit").has_value());
}

// (c) After the leader's SIGKILL, a produce given every address waits out the election and lands on
// the new leader, within the failover timeout.
TEST_F(CliClusterTest, ProduceFollowsTheLeaderAcrossAFailover) {
  const int old_leader = FullyAgreedLeader();
  ASSERT_GE(old_leader, 0);
  cluster().node(old_leader).Kill();
  const auto killed = Clock::now();
  // The dead leader first; the followers still name it until its session expires.
  const CommandResult produced = Cli({"--server", AddressesFrom(old_leader), "produce", "orders", "after-failover"});
  const auto took = Clock::now() - killed;
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  EXPECT_LT(took, kFailoverTimeout);
  EXPECT_THAT(produced.out, HasSubstr("orders  0  "));
  const int new_leader = NewLeader(old_leader);
  ASSERT_GE(new_leader, 0);
  EXPECT_EQ(cluster().EventsOn(new_leader, "orders"), std::optional<std::uint64_t>(1));
  std::printf("[ cli ] produce accepted by the new leader %lld ms after the old one's SIGKILL\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
}

// (d) Given a follower alone, the CLI does not look further: the refusal names the leader.
TEST_F(CliClusterTest, ProduceToAFollowerAloneFailsNamingTheLeader) {
  const int leader = FullyAgreedLeader();
  ASSERT_GE(leader, 0);
  const int follower = (leader + 2) % 3;
  const auto start = Clock::now();
  const CommandResult produced = Cli({"--server", Address(follower), "produce", "orders", "x"});
  EXPECT_LT(Clock::now() - start, 10s);  // no failover wait with one address
  EXPECT_EQ(produced.exit_code, 1);
  EXPECT_THAT(produced.err, ::testing::StartsWith("error: UNAVAILABLE: not the leader"));
  EXPECT_THAT(produced.err, HasSubstr(cluster().node(leader).name() + " at " + Address(leader)));
  EXPECT_EQ(Lines(produced.err).size(), 1u) << produced.err;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(cluster().EventsOn(i, "orders"), std::nullopt) << "it was written somewhere";
}

// A client (goethe-cli, or `program`) running while the test acts on the cluster: its stdin held
// open on a FIFO until Close(). For a produce on its way to a leader that dies: the leader is
// paused once the CLI is connected to it, the produce is sent into the paused leader's socket, and
// SIGKILL ends it with an UNAVAILABLE that says nothing about whether it was written.
class InFlightClient {
 public:
  InFlightClient(LocalCluster& cluster, std::vector<std::string> args, const std::string& program = CliBinary())
      : fifo_(cluster.dir().Sub("stdin.fifo")) {
    if (mkfifo(fifo_.c_str(), 0600) != 0) throw std::runtime_error("mkfifo failed");
    // Never blocks (a FIFO opened for reading and writing); not inherited, so that the CLI sees the
    // end of its input once this closes.
    writer_ = open(fifo_.c_str(), O_RDWR | O_CLOEXEC);
    out_ = cluster.dir().Sub("in-flight.out");
    err_ = cluster.dir().Sub("in-flight.err");
    pid_ = Spawn(program, args, fifo_, out_, err_);
  }
  ~InFlightClient() {
    Close();
    if (!exit_code_) {
      kill(pid_, SIGKILL);
      WaitForExit(pid_, 10s);
    }
    unlink(fifo_.c_str());
  }

  void Write(const std::string& text) {
    ASSERT_EQ(write(writer_, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
  void Close() {
    if (writer_ >= 0) close(writer_);
    writer_ = -1;
  }
  pid_t pid() const { return pid_; }
  std::string out() const { return ReadWholeFile(out_); }
  std::string err() const { return ReadWholeFile(err_); }
  std::optional<int> Wait(std::chrono::milliseconds timeout) {
    if (!exit_code_) exit_code_ = WaitForExit(pid_, timeout);
    return exit_code_;
  }

 private:
  std::string fifo_;
  int writer_ = -1;
  std::string out_;
  std::string err_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

int PortOf(const std::string& address) { return std::stoi(address.substr(address.rfind(':') + 1)); }

// (e) With --idempotency-key, a produce whose leader died with it under way is sent again, to the
// new leader, and succeeds once there; a retry then is a duplicate. (That a key the old leader
// acknowledged protects on the new one too is cluster_test's: the records are replicated.)
TEST_F(CliClusterTest, ProduceWithAnIdempotencyKeyIsSentAgainAcrossAFailover) {
  const int old_leader = FullyAgreedLeader();
  ASSERT_GE(old_leader, 0);
  // With a key, stdin is one produce, sent at EOF.
  InFlightClient produce(cluster(), {"--server", AddressesFrom(old_leader), "produce", "orders", "--idempotency-key",
                                      "order-7"});
  produce.Write("first\nsecond\n");
  ASSERT_TRUE(Within(10s, [&] { return HasConnectionTo(produce.pid(), PortOf(Address(old_leader))); }))
      << "goethe-cli did not connect to the leader: " << produce.err();
  std::this_thread::sleep_for(300ms);  // its ClusterStatus calls done: it waits for stdin's end
  ASSERT_NO_FATAL_FAILURE(PauseFully(old_leader));
  produce.Close();
  std::this_thread::sleep_for(500ms);  // the produce goes into the paused leader's socket
  cluster().node(old_leader).Kill();
  const std::optional<int> code = produce.Wait(kCliBound);
  ASSERT_TRUE(code.has_value()) << "goethe-cli did not finish";
  ASSERT_EQ(*code, 0) << produce.err();
  EXPECT_THAT(produce.out(), HasSubstr("orders  0  "));
  EXPECT_THAT(produce.out(), HasSubstr("orders  1  "));
  const int new_leader = NewLeader(old_leader);
  ASSERT_GE(new_leader, 0);
  EXPECT_EQ(cluster().EventsOn(new_leader, "orders"), std::optional<std::uint64_t>(2));
  // Sent once more, to the new leader: a duplicate, nothing written.
  const CommandResult again = Cli({"--server", cluster().Addresses(), "produce", "orders", "--idempotency-key",
                                   "order-7", "first", "second"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("duplicate"));
  EXPECT_EQ(cluster().EventsOn(new_leader, "orders"), std::optional<std::uint64_t>(2));
}

// Without a key the same produce is not sent again (it may have been written): the error, and a
// note that the outcome is unknown.
TEST_F(CliClusterTest, ProduceWithoutAKeyIsNotSentAgainWhenItsOutcomeIsUnknown) {
  const int old_leader = FullyAgreedLeader();
  ASSERT_GE(old_leader, 0);
  // One produce per stdin line: the first proves the connection to the leader, the second is cut.
  InFlightClient produce(cluster(), {"--server", AddressesFrom(old_leader), "produce", "orders", "--batch", "1"});
  produce.Write("first\n");
  ASSERT_TRUE(Within(10s, [&] { return produce.out().find("orders  0  ") != std::string::npos; }))
      << "the first produce did not land: " << produce.err();
  ASSERT_NO_FATAL_FAILURE(PauseFully(old_leader));
  produce.Write("second\n");
  std::this_thread::sleep_for(500ms);  // the produce goes into the paused leader's socket
  cluster().node(old_leader).Kill();
  produce.Close();
  const std::optional<int> code = produce.Wait(kCliBound);
  ASSERT_TRUE(code.has_value()) << "goethe-cli did not finish";
  EXPECT_EQ(*code, 1) << produce.out() << produce.err();
  EXPECT_THAT(produce.err(), ::testing::StartsWith("error: UNAVAILABLE: "));
  EXPECT_THAT(produce.err(), HasSubstr("note: the outcome is unknown"));
  EXPECT_THAT(produce.out(), Not(HasSubstr("orders  1  ")));
  const int new_leader = NewLeader(old_leader);
  ASSERT_GE(new_leader, 0);
  // The first produce was replicated before it was acknowledged; the second was never sent again.
  EXPECT_EQ(cluster().EventsOn(new_leader, "orders"), std::optional<std::uint64_t>(1));
}

// goethe-bench with every address, a follower first, runs against the leader; its produce-unary
// follows the new leader across a SIGKILL and sends each cut-off call again with the event's
// idempotency key, so every event is stored once: the topic ends with exactly --events.
TEST_F(CliClusterTest, BenchProduceUnaryFollowsTheLeaderAcrossAFailoverAndStoresEveryEventOnce) {
#ifndef GOETHE_BENCH_BINARY
  GTEST_SKIP() << "goethe-bench is not built here (GOETHE_BUILD_BENCH=OFF)";
#else
  const int old_leader = FullyAgreedLeader();
  ASSERT_GE(old_leader, 0);
  constexpr std::uint64_t kEvents = 4000;
  InFlightClient bench(cluster(),
                       {"--server", AddressesFrom((old_leader + 1) % 3), "--topic", "bench-failover", "produce-unary",
                        "--events", std::to_string(kEvents), "--concurrency", "4"},
                       GOETHE_BENCH_BINARY);
  ASSERT_TRUE(Within(30s, [&] { return cluster().EventsOn(old_leader, "bench-failover").value_or(0) >= 300; }))
      << "goethe-bench did not produce on the leader: " << bench.err();
  cluster().node(old_leader).Kill();
  ASSERT_FALSE(bench.Wait(0ms).has_value()) << "the run ended before the failover: " << bench.err();
  const std::optional<int> code = bench.Wait(60s);
  ASSERT_TRUE(code.has_value()) << "goethe-bench did not finish: " << bench.err();
  ASSERT_EQ(*code, 0) << bench.err();
  EXPECT_THAT(bench.out(), HasSubstr("RESULT peer=goethe test=produce-unary-c4 "));
  EXPECT_THAT(bench.out(), HasSubstr(" n=" + std::to_string(kEvents) + " "));
  EXPECT_THAT(bench.err(), HasSubstr("calls sent again after a failover"));
  const int new_leader = NewLeader(old_leader);
  ASSERT_GE(new_leader, 0);
  EXPECT_EQ(cluster().EventsOn(new_leader, "bench-failover"), std::optional<std::uint64_t>(kEvents)) << bench.err();
#endif
}

}  // namespace
}  // namespace goethe::testing
