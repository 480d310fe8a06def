// goethe-cli consume TOPIC --from ... [--consumer NAME] [--follow] [--ack] [--max N] [--window N]
//                   [--key K] [--header NAME=VALUE]...
// goethe-cli consume TOPIC --group NAME [--ack] [--follow] [--max N] [--window N] [--from ...]
// Without --follow it prints the events that existed when it subscribed and exits; with --follow
// it tails until SIGINT or SIGTERM. --ack commits the consumer's cursor as it goes. Either way it
// ends by half-closing the stream, so that the server commits the last ack before it finishes.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

#include "cli_context.h"
#include "header_flag.h"
#include "start_position_flag.h"

namespace goethe::cli {
namespace {

using ConsumeStream = grpc::ClientReaderWriter<v1::ConsumeRequest, v1::ConsumeResponse>;

struct ConsumeFlags {
  std::string topic;
  std::string consumer;
  StartFlags start;
  bool follow = false;
  bool ack = false;
  std::uint64_t max = 0;  // 0: no limit
  std::uint32_t window = 0;
  std::optional<std::string> key;    // only events with this key
  std::vector<std::string> headers;  // only events with all these NAME=VALUE headers
  std::string group;                 // join this consumer group
};

// Without --follow a group member stops once no event has come for this long: other members may
// hold the rest of the topic, so "up to the head" means nothing to it.
constexpr auto kGroupIdle = std::chrono::seconds(1);

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// Writes to the stream from the reading thread (acks) and the signal thread (half-close).
class StreamWriter {
 public:
  StreamWriter(ConsumeStream* stream, grpc::ClientContext* call) : stream_(stream), call_(call) {}

  void Ack(std::uint64_t offset) {
    v1::ConsumeRequest request;
    request.mutable_ack()->set_offset(offset);
    Write(request);
  }

  void Write(const v1::ConsumeRequest& request) {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    stream_->Write(request);
  }

  // Half-closes the stream (the server commits the last ack and finishes); once only.
  void HalfClose() {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
    stream_->WritesDone();
  }

  // The first interrupt half-closes; a second one cancels outright.
  void Interrupt() {
    std::lock_guard lock(mutex_);
    if (closed_) {
      call_->TryCancel();
      return;
    }
    closed_ = true;
    stream_->WritesDone();
  }

