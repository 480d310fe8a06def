// Consume catch-up: read `events` events from the consumer's committed cursor (falling back to the
// beginning), acknowledging each batch so the server keeps the position.
#include <google/protobuf/arena.h>

#include <vector>

#include "load_runs.h"
#include "load_stats.h"

namespace goethe::load {

int RunConsume(Stub& stub, const LoadOptions& options) {
  grpc::ClientContext context;
  auto stream = stub.Consume(&context);
  v1::ConsumeRequest subscribe;
  auto* s = subscribe.mutable_subscribe();
  s->set_topic(options.topic);
  s->set_consumer(options.consumer);
  s->mutable_start()->mutable_cursor()->set_fallback(v1::CURSOR_FALLBACK_BEGINNING);
  s->set_window(options.window);
  const auto start = Clock::now();
  if (!stream->Write(subscribe)) {
    std::fprintf(stderr, "consume: the stream closed at once: %s\n", stream->Finish().error_message().c_str());
    return 1;
  }
  Progress progress("consume", options.events);
  std::uint64_t received = 0;
  v1::ConsumeRequest ack;
  // Each batch is parsed into an arena whose first block is reused: a client that allocated a
  // message and a string per event would measure its own allocator rather than the server.
  std::vector<char> first_block(4 << 20);
  google::protobuf::ArenaOptions arena_options;
  arena_options.initial_block = first_block.data();
  arena_options.initial_block_size = first_block.size();
  while (received < options.events) {
    google::protobuf::Arena arena(arena_options);
    auto* response = google::protobuf::Arena::CreateMessage<v1::ConsumeResponse>(&arena);
    if (!stream->Read(response)) break;
    if (!response->has_events() || response->events().events_size() == 0) continue;
    received += response->events().events_size();
    ack.mutable_ack()->set_offset(response->events().events().rbegin()->offset());
    if (!stream->Write(ack)) break;
    progress.Update(received);
  }
  const double seconds = SecondsSince(start);
  context.TryCancel();
  stream->Finish();
  if (received < options.events) {
    std::fprintf(stderr, "consume: got %llu of %llu events\n", static_cast<unsigned long long>(received),
                 static_cast<unsigned long long>(options.events));
    return 1;
  }
  const double rate = received / seconds;
  std::fprintf(stderr, "consume: %llu events in %.2f s = %.0f events/s (window %u, cursor kept by the server)\n",
               static_cast<unsigned long long>(received), seconds, rate, options.window);
  PrintResult("consume-catch-up", {{"n", std::to_string(received)}, {"secs", Fixed(seconds, 3)},
                                   {"rate", Fixed(rate, 0)}, {"window", std::to_string(options.window)}});
  return 0;
}

}  // namespace goethe::load
