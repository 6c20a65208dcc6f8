#include "engine/event/timestamp.h"

#include <array>
#include <cstdio>
#include <cstring>

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

constexpr std::array<int, 12> kDaysInMonth{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

unsigned days_in_month(int64_t y, unsigned m) noexcept {
  return m == 2 && is_leap(y) ? 29 : static_cast<unsigned>(kDaysInMonth[m - 1]);
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

// The fixed-width shapes feeds write, "2024-05-01T12:00:00.250Z" and "2024-05-01T12:00:00Z",
// checked eight bytes at a time. In a pattern 'd' stands for an ASCII digit; any other byte
// must appear as is. Anything else (offsets, 't', 'z', a space, other fraction widths) is
// left to the general parser, which gives the same result for these shapes.
struct Shape {
  uint64_t expected = 0;  // '0' where a digit goes, else the literal byte
  uint64_t limit = 0;     // added to (text ^ expected): 0x80 - 10 at digits, 0x80 - 1 elsewhere
};

constexpr Shape shape_of(std::string_view pattern, size_t at) noexcept {
  Shape s;
  for (size_t i = 0; i < 8; ++i) {
    const char c = pattern[at + i];
    const uint64_t expected = c == 'd' ? '0' : static_cast<unsigned char>(c);
    s.expected |= expected << (8 * i);
    s.limit |= uint64_t{c == 'd' ? 0x76U : 0x7FU} << (8 * i);
  }
  return s;
}

inline uint64_t load8(const char* p) noexcept {
  uint64_t v = 0;
  std::memcpy(&v, p, 8);
  return v;  // little-endian: byte i of the text is bits 8i..8i+7
}

// The eight bytes at v XOR the shape's bytes: a digit's value where a digit goes and 0 where
// a literal matches. fits() accepts them when every byte stays below 0x80 with and without
// `limit` added: below 10 at digits, 0 elsewhere. A byte that carries into the next one has
// its own high bit set, so a carry never turns a bad word into a good one.
inline uint64_t difference(uint64_t v, const Shape& s) noexcept { return v ^ s.expected; }
inline bool fits(uint64_t x, const Shape& s) noexcept {
  return ((x | (x + s.limit)) & 0x8080808080808080) == 0;
}

// Byte i of the result is 10 * digit i + digit i+1, given digits (0-9) and zeros: a two-digit
// number starting at byte i. Bytes are at most 99, so nothing carries between them.
inline uint64_t pairs(uint64_t d) noexcept { return d * 10 + (d >> 8); }

inline int byte_at(uint64_t v, int i) noexcept { return static_cast<int>((v >> (8 * i)) & 0xFF); }

constexpr std::string_view kMillisShape = "dddd-dd-ddTdd:dd:dd.dddZ";
constexpr std::string_view kSecondsShape = "dddd-dd-ddTdd:dd:ddZ";
constexpr Shape kDate = shape_of(kMillisShape, 0);           // "dddd-dd-"
constexpr Shape kDayHour = shape_of(kMillisShape, 8);        // "ddTdd:dd"
constexpr Shape kMillisTail = shape_of(kMillisShape, 16);    // ":dd.dddZ"
constexpr Shape kSecondsTail = shape_of(kSecondsShape, 12);  // "d:dd:ddZ"

// Days before the first of each month in a common year.
constexpr std::array<int, 12> kDaysBefore{0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};

// One fixed-width shape, or false to leave the text to the general parser. Years outside
// 1901-2099 go there too: inside, every fourth year is a leap year.
template <bool Millis>
bool parse_fixed_utc(const char* p, int64_t& epoch_ms) noexcept {
  constexpr const Shape& kTail = Millis ? kMillisTail : kSecondsTail;
  const uint64_t x0 = difference(load8(p), kDate);
  const uint64_t x1 = difference(load8(p + 8), kDayHour);
  const uint64_t x2 = difference(load8(p + (Millis ? 16 : 12)), kTail);
  if (!(fits(x0, kDate) & fits(x1, kDayHour) & fits(x2, kTail))) return false;
  const uint64_t p0 = pairs(x0), p1 = pairs(x1), p2 = pairs(x2);
  const int year = byte_at(p0, 0) * 100 + byte_at(p0, 2);
  const int month = byte_at(p0, 5);
  const int day = byte_at(p1, 0), hour = byte_at(p1, 3), minute = byte_at(p1, 6);
  // Seconds are bytes 17-18 of the text: the last word starts at byte 16 or 12.
  const int second = byte_at(p2, Millis ? 1 : 5);
  const int millis = Millis ? byte_at(p2, 4) * 10 + byte_at(x2, 6) : 0;
  if (year < 1901 || year > 2099 || month < 1 || month > 12 || day < 1 || hour > 23 ||
      minute > 59 || second > 59) {
    return false;
  }
  const bool leap = year % 4 == 0;
  if (day > kDaysInMonth[month - 1] + (leap && month == 2 ? 1 : 0)) return false;
  // Leap days since 1970 before this year: 1972, 1976, ... (negative before 1970).
  const int y = year - 1970;
  const int leap_days_before = (y + 1 + 4 * 32) / 4 - 32;  // floor((y + 1) / 4) for y >= -69
  const int64_t days = int64_t{365} * y + leap_days_before + kDaysBefore[month - 1] +
                       (leap && month > 2 ? 1 : 0) + day - 1;
  epoch_ms = (days * 86400 + hour * 3600 + minute * 60 + second) * 1000 + millis;
  return true;
}

// Out of line: the fixed-width path in parse_rfc3339 then needs no registers saved.
[[gnu::noinline]] bool parse_rfc3339_general(std::string_view s, int64_t& epoch_ms) noexcept;

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
  // The shapes feeds write, checked eight bytes at a time; the general parser takes the
  // rest, and the fixed-width calendar checks that fail here fail there too.
  if (s.size() == 24 && parse_fixed_utc<true>(s.data(), epoch_ms)) return true;
  if (s.size() == 20 && parse_fixed_utc<false>(s.data(), epoch_ms)) return true;
  return parse_rfc3339_general(s, epoch_ms);
}

namespace {

bool parse_rfc3339_general(std::string_view s, int64_t& epoch_ms) noexcept {
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

}  // namespace

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