 private:
  std::mutex mutex_;
  ConsumeStream* stream_;
  grpc::ClientContext* call_;
  bool closed_ = false;
};

// Waits for SIGINT/SIGTERM (blocked since parsing) on its own thread while a --follow runs.
class InterruptWatcher {
 public:
  explicit InterruptWatcher(StreamWriter* writer)
      : thread_([this, writer] {
          const sigset_t set = TerminationSignals();
          const timespec tick{0, 100'000'000};
          while (!stop_.load()) {
            if (sigtimedwait(&set, nullptr, &tick) > 0) {
              interrupted_.store(true);
              writer->Interrupt();
            }
          }
        }) {}
  ~InterruptWatcher() {
    stop_.store(true);
    thread_.join();
  }
  bool interrupted() const { return interrupted_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<bool> interrupted_{false};
  std::thread thread_;
};

// Half-closes, drops what the server sent before it saw that, and turns the stream's end into the
// exit code (a Ctrl-C that had to cancel is a normal end).
int EndStream(ConsumeStream& stream, StreamWriter& writer, const std::optional<InterruptWatcher>& watcher) {
  writer.HalfClose();
  v1::ConsumeResponse ignored;
  while (stream.Read(&ignored)) {
  }
  const grpc::Status status = stream.Finish();
  if (watcher && watcher->interrupted() && status.error_code() == grpc::StatusCode::CANCELLED) return kExitOk;
  if (!status.ok()) return Fail(status);
  return kExitOk;
}

// Half-closes the stream once no event has arrived for kGroupIdle (a group member without --follow).
class IdleCloser {
 public:
  explicit IdleCloser(StreamWriter* writer)
      : thread_([this, writer] {
          std::unique_lock lock(mutex_);
          while (!stop_) {
            if (std::chrono::steady_clock::now() - last_ >= kGroupIdle) {
              writer->HalfClose();
              return;
            }
            wake_.wait_for(lock, std::chrono::milliseconds(50));
          }
        }) {}
  ~IdleCloser() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
      wake_.notify_all();
    }
    thread_.join();
  }
  void Touch() {
    std::lock_guard lock(mutex_);
    last_ = std::chrono::steady_clock::now();
  }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  bool stop_ = false;
  std::thread thread_;  // last: it starts once the rest exists
};

int RunGroupConsume(CliContext& context, const ConsumeFlags& flags) {
  v1::ConsumeRequest subscribe;
  v1::Subscribe* s = subscribe.mutable_subscribe();
  s->set_topic(flags.topic);
  // With --max, take no more than it will print: what it takes and does not print would wait for
  // the stream's end to go back to the group, and count as delivered.
  s->set_window(flags.window != 0 || flags.max == 0 ? flags.window
                                                    : static_cast<std::uint32_t>(std::min<std::uint64_t>(flags.max, 1000)));
  s->mutable_group()->set_name(flags.group);
  std::string error;
  if (flags.start.from == "cursor") return FailUsage("--group: a group starts at beginning, end, now, an offset or a time");
  if (!ParseStartPosition(flags.start, s->mutable_start(), &error)) return FailUsage(error);
  if (!flags.consumer.empty() || flags.key || !flags.headers.empty())
    return FailUsage("--group takes no --consumer, --key or --header: the group keeps the position");

  grpc::ClientContext call;
  std::unique_ptr<ConsumeStream> stream = context.stub->Consume(&call);
  StreamWriter writer(stream.get(), &call);
  std::optional<InterruptWatcher> watcher;
  std::optional<IdleCloser> idle;
  if (flags.follow) watcher.emplace(&writer);
  else idle.emplace(&writer);

  Output out = context.out();
  v1::ConsumeResponse response;
  std::uint64_t printed = 0;
  bool done = !stream->Write(subscribe);
  if (!done && stream->Read(&response) && response.has_subscribed()) {
    out.Subscribed(flags.topic, response.subscribed());
  } else {
    done = true;
  }
  while (!done && stream->Read(&response)) {
    if (!response.has_events()) continue;
    if (idle) idle->Touch();
    v1::ConsumeRequest ack;
    for (const v1::Event& event : response.events().events()) {
      if (flags.max != 0 && printed >= flags.max) break;
      out.Event(event);
      ++printed;
      ack.mutable_group_ack()->add_offsets(event.offset());
    }
    std::fflush(stdout);
    // Unacked events go back to the group when the stream ends; --ack keeps them processed.
    if (flags.ack && ack.has_group_ack()) writer.Write(ack);
    if (flags.max != 0 && printed >= flags.max) done = true;
  }

  return EndStream(*stream, writer, watcher);
}

int RunConsume(CliContext& context, const ConsumeFlags& flags) {
  if (!flags.group.empty()) return RunGroupConsume(context, flags);
  v1::ConsumeRequest subscribe;
  v1::Subscribe* s = subscribe.mutable_subscribe();
  s->set_topic(flags.topic);
  s->set_consumer(flags.consumer);
  s->set_window(flags.window);
  s->set_read_only(!flags.ack);
  std::string error;
  if (!ParseStartPosition(flags.start, s->mutable_start(), &error)) return FailUsage(error);
  if (s->start().has_cursor() && flags.consumer.empty()) return FailUsage("--from cursor needs --consumer");
  if (flags.ack && flags.consumer.empty()) return FailUsage("--ack needs --consumer");
  if (flags.key) s->mutable_filter()->set_key(*flags.key);
  for (const std::string& header : flags.headers) {
    if (!ParseHeaderFlag(header, s->mutable_filter()->add_headers()))
      return FailUsage("--header '" + header + "': expected NAME=VALUE");
  }

  grpc::ClientContext call;
  std::unique_ptr<ConsumeStream> stream = context.stub->Consume(&call);
  StreamWriter writer(stream.get(), &call);
  std::optional<InterruptWatcher> watcher;
  if (flags.follow) watcher.emplace(&writer);

  Output out = context.out();
  v1::ConsumeResponse response;
  std::uint64_t stop_at = std::numeric_limits<std::uint64_t>::max();  // first offset not to print
  std::uint64_t printed = 0;
  bool done = !stream->Write(subscribe);
  if (!done && stream->Read(&response) && response.has_subscribed()) {
    out.Subscribed(flags.topic, response.subscribed());
    if (!flags.follow) stop_at = response.subscribed().head();
    done = response.subscribed().resolved_offset() >= stop_at;
  } else {
    done = true;
  }
  while (!done && (flags.max == 0 || printed < flags.max) && stream->Read(&response)) {
    if (!response.has_events()) continue;
    std::optional<std::uint64_t> last;
    bool stopped = false;  // at an event not to print
    for (const v1::Event& event : response.events().events()) {
      stopped = event.offset() >= stop_at || (flags.max != 0 && printed >= flags.max);
      if (stopped) break;
      out.Event(event);
      ++printed;
      last = event.offset();
    }
    std::fflush(stdout);
    // Acks open the window; with --ack they also commit (read_only is off).
    if (last) writer.Ack(*last);
    // With a filter the server also reports how far it has read past skipped events.
    const std::uint64_t read_to = std::max(last ? *last + 1 : 0, response.events().next_offset());
    if (stopped || read_to >= stop_at) done = true;
  }

  return EndStream(*stream, writer, watcher);
}

}  // namespace

void AddConsumeCommand(CLI::App& app, Action* chosen) {
  auto flags = std::make_shared<ConsumeFlags>();
  CLI::App* consume = app.add_subcommand("consume", "Print a topic's events; with --follow, keep tailing");
  consume->add_option("topic", flags->topic, "Topic name")->required();
  AddStartFlags(consume, &flags->start);
  consume->add_option("--consumer", flags->consumer, "Consumer name (its cursor: --from cursor, --ack)");
  consume->add_option("--group", flags->group,
                      "Join this consumer group: share the topic's events with its other members; with --ack, "
                      "ack each event once printed; without --follow, stop after 1 s without events");
  consume->add_flag("--follow", flags->follow, "Keep printing new events until interrupted");
  consume->add_flag("--ack", flags->ack, "Commit the consumer's cursor (or ack to the group) as events are printed");
  consume->add_option("--max", flags->max, "Stop after this many events");
  consume->add_option("--window", flags->window, "Unacknowledged events the server may send ahead");
  consume->add_option("--key", flags->key, "Only events with this key (the server filters)");
  consume->add_option("--header", flags->headers, "Only events with this header NAME=VALUE (repeat: all of them)")
      ->allow_extra_args(false);
  consume->callback([flags, chosen] {
    // Before any gRPC thread exists, so that every thread inherits the mask and the watcher's
    // sigtimedwait receives the signal.
    if (flags->follow) {
      const sigset_t set = TerminationSignals();
      pthread_sigmask(SIG_BLOCK, &set, nullptr);
    }
    *chosen = [flags](CliContext& context) { return RunConsume(context, *flags); };
  });
}

}  // namespace goethe::cli
