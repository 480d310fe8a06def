#include "soak/soak_workers.h"

#include <random>
#include <thread>

namespace goethe::soak {
namespace {

using testing::CheckAgainstLedger;
using testing::EncodePayload;
using testing::LogVerifier;
using testing::PayloadId;

std::vector<PayloadId> Ids(std::uint32_t producer, std::uint64_t first, std::uint64_t count) {
  std::vector<PayloadId> ids;
  for (std::uint64_t i = 0; i < count; ++i) ids.push_back({producer, first + i});
  return ids;
}

void Fill(v1::ProduceRequest* request, const std::vector<PayloadId>& ids) {
  request->set_topic(kTopic);
  for (const PayloadId& id : ids) request->add_payloads(EncodePayload(id));
}

// Sleeps so that `sent` events since `start` keep to `rate` per second.
void Pace(std::chrono::steady_clock::time_point start, std::uint64_t sent, double rate) {
  const auto due = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               std::chrono::duration<double>(static_cast<double>(sent) / rate));
  std::this_thread::sleep_until(due);
}

std::string Problem(LogVerifier& verifier, const AckLedger& ledger, const v1::Event& event) {
  std::string problem = verifier.Add(event.offset(), event.payload());
  return problem.empty() ? CheckAgainstLedger(ledger, event.offset(), event.payload()) : problem;
}

bool ReadOne(v1::Goethe::Stub& stub, std::uint64_t offset, v1::Event* event) {
  v1::ReadRequest read;
  read.set_topic(kTopic);
  read.set_from_offset(offset);
  read.set_max_events(1);
  v1::ReadResponse page;
  if (!stub.Read(Within(std::chrono::seconds(10)).get(), read, &page).ok() || page.events_size() == 0) return false;
  *event = page.events(0);
  return true;
}

}  // namespace

void Findings::Violation(const std::string& what) {
  std::lock_guard lock(mutex_);
  violations_.push_back(what);
  stop = true;  // one is enough to fail the run; stop early
}

std::vector<std::string> Findings::violations() const {
  std::lock_guard lock(mutex_);
  return violations_;
}

std::unique_ptr<grpc::ClientContext> Within(std::chrono::milliseconds timeout) {
  auto call = std::make_unique<grpc::ClientContext>();
  call->set_deadline(std::chrono::system_clock::now() + timeout);
  return call;
}

void RunUnaryProducer(v1::Goethe::Stub& stub, std::uint32_t producer, double events_per_second, Findings& findings) {
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t sequence = 0; !findings.stop_producing && !findings.stop; sequence += 10) {
    const std::vector<PayloadId> ids = Ids(producer, sequence, 10);
    v1::ProduceRequest request;
    Fill(&request, ids);
    v1::ProduceResponse response;
    if (stub.Produce(Within(std::chrono::seconds(30)).get(), request, &response).ok()) {
      findings.ledger.Record(response.first_offset(), ids);
      findings.produced += ids.size();
    } else {
      ++findings.refused;
    }
    Pace(start, sequence + 10, events_per_second);
  }
}

void RunStreamProducer(v1::Goethe::Stub& stub, std::uint32_t producer, double events_per_second, Findings& findings) {
  grpc::ClientContext call;
  auto stream = stub.ProduceStream(&call);
  std::thread acks([&] {
    v1::ProduceStreamResponse response;
    while (stream->Read(&response)) {
      if (!response.has_result()) {
        ++findings.refused;
        continue;
      }
      const std::vector<PayloadId> ids = Ids(producer, response.batch_id(), 20);
      findings.ledger.Record(response.result().first_offset(), ids);
      findings.produced += ids.size();
    }
  });
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t sequence = 0; !findings.stop_producing && !findings.stop; sequence += 20) {
    v1::ProduceStreamRequest request;
    request.set_batch_id(sequence);
    Fill(request.mutable_batch(), Ids(producer, sequence, 20));
    if (!stream->Write(request)) break;
    Pace(start, sequence + 20, events_per_second);
  }
  stream->WritesDone();  // the server acknowledges what it has, then ends the stream
  acks.join();
  (void)stream->Finish();
}

