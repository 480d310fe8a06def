// ConsumeReactor: one Consume call. After the subscribe it reads events with EventLog::ReadEach
// straight into the wire bytes of its response (EventBatchWire: the method is served raw, as
// ByteBuffers) and writes them in batches, one write at a time, never more than
// `window` unacknowledged. When it has caught up it asks the engine to wake it at the next offset
// (EventLog::WaitForOffset); the wake-up starts reading again, on the engine's thread when the
// stream is free, else from the wake pool. No thread waits for a stream.
//
// With a filter, only matching events are delivered and count against the window; the skipped ones
// move the cursor all the same (an ack that leaves nothing in flight commits everything read).
//
// Acks release the window at once; with a consumer name they also commit its cursor. Commits wait
// for a sync, so they run on the blocking pool, one at a time per stream, each taking the newest
// ack waiting (older ones are subsumed). A commit chain outlives the stream: an ack that arrived
// is committed even when the stream ends right after it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "event_batch_wire.h"
#include "goethe/v1/goethe.grpc.pb.h"
#include "service_context.h"

namespace goethe::server {

class ConsumeReactor final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  static constexpr std::uint32_t kMaxBatchEvents = 1000;
  static constexpr std::uint64_t kMaxBatchBytes = 1 << 20;  // payload bytes per message

  // Starts the stream, or finishes it at once when the registry refuses it. `call` outlives it.
  ConsumeReactor(const ServiceContext& context, const Principal& caller, grpc::CallbackServerContext* call);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // Outlives the reactor: wake-ups, cursor commits and the registry reach the reactor through
  // it, and find `reactor` null once the stream is done.
  struct Shared : ShutdownTarget {
    std::mutex mutex;
    ConsumeReactor* reactor = nullptr;
    std::optional<std::uint64_t> pending_commit;  // the newest ack not yet being committed
    bool commit_running = false;
    void CloseForShutdown() override;
  };
  // Runs `work` with the stream's lock held and its reactor alive: at once when the lock is free
  // and this thread is not inside an engine call made under that lock (CallingEngine), else on
  // `pool`. For callbacks from the engine's threads, which must never wait for a stream's lock.
  static void RunLocked(const std::shared_ptr<Shared>& shared, WorkPool* pool,
                        std::function<void(ConsumeReactor&)> work);
  // The same, always on `pool`.
  static void PostLocked(const std::shared_ptr<Shared>& shared, WorkPool* pool,
                         std::function<void(ConsumeReactor&)> work);
  // Marks this thread as inside an engine call made with `stream`'s lock held, for its lifetime.
  struct CallingEngine {
    explicit CallingEngine(const Shared* stream);
    ~CallingEngine();
  };
  // Subscribe.max_batch_events with its default and cap applied.
  static std::uint32_t BatchEventsFor(const v1::Subscribe& subscribe);

  // Delivered events not yet acknowledged: offsets first..last, all of them when `offsets` is
  // empty, else (a filtered stream) offsets[acked..], in order.
  struct InFlightBatch {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    std::vector<std::uint64_t> offsets;  // empty (no allocation) on an unfiltered stream
    std::size_t acked = 0;               // of `offsets`
    std::uint64_t size() const { return offsets.empty() ? last - first + 1 : offsets.size() - acked; }
    // Forgets the events up to `offset`; returns how many.
    std::uint64_t AckUpTo(std::uint64_t offset);
  };

  void SubscribeLocked(const v1::Subscribe& subscribe);
  void AckLocked(std::uint64_t offset);
  // Sends the next batch when the window, the write slot and the log allow; otherwise arms a
  // wake-up at the head.
  void ContinueLocked();
  void ArmWakeLocked();
  // A filtered read skipped events and stopped before the head: read on from the wake pool, so a
  // sparse filter over a long topic does not hold this thread.
  void ContinueFromPoolLocked();
  // Commits `offset` as the consumer's cursor (when acks commit), after the commits queued before.
  void CommitLocked(std::uint64_t offset);
  void OnWokenLocked();
  void StartCommitsLocked();
  void OnCommitsIdleLocked();
  void FinishLocked(const grpc::Status& status);
  // Sends `response_` / `bytes`: one write at a time.
  void WriteResponseLocked();
  void WriteLocked(grpc::ByteBuffer bytes);

  static void RunCommits(std::shared_ptr<Shared> shared, EventLog* log, std::string topic, std::string consumer);

  // A group member's stream (consume_reactor_group.cc).
  void JoinGroupLocked(const v1::Subscribe& subscribe);
  void ContinueGroupLocked();
  void OnFetchedLocked(Result<std::vector<GroupDelivery>> fetched);
  void GroupAckLocked(std::vector<OffsetRange> ranges);
  void OnGroupAckedLocked(const Status& status);
  void HandleGroupMessageLocked(const v1::ConsumeRequest& request);

  const ServiceContext& context_;
  const Principal& caller_;  // checked against the subscribe's topic
  grpc::CallbackServerContext* const call_;  // for the leader's address when a follower refuses a commit
  std::shared_ptr<Shared> shared_;
  bool admitted_ = false;

  grpc::ByteBuffer request_bytes_;  // the read buffer
  v1::ConsumeRequest request_;      // parsed from it
  v1::ConsumeResponse response_;    // the messages other than events (subscribed, a group's batches)
  grpc::ByteBuffer response_bytes_; // the write buffer, alive until OnWriteDone
  EventBatchWire wire_;             // events, written straight in wire format

  bool subscribed_ = false;
  std::string topic_;
  std::string consumer_;
  bool commit_acks_ = false;
  std::uint32_t window_ = 0;
  std::uint32_t max_batch_events_ = kMaxBatchEvents;
  EventFilter filter_;  // empty: every event

  std::uint64_t next_offset_ = 0;  // the next offset to read
  std::deque<InFlightBatch> in_flight_;
  std::uint64_t in_flight_events_ = 0;

  std::shared_ptr<GroupMember> member_;  // set: this stream is a member of a group
  bool fetch_in_flight_ = false;
  bool work_signalled_ = false;  // the group said there may be work while a fetch ran
  std::uint32_t group_acks_in_flight_ = 0;

  bool write_in_flight_ = false;
  bool waiting_ = false;  // a wake-up is armed
  WaitId wait_id_ = 0;
  bool reads_closed_ = false;  // the client half-closed
  std::optional<grpc::Status> finish_status_;  // finishing: sent once no write is in flight
  bool finish_sent_ = false;
};

}  // namespace goethe::server
