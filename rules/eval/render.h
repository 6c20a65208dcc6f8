// How values appear in signals (exact, for machines) and explanations (for people).
#pragma once

#include <cstdint>
#include <string>

#include "rules/lang/value.h"

namespace corridor::rules {

// for_people: thousands separators and at most 2 decimals for computed numbers;
// otherwise exact decimal text and 6 significant decimals for computed numbers.
std::string render(const lang::Value& v, lang::Type t, bool for_people);

// 7d, 24h, 90m, 30s, 250ms: the largest unit that divides the duration.
std::string format_duration(int64_t ms);

}  // namespace corridor::rules
