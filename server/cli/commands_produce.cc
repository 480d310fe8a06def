// goethe-cli produce TOPIC [PAYLOAD...] [--file F] [--key K] [--header NAME=VALUE]...
//                   [--expect-offset N] [--idempotency-key K] [--batch N]
// Events come from the arguments (one atomic produce), or --file (the whole file, one event), or
// stdin (one event per line, sent in produces of --batch lines). Every event gets the --key and
// --header given. With several servers a produce follows the leader across a failover, but is sent
// again only when it certainly wrote nothing or carries an idempotency key.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>

#include "cli_context.h"
#include "header_flag.h"

namespace goethe::cli {
namespace {

struct ProduceFlags {
  std::string topic;
  std::vector<std::string> payloads;
  std::string file;
  std::optional<std::uint64_t> expect_offset;
  std::string idempotency_key;
  std::optional<std::string> key;
  std::vector<std::string> headers;  // NAME=VALUE
  std::uint32_t batch = 100;
};

int Send(CliContext& context, const ProduceFlags& flags, std::vector<std::string> payloads) {
  v1::ProduceRequest request;
  request.set_topic(flags.topic);
  const bool plain = !flags.key && flags.headers.empty();
  for (std::string& payload : payloads) {
    if (plain) {
      request.add_payloads(std::move(payload));
      continue;
    }
    v1::EventData* event = request.add_events();
    event->set_payload(std::move(payload));
    if (flags.key) event->set_key(*flags.key);
    for (const std::string& header : flags.headers) {
      if (!ParseHeaderFlag(header, event->add_headers()))
        return FailUsage("--header '" + header + "': expected NAME=VALUE");
    }
  }
  if (flags.expect_offset) request.set_expected_next_offset(*flags.expect_offset);
  request.set_idempotency_key(flags.idempotency_key);
  v1::ProduceResponse response;
  // Sent again across a failover only when that cannot write the events twice.
  const Resend resend = flags.idempotency_key.empty() ? Resend::kIfNothingWritten : Resend::kAlways;
  bool outcome_unknown = false;
  const grpc::Status status = context.Unary(&v1::Goethe::Stub::Produce, request, &response, resend, &outcome_unknown);
  if (!status.ok()) {
    Fail(status);
    if (outcome_unknown) {
      std::fprintf(stderr,
                   "note: the outcome is unknown: the produce failed after it may have reached the server, so its "
                   "events may or may not be written; it was not sent again (with --idempotency-key it would be)\n");
    }
    return kExitServerError;
  }
  context.out().Produced(flags.topic, response);
  return kExitOk;
}

int RunProduce(CliContext& context, const ProduceFlags& flags) {
  if (!flags.payloads.empty()) return Send(context, flags, flags.payloads);
  if (!flags.file.empty()) {
    std::ifstream in(flags.file, std::ios::binary);
    if (!in) return FailUsage("--file: cannot read " + flags.file);
    std::string payload((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return Send(context, flags, {std::move(payload)});
  }
  // An expected offset or an idempotency key belongs to one batch: then stdin is one batch.
  const bool one_batch = flags.expect_offset.has_value() || !flags.idempotency_key.empty();
  std::vector<std::string> batch;
  std::string line;
  while (std::getline(std::cin, line)) {
    batch.push_back(std::move(line));
    if (!one_batch && batch.size() >= flags.batch) {
      if (int code = Send(context, flags, std::move(batch)); code != kExitOk) return code;
      batch.clear();
    }
  }
  if (batch.empty()) return kExitOk;
  return Send(context, flags, std::move(batch));
}

}  // namespace

void AddProduceCommand(CLI::App& app, Action* chosen) {
  auto flags = std::make_shared<ProduceFlags>();
  CLI::App* produce = app.add_subcommand("produce", "Append events to a topic (arguments, --file, or stdin lines)");
  produce->add_option("topic", flags->topic, "Topic name")->required();
  produce->add_option("payloads", flags->payloads, "Event payloads: all of them as one atomic batch");
  produce->add_option("-f,--file", flags->file, "Send the whole file as one event");
  produce->add_option("--expect-offset", flags->expect_offset,
                      "Append only if the topic's next offset is this (else ABORTED)");
  produce->add_option("--key", flags->key, "The events' key (the entity they are about)");
  produce->add_option("--header", flags->headers, "A header NAME=VALUE on every event (repeat for more)")
      ->allow_extra_args(false);
  produce->add_option("--idempotency-key", flags->idempotency_key,
                      "A retry with the same idempotency key writes nothing");
  produce->add_option("--batch", flags->batch, "Stdin lines per produce")->capture_default_str()->check(CLI::PositiveNumber);
  produce->callback([flags, chosen] {
    *chosen = [flags](CliContext& context) { return RunProduce(context, *flags); };
  });
}

}  // namespace goethe::cli
