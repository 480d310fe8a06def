// goethe-cli consume TOPIC --from ... [--consumer NAME] [--follow] [--ack] [--max N] [--window N]
//                   [--key K] [--header NAME=VALUE]...
// goethe-cli consume TOPIC --group NAME [--ack] [--follow] [--max N] [--window N] [--from ...]
// Without --follow it prints the events that existed when it subscribed and exits; with --follow
// it tails until SIGINT or SIGTERM. --ack commits the consumer's cursor as it goes. Either way it
// ends by half-closing the stream, so that the server commits the last ack before it finishes.
// With several servers, a stream that ends with UNAVAILABLE (a failover) is opened again at the
// leader: a consumer resumes after the last event it printed, a group member joins its group again.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <optional>

#include "cli_context.h"
#include "consume_stream.h"
#include "header_flag.h"
#include "start_position_flag.h"

namespace goethe::cli {
namespace {

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

// Opens a Consume stream on `route` and points `writer` at it; false (the stream cancelled and
// finished) when an interrupt came first.
bool Open(StreamWriter& writer, const client::Route& route, grpc::ClientContext& call,
          std::unique_ptr<ConsumeStream>& stream) {
  stream = route.stub->Consume(&call);
  if (writer.Attach(stream.get(), &call)) return true;
  call.TryCancel();
  (void)stream->Finish();
  return false;
}

int RunGroupConsume(CliContext& context, const ConsumeFlags& flags) {
  v1::ConsumeRequest subscribe;
  v1::Subscribe* s = subscribe.mutable_subscribe();
  s->set_topic(flags.topic);
  // With --max, take no more than it will print: what it takes and does not print would wait for
  // the stream's end to go back to the group, and count as delivered.
  const std::uint32_t window = flags.window != 0 || flags.max == 0
                                  ? flags.window
                                  : static_cast<std::uint32_t>(std::min<std::uint64_t>(flags.max, 1000));
  s->set_window(window);
  s->mutable_group()->set_name(flags.group);
  std::string error;
  if (flags.start.from == "cursor") return FailUsage("--group: a group starts at beginning, end, now, an offset or a time");
  if (!ParseStartPosition(flags.start, s->mutable_start(), &error)) return FailUsage(error);
  if (!flags.consumer.empty() || flags.key || !flags.headers.empty())
    return FailUsage("--group takes no --consumer, --key or --header: the group keeps the position");

  StreamWriter writer;
  std::optional<InterruptWatcher> watcher;
  if (flags.follow) watcher.emplace(&writer);
  Output out = context.out();
  std::uint64_t printed = 0;
  std::uint64_t acked = 0;
  std::optional<std::chrono::steady_clock::time_point> failover_deadline;
  // A stream per pass: after a failover the member joins again at the leader with the same
  // subscribe (the group keeps the position; what this member had not acked went back to it).
  for (;;) {
    const client::Route route = context.route();
    grpc::ClientContext call;
    std::unique_ptr<ConsumeStream> stream;
    if (!Open(writer, route, call, stream)) return kExitOk;
    std::optional<IdleCloser> idle;
    if (!flags.follow) idle.emplace(&writer, kGroupIdle);

    v1::ConsumeResponse response;
    bool done = !stream->Write(subscribe);
    if (!done && stream->Read(&response) && response.has_subscribed()) {
      out.Subscribed(flags.topic, response.subscribed());
      failover_deadline.reset();
    } else {
      done = true;
    }
    v1::ConsumeRequest ack;  // printed and not acked yet
    while (!done && stream->Read(&response)) {
      if (!response.has_events()) continue;
      if (idle) idle->Touch();
      for (const v1::Event& event : response.events().events()) {
        if (flags.max != 0 && printed >= flags.max) break;
        out.Event(event);
        ++printed;
        ack.mutable_group_ack()->add_offsets(event.offset());
      }
      std::fflush(stdout);
      if (flags.max != 0 && printed >= flags.max) done = true;
      // Unacked events go back to the group when the stream ends; --ack keeps them processed. An
      // ack lets the server send `window` more: with --max, acks go out early only while what they
      // let through stays within it, the rest together with the last event's.
      const std::uint64_t to_ack = static_cast<std::uint64_t>(ack.group_ack().offsets_size());
      if (!flags.ack || to_ack == 0) continue;
      if (flags.max == 0 || done || acked + to_ack + window <= flags.max) {
        ack.mutable_group_ack()->set_leave(done);  // the last: nothing more is delivered to it
        writer.Write(ack);
        acked += to_ack;
        ack.Clear();
      }
      writer.WriteBeforeClose(ack);  // what is held back goes out before the stream is closed
    }

    const grpc::Status status = EndStream(*stream, writer);
    if (status.ok()) return kExitOk;
    const bool finished = flags.max != 0 && printed >= flags.max;
    if (finished || writer.interrupted() || !context.FollowLeader(route, call, status, &failover_deadline))
      return Fail(status);
  }
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

  StreamWriter writer;
  std::optional<InterruptWatcher> watcher;
  if (flags.follow) watcher.emplace(&writer);
  Output out = context.out();
  std::uint64_t stop_at = std::numeric_limits<std::uint64_t>::max();  // first offset not to print
  std::uint64_t printed = 0;
  std::optional<std::uint64_t> resume;  // the first offset neither printed nor read past
  std::optional<std::chrono::steady_clock::time_point> failover_deadline;
  // A stream per pass: after a failover the next one subscribes at the leader from `resume`.
  for (;;) {
    const client::Route route = context.route();
    grpc::ClientContext call;
    std::unique_ptr<ConsumeStream> stream;
    if (!Open(writer, route, call, stream)) return kExitOk;

    v1::ConsumeResponse response;
    bool finished = false;  // printed all it is asked for
    bool done = !stream->Write(subscribe);
    if (!done && stream->Read(&response) && response.has_subscribed()) {
      const v1::Subscribed& subscribed = response.subscribed();
      out.Subscribed(flags.topic, subscribed);
      failover_deadline.reset();
      if (!flags.follow) stop_at = std::min(stop_at, subscribed.head());
      if (!resume) resume = subscribed.resolved_offset();
      done = finished = subscribed.resolved_offset() >= stop_at;
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
      resume = std::max(resume.value_or(0), read_to);
      if (stopped || read_to >= stop_at) done = finished = true;
    }
    if (flags.max != 0 && printed >= flags.max) finished = true;

    const grpc::Status status = EndStream(*stream, writer);
    if (status.ok()) return kExitOk;
    if (finished || writer.interrupted() || !context.FollowLeader(route, call, status, &failover_deadline))
      return Fail(status);
    // A committing consumer resumes there too rather than at its cursor, so that an ack the old
    // leader never received prints nothing twice.
    if (resume) s->mutable_start()->set_offset(*resume);
  }
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
