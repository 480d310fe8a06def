// PrivateTmpfs: a size-limited tmpfs, for filling a disk without root and without touching the
// machine's own mounts.
//
// A holder process makes a private user + mount namespace (`unshare -rm`), mounts a tmpfs of the
// given size at a directory and sleeps; a server started through Launcher() (nsenter into that
// namespace) stores its data there, and nothing outside sees the mount. Resize() remounts it, which
// is how "space returns". Where user namespaces or tmpfs mounts are not allowed, Mount() says why
// and the test skips.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/server_process.h"
#include "support/temp_dir.h"

namespace goethe::testing {

class PrivateTmpfs {
 public:
  static constexpr const char* kUnshare = "/usr/bin/unshare";
  static constexpr const char* kNsenter = "/usr/bin/nsenter";

  // Mounts a tmpfs of `size` (e.g. "8m") at `mount_point`, a directory it creates; null with
  // `why_not` set when this machine does not allow it.
  static std::unique_ptr<PrivateTmpfs> Mount(const TempDir& dir, const std::string& mount_point,
                                             const std::string& size, std::string* why_not) {
    if (access(kUnshare, X_OK) != 0 || access(kNsenter, X_OK) != 0) {
      *why_not = std::string("needs ") + kUnshare + " and " + kNsenter + " (util-linux)";
      return nullptr;
    }
    std::filesystem::create_directories(mount_point);
    const std::string ready = dir.Sub("tmpfs-mounted");
    // The holder ends by itself after 10 minutes, should a crashed test leave it behind.
    const pid_t holder = Spawn(kUnshare,
                               {"-rm", "/bin/sh", "-c",
                                "mount -t tmpfs -o size=\"$1\" tmpfs \"$2\" && touch \"$3\" && exec sleep 600", "sh",
                                size, mount_point, ready},
                               "", dir.Sub("tmpfs-holder.out"), dir.Sub("tmpfs-holder.err"));
    for (int i = 0; i < 500; ++i) {
      if (std::filesystem::exists(ready)) return std::unique_ptr<PrivateTmpfs>(new PrivateTmpfs(dir, holder, mount_point));
      if (WaitForExit(holder, std::chrono::milliseconds(10))) {
        *why_not = "cannot mount a tmpfs in a private namespace here: " + ReadWholeFile(dir.Sub("tmpfs-holder.err"));
        return nullptr;
      }
    }
    kill(holder, SIGKILL);
    WaitForExit(holder, std::chrono::seconds(5));
    *why_not = "the tmpfs holder did not get ready";
    return nullptr;
  }

  ~PrivateTmpfs() {
    kill(holder_, SIGKILL);
    WaitForExit(holder_, std::chrono::seconds(5));
  }
  PrivateTmpfs(const PrivateTmpfs&) = delete;
  PrivateTmpfs& operator=(const PrivateTmpfs&) = delete;

  // Runs a program inside the namespace, for ServerProcess's launcher.
  std::vector<std::string> Launcher() const {
    return {kNsenter, "-t", std::to_string(holder_), "-U", "-m", "--preserve-credentials"};
  }

  // Remounts the tmpfs with a new size; true when that worked.
  bool Resize(const std::string& size) const {
    const std::vector<std::string> launcher = Launcher();
    std::vector<std::string> args(launcher.begin() + 1, launcher.end());
    for (const std::string& arg : {std::string("mount"), std::string("-o"), "remount,size=" + size, mount_point_})
      args.push_back(arg);
    return RunCommand(dir_, kNsenter, args, "", std::chrono::seconds(30)).exit_code == 0;
  }

 private:
  PrivateTmpfs(const TempDir& dir, pid_t holder, std::string mount_point)
      : dir_(dir), holder_(holder), mount_point_(std::move(mount_point)) {}

  const TempDir& dir_;
  pid_t holder_;
  std::string mount_point_;
};

}  // namespace goethe::testing
