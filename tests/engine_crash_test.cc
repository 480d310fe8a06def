// Crash safety: a child process appends with sync on while this test kills it with SIGKILL at a
// random moment, then reopens the store and checks that every acknowledged append is there, that
// offsets have no gaps or duplicates and that no batch is visible in part. The same store is used
// for every round, so later rounds also recover from the earlier crashes.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <iterator>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "goethe/engine/event_log.h"
#include "goethe/engine/plugin_loader.h"
#include "support/crash_payload.h"
#include "support/plugins.h"
#include "support/temp_dir.h"

extern char** environ;

namespace goethe {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kMaxRounds = 25;
constexpr auto kBackendBudget = std::chrono::seconds(55);
constexpr int kWriterThreads = 4;

struct Ack {
  std::uint64_t first_offset;
  std::uint32_t count;
};

// One run of the child: spawn, wait for READY, let it append for `run_for`, SIGKILL it, and
// collect every ACK line it wrote before it died.
struct ChildRun {
  bool ready = false;
  bool killed_by_sigkill = false;
  std::vector<Ack> acks;
  std::string error;
};

ChildRun RunChild(const std::vector<std::string>& args, milliseconds run_for) {
  ChildRun run;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    run.error = "pipe failed";
    return run;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (spawned != 0) {
    ::close(fds[0]);
    run.error = "posix_spawn failed: " + std::string(strerror(spawned));
    return run;
  }

  std::string buffer;
  auto parse_lines = [&] {
    std::size_t nl;
    while ((nl = buffer.find('\n')) != std::string::npos) {
      const std::string line = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      if (line == "READY") {
        run.ready = true;
        continue;
      }
      std::istringstream in(line);
      std::string word;
      Ack ack{};
      if (in >> word >> ack.first_offset >> ack.count && word == "ACK") {
        run.acks.push_back(ack);
      } else if (run.error.empty()) {
        run.error = "unexpected line from the child: '" + line + "'";
      }
    }
  };
  // Reads what is there until `deadline`; false at end of file.
  auto pump = [&](Clock::time_point deadline) {
    char chunk[65536];
    while (true) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return true;
      pollfd pfd{fds[0], POLLIN, 0};
      const int r = ::poll(&pfd, 1, static_cast<int>(left));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return true;
      const ssize_t n = ::read(fds[0], chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<std::size_t>(n));
      parse_lines();
    }
  };

  // Wait (bounded) for the child to open the store; the kill timer starts once appends begin.
  const auto ready_deadline = Clock::now() + std::chrono::seconds(20);
  bool open = true;
  while (open && !run.ready && Clock::now() < ready_deadline) {
    open = pump(std::min(ready_deadline, Clock::now() + milliseconds(10)));
  }
  if (run.ready && open) pump(Clock::now() + run_for);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  run.killed_by_sigkill = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  // Everything the child wrote before it died is still in the pipe.
  for (int i = 0; i < 1000 && pump(Clock::now() + milliseconds(100)); ++i) {
  }
  ::close(fds[0]);
  if (!run.ready && run.error.empty()) run.error = "the child never became ready";
  if (!run.killed_by_sigkill && run.error.empty()) {
    run.error = "the child ended by itself (status " + std::to_string(status) + "); see its stderr above";
  }
  return run;
}

// The batches stored in `topic`, by id, at their first offset. Fails the test when an offset is
// missing or doubled, a payload is damaged, a batch is torn or cut off or appears twice, or (with
// `attributes`) an event's key and headers are not the ones its child gave it.
void ReadBatches(EventLog& log, const std::string& topic, bool attributes,
                 std::map<std::uint64_t, std::uint64_t>* batch_at, std::vector<testing::CrashEvent>* events) {
  auto info = log.DescribeTopic(topic);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  const std::uint64_t head = info->next_offset;
  ASSERT_EQ(info->first_offset, 0u);
  ASSERT_EQ(info->event_count, head);
  events->reserve(head);
  for (std::uint64_t from = 0; from < head;) {
    auto page = log.Read({.topic = topic, .from_offset = from, .max_events = 10000});
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ASSERT_FALSE(page->events.empty()) << topic << ": no events at " << from << " below the head " << head;
    for (const Event& e : page->events) {
      ASSERT_EQ(e.offset, events->size()) << topic << ": gap or duplicate";
      auto decoded = testing::DecodeCrashEvent(e.payload);
      ASSERT_TRUE(decoded.has_value()) << topic << ": offset " << e.offset << " holds a damaged payload";
      if (attributes) {
        const EventAttributes expected = testing::CrashAttributes(decoded->batch, decoded->index);
        ASSERT_EQ(e.key, expected.key) << topic << ": offset " << e.offset;
        ASSERT_EQ(e.headers, expected.headers) << topic << ": offset " << e.offset;
      }
      events->push_back(*decoded);
    }
    from = page->next_offset;
  }
  ASSERT_EQ(events->size(), head);

  // Every batch lies whole at consecutive offsets: indexes 0..size-1 in order, each batch once.
  for (std::uint64_t off = 0; off < head;) {
    const testing::CrashEvent& first = (*events)[off];
    ASSERT_EQ(first.index, 0u) << topic << ": offset " << off << " starts batch " << first.batch << " in the middle";
    ASSERT_LE(off + first.size, head) << topic << ": batch " << first.batch << " at " << off << " is cut off";
    for (std::uint32_t i = 0; i < first.size; ++i) {
      const testing::CrashEvent& e = (*events)[off + i];
      ASSERT_TRUE(e.batch == first.batch && e.index == i && e.size == first.size)
          << topic << ": batch " << first.batch << " at " << off << " is torn at index " << i;
    }
    ASSERT_TRUE(batch_at->emplace(first.batch, off).second) << topic << ": batch " << first.batch << " appears twice";
    off += first.size;
  }
}

