// goethe-cli cursors list TOPIC | get TOPIC CONSUMER | commit TOPIC CONSUMER OFFSET [--reset] |
//                    delete TOPIC CONSUMER
#include "cli_context.h"

namespace goethe::cli {
namespace {

struct CursorFlags {
  std::string topic;
  std::string consumer;
  std::uint64_t offset = 0;
  bool reset = false;
};

int RunList(CliContext& context, const CursorFlags& flags) {
  v1::ListCursorsRequest request;
  request.set_topic(flags.topic);
  v1::ListCursorsResponse response;
  const grpc::Status status = context.Unary(&v1::Goethe::Stub::ListCursors, request, &response);
  if (!status.ok()) return Fail(status);
  Output out = context.out();
  for (const v1::Cursor& cursor : response.cursors()) out.Cursor(flags.topic, cursor);
  return kExitOk;
}

int RunGet(CliContext& context, const CursorFlags& flags) {
  v1::GetCursorRequest request;
  request.set_topic(flags.topic);
  request.set_consumer(flags.consumer);
  v1::GetCursorResponse response;
  const grpc::Status status = context.Unary(&v1::Goethe::Stub::GetCursor, request, &response);
  if (!status.ok()) return Fail(status);
  context.out().Cursor(flags.topic, response.cursor());
  return kExitOk;
}

int RunCommit(CliContext& context, const CursorFlags& flags) {
  v1::CommitCursorRequest request;
  request.set_topic(flags.topic);
  request.set_consumer(flags.consumer);
  request.set_offset(flags.offset);
  request.set_reset(flags.reset);
  v1::CommitCursorResponse response;
  const grpc::Status status = context.Unary(&v1::Goethe::Stub::CommitCursor, request, &response);
  if (!status.ok()) return Fail(status);
  context.out().Cursor(flags.topic, response.cursor());
  return kExitOk;
}

int RunDelete(CliContext& context, const CursorFlags& flags) {
  v1::DeleteCursorRequest request;
  request.set_topic(flags.topic);
  request.set_consumer(flags.consumer);
  v1::DeleteCursorResponse response;
  const grpc::Status status = context.Unary(&v1::Goethe::Stub::DeleteCursor, request, &response);
  if (!status.ok()) return Fail(status);
  context.out().Done("deleted", "cursor", flags.topic + "/" + flags.consumer);
  return kExitOk;
}

// Adds a subcommand whose positional arguments are the first `arity` of topic, consumer, offset.
CLI::App* AddCursorCommand(CLI::App* parent, const char* name, const char* help, int arity,
                           int (*run)(CliContext&, const CursorFlags&), Action* chosen) {
  auto flags = std::make_shared<CursorFlags>();
  CLI::App* command = parent->add_subcommand(name, help);
  command->add_option("topic", flags->topic, "Topic name")->required();
  if (arity >= 2) command->add_option("consumer", flags->consumer, "Consumer name")->required();
  if (arity >= 3) {
    command->add_option("offset", flags->offset, "Offset of the last processed event")->required();
    command->add_flag("--reset", flags->reset, "Allow moving the cursor backwards (replay)");
  }
  command->callback([flags, run, chosen] {
    *chosen = [flags, run](CliContext& context) { return run(context, *flags); };
  });
  return command;
}

}  // namespace

void AddCursorsCommands(CLI::App& app, Action* chosen) {
  CLI::App* cursors = app.add_subcommand("cursors", "List, get, commit and delete consumer cursors");
  cursors->require_subcommand(1);
  AddCursorCommand(cursors, "list", "Every consumer's cursor on a topic, with its lag", 1, RunList, chosen);
  AddCursorCommand(cursors, "get", "One consumer's committed cursor", 2, RunGet, chosen);
  AddCursorCommand(cursors, "commit", "Commit a consumer's cursor (forward only unless --reset)", 3, RunCommit, chosen);
  AddCursorCommand(cursors, "delete", "Forget a consumer's cursor", 2, RunDelete, chosen);
}

}  // namespace goethe::cli
