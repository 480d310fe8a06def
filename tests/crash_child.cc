// The crash test's victim: appends batches with sync on as fast as it can and reports each
// acknowledged append on stdout, until the parent kills it with SIGKILL.
//
//   engine_crash_child PLUGIN_FILE STORE_DIR RUN_ID SEED THREADS [multi]
//
// Prints "READY" once the log is open, then "ACK <first_offset> <count>" after every append that
// returned OK (one write(2) per line, so that nothing sits in a buffer when the kill comes).
// Batch ids are RUN_ID * 10^7 + thread * 10^6 + n, unique across the parent's rounds.
// With `multi`, every append goes to all of kCrashTopics at once, atomically, each part with its
// own size and every event with a key and headers; the ACK names the part of the first topic.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "goethe/engine/event_log.h"
#include "goethe/engine/plugin_loader.h"
#include "support/crash_payload.h"

namespace {

void WriteLine(const std::string& line) {
  std::string text = line + "\n";
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n <= 0) std::_Exit(3);  // the parent went away
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "engine_crash_child: %s\n", what.c_str());
  std::_Exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace goethe;
  if (argc != 6 && argc != 7) Die("usage: engine_crash_child PLUGIN_FILE STORE_DIR RUN_ID SEED THREADS [multi]");
  const bool multi = argc == 7 && std::string(argv[6]) == "multi";
  const std::string plugin_file = argv[1];
  const std::string store_dir = argv[2];
  const std::uint64_t run_id = std::strtoull(argv[3], nullptr, 10);
  const std::uint64_t seed = std::strtoull(argv[4], nullptr, 10);
  const int threads = std::atoi(argv[5]);

  auto plugin = BackendPlugin::LoadFile(plugin_file, "crash child");
  if (!plugin.ok()) Die(plugin.status().ToString());
  auto store = plugin->Open(store_dir, {});
  if (!store.ok()) Die(store.status().ToString());
  EventLogOptions options;
  options.sync = true;
  options.clock = [] {
    return static_cast<TimestampNs>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
  };
  auto log = EventLog::Open(store.value(), options);
  if (!log.ok()) Die(log.status().ToString());
  for (const char* topic : testing::kCrashTopics) {
    auto created = log.value()->CreateTopic(topic, {});
    if (!created.ok() && created.status().code() != StatusCode::kAlreadyExists) Die(created.status().ToString());
  }
  WriteLine("READY");

  EventLog* events = log.value().get();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([=] {
      std::mt19937_64 rng(seed * 1000 + t);
      for (std::uint64_t n = 0;; ++n) {
        const std::uint64_t batch = run_id * 10'000'000 + t * 1'000'000 + n;
        const auto size = static_cast<std::uint32_t>(1 + rng() % 20);
        if (!multi) {
          AppendRequest request;
          request.topic = testing::kCrashTopic;
          for (std::uint32_t i = 0; i < size; ++i) request.payloads.push_back(testing::EncodeCrashEvent({batch, i, size}));
          AppendOutcome outcome = events->Append(std::move(request));
          if (!outcome.status.ok()) Die("append failed: " + outcome.status.ToString());
          WriteLine("ACK " + std::to_string(outcome.result.first_offset) + " " + std::to_string(size));
          continue;
        }
        MultiAppendRequest request;
        for (std::size_t t = 0; t < std::size(testing::kCrashTopics); ++t) {
          AppendRequest& part = request.parts.emplace_back();
          part.topic = testing::kCrashTopics[t];
          const std::uint32_t part_size = testing::CrashPartSize(size, t);
          for (std::uint32_t i = 0; i < part_size; ++i) {
            part.payloads.push_back(testing::EncodeCrashEvent({batch, i, part_size}));
            part.attributes.push_back(testing::CrashAttributes(batch, i));
          }
        }
        MultiAppendOutcome outcome = events->AppendMulti(std::move(request));
        if (!outcome.status.ok()) Die("append across topics failed: " + outcome.status.ToString());
        WriteLine("ACK " + std::to_string(outcome.parts[0].result.first_offset) + " " + std::to_string(size));
      }
    });
  }
  for (std::thread& w : workers) w.join();  // never: the parent kills us
  return 0;
}
