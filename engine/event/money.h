// Exact money amounts. No binary floating point touches money in corridor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace corridor::event {

// An amount in integer units of 10^-4 of a currency unit ("ten-thousandths").
// Four decimal places hold every ISO 4217 minor unit (0 to 3 digits) exactly,
// and int64 holds amounts up to 922,337,203,685 units, far above any single transfer.
struct Money {
  static constexpr int kScale = 4;
  static constexpr int64_t kUnit = 10'000;  // 10^kScale
  int64_t units = 0;

  friend constexpr bool operator==(Money, Money) = default;
  friend constexpr auto operator<=>(Money, Money) = default;
};

enum class DecimalError { ok, syntax, too_precise, out_of_range };

// Parses a JSON-style decimal number ("1250", "-3.5", "1.25e3", "0.0001") exactly.
// Digits beyond the fourth decimal place must be zero (no silent rounding of money).
// Whitespace is not accepted. Magnitudes of 10^14 or more are out_of_range.
DecimalError parse_money(std::string_view text, Money& out) noexcept;

// A conversion rate: base-currency units per one unit of a currency, scaled by 10^-10.
struct Rate {
  static constexpr int kScale = 10;
  static constexpr int64_t kUnit = 10'000'000'000;
  int64_t scaled = 0;
};

// Parses a positive rate with at most 10 decimal places.
DecimalError parse_rate(std::string_view text, Rate& out) noexcept;

// amount * rate, rounded half to even at 4 decimal places. nullopt on overflow.
std::optional<Money> convert(Money amount, Rate rate) noexcept;

// Shortest exact decimal text: 1250, 1250.5, 0.0001, -3.25.
std::string format_money(Money m);
void append_money(std::string& out, Money m);

}  // namespace corridor::event
