// goethe-layout-probe: does ordering event keys by time first keep many-topic writes flat on an LSM
// store? Issue #18, point 3: written round-robin over 10,000 topics, LevelDB and RocksDB sink as the
// store grows, because event keys (topic, offset) put every new batch between old keys, so
// compaction keeps rewriting old data of every topic. This probe writes the same load straight to a
// backend plugin, with no engine, in one of two key layouts, and prints the rate of each step:
//   topic    'e' topic offset            (the layout of formats 2 and 3)
//   segment  'e' segment topic offset    (segment = events written store-wide / --segment-events)
//            plus, once per topic and segment, where a reader finds the topic's events of that
//            segment (--directory): 's' topic segment (by-topic, the default), 'e' segment ~0 topic
//            (in-segment: ordered by time as well), or nothing (none: the bound, not a layout)
// Every topic gets one batch per round, in an order shuffled anew each round (--order sorted: ids
// in turn, which makes writes within a segment arrive in key order: kinder than real traffic).
// Values are as the engine stores them: 16 bytes of header, then the payload (random bytes).
//
// usage: goethe-layout-probe --backend NAME --layout topic|segment --dir DIR [--topics N]
//            [--events N] [--step N] [--batch N] [--payload-bytes B] [--segment-events N]
//            [--directory by-topic|in-segment|none] [--order shuffled|sorted] [--option KEY=VALUE]...
// Prints "step K: R ev/s" per step, then one RESULT line (the peers' format) with the first and
// last step's rates and their ratio. DIR must not exist; it is removed at the end.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "goethe/engine/plugin_loader.h"
#include "goethe/kv/write_batch.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Settings {
  std::string backend;
  std::string layout;
  std::string dir;
  std::uint64_t topics = 10'000;
  std::uint64_t events = 10'000'000;
  std::uint64_t step = 1'000'000;
  std::uint64_t batch = 100;
  std::uint64_t payload_bytes = 100;
  std::uint64_t segment_events = 1'000'000;
  std::string directory = "by-topic";
  bool shuffled = true;
  goethe::kv::Options options;
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "goethe-layout-probe: %s\n", what.c_str());
  std::exit(2);
}

Settings ParseFlags(int argc, char** argv) {
  Settings s;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    auto number = [&] {
      try {
        return static_cast<std::uint64_t>(std::stoull(value));
      } catch (const std::exception&) {
        Die(flag + ": expected a number, got '" + value + "'");
      }
    };
    if (flag == "--backend") s.backend = value;
    else if (flag == "--layout") s.layout = value;
    else if (flag == "--dir") s.dir = value;
    else if (flag == "--topics") s.topics = number();
    else if (flag == "--events") s.events = number();
    else if (flag == "--step") s.step = number();
    else if (flag == "--batch") s.batch = number();
    else if (flag == "--payload-bytes") s.payload_bytes = number();
    else if (flag == "--segment-events") s.segment_events = number();
    else if (flag == "--directory") s.directory = value;
    else if (flag == "--order" && (value == "shuffled" || value == "sorted")) s.shuffled = value == "shuffled";
    else if (flag == "--option" && value.find('=') != std::string::npos)
      s.options[value.substr(0, value.find('='))] = value.substr(value.find('=') + 1);
    else Die("unknown flag or bad value: " + flag + " " + value);
  }
  if ((argc - 1) % 2 != 0 || s.backend.empty() || s.dir.empty() || (s.layout != "topic" && s.layout != "segment") ||
      (s.directory != "by-topic" && s.directory != "in-segment" && s.directory != "none") ||
      s.topics == 0 || s.step == 0 || s.batch == 0 || s.segment_events == 0)
    Die("usage: goethe-layout-probe --backend NAME --layout topic|segment --dir DIR [--topics N] [--events N] "
        "[--step N] [--batch N] [--payload-bytes B] [--segment-events N] [--directory by-topic|in-segment|none] "
        "[--order shuffled|sorted] [--option KEY=VALUE]...");
  return s;
}

void PutBigEndian(std::string* out, std::uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(value >> shift));
}

// Writes the load in one layout; returns each step's rate in events per second.
class LayoutLoad {
 public:
  LayoutLoad(const Settings& settings, goethe::kv::Store& store)
      : s_(settings), store_(store), next_offset_(settings.topics, 0), last_segment_(settings.topics, ~0ULL) {
    std::mt19937_64 random(18);
    for (auto& payload : payloads_) {
      payload.resize(s_.payload_bytes);
      for (char& c : payload) c = static_cast<char>(random());
    }
  }

