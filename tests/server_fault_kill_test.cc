// SIGKILL under load, round after round, on every backend: after each restart on the same data
// every acknowledged event is there exactly once and in order, no payload is damaged, and no
// committed cursor has moved back.
//
// Load per round: two unary producers that retry an unacknowledged batch after the restart with the
// same idempotency key (so each of their events must land exactly once), one ProduceStream
// producer that abandons unacknowledged batches (so each of its events lands at most once), a
// Consume stream that acks as it goes, and a reader that commits its cursor with CommitCursor.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "support/fault_fixture.h"

namespace goethe::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kTopic = "orders";
constexpr int kRounds = 8;
constexpr std::uint32_t kUnaryProducers = 2;  // ids 0 and 1
constexpr std::uint32_t kStreamProducer = 2;
constexpr std::uint64_t kUnaryBatch = 10;
constexpr std::uint64_t kStreamBatch = 20;

std::vector<PayloadId> Ids(std::uint32_t producer, std::uint64_t first, std::uint64_t count) {
  std::vector<PayloadId> ids;
  for (std::uint64_t i = 0; i < count; ++i) ids.push_back({producer, first + i});
  return ids;
}

void AddPayloads(const std::vector<PayloadId>& ids, v1::ProduceRequest* request) {
  request->set_topic(kTopic);
  for (const PayloadId& id : ids) request->add_payloads(EncodePayload(id));
}

// What a test records from its threads: violations, and how much was done.
struct RoundLog {
  std::mutex mutex;
  std::vector<std::string> violations;
  std::atomic<std::uint64_t> acked{0};
  std::atomic<std::uint64_t> consumed{0};
  std::atomic<std::uint64_t> retries{0};     // unary batches sent again after a kill
  std::atomic<std::uint64_t> duplicates{0};  // of those, the ones that had landed before the kill
  void Violation(std::string what) {
    std::lock_guard lock(mutex);
    if (violations.size() < 20) violations.push_back(std::move(what));
  }
};

class ServerFaultKillTest : public FaultTest {
 protected:
  struct UnaryProducer {
    std::uint64_t next_sequence = 0;
    std::vector<PayloadId> unacknowledged;  // in flight when the server died: retried first
  };

  // Until a call fails (the server is gone); an unacknowledged batch stays for the next round.
  void RunUnaryProducer(std::uint32_t producer, UnaryProducer& state) {
    for (;;) {
      if (state.unacknowledged.empty()) {
        state.unacknowledged = Ids(producer, state.next_sequence, kUnaryBatch);
        state.next_sequence += kUnaryBatch;
      } else {
        ++log_.retries;
      }
      v1::ProduceRequest request;
      AddPayloads(state.unacknowledged, &request);
      request.set_idempotency_key("p" + std::to_string(producer) + "-" +
                                  std::to_string(state.unacknowledged.front().sequence));
      v1::ProduceResponse response;
      if (!stub().Produce(CallWithin(10s).get(), request, &response).ok()) return;
      if (response.duplicate()) ++log_.duplicates;
      ledger_.Record(response.first_offset(), state.unacknowledged);
      log_.acked += state.unacknowledged.size();
      state.unacknowledged.clear();
    }
  }

  // Batch ids are first sequence numbers; a batch sent and not acknowledged is never resent.
  void RunStreamProducer() {
    grpc::ClientContext call;
    call.set_deadline(std::chrono::system_clock::now() + 60s);
    auto stream = stub().ProduceStream(&call);
    std::thread writer([&] {
      for (int n = 0; n < 100000; ++n) {
        v1::ProduceStreamRequest request;
        request.set_batch_id(stream_next_sequence_);
        AddPayloads(Ids(kStreamProducer, stream_next_sequence_, kStreamBatch), request.mutable_batch());
        stream_next_sequence_ += kStreamBatch;
        if (!stream->Write(request)) break;
        std::this_thread::sleep_for(1ms);  // keeps each round's volume, and so its verification, small
      }
    });
    v1::ProduceStreamResponse response;
    while (stream->Read(&response)) {
      if (!response.has_result()) continue;
      ledger_.Record(response.result().first_offset(), Ids(kStreamProducer, response.batch_id(), kStreamBatch));
      log_.acked += kStreamBatch;
    }
    call.TryCancel();  // unblocks the writer if flow control holds it
    writer.join();
    stream->Finish();
  }

