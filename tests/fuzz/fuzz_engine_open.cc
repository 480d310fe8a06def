// Fuzzes the engine over a store whose contents are arbitrary: recovery (EventLog::Open) and every
// read path must give a value or an error — DATA_LOSS for a damaged record — never a crash, a
// hang or an out-of-bounds read. This is what a store damaged on disk, or written by a buggy
// version, looks like to the engine.
//
// Each run writes the input's records into a fresh LevelDB store through the real plugin, opens
// the log over it, and if it opens, describes, reads and resolves every topic, lists and resolves
// every cursor, and, as the input's flags ask, appends, trims, creates and deletes.
//
// Input layout (see make_corpus.py, which writes the seeds in corpus/fuzz_engine_open):
//   byte 0      flags: 1 = write the format marker (M"format" = "goethe-log-2") before the records,
//               2 = append one event (idempotency key "k", with a key and a header) to every topic
//               and one across all topics, 4 = run retention,
//               8 = create a new topic, 16 = commit and delete cursors, then delete every topic
//   then records, each: key length (1 byte), key, value length (2 bytes, big-endian), value.
//   A key length of 0 skips the record (keys are 1..511 bytes); a record cut short by the end of
//   the input takes what is left. Later records win over earlier ones with the same key.
//
// GOETHE_FUZZ_VERBOSE=1 prints what each run reached (to check that seeds go deep).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "goethe/engine/event_log.h"
#include "keys.h"
#include "records.h"

namespace {

namespace fs = std::filesystem;
using namespace goethe;

constexpr TimestampNs kNow = 1'700'000'000'000'000'000;      // the engine's fixed clock
constexpr std::uint8_t kWriteMarker = 1, kAppend = 2, kRetention = 4, kCreate = 8, kDelete = 16;

struct Harness {
  std::optional<BackendPlugin> plugin;
  fs::path root;   // one temp dir for the whole process, removed at exit
  fs::path store;  // root/store, removed before every run
  bool verbose = false;
};

Harness& Get() {
  static Harness* harness = [] {
    auto* h = new Harness;
    h->plugin.emplace(fuzz::LoadLevelDb("fuzz_engine_open"));
    h->root = fuzz::MakeTempDir("goethe-fuzz-engine-");
    h->store = h->root / "store";
    h->verbose = fuzz::Verbose();
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(Get().root, ec);
    });
    return h;
  }();
  return *harness;
}

struct Record {
  std::string key, value;
};

std::vector<Record> ParseRecords(std::string_view in) {
  std::vector<Record> records;
  while (!in.empty()) {
    const std::size_t key_size = std::min<std::size_t>(static_cast<std::uint8_t>(in[0]), in.size() - 1);
    std::string key(in.substr(1, key_size));
    in.remove_prefix(1 + key_size);
    std::size_t value_size = 0;
    for (int i = 0; i < 2 && !in.empty(); ++i) {
      value_size = (value_size << 8) | static_cast<std::uint8_t>(in[0]);
      in.remove_prefix(1);
    }
    value_size = std::min(value_size, in.size());
    std::string value(in.substr(0, value_size));
    in.remove_prefix(value_size);
    if (!key.empty()) records.push_back({std::move(key), std::move(value)});
  }
  return records;
}

TimestampNs SaturatingNext(TimestampNs t) { return t == std::numeric_limits<TimestampNs>::max() ? t : t + 1; }

// Every read path over one topic; errors are fine, crashes are not.
void Explore(EventLog& log, const TopicInfo& listed, bool verbose) {
  const std::string& name = listed.name;
  auto info = log.DescribeTopic(name);
  const TopicInfo& t = info.ok() ? info.value() : listed;
  std::size_t events = 0;
  for (std::uint64_t from : {std::uint64_t{0}, t.first_offset, t.next_offset - 1, t.next_offset,
                             std::numeric_limits<std::uint64_t>::max()}) {
    auto read = log.Read({.topic = name, .from_offset = from, .max_events = 64, .max_bytes = 1 << 16});
    if (read.ok()) events += read->events.size();
  }
  using Kind = StartPosition::Kind;
  std::size_t resolved = 0;
  for (TimestampNs time : {std::numeric_limits<TimestampNs>::min(), TimestampNs{0}, t.first_timestamp_ns,
                           t.last_timestamp_ns, SaturatingNext(t.last_timestamp_ns), kNow,
                           std::numeric_limits<TimestampNs>::max()}) {
    resolved += log.Resolve(name, {.kind = Kind::kTime, .time_ns = time}).ok();
  }
  for (Kind kind : {Kind::kBeginning, Kind::kEnd}) resolved += log.Resolve(name, {.kind = kind}).ok();
  resolved += log.Resolve(name, {.kind = Kind::kOffset, .offset = t.first_offset + 1}).ok();
  std::size_t cursors = 0;
  if (auto list = log.ListCursors(name); list.ok()) {
    for (const CursorInfo& cursor : *list) {
      ++cursors;
      (void)log.GetCursor(name, cursor.consumer);
      for (ResetPolicy reset : {ResetPolicy::kEarliest, ResetPolicy::kLatest, ResetPolicy::kError}) {
        (void)log.Resolve(name, {.kind = Kind::kCursor, .consumer = cursor.consumer, .reset = reset});
      }
    }
  }
  (void)log.Resolve(name, {.kind = Kind::kCursor, .consumer = "nobody", .fallback = Kind::kEnd});
  if (verbose) {
    std::fprintf(stderr, "  topic '%s' id %llu: %s; offsets %llu..%llu, %zu events read, %zu positions, %zu cursors\n",
                 name.c_str(), static_cast<unsigned long long>(t.id),
                 info.ok() ? "described" : info.status().ToString().c_str(),
                 static_cast<unsigned long long>(t.first_offset), static_cast<unsigned long long>(t.next_offset),
                 events, resolved, cursors);
  }
}

