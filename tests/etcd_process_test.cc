// support/etcd_process.h: real etcd on loopback starts healthy, stores keys through etcdctl, keeps
// serving without one of three members and takes it back, and leaves no process or directory behind.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "support/etcd_process.h"

namespace goethe::testing {
namespace {

using namespace std::chrono_literals;

class EtcdProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why_not;
    if (!EtcdCluster::Available(&why_not)) GTEST_SKIP() << why_not;
  }

  static long long MillisecondsSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  }
};

TEST_F(EtcdProcessTest, OneMemberStartsHealthyAndStoresAKey) {
  const auto start = std::chrono::steady_clock::now();
  EtcdCluster etcd(1);
  ASSERT_TRUE(etcd.WaitHealthy(5s));
  std::printf("[ etcd ] 1 member healthy after %lld ms\n", MillisecondsSince(start));
  EXPECT_EQ(etcd.endpoints(), etcd.endpoint(0));
  EXPECT_EQ(etcd.Etcdctl({"put", "k", "v"}), "OK\n");
  EXPECT_EQ(etcd.Etcdctl({"get", "k", "--print-value-only"}), "v\n");
}

TEST_F(EtcdProcessTest, ThreeMembersServeWithoutOneAndTakeItBack) {
  const auto start = std::chrono::steady_clock::now();
  EtcdCluster etcd(3);
  ASSERT_TRUE(etcd.WaitHealthy(10s));
  std::printf("[ etcd ] 3 members healthy after %lld ms\n", MillisecondsSince(start));
  EXPECT_EQ(etcd.endpoints(), etcd.endpoint(0) + "," + etcd.endpoint(1) + "," + etcd.endpoint(2));
  EXPECT_EQ(etcd.Etcdctl({"put", "before", "1"}), "OK\n");

  etcd.Kill(0);
  EXPECT_FALSE(etcd.running(0));
  EXPECT_TRUE(etcd.running(1));
  // The two left elect a leader (n1 may have been it) before they answer healthy.
  const auto killed = std::chrono::steady_clock::now();
  ASSERT_TRUE(etcd.WaitHealthy(10s));
  std::printf("[ etcd ] 2 of 3 members healthy %lld ms after a kill\n", MillisecondsSince(killed));
  const std::string remaining = etcd.endpoint(1) + "," + etcd.endpoint(2);
  EXPECT_EQ(etcd.running_endpoints(), remaining);
  const EtcdCluster::EtcdctlResult put = etcd.RunEtcdctl({"put", "while-down", "2"}, remaining);
  EXPECT_EQ(put.exit_code, 0) << put.err;
  EXPECT_EQ(put.out, "OK\n");

  const auto restarted = std::chrono::steady_clock::now();
  etcd.Restart(0);
  ASSERT_TRUE(etcd.WaitHealthy(10s));
  std::printf("[ etcd ] restarted member healthy after %lld ms\n", MillisecondsSince(restarted));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(etcd.running(i)) << i;
  // The restarted member alone: it caught up on what was written while it was down.
  const EtcdCluster::EtcdctlResult get =
      etcd.RunEtcdctl({"get", "while-down", "--print-value-only"}, etcd.endpoint(0));
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out, "2\n");
  EXPECT_NE(etcd.Log(0).find("start 2"), std::string::npos) << etcd.Log(0);
}

TEST_F(EtcdProcessTest, PauseStopRestartAndTheDestructorLeaveNothingBehind) {
  std::filesystem::path dir;
  pid_t pid = -1;
  {
    EtcdCluster etcd(1);
    dir = etcd.dir();
    ASSERT_TRUE(etcd.WaitHealthy(5s));
    EXPECT_TRUE(std::filesystem::is_directory(dir / "n1" / "member")) << dir;
    EXPECT_EQ(etcd.Etcdctl({"put", "k", "kept"}), "OK\n");

    etcd.Pause(0);
    EXPECT_TRUE(etcd.running(0));
    const ::testing::AssertionResult paused = etcd.WaitHealthy(300ms);
    EXPECT_FALSE(paused);
    EXPECT_NE(std::string(paused.message()).find("(paused)"), std::string::npos) << paused.message();
    etcd.Resume(0);
    ASSERT_TRUE(etcd.WaitHealthy(5s));

    EXPECT_EQ(etcd.Stop(0), 128 + SIGTERM) << etcd.Log(0);
    EXPECT_FALSE(etcd.running(0));
    EXPECT_FALSE(etcd.WaitHealthy(100ms)) << "no member runs";
    etcd.Restart(0);
    ASSERT_TRUE(etcd.WaitHealthy(5s));
    EXPECT_EQ(etcd.Etcdctl({"get", "k", "--print-value-only"}), "kept\n");

    // The destructor kills a paused member too.
    etcd.Pause(0);
    pid = etcd.pid(0);
    ASSERT_GT(pid, 0);
  }
  EXPECT_FALSE(std::filesystem::exists(dir)) << dir;
  EXPECT_EQ(kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

}  // namespace
}  // namespace goethe::testing