  // Consumer "tail": a Consume stream from its cursor, acking every 50 events.
  void RunStreamConsumer() {
    v1::Subscribe subscribe = SubscribeTo(kTopic, "tail", 500);
    subscribe.mutable_start()->mutable_cursor();
    ConsumeSession session(stub(), subscribe, 60s);
    LogVerifier verifier;
    while (!session.ended()) {
      std::optional<v1::Event> event = session.Next(200ms);
      if (!event) continue;
      CheckDelivered(verifier, *event, "consume stream");
      if (event->offset() % 50 == 49) session.Ack(event->offset());
    }
  }

  // Consumer "reader": Read from its cursor, then CommitCursor; remembers what the server confirmed.
  void RunCommittingReader() {
    LogVerifier verifier;
    for (;;) {
      v1::GetCursorRequest get;
      get.set_topic(kTopic);
      get.set_consumer("reader");
      v1::GetCursorResponse cursor;
      const grpc::Status found = stub().GetCursor(CallWithin(10s).get(), get, &cursor);
      if (!found.ok() && found.error_code() != grpc::StatusCode::NOT_FOUND) return;
      v1::ReadRequest read;
      read.set_topic(kTopic);
      read.set_from_offset(found.ok() ? cursor.cursor().offset() + 1 : 0);
      read.set_max_events(200);
      v1::ReadResponse page;
      if (!stub().Read(CallWithin(10s).get(), read, &page).ok()) return;
      for (const v1::Event& event : page.events()) CheckDelivered(verifier, event, "read");
      if (page.events_size() == 0) {
        std::this_thread::sleep_for(10ms);
        continue;
      }
      v1::CommitCursorRequest commit;
      commit.set_topic(kTopic);
      commit.set_consumer("reader");
      commit.set_offset(page.events(page.events_size() - 1).offset());
      v1::CommitCursorResponse committed;
      if (!stub().CommitCursor(CallWithin(10s).get(), commit, &committed).ok()) return;
      std::uint64_t seen = confirmed_reader_cursor_.load();
      while (seen < committed.cursor().offset() + 1 &&
             !confirmed_reader_cursor_.compare_exchange_weak(seen, committed.cursor().offset() + 1)) {
      }
    }
  }

  void CheckDelivered(LogVerifier& verifier, const v1::Event& event, const char* how) {
    std::string problem = verifier.Add(event.offset(), event.payload());
    if (problem.empty()) problem = CheckAgainstLedger(ledger_, event.offset(), event.payload());
    if (!problem.empty()) log_.Violation(std::string(how) + ": " + problem);
    ++log_.consumed;
  }

  std::optional<std::uint64_t> CursorOffset(const std::string& consumer) {
    std::optional<v1::Cursor> cursor = GetCursor(kTopic, consumer);
    return cursor ? std::optional(cursor->offset()) : std::nullopt;
  }

  AckLedger& ledger_ = Ledger(kTopic);
  RoundLog log_;
  std::uint64_t stream_next_sequence_ = 0;
  std::atomic<std::uint64_t> confirmed_reader_cursor_{0};  // confirmed offset + 1; 0 for none
  std::uint64_t stored_events_ = 0;
};

