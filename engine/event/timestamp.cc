#include "engine/event/timestamp.h"

#include <array>
#include <cstdio>

namespace corridor::event {
namespace {

bool digits(std::string_view s, size_t pos, size_t count, int& out) noexcept {
  if (pos + count > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

// Two digits at p (the caller checked the length); -1 when either is not a digit.
inline int two_digits(const char* p) noexcept {
  const unsigned a = static_cast<unsigned char>(p[0]) - '0';
  const unsigned b = static_cast<unsigned char>(p[1]) - '0';
  return (a > 9 || b > 9) ? -1 : static_cast<int>(a * 10 + b);
}

bool is_leap(int64_t y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(int64_t y, unsigned m) noexcept {
  static constexpr std::array<unsigned, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Inverse of days_from_civil (Howard Hinnant's algorithm).
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) noexcept {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
}

}  // namespace

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool parse_rfc3339(std::string_view s, int64_t& epoch_ms) noexcept {
  if (s.size() < 20) return false;
  const char* p = s.data();
  const int century = two_digits(p), year_in_century = two_digits(p + 2);
  const int month = two_digits(p + 5), day = two_digits(p + 8);
  const int hour = two_digits(p + 11), minute = two_digits(p + 14), second = two_digits(p + 17);
  if ((century | year_in_century | month | day | hour | minute | second) < 0 || p[4] != '-' ||
      p[7] != '-' || (p[10] != 'T' && p[10] != 't' && p[10] != ' ') || p[13] != ':' ||
      p[16] != ':') {
    return false;
  }
  const int year = century * 100 + year_in_century;
  if (month < 1 || month > 12 || day < 1 ||
      static_cast<unsigned>(day) > days_in_month(year, static_cast<unsigned>(month)) || hour > 23 ||
      minute > 59 || second > 59) {
    return false;
  }
  size_t i = 19;
  int millis = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t frac_digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (frac_digits < 3) millis = millis * 10 + (s[i] - '0');
      ++frac_digits;
      ++i;
    }
    if (frac_digits == 0) return false;
    for (size_t k = frac_digits; k < 3; ++k) millis *= 10;
  }
  int offset_minutes = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    const int sign = s[i] == '-' ? -1 : 1;
    int oh = 0, om = 0;
    if (!digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' ||
        !digits(s, i + 4, 2, om) || oh > 23 || om > 59) {
      return false;
    }
    offset_minutes = sign * (oh * 60 + om);
    i += 6;
  } else {
    return false;
  }
  if (i != s.size()) return false;
  const int64_t days =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  epoch_ms = seconds * 1000 + millis;
  return true;
}

void append_rfc3339(std::string& out, int64_t epoch_ms) {
  int64_t secs = epoch_ms / 1000;
  int64_t ms = epoch_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  std::array<char, 40> buf{};
  const int n = std::snprintf(buf.data(), buf.size(), "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
                              static_cast<long long>(y), m, d, static_cast<int>(rem / 3600),
                              static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60),
                              static_cast<int>(ms));
  out.append(buf.data(), static_cast<size_t>(n));
}

std::string format_rfc3339(int64_t epoch_ms) {
  std::string s;
  append_rfc3339(s, epoch_ms);
  return s;
}

}  // namespace corridor::event
