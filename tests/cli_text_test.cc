// goethe-cli's parsing and printing, without a server: RFC 3339 times, durations, --from, and how
// payloads are shown.
#include <gtest/gtest.h>

#include "payload_text.h"
#include "start_position_flag.h"
#include "time_text.h"

namespace goethe::cli {
namespace {

TEST(CliTimeText, FormatsUtcWithNanoseconds) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(FormatRfc3339(1'700'000'000'123'456'789), "2023-11-14T22:13:20.123456789Z");
  EXPECT_EQ(FormatRfc3339(-1), "1969-12-31T23:59:59.999999999Z");
}

TEST(CliTimeText, ParsesRfc3339WithOffsetsAndFractions) {
  EXPECT_EQ(ParseRfc3339("2023-11-14T22:13:20Z"), 1'700'000'000'000'000'000);
  EXPECT_EQ(ParseRfc3339("2023-11-14T22:13:20.123456789Z"), 1'700'000'000'123'456'789);
  EXPECT_EQ(ParseRfc3339("2023-11-14T23:13:20.5+01:00"), 1'700'000'000'500'000'000);
  EXPECT_EQ(ParseRfc3339("2023-11-14 21:13:20-01:00"), 1'700'000'000'000'000'000);
  EXPECT_EQ(ParseRfc3339("2024-02-29T00:00:00z"), 1'709'164'800'000'000'000);
  for (const char* bad : {"", "2023-11-14", "2023-11-14T22:13:20", "2023-02-29T00:00:00Z", "2023-11-14T24:00:00Z",
                          "2023-11-14T22:13:20.Z", "2023-11-14T22:13:20Zjunk", "yesterday"}) {
    EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
  }
  const std::int64_t t = 1'712'345'678'987'654'321;
  EXPECT_EQ(ParseRfc3339(FormatRfc3339(t)), t);
}

TEST(CliTimeText, ParsesDurations) {
  EXPECT_EQ(ParseDurationNanos("500ms"), 500'000'000);
  EXPECT_EQ(ParseDurationNanos("7d"), 7 * 86400 * 1'000'000'000LL);
  EXPECT_EQ(ParseDurationNanos("30"), 30'000'000'000);
  EXPECT_FALSE(ParseDurationNanos("5 minutes").has_value());
  EXPECT_FALSE(ParseDurationNanos("-5s").has_value());
}

TEST(CliStartPosition, ParsesEveryForm) {
  v1::StartPosition position;
  std::string error;
  StartFlags flags;
  ASSERT_TRUE(ParseStartPosition(flags, &position, &error));
  EXPECT_TRUE(position.beginning());
  flags.from = "end";
  ASSERT_TRUE(ParseStartPosition(flags, &position, &error));
  EXPECT_TRUE(position.end());
  flags.from = "42";
  ASSERT_TRUE(ParseStartPosition(flags, &position, &error));
  EXPECT_EQ(position.offset(), 42u);
  flags.from = "2023-11-14T22:13:20Z";
  ASSERT_TRUE(ParseStartPosition(flags, &position, &error));
  EXPECT_EQ(position.time_unix_nanos(), 1'700'000'000'000'000'000);
  flags.from = "cursor";
  flags.fallback = "end";
  flags.reset_policy = "error";
  ASSERT_TRUE(ParseStartPosition(flags, &position, &error));
  EXPECT_EQ(position.cursor().fallback(), v1::CURSOR_FALLBACK_END);
  EXPECT_EQ(position.cursor().reset_policy(), v1::RESET_POLICY_ERROR);
  flags.from = "99999999999999999999999";
  EXPECT_FALSE(ParseStartPosition(flags, &position, &error));
  flags.from = "soon";
  EXPECT_FALSE(ParseStartPosition(flags, &position, &error));
  EXPECT_NE(error.find("soon"), std::string::npos);
}

TEST(CliPayloadText, ShowsTextAsIsAndEverythingElseEscaped) {
  EXPECT_EQ(ShowPayload("hello, wörld"), "hello, wörld");
  EXPECT_EQ(ShowPayload("two\nlines"), "two\\nlines");
  EXPECT_EQ(ShowPayload(std::string("\x1b[2J", 4)), "\\x1b[2J");
  EXPECT_EQ(ShowPayload(std::string("\x00\x01\xff", 3)), "hex:0001ff");
  EXPECT_EQ(ShowPayload(std::string("ab\xc3", 3)), "ab\\xc3") << "truncated UTF-8";
  EXPECT_EQ(ShowPayload(""), "");
}

TEST(CliPayloadText, JsonAndBase64) {
  EXPECT_EQ(JsonString("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("fo"), "Zm8=");
  EXPECT_EQ(Base64("foo"), "Zm9v");
  EXPECT_TRUE(IsValidUtf8("\xe2\x82\xac"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf")) << "overlong";
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80")) << "surrogate";
}

}  // namespace
}  // namespace goethe::cli
