// Consumer groups: K members share a topic's events, each acking every event it gets.
//
// Catch-up: a fresh group reads the first `events` events of the topic (written before, as for
// `consume`); every member is a thread with its own connection that acks each batch's events by
// offset as soon as it has them. The time runs from when every member has joined until the group's
// ack floor (DescribeGroup) has passed the last event: every ack durable on the server.
// Live: the members join a fresh group at the end; a producer appends at a fixed rate, each payload
// carrying its send time, and each member records how long its events took to arrive.
// Redelivery: one member nacks events one at a time and times how long each takes to come back.
#include <google/protobuf/arena.h>

#include <atomic>
#include <cstring>
#include <latch>
#include <thread>
#include <vector>

#include "load_runs.h"
#include "load_stats.h"

namespace goethe::load {
namespace {

using ConsumeStream = grpc::ClientReaderWriter<v1::ConsumeRequest, v1::ConsumeResponse>;

std::string FreshGroupName(const std::string& prefix) { return prefix + "-" + std::to_string(NowNs()); }

v1::ConsumeRequest GroupSubscribe(const LoadOptions& options, const std::string& group) {
  v1::ConsumeRequest subscribe;
  auto* s = subscribe.mutable_subscribe();
  s->set_topic(options.topic);
  s->set_window(options.window);
  s->mutable_start()->set_beginning(true);
  s->mutable_group()->set_name(group);
  return subscribe;
}

// Until the group's ack floor reaches `events` (bounded): the acks are durable.
bool AwaitFloor(Stub& stub, const std::string& topic, const std::string& group, std::uint64_t events) {
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    grpc::ClientContext context;
    v1::DescribeGroupRequest request;
    request.set_topic(topic);
    request.set_group(group);
    request.set_max_pending(1);
    v1::DescribeGroupResponse response;
    if (!stub.DescribeGroup(&context, request, &response).ok()) return false;
    if (response.group().ack_floor() >= events) return true;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return false;
}

// One call context per member. A member's own connection that fails to come up at once (seen on a
// loaded machine: one of 16 "failed to connect") is tried again rather than failing the run; the
// scripts bound it in time.
std::vector<grpc::ClientContext> MemberContexts(std::uint32_t members) {
  std::vector<grpc::ClientContext> contexts(members);
  for (grpc::ClientContext& context : contexts) context.set_wait_for_ready(true);
  return contexts;
}

}  // namespace

int RunGroup(const StubFactory& connect, const LoadOptions& options) {
  const std::string group = FreshGroupName("bench-group");
  const std::uint64_t events = options.events;
  std::vector<std::atomic<std::uint8_t>> seen(events);
  std::atomic<std::uint64_t> acked{0}, duplicates{0}, redelivered{0};
  std::atomic<bool> failed{false};
  std::latch joined(options.members + 1);
  std::vector<std::thread> members;
  std::vector<std::unique_ptr<Stub>> stubs;
  for (std::uint32_t m = 0; m < options.members; ++m) stubs.push_back(connect());
  // Members with nothing left to get sit in Read: the main thread ends their calls.
  std::vector<grpc::ClientContext> contexts = MemberContexts(options.members);

  for (std::uint32_t m = 0; m < options.members; ++m) {
    members.emplace_back([&, m] {
      std::unique_ptr<ConsumeStream> stream = stubs[m]->Consume(&contexts[m]);
      v1::ConsumeResponse subscribed;
      if (!stream->Write(GroupSubscribe(options, group)) || !stream->Read(&subscribed) || !subscribed.has_subscribed()) {
        const grpc::Status ended = stream->Finish();
        std::fprintf(stderr, "group: member %u could not join: %s\n", m, ended.error_message().c_str());
        failed = true;
        joined.count_down();
        return;
      }
      joined.arrive_and_wait();
      std::vector<char> first_block(4 << 20);
      google::protobuf::ArenaOptions arena_options;
      arena_options.initial_block = first_block.data();
      arena_options.initial_block_size = first_block.size();
      v1::ConsumeRequest ack;
      while (acked.load() < events && !failed) {
        google::protobuf::Arena arena(arena_options);
        auto* response = google::protobuf::Arena::CreateMessage<v1::ConsumeResponse>(&arena);
        if (!stream->Read(response)) break;
        if (!response->has_events()) continue;
        auto* offsets = ack.mutable_group_ack()->mutable_offsets();
        offsets->Clear();
        std::uint64_t mine = 0;
        for (const v1::Event& event : response->events().events()) {
          offsets->Add(event.offset());
          if (event.delivery_count() > 1) ++redelivered;
          if (event.offset() >= events) continue;  // beyond the measured range: acked, not counted
          if (seen[event.offset()].exchange(1) != 0) ++duplicates;
          ++mine;
        }
        if (!stream->Write(ack)) break;
        acked += mine;
      }
      stream->Finish();
    });
  }
  joined.arrive_and_wait();
  const auto start = Clock::now();
  Progress progress("group", events);
  while (acked.load() < events && !failed) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    progress.Update(acked.load());
    if (SecondsSince(start) > 600) break;
  }
  const bool durable = !failed && AwaitFloor(*stubs[0], options.topic, group, events);
  const double seconds = SecondsSince(start);
  for (auto& context : contexts) context.TryCancel();
  for (auto& member : members) member.join();
  if (!durable || acked.load() < events || duplicates.load() > 0) {
    std::fprintf(stderr, "group: %llu of %llu events acked, %llu delivered twice, floor %s\n",
                 static_cast<unsigned long long>(acked.load()), static_cast<unsigned long long>(events),
                 static_cast<unsigned long long>(duplicates.load()), durable ? "reached" : "not reached");
    return 1;
  }
  const double rate = events / seconds;
  std::fprintf(stderr, "group: %u members acked %llu events in %.2f s = %.0f events/s (window %u, %llu redelivered)\n",
               options.members, static_cast<unsigned long long>(events), seconds, rate, options.window,
               static_cast<unsigned long long>(redelivered.load()));
  PrintResult("group-ack-m" + std::to_string(options.members),
              {{"n", std::to_string(events)}, {"secs", Fixed(seconds, 3)}, {"rate", Fixed(rate, 0)},
               {"members", std::to_string(options.members)}, {"window", std::to_string(options.window)},
               {"redelivered", std::to_string(redelivered.load())}});
  return 0;
}