void RunConsumer(v1::Goethe::Stub& stub, const std::string& name, std::atomic<std::uint64_t>& delivered,
                 Findings& findings) {
  while (!findings.stop) {
    grpc::ClientContext call;
    auto stream = stub.Consume(&call);
    v1::ConsumeRequest subscribe;
    subscribe.mutable_subscribe()->set_topic(kTopic);
    subscribe.mutable_subscribe()->set_consumer(name);
    subscribe.mutable_subscribe()->set_window(1000);
    subscribe.mutable_subscribe()->mutable_start()->mutable_cursor();
    if (!stream->Write(subscribe)) continue;
    std::thread canceller([&] {
      while (!findings.stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      call.TryCancel();
    });
    LogVerifier verifier;  // a new stream resumes after the cursor: a fresh run of offsets
    v1::ConsumeResponse response;
    while (stream->Read(&response)) {
      for (const v1::Event& event : response.events().events()) {
        if (const std::string problem = Problem(verifier, findings.ledger, event); !problem.empty()) {
          findings.Violation("consumer " + name + ": " + problem);
          break;
        }
        delivered = event.offset() + 1;
        if (event.offset() % 100 == 99) {
          v1::ConsumeRequest ack;
          ack.mutable_ack()->set_offset(event.offset());
          stream->Write(ack);
        }
      }
    }
    const grpc::Status status = stream->Finish();
    if (!findings.stop) findings.Violation("consumer " + name + ": the stream ended: " + status.error_message());
    canceller.join();
  }
}

void RunSeeker(v1::Goethe::Stub& stub, Findings& findings) {
  std::mt19937_64 random(42);
  while (!findings.stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const std::uint64_t end = findings.ledger.end();
    if (end == 0) continue;
    const std::uint64_t offset = random() % end;
    if (!findings.ledger.At(offset)) continue;
    v1::SeekRequest by_offset;
    by_offset.set_topic(kTopic);
    by_offset.mutable_start()->set_offset(offset);
    v1::SeekResponse at;
    v1::Event event;
    if (!stub.Seek(Within(std::chrono::seconds(10)).get(), by_offset, &at).ok() || !ReadOne(stub, offset, &event)) {
      findings.Violation("seek/read of acknowledged offset " + std::to_string(offset) + " failed");
      return;
    }
    LogVerifier unused;
    if (at.resolved_offset() != offset || event.offset() != offset || !Problem(unused, findings.ledger, event).empty()) {
      findings.Violation("seek to offset " + std::to_string(offset) + " resolved to " +
                         std::to_string(at.resolved_offset()) + " or read a wrong event");
      return;
    }
    // Seeking to that event's time finds the first event of that time: at or before it.
    v1::SeekRequest by_time = by_offset;
    by_time.mutable_start()->set_time_unix_nanos(event.timestamp_unix_nanos());
    v1::Event first;
    if (!stub.Seek(Within(std::chrono::seconds(10)).get(), by_time, &at).ok() ||
        !ReadOne(stub, at.resolved_offset(), &first) || at.resolved_offset() > offset ||
        first.timestamp_unix_nanos() != event.timestamp_unix_nanos()) {
      findings.Violation("seek to the time of offset " + std::to_string(offset) + " resolved to " +
                         std::to_string(at.resolved_offset()) + ", which does not hold the first event of that time");
      return;
    }
    v1::Event before;
    if (at.resolved_offset() > 0 && ReadOne(stub, at.resolved_offset() - 1, &before) &&
        before.timestamp_unix_nanos() >= event.timestamp_unix_nanos()) {
      findings.Violation("seek by time skipped an earlier event of that time at " + std::to_string(before.offset()));
      return;
    }
    ++findings.seeks;
  }
}

std::uint64_t VerifyWholeTopic(v1::Goethe::Stub& stub, Findings& findings) {
  LogVerifier verifier;
  std::uint64_t from = 0;
  for (;;) {
    v1::ReadRequest read;
    read.set_topic(kTopic);
    read.set_from_offset(from);
    read.set_max_events(5000);
    v1::ReadResponse page;
    const grpc::Status status = stub.Read(Within(std::chrono::seconds(30)).get(), read, &page);
    if (!status.ok()) {
      findings.Violation("final read from " + std::to_string(from) + " failed: " + status.error_message());
      return verifier.events();
    }
    for (const v1::Event& event : page.events()) {
      if (const std::string problem = Problem(verifier, findings.ledger, event); !problem.empty()) {
        findings.Violation("final read: " + problem);
        return verifier.events();
      }
    }
    from = page.next_offset();
    if (page.events_size() == 0 || from >= page.head()) break;
  }
  if (verifier.events() < findings.ledger.end()) {
    findings.Violation("final read: " + std::to_string(verifier.events()) + " events stored, but offsets up to " +
                       std::to_string(findings.ledger.end() - 1) + " were acknowledged");
  }
  return verifier.events();
}

}  // namespace goethe::soak
