// ProduceStreamReactor: one ProduceStream call. Each batch read becomes an asynchronous engine
// append; acknowledgements are written in the order the batches arrived, one write at a time.
//
// No thread waits for a stream: reads, appends and writes each complete through a callback.
// Reading pauses while kMaxBatchesInFlight batches await their acknowledgement, so a fast
// producer is held back by gRPC's flow control instead of filling the server's memory.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include <grpcpp/grpcpp.h>

#include "goethe/v1/goethe.grpc.pb.h"
#include "service_context.h"

namespace goethe::server {

class ProduceStreamReactor final
    : public grpc::ServerBidiReactor<v1::ProduceStreamRequest, v1::ProduceStreamResponse> {
 public:
  static constexpr std::size_t kMaxBatchesInFlight = 256;

  // Starts the stream, or finishes it at once when the registry refuses it.
  ProduceStreamReactor(const ServiceContext& context, const Principal& caller);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // Outlives the reactor: engine callbacks and the registry reach the reactor through it, and
  // find `reactor` null once the stream is done.
  struct Shared : ShutdownTarget {
    std::mutex mutex;
    ProduceStreamReactor* reactor = nullptr;
    void CloseForShutdown() override;
  };

  struct PendingAck {
    bool ready = false;
    v1::ProduceStreamResponse response;
  };

  // Produce permission on the batch's topic, or on every topic of a `multi`.
  grpc::Status CheckAccess(const v1::ProduceStreamRequest& request) const;
  void OnAppendedLocked(std::uint64_t sequence, AppendOutcome outcome);
  void OnMultiAppendedLocked(std::uint64_t sequence, MultiAppendOutcome outcome);
  void AckErrorLocked(std::uint64_t sequence, const Status& status);
  PendingAck* SlotLocked(std::uint64_t sequence);  // the pending acknowledgement of a batch
  // Writes the next ready acknowledgement, resumes reading, finishes when nothing is left.
  void PumpLocked();
  void FinishLocked(const grpc::Status& status);

  const ServiceContext& context_;
  const Principal& caller_;  // checked against each batch's topic
  std::shared_ptr<Shared> shared_;
  bool admitted_ = false;

  v1::ProduceStreamRequest request_;   // the read buffer
  v1::ProduceStreamResponse writing_;  // the write buffer, alive until OnWriteDone
  std::deque<PendingAck> pending_;     // acknowledgements in arrival order
  std::uint64_t first_pending_sequence_ = 0;
  std::uint64_t next_sequence_ = 0;

  bool read_in_flight_ = false;
  bool dispatching_ = false;  // a batch read is on its way into the engine
  bool write_in_flight_ = false;
  bool reads_closed_ = false;  // the client half-closed, or reading failed
  bool shutting_down_ = false;
  bool finished_ = false;
};

}  // namespace goethe::server
