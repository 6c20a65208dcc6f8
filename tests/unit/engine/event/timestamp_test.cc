// RFC 3339 event time (engine/event/timestamp.h).
#include "engine/event/timestamp.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace corridor::event {
namespace {

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kHour = 3'600'000;
// 2024-05-01T12:00:00Z: days_from_civil(2024, 5, 1) = 19844.
constexpr int64_t kMay1Noon = 19'844 * kDay + 12 * kHour;

int64_t parsed(std::string_view text) {
  int64_t ms = -424242;
  EXPECT_TRUE(parse_rfc3339(text, ms)) << '"' << text << '"';
  return ms;
}

bool rejects(std::string_view text) {
  int64_t ms = -424242;
  const bool ok = parse_rfc3339(text, ms);
  return !ok;
}

TEST(DaysFromCivil, KnownValues) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(1970, 1, 2), 1);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
  EXPECT_EQ(days_from_civil(2000, 1, 1), 10'957);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11'017);  // 2000 is a leap year: Feb has 29 days
  EXPECT_EQ(days_from_civil(2024, 1, 1), 19'723);
  EXPECT_EQ(days_from_civil(2024, 5, 1), 19'844);
  EXPECT_EQ(days_from_civil(1900, 1, 1), -25'567);
  EXPECT_EQ(days_from_civil(1900, 3, 1), -25'508);  // 1900 is not: 31 + 28 days
  EXPECT_EQ(days_from_civil(2100, 1, 1), 47'482);
  EXPECT_EQ(days_from_civil(1600, 1, 1), -135'140);
}

TEST(ParseRfc3339, UtcDesignators) {
  EXPECT_EQ(parsed("2024-05-01T12:00:00Z"), kMay1Noon);
  EXPECT_EQ(parsed("2024-05-01T12:00:00z"), kMay1Noon);
  EXPECT_EQ(parsed("2024-05-01t12:00:00Z"), kMay1Noon);
  EXPECT_EQ(parsed("2024-05-01 12:00:00Z"), kMay1Noon);
  EXPECT_EQ(parsed("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parsed("2024-05-01T23:59:59Z"), 19'844 * kDay + 86'399'000);
}

TEST(ParseRfc3339, Offsets) {
  EXPECT_EQ(parsed("2024-05-01T14:00:00+02:00"), kMay1Noon);
  EXPECT_EQ(parsed("2024-05-01T06:30:00-05:30"), kMay1Noon);
  EXPECT_EQ(parsed("2024-05-01T12:00:00+00:00"), kMay1Noon);
  EXPECT_EQ(parsed("2024-05-01T12:00:00-00:00"), kMay1Noon);
  // An offset that crosses midnight and the year boundary.
  EXPECT_EQ(parsed("2024-01-01T01:00:00+02:00"), days_from_civil(2023, 12, 31) * kDay + 23 * kHour);
  EXPECT_EQ(parsed("2023-12-31T23:00:00-23:59"),
            days_from_civil(2024, 1, 1) * kDay + 22 * kHour + 59 * 60'000);
}

TEST(ParseRfc3339, MalformedOffsets) {
  EXPECT_TRUE(rejects("2024-05-01T12:00:00+0200"));
  EXPECT_TRUE(rejects("2024-05-01T12:00:00+02"));
  EXPECT_TRUE(rejects("2024-05-01T12:00:00+2:00"));
  EXPECT_TRUE(rejects("2024-05-01T12:00:00+24:00"));
  EXPECT_TRUE(rejects("2024-05-01T12:00:00+02:60"));
  EXPECT_TRUE(rejects("2024-05-01T12:00:00+02:00Z"));
  EXPECT_TRUE(rejects("2024-05-01T12:00:00Z "));
  EXPECT_TRUE(rejects("2024-05-01T12:00:00UTC"));
}

TEST(ParseRfc3339, FractionalSecondsOneToNineDigits) {
  EXPECT_EQ(parsed("2024-05-01T12:00:00.1Z"), kMay1Noon + 100);
  EXPECT_EQ(parsed("2024-05-01T12:00:00.12Z"), kMay1Noon + 120);
  EXPECT_EQ(parsed("2024-05-01T12:00:00.123Z"), kMay1Noon + 123);
  EXPECT_EQ(parsed("2024-05-01T12:00:00.1234Z"), kMay1Noon + 123);
  EXPECT_EQ(parsed("2024-05-01T12:00:00.12345Z"), kMay1Noon + 123);
  EXPECT_EQ(parsed("2024-05-01T12:00:00.123456Z"), kMay1Noon + 123);
  EXPECT_EQ(parsed("2024-05-01T12:00:00.1234567Z"), kMay1Noon + 123);
  EXPECT_EQ(parsed("2024-05-01T12:00:00.12345678Z"), kMay1Noon + 123);
  EXPECT_EQ(parsed("2024-05-01T12:00:00.123456789Z"), kMay1Noon + 123);
  EXPECT_EQ(parsed("2024-05-01T14:00:00.250+02:00"), kMay1Noon + 250);
  EXPECT_EQ(parsed("2024-05-01T12:00:00.000Z"), kMay1Noon);
  EXPECT_EQ(parsed("2024-05-01T12:00:00.05Z"), kMay1Noon + 50);
}

TEST(ParseRfc3339, FractionBeyondMillisecondsTruncatesTowardThePast) {
  EXPECT_EQ(parsed("2024-05-01T12:00:00.999999999Z"), kMay1Noon + 999);
  EXPECT_EQ(parsed("2024-05-01T12:00:00.0009Z"), kMay1Noon);
  // Before the epoch the truncation still goes toward the past, not toward zero.
  EXPECT_EQ(parsed("1969-12-31T23:59:59.9999Z"), -1);
  EXPECT_EQ(parsed("1969-12-31T23:59:59.0001Z"), -1000);
}

TEST(ParseRfc3339, EmptyFractionIsRejected) {
  EXPECT_TRUE(rejects("2024-05-01T12:00:00.Z"));
  EXPECT_TRUE(rejects("2024-05-01T12:00:00.+02:00"));
}

TEST(ParseRfc3339, LeapYears) {
  EXPECT_EQ(parsed("2024-02-29T00:00:00Z"), days_from_civil(2024, 2, 29) * kDay);
  EXPECT_EQ(parsed("2000-02-29T00:00:00Z"), days_from_civil(2000, 2, 29) * kDay);
  EXPECT_EQ(days_from_civil(2024, 2, 29) + 1, days_from_civil(2024, 3, 1));
  EXPECT_TRUE(rejects("2023-02-29T00:00:00Z"));
  EXPECT_TRUE(rejects("1900-02-29T00:00:00Z"));
  EXPECT_TRUE(rejects("2024-02-30T00:00:00Z"));
}

TEST(ParseRfc3339, CalendarAndClockRanges) {
  EXPECT_TRUE(rejects("2024-02-30T00:00:00Z"));
  EXPECT_TRUE(rejects("2024-04-31T00:00:00Z"));
  EXPECT_TRUE(rejects("2024-13-01T00:00:00Z"));
  EXPECT_TRUE(rejects("2024-00-01T00:00:00Z"));
  EXPECT_TRUE(rejects("2024-05-00T00:00:00Z"));
  EXPECT_TRUE(rejects("2024-05-32T00:00:00Z"));
  EXPECT_TRUE(rejects("2024-05-01T24:00:00Z"));
  EXPECT_TRUE(rejects("2024-05-01T12:60:00Z"));
  EXPECT_TRUE(rejects("2024-05-01T12:00:60Z"));
  EXPECT_TRUE(rejects("2024-12-31T23:59:60Z"));  // no leap seconds
  EXPECT_EQ(parsed("2024-04-30T00:00:00Z"), days_from_civil(2024, 4, 30) * kDay);
  EXPECT_EQ(parsed("2024-12-31T23:59:59Z"), days_from_civil(2025, 1, 1) * kDay - 1000);
}

TEST(ParseRfc3339, MissingZoneIsRejected) {
  EXPECT_TRUE(rejects("2024-05-01T12:00:00"));
  EXPECT_TRUE(rejects("2024-05-01T12:00:00.250"));
}

TEST(ParseRfc3339, ShortAndMalformedStrings) {
  for (const char* text :
       {"", "2024", "2024-05-01", "2024-05-01T12:00Z", "2024-05-01T12:00:0Z", "2024-5-01T12:00:00Z",
        "24-05-01T12:00:00Z", "2024/05/01T12:00:00Z", "2024-05-01X12:00:00Z",
        "2024-05-01T12-00-00Z", "2024-05-01T1a:00:00Z", " 2024-05-01T12:00:00Z",
        "+2024-05-01T12:00:00Z", "2024-05-01T12:00:00"}) {
    EXPECT_TRUE(rejects(text)) << '"' << text << '"';
  }
}

TEST(ParseRfc3339, FailureLeavesOutputUntouched) {
  int64_t ms = 77;
  EXPECT_FALSE(parse_rfc3339("2024-02-30T00:00:00Z", ms));
  EXPECT_EQ(ms, 77);
}

// "2024-05-01T12:00:00.250Z" and "...:00Z" take a fixed-width path (years 1901-2099); the
// same instant written with "+00:00" takes the general one. Both must agree on every day.
TEST(ParseRfc3339, FixedWidthAndGeneralPathsAgree) {
  const char* kTimes[] = {"00:00:00", "23:59:59", "12:34:56", "09:05:07"};
  size_t checked = 0;
  for (int year = 1899; year <= 2101; ++year) {
    for (unsigned month = 1; month <= 12; ++month) {
      for (unsigned day = 1; day <= 31; ++day) {
        const std::string date = [&] {
          char buf[16];
          std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", year, month, day);
          return std::string(buf);
        }();
        const char* time = kTimes[(day + month) % 4];
        for (const char* fraction : {"", ".000", ".999", ".250"}) {
          const std::string utc = date + "T" + time + fraction + "Z";
          const std::string offset = date + "T" + time + fraction + "+00:00";
          int64_t fast = -1, general = -2;
          const bool fast_ok = parse_rfc3339(utc, fast);
          const bool general_ok = parse_rfc3339(offset, general);
          ASSERT_EQ(fast_ok, general_ok) << utc;
          if (!fast_ok) continue;
          ASSERT_EQ(fast, general) << utc;
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 203U * 4U * 365U + 49U * 4U);  // 1899-2101: 49 leap years (not 1900, 2100)
}

TEST(ParseRfc3339, FixedWidthBoundaries) {
  EXPECT_EQ(parsed("1901-01-01T00:00:00Z"), days_from_civil(1901, 1, 1) * kDay);
  EXPECT_EQ(parsed("1900-12-31T23:59:59.999Z"), days_from_civil(1901, 1, 1) * kDay - 1);
  EXPECT_EQ(parsed("1969-12-31T23:59:59.999Z"), -1);
  EXPECT_EQ(parsed("1970-01-01T00:00:00.001Z"), 1);
  EXPECT_EQ(parsed("1904-02-29T00:00:00Z"), days_from_civil(1904, 2, 29) * kDay);
  EXPECT_EQ(parsed("2099-12-31T23:59:59.999Z"), days_from_civil(2100, 1, 1) * kDay - 1);
  EXPECT_EQ(parsed("2100-01-01T00:00:00.000Z"), days_from_civil(2100, 1, 1) * kDay);
  EXPECT_EQ(parsed("0000-01-01T00:00:00Z"), days_from_civil(0, 1, 1) * kDay);
  EXPECT_EQ(parsed("9999-12-31T23:59:59.999Z"), days_from_civil(10000, 1, 1) * kDay - 1);
  EXPECT_TRUE(rejects("2100-02-29T00:00:00Z"));
  EXPECT_TRUE(rejects("1900-02-29T00:00:00.000Z"));
  EXPECT_TRUE(rejects("2099-02-29T00:00:00.000Z"));
}

// Every byte position of both fixed-width shapes, given a byte it does not allow: the
// neighbours of the digit range, bytes that carry when 6 is added, a space and a NUL.
TEST(ParseRfc3339, FixedWidthRejectsEveryWrongByte) {
  const std::string kNotDigits("/:\xFA\xFF\xB0 \0", 7);
  const std::string kNotSeparators("09/:\xFF", 5);
  for (const std::string good : {"2024-05-01T12:00:00.250Z", "2024-05-01T12:00:00Z"}) {
    int64_t ms = 0;
    ASSERT_TRUE(parse_rfc3339(good, ms));
    for (size_t i = 0; i < good.size(); ++i) {
      const bool digit = good[i] >= '0' && good[i] <= '9';
      for (const char c : digit ? kNotDigits : kNotSeparators) {
        if (c == good[i]) continue;
        std::string bad = good;
        bad[i] = c;
        EXPECT_TRUE(rejects(bad)) << good << ": byte " << i << " = " << static_cast<int>(c);
      }
    }
  }
}

TEST(AppendRfc3339, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339(kMay1Noon), "2024-05-01T12:00:00.000Z");
  EXPECT_EQ(format_rfc3339(kMay1Noon + 250), "2024-05-01T12:00:00.250Z");
  EXPECT_EQ(format_rfc3339(kMay1Noon + 7), "2024-05-01T12:00:00.007Z");
  EXPECT_EQ(format_rfc3339(days_from_civil(2024, 2, 29) * kDay + 86'399'999),
            "2024-02-29T23:59:59.999Z");
  EXPECT_EQ(format_rfc3339(days_from_civil(2100, 1, 1) * kDay), "2100-01-01T00:00:00.000Z");
}

TEST(AppendRfc3339, PreEpochValues) {
  EXPECT_EQ(format_rfc3339(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_rfc3339(-1000), "1969-12-31T23:59:59.000Z");
  EXPECT_EQ(format_rfc3339(-1001), "1969-12-31T23:59:58.999Z");
  EXPECT_EQ(format_rfc3339(-kDay), "1969-12-31T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339(-kDay - 1), "1969-12-30T23:59:59.999Z");
  EXPECT_EQ(format_rfc3339(days_from_civil(1900, 2, 28) * kDay + 13 * kHour + 5),
            "1900-02-28T13:00:00.005Z");
  EXPECT_EQ(format_rfc3339(days_from_civil(1600, 1, 1) * kDay), "1600-01-01T00:00:00.000Z");
}

TEST(AppendRfc3339, AppendsToExistingText) {
  std::string s = "ts=";
  append_rfc3339(s, kMay1Noon);
  EXPECT_EQ(s, "ts=2024-05-01T12:00:00.000Z");
}

TEST(AppendRfc3339, RoundTripsThroughParse) {
  for (int64_t ms : {int64_t{0}, int64_t{-1}, int64_t{1}, kMay1Noon + 999, -kDay * 365 * 70 + 123,
                     days_from_civil(1999, 12, 31) * kDay + 86'399'999,
                     days_from_civil(2099, 12, 31) * kDay + 1}) {
    const std::string text = format_rfc3339(ms);
    int64_t back = 0;
    ASSERT_TRUE(parse_rfc3339(text, back)) << text;
    EXPECT_EQ(back, ms) << text;
  }
}

}  // namespace
}  // namespace corridor::event