int RunGroupLive(const StubFactory& connect, const LoadOptions& options) {
  const std::string group = FreshGroupName("bench-live");
  const auto total = static_cast<std::uint64_t>(options.rate * options.seconds);
  std::unique_ptr<Stub> producer_stub = connect();
  CreateTopic(*producer_stub, options.topic);
  std::vector<std::unique_ptr<Stub>> stubs;
  for (std::uint32_t m = 0; m < options.members; ++m) stubs.push_back(connect());
  std::vector<grpc::ClientContext> contexts = MemberContexts(options.members);
  std::vector<Latencies> latencies(options.members);
  std::atomic<std::uint64_t> received{0};
  std::atomic<bool> failed{false};
  std::latch joined(options.members);
  std::vector<std::thread> members;
  for (std::uint32_t m = 0; m < options.members; ++m) {
    members.emplace_back([&, m] {
      std::unique_ptr<ConsumeStream> stream = stubs[m]->Consume(&contexts[m]);
      v1::ConsumeRequest subscribe = GroupSubscribe(options, group);
      subscribe.mutable_subscribe()->mutable_start()->set_end(true);
      v1::ConsumeResponse response;
      const bool ok = stream->Write(subscribe) && stream->Read(&response) && response.has_subscribed();
      if (!ok) failed = true;
      joined.count_down();
      v1::ConsumeRequest ack;
      while (ok && stream->Read(&response)) {
        const std::int64_t now = NowNs();
        auto* offsets = ack.mutable_group_ack()->mutable_offsets();
        offsets->Clear();
        for (const v1::Event& event : response.events().events()) {
          latencies[m].Add((now - SentAt(event.payload())) / 1000.0);
          offsets->Add(event.offset());
        }
        received += offsets->size();
        if (!stream->Write(ack)) break;
      }
      stream->Finish();
    });
  }
  joined.wait();
  std::thread producer([&] {
    grpc::ClientContext context;
    auto stream = producer_stub->ProduceStream(&context);
    PayloadSource payloads(std::max<std::uint32_t>(options.payload_bytes, 8), options.random_payloads);
    v1::ProduceStreamRequest batch;
    batch.mutable_batch()->set_topic(options.topic);
    v1::ProduceStreamResponse ack;
    SendPaced(options.rate, total, payloads, [&](std::uint64_t i, std::string payload) {
      if (failed) return false;
      batch.set_batch_id(i);
      batch.mutable_batch()->clear_payloads();
      batch.mutable_batch()->add_payloads(std::move(payload));
      if (!stream->Write(batch) || !stream->Read(&ack) || !ack.has_result()) failed = true;
      return !failed;
    });
    stream->WritesDone();
    stream->Finish();
  });
  producer.join();
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (received.load() < total && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  for (auto& context : contexts) context.TryCancel();
  for (auto& member : members) member.join();
  Latencies all;
  for (const Latencies& l : latencies) all.Merge(l);
  if (failed || received.load() < total) {
    std::fprintf(stderr, "group-live: received %llu of %llu events%s\n", static_cast<unsigned long long>(received.load()),
                 static_cast<unsigned long long>(total), failed ? ", a produce or subscribe failed" : "");
    return 1;
  }
  std::fprintf(stderr, "group-live: %u members at %.0f events/s: p50 %.0f us, p99 %.0f us, p99.9 %.0f us\n",
               options.members, options.rate, all.Percentile(50), all.Percentile(99), all.Percentile(99.9));
  PrintResult("group-live-m" + std::to_string(options.members),
              {{"n", std::to_string(all.size())}, {"rate_target", Fixed(options.rate, 0)},
               {"members", std::to_string(options.members)}, {"p50_us", Fixed(all.Percentile(50))},
               {"p99_us", Fixed(all.Percentile(99))}, {"p999_us", Fixed(all.Percentile(99.9))}});
  return 0;
}

int RunGroupRedelivery(Stub& stub, const LoadOptions& options) {
  const std::string group = FreshGroupName("bench-nack");
  LoadOptions one = options;
  one.window = 1;
  grpc::ClientContext context;
  std::unique_ptr<ConsumeStream> stream = stub.Consume(&context);
  v1::ConsumeResponse response;
  if (!stream->Write(GroupSubscribe(one, group)) || !stream->Read(&response) || !response.has_subscribed()) {
    std::fprintf(stderr, "group-redelivery: joining failed: %s\n", stream->Finish().error_message().c_str());
    return 1;
  }
  Latencies latencies;
  v1::ConsumeRequest nack, ack;
  for (std::uint64_t i = 0; i < options.events; ++i) {
    if (!stream->Read(&response) || !response.has_events() || response.events().events_size() != 1) break;
    const std::uint64_t offset = response.events().events(0).offset();
    nack.mutable_nack()->clear_offsets();
    nack.mutable_nack()->add_offsets(offset);
    const auto sent = Clock::now();
    if (!stream->Write(nack) || !stream->Read(&response) || !response.has_events()) break;
    latencies.Add(std::chrono::duration<double, std::micro>(Clock::now() - sent).count());
    if (response.events().events(0).offset() != offset || response.events().events(0).delivery_count() != 2) {
      std::fprintf(stderr, "group-redelivery: offset %llu did not come back next\n", static_cast<unsigned long long>(offset));
      return 1;
    }
    ack.mutable_group_ack()->clear_offsets();
    ack.mutable_group_ack()->add_offsets(offset);
    if (!stream->Write(ack)) break;
  }
  context.TryCancel();
  stream->Finish();
  if (latencies.size() < options.events) {
    std::fprintf(stderr, "group-redelivery: %zu of %llu nacks came back\n", latencies.size(),
                 static_cast<unsigned long long>(options.events));
    return 1;
  }
  std::fprintf(stderr, "group-redelivery: nack to redelivery p50 %.0f us, p99 %.0f us (%zu nacks)\n",
               latencies.Percentile(50), latencies.Percentile(99), latencies.size());
  PrintResult("group-nack-redelivery", {{"n", std::to_string(latencies.size())},
                                        {"p50_us", Fixed(latencies.Percentile(50))},
                                        {"p99_us", Fixed(latencies.Percentile(99))}});
  return 0;
}

}  // namespace goethe::load
