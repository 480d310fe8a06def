// What a process holds, from /proc: resident memory, threads, open file descriptors. The fault
// tests and the soak tool watch the server with it.
//
// RssAnon (heap, stacks) is what buffering shows up in; VmRSS also counts file pages mapped in,
// which for LMDB is the store itself and says nothing about leaks. VmHWM is the peak of VmRSS.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace goethe::testing {

struct ProcStats {
  std::uint64_t rss_kib = 0;       // VmRSS
  std::uint64_t rss_anon_kib = 0;  // RssAnon
  std::uint64_t peak_rss_kib = 0;  // VmHWM
  std::uint64_t threads = 0;
  std::uint64_t open_fds = 0;
  bool ok = false;  // false when the process is gone
};

inline ProcStats ReadProcStats(pid_t pid) {
  ProcStats stats;
  const std::string base = "/proc/" + std::to_string(pid);
  std::ifstream status(base + "/status");
  for (std::string line; std::getline(status, line);) {
    auto field = [&line](const char* name, std::uint64_t* out) {
      const std::string prefix = std::string(name) + ":";
      if (line.rfind(prefix, 0) == 0) *out = std::stoull(line.substr(prefix.size()));
    };
    field("VmRSS", &stats.rss_kib);
    field("RssAnon", &stats.rss_anon_kib);
    field("VmHWM", &stats.peak_rss_kib);
    field("Threads", &stats.threads);
    stats.ok = true;
  }
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(base + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++stats.open_fds;
  }
  return stats;
}

inline std::string Describe(const ProcStats& s) {
  return "rss " + std::to_string(s.rss_kib / 1024) + " MiB (anon " + std::to_string(s.rss_anon_kib / 1024) +
         " MiB, peak " + std::to_string(s.peak_rss_kib / 1024) + " MiB), " + std::to_string(s.threads) +
         " threads, " + std::to_string(s.open_fds) + " fds";
}

}  // namespace goethe::testing
