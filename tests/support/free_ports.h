// FreeLoopbackPorts: TCP ports on 127.0.0.1 for servers a test configures with a fixed port (etcd
// members, cluster nodes, which must keep their address across restarts).
//
// A port found free and then released can be taken before the server binds it, or while a killed
// node is down: by the kernel, for another process's outgoing connection or port-0 listener (both
// draw from the ephemeral range, ip_local_port_range), or by another test picking the same way. So
// ports come from below the ephemeral range, where the kernel never hands them out, and each is
// reserved for the life of the test process by an exclusive flock(2) on a file named after it in a
// directory all test processes share; a port counts as free only if it is unlocked and binds.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace goethe::testing {
namespace free_ports_internal {

// The kernel's ephemeral range, [low, high].
inline std::pair<int, int> EphemeralRange() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768;
  int high = 60999;
  if (!(in >> low >> high)) return {32768, 60999};
  return {low, high};
}

// The ports tests draw from: from 10000 (below live well-known services such as etcd's 2379 or
// Prometheus's 9090) to just below the ephemeral range, as scripts/free-ports.py does.
inline std::pair<int, int> ReservedRange() {
  constexpr int kFloor = 10000;
  const int ephemeral_low = EphemeralRange().first;
  if (ephemeral_low - 1 <= kFloor)
    throw std::runtime_error("no loopback ports below the ephemeral range, which starts at " +
                             std::to_string(ephemeral_low));
  return {kFloor, ephemeral_low - 1};
}

inline bool Binds(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket failed: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool bound = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  close(fd);
  return bound;
}

// This process's reservations: lock files held until it exits (closing one would release its port
// to other tests), and the mutex that makes picking safe from several threads.
struct Reservations {
  std::mutex mutex;
  std::vector<int> locks;
};
inline Reservations& Held() {
  static Reservations reservations;
  return reservations;
}

// An exclusive lock on `port`'s file, or -1 when it is held (by another test, or by this one for a
// port it already has: flock conflicts between open files, not between processes).
inline int TryLock(const std::filesystem::path& directory, int port) {
  const std::string file = (directory / std::to_string(port)).string();
  const int fd = open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) throw std::runtime_error("cannot open " + file + ": " + std::strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) == 0) return fd;
  close(fd);
  return -1;
}

// `count` ports, trying candidates in order from the `start`-th of the range.
inline std::vector<int> PickPorts(int count, int start) {
  Reservations& held = Held();
  const std::lock_guard<std::mutex> guard(held.mutex);
  const auto [first, last] = ReservedRange();
  const std::filesystem::path directory = std::filesystem::temp_directory_path() / "goethe-test-ports";
  std::filesystem::create_directories(directory);
  const int span = last - first + 1;
  std::vector<int> ports;
  for (int step = 0; step < span && static_cast<int>(ports.size()) < count; ++step) {
    const int port = first + (start + step) % span;
    const int lock = TryLock(directory, port);
    if (lock < 0) continue;
    if (!Binds(port)) {
      close(lock);
      continue;
    }
    held.locks.push_back(lock);
    ports.push_back(port);
  }
  if (static_cast<int>(ports.size()) < count)
    throw std::runtime_error("no free loopback port in " + std::to_string(first) + "-" + std::to_string(last));
  return ports;
}

}  // namespace free_ports_internal

// `count` distinct ports on 127.0.0.1, free now and reserved against other tests until this
// process exits. Candidates start at a random place, so concurrent tests rarely contend.
inline std::vector<int> FreeLoopbackPorts(int count) {
  return free_ports_internal::PickPorts(count, static_cast<int>(std::random_device{}() % 65536));
}

}  // namespace goethe::testing
