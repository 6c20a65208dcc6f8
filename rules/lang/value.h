// Types and values of the rule expression language.
#pragma once

#include <cstdint>
#include <string_view>

namespace corridor::rules::lang {

// The language's types. Money and decimal literals share `decimal`: an exact int64 count of
// 10^-4 units, so `amount_base >= 2999.99` compares exactly.
enum class Type : uint8_t {
  boolean,
  integer,  // counts, distinct counts
  decimal,  // exact: money, decimal literals (10^-4 units)
  number,   // double: means, deviations, shares, ratios, anything divided
  string,
  time,      // event time, epoch milliseconds
  duration,  // milliseconds: 24h, 30m, 7d, 500ms; time - time
};

std::string_view type_name(Type t) noexcept;
bool is_numeric(Type t) noexcept;  // integer, decimal, number

// One value on the evaluation stack. Which member is meaningful follows from the type the
// compiler proved; nothing here owns memory.
struct Value {
  int64_t i = 0;       // boolean (0/1), integer, decimal units, time, duration
  double d = 0;        // number
  std::string_view s;  // string
};

inline constexpr int64_t kDecimalUnit = 10'000;

}  // namespace corridor::rules::lang
