// PrometheusProcess: a real Prometheus (Debian's `prometheus`) on a free loopback port, scraping
// one target every second with a bearer token when given, its data in the test's temp dir; Query()
// asks its HTTP API. Stopped by its pid (SIGTERM, then SIGKILL).
#pragma once

#include <signal.h>

#include <chrono>
#include <string>

#include "support/etcd_process.h"
#include "support/free_ports.h"
#include "support/http_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace goethe::testing {

class PrometheusProcess {
 public:
  PrometheusProcess(const TempDir& dir, const std::string& target, const std::string& token = "") {
    std::string config = "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n"
                         "  - job_name: goethe\n    static_configs:\n      - targets: [\"" + target + "\"]\n";
    if (!token.empty()) {
      config += "    authorization:\n      type: Bearer\n      credentials_file: " +
                dir.WriteFile("prometheus.token", token) + "\n";
    }
    const std::string config_path = dir.WriteFile("prometheus.yml", config);
    address_ = "127.0.0.1:" + std::to_string(FreeLoopbackPorts(1).front());
    log_path_ = dir.Sub("prometheus.log");
    pid_ = Spawn("/usr/bin/prometheus",
                 {"--config.file=" + config_path, "--storage.tsdb.path=" + dir.Sub("prometheus-data"),
                  "--web.listen-address=" + address_, "--log.level=warn"},
                 "", log_path_, log_path_);
  }
  ~PrometheusProcess() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    if (!WaitForExit(pid_, std::chrono::seconds(10))) {
      kill(pid_, SIGKILL);
      (void)WaitForExit(pid_, std::chrono::seconds(10));
    }
  }
  PrometheusProcess(const PrometheusProcess&) = delete;
  PrometheusProcess& operator=(const PrometheusProcess&) = delete;

  // The JSON answer of an instant query (`promql` URL-encoded here); empty when Prometheus does not answer.
  std::string Query(const std::string& promql) const {
    std::string encoded;
    for (unsigned char c : promql) {
      if (std::isalnum(c) || c == '_' || c == '-' || c == '.') {
        encoded += static_cast<char>(c);
      } else {
        char hex[4];
        std::snprintf(hex, sizeof hex, "%%%02X", c);
        encoded += hex;
      }
    }
    const HttpReply reply = HttpGet(address_, "/api/v1/query?query=" + encoded);
    return reply.status == 200 ? reply.body : "";
  }
  std::string log() const { return ReadWholeFile(log_path_); }

 private:
  std::string address_;
  std::string log_path_;
  pid_t pid_ = -1;
};

}  // namespace goethe::testing
