// LocalCluster: a Goethe cluster for a test — real etcd (1 or 3 members, support/etcd_process.h)
// and N real goethe-server nodes on fixed free loopback ports, each with its own config and data
// dir, started and stopped by pid.
//
// A node must know the address it advertises before it starts, so unlike ServerProcess (which
// listens on port 0) every node gets a port picked up front. Nodes can be killed, stopped cleanly,
// paused (SIGSTOP) and resumed, and started again on the same data. Status(i) asks node i's
// ClusterStatus; WaitForLeader() waits until every running node names the same leader. Options add
// lines to the cluster: and cluster.etcd: sections (wait_at_start, say) of every node's config.
#pragma once

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "goethe/v1/goethe.grpc.pb.h"
#include "support/etcd_process.h"
#include "support/free_ports.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace goethe::testing {

// The end of `text` (a node's log), for a failure message.
inline std::string Tail(const std::string& text, std::size_t bytes = 6000) {
  return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
}

struct ClusterOptions {
  int nodes = 3;
  int etcd_members = 1;
  std::optional<EtcdClientTls> etcd_tls;  // etcd serves clients over TLS only (the nodes' tls: goes in extra_etcd)
  std::string backend = "leveldb";
  std::string session_ttl = "2s";
  std::string connect_timeout = "2s";  // cluster.etcd.connect_timeout
  bool sync = false;
  // More lines for the cluster: and cluster.etcd: sections, "key: value\n" each (indented here).
  std::string extra_cluster;
  std::string extra_etcd;  // e.g. "wait_at_start: true\n"
  // More lines for the replication: section; with one node, min_insync 1 comes first by default.
  std::string extra_replication;
  std::vector<std::string> backends;  // per node, to mix backends; empty: `backend` for all
  std::string key_order;               // engine.key_order of every node; empty: unset
  bool http = false;                   // each node also serves HTTP (server.http) on a port of its own
  std::string backend_of_node(int i) const {
    return i < static_cast<int>(backends.size()) ? backends[static_cast<std::size_t>(i)] : backend;
  }
};

class ClusterNode {
 public:
  ClusterNode(const TempDir& dir, std::string name, int port, std::string config_path)
      : dir_(dir), name_(std::move(name)), address_("127.0.0.1:" + std::to_string(port)),
        config_path_(std::move(config_path)) {}
  ~ClusterNode() { Kill(); }
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  // Starts the node and waits until it listens (it has joined the cluster by then); throws with
  // its output when it exits first or takes longer than `timeout`.
  void Start(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    Kill();
    const std::string base = dir_.Sub(name_ + "-" + std::to_string(++starts_));
    stdout_path_ = base + ".out";
    stderr_path_ = base + ".err";
    pid_ = Spawn(ServerBinary(), {"--config", config_path_}, "", stdout_path_, stderr_path_);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (ReadWholeFile(stdout_path_).find("goethe-server listening on ") != std::string::npos) return;
      if (std::optional<int> code = WaitForExit(pid_, std::chrono::milliseconds(0))) {
        pid_ = -1;
        exit_code_ = *code;
        throw std::runtime_error(name_ + " exited with " + std::to_string(*code) + " before serving: " + output());
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        Kill();
        throw std::runtime_error(name_ + " did not get ready in time: " + output());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  // Starts the node without waiting for it to serve (for nodes expected to fail or wait), with
  // `env` ("NAME=value") added to its environment.
  void Launch(const std::vector<std::string>& env = {}) {
    Kill();
    const std::string base = dir_.Sub(name_ + "-" + std::to_string(++starts_));
    stdout_path_ = base + ".out";
    stderr_path_ = base + ".err";
    std::vector<std::string> command = env;
    command.insert(command.end(), {ServerBinary(), "--config", config_path_});
    pid_ = Spawn("/usr/bin/env", command, "", stdout_path_, stderr_path_);
  }
  bool Serving() const { return ReadWholeFile(stdout_path_).find("goethe-server listening on ") != std::string::npos; }

  // SIGTERM and wait; the exit code (SIGKILL after `timeout`).
  int Stop(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    if (pid_ <= 0) return exit_code_;
    if (paused_) Resume();
    kill(pid_, SIGTERM);
    if (std::optional<int> code = WaitForExit(pid_, timeout)) {
      exit_code_ = *code;
      pid_ = -1;
      return exit_code_;
    }
    Kill();
    return exit_code_;
  }
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    exit_code_ = WaitForExit(pid_, std::chrono::seconds(10)).value_or(-1);
    pid_ = -1;
    paused_ = false;
  }
  // SIGTERM without waiting (Exited() waits for the end), e.g. to time what happens meanwhile.
  void Terminate() {
    if (pid_ <= 0) return;
    if (paused_) Resume();
    kill(pid_, SIGTERM);
  }
  void Pause() {
    if (pid_ > 0) kill(pid_, SIGSTOP);
    paused_ = true;
  }
  void Resume() {
    if (pid_ > 0) kill(pid_, SIGCONT);
    paused_ = false;
  }
  // The exit code when the node has exited by itself (it is then reaped), else nullopt.
  std::optional<int> Exited(std::chrono::milliseconds wait = std::chrono::milliseconds(0)) {
    if (pid_ <= 0) return exit_code_;
    std::optional<int> code = WaitForExit(pid_, wait);
    if (code) {
      exit_code_ = *code;
      pid_ = -1;
    }
    return code;
  }

  bool running() const { return pid_ > 0; }
  bool paused() const { return pid_ > 0 && paused_; }
  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }
  const std::string& address() const { return address_; }
  const std::string& config_path() const { return config_path_; }
  std::string output() const { return ReadWholeFile(stdout_path_) + ReadWholeFile(stderr_path_); }
  // Its HTTP address ("127.0.0.1:PORT") in its current start, when it serves HTTP; else empty.
  std::string http_address() const {
    return LineAfter(ReadWholeFile(stdout_path_), "goethe-server http listening on ");
  }
  // Its stderr, which is also its log (spdlog writes there), of its current or last start.
  std::string stderr_text() const { return ReadWholeFile(stderr_path_); }

