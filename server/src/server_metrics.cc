#include "server_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <ctime>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "status_mapping.h"
#include "stream_registry.h"

namespace goethe::server {
namespace {

// Counts each call once, when its status goes out (callback and streaming calls alike).
class RequestCounter : public grpc::experimental::Interceptor {
 public:
  RequestCounter(metrics::Family<metrics::Counter>& requests, std::string method)
      : requests_(requests), method_(std::move(method)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      requests_.With({method_, GrpcCodeName(methods->GetSendStatus().error_code())}).Increment();
    }
    methods->Proceed();
  }

 private:
  metrics::Family<metrics::Counter>& requests_;
  std::string method_;
};

class RequestCounterFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RequestCounterFactory(metrics::Family<metrics::Counter>& requests) : requests_(requests) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    return new RequestCounter(requests_, info->method());
  }

 private:
  metrics::Family<metrics::Counter>& requests_;
};

// From /proc/self: resident memory, CPU seconds, open files and the start time, as Prometheus's
// own process_* metrics are named.
void CollectProcess(metrics::Collected& out) {
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream stat("/proc/self/stat");
  std::string line;
  if (std::getline(stat, line)) {
    // Fields after the command name (which may hold spaces), counted from field 3 (state).
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    std::vector<std::string> f;
    for (std::string field; fields >> field;) f.push_back(field);
    if (f.size() > 21) {
      const double utime = std::stod(f[11]), stime = std::stod(f[12]);
      out.Counter("process_cpu_seconds_total", "User and system CPU time spent, in seconds.", {}, (utime + stime) / tick);
      out.Gauge("process_resident_memory_bytes", "Resident memory size, in bytes.", {},
                std::stod(f[21]) * static_cast<double>(sysconf(_SC_PAGESIZE)));
      out.Gauge("process_virtual_memory_bytes", "Virtual memory size, in bytes.", {}, std::stod(f[20]));
      std::ifstream uptime("/proc/uptime");
      double up = 0;
      if (uptime >> up) {
        const double boot = static_cast<double>(std::time(nullptr)) - up;
        out.Gauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.", {},
                  boot + std::stod(f[19]) / tick);
      }
    }
  }
  std::error_code ec;
  std::size_t open = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::end(it);
       it.increment(ec))
    ++open;
  out.Gauge("process_open_fds", "Open file descriptors.", {}, static_cast<double>(open));
  struct rlimit limit {};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0)
    out.Gauge("process_max_fds", "The limit of open file descriptors.", {}, static_cast<double>(limit.rlim_cur));
}

// One gauge's series, at most `kMaxSeries` of them; the values beyond are summed under "_other"
// for every label, so a store with many cursors or groups still scrapes in one small page.
class CappedSeries {
 public:
  static constexpr std::size_t kMaxSeries = 1000;
  CappedSeries(metrics::Collected& out, std::string name, std::string help, std::string label)
      : out_(out), name_(std::move(name)), help_(std::move(help)), label_(std::move(label)) {}
  ~CappedSeries() {
    if (count_ > kMaxSeries) out_.Gauge(name_, help_, {{"topic", "_other"}, {label_, "_other"}}, other_);
  }
  void Add(const std::string& topic, const std::string& name, double value) {
    if (count_++ < kMaxSeries) out_.Gauge(name_, help_, {{"topic", topic}, {label_, name}}, value);
    else other_ += value;
  }

 private:
  metrics::Collected& out_;
  std::string name_, help_, label_;
  std::size_t count_ = 0;
  double other_ = 0;
};

// Consumer lag: events after each cursor, and each group's unacked events, up to the head.
void CollectLag(const EventLog& log, const std::vector<TopicInfo>& topics, metrics::Collected& out) {
  CappedSeries cursors(out, "goethe_cursor_lag_events", "Events after a cursor, up to its topic's head.", "consumer");
  CappedSeries groups(out, "goethe_group_lag_events", "Events of a consumer group not yet acked, up to its topic's head.",
                      "group");
  for (const TopicInfo& topic : topics) {
    if (auto listed = log.ListCursors(topic.name); listed.ok()) {
      for (const CursorInfo& cursor : *listed) cursors.Add(topic.name, cursor.consumer, static_cast<double>(cursor.lag));
    }
    if (auto listed = log.ListGroups(topic.name); listed.ok()) {
      for (const GroupInfo& group : *listed) groups.Add(topic.name, group.name, static_cast<double>(group.lag));
    }
  }
}

}  // namespace

