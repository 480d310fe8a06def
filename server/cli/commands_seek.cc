// goethe-cli seek TOPIC --from beginning|end|cursor|now|OFFSET|TIME [--consumer NAME]
// Prints the offset the position resolves to (the nearest rule), without reading.
#include "cli_context.h"
#include "start_position_flag.h"

namespace goethe::cli {
namespace {

struct SeekFlags {
  std::string topic;
  std::string consumer;
  StartFlags start;
};

int RunSeek(CliContext& context, const SeekFlags& flags) {
  v1::SeekRequest request;
  request.set_topic(flags.topic);
  request.set_consumer(flags.consumer);
  std::string error;
  if (!ParseStartPosition(flags.start, request.mutable_start(), &error)) return FailUsage(error);
  if (request.start().has_cursor() && flags.consumer.empty()) return FailUsage("--from cursor needs --consumer");
  v1::SeekResponse response;
  const grpc::Status status = context.Unary(&v1::Goethe::Stub::Seek, request, &response);
  if (!status.ok()) return Fail(status);
  context.out().Seek(flags.topic, response);
  return kExitOk;
}

}  // namespace

// Adds --from, --fallback and --reset-policy to `command`.
void AddStartFlags(CLI::App* command, StartFlags* start) {
  command->add_option("--from", start->from, "beginning, end, cursor, now, an offset, or an RFC 3339 time")
      ->capture_default_str();
  command->add_option("--fallback", start->fallback, "With --from cursor and no cursor yet: beginning or end")
      ->capture_default_str()
      ->check(CLI::IsMember({"beginning", "end"}));
  command->add_option("--reset-policy", start->reset_policy,
                      "With --from cursor overtaken by retention: earliest, latest or error")
      ->capture_default_str()
      ->check(CLI::IsMember({"earliest", "latest", "error"}));
}

void AddSeekCommand(CLI::App& app, Action* chosen) {
  auto flags = std::make_shared<SeekFlags>();
  CLI::App* seek = app.add_subcommand("seek", "Resolve a start position to an offset (nearest rule)");
  seek->add_option("topic", flags->topic, "Topic name")->required();
  seek->add_option("--consumer", flags->consumer, "Consumer whose cursor --from cursor means");
  AddStartFlags(seek, &flags->start);
  seek->callback([flags, chosen] {
    *chosen = [flags](CliContext& context) { return RunSeek(context, *flags); };
  });
}

}  // namespace goethe::cli