 private:
  const TempDir& dir_;
  std::string name_;
  std::string address_;
  std::string config_path_;
  std::string stdout_path_;
  std::string stderr_path_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
  int starts_ = 0;
  bool paused_ = false;
};

class LocalCluster {
 public:
  explicit LocalCluster(ClusterOptions options = {})
      : options_(std::move(options)), etcd_(options_.etcd_members, options_.etcd_tls) {
    if (!etcd_.WaitHealthy(std::chrono::seconds(20))) throw std::runtime_error("etcd did not get healthy");
    const std::vector<int> ports = FreeLoopbackPorts(options_.nodes);
    for (int i = 0; i < options_.nodes; ++i) {
      const std::string name = "n" + std::to_string(i + 1);
      const std::string config = dir_.WriteFile(name + ".yaml", ConfigYaml(name, ports[static_cast<std::size_t>(i)]));
      nodes_.push_back(std::make_unique<ClusterNode>(dir_, name, ports[static_cast<std::size_t>(i)], config));
    }
  }

  // Every node is killed; a sanitizer report any of them wrote (in any of its starts) fails the
  // test: the cluster survives a node that a report stopped, so the test itself would not notice.
  ~LocalCluster() {
    for (auto& node : nodes_) node->Kill();
    for (const auto& file : std::filesystem::directory_iterator(dir_.path())) {
      if (file.path().extension() != ".err") continue;
      const std::string log = ReadWholeFile(file.path().string());
      for (const char* marker : {"WARNING: ThreadSanitizer", "ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                 "runtime error:"}) {
        const std::size_t at = log.find(marker);
        if (at != std::string::npos)
          ADD_FAILURE() << file.path().filename().string() << " holds a sanitizer report:\n" << log.substr(at, 6000);
      }
    }
  }
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  // Starts every node (in order) and waits for them to agree on a leader and for every node to be
  // in sync with it (replication: only then can any of them lead next).
  void StartAll() {
    for (auto& node : nodes_) node->Start();
    const int leader = WaitForLeader(std::chrono::seconds(15));
    if (leader < 0) throw std::runtime_error("no leader was agreed on");
    if (!WaitAllInSync(leader, std::chrono::seconds(15))) throw std::runtime_error("the nodes did not get in sync");
  }

  // Waits until node `leader`'s ClusterStatus lists every node as the leader or in sync.
  bool WaitAllInSync(int leader, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      std::optional<v1::ClusterStatusResponse> status = Status(leader);
      int in_sync = 0;
      if (status) {
        for (const v1::ClusterMember& member : status->members()) {
          in_sync += member.state() == v1::MEMBER_STATE_LEADER || member.state() == v1::MEMBER_STATE_IN_SYNC;
        }
      }
      if (in_sync == size()) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  std::string ConfigYaml(const std::string& name, int port) const {
    auto indent = [](const std::string& lines, const std::string& by) {
      std::string out;
      std::istringstream in(lines);
      for (std::string line; std::getline(in, line);) out += by + line + "\n";
      return out;
    };
    std::string etcd_endpoints;
    for (int i = 0; i < etcd_.size(); ++i) etcd_endpoints += (i ? ", " : "") + etcd_.endpoint(i);
    return "storage:\n"
           "  backend: " + options_.backend_of_node(std::stoi(name.substr(1)) - 1) + "\n"
           "  path: " + dir_.Sub(name + "-data") + "\n"
           "  sync: " + (options_.sync ? "true" : "false") + "\n"
           "  plugin_dir: " + PluginDir() + "\n"
           "engine:\n"
           "  retention_interval: 1h\n" +
           (options_.key_order.empty() ? std::string() : "  key_order: " + options_.key_order + "\n") +
           "server:\n"
           "  log_level: info\n"
           "  listen: 127.0.0.1:" + std::to_string(port) + "\n" + (options_.http ? "  http:\n    listen: 127.0.0.1:0\n" : "") +
           "cluster:\n"
           "  name: test\n"
           "  node: " + name + "\n"
           "  session_ttl: " + options_.session_ttl + "\n" + indent(options_.extra_cluster, "  ") +
           "  etcd:\n"
           "    endpoints: [" + etcd_endpoints + "]\n"
           "    connect_timeout: " + options_.connect_timeout + "\n" + indent(options_.extra_etcd, "    ") +
           "replication:\n" + (options_.nodes == 1 ? "  min_insync: 1\n" : "") +
           indent(options_.extra_replication.empty() ? "max_lag: 1s\n" : options_.extra_replication, "  ");
  }

  EtcdCluster& etcd() { return etcd_; }
  const TempDir& dir() const { return dir_; }
  int size() const { return static_cast<int>(nodes_.size()); }
  ClusterNode& node(int i) { return *nodes_.at(static_cast<std::size_t>(i)); }
  int IndexOf(const std::string& name) const {
    for (int i = 0; i < size(); ++i) {
      if (nodes_[static_cast<std::size_t>(i)]->name() == name) return i;
    }
    return -1;
  }
  // "a,b,c": every node's address, as goethe-cli --server takes it.
  std::string Addresses() const {
    std::string text;
    for (const auto& node : nodes_) text += (text.empty() ? "" : ",") + node->address();
    return text;
  }

  std::unique_ptr<v1::Goethe::Stub> Stub(int i) {
    return v1::Goethe::NewStub(grpc::CreateChannel(node(i).address(), grpc::InsecureChannelCredentials()));
  }

  // Node i's answer to ClusterStatus within 1 s; nullopt when it does not answer.
  std::optional<v1::ClusterStatusResponse> Status(int i) {
    auto stub = Stub(i);
    grpc::ClientContext call;
    call.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    v1::ClusterStatusResponse response;
    if (!stub->ClusterStatus(&call, v1::ClusterStatusRequest(), &response).ok()) return std::nullopt;
    return response;
  }

  // The events node i holds in `topic`, within 5 s; nullopt when it does not have the topic (or
  // does not answer).
  std::optional<std::uint64_t> EventsOn(int i, const std::string& topic) {
    auto stub = Stub(i);
    grpc::ClientContext call;
    call.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::DescribeTopicRequest request;
    request.set_topic(topic);
    v1::DescribeTopicResponse response;
    if (!stub->DescribeTopic(&call, request, &response).ok()) return std::nullopt;
    return response.topic().event_count();
  }

  // Every node's ClusterStatus (when it answers) and the last `tail_bytes` of its log, for
  // failure messages.
  std::string Describe(std::size_t tail_bytes = 6000) {
    std::string text;
    for (int i = 0; i < size(); ++i) {
      ClusterNode& n = node(i);
      text += "\n=== " + n.name() + " (" + n.address() + ")" + (n.running() ? "" : " not running") +
              (n.paused() ? " paused" : "") + " ===\n";
      if (n.running() && !n.paused()) {
        std::optional<v1::ClusterStatusResponse> status = Status(i);
        text += "status: " + (status ? status->ShortDebugString() : std::string("(no answer)")) + "\n";
      }
      text += Tail(n.output(), tail_bytes);
    }
    return text;
  }

  // Waits until every running, unpaused node names the same leader (also running, and not
  // `not_this` when given); its index, or -1 at the deadline.
  int WaitForLeader(std::chrono::milliseconds timeout, int not_this = -1) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (int leader = AgreedLeader(); leader >= 0 && leader != not_this) return leader;
      if (std::chrono::steady_clock::now() >= deadline) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // The leader every running, unpaused node names (itself running and unpaused), or -1 when they
  // do not all agree (or name none). A paused node cannot answer, so it is left out.
  int AgreedLeader() {
    std::string agreed;
    for (int i = 0; i < size(); ++i) {
      if (!node(i).running() || node(i).paused()) continue;
      std::optional<v1::ClusterStatusResponse> status = Status(i);
      if (!status || status->leader().empty()) return -1;
      if (!agreed.empty() && status->leader() != agreed) return -1;
      agreed = status->leader();
    }
    const int index = IndexOf(agreed);
    return index >= 0 && node(index).running() && !node(index).paused() ? index : -1;
  }

 private:
  ClusterOptions options_;
  TempDir dir_;
  EtcdCluster etcd_;
  std::vector<std::unique_ptr<ClusterNode>> nodes_;
};

}  // namespace goethe::testing
