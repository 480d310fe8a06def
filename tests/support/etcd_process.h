// EtcdCluster: real etcd (1 or 3 members) on loopback for a test, each member a process started
// with fork+exec and stopped by its pid.
//
// Every member gets a free loopback client port and peer port and its own data dir in a fresh
// directory, on /dev/shm where there is one: a member's data dir costs ~125 MB even when empty, as
// etcd preallocates its 64 MB WAL segment and, in the background, the next one (wal/0.tmp). Neither
// --max-wals nor --snapshot-count changes that (tried: --max-wals 1 --snapshot-count 10 keeps both
// files; they only bound the files kept once a test has written past 64 MB), so they keep their
// defaults. --quota-backend-bytes is small (64 MiB); the
// bbolt file itself grows only with what is stored. Each member's stdout and stderr are appended to
// its own log file there, one section per start, which Log() returns for a failing test to print.
//
// WaitHealthy() polls http://127.0.0.1:PORT/health of every running member (a GET over a plain
// socket) until each answers {"health":"true"}; etcd answers that only with a leader elected and a
// quorum read through raft done. A cluster made with EtcdClientTls serves its clients over TLS
// only, asking for a client certificate; its /health is then polled on a plain metrics port.
// Kill(), Stop(), Restart(), Pause() and Resume() act on one member; a restarted member keeps its
// data dir (etcd then ignores the --initial-cluster flags). Etcdctl() runs /usr/bin/etcdctl against
// the members, bounded in time. The destructor kills every member
// still running and removes the directory.
//
// Children start here as in server_process.h, except that output is appended to one file (so a
// member's restarts keep its earlier log) and the child's environment can be adjusted; reading
// output and waiting for exits are child_process.h's, shared with it.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "support/child_process.h"
#include "support/free_ports.h"

namespace goethe::testing {

namespace etcd_internal {

// Starts `command` (a program's path and its arguments) with stdin from /dev/null and stdout and
// stderr appended to the given files (one file when both are the same). The child gets this
// process's environment without the variables whose names start with `drop_env_prefix`, plus
// `add_env` ("NAME=value"). It dies with the test process. Returns its pid.
inline pid_t Spawn(const std::vector<std::string>& command, const std::string& drop_env_prefix,
                   const std::vector<std::string>& add_env, const std::string& stdout_path,
                   const std::string& stderr_path) {
  std::vector<std::string> argv_strings = command;
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view variable(*entry);
    if (drop_env_prefix.empty() || variable.substr(0, drop_env_prefix.size()) != drop_env_prefix) {
      env_strings.emplace_back(variable);
    }
  }
  env_strings.insert(env_strings.end(), add_env.begin(), add_env.end());
  std::vector<char*> envp;
  for (std::string& variable : env_strings) envp.push_back(variable.data());
  envp.push_back(nullptr);