  std::vector<double> Run() {
    std::vector<double> rates;
    std::uint64_t written = 0;
    // Every topic gets a batch in each round; the order within a round is shuffled anew unless
    // --order sorted (topic ids in turn: then writes within a segment come in key order).
    std::vector<std::uint64_t> round(s_.topics);
    for (std::uint64_t t = 0; t < s_.topics; ++t) round[t] = t;
    std::mt19937_64 random(3);
    std::size_t in_round = round.size();
    while (written < s_.events) {
      const Clock::time_point started = Clock::now();
      const std::uint64_t step_start = written;
      const std::uint64_t step_end = std::min(s_.events, written + s_.step);
      while (written < step_end) {
        if (in_round == round.size()) {
          if (s_.shuffled) std::shuffle(round.begin(), round.end(), random);
          in_round = 0;
        }
        const std::uint64_t count = std::min(s_.batch, step_end - written);
        WriteBatchOf(round[in_round++], count, written);
        written += count;
      }
      const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
      rates.push_back(static_cast<double>(step_end - step_start) / seconds);  // the last step may be short
      std::printf("step %zu: %.0f ev/s\n", rates.size(), rates.back());
      std::fflush(stdout);
    }
    return rates;
  }

 private:
  void WriteBatchOf(std::uint64_t topic, std::uint64_t count, std::uint64_t written) {
    goethe::kv::WriteBatch batch;
    const std::uint64_t segment = written / s_.segment_events;
    if (s_.directory != "none" && s_.layout == "segment" && last_segment_[topic] != segment) {
      if (s_.directory == "by-topic") {
        key_.assign(1, 's');
        PutBigEndian(&key_, topic);
        PutBigEndian(&key_, segment);
      } else {  // in-segment: 'e' segment ~0 topic, after the segment's events, in time order too
        key_.assign(1, 'e');
        PutBigEndian(&key_, segment);
        PutBigEndian(&key_, ~0ULL);
        PutBigEndian(&key_, topic);
      }
      value_.clear();
      PutBigEndian(&value_, next_offset_[topic]);
      batch.Put(key_, value_);
      last_segment_[topic] = segment;
    }
    for (std::uint64_t i = 0; i < count; ++i) {
      key_.assign(1, 'e');
      if (s_.layout == "segment") PutBigEndian(&key_, segment);
      PutBigEndian(&key_, topic);
      PutBigEndian(&key_, next_offset_[topic]++);
      value_.clear();
      PutBigEndian(&value_, written + i);  // the append time's place
      PutBigEndian(&value_, (written + i) * s_.payload_bytes);  // the running total's place
      value_ += payloads_[(written + i) % payloads_.size()];
      batch.Put(key_, value_);
    }
    if (goethe::kv::Status status = store_.Write(goethe::kv::WriteOptions{.sync = false}, batch); !status.ok())
      Die("write: " + status.ToString());
  }

  const Settings& s_;
  goethe::kv::Store& store_;
  std::vector<std::uint64_t> next_offset_;
  std::vector<std::uint64_t> last_segment_;
  std::vector<std::string> payloads_ = std::vector<std::string>(4096);
  std::string key_;
  std::string value_;
};

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const Settings settings = ParseFlags(argc, argv);
  if (std::filesystem::exists(settings.dir)) Die(settings.dir + " exists; give a folder that does not");
  goethe::Config config;
  config.storage.backend = settings.backend;
  config.storage.path = settings.dir;
  config.storage.sync = false;
  config.storage.options = settings.options;
  auto plugin = goethe::BackendPlugin::Load(config);
  if (!plugin.ok()) Die(plugin.status().ToString());
  std::vector<double> rates;
  {
    auto store = plugin->Open(config);
    if (!store.ok()) Die(store.status().ToString());
    rates = LayoutLoad(settings, **store).Run();
  }
  std::filesystem::remove_all(settings.dir);
  if (rates.empty()) return 0;
  std::printf(
      "RESULT test=layout-probe backend=%s layout=%s directory=%s order=%s topics=%llu events=%llu segment_events=%llu "
      "first=%.0f "
      "median=%.0f last=%.0f last_over_first=%.2f\n",
      settings.backend.c_str(), settings.layout.c_str(), settings.layout == "segment" ? settings.directory.c_str() : "-",
      settings.shuffled ? "shuffled" : "sorted", static_cast<unsigned long long>(settings.topics),
      static_cast<unsigned long long>(settings.events), static_cast<unsigned long long>(settings.segment_events),
      rates.front(), Median(rates), rates.back(), rates.back() / rates.front());
  return 0;
}
