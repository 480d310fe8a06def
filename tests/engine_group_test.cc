// Consumer groups in the engine, on every backend: sharing, acks, nacks, timeouts, members
// leaving, dead letters, key order and what survives a reopen. (Through the real server:
// server_groups_test.cc.)
#include <gtest/gtest.h>

#include <future>
#include <set>
#include <string>
#include <vector>

#include "support/engine_fixture.h"

namespace goethe {
namespace {

using testing::kSecond;
using testing::Payloads;

class EngineGroupTest : public testing::EngineTest {
 protected:
  std::shared_ptr<GroupMember> Join(const std::string& group, std::uint32_t window, GroupSettings settings = {},
                                    std::string name = "") {
    auto member = log_->JoinGroup("t", group, settings, testing::Beginning(),
                                  {.member = std::move(name), .window = window, .on_work = [](const Status&) {}});
    EXPECT_TRUE(member.ok()) << member.status().ToString();
    return member.ok() ? *member : nullptr;
  }

  static std::vector<GroupDelivery> Fetch(GroupMember& member, std::uint32_t max = 1000) {
    std::promise<Result<std::vector<GroupDelivery>>> promise;
    auto future = promise.get_future();
    member.Fetch(max, 1 << 30, [&promise](Result<std::vector<GroupDelivery>> got) { promise.set_value(std::move(got)); });
    auto got = future.get();
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? std::move(got).value() : std::vector<GroupDelivery>{};
  }

  static Status Ack(GroupMember& member, std::vector<OffsetRange> ranges) {
    std::promise<Status> promise;
    auto future = promise.get_future();
    member.Ack(std::move(ranges), [&promise](const Status& s) { promise.set_value(s); });
    return future.get();
  }

  static std::vector<std::uint64_t> Offsets(const std::vector<GroupDelivery>& deliveries) {
    std::vector<std::uint64_t> out;
    for (const GroupDelivery& d : deliveries) out.push_back(d.event.offset);
    return out;
  }

