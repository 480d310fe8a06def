// goethe-storage-bench: what a backend costs on disk and how long it takes to reopen.
//   goethe-storage-bench --backend NAME [--events N] [--payload-bytes B] [--data-dir DIR] [--reopens R]
//                        [--random-payloads]
//   goethe-storage-bench --backend NAME --read-store DIR --topic T
// Appends N events (batches of 1000, sync off, then a flush) to one topic whose retention keeps
// N/2 events, and prints one RESULT line per measurement on stdout (the peers' format):
//   space-after-append          bytes on disk per stored event
//   reopen                      seconds to open the store and the event log of N events after
//                               a clean close (what a restart costs: LevelDB and RocksDB replay
//                               their write-ahead log); with --reopens R, R-1 more lines follow
//                               for reopens with nothing left to replay. The plugin stays loaded
//                               and the page cache is warm.
//   space-after-retention       bytes per retained event right after one explicit retention pass
//   space-after-retention-reopen  the same after closing and reopening (compactions at open count)
// With --read-store DIR --topic T it only reads: topic T of the existing store at DIR, from its
// first event to its head, with EventLog::ReadEach in pages of 1000 as the server's Consume does
// (RESULT test=engine-read-store): the in-process figure for a store a server wrote. T may list
// several topics (T1,T2,...): read one after the other on the one open store, a line each, so that
// the later ones find the store's table index and blocks cached as a running server would.
// Sizes are the sum of the regular files' sizes under the store's folder (allocated_bytes: the
// blocks they occupy). The store's folder is removed at the end. Payloads are B bytes of 'x', or
// with --random-payloads random bytes that compression cannot shrink (4096 distinct, in turn).
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "goethe/engine/event_log.h"
#include "goethe/engine/plugin_loader.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint64_t kBatch = 1000;
const char* const kTopic = "bench";

struct Settings {
  std::string backend;
  std::uint64_t events = 1'000'000;
  std::uint64_t payload_bytes = 100;
  std::string data_dir;
  int reopens = 1;
  bool random_payloads = false;
  std::string read_store;  // set: only read the topics of this existing store
  std::string topic;       // with read_store: comma-separated
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "goethe-storage-bench: %s\n", what.c_str());
  std::exit(2);
}

void Usage() {
  std::fprintf(stderr,
               "usage: goethe-storage-bench --backend NAME [--events N] [--payload-bytes B] [--data-dir DIR] "
               "[--reopens R] [--random-payloads]\n"
               "       goethe-storage-bench --backend NAME --read-store DIR --topic T\n");
  std::exit(2);
}

Settings ParseFlags(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") Usage();
    if (flag == "--random-payloads") {
      settings.random_payloads = true;
      continue;
    }
    if (i + 1 >= argc) Usage();
    const std::string value = argv[++i];
    try {
      if (flag == "--backend") settings.backend = value;
      else if (flag == "--events") settings.events = std::stoull(value);
      else if (flag == "--payload-bytes") settings.payload_bytes = std::stoull(value);
      else if (flag == "--data-dir") settings.data_dir = value;
      else if (flag == "--reopens") settings.reopens = std::stoi(value);
      else if (flag == "--read-store") settings.read_store = value;
      else if (flag == "--topic") settings.topic = value;
      else Usage();
    } catch (const std::exception&) {
      Die(flag + ": not a number: " + value);
    }
  }
  if (settings.backend.empty() || settings.read_store.empty() != settings.topic.empty()) Usage();
  if (settings.events < 2 || settings.reopens < 1) Die("--events must be at least 2 and --reopens at least 1");
  return settings;
}

struct DiskUsage {
  std::uint64_t bytes = 0;      // sum of file sizes
  std::uint64_t allocated = 0;  // sum of allocated blocks
};

DiskUsage Measure(const std::filesystem::path& dir) {
  DiskUsage usage;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    usage.bytes += entry.file_size();
    struct stat info {};
    if (::stat(entry.path().c_str(), &info) == 0) usage.allocated += static_cast<std::uint64_t>(info.st_blocks) * 512;
  }
  return usage;
}

