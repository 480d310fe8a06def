// The plumbing of goethe-cli's Consume streams: writing acks from the reading thread while a signal
// thread may half-close, Ctrl-C handling, the idle stop of a group member, and the stream's end. A
// consume may go through several streams (a reconnect after a failover), so the writer is pointed
// at each in turn and an interrupt outlives them.
#pragma once

#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "goethe/v1/goethe.grpc.pb.h"

namespace goethe::cli {

using ConsumeStream = grpc::ClientReaderWriter<v1::ConsumeRequest, v1::ConsumeResponse>;

// SIGINT and SIGTERM: a --follow blocks them before any thread starts and waits for them.
sigset_t TerminationSignals();

// Writes to the current stream from the reading thread (acks) and the signal thread (half-close).
class StreamWriter {
 public:
  // Points the writer at `stream` (its context `call`); false when an interrupt came first.
  bool Attach(ConsumeStream* stream, grpc::ClientContext* call);
  // Before the stream goes away: later writes, half-closes and interrupts do not reach it.
  void Detach();

  void Ack(std::uint64_t offset);
  void Write(const v1::ConsumeRequest& request);
  // Keeps `request` (acks held back) to write just before the half-close, whoever makes it (the
  // idle closer, an interrupt); replaces what was kept. An empty request keeps nothing.
  void WriteBeforeClose(const v1::ConsumeRequest& request);
  // Half-closes the stream (the server commits the last ack and finishes); once per stream.
  void HalfClose();
  // The first interrupt half-closes; a second one cancels outright.
  void Interrupt();
  bool interrupted() const;

 private:
  void CloseLocked();  // writes what WriteBeforeClose kept, then half-closes

  mutable std::mutex mutex_;
  ConsumeStream* stream_ = nullptr;
  grpc::ClientContext* call_ = nullptr;
  bool closed_ = false;
  bool interrupted_ = false;
  v1::ConsumeRequest before_close_;
};

// Waits for SIGINT/SIGTERM (blocked since parsing) on its own thread while a --follow runs.
class InterruptWatcher {
 public:
  explicit InterruptWatcher(StreamWriter* writer);
  ~InterruptWatcher();

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Half-closes the stream once no event has arrived for `idle` (a group member without --follow).
class IdleCloser {
 public:
  IdleCloser(StreamWriter* writer, std::chrono::milliseconds idle);
  ~IdleCloser();
  void Touch();

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  bool stop_ = false;
  std::thread thread_;  // last: it starts once the rest exists
};

// Half-closes, drops what the server sent before it saw that, and returns how the stream ended
// (OK for a Ctrl-C that had to cancel: a normal end). Detaches the writer.
grpc::Status EndStream(ConsumeStream& stream, StreamWriter& writer);

}  // namespace goethe::cli