// Kills a child appending to the store (across topics with `multi`) at random moments, round after
// round within the budget, and checks after each crash that every acknowledged append is there,
// whole, and (with `multi`) that every topic holds the same batches: an append across topics is
// never there in part.
void CrashRounds(const std::string& backend, bool multi, int max_rounds, std::chrono::seconds budget) {
  const std::string plugin_file = testing::PluginFile(backend);
  auto plugin = BackendPlugin::LoadFile(plugin_file, "crash test");
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
  testing::TempDir dir;
  const std::string store_dir = dir.Sub("store");

  const std::uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);

  std::map<std::uint64_t, std::uint32_t> acked;  // first offset -> batch size, over all rounds
  std::uint64_t last_head = 0;
  const auto start = Clock::now();
  int rounds = 0;
  for (; rounds < max_rounds && Clock::now() - start < budget; ++rounds) {
    SCOPED_TRACE("round " + std::to_string(rounds));
    const milliseconds run_for(50 + rng() % 251);
    std::vector<std::string> args{GOETHE_CRASH_CHILD, plugin_file, store_dir, std::to_string(rounds + 1),
                                  std::to_string(rng() % 1000000), std::to_string(kWriterThreads)};
    if (multi) args.push_back("multi");
    ChildRun run = RunChild(args, run_for);
    ASSERT_TRUE(run.error.empty()) << run.error;
    for (const Ack& ack : run.acks) {
      auto [it, inserted] = acked.emplace(ack.first_offset, ack.count);
      ASSERT_TRUE(inserted) << "offset " << ack.first_offset << " acknowledged twice";
    }

    // Reopen what the child left and check it.
    auto store = plugin->Open(store_dir, {});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EventLogOptions options;
    options.sync = true;
    options.clock = [] { return TimestampNs{1'700'000'000'000'000'000}; };
    auto opened = EventLog::Open(store.value(), options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    std::unique_ptr<EventLog> log = std::move(opened).value();

    std::map<std::uint64_t, std::uint64_t> batch_at;  // of kCrashTopic: batch id -> first offset
    std::vector<testing::CrashEvent> events;
    ASSERT_NO_FATAL_FAILURE(ReadBatches(*log, testing::kCrashTopic, multi, &batch_at, &events));
    const std::uint64_t head = events.size();
    ASSERT_GE(head, last_head) << "the head moved backwards";
    last_head = head;
    for (std::size_t t = 1; multi && t < std::size(testing::kCrashTopics); ++t) {
      std::map<std::uint64_t, std::uint64_t> other_at;
      std::vector<testing::CrashEvent> other_events;
      ASSERT_NO_FATAL_FAILURE(ReadBatches(*log, testing::kCrashTopics[t], true, &other_at, &other_events));
      ASSERT_EQ(other_at.size(), batch_at.size()) << testing::kCrashTopics[t] << " holds another set of appends";
      for (const auto& [batch, first_offset] : batch_at) {
        auto other = other_at.find(batch);
        ASSERT_NE(other, other_at.end()) << "batch " << batch << " is in " << testing::kCrashTopic << " but not in "
                                         << testing::kCrashTopics[t];
        ASSERT_EQ(other_events[other->second].size, testing::CrashPartSize(events[first_offset].size, t))
            << "batch " << batch << " in " << testing::kCrashTopics[t];
      }
    }

    // Every acknowledged append, from this round and the earlier ones, is there.
    for (const auto& [first_offset, count] : acked) {
      ASSERT_LT(first_offset, head) << "acknowledged append at " << first_offset << " is lost";
      ASSERT_EQ(events[first_offset].index, 0u) << "acknowledged append at " << first_offset;
      ASSERT_EQ(events[first_offset].size, count) << "acknowledged append at " << first_offset;
    }
    log.reset();
    store.value().reset();
  }
  std::cout << "[ crash    ] " << backend << (multi ? " (across topics)" : "") << ": " << rounds << " rounds, "
            << acked.size() << " acknowledged appends, " << last_head << " events, "
            << std::chrono::duration_cast<milliseconds>(Clock::now() - start).count() << " ms\n";
  EXPECT_GE(rounds, 5);
  EXPECT_GT(acked.size(), static_cast<std::size_t>(rounds)) << "the child hardly appended: the test proved little";
}

class EngineCrashTest : public ::testing::TestWithParam<std::string> {};

TEST_P(EngineCrashTest, AcknowledgedAppendsSurviveSigkillWholeAndInOrder) {
  CrashRounds(GetParam(), false, kMaxRounds, kBackendBudget);
}

TEST_P(EngineCrashTest, AppendsAcrossTopicsSurviveSigkillAllOrNothing) {
  CrashRounds(GetParam(), true, 12, std::chrono::seconds(25));
}

INSTANTIATE_TEST_SUITE_P(AllBackends, EngineCrashTest, ::testing::ValuesIn(testing::AllBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace goethe