  // Fetches until `member` gets something or about 3 s pass (the redelivery thread runs at least
  // once a second).
  std::vector<GroupDelivery> FetchSoon(GroupMember& member) {
    for (int i = 0; i < 300; ++i) {
      auto got = Fetch(member);
      if (!got.empty()) return got;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return {};
  }
};

TEST_P(EngineGroupTest, MembersShareEventsAndEachIsDeliveredOnce) {
  AppendOk("t", Payloads("e", 100));
  std::vector<std::shared_ptr<GroupMember>> members;
  for (int i = 0; i < 4; ++i) members.push_back(Join("g", 10));
  std::multiset<std::uint64_t> seen;
  for (int round = 0; round < 20 && seen.size() < 100; ++round) {
    for (auto& member : members) {
      auto got = Fetch(*member);
      EXPECT_LE(got.size(), 10u) << "more than the member's window";
      for (const GroupDelivery& d : got) {
        seen.insert(d.event.offset);
        EXPECT_EQ(d.deliveries, 1u);
        EXPECT_EQ(d.event.payload, "e" + std::to_string(d.event.offset));
      }
      if (!got.empty()) {
        ASSERT_TRUE(Ack(*member, {{got.front().event.offset, got.back().event.offset}}).ok());
      }
    }
  }
  ASSERT_EQ(seen.size(), 100u);
  EXPECT_EQ(std::set<std::uint64_t>(seen.begin(), seen.end()).size(), 100u) << "an event went to two members";
  auto info = log_->DescribeGroup("t", "g");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->ack_floor, 100u);
  EXPECT_EQ(info->lag, 0u);
  EXPECT_EQ(info->members, 4u);
}

TEST_P(EngineGroupTest, ALeavingMembersEventsGoToTheOthersAtOnce) {
  AppendOk("t", Payloads("e", 10));
  auto a = Join("g", 5);
  auto b = Join("g", 5);
  EXPECT_EQ(Offsets(Fetch(*a)), (std::vector<std::uint64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(Offsets(Fetch(*b)), (std::vector<std::uint64_t>{5, 6, 7, 8, 9}));
  ASSERT_TRUE(Ack(*b, {{5, 9}}).ok());
  a->Leave();
  auto again = Fetch(*b);
  EXPECT_EQ(Offsets(again), (std::vector<std::uint64_t>{0, 1, 2, 3, 4}));
  for (const GroupDelivery& d : again) EXPECT_EQ(d.deliveries, 2u);
}

TEST_P(EngineGroupTest, NackHandsBackAfterTheDelayAndAckWaitRedelivers) {
  AppendOk("t", Payloads("e", 2));
  auto member = Join("g", 10, {.ack_wait = std::chrono::seconds(30)});
  ASSERT_EQ(Fetch(*member).size(), 2u);
  ASSERT_TRUE(member->Nack({0}, std::chrono::seconds(10), "busy").ok());
  EXPECT_TRUE(Fetch(*member).empty()) << "delivered again before the delay";
  clock_.Advance(11 * kSecond);
  auto nacked = FetchSoon(*member);
  ASSERT_EQ(Offsets(nacked), (std::vector<std::uint64_t>{0}));
  EXPECT_EQ(nacked[0].deliveries, 2u);
  ASSERT_TRUE(Ack(*member, {{0, 0}}).ok());
  // Offset 1 was never acked: after ack_wait it comes back.
  clock_.Advance(31 * kSecond);
  auto timed_out = FetchSoon(*member);
  EXPECT_EQ(Offsets(timed_out), (std::vector<std::uint64_t>{1}));
  // A nack of an event not in flight to this member is refused and changes nothing.
  EXPECT_EQ(member->Nack({7}, {}, "").code(), StatusCode::kInvalidArgument);
}

TEST_P(EngineGroupTest, AfterMaxDeliveriesAnEventMovesToTheDeadLetterTopicWithItsOrigin) {
  AppendRequest request{.topic = "t", .payloads = {"poison", "fine"}, .attributes = {{"k1", {{"type", "Bad"}}}, {}}};
  ASSERT_TRUE(log_->Append(std::move(request)).status.ok());
  auto member = Join("g", 10, {.max_deliveries = 3});
  for (int i = 1; i <= 3; ++i) {
    auto got = Fetch(*member);
    ASSERT_FALSE(got.empty()) << "delivery " << i;
    EXPECT_EQ(got[0].event.offset, 0u);
    EXPECT_EQ(got[0].deliveries, static_cast<std::uint32_t>(i));
    if (i == 1) {
      ASSERT_TRUE(Ack(*member, {{1, 1}}).ok());
    }
    ASSERT_TRUE(member->Nack({0}, {}, "cannot parse, try " + std::to_string(i)).ok());
  }
  EXPECT_TRUE(Fetch(*member).empty());
  auto info = log_->DescribeGroup("t", "g");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->dead_lettered, 1u);
  EXPECT_EQ(info->ack_floor, 2u) << "the group moved on";
  const std::vector<Event> dead = ReadAll("t.g.dead-letter");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].payload, "poison");
  EXPECT_EQ(dead[0].key, "k1");
  const std::vector<Header> expected{{"type", "Bad"},
                                     {"goethe-origin-topic", "t"},
                                     {"goethe-origin-offset", "0"},
                                     {"goethe-origin-timestamp-unix-nanos", std::to_string(ReadAll("t")[0].timestamp_ns)},
                                     {"goethe-group", "g"},
                                     {"goethe-deliveries", "3"},
                                     {"goethe-nack-reason", "cannot parse, try 3"}};
  EXPECT_EQ(dead[0].headers, expected);
}

TEST_P(EngineGroupTest, AReopenRedeliversExactlyTheUnackedWithTheirCounts) {
  AppendOk("t", Payloads("e", 10));
  {
    auto member = Join("g", 10, {.max_deliveries = 4});
    ASSERT_EQ(Fetch(*member).size(), 10u);
    ASSERT_TRUE(Ack(*member, {{0, 2}, {5, 5}, {8, 9}}).ok());
    ASSERT_TRUE(member->Nack({3}, {}, "").ok());
    ASSERT_EQ(Offsets(Fetch(*member)), (std::vector<std::uint64_t>{3}));  // its second delivery
  }
  ASSERT_NO_FATAL_FAILURE(Reopen());
  auto info = log_->DescribeGroup("t", "g");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->ack_floor, 3u);
  EXPECT_EQ(info->settings.max_deliveries, 4u);
  auto member = Join("g", 10);
  auto again = Fetch(*member);
  EXPECT_EQ(Offsets(again), (std::vector<std::uint64_t>{3, 4, 6, 7}));
  for (const GroupDelivery& d : again) {
    EXPECT_EQ(d.deliveries, d.event.offset == 3 ? 3u : 2u) << d.event.offset;
  }
}

