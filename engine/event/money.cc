#include "engine/event/money.h"

#include <array>
#include <cstdlib>

namespace corridor::event {

__extension__ using Int128 = __int128;  // exact intermediate products of int64 money
namespace {

// Parses sign, digits, fraction and exponent into an exact value scaled by 10^scale.
// `limit` bounds the scaled magnitude.
DecimalError parse_scaled(std::string_view s, int scale, Int128 limit, int64_t& out) noexcept {
  size_t i = 0;
  const size_t n = s.size();
  bool negative = false;
  if (i < n && s[i] == '-') {
    negative = true;
    ++i;
  }
  // Collect significant digits (dropping leading zeros) and the decimal exponent.
  Int128 mantissa = 0;
  int exponent = 0;  // value = mantissa * 10^exponent
  int digits = 0;    // significant digits kept in mantissa
  bool any_digit = false;
  bool nonzero_dropped = false;  // a nonzero digit did not fit: too precise or too large
  int dropped_int_digits = 0;
  for (; i < n && s[i] >= '0' && s[i] <= '9'; ++i) {
    any_digit = true;
    if (digits < 30) {
      mantissa = mantissa * 10 + (s[i] - '0');
      if (mantissa != 0) ++digits;
    } else {
      ++dropped_int_digits;  // integer part has > 30 significant digits: out of range anyway
    }
  }
  if (!any_digit) return DecimalError::syntax;
  if (i < n && s[i] == '.') {
    ++i;
    bool frac_digit = false;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; ++i) {
      frac_digit = true;
      if (digits < 30) {
        mantissa = mantissa * 10 + (s[i] - '0');
        if (mantissa != 0) ++digits;
        --exponent;
      } else if (s[i] != '0') {
        nonzero_dropped = true;
      }
    }
    if (!frac_digit) return DecimalError::syntax;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) {
      exp_negative = s[i] == '-';
      ++i;
    }
    int e = 0;
    bool exp_digit = false;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; ++i) {
      exp_digit = true;
      if (e < 100000) e = e * 10 + (s[i] - '0');
    }
    if (!exp_digit) return DecimalError::syntax;
    exponent += exp_negative ? -e : e;
  }
  if (i != n) return DecimalError::syntax;
  if (dropped_int_digits > 0) return DecimalError::out_of_range;
  if (mantissa == 0) {
    out = 0;
    return DecimalError::ok;
  }
  // Scale to 10^-scale units.
  int shift = exponent + scale;
  if (shift < 0) {
    while (shift < 0) {
      if (mantissa % 10 != 0) return DecimalError::too_precise;
      mantissa /= 10;
      ++shift;
    }
  } else {
    while (shift > 0) {
      if (mantissa > limit) return DecimalError::out_of_range;
      mantissa *= 10;
      --shift;
    }
  }
  if (nonzero_dropped) return DecimalError::too_precise;
  if (mantissa >= limit) return DecimalError::out_of_range;
  out = static_cast<int64_t>(negative ? -mantissa : mantissa);
  return DecimalError::ok;
}

// The common shape, "1234" or "1234.56" with at most 4 decimals and 14 integer digits, in
// int64 arithmetic; anything else goes through the general parser.
bool parse_money_fast(std::string_view s, Money& out) noexcept {
  size_t i = 0;
  const size_t n = s.size();
  int64_t whole = 0;
  size_t int_digits = 0;
  while (i < n && s[i] >= '0' && s[i] <= '9') {
    if (int_digits == 14) return false;  // 15+ digits: the general parser (no int64 overflow)
    whole = whole * 10 + (s[i] - '0');
    ++i;
    ++int_digits;
  }
  if (int_digits == 0 || int_digits > 14 || (int_digits > 1 && s[0] == '0')) return false;
  int64_t frac = 0;
  size_t frac_digits = 0;
  if (i < n && s[i] == '.') {
    ++i;
    while (i < n && s[i] >= '0' && s[i] <= '9' && frac_digits < 4) {
      frac = frac * 10 + (s[i] - '0');
      ++i;
      ++frac_digits;
    }
    if (frac_digits == 0) return false;
  }
  if (i != n) return false;
  static constexpr int64_t kPow[] = {10000, 1000, 100, 10, 1};
  out.units = whole * Money::kUnit + frac * kPow[frac_digits];
  return true;
}

}  // namespace

DecimalError parse_money(std::string_view text, Money& out) noexcept {
  if (parse_money_fast(text, out)) return DecimalError::ok;
  // 10^14 currency units at scale 4 = 10^18, inside int64.
  constexpr Int128 kLimit = static_cast<Int128>(1'000'000'000'000'000'000);
  return parse_scaled(text, Money::kScale, kLimit, out.units);
}

DecimalError parse_rate(std::string_view text, Rate& out) noexcept {
  constexpr Int128 kLimit = static_cast<Int128>(1'000'000'000'000'000'000);
  int64_t v = 0;
  DecimalError e = parse_scaled(text, Rate::kScale, kLimit, v);
  if (e != DecimalError::ok) return e;
  if (v <= 0) return DecimalError::out_of_range;
  out.scaled = v;
  return DecimalError::ok;
}

std::optional<Money> convert(Money amount, Rate rate) noexcept {
  if (rate.scaled == Rate::kUnit) return amount;  // the base currency itself
  int64_t product64 = 0;
  if (!__builtin_mul_overflow(amount.units, rate.scaled, &product64)) {
    // Fits in 64 bits: the same rounding without 128-bit division.
    int64_t q = product64 / Rate::kUnit;
    const int64_t r = product64 % Rate::kUnit;
    const int64_t twice = (r < 0 ? -r : r) * 2;
    if (twice > Rate::kUnit || (twice == Rate::kUnit && (q % 2 != 0))) q += product64 < 0 ? -1 : 1;
    return Money{q};
  }
  const Int128 product = static_cast<Int128>(amount.units) * rate.scaled;
  Int128 q = product / Rate::kUnit;
  Int128 r = product % Rate::kUnit;
  // Round half to even (banker's rounding) so conversions do not drift upward.
  const Int128 twice = (r < 0 ? -r : r) * 2;
  if (twice > Rate::kUnit || (twice == Rate::kUnit && (q % 2 != 0))) q += (product < 0 ? -1 : 1);
  constexpr Int128 kMax = static_cast<Int128>(1'000'000'000'000'000'000);
  if (q >= kMax || q <= -kMax) return std::nullopt;
  return Money{static_cast<int64_t>(q)};
}

void append_money(std::string& out, Money m) {
  int64_t v = m.units;
  if (v < 0) {
    out.push_back('-');
  }
  uint64_t mag = v < 0 ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
  const uint64_t whole = mag / Money::kUnit;
  uint64_t frac = mag % Money::kUnit;
  out += std::to_string(whole);
  if (frac != 0) {
    std::array<char, Money::kScale> digits{};
    for (int i = Money::kScale - 1; i >= 0; --i) {
      digits[static_cast<size_t>(i)] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    size_t len = Money::kScale;
    while (len > 0 && digits[len - 1] == '0') --len;
    out.push_back('.');
    out.append(digits.data(), len);
  }
}

std::string format_money(Money m) {
  std::string s;
  append_money(s, m);
  return s;
}

}  // namespace corridor::event