  // Opened here, so that a bad path is an exception and not an exit code; close-on-exec, so that
  // no other child inherits them (dup2 clears the flag on the child's 0, 1 and 2).
  std::vector<int> fds;
  auto close_all = [&fds] {
    for (const int fd : fds) close(fd);
  };
  auto open_or_throw = [&](const std::string& path, int flags) {
    const int fd = open(path.c_str(), flags | O_CLOEXEC, 0644);
    if (fd < 0) {
      const std::string why = std::strerror(errno);
      close_all();
      throw std::runtime_error("cannot open " + path + ": " + why);
    }
    fds.push_back(fd);
    return fd;
  };
  const int in = open_or_throw("/dev/null", O_RDONLY);
  const int out = open_or_throw(stdout_path, O_WRONLY | O_CREAT | O_APPEND);
  const int err = stderr_path == stdout_path ? out : open_or_throw(stderr_path, O_WRONLY | O_CREAT | O_APPEND);

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    close_all();
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    // The child: only async-signal-safe calls until exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(125);
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(126);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close_all();
  return pid;
}

// One GET of http://127.0.0.1:PORT/health within `timeout`; true when the answer is 200 with
// "health":"true". `answer` gets the answer's body, or why there is none.
inline bool HealthCheck(int port, std::chrono::milliseconds timeout, std::string* answer) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *answer = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  // The time left, as the socket's send (and connect) and receive timeout; false once none is left.
  auto limit = [&] {
    const auto left =
        std::chrono::duration_cast<std::chrono::microseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(left.count() / 1000000);
    tv.tv_usec = static_cast<suseconds_t>(left.count() % 1000000);
    return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 &&
           setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0;
  };
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (!limit()) {
    *answer = "no time left";
    return false;
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    *answer = errno == EINPROGRESS ? "no connection in time" : std::string("connect: ") + std::strerror(errno);
    return false;
  }
  const std::string request =
      "GET /health HTTP/1.0\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\nConnection: close\r\n\r\n";
  for (std::size_t sent = 0; sent < request.size();) {
    const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      *answer = std::string("send: ") + std::strerror(errno);
      return false;
    }
    sent += static_cast<std::size_t>(n);
  }
  // The answer ends at its Content-Length, or else where the server closes the connection: etcd was
  // seen to keep a connection made while it started open for seconds after answering on it.
  std::string response;
  auto complete = [&response] {
    const std::size_t end = response.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    std::string headers = response.substr(0, end);
    for (char& c : headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string field = "\r\ncontent-length:";
    const std::size_t at = headers.find(field);
    return at != std::string::npos &&
           response.size() >= end + 4 + std::strtoull(headers.c_str() + at + field.size(), nullptr, 10);
  };
  char buffer[1024];
  while (!complete()) {
    if (!limit()) {
      *answer = "no complete answer in time: " + response;
      return false;
    }
    const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      *answer = (errno == EAGAIN || errno == EWOULDBLOCK ? std::string("no answer in time")
                                                         : std::string("recv: ") + std::strerror(errno)) +
                (response.empty() ? "" : " after: " + response);
      return false;
    }
    response.append(buffer, static_cast<std::size_t>(n));
    if (response.size() > 65536) break;
  }
  const std::size_t body = response.find("\r\n\r\n");
  *answer = body == std::string::npos ? response : response.substr(body + 4);
  const std::string status = response.substr(0, response.find("\r\n"));
  return status.find(" 200") != std::string::npos && answer->find("\"health\":\"true\"") != std::string::npos;
}

}  // namespace etcd_internal

// Serving clients over TLS (etcd's --cert-file, --key-file, --trusted-ca-file, --client-cert-auth):
// the members' certificate and key (for 127.0.0.1), the CA that signed it and that a client's
// certificate must chain to, and the client certificate and key etcdctl presents.
struct EtcdClientTls {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
  std::string etcdctl_cert_file;
  std::string etcdctl_key_file;
};

class EtcdCluster {
 public:
  static constexpr const char* kEtcd = "/usr/bin/etcd";
  static constexpr const char* kEtcdctl = "/usr/bin/etcdctl";

  // Whether etcd and etcdctl are installed here; `why_not` says what is missing, for GTEST_SKIP.
  static bool Available(std::string* why_not) {
    for (const char* program : {kEtcd, kEtcdctl}) {
      if (access(program, X_OK) != 0) {
        *why_not = std::string("needs ") + program + " (the etcd-server and etcd-client packages)";
        return false;
      }
    }
    return true;
  }

  // Starts `members` members (1 or 3; any number from 1 works) as a new cluster; does not wait for
  // them: WaitHealthy() does.
  explicit EtcdCluster(int members = 1, std::optional<EtcdClientTls> tls = std::nullopt) : tls_(std::move(tls)) {
    if (members < 1) throw std::invalid_argument("an etcd cluster needs at least one member");
    std::string why_not;
    if (!Available(&why_not)) throw std::runtime_error(why_not);
    const std::filesystem::path base = access("/dev/shm", W_OK | X_OK) == 0
                                           ? std::filesystem::path("/dev/shm")
                                           : std::filesystem::temp_directory_path();
    std::string pattern = (base / "goethe-etcd-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed in " + base.string());
    dir_ = pattern;
    try {
      // The directory's random suffix and the pid: no two clusters share a token, so that a member
      // that reached another test's cluster would be refused.
      token_ = "goethe-test-" + std::to_string(getpid()) + "-" + dir_.filename().string();
      const int per_member = tls_ ? 3 : 2;
      const std::vector<int> ports = FreeLoopbackPorts(per_member * members);
      for (int i = 0; i < members; ++i) {
        Member member;
        member.name = "n" + std::to_string(i + 1);
        member.client_port = ports[static_cast<std::size_t>(per_member * i)];
        member.peer_port = ports[static_cast<std::size_t>(per_member * i + 1)];
        member.health_port = tls_ ? ports[static_cast<std::size_t>(per_member * i + 2)] : member.client_port;
        member.data_dir = (dir_ / member.name).string();
        member.log_path = (dir_ / (member.name + ".log")).string();
        members_.push_back(member);
        initial_cluster_ += (i == 0 ? "" : ",") + member.name + "=" + PeerUrl(member);
      }
      for (int i = 0; i < members; ++i) StartMember(i, "new");
    } catch (...) {
      KillAllAndRemove();
      throw;
    }
  }

