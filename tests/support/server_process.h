// ServerProcess: the real goethe-server binary, started for a test on a free loopback port with a
// config file written into the test's temp dir, and stopped by its pid.
//
// The server is started with `--listen 127.0.0.1:0`; the kernel picks a free port and the server
// prints "goethe-server listening on 127.0.0.1:PORT" once it serves, which Start() waits for.
// Stop() sends SIGTERM and waits for the exit, with SIGKILL if it does not come in time. A server
// still running when its ServerProcess is destroyed is stopped, and the test fails unless it exits
// with 0: a sanitizer report in the server (ThreadSanitizer exits 66, ASan/UBSan abort) fails the
// test even where the test does not check Stop() itself.
// RunCommand() runs any program (goethe-cli) to completion, bounded in time, and captures its output.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.h"
#include "support/plugins.h"
#include "support/temp_dir.h"

namespace goethe::testing {

inline std::string ServerBinary() { return GOETHE_SERVER_BINARY; }
inline std::string CliBinary() { return GOETHE_CLI_BINARY; }

// A config for `backend` with its data under `data_dir`, plugins from the build tree, and
// `extra_server` / `extra_engine` lines (each "key: value\n", indented here) added to those sections.
inline std::string ServerConfigYaml(const std::string& backend, const std::string& data_dir, bool sync = true,
                                    const std::string& extra_server = "", const std::string& extra_engine = "") {
  auto indent = [](const std::string& lines) {
    std::string out;
    std::istringstream in(lines);
    for (std::string line; std::getline(in, line);) out += "  " + line + "\n";
    return out;
  };
  return "storage:\n"
         "  backend: " + backend + "\n"
         "  path: " + data_dir + "\n"
         "  sync: " + (sync ? "true" : "false") + "\n"
         "  plugin_dir: " + PluginDir() + "\n"
         "engine:\n"
         "  retention_interval: 1h\n" + indent(extra_engine) +
         "server:\n"
         "  log_level: warn\n" + indent(extra_server);
}

// Starts `program` with `args`; stdin from `stdin_path` (or /dev/null), stdout and stderr into
// the given files. Returns the child's pid.
inline pid_t Spawn(const std::string& program, const std::vector<std::string>& args, const std::string& stdin_path,
                   const std::string& stdout_path, const std::string& stderr_path) {
  std::vector<std::string> argv_strings;
  argv_strings.push_back(program);
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // The child: only async-signal-safe calls until exec. It dies with the test process, so that
    // a crashed test leaves no server behind.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(125);
    const int in = open(stdin_path.empty() ? "/dev/null" : stdin_path.c_str(), O_RDONLY);
    const int out = open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    // A test runner may have blocked signals; the child starts with none blocked.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(program.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `program args...` with `stdin_text` as its input; killed after `timeout` (exit code -9).
inline CommandResult RunCommand(const TempDir& dir, const std::string& program, const std::vector<std::string>& args,
                                const std::string& stdin_text = "",
                                std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  static int counter = 0;
  const std::string base = "cmd-" + std::to_string(++counter);
  const std::string in = dir.WriteFile(base + ".in", stdin_text);
  const std::string out = dir.Sub(base + ".out");
  const std::string err = dir.Sub(base + ".err");
  const pid_t pid = Spawn(program, args, in, out, err);
  CommandResult result;
  if (std::optional<int> code = WaitForExit(pid, timeout)) {
    result.exit_code = *code;
  } else {
    kill(pid, SIGKILL);
    WaitForExit(pid, std::chrono::seconds(10));
    result.exit_code = -9;
  }
  result.out = ReadWholeFile(out);
  result.err = ReadWholeFile(err);
  return result;
}

class ServerProcess {
 public:
  // Starts goethe-server with `config_path` and waits until it serves. Throws with the server's
  // output when it exits or does not get ready within `timeout`. A `launcher` (a program and its
  // arguments, e.g. nsenter into a namespace) runs the server and must exec it, so pid() stays its.
  ServerProcess(const TempDir& dir, const std::string& config_path,
                std::chrono::milliseconds timeout = std::chrono::seconds(30),
                const std::vector<std::string>& launcher = {})
      : stdout_path_(dir.Sub("server-" + std::to_string(++Starts()) + ".out")),
        stderr_path_(stdout_path_ + ".err") {
    std::vector<std::string> command = launcher;
    for (const std::string& arg : {ServerBinary(), std::string("--config"), config_path, std::string("--listen"),
                                   std::string("127.0.0.1:0")}) {
      command.push_back(arg);
    }
    pid_ = Spawn(command.front(), {command.begin() + 1, command.end()}, "", stdout_path_, stderr_path_);
    const std::string ready = "goethe-server listening on ";
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const std::string out = ReadWholeFile(stdout_path_);
      if (const std::size_t at = out.find(ready); at != std::string::npos) {
        const std::size_t end = out.find('\n', at);
        if (end != std::string::npos) {
          address_ = out.substr(at + ready.size(), end - at - ready.size());
          return;
        }
      }
      if (std::optional<int> code = WaitForExit(pid_, std::chrono::milliseconds(0))) {
        pid_ = -1;
        throw std::runtime_error("goethe-server exited with " + std::to_string(*code) + " before serving: " +
                                 ReadWholeFile(stderr_path_));
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        Kill();
        throw std::runtime_error("goethe-server did not get ready in time: " + ReadWholeFile(stderr_path_));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  ~ServerProcess() {
    if (pid_ <= 0) return;
    if (const int code = Stop(); code != 0) {
      ADD_FAILURE() << "goethe-server exited with " << code << " when stopped: " << output();
    }
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // "127.0.0.1:PORT"
  const std::string& address() const { return address_; }
  // Where its HTTP listener (server.http) listens, "127.0.0.1:PORT"; empty when it has none. The
  // server prints it with the gRPC address, so it is known once the server serves.
  std::string http_address() const {
    return LineAfter(ReadWholeFile(stdout_path_), "goethe-server http listening on ");
  }
  pid_t pid() const { return pid_; }
  std::string output() const { return ReadWholeFile(stdout_path_) + ReadWholeFile(stderr_path_); }

  // SIGTERM, then waits; SIGKILL after `timeout`. Returns the exit code (128 + signal if killed).
  int Stop(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    if (pid_ <= 0) return exit_code_;
    kill(pid_, SIGTERM);
    if (std::optional<int> code = WaitForExit(pid_, timeout)) {
      exit_code_ = *code;
      pid_ = -1;
      return exit_code_;
    }
    Kill();
    return exit_code_;
  }

  // SIGKILL and reap.
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    exit_code_ = WaitForExit(pid_, std::chrono::seconds(10)).value_or(-1);
    pid_ = -1;
  }

 private:
  static int& Starts() {
    static int starts = 0;
    return starts;
  }

  std::string stdout_path_;
  std::string stderr_path_;
  pid_t pid_ = -1;
  std::string address_;
  int exit_code_ = -1;
};

}  // namespace goethe::testing
