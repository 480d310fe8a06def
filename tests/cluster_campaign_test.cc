// The fault campaign (issue 16): a 3-node cluster on a 3-member etcd, all real processes on
// loopback (support/cluster_fixture.h), under continuous load from clients that follow the leader
// (support/leader_client.h), goes through rounds of faults — SIGKILL of the leader, of a follower,
// of the leader and a follower at once, SIGSTOP of the leader past the session TTL, a follower
// restarted with its data wiped, an etcd member killed — and after each round must have a leader and
// every node in sync again within a bound. At the end a checker reads every topic on every node and
// verifies the recorded history:
//   - every acknowledged event is present exactly once, at its acknowledged offset, with its exact
//     timestamp, payload, key and headers, on every node; nothing appears that was never sent;
//   - all nodes hold identical topics, events, cursors and group ack floors (convergence);
//   - every event a reader saw (the committing consumer, the group member, reads on followers) is
//     in the final log at that offset with the same bytes;
//   - idempotent produces (unary and multi-topic) appear once, and a repeat of an acknowledged key
//     is answered `duplicate` with the first call's offsets;
//   - the consumer's cursor is, on every node, at least its last acknowledged commit, and was never
//     seen below an acknowledged commit by a leader; the group's ack floor never went back;
//   - after every round each client gets on again within 10 s (availability);
//   - no node's log shows it applied what its leader does not hold, or an unexpected error.
// GOETHE_CAMPAIGN_ROUNDS sets the round count (default 20; scripts/fault-campaign.sh runs 100),
// GOETHE_CAMPAIGN_SEED the seed of the random choices (printed), GOETHE_CAMPAIGN_VERBOSE=1 makes
// the clients say how each of their streams ended. Each round is bounded (60 s); on a failure the
// nodes' and etcd's logs are kept in a directory the test names.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "support/cluster_fixture.h"
#include "support/leader_client.h"

namespace goethe::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The cluster's session TTL (ClusterOptions::session_ttl below).
constexpr std::chrono::milliseconds kTtl = 2s;
// A round (fault, repair, convergence) longer than this aborts the campaign as a failure.
constexpr std::chrono::milliseconds kRoundBound = 60s;
// After a repair, a leader and every node in sync within this, or the round fails.
constexpr std::chrono::milliseconds kConvergeBound = 30s;
// A node started again listens within this, or the round fails.
constexpr std::chrono::milliseconds kStartBound = 15s;

const std::string kStreamTopic = "campaign.stream";
const std::string kUnaryTopic = "campaign.unary";
const std::string kMultiA = "campaign.multi-a";
const std::string kMultiB = "campaign.multi-b";
const std::string kProbeTopic = "campaign.probe";
const std::string kConsumer = "campaign-consumer";
const std::string kGroup = "campaign-group";

// GOETHE_CAMPAIGN_VERBOSE=1: the clients say what happens to their streams.
bool Verbose() {
  static const bool verbose = std::getenv("GOETHE_CAMPAIGN_VERBOSE") != nullptr;
  return verbose;
}

