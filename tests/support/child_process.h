// What the helpers that start programs for tests share: reading a child's output file whole, and
// waiting (bounded) for a child to exit. server_process.h and etcd_process.h start their children
// each their own way (the server's files truncated, etcd's appended across restarts).
#pragma once

#include <sys/types.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

namespace goethe::testing {

// What follows `prefix` on its line of `output` (a server's "goethe-server http listening on
// 127.0.0.1:PORT"); empty when no line has it.
inline std::string LineAfter(const std::string& output, const std::string& prefix) {
  const std::size_t at = output.find(prefix);
  if (at == std::string::npos) return "";
  const std::size_t end = output.find('\n', at);
  return output.substr(at + prefix.size(), end == std::string::npos ? std::string::npos : end - at - prefix.size());
}

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Waits up to `timeout` for `pid`; its exit code (128 + signal when killed by one), or nullopt.
inline std::optional<int> WaitForExit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return -1;
    }
    if (done < 0) return -1;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace goethe::testing
