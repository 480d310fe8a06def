// Live-tail latency: a producer appends at a fixed rate, each payload carrying its send time; a
// tailing consumer on its own stream (on the same server, or with --consume-server on another node
// of the cluster) measures how long each event took to arrive.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "load_runs.h"
#include "load_stats.h"

namespace goethe::load {
namespace {

// Appends one event and waits for its acknowledgement, as a producer that needs each event
// accepted before it sends the next (NATS's js_Publish, Redis's XADD) would.
class PacedProducer {
 public:
  PacedProducer(Stub& stub, const LoadOptions& options) : stub_(stub), options_(options) {
    if (options.e2e_producer == "stream") stream_ = stub.ProduceStream(&stream_context_);
  }

  bool Append(const std::string& payload) {
    if (stream_ == nullptr) {
      grpc::ClientContext context;
      v1::ProduceRequest request;
      v1::ProduceResponse produced;
      request.set_topic(options_.topic);
      request.add_payloads(payload);
      return stub_.Produce(&context, request, &produced).ok();
    }
    batch_.set_batch_id(++batch_id_);
    batch_.mutable_batch()->set_topic(options_.topic);
    batch_.mutable_batch()->clear_payloads();
    batch_.mutable_batch()->add_payloads(payload);
    return stream_->Write(batch_) && stream_->Read(&ack_) && ack_.has_result();
  }

  // Closes the stream, if any; false when the server ended it with an error.
  bool Close() {
    if (stream_ == nullptr) return true;
    stream_->WritesDone();
    return stream_->Finish().ok();
  }

 private:
  Stub& stub_;
  const LoadOptions& options_;
  grpc::ClientContext stream_context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::ProduceStreamRequest, v1::ProduceStreamResponse>> stream_;
  v1::ProduceStreamRequest batch_;
  v1::ProduceStreamResponse ack_;
  std::uint64_t batch_id_ = 0;
};

}  // namespace

int RunEndToEnd(Stub& stub, Stub& consume_stub, const LoadOptions& options) {
  const auto total = static_cast<std::uint64_t>(options.rate * options.seconds);
  v1::ConsumeRequest subscribe;
  subscribe.mutable_subscribe()->set_topic(options.topic);
  subscribe.mutable_subscribe()->mutable_start()->set_end(true);
  subscribe.mutable_subscribe()->set_window(options.window);
  subscribe.mutable_subscribe()->set_read_only(true);

  CreateTopic(stub, options.topic);  // a consumer can subscribe only to an existing topic
  // On another node (a follower) the new topic may show a moment later: subscribe again for up to 5 s.
  std::unique_ptr<grpc::ClientContext> consume_context;
  std::unique_ptr<grpc::ClientReaderWriter<v1::ConsumeRequest, v1::ConsumeResponse>> stream;
  v1::ConsumeResponse response;
  const auto subscribe_deadline = Clock::now() + std::chrono::seconds(5);
  for (;;) {
    consume_context = std::make_unique<grpc::ClientContext>();
    stream = consume_stub.Consume(consume_context.get());
    if (stream->Write(subscribe) && stream->Read(&response) && response.has_subscribed()) break;
    const grpc::Status status = stream->Finish();
    if (status.error_code() != grpc::StatusCode::NOT_FOUND || Clock::now() >= subscribe_deadline) {
      std::fprintf(stderr, "e2e: subscribe failed: %s\n", status.error_message().c_str());
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  std::atomic<bool> producer_failed{false};
  std::mutex mutex;
  std::condition_variable changed;
  bool producing = true;
  bool consuming = true;
  double sending_seconds = 0;  // how long sending took: more than options.seconds when acks were slow
  std::thread producer([&] {
    const auto began = Clock::now();
    PayloadSource payloads(std::max<std::uint32_t>(options.payload_bytes, 8), options.random_payloads);
    PacedProducer producer(stub, options);
    SendPaced(options.rate, total, payloads, [&](std::uint64_t, const std::string& payload) {
      if (!producer.Append(payload)) producer_failed = true;
      return !producer_failed;
    });
    if (!producer.Close()) producer_failed = true;
    std::lock_guard lock(mutex);
    sending_seconds = SecondsSince(began);
    producing = false;
    changed.notify_all();
  });
  // The tail ends 10 s after the last send should events still be missing then: each event was
  // acknowledged, so a consumer that has not seen it by then is not going to (and its read would
  // otherwise wait for good).
  std::thread watchdog([&] {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return !producing || !consuming; });
    if (!changed.wait_for(lock, std::chrono::seconds(10), [&] { return !consuming; })) consume_context->TryCancel();
  });

  Latencies latencies;
  Progress progress("e2e", total);
  while (latencies.size() < total && stream->Read(&response)) {
    const std::int64_t now = NowNs();
    for (const auto& event : response.events().events()) latencies.Add((now - SentAt(event.payload())) / 1000.0);
    progress.Update(latencies.size());
  }
  {
    std::lock_guard lock(mutex);
    consuming = false;
    changed.notify_all();
  }
  producer.join();
  watchdog.join();
  consume_context->TryCancel();
  stream->Finish();
  const double sent_rate = static_cast<double>(total) / std::max(sending_seconds, 1e-9);
  if (producer_failed || latencies.size() < total) {
    std::fprintf(stderr, "e2e: received %zu of %llu events%s\n", latencies.size(),
                 static_cast<unsigned long long>(total), producer_failed ? ", a produce failed" : "");
    return 1;
  }
  // Each event waits for its acknowledgement: when acks take longer than 1/rate, fewer are sent.
  if (sent_rate < 0.95 * options.rate) {
    std::fprintf(stderr, "e2e: acknowledgements held the producer to %.0f events/s of the %.0f asked\n", sent_rate,
                 options.rate);
  }
  std::fprintf(stderr, "e2e at %.0f events/s, %s producer: p50 %.0f us, p90 %.0f us, p99 %.0f us, p99.9 %.0f us\n",
               options.rate, options.e2e_producer.c_str(), latencies.Percentile(50), latencies.Percentile(90),
               latencies.Percentile(99), latencies.Percentile(99.9));
  PrintResult("e2e", {{"n", std::to_string(latencies.size())}, {"rate_target", Fixed(options.rate, 0)},
                      {"rate_sent", Fixed(sent_rate, 0)},
                      {"producer", options.e2e_producer},
                      {"p50_us", Fixed(latencies.Percentile(50))}, {"p90_us", Fixed(latencies.Percentile(90))},
                      {"p99_us", Fixed(latencies.Percentile(99))}, {"p999_us", Fixed(latencies.Percentile(99.9))}});
  return 0;
}

}  // namespace goethe::load