// A status as a category: digits (ports, epochs, offsets, times) folded, so that alike ends count together.
std::string Category(const grpc::Status& status) {
  std::string text = std::to_string(static_cast<int>(status.error_code())) + " " + status.error_message().substr(0, 100);
  std::string out;
  for (const char c : text) {
    if (c >= '0' && c <= '9') {
      if (out.empty() || out.back() != '#') out.push_back('#');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

long long Ms(Clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

std::chrono::system_clock::time_point In(std::chrono::milliseconds timeout) {
  return std::chrono::system_clock::now() + timeout;
}

// Bytes for a person: printable ASCII as is, the rest as \xNN; long values shortened.
std::string Printable(const std::string& bytes, std::size_t max = 60) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  if (bytes.size() > max) out += "...(" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

std::string EventText(const v1::Event& event) {
  std::string text = "{offset " + std::to_string(event.offset()) + ", ts " +
                     std::to_string(event.timestamp_unix_nanos()) + ", payload '" + Printable(event.payload()) + "'";
  if (!event.key().empty()) text += ", key '" + Printable(event.key()) + "'";
  for (const v1::Header& header : event.headers()) text += ", " + header.name() + "='" + Printable(header.value()) + "'";
  return text + "}";
}

bool SameEvent(const v1::Event& a, const v1::Event& b) {
  if (a.offset() != b.offset() || a.timestamp_unix_nanos() != b.timestamp_unix_nanos() || a.payload() != b.payload() ||
      a.key() != b.key() || a.headers_size() != b.headers_size())
    return false;
  for (int i = 0; i < a.headers_size(); ++i) {
    if (a.headers(i).name() != b.headers(i).name() || a.headers(i).value() != b.headers(i).value()) return false;
  }
  return true;
}

double Median(std::vector<long long> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? static_cast<double>(values[n / 2])
               : (static_cast<double>(values[n / 2 - 1]) + static_cast<double>(values[n / 2])) / 2.0;
}

// ---------------------------------------------------------------------------------------------
// What the clients did and saw.

struct AckedEvent {
  std::string topic;
  v1::Event event;  // offset and timestamp as acknowledged; payload, key and headers as sent
  std::string source;
};

struct SeenEvent {
  std::string topic;
  v1::Event event;
  std::string source;  // "consumer", "group", "read@127.0.0.1:PORT"
};

struct CursorCommit {
  std::uint64_t value = 0;
  Clock::time_point acked_at;
};

// What the leader held, read right after a write it acknowledged (so it was the leader, done
// taking over, when the write was sent): the consumer's cursor and the group's ack floor.
struct LeaderObservation {
  Clock::time_point sent_at;  // the probe write was sent
  Clock::time_point done_at;  // the reads answered
  std::string node;
  std::optional<std::uint64_t> cursor;  // none: no cursor yet
  std::optional<std::uint64_t> floor;
};

// A committing consumer subscribed from its cursor (a write-path call only a leader accepts).
struct SubscribeObservation {
  Clock::time_point sent_at;
  std::string node;
  std::uint64_t resolved = 0;  // the cursor + 1, or the first offset without a cursor
};

class History {
 public:
  void Sent(const std::string& topic, const std::string& payload) {
    std::lock_guard lock(mutex_);
    sent_.insert(topic + '\n' + payload);
  }
  void Acked(const std::string& topic, const v1::Event& event, const std::string& source) {
    std::lock_guard lock(mutex_);
    acked_.push_back({topic, event, source});
    ++progress_[source];
    std::uint64_t& head = heads_[topic];
    head = std::max(head, event.offset() + 1);
  }
  void Unknown(const std::string& topic, const std::string& payload) {
    std::lock_guard lock(mutex_);
    unknown_.insert(topic + '\n' + payload);
  }
  void Seen(const std::string& topic, v1::Event event, const std::string& source) {
    event.set_delivery_count(0);
    std::lock_guard lock(mutex_);
    ++progress_[source.substr(0, source.find('@'))];
    seen_.push_back({topic, std::move(event), source});
  }
  void Committed(std::uint64_t value, Clock::time_point at) {
    std::lock_guard lock(mutex_);
    ++progress_["cursor commit"];
    commits_.push_back({value, at});
  }
  void Observed(LeaderObservation observation) {
    std::lock_guard lock(mutex_);
    ++progress_["leader observation"];
    observations_.push_back(std::move(observation));
  }
  void Subscribed(SubscribeObservation observation) {
    std::lock_guard lock(mutex_);
    subscribes_.push_back(std::move(observation));
  }
  void Violation(const std::string& kind, const std::string& text) {
    std::lock_guard lock(mutex_);
    violations_[kind].push_back(text);
  }
  void Note(const std::string& kind, const std::string& text) {
    std::lock_guard lock(mutex_);
    std::vector<std::string>& notes = notes_[kind];
    if (notes.size() < 3) notes.push_back(text);
    ++note_counts_[kind];
  }
  std::uint64_t HeadHint(const std::string& topic) {
    std::lock_guard lock(mutex_);
    return heads_[topic];
  }
  std::size_t acked_count() {
    std::lock_guard lock(mutex_);
    return acked_.size();
  }
  // How often each client made progress: acknowledged writes by source ("stream", "unary",
  // "multi", "probe"), events seen ("consumer", "group", "read"), "cursor commit", "leader observation".
  std::map<std::string, long> progress() {
    std::lock_guard lock(mutex_);
    return progress_;
  }

  // For the checker, once the load has stopped.
  const std::vector<AckedEvent>& acked() const { return acked_; }
  const std::vector<SeenEvent>& seen() const { return seen_; }
  const std::set<std::string>& sent() const { return sent_; }
  const std::set<std::string>& unknown() const { return unknown_; }
  const std::vector<CursorCommit>& commits() const { return commits_; }
  const std::vector<LeaderObservation>& observations() const { return observations_; }
  const std::vector<SubscribeObservation>& subscribes() const { return subscribes_; }
  std::map<std::string, std::vector<std::string>>& violations() { return violations_; }
  std::size_t violation_count() {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& [kind, list] : violations_) n += list.size();
    return n;
  }
  const std::map<std::string, std::vector<std::string>>& notes() const { return notes_; }
  const std::map<std::string, long>& note_counts() const { return note_counts_; }

  std::atomic<long> retried_nothing_written{0};  // writes sent again after a refusal that wrote nothing
  std::atomic<long> unknown_outcomes{0};         // writes whose outcome stayed unknown
  std::atomic<long> idempotent_retries{0};       // keyed writes sent again after an unknown outcome
  std::atomic<long> duplicates_checked{0};       // acknowledged keys sent again on purpose
  std::atomic<long> ambiguous_refusals{0};       // "not the leader ... may or may not be kept"
  std::atomic<long> follower_reads{0};
  std::atomic<long> consumer_streams{0};
  std::atomic<long> group_streams{0};

 private:
  std::mutex mutex_;
  std::vector<AckedEvent> acked_;
  std::vector<SeenEvent> seen_;
  std::set<std::string> sent_;     // "topic\npayload"
  std::set<std::string> unknown_;  // "topic\npayload"
  std::map<std::string, std::uint64_t> heads_;
  std::map<std::string, long> progress_;
  std::vector<CursorCommit> commits_;
  std::vector<LeaderObservation> observations_;
  std::vector<SubscribeObservation> subscribes_;
  std::map<std::string, std::vector<std::string>> violations_;
  std::map<std::string, std::vector<std::string>> notes_;
  std::map<std::string, long> note_counts_;
};

// ---------------------------------------------------------------------------------------------
// The load: one thread per client, each with its own LeaderClient.

class Load {
 public:
  Load(std::vector<std::string> addresses, History& history, std::uint64_t seed)
      : addresses_(std::move(addresses)), history_(history), seed_(seed) {}
  ~Load() { Stop(); }

  void Start() {
    threads_.emplace_back([this] { Guard("stream producer", [this] { StreamProducer(); }); });
    threads_.emplace_back([this] { Guard("unary producer", [this] { UnaryProducer(); }); });
    threads_.emplace_back([this] { Guard("multi producer", [this] { MultiProducer(); }); });
    threads_.emplace_back([this] { Guard("consumer", [this] { CursorConsumer(); }); });
    threads_.emplace_back([this] { Guard("group member", [this] { GroupMember(); }); });
    threads_.emplace_back([this] { Guard("observer", [this] { Observer(); }); });
    threads_.emplace_back([this] { Guard("follower reader", [this] { FollowerReader(); }); });
  }
  void Stop() {
    stop_.store(true);
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
    threads_.clear();
  }

 private:
  void Guard(const char* name, const std::function<void()>& body) {
    try {
      body();
    } catch (const std::exception& e) {
      history_.Violation("client thread died", std::string(name) + ": " + e.what());
    }
  }
  bool stopping() const { return stop_.load(); }
  void Pause(std::chrono::milliseconds how_long) {
    const auto until = Clock::now() + how_long;
    while (!stopping() && Clock::now() < until) std::this_thread::sleep_for(std::min<Clock::duration>(10ms, until - Clock::now()));
  }
  std::string Filler(std::mt19937_64& rng, std::size_t min, std::size_t max) {
    static const char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    const std::size_t n = min + rng() % (max - min + 1);
    std::string text(n, ' ');
    for (char& c : text) c = kChars[rng() % (sizeof kChars - 1)];
    return text;
  }
  void CountAmbiguous(const LeaderClient::WriteResult& result, const char* what) {
    for (const std::string& message : result.ambiguous) {
      ++history_.ambiguous_refusals;
      history_.Note("ambiguous not-leader refusal", std::string(what) + ": " + message);
    }
  }
  // The events of an acknowledged produce of `request`, as the response places them.
  void RecordAcked(const v1::ProduceRequest& request, const v1::ProduceResponse& response, const std::string& source) {
    if (static_cast<int>(response.event_count()) != request.events_size() ||
        response.timestamps_unix_nanos_size() != request.events_size()) {
      history_.Violation("malformed acknowledgement", source + " on " + request.topic() + ": sent " +
                                                          std::to_string(request.events_size()) + " events, answer " +
                                                          response.ShortDebugString());
      return;
    }
    for (int i = 0; i < request.events_size(); ++i) {
      const v1::EventData& data = request.events(i);
      v1::Event event;
      event.set_offset(response.first_offset() + static_cast<std::uint64_t>(i));
      event.set_timestamp_unix_nanos(response.timestamps_unix_nanos(i));
      event.set_payload(data.payload());
      event.set_key(data.key());
      *event.mutable_headers() = data.headers();
      history_.Acked(request.topic(), event, source);
    }
  }
  void RecordUnknown(const v1::ProduceRequest& request) {
    for (const v1::EventData& data : request.events()) history_.Unknown(request.topic(), data.payload());
  }
  void RecordSent(const v1::ProduceRequest& request) {
    for (const v1::EventData& data : request.events()) history_.Sent(request.topic(), data.payload());
  }

  // ProduceStream: batches of ~10 events, three in flight, some events with keys and headers; no
  // idempotency keys, so a batch whose outcome is unknown is not sent again.
  void StreamProducer() {
    LeaderClient client(addresses_);
    std::mt19937_64 rng(seed_ * 31 + 1);
    std::uint64_t seq = 0;
    std::uint64_t batch_id = 0;
    std::deque<v1::ProduceRequest> resend;  // refused batches that wrote nothing
    auto new_batch = [&] {
      v1::ProduceRequest request;
      request.set_topic(kStreamTopic);
      const int n = 8 + static_cast<int>(rng() % 5);
      for (int i = 0; i < n; ++i, ++seq) {
        v1::EventData* event = request.add_events();
        event->set_payload("s-" + std::to_string(seq) + "-" + Filler(rng, 20, 120));
        if (seq % 3 == 0) event->set_key("key-" + std::to_string(seq % 11));
        if (seq % 4 == 0) {
          v1::Header* type = event->add_headers();
          type->set_name("type");
          type->set_value("t" + std::to_string(seq % 5));
          v1::Header* trace = event->add_headers();
          trace->set_name("trace");
          std::string bytes(8, '\0');
          for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
          trace->set_value(bytes);
        }
      }
      RecordSent(request);
      return request;
    };
    struct InFlight {
      std::uint64_t id;
      v1::ProduceRequest request;
    };
    while (!stopping()) {
      if (!client.EnsureLeader(Clock::now() + 1s, &stop_)) continue;
      grpc::ClientContext call;
      call.set_deadline(In(15s));  // bounds a stream on a node that hangs (SIGSTOP)
      auto stream = client.stub().ProduceStream(&call);
      const std::string address = client.address();
      std::deque<InFlight> in_flight;
      int acks = 0;
      bool broken = false;
      bool follow = false;
      const auto incarnation_end = Clock::now() + 10s;
      auto handle = [&](const v1::ProduceStreamResponse& response) {
        if (in_flight.empty()) {
          history_.Violation("stream acknowledgement order", "an acknowledgement of no batch: " + response.ShortDebugString());
          return;
        }
        InFlight batch = std::move(in_flight.front());
        in_flight.pop_front();
        ++acks;
        if (response.batch_id() != batch.id) {
          history_.Violation("stream acknowledgement order", "expected batch " + std::to_string(batch.id) + ", got " +
                                                                 std::to_string(response.batch_id()));
          RecordUnknown(batch.request);
          return;
        }
        if (response.has_result()) {
          RecordAcked(batch.request, response.result(), "stream");
          return;
        }
        const grpc::Status status(static_cast<grpc::StatusCode>(response.error().code()), response.error().message());
        history_.Note("producer stream batch refused: " + Category(status), address);
        if (Verbose()) std::printf("[stream] batch refused at %s: %s\n", address.c_str(), StatusText(status).c_str());
        if (AmbiguousNotLeaderMessage(status.error_message())) {
          ++history_.ambiguous_refusals;
          history_.Note("ambiguous not-leader refusal", "stream batch: " + status.error_message());
        }
        switch (ClassifyFailure(status, "")) {
          case WriteOutcome::kNothingWritten:
            ++history_.retried_nothing_written;
            resend.push_back(std::move(batch.request));
            follow = true;
            break;
          case WriteOutcome::kUnknown:
            ++history_.unknown_outcomes;
            RecordUnknown(batch.request);
            follow = true;
            break;
          default:
            history_.Violation("unexpected refusal", "stream batch at " + address + ": " + StatusText(status));
            break;
        }
      };
      while (!stopping() && !follow && !broken && Clock::now() < incarnation_end) {
        while (in_flight.size() < 3) {
          v1::ProduceStreamRequest request;
          request.set_batch_id(++batch_id);
          if (!resend.empty()) {
            *request.mutable_batch() = std::move(resend.front());
            resend.pop_front();
          } else {
            *request.mutable_batch() = new_batch();
          }
          in_flight.push_back({batch_id, request.batch()});
          if (!stream->Write(request)) {
            broken = true;
            break;
          }
        }
        if (broken) break;
        v1::ProduceStreamResponse response;
        if (!stream->Read(&response)) {
          broken = true;
          break;
        }
        handle(response);
        Pause(45ms);
      }
      if (!broken) {
        stream->WritesDone();
        v1::ProduceStreamResponse response;
        while (!in_flight.empty() && stream->Read(&response)) handle(response);
      }
      const grpc::Status ended = stream->Finish();
      const std::string hint = LeaderHintOf(call);
      if (!ended.ok()) history_.Note("producer stream ended: " + Category(ended), address);
      if (Verbose())
        std::printf("[stream] at %s: %d acks, %zu unacknowledged, %s; ended %s\n", address.c_str(), acks,
                    in_flight.size(), follow ? "left after a refusal" : broken ? "broken" : "closed",
                    StatusText(ended).c_str());
      // Batches never acknowledged: written nowhere only when the stream was refused as a whole
      // before anything was read (a follower's refusal at the start).
      const bool refused_at_start =
          acks == 0 && !ended.ok() && ClassifyFailure(ended, hint) == WriteOutcome::kNothingWritten;
      for (InFlight& batch : in_flight) {
        if (refused_at_start) {
          ++history_.retried_nothing_written;
          resend.push_back(std::move(batch.request));
        } else {
          ++history_.unknown_outcomes;
          RecordUnknown(batch.request);
        }
      }
      if (follow || !ended.ok()) {
        client.Follow(hint);
        Pause(50ms);
      }
    }
    for (const v1::ProduceRequest& request : resend) history_.Note("stream batches not sent at the end", request.topic());
  }

  // Unary Produce with idempotency keys: each logical produce is sent until acknowledged (across
  // failovers, with the same key); every fifth, an acknowledged key is sent again on purpose.
  void UnaryProducer() {
    LeaderClient client(addresses_);
    std::mt19937_64 rng(seed_ * 31 + 2);
    struct Done {
      v1::ProduceRequest request;
      std::uint64_t first_offset;
    };
    std::deque<Done> done;
    for (std::uint64_t n = 0; !stopping(); ++n) {
      v1::ProduceRequest request;
      request.set_topic(kUnaryTopic);
      request.set_idempotency_key("u-" + std::to_string(n));
      const int events = 1 + static_cast<int>(n % 2);
      for (int i = 0; i < events; ++i) {
        v1::EventData* event = request.add_events();
        event->set_payload("u-" + std::to_string(n) + "-" + std::to_string(i) + "-" + Filler(rng, 10, 60));
        if (n % 3 == 0) event->set_key("u-key-" + std::to_string(n % 7));
        if (n % 5 == 0) {
          v1::Header* header = event->add_headers();
          header->set_name("source");
          header->set_value("unary");
        }
      }
      RecordSent(request);
      v1::ProduceResponse response;
      const LeaderClient::WriteResult result = client.Write(
          [&](v1::Goethe::Stub& stub, grpc::ClientContext* call) { return stub.Produce(call, request, &response); },
          /*idempotent=*/true, Clock::now() + 40s, &stop_);
      CountAmbiguous(result, "unary produce");
      history_.idempotent_retries += result.attempts - 1;
      if (result.outcome == WriteOutcome::kAcknowledged) {
        RecordAcked(request, response, "unary");
        done.push_back({request, response.first_offset()});
        if (done.size() > 300) done.pop_front();
      } else if (result.outcome == WriteOutcome::kUnknown || result.maybe_written) {
        ++history_.unknown_outcomes;
        RecordUnknown(request);
      } else if (result.outcome == WriteOutcome::kFailed) {
        history_.Violation("unexpected refusal", "unary produce " + request.idempotency_key() + ": " + StatusText(result.status));
      }
      if (n % 5 == 4 && !done.empty() && !stopping()) {
        const Done& again = done[rng() % done.size()];
        v1::ProduceResponse repeat;
        const LeaderClient::WriteResult repeated = client.Write(
            [&](v1::Goethe::Stub& stub, grpc::ClientContext* call) { return stub.Produce(call, again.request, &repeat); },
            true, Clock::now() + 5s, &stop_);
        if (repeated.outcome == WriteOutcome::kAcknowledged) {
          ++history_.duplicates_checked;
          if (!repeat.duplicate() || repeat.first_offset() != again.first_offset)
            history_.Violation("idempotency", "unary key " + again.request.idempotency_key() + " acknowledged at " +
                                                  std::to_string(again.first_offset) + "; sent again: " +
                                                  repeat.ShortDebugString());
        }
      }
      Pause(40ms);
    }
  }

  // ProduceMulti across two topics, atomic, with idempotency keys; repeats like UnaryProducer.
  void MultiProducer() {
    LeaderClient client(addresses_);
    std::mt19937_64 rng(seed_ * 31 + 3);
    struct Done {
      v1::ProduceMultiRequest request;
      std::vector<std::uint64_t> first_offsets;
    };
    std::deque<Done> done;
    for (std::uint64_t n = 0; !stopping(); ++n) {
      v1::ProduceMultiRequest request;
      request.set_idempotency_key("m-" + std::to_string(n));
      for (const std::string& topic : {kMultiA, kMultiB}) {
        v1::ProduceRequest* part = request.add_topics();
        part->set_topic(topic);
        const int events = 1 + static_cast<int>(rng() % 2);
        for (int i = 0; i < events; ++i) {
          v1::EventData* event = part->add_events();
          event->set_payload("m-" + std::to_string(n) + "-" + topic.substr(topic.size() - 1) + std::to_string(i) + "-" +
                             Filler(rng, 10, 40));
          if (i == 0) event->set_key("m-key-" + std::to_string(n % 5));
        }
        RecordSent(*part);
      }
      v1::ProduceMultiResponse response;
      const LeaderClient::WriteResult result = client.Write(
          [&](v1::Goethe::Stub& stub, grpc::ClientContext* call) { return stub.ProduceMulti(call, request, &response); },
          true, Clock::now() + 40s, &stop_);
      CountAmbiguous(result, "produce multi");
      history_.idempotent_retries += result.attempts - 1;
      if (result.outcome == WriteOutcome::kAcknowledged) {
        if (response.topics_size() != request.topics_size()) {
          history_.Violation("malformed acknowledgement", "multi " + request.idempotency_key() + ": " + response.ShortDebugString());
        } else {
          Done entry{request, {}};
          for (int t = 0; t < request.topics_size(); ++t) {
            RecordAcked(request.topics(t), response.topics(t), "multi");
            entry.first_offsets.push_back(response.topics(t).first_offset());
          }
          done.push_back(std::move(entry));
          if (done.size() > 300) done.pop_front();
        }
      } else if (result.outcome == WriteOutcome::kUnknown || result.maybe_written) {
        ++history_.unknown_outcomes;
        for (const v1::ProduceRequest& part : request.topics()) RecordUnknown(part);
      } else if (result.outcome == WriteOutcome::kFailed) {
        history_.Violation("unexpected refusal", "produce multi " + request.idempotency_key() + ": " + StatusText(result.status));
      }
      if (n % 5 == 4 && !done.empty() && !stopping()) {
        const Done& again = done[rng() % done.size()];
        v1::ProduceMultiResponse repeat;
        const LeaderClient::WriteResult repeated = client.Write(
            [&](v1::Goethe::Stub& stub, grpc::ClientContext* call) { return stub.ProduceMulti(call, again.request, &repeat); },
            true, Clock::now() + 5s, &stop_);
        if (repeated.outcome == WriteOutcome::kAcknowledged) {
          ++history_.duplicates_checked;
          bool same = repeat.duplicate() && repeat.topics_size() == static_cast<int>(again.first_offsets.size());
          for (int t = 0; same && t < repeat.topics_size(); ++t)
            same = repeat.topics(t).first_offset() == again.first_offsets[static_cast<std::size_t>(t)];
          if (!same)
            history_.Violation("idempotency", "multi key " + again.request.idempotency_key() + " sent again: " +
                                                  repeat.ShortDebugString());
        }
      }
      Pause(70ms);
    }
  }

  // A named consumer on the stream topic: subscribes from its cursor at the leader, acks every
  // batch on the stream, and about every 300 ms commits the last offset it processed with a unary
  // CommitCursor, whose acknowledgements it records.
  void CursorConsumer() {
    LeaderClient client(addresses_);
    auto last_commit = Clock::now();
    while (!stopping()) {
      if (!client.EnsureLeader(Clock::now() + 1s, &stop_)) continue;
      ++history_.consumer_streams;
      const std::string address = client.address();
      grpc::ClientContext call;
      call.set_deadline(In(6s));  // a new stream every few seconds: cursor starts are exercised
      auto stream = client.stub().Consume(&call);
      v1::ConsumeRequest subscribe;
      v1::Subscribe* s = subscribe.mutable_subscribe();
      s->set_topic(kStreamTopic);
      s->set_consumer(kConsumer);
      s->mutable_start()->mutable_cursor()->set_fallback(v1::CURSOR_FALLBACK_BEGINNING);
      s->set_window(300);
      const Clock::time_point sent_at = Clock::now();
      std::optional<std::uint64_t> processed;
      if (stream->Write(subscribe)) {
        v1::ConsumeResponse response;
        while (!stopping() && stream->Read(&response)) {
          if (response.has_subscribed()) {
            history_.Subscribed({sent_at, address, response.subscribed().resolved_offset()});
            continue;
          }
          if (response.events().events_size() == 0) continue;
          for (const v1::Event& event : response.events().events()) history_.Seen(kStreamTopic, event, "consumer");
          processed = response.events().events(response.events().events_size() - 1).offset();
          v1::ConsumeRequest ack;
          ack.mutable_ack()->set_offset(*processed);
          if (!stream->Write(ack)) break;
          if (Clock::now() - last_commit >= 300ms) {
            last_commit = Clock::now();
            v1::CommitCursorRequest commit;
            commit.set_topic(kStreamTopic);
            commit.set_consumer(kConsumer);
            commit.set_offset(*processed);
            v1::CommitCursorResponse committed;
            grpc::ClientContext unary;
            unary.set_deadline(In(2s));
            const grpc::Status status = client.stub().CommitCursor(&unary, commit, &committed);
            if (status.ok()) {
              history_.Committed(*processed, Clock::now());
              if (committed.cursor().offset() < *processed)
                history_.Violation("cursor", "CommitCursor(" + std::to_string(*processed) + ") at " + address +
                                                 " answered " + committed.ShortDebugString());
            } else if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
              history_.Note("cursor commit behind the cursor", address + ": " + StatusText(status));
            } else if (AmbiguousNotLeaderMessage(status.error_message())) {
              ++history_.ambiguous_refusals;
              history_.Note("ambiguous not-leader refusal", "commit cursor: " + status.error_message());
            }
          }
        }
      }
      if (stopping()) {
        stream->WritesDone();
        call.TryCancel();
      }
      v1::ConsumeResponse rest;
      while (stream->Read(&rest)) {
      }
      const grpc::Status ended = stream->Finish();
      if (!ended.ok() && ended.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED)
        history_.Note("consumer stream ended: " + Category(ended), address);
      if (Verbose())
        std::printf("[consumer] stream at %s ended after %lld ms: %s\n", address.c_str(), Ms(Clock::now() - sent_at),
                    StatusText(ended).c_str());
      if (!ended.ok() && ended.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED &&
          ended.error_code() != grpc::StatusCode::CANCELLED) {
        client.Follow(LeaderHintOf(call));
        Pause(100ms);
      }
    }
  }

  // A member of a consumer group on the stream topic, acking every event it gets.
  void GroupMember() {
    LeaderClient client(addresses_);
    while (!stopping()) {
      if (!client.EnsureLeader(Clock::now() + 1s, &stop_)) continue;
      ++history_.group_streams;
      grpc::ClientContext call;
      call.set_deadline(In(6s));
      auto stream = client.stub().Consume(&call);
      v1::ConsumeRequest subscribe;
      v1::Subscribe* s = subscribe.mutable_subscribe();
      s->set_topic(kStreamTopic);
      s->mutable_group()->set_name(kGroup);
      s->mutable_group()->mutable_settings()->mutable_ack_wait()->set_seconds(3);
      s->mutable_start()->set_beginning(true);
      s->set_window(100);
      if (stream->Write(subscribe)) {
        v1::ConsumeResponse response;
        while (!stopping() && stream->Read(&response)) {
          if (!response.has_events() || response.events().events_size() == 0) continue;
          v1::ConsumeRequest ack;
          for (const v1::Event& event : response.events().events()) {
            history_.Seen(kStreamTopic, event, "group");
            ack.mutable_group_ack()->add_offsets(event.offset());
          }
          if (!stream->Write(ack)) break;
        }
      }
      if (stopping()) {
        stream->WritesDone();
        call.TryCancel();
      }
      v1::ConsumeResponse rest;
      while (stream->Read(&rest)) {
      }
      const grpc::Status ended = stream->Finish();
      if (!ended.ok() && ended.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED)
        history_.Note("group stream ended: " + Category(ended), client.address());
      if (Verbose()) std::printf("[group] stream at %s ended: %s\n", client.address().c_str(), StatusText(ended).c_str());
      if (!ended.ok() && ended.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED &&
          ended.error_code() != grpc::StatusCode::CANCELLED) {
        client.Follow(LeaderHintOf(call));
        Pause(100ms);
      }
    }
  }

  // Every ~250 ms: a probe write to the leader, then, on the node that acknowledged it, the
  // consumer's cursor and the group's ack floor. The write shows the node led (done taking over)
  // when it was sent, so what it answers right after holds every write acknowledged before.
  void Observer() {
    LeaderClient client(addresses_);
    for (std::uint64_t n = 0; !stopping(); ++n) {
      Pause(250ms);
      if (!client.EnsureLeader(Clock::now() + 1s, &stop_)) continue;
      v1::ProduceRequest probe;
      probe.set_topic(kProbeTopic);
      probe.set_idempotency_key("p-" + std::to_string(n));
      probe.add_events()->set_payload("probe-" + std::to_string(n));
      RecordSent(probe);
      v1::ProduceResponse produced;
      const Clock::time_point sent_at = Clock::now();
      grpc::ClientContext call;
      call.set_deadline(In(1s));
      const grpc::Status status = client.stub().Produce(&call, probe, &produced);
      if (!status.ok()) {
        if (AmbiguousNotLeaderMessage(status.error_message())) {
          ++history_.ambiguous_refusals;
          history_.Note("ambiguous not-leader refusal", "probe: " + status.error_message());
        }
        const WriteOutcome outcome = ClassifyFailure(status, LeaderHintOf(call));
        if (outcome == WriteOutcome::kUnknown) {
          ++history_.unknown_outcomes;
          RecordUnknown(probe);
        } else if (outcome == WriteOutcome::kFailed) {
          history_.Violation("unexpected refusal", "probe at " + client.address() + ": " + StatusText(status));
        }
        client.Follow(LeaderHintOf(call));
        continue;
      }
      RecordAcked(probe, produced, "probe");
      LeaderObservation observation;
      observation.sent_at = sent_at;
      observation.node = client.address();
      {
        v1::GetCursorRequest request;
        request.set_topic(kStreamTopic);
        request.set_consumer(kConsumer);
        v1::GetCursorResponse response;
        grpc::ClientContext read;
        read.set_deadline(In(1s));
        const grpc::Status got = client.stub().GetCursor(&read, request, &response);
        if (got.ok()) {
          observation.cursor = response.cursor().offset();
        } else if (got.error_code() != grpc::StatusCode::NOT_FOUND) {
          continue;  // no answer: no observation
        }
      }
      {
        v1::DescribeGroupRequest request;
        request.set_topic(kStreamTopic);
        request.set_group(kGroup);
        request.set_max_pending(1);
        v1::DescribeGroupResponse response;
        grpc::ClientContext read;
        read.set_deadline(In(1s));
        if (client.stub().DescribeGroup(&read, request, &response).ok()) observation.floor = response.group().ack_floor();
      }
      observation.done_at = Clock::now();
      history_.Observed(std::move(observation));
    }
  }

  // Reads at random offsets of random topics from a follower (any node but the one that leads).
  void FollowerReader() {
    LeaderClient client(addresses_);
    std::mt19937_64 rng(seed_ * 31 + 7);
    const std::vector<std::string> topics = {kStreamTopic, kUnaryTopic, kMultiA, kMultiB};
    auto looked = Clock::now() - 1h;
    while (!stopping()) {
      Pause(60ms);
      if (Clock::now() - looked >= 1s) {
        client.FindLeader();
        looked = Clock::now();
      }
      std::vector<std::string> followers;
      for (const std::string& address : addresses_) {
        if (address != client.address()) followers.push_back(address);
      }
      const std::string& node = followers[rng() % followers.size()];
      const std::string& topic = topics[rng() % topics.size()];
      const std::uint64_t head = history_.HeadHint(topic);
      v1::ReadRequest request;
      request.set_topic(topic);
      request.set_from_offset(head == 0 ? 0 : rng() % head);
      request.set_max_events(20);
      v1::ReadResponse response;
      grpc::ClientContext call;
      call.set_deadline(In(1s));
      if (!client.StubAt(node).Read(&call, request, &response).ok()) continue;
      ++history_.follower_reads;
      for (const v1::Event& event : response.events()) history_.Seen(topic, event, "read@" + node);
    }
  }

  const std::vector<std::string> addresses_;
  History& history_;
  const std::uint64_t seed_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

// ---------------------------------------------------------------------------------------------
// The end state of a node, read in full.

struct NodeContent {
  std::string error;  // empty when read in full
  std::map<std::string, v1::Topic> topics;
  std::map<std::string, std::vector<v1::Event>> events;  // by topic, in offset order
  std::map<std::string, std::vector<v1::Cursor>> cursors;
  std::map<std::string, std::vector<v1::Group>> groups;

  const v1::Event* Find(const std::string& topic, std::uint64_t offset) const {
    auto found = events.find(topic);
    if (found == events.end() || found->second.empty()) return nullptr;
    const std::uint64_t first = found->second.front().offset();
    if (offset < first || offset - first >= found->second.size()) return nullptr;
    const v1::Event& event = found->second[static_cast<std::size_t>(offset - first)];
    return event.offset() == offset ? &event : nullptr;
  }
};

NodeContent ReadNode(const std::string& address) {
  NodeContent content;
  LeaderClient client({address});
  v1::Goethe::Stub& stub = client.StubAt(address);
  v1::ListTopicsResponse listed;
  {
    grpc::ClientContext call;
    call.set_deadline(In(10s));
    const grpc::Status status = stub.ListTopics(&call, v1::ListTopicsRequest(), &listed);
    if (!status.ok()) {
      content.error = "ListTopics: " + StatusText(status);
      return content;
    }
  }
  for (const v1::Topic& topic : listed.topics()) {
    content.topics[topic.name()] = topic;
    std::vector<v1::Event>& events = content.events[topic.name()];
    std::uint64_t from = 0;
    for (;;) {
      v1::ReadRequest request;
      request.set_topic(topic.name());
      request.set_from_offset(from);
      request.set_max_events(2000);
      request.set_max_bytes(8 << 20);
      v1::ReadResponse page;
      grpc::ClientContext call;
      call.set_deadline(In(20s));
      const grpc::Status status = stub.Read(&call, request, &page);
      if (!status.ok()) {
        content.error = "Read " + topic.name() + " from " + std::to_string(from) + ": " + StatusText(status);
        return content;
      }
      for (const v1::Event& event : page.events()) events.push_back(event);
      if (page.next_offset() >= page.head()) break;
      if (page.next_offset() <= from && page.events_size() == 0) {
        content.error = "Read " + topic.name() + " made no progress at " + std::to_string(from);
        return content;
      }
      from = page.next_offset();
    }
    {
      v1::ListCursorsRequest request;
      request.set_topic(topic.name());
      v1::ListCursorsResponse response;
      grpc::ClientContext call;
      call.set_deadline(In(10s));
      if (const grpc::Status status = stub.ListCursors(&call, request, &response); !status.ok()) {
        content.error = "ListCursors " + topic.name() + ": " + StatusText(status);
        return content;
      }
      content.cursors[topic.name()].assign(response.cursors().begin(), response.cursors().end());
    }
    {
      v1::ListGroupsRequest request;
      request.set_topic(topic.name());
      v1::ListGroupsResponse response;
      grpc::ClientContext call;
      call.set_deadline(In(10s));
      if (const grpc::Status status = stub.ListGroups(&call, request, &response); !status.ok()) {
        content.error = "ListGroups " + topic.name() + ": " + StatusText(status);
        return content;
      }
      content.groups[topic.name()].assign(response.groups().begin(), response.groups().end());
    }
  }
  return content;
}

// Every node's topics as (name, next offset) pairs, for waiting until followers have applied all.
std::map<std::string, std::uint64_t> Heads(const std::string& address) {
  std::map<std::string, std::uint64_t> heads;
  LeaderClient client({address});
  v1::ListTopicsResponse listed;
  grpc::ClientContext call;
  call.set_deadline(In(2s));
  if (!client.StubAt(address).ListTopics(&call, v1::ListTopicsRequest(), &listed).ok()) return {};
  for (const v1::Topic& topic : listed.topics()) heads[topic.name()] = topic.next_offset();
  return heads;
}

// ---------------------------------------------------------------------------------------------
// The faults.

enum Fault { kKillLeader, kKillFollower, kKillTwo, kPauseLeader, kWipeFollower, kKillEtcd, kFaultKinds };
const char* const kFaultNames[kFaultKinds] = {"kill_leader",  "kill_follower", "kill_two",
                                              "pause_leader", "wipe_follower", "kill_etcd"};

class Campaign {
 public:
  Campaign(LocalCluster& cluster, History& history, std::uint64_t seed)
      : cluster_(cluster), history_(history), rng_(seed), starts_(static_cast<std::size_t>(cluster.size()), 1) {}

  // Starts node i again (its log goes to <name>-<start>.err); `wiped`: on an empty data dir.
  void StartNode(int i, bool wiped = false) {
    const int start = ++starts_[static_cast<std::size_t>(i)];
    if (wiped) wiped_logs_.insert(cluster_.node(i).name() + "-" + std::to_string(start) + ".err");
    cluster_.node(i).Start(kStartBound);
  }
  // The log files of the starts on a wiped data dir.
  const std::set<std::string>& wiped_logs() const { return wiped_logs_; }

  struct Round {
    Fault fault = kKillLeader;
    std::string detail;
    long long converge_ms = -1;
    long long round_ms = 0;
    std::string failure;  // empty: the round passed
  };

  Round Run(int number, Fault fault) {
    Round round;
    round.fault = fault;
    const Clock::time_point started = Clock::now();
    try {
      RunFault(fault, &round);
    } catch (const std::exception& e) {
      round.failure = std::string("exception: ") + e.what();
    }
    round.round_ms = Ms(Clock::now() - started);
    if (round.failure.empty() && round.round_ms > kRoundBound.count())
      round.failure = "the round took " + std::to_string(round.round_ms) + " ms, more than " +
                      std::to_string(kRoundBound.count()) + " ms";
    std::printf("round %d: %-13s %-28s converged in %5lld ms, round %5.1f s, %zu events acknowledged, %zu violations "
                "so far%s%s\n",
                number, kFaultNames[fault], round.detail.c_str(), round.converge_ms,
                static_cast<double>(round.round_ms) / 1000.0, history_.acked_count(), history_.violation_count(),
                round.failure.empty() ? "" : " -- FAILED: ", round.failure.c_str());
    std::fflush(stdout);
    return round;
  }

  // Nodes that ended without being killed by the campaign: crashes.
  void CheckForCrashes(const std::string& when) {
    for (int i = 0; i < cluster_.size(); ++i) {
      ClusterNode& node = cluster_.node(i);
      if (!node.running()) continue;
      if (std::optional<int> code = node.Exited()) {
        history_.Violation("crash", node.name() + " exited by itself with " + std::to_string(*code) + " (" + when +
                                        "); its log ends:\n" + Tail(node.output(), 3000));
        StartNode(i);
      }
    }
  }

  // Waits for a leader and every node in sync; the time it took, or -1 at the bound. In sync
  // means: the leader's view lists every node as leader or in sync, each node restarted or
  // resumed in this round (`fresh`) with a member record written since (a record of its previous
  // life says nothing), and every node holding at least what the leader held when that was seen
  // (a member may still be in the in-sync set, with less, until a write has waited max_lag for it).
  long long Converge(std::chrono::milliseconds bound, const std::vector<int>& fresh = {},
                     std::int64_t since_unix_nanos = 0) {
    const Clock::time_point start = Clock::now();
    const Clock::time_point deadline = start + bound;
    auto left = [&] { return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()); };
    for (;;) {
      if (left().count() <= 0) return -1;
      const int leader = cluster_.WaitForLeader(left());
      if (leader < 0) return -1;
      if (left().count() <= 0 || !cluster_.WaitAllInSync(leader, std::min<std::chrono::milliseconds>(left(), 2s))) continue;
      std::optional<v1::ClusterStatusResponse> status = cluster_.Status(leader);
      bool recorded = status.has_value();
      for (const int i : fresh) {
        bool found = false;
        if (status) {
          for (const v1::ClusterMember& member : status->members()) {
            if (member.name() == cluster_.node(i).name()) found = member.updated_unix_nanos() > since_unix_nanos;
          }
        }
        recorded = recorded && found;
      }
      if (!recorded) {
        std::this_thread::sleep_for(50ms);
        continue;
      }
      const std::map<std::string, std::uint64_t> want = Heads(cluster_.node(leader).address());
      if (want.empty()) continue;
      bool caught_up = false;
      while (!caught_up && left().count() > 0) {
        caught_up = true;
        for (int i = 0; i < cluster_.size() && caught_up; ++i) {
          const std::map<std::string, std::uint64_t> heads = Heads(cluster_.node(i).address());
          for (const auto& [topic, head] : want) {
            auto it = heads.find(topic);
            if (it == heads.end() || it->second < head) caught_up = false;
          }
        }
        if (!caught_up) std::this_thread::sleep_for(50ms);
      }
      if (caught_up && cluster_.AgreedLeader() == leader) return Ms(Clock::now() - start);
    }
  }

  std::array<int, kFaultKinds> counts{};

 private:
  int Follower(int leader) {
    std::vector<int> others;
    for (int i = 0; i < cluster_.size(); ++i) {
      if (i != leader) others.push_back(i);
    }
    return others[rng_() % others.size()];
  }

  void RunFault(Fault fault, Round* round) {
    CheckForCrashes("before the round");
    std::this_thread::sleep_for(1500ms);  // load on the settled cluster
    const int leader = cluster_.WaitForLeader(10s);
    if (leader < 0) {
      round->failure = "no agreed leader before the fault";
      return;
    }
    const int follower = Follower(leader);
    ClusterNode& l = cluster_.node(leader);
    ClusterNode& f = cluster_.node(follower);
    ++counts[fault];
    std::vector<int> fresh;  // nodes started again or resumed in this round
    const std::int64_t before_fault = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::system_clock::now().time_since_epoch()).count();
    switch (fault) {
      case kKillLeader: {
        round->detail = "(" + l.name() + ")";
        l.Kill();
        const int next = cluster_.WaitForLeader(15s, leader);
        if (next < 0) {
          round->failure = "no new leader within 15 s of the leader's SIGKILL";
          StartNode(leader);
          return;
        }
        round->detail = "(" + l.name() + " -> " + cluster_.node(next).name() + ")";
        StartNode(leader);
        fresh = {leader};
        break;
      }
      case kKillFollower:
        round->detail = "(" + f.name() + ")";
        f.Kill();
        std::this_thread::sleep_for(1500ms);  // past max_lag: the leader drops it from the in-sync set
        StartNode(follower);
        fresh = {follower};
        break;
      case kKillTwo:
        round->detail = "(" + l.name() + " leader, " + f.name() + ")";
        l.Kill();
        f.Kill();
        std::this_thread::sleep_for(kTtl + 500ms);  // the survivor alone: elected, too few in sync to write
        StartNode(leader);
        StartNode(follower);
        fresh = {leader, follower};
        break;
      case kPauseLeader:
        round->detail = "(" + l.name() + ")";
        l.Pause();
        std::this_thread::sleep_for(kTtl + 1500ms);
        l.Resume();
        fresh = {leader};
        break;
      case kWipeFollower:
        round->detail = "(" + f.name() + ")";
        f.Kill();
        std::filesystem::remove_all(cluster_.dir().Sub(f.name() + "-data"));
        StartNode(follower, /*wiped=*/true);
        fresh = {follower};
        break;
      case kKillEtcd: {
        const int member = etcd_next_++ % cluster_.etcd().size();
        round->detail = "(etcd " + cluster_.etcd().name(member) + ")";
        cluster_.etcd().Kill(member);
        std::this_thread::sleep_for(kTtl + 1000ms);
        cluster_.etcd().Restart(member);
        if (::testing::AssertionResult healthy = cluster_.etcd().WaitHealthy(20s); !healthy) {
          round->failure = std::string("etcd not healthy again: ") + healthy.message();
          return;
        }
        break;
      }
      case kFaultKinds:
        break;
    }
    round->converge_ms = Converge(kConvergeBound, fresh, before_fault);
    if (round->converge_ms < 0) {
      round->failure = "no leader with every node in sync within " + std::to_string(kConvergeBound.count()) + " ms";
      return;
    }
    CheckForCrashes("after the round");
    // Live: every client gets on again within 10 s of convergence — each producer has writes
    // acknowledged, the consumer, the group member and the follower reader see events, cursor
    // commits and leader observations succeed. A client left behind is an availability violation.
    const std::map<std::string, long> before = history_.progress();
    const Clock::time_point wait_from = Clock::now();
    std::vector<std::string> stalled;
    for (;;) {
      const std::map<std::string, long> now = history_.progress();
      stalled.clear();
      for (const char* kind : {"stream", "unary", "multi", "probe", "consumer", "group", "read", "cursor commit",
                               "leader observation"}) {
        auto was = before.find(kind);
        auto is = now.find(kind);
        if (is == now.end() || (was != before.end() && is->second <= was->second)) stalled.push_back(kind);
      }
      if (stalled.empty() || Clock::now() - wait_from >= 10s) break;
      std::this_thread::sleep_for(20ms);
    }
    if (!stalled.empty()) {
      std::string kinds;
      for (const std::string& kind : stalled) kinds += (kinds.empty() ? "" : ", ") + kind;
      std::string states;
      for (int i = 0; i < cluster_.size(); ++i) {
        std::optional<v1::ClusterStatusResponse> status = cluster_.Status(i);
        states += " " + cluster_.node(i).name() + (status && status->leader() == status->node() ? "(leader)" : "");
      }
      history_.Violation("availability", "after " + std::string(kFaultNames[fault]) + " " + round->detail +
                                             ": no progress within 10 s of convergence for: " + kinds + "; nodes:" + states);
    }
  }

  LocalCluster& cluster_;
  History& history_;
  std::mt19937_64 rng_;
  int etcd_next_ = 0;
  std::vector<int> starts_;  // per node, as ClusterNode counts them
  std::set<std::string> wiped_logs_;
};

// ---------------------------------------------------------------------------------------------
// The checker.

struct CheckFigures {
  std::size_t events_checked = 0;   // (acknowledged event, node) pairs verified
  std::size_t reads_checked = 0;    // events readers saw, verified
  std::size_t unknown_kept = 0;     // unknown-outcome events found in the log
  std::size_t final_events = 0;     // events in the reference node's log
};

CheckFigures Check(History& history, const std::vector<std::string>& names, const std::vector<NodeContent>& nodes,
                   int reference) {
  CheckFigures figures;
  const NodeContent& ref = nodes[static_cast<std::size_t>(reference)];
  const std::string& ref_name = names[static_cast<std::size_t>(reference)];
  const std::set<std::string> ours = {kStreamTopic, kUnaryTopic, kMultiA, kMultiB, kProbeTopic};

  // Each node's log: dense offsets, each payload once per topic, nothing never sent.
  for (std::size_t n = 0; n < nodes.size(); ++n) {
    for (const auto& [topic, events] : nodes[n].events) {
      const v1::Topic& info = nodes[n].topics.at(topic);
      if (events.size() != info.event_count() || (!events.empty() && events.front().offset() != info.first_offset()))
        history.Violation("log shape", names[n] + " " + topic + ": read " + std::to_string(events.size()) +
                                           " events, described " + info.ShortDebugString());
      std::map<std::string, std::uint64_t> where;
      for (std::size_t i = 0; i < events.size(); ++i) {
        const v1::Event& event = events[i];
        if (i > 0 && event.offset() != events[i - 1].offset() + 1)
          history.Violation("log shape", names[n] + " " + topic + ": offset " + std::to_string(event.offset()) +
                                             " follows " + std::to_string(events[i - 1].offset()));
        if (!ours.count(topic)) continue;
        auto [at, fresh] = where.emplace(event.payload(), event.offset());
        if (!fresh)
          history.Violation("duplicate", names[n] + " " + topic + ": payload '" + Printable(event.payload()) +
                                             "' at offsets " + std::to_string(at->second) + " and " +
                                             std::to_string(event.offset()));
        if (!history.sent().count(topic + '\n' + event.payload()))
          history.Violation("phantom", names[n] + " " + topic + ": never sent: " + EventText(event));
        if (n == static_cast<std::size_t>(reference) && history.unknown().count(topic + '\n' + event.payload()))
          ++figures.unknown_kept;
      }
    }
  }
  for (const auto& [topic, events] : ref.events) figures.final_events += events.size();

  // Convergence: every node holds what the reference holds.
  for (std::size_t n = 0; n < nodes.size(); ++n) {
    if (n == static_cast<std::size_t>(reference)) continue;
    const NodeContent& other = nodes[n];
    const std::string versus = names[n] + " vs " + ref_name;
    std::set<std::string> all;
    for (const auto& [topic, info] : ref.topics) all.insert(topic);
    for (const auto& [topic, info] : other.topics) all.insert(topic);
    for (const std::string& topic : all) {
      auto a = ref.topics.find(topic);
      auto b = other.topics.find(topic);
      if (a == ref.topics.end() || b == other.topics.end()) {
        history.Violation("divergence", versus + ": topic " + topic + " only on " +
                                            (a == ref.topics.end() ? names[n] : ref_name));
        continue;
      }
      const v1::Topic& x = a->second;
      const v1::Topic& y = b->second;
      if (x.id() != y.id() || x.created_unix_nanos() != y.created_unix_nanos() || x.first_offset() != y.first_offset() ||
          x.next_offset() != y.next_offset() || x.event_count() != y.event_count() || x.bytes() != y.bytes() ||
          x.first_timestamp_unix_nanos() != y.first_timestamp_unix_nanos() ||
          x.last_timestamp_unix_nanos() != y.last_timestamp_unix_nanos())
        history.Violation("divergence", versus + ": topic " + topic + " described differently:\n  " +
                                            x.ShortDebugString() + "\n  " + y.ShortDebugString());
      const std::vector<v1::Event>& ex = ref.events.at(topic);
      const std::vector<v1::Event>& ey = other.events.at(topic);
      int reported = 0;
      for (std::size_t i = 0; i < std::max(ex.size(), ey.size()); ++i) {
        const v1::Event* p = i < ex.size() ? &ex[i] : nullptr;
        const v1::Event* q = i < ey.size() ? &ey[i] : nullptr;
        if (p && q && SameEvent(*p, *q)) continue;
        if (reported++ < 5)
          history.Violation("divergence", versus + ": " + topic + " event #" + std::to_string(i) + ": " +
                                              (p ? EventText(*p) : "(none)") + " vs " + (q ? EventText(*q) : "(none)"));
      }
      if (reported > 5)
        history.Violation("divergence", versus + ": " + topic + ": " + std::to_string(reported - 5) + " more differing events");
      auto cursors_x = ref.cursors.at(topic), cursors_y = other.cursors.at(topic);
      bool same_cursors = cursors_x.size() == cursors_y.size();
      for (std::size_t i = 0; same_cursors && i < cursors_x.size(); ++i)
        same_cursors = cursors_x[i].consumer() == cursors_y[i].consumer() && cursors_x[i].offset() == cursors_y[i].offset() &&
                       cursors_x[i].updated_unix_nanos() == cursors_y[i].updated_unix_nanos();
      if (!same_cursors) {
        std::string text = versus + ": cursors of " + topic + " differ:";
        for (const v1::Cursor& c : cursors_x) text += "\n  " + ref_name + " " + c.ShortDebugString();
        for (const v1::Cursor& c : cursors_y) text += "\n  " + names[n] + " " + c.ShortDebugString();
        history.Violation("divergence", text);
      }
      auto groups_x = ref.groups.at(topic), groups_y = other.groups.at(topic);
      bool same_groups = groups_x.size() == groups_y.size();
      for (std::size_t i = 0; same_groups && i < groups_x.size(); ++i)
        same_groups = groups_x[i].name() == groups_y[i].name() && groups_x[i].ack_floor() == groups_y[i].ack_floor() &&
                      groups_x[i].created_unix_nanos() == groups_y[i].created_unix_nanos();
      if (!same_groups) {
        std::string text = versus + ": groups of " + topic + " differ:";
        for (const v1::Group& g : groups_x) text += "\n  " + ref_name + " " + g.ShortDebugString();
        for (const v1::Group& g : groups_y) text += "\n  " + names[n] + " " + g.ShortDebugString();
        history.Violation("divergence", text);
      }
    }
  }

  // Every acknowledged event, on every node, at its offset, with its bytes.
  int reported = 0;
  std::size_t lost = 0;
  for (const AckedEvent& acked : history.acked()) {
    for (std::size_t n = 0; n < nodes.size(); ++n) {
      ++figures.events_checked;
      const v1::Event* found = nodes[n].Find(acked.topic, acked.event.offset());
      if (found != nullptr && SameEvent(*found, acked.event)) continue;
      ++lost;
      if (reported++ < 40)
        history.Violation(found ? "acknowledged event changed" : "acknowledged event lost",
                          names[n] + " " + acked.topic + ": acknowledged (" + acked.source + ") " +
                              EventText(acked.event) + "; the node holds " + (found ? EventText(*found) : "nothing there"));
    }
  }
  if (reported > 40)
    history.Violation("acknowledged event lost", std::to_string(lost) + " (event, node) pairs in all");

  // Every event a reader saw: in the final log at that offset, the same.
  reported = 0;
  for (const SeenEvent& seen : history.seen()) {
    ++figures.reads_checked;
    const v1::Event* found = ref.Find(seen.topic, seen.event.offset());
    if (found != nullptr && SameEvent(*found, seen.event)) continue;
    if (reported++ < 40)
      history.Violation("read not in the final log", seen.source + " saw on " + seen.topic + " " + EventText(seen.event) +
                                                         "; the final log holds " +
                                                         (found ? EventText(*found) : "nothing there"));
  }

  // The consumer's cursor.
  std::uint64_t max_commit = 0;
  bool any_commit = false;
  for (const CursorCommit& commit : history.commits()) {
    max_commit = std::max(max_commit, commit.value);
    any_commit = true;
  }
  std::uint64_t max_observed_cursor = 0;
  for (const LeaderObservation& o : history.observations()) {
    if (o.cursor) max_observed_cursor = std::max(max_observed_cursor, *o.cursor);
  }
  for (std::size_t n = 0; n < nodes.size(); ++n) {
    std::optional<std::uint64_t> cursor;
    auto list = nodes[n].cursors.find(kStreamTopic);
    if (list != nodes[n].cursors.end()) {
      for (const v1::Cursor& c : list->second) {
        if (c.consumer() == kConsumer) cursor = c.offset();
      }
    }
    if (any_commit && (!cursor || *cursor < max_commit))
      history.Violation("cursor went back", names[n] + ": final cursor " + (cursor ? std::to_string(*cursor) : "none") +
                                                ", last acknowledged commit " + std::to_string(max_commit));
    if (cursor.value_or(0) < max_observed_cursor)
      history.Violation("cursor went back", names[n] + ": final cursor " + (cursor ? std::to_string(*cursor) : "none") +
                                                ", a leader showed " + std::to_string(max_observed_cursor));
  }
  // Never observed below a commit acknowledged before the observation started.
  std::vector<CursorCommit> commits = history.commits();
  std::sort(commits.begin(), commits.end(),
            [](const CursorCommit& a, const CursorCommit& b) { return a.acked_at < b.acked_at; });
  auto highest_before = [&commits](Clock::time_point t) -> std::optional<std::uint64_t> {
    std::optional<std::uint64_t> highest;
    for (const CursorCommit& c : commits) {
      if (c.acked_at >= t) break;
      highest = std::max(highest.value_or(0), c.value);
    }
    return highest;
  };
  reported = 0;
  for (const LeaderObservation& o : history.observations()) {
    const std::optional<std::uint64_t> committed = highest_before(o.sent_at);
    if (committed && (!o.cursor || *o.cursor < *committed) && reported++ < 20)
      history.Violation("cursor went back", "the leader " + o.node + " showed cursor " +
                                                (o.cursor ? std::to_string(*o.cursor) : "none") + " after commit " +
                                                std::to_string(*committed) + " was acknowledged");
  }
  reported = 0;
  for (const SubscribeObservation& s : history.subscribes()) {
    const std::optional<std::uint64_t> committed = highest_before(s.sent_at);
    if (committed && s.resolved < *committed + 1 && reported++ < 20)
      history.Violation("cursor went back", "the leader " + s.node + " started the consumer at " +
                                                std::to_string(s.resolved) + " (cursor " +
                                                (s.resolved == 0 ? std::string("none") : std::to_string(s.resolved - 1)) +
                                                ") after commit " + std::to_string(*committed) + " was acknowledged");
  }

  // The group's ack floor: never lower than a floor a leader showed before.
  std::uint64_t floor_seen = 0;
  const LeaderObservation* floor_from = nullptr;
  reported = 0;
  for (const LeaderObservation& o : history.observations()) {  // in order: one thread, one at a time
    if (!o.floor) continue;
    if (*o.floor < floor_seen && reported++ < 20)
      history.Violation("group ack floor went back", "the leader " + o.node + " showed " + std::to_string(*o.floor) +
                                                         " after " + floor_from->node + " had shown " +
                                                         std::to_string(floor_seen));
    if (*o.floor >= floor_seen) {
      floor_seen = *o.floor;
      floor_from = &o;
    }
  }
  for (std::size_t n = 0; n < nodes.size(); ++n) {
    std::optional<std::uint64_t> floor;
    auto list = nodes[n].groups.find(kStreamTopic);
    if (list != nodes[n].groups.end()) {
      for (const v1::Group& g : list->second) {
        if (g.name() == kGroup) floor = g.ack_floor();
      }
    }
    if (floor.value_or(0) < floor_seen)
      history.Violation("group ack floor went back", names[n] + ": final ack floor " +
                                                         (floor ? std::to_string(*floor) : "none") +
                                                         ", a leader showed " + std::to_string(floor_seen));
  }
  return figures;
}

// What the nodes' logs say happened, over all their starts: a node asked to overwrite an entry it
// had applied (its applied state and the leader's log disagree: it applied what was never
// committed, or the leader lost what was), and errors other than a paused leader's step-down, are
// violations; a copy of the store sent to a member that was not wiped is noted (it is also how a
// member too far behind the leader's log catches up).
void ScanLogs(LocalCluster& cluster, const std::set<std::string>& wiped_logs, History& history) {
  std::error_code ec;
  std::vector<std::filesystem::path> logs;
  for (const auto& entry : std::filesystem::directory_iterator(cluster.dir().path(), ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".err") logs.push_back(entry.path());
  }
  std::sort(logs.begin(), logs.end());
  for (const std::filesystem::path& path : logs) {
    const std::string file = path.filename().string();
    std::istringstream in(ReadWholeFile(path.string()));
    for (std::string line; std::getline(in, line);) {
      if (line.find("would replace applied entry") != std::string::npos) {
        history.Violation("applied state diverged", file + ": " + line);
      } else if ((line.find(" error ") != std::string::npos || line.find(" critical ") != std::string::npos) &&
                 line.find("stepped down from leading epoch") == std::string::npos) {
        history.Violation("node error", file + ": " + line);
      } else if (line.find("replacing this store with a copy") != std::string::npos && !wiped_logs.count(file)) {
        history.Note("copy of the store sent to a member that was not wiped", file + ": " + line);
      }
    }
  }
}

// Copies the nodes' and etcd's logs and configs (not their data) to a directory that outlives the
// test; its path.
std::string KeepLogs(LocalCluster& cluster) {
  std::string pattern = (std::filesystem::temp_directory_path() / "goethe-campaign-logs-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) return "(could not keep the logs)";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(cluster.dir().path(), ec)) {
    const std::string ext = entry.path().extension().string();
    if (entry.is_regular_file() && (ext == ".out" || ext == ".err" || ext == ".yaml"))
      std::filesystem::copy_file(entry.path(), std::filesystem::path(pattern) / entry.path().filename(), ec);
  }
  for (const auto& entry : std::filesystem::directory_iterator(cluster.etcd().dir(), ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".log")
      std::filesystem::copy_file(entry.path(), std::filesystem::path(pattern) / ("etcd-" + entry.path().filename().string()), ec);
  }
  return pattern;
}

std::string DescribeCluster(LocalCluster& cluster) { return cluster.Describe(4000); }

// Creates the campaign's topics and group at the leader.
bool CreateTopicsAndGroup(const std::vector<std::string>& addresses, std::string* error) {
  LeaderClient client(addresses);
  const auto deadline = Clock::now() + 20s;
  for (const std::string& topic : {kStreamTopic, kUnaryTopic, kMultiA, kMultiB, kProbeTopic}) {
    v1::CreateTopicRequest request;
    request.set_topic(topic);
    v1::CreateTopicResponse response;
    const LeaderClient::WriteResult result = client.Write(
        [&](v1::Goethe::Stub& stub, grpc::ClientContext* call) { return stub.CreateTopic(call, request, &response); },
        true, deadline);
    if (result.outcome != WriteOutcome::kAcknowledged && result.status.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
      *error = "CreateTopic " + topic + ": " + StatusText(result.status);
      return false;
    }
  }
  v1::CreateGroupRequest request;
  request.set_topic(kStreamTopic);
  request.set_group(kGroup);
  request.mutable_settings()->mutable_ack_wait()->set_seconds(3);
  request.mutable_start()->set_beginning(true);
  v1::CreateGroupResponse response;
  const LeaderClient::WriteResult result = client.Write(
      [&](v1::Goethe::Stub& stub, grpc::ClientContext* call) { return stub.CreateGroup(call, request, &response); },
      true, deadline);
  if (result.outcome != WriteOutcome::kAcknowledged && result.status.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
    *error = "CreateGroup: " + StatusText(result.status);
    return false;
  }
  return true;
}

TEST(ClusterCampaign, FaultRoundsLoseNothing) {
  std::string why_not;
  if (!EtcdCluster::Available(&why_not)) GTEST_SKIP() << why_not;
  int rounds = 20;
  if (const char* env = std::getenv("GOETHE_CAMPAIGN_ROUNDS"); env != nullptr && std::atoi(env) > 0) rounds = std::atoi(env);
  std::uint64_t seed = std::random_device{}();
  if (const char* env = std::getenv("GOETHE_CAMPAIGN_SEED"); env != nullptr && *env != '\0') seed = std::strtoull(env, nullptr, 10);
  std::printf("fault campaign: %d rounds, seed %llu (GOETHE_CAMPAIGN_SEED repeats its choices)\n", rounds,
              static_cast<unsigned long long>(seed));

  ClusterOptions options;
  options.nodes = 3;
  options.etcd_members = 3;
  options.session_ttl = "2s";
  options.extra_replication = "max_lag: 1s\n";
  // storage.sync false: the campaign checks replication (what the leader acknowledged is on every
  // in-sync member and survives failovers), not fsync; processes are killed, never the machine, so
  // the page cache survives. Durability with sync on is covered by the engine crash and fault tests.
  options.sync = false;
  const Clock::time_point campaign_start = Clock::now();
  // This machine's build tree is shared: a goethe-server rebuilt during the campaign would mix two
  // builds in one cluster (nodes started later run the new one). Said in the summary when it happens.
  std::error_code ec;
  const auto binary_time = std::filesystem::last_write_time(ServerBinary(), ec);
  LocalCluster cluster(options);
  cluster.StartAll();
  std::vector<std::string> addresses, names;
  for (int i = 0; i < cluster.size(); ++i) {
    addresses.push_back(cluster.node(i).address());
    names.push_back(cluster.node(i).name());
  }
  std::string error;
  ASSERT_TRUE(CreateTopicsAndGroup(addresses, &error)) << error << DescribeCluster(cluster);

  History history;
  Campaign campaign(cluster, history, seed);
  std::vector<long long> convergence;
  std::string aborted;
  {
    Load load(addresses, history, seed);
    load.Start();
    std::this_thread::sleep_for(2s);
    for (int round = 1; round <= rounds; ++round) {
      const Fault fault = static_cast<Fault>((round - 1) % kFaultKinds);
      const Campaign::Round result = campaign.Run(round, fault);
      if (result.converge_ms >= 0) convergence.push_back(result.converge_ms);
      if (!result.failure.empty()) {
        aborted = "round " + std::to_string(round) + " (" + kFaultNames[fault] + " " + result.detail + "): " + result.failure;
        break;
      }
    }
    load.Stop();
  }
  campaign.CheckForCrashes("after the load stopped");

  // The end: a leader, every node in sync, every node holding what the leader holds. After an
  // aborted round too: whatever is down is brought back, and the history is checked against what
  // the nodes hold whenever they agree on a leader.
  for (int i = 0; i < cluster.etcd().size(); ++i) {
    if (!cluster.etcd().running(i)) cluster.etcd().Restart(i);
  }
  for (int i = 0; i < cluster.size(); ++i) {
    try {
      if (cluster.node(i).paused()) cluster.node(i).Resume();
      if (!cluster.node(i).running()) campaign.StartNode(i);
    } catch (const std::exception& e) {
      history.Violation("crash", std::string("at the end: ") + e.what());
    }
  }
  const long long final_converge_ms = campaign.Converge(kConvergeBound);
  const int reference = cluster.AgreedLeader();
  if (final_converge_ms < 0)
    history.Violation("convergence", "no leader with every node in sync within 30 s after the load stopped");
  if (reference >= 0) {
    const Clock::time_point start = Clock::now();
    std::map<std::string, std::uint64_t> want;
    bool same = false;
    while (!same && Clock::now() - start < kConvergeBound) {
      want = Heads(addresses[static_cast<std::size_t>(reference)]);
      same = !want.empty();
      for (const std::string& address : addresses) same = same && Heads(address) == want;
      if (!same) std::this_thread::sleep_for(100ms);
    }
    if (!same) {
      std::string text = "the nodes' topics did not reach the leader's heads within 30 s:";
      for (const std::string& address : addresses) {
        text += "\n  " + address + ":";
        for (const auto& [topic, head] : Heads(address)) text += " " + topic + "=" + std::to_string(head);
      }
      history.Violation("convergence", text);
    }
  }

  ScanLogs(cluster, campaign.wiped_logs(), history);
  const bool rebuilt = std::filesystem::last_write_time(ServerBinary(), ec) != binary_time;

  CheckFigures figures;
  if (reference >= 0) {
    std::vector<NodeContent> nodes;
    for (const std::string& address : addresses) nodes.push_back(ReadNode(address));
    bool readable = true;
    for (std::size_t n = 0; n < nodes.size(); ++n) {
      if (!nodes[n].error.empty()) {
        history.Violation("unreadable node", names[n] + ": " + nodes[n].error);
        readable = false;
      }
    }
    if (readable) figures = Check(history, names, nodes, reference);
  }

  // The summary.
  const std::size_t violations = history.violation_count();
  const double seconds = static_cast<double>(Ms(Clock::now() - campaign_start)) / 1000.0;
  std::string faults;
  for (int k = 0; k < kFaultKinds; ++k) faults += std::string(k ? " " : "") + kFaultNames[k] + "=" + std::to_string(campaign.counts[static_cast<std::size_t>(k)]);
  const long long max_converge = convergence.empty() ? 0 : *std::max_element(convergence.begin(), convergence.end());
  std::printf("\n=== fault campaign summary ===\n");
  std::printf("rounds: %zu of %d%s\n", convergence.size(), rounds, aborted.empty() ? "" : " (aborted)");
  std::printf("faults: %s\n", faults.c_str());
  std::printf("events acknowledged: %zu (unknown outcome: %zu sent, %zu of them kept)\n", history.acked().size(),
              history.unknown().size(), figures.unknown_kept);
  std::printf("events checked: %zu (acknowledged event x node); events in the final log: %zu\n", figures.events_checked,
              figures.final_events);
  std::printf("reads checked: %zu (consumer, group member, %ld follower reads); consumer streams %ld, group streams %ld\n",
              figures.reads_checked, history.follower_reads.load(), history.consumer_streams.load(),
              history.group_streams.load());
  std::printf("cursor commits acknowledged: %zu; leader observations: %zu; consumer subscribes: %zu\n",
              history.commits().size(), history.observations().size(), history.subscribes().size());
  std::printf("writes re-sent after 'nothing written': %ld; keyed writes re-sent after unknown outcome: %ld; "
              "acknowledged keys re-sent (duplicate checks): %ld\n",
              history.retried_nothing_written.load(), history.idempotent_retries.load(),
              history.duplicates_checked.load());
  std::printf("ambiguous 'not the leader ... may or may not be kept' refusals: %ld\n", history.ambiguous_refusals.load());
  std::printf("convergence per round: median %.0f ms, max %lld ms; final %lld ms\n", Median(convergence), max_converge,
              final_converge_ms);
  for (const auto& [kind, count] : history.note_counts()) {
    std::printf("note: %s: %ld\n", kind.c_str(), count);
    for (const std::string& text : history.notes().at(kind)) std::printf("  e.g. %s\n", text.c_str());
  }
  if (rebuilt) std::printf("WARNING: %s was rebuilt during the campaign: nodes started since ran the new build\n", ServerBinary().c_str());
  std::printf("violations: %zu\n", violations);
  for (const auto& [kind, list] : history.violations()) {
    std::printf("  %s: %zu\n", kind.c_str(), list.size());
    for (std::size_t i = 0; i < list.size() && i < 25; ++i) std::printf("    VIOLATION [%s] %s\n", kind.c_str(), list[i].c_str());
  }
  std::printf("CAMPAIGN rounds=%zu %s acked=%zu checked=%zu reads=%zu violations=%zu converge_median_ms=%.0f "
              "converge_max_ms=%lld seconds=%.0f\n",
              convergence.size(), faults.c_str(), history.acked().size(), figures.events_checked, figures.reads_checked,
              violations, Median(convergence), max_converge, seconds);
  std::fflush(stdout);
  RecordProperty("campaign_rounds", static_cast<int>(convergence.size()));
  RecordProperty("campaign_violations", static_cast<int>(violations));

  if (!aborted.empty() || violations > 0) {
    const std::string kept = KeepLogs(cluster);
    ADD_FAILURE() << (aborted.empty() ? "" : "aborted: " + aborted + "\n") << violations
                  << " violations (listed above); the nodes' and etcd's logs are kept in " << kept
                  << DescribeCluster(cluster);
  }
}

}  // namespace
}  // namespace goethe::testing
