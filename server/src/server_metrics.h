// ServerMetrics: what the server measures (docs/http.md lists every name): gRPC requests by
// method and code (an interceptor), events and bytes appended and delivered per topic, and at
// scrape time the open streams, topics, store size and the process's memory, CPU and files.
// Names and units follow Prometheus's conventions (_total, _seconds, _bytes).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_interceptor.h>

#include "goethe/engine/event_log.h"
#include "goethe/metrics/registry.h"
#include "goethe/v1/goethe.pb.h"

namespace goethe::server {

class StreamRegistry;

// What an append adds, taken before its request moves into the engine and counted once it is
// acknowledged (an idempotent retry counts nothing: it wrote nothing).
struct AppendTally {
  struct Part {
    std::string topic;
    std::uint64_t events = 0;
    std::uint64_t bytes = 0;
  };
  std::vector<Part> parts;
};
AppendTally TallyOf(const AppendRequest& request);
AppendTally TallyOf(const MultiAppendRequest& request);
// An idempotent retry of an append across topics: its parts are duplicates.
inline bool WroteNothing(const MultiAppendOutcome& outcome) {
  return !outcome.parts.empty() && outcome.parts.front().result.duplicate;
}

// Every topic's appends and deliveries added up since the server started (ServerInfo).
struct TrafficTotals {
  std::uint64_t events_appended = 0;
  std::uint64_t bytes_appended = 0;
  std::uint64_t events_delivered = 0;
  std::uint64_t bytes_delivered = 0;
};

// The bytes of the files under `path` (the store). A walk that races a compaction leaves out what
// it misses.
std::uint64_t BytesUnder(const std::string& path);

class ServerMetrics {
 public:
  // At most this many topics get label values of their own; the rest share "_other".
  static constexpr std::size_t kMaxTopicLabels = 1000;

  explicit ServerMetrics(metrics::Registry& registry);

  void Appended(const AppendTally& tally);
  void Delivered(const std::string& topic, const google::protobuf::RepeatedPtrField<v1::Event>& events);
  void Delivered(const std::string& topic, std::uint64_t events, std::uint64_t payload_bytes);

  TrafficTotals Totals() const;

  // For ServerBuilder::experimental().SetInterceptorCreators: counts every call's outcome.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> InterceptorFactory();

  // The values read at scrape time. `log`, `streams` must outlive the registry's scrapes.
  void CollectAtScrape(const EventLog& log, const std::string& data_path, const StreamRegistry& streams);

 private:
  metrics::Registry& registry_;
  metrics::Family<metrics::Counter>& requests_;
  metrics::Family<metrics::Counter>& appended_events_;
  metrics::Family<metrics::Counter>& appended_bytes_;
  metrics::Family<metrics::Counter>& delivered_events_;
  metrics::Family<metrics::Counter>& delivered_bytes_;
  std::atomic<std::uint64_t> events_appended_{0};
  std::atomic<std::uint64_t> bytes_appended_{0};
  std::atomic<std::uint64_t> events_delivered_{0};
  std::atomic<std::uint64_t> bytes_delivered_{0};
};

}  // namespace goethe::server
