// ProduceStream throughput: one stream, `in_flight` batches of `batch` events unacknowledged, to
// one topic or round-robin over `topics`.
#include <cstdio>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

#include "load_runs.h"
#include "load_stats.h"

namespace goethe::load {
namespace {

// Event `i`'s `count` headers: what an event-sourced service typically sends (about 80 bytes for
// the first three), then numbered extras.
void AddHeaders(std::uint32_t count, std::uint64_t i, v1::EventData* event) {
  static const char* kNames[] = {"type", "content-type", "correlation-id"};
  char correlation[37];
  std::snprintf(correlation, sizeof correlation, "4f1c2a9e-7b3d-4e21-9c55-%012llx", static_cast<unsigned long long>(i));
  const std::string values[] = {"OrderPlaced", "application/json", correlation};
  for (std::uint32_t h = 0; h < count; ++h) {
    v1::Header* header = event->add_headers();
    if (h < 3) {
      header->set_name(kNames[h]);
      header->set_value(values[h]);
    } else {
      header->set_name("x-extra-" + std::to_string(h));
      header->set_value("value-" + std::to_string(h));
    }
  }
}

}  // namespace

int RunProduceStream(Stub& stub, const LoadOptions& options) {
  grpc::ClientContext context;
  auto stream = stub.ProduceStream(&context);
  const std::uint64_t batches = (options.events + options.batch - 1) / options.batch;
  std::counting_semaphore<> window(options.in_flight);
  PayloadSource payloads(options.payload_bytes, options.random_payloads);
  Progress progress("produce-stream", batches * options.batch);

  const auto start = Clock::now();
  std::thread writer([&] {
    v1::ProduceStreamRequest request;
    request.mutable_batch()->set_topic(options.topic);
    for (std::uint32_t i = 0; i < options.batch; ++i) {
      if (options.headers == 0) {
        request.mutable_batch()->add_payloads(payloads.Next());
        continue;
      }
      v1::EventData* event = request.mutable_batch()->add_events();
      event->set_payload(payloads.Next());
      AddHeaders(options.headers, i, event);
    }
    // --topics N: one batch to each topic in turn, as a service writing to many small topics does.
    std::vector<std::string> topics;
    for (std::uint32_t t = 0; options.topics > 1 && t < options.topics; ++t)
      topics.push_back(options.topic + "-" + std::to_string(t));
    for (std::uint64_t id = 0; id < batches; ++id) {
      window.acquire();
      request.set_batch_id(id);
      if (!topics.empty()) request.mutable_batch()->set_topic(topics[id % topics.size()]);
      if (!stream->Write(request)) break;
    }
    stream->WritesDone();
  });

  std::uint64_t acked = 0, events = 0, failed = 0;
  v1::ProduceStreamResponse response;
  while (acked < batches && stream->Read(&response)) {
    ++acked;
    if (response.has_error()) ++failed;
    else events += response.result().event_count();
    window.release();
    progress.Update(events);
  }
  const double seconds = SecondsSince(start);
  // Unblock the writer if the stream died early.
  for (std::uint64_t i = acked; i < batches; ++i) window.release();
  writer.join();
  grpc::Status status = stream->Finish();
  if (!status.ok() || failed > 0 || acked < batches) {
    std::fprintf(stderr, "produce-stream failed: %s (%llu of %llu batches acknowledged, %llu errors)\n",
                 status.error_message().c_str(), static_cast<unsigned long long>(acked),
                 static_cast<unsigned long long>(batches), static_cast<unsigned long long>(failed));
    return 1;
  }
  const double rate = events / seconds;
  std::fprintf(stderr, "produce-stream: %llu events in %.2f s = %.0f events/s (batch %u, %u in flight, %u topics)\n",
               static_cast<unsigned long long>(events), seconds, rate, options.batch, options.in_flight, options.topics);
  PrintResult("produce-stream", {{"n", std::to_string(events)}, {"secs", Fixed(seconds, 3)},
                                 {"rate", Fixed(rate, 0)}, {"batch", std::to_string(options.batch)},
                                 {"in_flight", std::to_string(options.in_flight)},
                                 {"headers", std::to_string(options.headers)},
                                 {"topics", std::to_string(options.topics)}});
  return 0;
}

}  // namespace goethe::load