TEST_P(ServerFaultKillTest, EveryAcknowledgedEventSurvivesRepeatedSigkillExactlyOnce) {
  StartServer();
  v1::CreateTopicRequest create;
  create.set_topic(kTopic);
  v1::CreateTopicResponse created;
  ASSERT_TRUE(stub().CreateTopic(CallWithin().get(), create, &created).ok());

  UnaryProducer unary[kUnaryProducers];
  int cursor_checks = 0;
  std::uint64_t tail_cursor_floor = 0;  // cursor + 1 last seen through GetCursor; 0 for none
  const auto started = std::chrono::steady_clock::now();
  for (int round = 1; round <= kRounds; ++round) {
    const std::uint64_t acked_before = log_.acked.load();
    std::vector<std::thread> load;
    for (std::uint32_t p = 0; p < kUnaryProducers; ++p) load.emplace_back([&, p] { RunUnaryProducer(p, unary[p]); });
    load.emplace_back([&] { RunStreamProducer(); });
    load.emplace_back([&] { RunStreamConsumer(); });
    load.emplace_back([&] { RunCommittingReader(); });

    // Kill at a different moment each round, once the round has done some work.
    for (int i = 0; i < 1000 && log_.acked.load() < acked_before + 3000; ++i) std::this_thread::sleep_for(10ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + (round * 137) % 400));
    if (std::optional<std::uint64_t> tail = CursorOffset("tail")) tail_cursor_floor = std::max(tail_cursor_floor, *tail + 1);
    const std::uint64_t reader_floor = confirmed_reader_cursor_.load();

    server().Kill();
    for (std::thread& t : load) t.join();
    StartAgain();
    SCOPED_TRACE("after round " + std::to_string(round));
    stored_events_ = VerifyTopic(kTopic);
    if (HasFailure()) return;

    if (reader_floor > 0) {
      const std::optional<std::uint64_t> reader = CursorOffset("reader");
      ASSERT_TRUE(reader.has_value()) << "round " << round << ": the committed cursor of 'reader' is gone";
      EXPECT_GE(*reader + 1, reader_floor) << "round " << round << ": cursor 'reader' moved back";
      ++cursor_checks;
    }
    if (tail_cursor_floor > 0) {
      const std::optional<std::uint64_t> tail = CursorOffset("tail");
      ASSERT_TRUE(tail.has_value()) << "round " << round << ": the committed cursor of 'tail' is gone";
      EXPECT_GE(*tail + 1, tail_cursor_floor) << "round " << round << ": cursor 'tail' moved back";
      ++cursor_checks;
    }
    std::lock_guard lock(log_.mutex);
    ASSERT_TRUE(log_.violations.empty()) << "round " << round << ": " << log_.violations.front();
  }

  // Nothing acknowledged was lost and nothing retried was doubled: the unary producers' events
  // all landed (their last batch may still be unacknowledged), each once.
  const std::vector<v1::Event> events = ReadAll(kTopic);
  std::uint64_t unary_events = 0;
  for (const v1::Event& event : events) {
    if (std::optional<PayloadId> id = DecodePayload(event.payload()); id && id->producer < kUnaryProducers) ++unary_events;
  }
  std::uint64_t unary_sent = 0, unary_pending = 0;
  for (const UnaryProducer& p : unary) {
    unary_sent += p.next_sequence;
    unary_pending += p.unacknowledged.size();
  }
  EXPECT_GE(unary_events, unary_sent - unary_pending);
  EXPECT_LE(unary_events, unary_sent);

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("[ kill ] %s: %d SIGKILL rounds in %.1f s: %llu events acknowledged, %llu stored and verified, "
              "%llu deliveries checked, %llu batches retried (%llu had landed), %d cursor checks\n",
              backend().c_str(), kRounds, seconds, static_cast<unsigned long long>(ledger_.acknowledged()),
              static_cast<unsigned long long>(stored_events_), static_cast<unsigned long long>(log_.consumed.load()),
              static_cast<unsigned long long>(log_.retries.load()),
              static_cast<unsigned long long>(log_.duplicates.load()), cursor_checks);
  RecordProperty("acknowledged_events", static_cast<int>(ledger_.acknowledged()));
  RecordProperty("stored_events", static_cast<int>(stored_events_));
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerFaultKillTest, ::testing::ValuesIn(AllBackends()), BackendName);

}  // namespace
}  // namespace goethe::testing
