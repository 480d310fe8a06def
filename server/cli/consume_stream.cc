#include "consume_stream.h"

namespace goethe::cli {

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

bool StreamWriter::Attach(ConsumeStream* stream, grpc::ClientContext* call) {
  std::lock_guard lock(mutex_);
  if (interrupted_) return false;
  stream_ = stream;
  call_ = call;
  closed_ = false;
  before_close_.Clear();
  return true;
}

void StreamWriter::Detach() {
  std::lock_guard lock(mutex_);
  stream_ = nullptr;
  call_ = nullptr;
}

void StreamWriter::Ack(std::uint64_t offset) {
  v1::ConsumeRequest request;
  request.mutable_ack()->set_offset(offset);
  Write(request);
}

void StreamWriter::Write(const v1::ConsumeRequest& request) {
  std::lock_guard lock(mutex_);
  if (closed_ || stream_ == nullptr) return;
  stream_->Write(request);
}

void StreamWriter::WriteBeforeClose(const v1::ConsumeRequest& request) {
  std::lock_guard lock(mutex_);
  before_close_ = request;
}

void StreamWriter::HalfClose() {
  std::lock_guard lock(mutex_);
  if (closed_ || stream_ == nullptr) return;
  CloseLocked();
}

void StreamWriter::CloseLocked() {
  closed_ = true;
  if (before_close_.ByteSizeLong() > 0) stream_->Write(before_close_);
  before_close_.Clear();
  stream_->WritesDone();
}

void StreamWriter::Interrupt() {
  std::lock_guard lock(mutex_);
  interrupted_ = true;
  if (stream_ == nullptr) return;
  if (closed_) {
    call_->TryCancel();
    return;
  }
  CloseLocked();
}

bool StreamWriter::interrupted() const {
  std::lock_guard lock(mutex_);
  return interrupted_;
}

InterruptWatcher::InterruptWatcher(StreamWriter* writer)
    : thread_([this, writer] {
        const sigset_t set = TerminationSignals();
        const timespec tick{0, 100'000'000};
        while (!stop_.load()) {
          if (sigtimedwait(&set, nullptr, &tick) > 0) writer->Interrupt();
        }
      }) {}

InterruptWatcher::~InterruptWatcher() {
  stop_.store(true);
  thread_.join();
}

IdleCloser::IdleCloser(StreamWriter* writer, std::chrono::milliseconds idle)
    : thread_([this, writer, idle] {
        std::unique_lock lock(mutex_);
        while (!stop_) {
          if (std::chrono::steady_clock::now() - last_ >= idle) {
            writer->HalfClose();
            return;
          }
          wake_.wait_for(lock, std::chrono::milliseconds(50));
        }
      }) {}

IdleCloser::~IdleCloser() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    wake_.notify_all();
  }
  thread_.join();
}

void IdleCloser::Touch() {
  std::lock_guard lock(mutex_);
  last_ = std::chrono::steady_clock::now();
}

grpc::Status EndStream(ConsumeStream& stream, StreamWriter& writer) {
  writer.HalfClose();
  v1::ConsumeResponse ignored;
  while (stream.Read(&ignored)) {
  }
  const grpc::Status status = stream.Finish();
  writer.Detach();
  if (writer.interrupted() && status.error_code() == grpc::StatusCode::CANCELLED) return grpc::Status::OK;
  return status;
}

}  // namespace goethe::cli