  ~EtcdCluster() { KillAllAndRemove(); }
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  int size() const { return static_cast<int>(members_.size()); }
  // The directory holding the members' data dirs and logs.
  const std::filesystem::path& dir() const { return dir_; }
  // "127.0.0.1:C1,127.0.0.1:C2,..." for every member, running or not.
  std::string endpoints() const {
    std::string all;
    for (int i = 0; i < size(); ++i) all += (i == 0 ? "" : ",") + endpoint(i);
    return all;
  }
  // "127.0.0.1:C" of member i (0-based; etcd knows it as n<i+1>).
  std::string endpoint(int i) const { return "127.0.0.1:" + std::to_string(At(i).client_port); }
  // The endpoints of the members running now.
  std::string running_endpoints() {
    std::string some;
    for (int i = 0; i < size(); ++i) {
      if (running(i)) some += (some.empty() ? "" : ",") + endpoint(i);
    }
    return some;
  }
  int client_port(int i) const { return At(i).client_port; }
  int peer_port(int i) const { return At(i).peer_port; }
  std::string name(int i) const { return At(i).name; }
  // The member's pid, or -1 when it is not running.
  pid_t pid(int i) {
    running(i);
    return At(i).pid;
  }

  // Whether member i runs (paused counts as running). Notices a member that ended by itself.
  bool running(int i) {
    Member& member = At(i);
    if (member.pid <= 0) return false;
    if (std::optional<int> code = WaitForExit(member.pid, std::chrono::milliseconds(0))) {
      member.pid = -1;
      member.paused = false;
      member.exit_code = *code;
      member.exited_by_itself = true;
      return false;
    }
    return true;
  }