ServerMetrics::ServerMetrics(metrics::Registry& registry)
    : registry_(registry),
      requests_(registry.AddCounter("goethe_grpc_requests_total", "gRPC calls finished, by method and status code.",
                                    {"method", "code"})),
      appended_events_(registry.AddCounter("goethe_appended_events_total", "Events appended, by topic.", {"topic"},
                                           kMaxTopicLabels)),
      appended_bytes_(registry.AddCounter("goethe_appended_bytes_total", "Payload bytes appended, by topic.",
                                          {"topic"}, kMaxTopicLabels)),
      delivered_events_(registry.AddCounter("goethe_delivered_events_total",
                                            "Events sent to consumers (Consume, Read), by topic.", {"topic"},
                                            kMaxTopicLabels)),
      delivered_bytes_(registry.AddCounter("goethe_delivered_bytes_total",
                                           "Payload bytes sent to consumers (Consume, Read), by topic.", {"topic"},
                                           kMaxTopicLabels)) {}

std::uint64_t BytesUnder(const std::string& path) {
  std::uint64_t bytes = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(path, ec); !ec && it != std::filesystem::end(it);
       it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      const std::uintmax_t size = it->file_size(size_ec);
      if (!size_ec) bytes += size;
    }
  }
  return bytes;
}

AppendTally TallyOf(const AppendRequest& request) {
  AppendTally tally;
  AppendTally::Part& part = tally.parts.emplace_back();
  part.topic = request.topic;
  part.events = request.payloads.size();
  for (const std::string& payload : request.payloads) part.bytes += payload.size();
  return tally;
}

AppendTally TallyOf(const MultiAppendRequest& request) {
  AppendTally tally;
  for (const AppendRequest& part : request.parts) tally.parts.push_back(TallyOf(part).parts.front());
  return tally;
}

void ServerMetrics::Appended(const AppendTally& tally) {
  for (const AppendTally::Part& part : tally.parts) {
    appended_events_.With({part.topic}).Increment(static_cast<double>(part.events));
    appended_bytes_.With({part.topic}).Increment(static_cast<double>(part.bytes));
    events_appended_.fetch_add(part.events, std::memory_order_relaxed);
    bytes_appended_.fetch_add(part.bytes, std::memory_order_relaxed);
  }
}

void ServerMetrics::Delivered(const std::string& topic, const google::protobuf::RepeatedPtrField<v1::Event>& events) {
  std::uint64_t bytes = 0;
  for (const v1::Event& event : events) bytes += event.payload().size();
  Delivered(topic, static_cast<std::uint64_t>(events.size()), bytes);
}

void ServerMetrics::Delivered(const std::string& topic, std::uint64_t events, std::uint64_t payload_bytes) {
  if (events == 0) return;
  delivered_events_.With({topic}).Increment(static_cast<double>(events));
  delivered_bytes_.With({topic}).Increment(static_cast<double>(payload_bytes));
  events_delivered_.fetch_add(events, std::memory_order_relaxed);
  bytes_delivered_.fetch_add(payload_bytes, std::memory_order_relaxed);
}

TrafficTotals ServerMetrics::Totals() const {
  return {events_appended_.load(std::memory_order_relaxed), bytes_appended_.load(std::memory_order_relaxed),
          events_delivered_.load(std::memory_order_relaxed), bytes_delivered_.load(std::memory_order_relaxed)};
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> ServerMetrics::InterceptorFactory() {
  return std::make_unique<RequestCounterFactory>(requests_);
}

void ServerMetrics::CollectAtScrape(const EventLog& log, const std::string& data_path, const StreamRegistry& streams) {
  registry_.AddCollector([&log, data_path, &streams](metrics::Collected& out) {
    out.Gauge("goethe_open_streams", "Open Consume and ProduceStream streams.", {}, static_cast<double>(streams.size()));
    const std::vector<TopicInfo> topics = log.ListTopicsLive();
    out.Gauge("goethe_topics", "Topics in the store.", {}, static_cast<double>(topics.size()));
    // Per topic up to the label cap; the rest summed under "_other".
    double other_events = 0, other_bytes = 0;
    for (std::size_t i = 0; i < topics.size(); ++i) {
      if (i < kMaxTopicLabels) {
        out.Gauge("goethe_topic_events", "Events retained, by topic.", {{"topic", topics[i].name}},
                  static_cast<double>(topics[i].event_count));
        out.Gauge("goethe_topic_stored_bytes", "Event bytes retained, by topic.", {{"topic", topics[i].name}},
                  static_cast<double>(topics[i].bytes));
      } else {
        other_events += static_cast<double>(topics[i].event_count);
        other_bytes += static_cast<double>(topics[i].bytes);
      }
    }
    if (topics.size() > kMaxTopicLabels) {
      out.Gauge("goethe_topic_events", "Events retained, by topic.", {{"topic", "_other"}}, other_events);
      out.Gauge("goethe_topic_stored_bytes", "Event bytes retained, by topic.", {{"topic", "_other"}}, other_bytes);
    }
    CollectLag(log, topics, out);
    out.Gauge("goethe_store_size_bytes", "Bytes of the store's files on disk.", {},
              static_cast<double>(BytesUnder(data_path)));
    CollectProcess(out);
  });
}

}  // namespace goethe::server