void Run(Harness& h, const std::uint8_t* data, std::size_t size) {
  if (size == 0) return;
  const std::uint8_t flags = data[0];
  const std::vector<Record> records = ParseRecords({reinterpret_cast<const char*>(data) + 1, size - 1});

  auto store = h.plugin->Open(h.store.string(), {});
  if (!store.ok()) {
    std::fprintf(stderr, "fuzz_engine_open: cannot open a store: %s\n", store.status().ToString().c_str());
    std::abort();  // the harness's own failure, not the input's
  }
  kv::WriteBatch batch;
  if (flags & kWriteMarker) batch.Put(keys::Meta("format"), records::kFormatPlain);
  for (const Record& r : records) batch.Put(r.key, r.value);
  if (kv::Status s = (*store)->Write({.sync = false}, batch); !s.ok()) {
    if (h.verbose) std::fprintf(stderr, "write: %s\n", s.ToString().c_str());
    return;
  }

  EventLogOptions options;
  options.sync = false;
  options.clock = [] { return kNow; };
  options.retention_interval = std::chrono::hours(1);  // no background pass during a run
  auto log = EventLog::Open(std::move(store).value(), std::move(options));
  if (!log.ok()) {
    if (h.verbose) std::fprintf(stderr, "open: %s\n", log.status().ToString().c_str());
    return;
  }
  const std::vector<TopicInfo> topics = (*log)->ListTopics();
  if (h.verbose) std::fprintf(stderr, "opened: %zu topics\n", topics.size());
  for (const TopicInfo& topic : topics) Explore(**log, topic, h.verbose);

  if (flags & kAppend) {
    for (const TopicInfo& topic : topics) {
      AppendOutcome out = (*log)->Append({.topic = topic.name, .payloads = {"fuzz"},
                                          .attributes = {{"key", {{"type", "fuzz"}}}}, .idempotency_key = "k",
                                          .create_topic = false});
      if (h.verbose) std::fprintf(stderr, "  append to '%s': %s\n", topic.name.c_str(), out.status.ToString().c_str());
    }
    MultiAppendRequest across;
    for (const TopicInfo& topic : topics) across.parts.push_back({.topic = topic.name, .payloads = {"all"}});
    if (!across.parts.empty()) {
      MultiAppendOutcome out = (*log)->AppendMulti(std::move(across));
      if (h.verbose) std::fprintf(stderr, "  append across topics: %s\n", out.status.ToString().c_str());
    }
  }
  if (flags & kRetention) {
    Status s = (*log)->EnforceRetention();
    if (h.verbose) std::fprintf(stderr, "  retention: %s\n", s.ToString().c_str());
  }
  if (flags & kCreate) {
    auto created = (*log)->CreateTopic("fuzz-new", {});
    if (h.verbose) std::fprintf(stderr, "  create: %s\n", created.status().ToString().c_str());
    if (created.ok()) Explore(**log, *created, h.verbose);
  }
  if (flags & (kAppend | kRetention | kCreate)) {
    for (const TopicInfo& topic : (*log)->ListTopics()) Explore(**log, topic, h.verbose);
  }
  if (flags & kDelete) {
    for (const TopicInfo& topic : (*log)->ListTopics()) {
      Status commit = (*log)->CommitCursor(topic.name, "fuzz", topic.next_offset - 1, CursorMove::kForwardOnly);
      if (auto cursors = (*log)->ListCursors(topic.name); cursors.ok()) {
        for (const CursorInfo& cursor : *cursors) (void)(*log)->DeleteCursor(topic.name, cursor.consumer);
      }
      Status deleted = (*log)->DeleteTopic(topic.name);
      if (h.verbose) {
        std::fprintf(stderr, "  commit cursor on '%s': %s; delete: %s\n", topic.name.c_str(),
                     commit.ToString().c_str(), deleted.ToString().c_str());
      }
    }
    if (!(*log)->ListTopics().empty() && h.verbose) std::fprintf(stderr, "  topics left after deleting all\n");
  }
  (*log)->Close();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Harness& h = Get();
  std::error_code ec;
  fs::remove_all(h.store, ec);
  Run(h, data, size);  // the store (and the log over it) are closed when Run returns
  fs::remove_all(h.store, ec);
  return 0;
}