void PrintResult(const std::string& test, const std::map<std::string, std::string>& fields) {
  std::string line = "RESULT peer=goethe test=" + test;
  for (const auto& [key, value] : fields) line += " " + key + "=" + value;
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

std::string Fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

void PrintSpace(const std::string& test, const Settings& settings, const DiskUsage& usage, std::uint64_t stored) {
  PrintResult(test, {{"backend", settings.backend},
                     {"events", std::to_string(stored)},
                     {"payload_bytes", std::to_string(settings.payload_bytes)},
                     {"payloads", settings.random_payloads ? "random" : "repeated"},
                     {"bytes", std::to_string(usage.bytes)},
                     {"allocated_bytes", std::to_string(usage.allocated)},
                     {"bytes_per_event", Fixed(static_cast<double>(usage.bytes) / stored, 1)},
                     {"allocated_per_event", Fixed(static_cast<double>(usage.allocated) / stored, 1)}});
}

class Bench {
 public:
  explicit Bench(Settings settings) : settings_(std::move(settings)) {
    config_.storage.backend = settings_.backend;
    config_.storage.path = path_.string();
    config_.storage.sync = false;
    options_.sync = false;
    options_.retention_interval = std::chrono::hours(24 * 365);  // retention runs only when asked
    options_.max_event_bytes = std::max<std::uint64_t>(options_.max_event_bytes, settings_.payload_bytes);
  }

  void Open() {
    if (!plugin_) {  // loaded once and kept, so that the reopen time is the store's, not dlopen's
      auto plugin = goethe::BackendPlugin::Load(config_);
      if (!plugin.ok()) Die(plugin.status().ToString());
      plugin_.emplace(std::move(plugin).value());
    }
    auto store = plugin_->Open(config_);
    if (!store.ok()) Die(store.status().ToString());
    store_ = *store;
    auto log = goethe::EventLog::Open(store_, options_);
    if (!log.ok()) Die(log.status().ToString());
    log_ = std::move(log).value();
  }
  void Close() {
    log_->Close();
    log_.reset();
    store_.reset();  // the last reference: the store closes here
  }
  void Flush() {
    if (auto s = store_->Flush(); !s.ok()) Die("flush: " + s.ToString());
  }
  goethe::TopicInfo Describe() const {
    auto info = log_->DescribeTopic(kTopic);
    if (!info.ok()) Die(info.status().ToString());
    return *info;
  }

  // Reads every event of each of an existing store's topics, each timed, once the log is open.
  void ReadStore() {
    config_.storage.path = settings_.read_store;
    Open();
    std::stringstream topics(settings_.topic);
    for (std::string topic; std::getline(topics, topic, ',');) ReadTopic(topic);
    Close();
  }

  void ReadTopic(const std::string& topic) {
    const auto start = Clock::now();
    std::uint64_t events = 0;
    goethe::ReadRequest read{.topic = topic, .from_offset = 0, .max_events = 1000, .max_bytes = 1 << 20};
    for (;;) {
      auto page = log_->ReadEach(read, [&events](const goethe::EventView&) { ++events; });
      if (!page.ok()) Die("read " + topic + ": " + page.status().ToString());
      if (page->next_offset >= page->head) break;
      read.from_offset = page->next_offset;
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    PrintResult("engine-read-store", {{"backend", settings_.backend}, {"topic", topic}, {"n", std::to_string(events)},
                                      {"secs", Fixed(seconds, 6)}, {"rate", Fixed(events / seconds, 0)}});
  }

  void Run() {
    std::filesystem::remove_all(path_);
    Open();
    goethe::TopicSettings topic;
    topic.retention_events = settings_.events / 2;
    if (auto created = log_->CreateTopic(kTopic, topic); !created.ok()) Die(created.status().ToString());
    Fill();
    Flush();
    PrintSpace("space-after-append", settings_, Measure(path_), settings_.events);

    Close();
    for (int i = 0; i < settings_.reopens; ++i) {
      const auto start = Clock::now();
      Open();
      const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      if (Describe().next_offset != settings_.events) Die("the reopened log lost events");
      PrintResult(i == 0 ? "reopen" : "reopen-again",
                  {{"backend", settings_.backend}, {"events", std::to_string(settings_.events)},
                   {"secs", Fixed(seconds, 6)}});
      if (i + 1 < settings_.reopens) Close();
    }

    if (auto s = log_->EnforceRetention(); !s.ok()) Die("retention: " + s.ToString());
    Flush();
    const std::uint64_t retained = Describe().event_count;
    if (retained > settings_.events / 2) Die("retention kept " + std::to_string(retained) + " events");
    PrintSpace("space-after-retention", settings_, Measure(path_), retained);
    Close();
    Open();
    PrintSpace("space-after-retention-reopen", settings_, Measure(path_), Describe().event_count);
    Close();
    std::filesystem::remove_all(path_);
  }

 private:
  void Fill() {
    std::vector<std::string> payloads(settings_.random_payloads ? 4096 : 1, std::string(settings_.payload_bytes, 'x'));
    if (settings_.random_payloads) {
      std::mt19937_64 engine(12345);
      for (std::string& payload : payloads) {
        for (char& c : payload) c = static_cast<char>(engine());
      }
    }
    std::size_t next = 0;
    const auto start = Clock::now();
    auto last_progress = start;
    for (std::uint64_t done = 0; done < settings_.events;) {
      const std::uint64_t n = std::min(kBatch, settings_.events - done);
      std::vector<std::string> batch;
      batch.reserve(n);
      for (std::uint64_t i = 0; i < n; ++i) batch.push_back(payloads[next++ % payloads.size()]);
      goethe::AppendOutcome outcome = log_->Append({.topic = kTopic, .payloads = std::move(batch)});
      if (!outcome.status.ok()) Die("append: " + outcome.status.ToString());
      done += n;
      if (Clock::now() - last_progress > std::chrono::seconds(1)) {
        last_progress = Clock::now();
        std::fprintf(stderr, "\rstorage-bench %s: %llu/%llu events", settings_.backend.c_str(),
                     static_cast<unsigned long long>(done), static_cast<unsigned long long>(settings_.events));
      }
    }
    if (last_progress != start) std::fprintf(stderr, "\n");
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    PrintResult("fill", {{"backend", settings_.backend}, {"n", std::to_string(settings_.events)},
                         {"secs", Fixed(seconds, 3)}, {"rate", Fixed(settings_.events / seconds, 0)}});
  }

  Settings settings_;
  std::filesystem::path path_ =
      std::filesystem::path(settings_.data_dir.empty() ? std::filesystem::temp_directory_path().string()
                                                       : settings_.data_dir) /
      ("storage-bench-" + settings_.backend);
  goethe::Config config_;
  goethe::EventLogOptions options_;
  std::optional<goethe::BackendPlugin> plugin_;
  std::shared_ptr<goethe::kv::Store> store_;
  std::unique_ptr<goethe::EventLog> log_;
};

}  // namespace

int main(int argc, char** argv) {
  Settings settings = ParseFlags(argc, argv);
  if (!settings.data_dir.empty()) std::filesystem::create_directories(settings.data_dir);
  const bool read_only = !settings.read_store.empty();
  Bench bench(std::move(settings));
  if (read_only) bench.ReadStore();
  else bench.Run();
  return 0;
}
