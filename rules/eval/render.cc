#include "rules/eval/render.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "engine/event/money.h"
#include "engine/event/timestamp.h"

namespace corridor::rules {
namespace {

std::string format_number(double d, int precision) {
  if (std::isnan(d)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", precision, d);
  std::string s(buf);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

// 9400.5 -> "9,400.5".
std::string group_thousands(const std::string& plain) {
  const size_t dot = plain.find('.');
  const size_t int_end = dot == std::string::npos ? plain.size() : dot;
  const size_t int_start = plain[0] == '-' ? 1 : 0;
  std::string out = plain.substr(0, int_start);
  for (size_t i = int_start; i < int_end; ++i) {
    out += plain[i];
    const size_t left = int_end - i - 1;
    if (left > 0 && left % 3 == 0) out += ',';
  }
  return out + plain.substr(int_end);
}

// "2026-03-01 10:00 UTC": seconds and milliseconds only when they are not zero.
std::string time_for_people(int64_t ms) {
  std::string t = event::format_rfc3339(ms);                        // 2026-03-01T10:00:00.000Z
  if (t.size() != 24 || t[10] != 'T' || t.back() != 'Z') return t;  // outside 0000-9999
  t[10] = ' ';
  t.pop_back();
  if (t.ends_with(".000")) t.resize(t.size() - 4);
  if (t.size() == 19 && t.ends_with(":00")) t.resize(16);
  return t + " UTC";
}

}  // namespace

std::string format_duration(int64_t ms) {
  struct Unit {
    int64_t ms;
    const char* name;
  };
  for (Unit u : {Unit{86'400'000, "d"}, Unit{3'600'000, "h"}, Unit{60'000, "m"}, Unit{1000, "s"}}) {
    if (ms != 0 && ms % u.ms == 0) return std::to_string(ms / u.ms) + u.name;
  }
  return std::to_string(ms) + "ms";
}

std::string render(const lang::Value& v, lang::Type t, bool for_people) {
  using lang::Type;
  switch (t) {
    case Type::boolean:
      return v.i != 0 ? "true" : "false";
    case Type::integer:
      return for_people ? group_thousands(std::to_string(v.i)) : std::to_string(v.i);
    case Type::decimal: {
      if (!for_people) return event::format_money(event::Money{v.i});
      // For people, money to the cent (half to even): converted amounts carry 4 decimals.
      int64_t cents = v.i / 100;
      const int64_t rest = v.i % 100;
      if (rest > 50 || (rest == 50 && (cents & 1) != 0)) ++cents;
      if (rest < -50 || (rest == -50 && (cents & 1) != 0)) --cents;
      return group_thousands(event::format_money(event::Money{cents * 100}));
    }
    case Type::number: {
      const std::string text = format_number(v.d, for_people ? 2 : 6);
      return for_people && text != "n/a" ? group_thousands(text) : text;
    }
    case Type::string:
      return std::string(v.s);
    case Type::time:
      return for_people ? time_for_people(v.i) : event::format_rfc3339(v.i);
    case Type::duration:
      // Longer than any duration: sender_salary_age when no salary is known.
      if (v.i == std::numeric_limits<int64_t>::max()) return "n/a";
      return format_duration(v.i);
  }
  return "";
}

}  // namespace corridor::rules