TEST_P(EngineGroupTest, OrderedByKeyKeepsOneEventOfAKeyInFlightInOffsetOrder) {
  std::vector<EventAttributes> attributes;
  for (int i = 0; i < 12; ++i) attributes.push_back({"key" + std::to_string(i % 3), {}});
  ASSERT_TRUE(log_->Append({.topic = "t", .payloads = Payloads("e", 12), .attributes = attributes}).status.ok());
  auto a = Join("g", 10, {.ordered_by_key = true});
  auto b = Join("g", 10);
  auto first = Fetch(*a);
  EXPECT_EQ(Offsets(first), (std::vector<std::uint64_t>{0, 1, 2})) << "one per key";
  EXPECT_TRUE(Fetch(*b).empty()) << "every key is in flight";
  ASSERT_TRUE(Ack(*a, {{1, 1}}).ok());
  EXPECT_EQ(Offsets(Fetch(*b)), (std::vector<std::uint64_t>{4}));  // key1's next, to the other member
  a->Leave();  // keys 0 and 2 come back, in order
  EXPECT_EQ(Offsets(Fetch(*b)), (std::vector<std::uint64_t>{0, 2}));
}

TEST_P(EngineGroupTest, BadAcksAreRefusedWithoutChangingAnything) {
  AppendOk("t", Payloads("e", 5));
  auto member = Join("g", 2);
  ASSERT_EQ(Fetch(*member).size(), 2u);
  EXPECT_EQ(Ack(*member, {{0, 3}}).code(), StatusCode::kInvalidArgument) << "3 was never delivered";
  EXPECT_EQ(Ack(*member, {{1, 0}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(log_->DescribeGroup("t", "g")->ack_floor, 0u);
  EXPECT_TRUE(Ack(*member, {{0, 1}}).ok());
  EXPECT_TRUE(Ack(*member, {{0, 1}}).ok()) << "acking again is no error";
  GroupSettings bad{.max_deliveries = 1001};
  EXPECT_EQ(log_->CreateGroup("t", "other", bad, testing::Beginning()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(log_->CreateGroup("t", "g", {}, testing::Beginning()).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(log_->DescribeGroup("t", "none").status().code(), StatusCode::kNotFound);
}

TEST_P(EngineGroupTest, ResetAndDeleteEndTheMembers) {
  AppendOk("t", Payloads("e", 5));
  Status ended;
  auto joined = log_->JoinGroup("t", "g", {}, testing::Beginning(),
                                {.window = 10, .on_work = [&ended](const Status& s) { if (!s.ok()) ended = s; }});
  ASSERT_TRUE(joined.ok());
  ASSERT_EQ(Fetch(**joined).size(), 5u);
  ASSERT_TRUE(log_->ResetGroup("t", "g", testing::AtOffset(3)).ok());
  EXPECT_EQ(ended.code(), StatusCode::kAborted);
  auto member = Join("g", 10);
  EXPECT_EQ(Offsets(Fetch(*member)), (std::vector<std::uint64_t>{3, 4}));
  ASSERT_TRUE(log_->DeleteGroup("t", "g").ok());
  EXPECT_EQ(log_->DescribeGroup("t", "g").status().code(), StatusCode::kNotFound);
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_TRUE(log_->ListGroups("t")->empty()) << "the deleted group came back";
}

TEST_P(EngineGroupTest, DispatchStopsMaxPendingAheadOfTheOldestUnackedEvent) {
  AppendOk("t", Payloads("e", 50));
  auto slow = Join("g", 1, {.max_pending = 10});
  auto fast = Join("g", 100);
  EXPECT_EQ(Offsets(Fetch(*slow)), (std::vector<std::uint64_t>{0}));  // and never acked
  std::vector<std::uint64_t> got = Offsets(Fetch(*fast));
  EXPECT_EQ(got.size(), 9u) << "offsets 1..9: ten pending at most";
  ASSERT_TRUE(Ack(*fast, {{1, 9}}).ok());
  EXPECT_TRUE(Fetch(*fast).empty()) << "the span is still full: offset 0 holds the floor";
  auto pending = log_->GroupPending("t", "g", 100);
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->size(), 1u);
  ASSERT_TRUE(Ack(*slow, {{0, 0}}).ok());
  EXPECT_EQ(Fetch(*fast).size(), 10u) << "the floor moved: ten more";
}

TEST_P(EngineGroupTest, RetentionOvertakingAGroupFollowsItsResetPolicy) {
  ASSERT_TRUE(log_->CreateTopic("t", {.retention_events = 5}).ok());
  ASSERT_TRUE(log_->CreateGroup("t", "earliest", {}, testing::Beginning()).ok());
  ASSERT_TRUE(log_->CreateGroup("t", "latest", {.reset = ResetPolicy::kLatest}, testing::Beginning()).ok());
  ASSERT_TRUE(log_->CreateGroup("t", "error", {.reset = ResetPolicy::kError}, testing::Beginning()).ok());
  AppendOk("t", Payloads("e", 10));
  ASSERT_TRUE(log_->EnforceRetention().ok());
  ASSERT_EQ(Describe("t").first_offset, 5u);

  EXPECT_EQ(Offsets(Fetch(*Join("earliest", 100))), (std::vector<std::uint64_t>{5, 6, 7, 8, 9}));
  EXPECT_EQ(log_->DescribeGroup("t", "earliest")->lost_to_retention, 5u);
  EXPECT_TRUE(Fetch(*Join("latest", 100)).empty()) << "latest skips to the head";
  EXPECT_EQ(log_->DescribeGroup("t", "latest")->lost_to_retention, 10u);
  auto member = Join("error", 100);
  std::promise<Status> failed;
  member->Fetch(100, 1 << 20, [&failed](Result<std::vector<GroupDelivery>> got) { failed.set_value(got.status()); });
  const Status status = failed.get_future().get();
  EXPECT_EQ(status.code(), StatusCode::kOutOfRange);
  EXPECT_NE(status.message().find("first retained offset is 5"), std::string::npos) << status.message();
}

TEST_P(EngineGroupTest, DeletingTheTopicEndsItsGroups) {
  AppendOk("t", Payloads("e", 3));
  Status ended;
  auto joined = log_->JoinGroup("t", "g", {}, testing::Beginning(),
                                {.window = 10, .on_work = [&ended](const Status& s) { if (!s.ok()) ended = s; }});
  ASSERT_TRUE(joined.ok());
  ASSERT_TRUE(log_->DeleteTopic("t").ok());
  EXPECT_EQ(ended.code(), StatusCode::kNotFound);
  AppendOk("t", Payloads("new", 1));
  EXPECT_TRUE(log_->ListGroups("t")->empty()) << "a topic created again starts without groups";
}

GOETHE_ENGINE_TEST_SUITE(EngineGroupTest);

}  // namespace
}  // namespace goethe