  // Waits until every running member answers {"health":"true"} on /health; members the test killed
  // or stopped are left out, a paused one is waited for. Fails at once when a member ends by itself,
  // and after `timeout` otherwise, with the members' last answers and logs.
  ::testing::AssertionResult WaitHealthy(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + timeout;
    std::vector<int> waiting;
    for (int i = 0; i < size(); ++i) {
      if (running(i)) {
        waiting.push_back(i);
      } else if (members_[static_cast<std::size_t>(i)].exited_by_itself) {
        return ExitedFailure(i);
      }
    }
    if (waiting.empty()) return ::testing::AssertionFailure() << "no etcd member is running";
    std::vector<std::string> answers(members_.size());
    for (;;) {
      for (auto it = waiting.begin(); it != waiting.end();) {
        const int i = *it;
        if (!running(i)) return ExitedFailure(i);
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        // etcd gives its own quorum read up to 1 s; a paused member holds the connection open.
        const auto probe = std::clamp(left, std::chrono::milliseconds(50), std::chrono::milliseconds(2000));
        if (etcd_internal::HealthCheck(At(i).health_port, probe, &answers[static_cast<std::size_t>(i)])) {
          it = waiting.erase(it);
        } else {
          ++it;
        }
      }
      if (waiting.empty()) return ::testing::AssertionSuccess();
      if (std::chrono::steady_clock::now() >= deadline) {
        ::testing::AssertionResult failure = ::testing::AssertionFailure();
        failure << "etcd not healthy within " << timeout.count() << " ms:";
        for (const int i : waiting) {
          failure << "\n  " << Describe(i) << (At(i).paused ? " (paused)" : "")
                  << ": last answer: " << answers[static_cast<std::size_t>(i)];
        }
        for (const int i : waiting) failure << "\n" << LogSection(i);
        return failure;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // SIGKILL and reap. Returns the exit code (128 + 9), or that of an earlier end; -1 if never ended.
  int Kill(int i) {
    Member& member = At(i);
    if (!running(i)) return member.exit_code.value_or(-1);
    kill(member.pid, SIGKILL);
    Ended(member, WaitForExit(member.pid, std::chrono::seconds(10)).value_or(-1));
    return *member.exit_code;
  }

  // SIGTERM (and SIGCONT, should it be paused), then waits; SIGKILL after `timeout`. Returns the exit
  // code: etcd ends a SIGTERM by re-raising it, so 128 + 15 when it stopped in time.
  int Stop(int i, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    Member& member = At(i);
    if (!running(i)) return member.exit_code.value_or(-1);
    kill(member.pid, SIGTERM);
    kill(member.pid, SIGCONT);
    if (std::optional<int> code = WaitForExit(member.pid, timeout)) {
      Ended(member, *code);
      return *code;
    }
    return Kill(i);
  }

  // Starts member i again, on its ports and data dir, after Kill() or Stop() (or its own end).
  void Restart(int i) {
    if (running(i)) throw std::logic_error("EtcdCluster::Restart: " + Describe(i) + " is still running");
    // With its data dir in place etcd restarts the member from it and ignores the --initial-cluster
    // flags; "existing" says so, and would join the running cluster should the data dir be gone.
    StartMember(i, "existing");
  }

  // SIGSTOP, and waits (bounded) until the member has stopped; SIGCONT.
  void Pause(int i) {
    Member& member = At(i);
    if (!running(i)) throw std::logic_error("EtcdCluster::Pause: " + Describe(i) + " is not running");
    kill(member.pid, SIGSTOP);
    member.paused = true;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
      int status = 0;
      const pid_t done = waitpid(member.pid, &status, WNOHANG | WUNTRACED);
      if (done == member.pid && WIFSTOPPED(status)) return;
      if (done == member.pid) {
        Ended(member, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        member.exited_by_itself = true;
        throw std::runtime_error("EtcdCluster::Pause: " + Describe(i) + " ended instead");
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        throw std::runtime_error("EtcdCluster::Pause: " + Describe(i) + " did not stop within 5 s");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  void Resume(int i) {
    Member& member = At(i);
    if (!running(i)) throw std::logic_error("EtcdCluster::Resume: " + Describe(i) + " is not running");
    kill(member.pid, SIGCONT);
    member.paused = false;
  }

  // Everything member i wrote to stdout and stderr, over all its starts.
  std::string Log(int i) const { return ReadWholeFile(At(i).log_path); }

  struct EtcdctlResult {
    int exit_code = -1;  // -9 when it was killed for taking too long
    std::string out;
    std::string err;
  };

  // Runs `etcdctl --endpoints=E args...` with ETCDCTL_API=3 (and no other ETCDCTL_ variable of the
  // test's environment), E being `endpoints` or else every member; killed after `timeout`.
  EtcdctlResult RunEtcdctl(const std::vector<std::string>& args, const std::string& endpoints = "",
                           std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::vector<std::string> command = {kEtcdctl, "--endpoints=" + (endpoints.empty() ? this->endpoints() : endpoints)};
    if (tls_) {
      command.insert(command.end(), {"--cacert=" + tls_->ca_file, "--cert=" + tls_->etcdctl_cert_file,
                                     "--key=" + tls_->etcdctl_key_file});
    }
    command.insert(command.end(), args.begin(), args.end());
    const std::string base = (dir_ / ("etcdctl-" + std::to_string(++etcdctl_runs_))).string();
    const pid_t pid = etcd_internal::Spawn(command, "ETCDCTL_", {"ETCDCTL_API=3"}, base + ".out", base + ".err");
    EtcdctlResult result;
    if (std::optional<int> code = WaitForExit(pid, timeout)) {
      result.exit_code = *code;
    } else {
      kill(pid, SIGKILL);
      WaitForExit(pid, std::chrono::seconds(10));
      result.exit_code = -9;
    }
    result.out = ReadWholeFile(base + ".out");
    result.err = ReadWholeFile(base + ".err");
    return result;
  }

  // etcdctl against every member; its stdout. A failure or a run past 10 s fails the test (with
  // etcdctl's stderr) and returns what it printed: RunEtcdctl() is for runs that may fail.
  std::string Etcdctl(const std::vector<std::string>& args) {
    const EtcdctlResult result = RunEtcdctl(args);
    if (result.exit_code != 0) {
      std::string line;
      for (const std::string& arg : args) line += " " + arg;
      ADD_FAILURE() << "etcdctl" << line
                    << (result.exit_code == -9 ? " did not finish within 10 s"
                                               : " exited with " + std::to_string(result.exit_code))
                    << ": " << result.err;
    }
    return result.out;
  }

 private:
  struct Member {
    std::string name;  // n1, n2, ...
    int client_port = 0;
    int peer_port = 0;
    int health_port = 0;  // the client port, or with TLS a plain metrics port serving /health
    std::string data_dir;
    std::string log_path;
    pid_t pid = -1;
    bool paused = false;
    int starts = 0;
    std::optional<int> exit_code;   // of the last run, once it ended
    bool exited_by_itself = false;  // that run ended without Kill() or Stop()
  };

  Member& At(int i) {
    if (i < 0 || i >= size()) {
      throw std::out_of_range("no etcd member " + std::to_string(i) + " in a cluster of " + std::to_string(size()));
    }
    return members_[static_cast<std::size_t>(i)];
  }
  const Member& At(int i) const { return const_cast<EtcdCluster*>(this)->At(i); }

  static std::string PeerUrl(const Member& member) { return "http://127.0.0.1:" + std::to_string(member.peer_port); }
  std::string ClientUrl(const Member& member) const {
    return (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(member.client_port);
  }
  std::string Describe(int i) const { return "etcd member " + At(i).name + " (" + endpoint(i) + ")"; }
  std::string LogSection(int i) const { return "--- log of " + Describe(i) + " ---\n" + Log(i); }

  static void Ended(Member& member, int code) {
    member.pid = -1;
    member.paused = false;
    member.exit_code = code;
    member.exited_by_itself = false;
  }

  ::testing::AssertionResult ExitedFailure(int i) const {
    return ::testing::AssertionFailure() << Describe(i) << " exited by itself with " << At(i).exit_code.value_or(-1)
                                         << "\n" << LogSection(i);
  }

  void StartMember(int i, const std::string& cluster_state) {
    Member& member = At(i);
    ++member.starts;
    std::ofstream(member.log_path, std::ios::app)
        << "=== EtcdCluster: " << member.name << ", start " << member.starts << " ===\n";
    std::vector<std::string> command = {
        kEtcd, "--name", member.name, "--data-dir", member.data_dir, "--listen-client-urls", ClientUrl(member),
        "--advertise-client-urls", ClientUrl(member), "--listen-peer-urls", PeerUrl(member),
        "--initial-advertise-peer-urls", PeerUrl(member), "--initial-cluster", initial_cluster_,
        "--initial-cluster-state", cluster_state, "--initial-cluster-token", token_, "--heartbeat-interval", "50",
        "--election-timeout", "500", "--pre-vote=true", "--quota-backend-bytes", std::to_string(64 << 20),
        "--logger", "zap", "--log-level", "warn"};
    if (tls_) {
      command.insert(command.end(), {"--cert-file", tls_->cert_file, "--key-file", tls_->key_file, "--trusted-ca-file",
                                     tls_->ca_file, "--client-cert-auth", "--listen-metrics-urls",
                                     "http://127.0.0.1:" + std::to_string(member.health_port)});
    }
    // ETCD_ variables of the test's environment would configure the member too (or clash with flags).
    member.pid = etcd_internal::Spawn(command, "ETCD_", {}, member.log_path, member.log_path);
    member.paused = false;
    member.exit_code.reset();
    member.exited_by_itself = false;
  }

  void KillAllAndRemove() {
    for (Member& member : members_) {
      if (member.pid <= 0) continue;
      kill(member.pid, SIGKILL);
      WaitForExit(member.pid, std::chrono::seconds(10));
      member.pid = -1;
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  std::optional<EtcdClientTls> tls_;
  std::filesystem::path dir_;
  std::string token_;
  std::string initial_cluster_;
  std::vector<Member> members_;
  int etcdctl_runs_ = 0;
};

}  // namespace goethe::testing
