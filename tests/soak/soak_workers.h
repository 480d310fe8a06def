// The soak run's workers, each on its own thread against one server: producers (unary and
// ProduceStream) of self-checking events (support/verified_payload.h), consumers on Consume
// streams that check every event they are given, and a seeker that checks Seek by offset and by
// time against what it reads. Every violation goes to the shared Findings.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "goethe/v1/goethe.grpc.pb.h"
#include "support/verified_payload.h"

namespace goethe::soak {

using testing::AckLedger;

inline constexpr const char* kTopic = "soak";

// What the workers share: the ledger, counters, violations and the stop flag.
struct Findings {
  AckLedger ledger;
  std::atomic<bool> stop_producing{false};  // the run's end: producers stop first
  std::atomic<bool> stop{false};            // then everyone (at once on a violation)
  std::atomic<std::uint64_t> produced{0};
  std::atomic<std::uint64_t> refused{0};  // produce calls the server failed (not violations)
  std::atomic<std::uint64_t> seeks{0};

  void Violation(const std::string& what);
  std::vector<std::string> violations() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> violations_;
};

std::unique_ptr<grpc::ClientContext> Within(std::chrono::milliseconds timeout);

// Unary Produce of batches of 10 at `events_per_second`, until stopped.
void RunUnaryProducer(v1::Goethe::Stub& stub, std::uint32_t producer, double events_per_second, Findings& findings);
// One ProduceStream of batches of 20 at `events_per_second`, until stopped.
void RunStreamProducer(v1::Goethe::Stub& stub, std::uint32_t producer, double events_per_second, Findings& findings);

// A Consume stream for consumer `name` from its cursor, acking every 100 events; `delivered` is
// one past the last offset it has checked. The stream ending before the run stops is a violation.
void RunConsumer(v1::Goethe::Stub& stub, const std::string& name, std::atomic<std::uint64_t>& delivered,
                 Findings& findings);

// Seeks to an acknowledged offset and to that event's time, about five times a second.
void RunSeeker(v1::Goethe::Stub& stub, Findings& findings);

// Reads the whole topic and checks it against the ledger; returns the number of events.
std::uint64_t VerifyWholeTopic(v1::Goethe::Stub& stub, Findings& findings);

}  // namespace goethe::soak
