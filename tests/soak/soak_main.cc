// goethe-soak: a bounded soak run against a running goethe-server. Mixed load — unary and
// streaming producers, consumers on Consume streams, a seeker — for a set time; every event any
// consumer is given and, at the end, the whole topic are checked (order, no gap, no duplicate,
// payload intact, every acknowledged event where its producer was told). Prints a progress line
// with the server's memory every --report-seconds; exits 1 on any violation.
//
// usage: goethe-soak --address HOST:PORT [--seconds 600] [--server-pid PID] [--report-seconds 30]
//                    [--rate EVENTS_PER_SECOND] [--consumers 2]
// scripts/soak.sh builds it, starts a server on a temporary store and runs it.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "soak/soak_workers.h"
#include "support/proc_stats.h"

namespace goethe::soak {
namespace {

struct Flags {
  std::string address;
  double seconds = 600;
  int server_pid = 0;
  double report_seconds = 30;
  double rate = 2000;  // events per second, all producers together
  int consumers = 2;
};

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    const char* value = argv[i + 1];
    if (name == "--address") flags->address = value;
    else if (name == "--seconds") flags->seconds = std::atof(value);
    else if (name == "--server-pid") flags->server_pid = std::atoi(value);
    else if (name == "--report-seconds") flags->report_seconds = std::atof(value);
    else if (name == "--rate") flags->rate = std::atof(value);
    else if (name == "--consumers") flags->consumers = std::atoi(value);
    else return false;
  }
  return argc % 2 == 1 && !flags->address.empty() && flags->seconds > 0 && flags->rate > 0 &&
         flags->report_seconds > 0 && flags->consumers > 0;
}

std::string ServerLine(int pid) {
  if (pid <= 0) return "";
  const testing::ProcStats stats = testing::ReadProcStats(pid);
  return stats.ok ? "; server " + testing::Describe(stats) : "; server gone";
}

int Run(const Flags& flags) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(-1);
  auto stub = v1::Goethe::NewStub(grpc::CreateCustomChannel(flags.address, grpc::InsecureChannelCredentials(), arguments));
  v1::CreateTopicRequest create;
  create.set_topic(kTopic);
  v1::CreateTopicResponse created;
  const grpc::Status made = stub->CreateTopic(Within(std::chrono::seconds(30)).get(), create, &created);
  if (!made.ok() && made.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
    std::fprintf(stderr, "goethe-soak: cannot create topic %s at %s: %s\n", kTopic, flags.address.c_str(),
                 made.error_message().c_str());
    return 2;
  }

  Findings findings;
  std::vector<std::thread> producers;
  std::vector<std::thread> readers;
  constexpr std::uint32_t kUnaryProducers = 3;
  const double share = flags.rate / (kUnaryProducers + 1);
  for (std::uint32_t p = 0; p < kUnaryProducers; ++p) {
    producers.emplace_back([&, p] { RunUnaryProducer(*stub, p, share, findings); });
  }
  producers.emplace_back([&] { RunStreamProducer(*stub, kUnaryProducers, share, findings); });
  std::vector<std::atomic<std::uint64_t>> delivered(static_cast<std::size_t>(flags.consumers));
  for (int c = 0; c < flags.consumers; ++c) {
    readers.emplace_back([&, c] { RunConsumer(*stub, "soak-" + std::to_string(c), delivered[c], findings); });
  }
  readers.emplace_back([&] { RunSeeker(*stub, findings); });

  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  auto report = [&](const char* what) {
    std::uint64_t slowest = UINT64_MAX;
    for (const auto& d : delivered) slowest = std::min<std::uint64_t>(slowest, d.load());
    std::printf("soak %s t=%.0fs acknowledged=%llu refused=%llu delivered(slowest)=%llu seeks=%llu%s\n", what,
                elapsed(), static_cast<unsigned long long>(findings.ledger.acknowledged()),
                static_cast<unsigned long long>(findings.refused.load()), static_cast<unsigned long long>(slowest),
                static_cast<unsigned long long>(findings.seeks.load()), ServerLine(flags.server_pid).c_str());
    std::fflush(stdout);
    return slowest;
  };
  double next_report = flags.report_seconds;
  while (!findings.stop && elapsed() < flags.seconds) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (elapsed() >= next_report) {
      report("progress");
      next_report += flags.report_seconds;
    }
  }

  // Producers stop; consumers get until everything acknowledged has reached them (60 s at most).
  findings.stop_producing = true;
  for (std::thread& t : producers) t.join();
  const auto drain_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!findings.stop && report("draining") < findings.ledger.end() && std::chrono::steady_clock::now() < drain_deadline) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  if (!findings.stop && report("drained") < findings.ledger.end()) {
    findings.Violation("consumers did not receive every acknowledged event within 60 s of the end");
  }
  findings.stop = true;
  for (std::thread& t : readers) t.join();
  const std::uint64_t stored = findings.violations().empty() ? VerifyWholeTopic(*stub, findings) : 0;

  const std::vector<std::string> violations = findings.violations();
  std::printf("soak %s after %.0fs: %llu events acknowledged, %llu stored and verified, %llu seeks checked, "
              "%zu violation(s)%s\n",
              violations.empty() ? "PASSED" : "FAILED", elapsed(),
              static_cast<unsigned long long>(findings.ledger.acknowledged()), static_cast<unsigned long long>(stored),
              static_cast<unsigned long long>(findings.seeks.load()), violations.size(),
              ServerLine(flags.server_pid).c_str());
  for (std::size_t i = 0; i < violations.size() && i < 20; ++i) std::printf("violation: %s\n", violations[i].c_str());
  return violations.empty() ? 0 : 1;
}

}  // namespace
}  // namespace goethe::soak

int main(int argc, char** argv) {
  goethe::soak::Flags flags;
  if (!goethe::soak::ParseFlags(argc, argv, &flags)) {
    std::fprintf(stderr,
                 "usage: goethe-soak --address HOST:PORT [--seconds 600] [--server-pid PID] [--report-seconds 30] "
                 "[--rate EVENTS_PER_SECOND] [--consumers 2]\n");
    return 2;
  }
  return goethe::soak::Run(flags);
}
