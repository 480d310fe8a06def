// support/free_ports.h: ports for fixed-port servers come from outside the kernel's ephemeral range,
// and one test process's ports are never handed to another while it lives.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "support/free_ports.h"

namespace goethe::testing {
namespace {

TEST(FreePortsTest, PortsAreDistinctBindableAndOutsideTheEphemeralRange) {
  const auto [low, high] = free_ports_internal::EphemeralRange();
  const std::vector<int> ports = FreeLoopbackPorts(20);
  ASSERT_EQ(ports.size(), 20u);
  EXPECT_EQ(std::set<int>(ports.begin(), ports.end()).size(), ports.size());
  for (const int port : ports) {
    EXPECT_TRUE(port < low || port > high) << port << " is in the ephemeral range " << low << "-" << high;
    EXPECT_GE(port, 10000);
    EXPECT_TRUE(free_ports_internal::Binds(port)) << port;
  }
}

TEST(FreePortsTest, AnotherProcessStartingAtTheSameCandidateGetsOtherPorts) {
  // Without the reservation both would get the same free ports: they try the same candidates.
  const int start = 12345;
  const std::vector<int> mine = free_ports_internal::PickPorts(5, start);
  int pipe_ends[2];
  ASSERT_EQ(pipe(pipe_ends), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pipe_ends[0]);
    const std::vector<int> theirs = free_ports_internal::PickPorts(5, start);
    const bool written = write(pipe_ends[1], theirs.data(), theirs.size() * sizeof(int)) ==
                         static_cast<ssize_t>(theirs.size() * sizeof(int));
    _exit(written ? 0 : 1);
  }
  close(pipe_ends[1]);
  std::vector<int> theirs(5);
  const ssize_t got = read(pipe_ends[0], theirs.data(), theirs.size() * sizeof(int));
  close(pipe_ends[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(got, static_cast<ssize_t>(theirs.size() * sizeof(int)));
  for (const int port : theirs) {
    EXPECT_EQ(std::set<int>(mine.begin(), mine.end()).count(port), 0u) << port << " was given to both processes";
  }
}

TEST(FreePortsTest, ThisProcessIsNotGivenAPortTwice) {
  const std::vector<int> first = free_ports_internal::PickPorts(3, 23456);
  const std::vector<int> second = free_ports_internal::PickPorts(3, 23456);
  for (const int port : second) EXPECT_EQ(std::set<int>(first.begin(), first.end()).count(port), 0u) << port;
}

}  // namespace
}  // namespace goethe::testing
