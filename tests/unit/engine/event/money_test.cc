// Exact money: parse_money, parse_rate, convert, format_money (engine/event/money.h).
#include "engine/event/money.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace corridor::event {
namespace {

// Parses `text` expecting success; returns the units.
int64_t units(std::string_view text) {
  Money m{-777};
  const DecimalError e = parse_money(text, m);
  EXPECT_EQ(e, DecimalError::ok) << "parse_money(\"" << text << "\")";
  return m.units;
}

DecimalError money_error(std::string_view text) {
  Money m{-777};
  const DecimalError e = parse_money(text, m);
  return e;
}

Rate rate(std::string_view text) {
  Rate r{};
  EXPECT_EQ(parse_rate(text, r), DecimalError::ok) << "parse_rate(\"" << text << "\")";
  return r;
}

TEST(ParseMoney, Integers) {
  EXPECT_EQ(units("0"), 0);
  EXPECT_EQ(units("1"), 10'000);
  EXPECT_EQ(units("1250"), 12'500'000);
  EXPECT_EQ(units("-3"), -30'000);
  EXPECT_EQ(units("-0"), 0);
  EXPECT_EQ(units("99999999999999"), 999'999'999'999'990'000);
}

TEST(ParseMoney, Fractions) {
  EXPECT_EQ(units("0.5"), 5'000);
  EXPECT_EQ(units("1250.5"), 12'505'000);
  EXPECT_EQ(units("-3.25"), -32'500);
  EXPECT_EQ(units("0.0001"), 1);
  EXPECT_EQ(units("0.1"), 1'000);
  EXPECT_EQ(units("12.34"), 123'400);
}

TEST(ParseMoney, Exponents) {
  EXPECT_EQ(units("1.25e3"), 12'500'000);
  EXPECT_EQ(units("125e-2"), 12'500);
  EXPECT_EQ(units("1E2"), 1'000'000);
  EXPECT_EQ(units("1e+2"), 1'000'000);
  EXPECT_EQ(units("5e-4"), 5);
  EXPECT_EQ(units("0.0125e2"), 12'500);
}

TEST(ParseMoney, ExponentThatLeavesNonZeroDigitsBeyondScaleIsTooPrecise) {
  EXPECT_EQ(money_error("1e-5"), DecimalError::too_precise);
  EXPECT_EQ(money_error("125e-7"), DecimalError::too_precise);
  EXPECT_EQ(units("100e-6"), 1);
}

TEST(ParseMoney, LeadingZeros) {
  EXPECT_EQ(units("007"), 70'000);
  EXPECT_EQ(units("0001.5"), 15'000);
  EXPECT_EQ(units("00.0001"), 1);
  EXPECT_EQ(units("-000.25"), -2'500);
}

TEST(ParseMoney, ExactlyFourDecimals) {
  EXPECT_EQ(units("1.2345"), 12'345);
  EXPECT_EQ(units("-0.9999"), -9'999);
  EXPECT_EQ(units("99999999999999.9999"), 999'999'999'999'999'999);
}

TEST(ParseMoney, FiveDecimalsWithTrailingZeroIsExact) {
  EXPECT_EQ(units("1.23450"), 12'345);
  EXPECT_EQ(units("0.00010"), 1);
  EXPECT_EQ(units("2.000000000"), 20'000);
}

TEST(ParseMoney, FiveDecimalsWithNonZeroDigitIsTooPrecise) {
  EXPECT_EQ(money_error("1.23451"), DecimalError::too_precise);
  EXPECT_EQ(money_error("0.00001"), DecimalError::too_precise);
  EXPECT_EQ(money_error("-0.00005"), DecimalError::too_precise);
  EXPECT_EQ(money_error("1.000000000000000000000000000000000001"), DecimalError::too_precise);
}

TEST(ParseMoney, FailedParseLeavesOutputUntouched) {
  Money m{42};
  EXPECT_EQ(parse_money("1.23451", m), DecimalError::too_precise);
  EXPECT_EQ(m.units, 42);
  EXPECT_EQ(parse_money("abc", m), DecimalError::syntax);
  EXPECT_EQ(m.units, 42);
}

TEST(ParseMoney, SyntaxErrors) {
  for (const char* text :
       {"",    ".",   "1.",    "+1",  "1e", " 1",   "1 ",  "0x10",  "-",   "-.5", ".5",
        "1e+", "1e-", "1.5.2", "1,5", "e5", "1ee5", "abc", "1_000", "--1", "NaN", "Infinity"}) {
    EXPECT_EQ(money_error(text), DecimalError::syntax) << '"' << text << '"';
  }
}

TEST(ParseMoney, OutOfRangeAtTenToTheFourteen) {
  EXPECT_EQ(money_error("100000000000000"), DecimalError::out_of_range);  // 10^14
  EXPECT_EQ(money_error("-100000000000000"), DecimalError::out_of_range);
  EXPECT_EQ(money_error("1e14"), DecimalError::out_of_range);
  EXPECT_EQ(money_error("100000000000000.0000"), DecimalError::out_of_range);
  EXPECT_EQ(money_error("1e300"), DecimalError::out_of_range);
  EXPECT_EQ(money_error("123456789012345678901234567890123456789"), DecimalError::out_of_range);
  // Just below the limit is fine.
  EXPECT_EQ(units("9.9999999999999e13"), 999'999'999'999'990'000);
}

// Plain "digits[.digits]" with up to 14 integer digits and 4 decimals takes a fast path;
// the rest the general parser. Around that border both must give the general answer.
TEST(ParseMoney, ManyDigitsAroundTheFastPathBorder) {
  EXPECT_EQ(units("12345678901234"), 123'456'789'012'340'000);
  EXPECT_EQ(units("12345678901234.5678"), 123'456'789'012'345'678);
  EXPECT_EQ(units("99999999999999.9999"), 999'999'999'999'999'999);
  EXPECT_EQ(units("012345678901234"), 123'456'789'012'340'000);  // 15 digits, a leading zero
  EXPECT_EQ(units("00000000000000000001.5"), 15'000);
  EXPECT_EQ(units("0.00010"), 1);
  EXPECT_EQ(units("1.50000000000000000000"), 15'000);
  EXPECT_EQ(money_error("123456789012345"), DecimalError::out_of_range);
  EXPECT_EQ(money_error("99999999999999999999"), DecimalError::out_of_range);  // wraps 2^64
  EXPECT_EQ(money_error("184467440737095516160000"), DecimalError::out_of_range);
  EXPECT_EQ(money_error("1.00001"), DecimalError::too_precise);
  EXPECT_EQ(money_error("12345678901234.56789"), DecimalError::too_precise);
  EXPECT_EQ(money_error("1.2345x"), DecimalError::syntax);
  EXPECT_EQ(money_error("1234x"), DecimalError::syntax);
  EXPECT_EQ(money_error("1.x"), DecimalError::syntax);
  EXPECT_EQ(money_error(std::string_view("12\0", 3)), DecimalError::syntax);
  EXPECT_EQ(money_error("1\xB0"), DecimalError::syntax);
  EXPECT_EQ(money_error("/"), DecimalError::syntax);
  EXPECT_EQ(money_error(":"), DecimalError::syntax);
}

TEST(ParseMoney, ZeroWithAnyExponentIsZero) {
  EXPECT_EQ(units("0e999"), 0);
  EXPECT_EQ(units("0.0000000e-50"), 0);
}

TEST(ParseRate, AcceptsUpToTenDecimals) {
  EXPECT_EQ(rate("1").scaled, Rate::kUnit);
  EXPECT_EQ(rate("1.1").scaled, 11'000'000'000);
  EXPECT_EQ(rate("0.0000000001").scaled, 1);
  EXPECT_EQ(rate("0.00670000000").scaled, 67'000'000);
  EXPECT_EQ(rate("1.5e2").scaled, 1'500'000'000'000);
}

TEST(ParseRate, RejectsNonPositiveTooPreciseAndSyntax) {
  Rate r{123};
  EXPECT_EQ(parse_rate("0", r), DecimalError::out_of_range);
  EXPECT_EQ(parse_rate("-1.5", r), DecimalError::out_of_range);
  EXPECT_EQ(parse_rate("0.00000000001", r), DecimalError::too_precise);
  EXPECT_EQ(parse_rate("1e8", r), DecimalError::out_of_range);
  EXPECT_EQ(parse_rate("", r), DecimalError::syntax);
  EXPECT_EQ(parse_rate("1.", r), DecimalError::syntax);
  EXPECT_EQ(r.scaled, 123);
}

TEST(Convert, ExactProducts) {
  EXPECT_EQ(convert(Money{12'345}, rate("1")), Money{12'345});
  EXPECT_EQ(convert(Money{1'000'000}, rate("1.1")), Money{1'100'000});  // 100 * 1.1 = 110
  EXPECT_EQ(convert(Money{-1'000'000}, rate("1.1")), Money{-1'100'000});
  EXPECT_EQ(convert(Money{0}, rate("3.7")), Money{0});
}

TEST(Convert, RoundsHalfToEvenUpAndDown) {
  const Rate half = rate("0.5");
  EXPECT_EQ(convert(Money{1}, half), Money{0});  // 0.5 -> 0 (even)
  EXPECT_EQ(convert(Money{3}, half), Money{2});  // 1.5 -> 2 (even, rounds up)
  EXPECT_EQ(convert(Money{5}, half), Money{2});  // 2.5 -> 2 (even, rounds down)
  EXPECT_EQ(convert(Money{7}, half), Money{4});  // 3.5 -> 4
}

TEST(Convert, RoundsNonHalvesToNearest) {
  // 1 unit * 0.4 = 0.4 -> 0; 1 * 0.6 = 0.6 -> 1; 3 * 0.49 = 1.47 -> 1; 3 * 0.51 = 1.53 -> 2.
  EXPECT_EQ(convert(Money{1}, rate("0.4")), Money{0});
  EXPECT_EQ(convert(Money{1}, rate("0.6")), Money{1});
  EXPECT_EQ(convert(Money{3}, rate("0.49")), Money{1});
  EXPECT_EQ(convert(Money{3}, rate("0.51")), Money{2});
  // 0.5 units short of a half by the smallest rate step still rounds down.
  EXPECT_EQ(convert(Money{1}, rate("0.4999999999")), Money{0});
  EXPECT_EQ(convert(Money{1}, rate("0.5000000001")), Money{1});
}

TEST(Convert, NegativeAmountsRoundHalfToEvenSymmetrically) {
  const Rate half = rate("0.5");
  EXPECT_EQ(convert(Money{-1}, half), Money{0});
  EXPECT_EQ(convert(Money{-3}, half), Money{-2});
  EXPECT_EQ(convert(Money{-5}, half), Money{-2});
  EXPECT_EQ(convert(Money{-7}, half), Money{-4});
  EXPECT_EQ(convert(Money{-1}, rate("0.6")), Money{-1});
  EXPECT_EQ(convert(Money{-1}, rate("0.4")), Money{0});
}

TEST(Convert, OverflowIsNullopt) {
  // 10^13 units of currency at rate 10 reaches 10^14: out of Money's range.
  EXPECT_EQ(convert(Money{100'000'000'000'000'000}, rate("10")), std::nullopt);
  EXPECT_EQ(convert(Money{-100'000'000'000'000'000}, rate("10")), std::nullopt);
  EXPECT_EQ(convert(Money{std::numeric_limits<int64_t>::max()}, rate("99999999")), std::nullopt);
  // Just below stays representable.
  EXPECT_EQ(convert(Money{99'999'999'999'999'999}, rate("10")), Money{999'999'999'999'999'990});
}

TEST(FormatMoney, ShortestExactText) {
  EXPECT_EQ(format_money(Money{0}), "0");
  EXPECT_EQ(format_money(Money{12'500'000}), "1250");
  EXPECT_EQ(format_money(Money{12'505'000}), "1250.5");
  EXPECT_EQ(format_money(Money{1}), "0.0001");
  EXPECT_EQ(format_money(Money{-32'500}), "-3.25");
  EXPECT_EQ(format_money(Money{-1}), "-0.0001");
  EXPECT_EQ(format_money(Money{10'010}), "1.001");
  EXPECT_EQ(format_money(Money{std::numeric_limits<int64_t>::min()}), "-922337203685477.5808");
  EXPECT_EQ(format_money(Money{std::numeric_limits<int64_t>::max()}), "922337203685477.5807");
}

TEST(FormatMoney, AppendsToExistingText) {
  std::string s = "amount=";
  append_money(s, Money{15'000});
  EXPECT_EQ(s, "amount=1.5");
}

TEST(FormatMoney, RoundTripsThroughParse) {
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{9'999}, int64_t{10'000},
                    int64_t{10'001}, int64_t{123'456'789}, int64_t{-987'654'321},
                    int64_t{999'999'999'999'999'999}, int64_t{-999'999'999'999'999'999}}) {
    const std::string text = format_money(Money{v});
    Money back{};
    ASSERT_EQ(parse_money(text, back), DecimalError::ok) << text;
    EXPECT_EQ(back.units, v) << text;
  }
}

}  // namespace
}  // namespace corridor::event
