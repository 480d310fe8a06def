// What goethe-cli prints for consumer groups (cli_output.h).
#include "cli_output.h"

namespace goethe::cli {
namespace {

std::string ResetPolicyText(v1::ResetPolicy policy) {
  switch (policy) {
    case v1::RESET_POLICY_LATEST: return "latest";
    case v1::RESET_POLICY_ERROR: return "error";
    default: return "earliest";
  }
}

JsonObject GroupJson(const std::string& topic, const v1::Group& group) {
  const v1::GroupSettings& s = group.settings();
  JsonObject object;
  object.String("topic", topic)
      .String("group", group.name())
      .Unsigned("members", group.members())
      .Unsigned("in_flight", group.in_flight())
      .Unsigned("ack_floor", group.ack_floor())
      .Unsigned("dispatched_to", group.dispatched_to())
      .Unsigned("lag", group.lag())
      .Unsigned("redeliveries", group.redeliveries())
      .Unsigned("dead_lettered", group.dead_lettered())
      .Unsigned("lost_to_retention", group.lost_to_retention())
      .Time("created", group.created_unix_nanos())
      .Signed("ack_wait_ms", s.ack_wait().seconds() * 1000 + s.ack_wait().nanos() / 1'000'000)
      .Unsigned("max_deliveries", s.max_deliveries())
      .String("dead_letter_topic", s.dead_letter_topic())
      .Bool("ordered_by_key", s.ordered_by_key())
      .String("reset_policy", ResetPolicyText(s.reset_policy()))
      .Unsigned("max_pending", s.max_pending());
  return object;
}

}  // namespace

void Output::Group(const std::string& topic, const v1::Group& group) {
  if (json_) return Line(GroupJson(topic, group).str());
  Line(group.name() + "  members=" + std::to_string(group.members()) + "  in_flight=" +
       std::to_string(group.in_flight()) + "  acked_below=" + std::to_string(group.ack_floor()) + "  lag=" +
       std::to_string(group.lag()) + "  redeliveries=" + std::to_string(group.redeliveries()) +
       "  dead_lettered=" + std::to_string(group.dead_lettered()));
}

void Output::GroupDetails(const std::string& topic, const v1::Group& group) {
  if (json_) return Group(topic, group);
  const v1::GroupSettings& s = group.settings();
  Line("group:             " + group.name());
  Line("topic:             " + topic);
  Line("created:           " + TimeOrDash(group.created_unix_nanos()));
  Line("members:           " + std::to_string(group.members()));
  Line("acked below:       " + std::to_string(group.ack_floor()));
  Line("dispatched to:     " + std::to_string(group.dispatched_to()));
  Line("in flight:         " + std::to_string(group.in_flight()));
  Line("lag:               " + std::to_string(group.lag()));
  Line("redeliveries:      " + std::to_string(group.redeliveries()));
  Line("dead-lettered:     " + std::to_string(group.dead_lettered()));
  Line("lost to retention: " + std::to_string(group.lost_to_retention()));
  Line("ack wait:          " + DurationText(s.ack_wait()));
  Line("max deliveries:    " + std::to_string(s.max_deliveries()));
  Line("dead-letter topic: " + s.dead_letter_topic());
  Line(std::string("ordered by key:    ") + (s.ordered_by_key() ? "yes" : "no"));
  Line("reset policy:      " + ResetPolicyText(s.reset_policy()));
  Line("max pending:       " + std::to_string(s.max_pending()));
}

void Output::Pending(const std::string& group, const v1::PendingEvent& pending) {
  if (json_) {
    return Line(JsonObject()
                    .String("group", group)
                    .Unsigned("offset", pending.offset())
                    .String("member", pending.member())
                    .Unsigned("delivery_count", pending.delivery_count())
                    .Time("delivered", pending.delivered_unix_nanos())
                    .Time("not_before", pending.not_before_unix_nanos())
                    .str());
  }
  const std::string holder = pending.member().empty() ? "waiting" : "member=" + pending.member();
  std::string line = "  " + std::to_string(pending.offset()) + "  " + holder + "  deliveries=" +
                     std::to_string(pending.delivery_count()) + "  delivered=" + TimeOrDash(pending.delivered_unix_nanos());
  if (pending.not_before_unix_nanos() != 0) line += "  not_before=" + TimeOrDash(pending.not_before_unix_nanos());
  Line(line);
}

}  // namespace goethe::cli
