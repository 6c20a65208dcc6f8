// The instruction set of compiled expressions. Internal to rules/lang.
#pragma once

#include <cstdint>

#include "rules/lang/ast.h"
#include "rules/lang/value.h"

namespace corridor::rules::lang {

enum class OpCode : uint8_t {
  push_const,  // a: constant index
  load_field,  // a: event::Field of a string field
  load_id,
  load_ts,
  load_kind,
  in_kind_set,  // a: bit k set when event::Kind k is in the set; b: 1 negates. Pushes a boolean
  load_amount,
  load_amount_base,
  load_currency,
  load_slot,       // a: slot index
  int_to_decimal,  // top: integer -> decimal units
  int_to_number,
  decimal_to_number,
  add_int,
  sub_int,
  mul_int,
  neg_int,
  abs_int,
  min_int,
  max_int,
  add_number,
  sub_number,
  mul_number,
  div_number,
  neg_number,
  abs_number,
  min_number,
  max_number,
  cmp_int,  // b: Op (eq..ge)
  cmp_number,
  cmp_string,  // b: Op::eq or Op::ne
  // The same against a constant (a: constant index) instead of a second stack value: the
  // common `x >= 5`, `direction == "in"` in one instruction.
  cmp_int_const,
  cmp_number_const,
  cmp_string_const,
  logical_not,
  jump_if_false_keep,  // a: forward distance; pops unless jumping
  jump_if_true_keep,
  in_string_set,  // a: set index
  lookup,         // a: table index, b: key parts (1 or 2, strings on the stack) -> its value
  in_int_set,
  between_int,  // [x, lo, hi] -> lo <= x <= hi
  between_number,
  is_multiple,       // [x, step] -> step != 0 and x % step == 0
  near_below_exact,  // [x, threshold, fraction] in decimal units
  near_below_number,
  coalesce_string,  // [a, b] -> a when it is not empty, else b
};

// Semantics shared by the interpreter (vm.cc) and the steps (steps.cc).

__extension__ using Int128 = __int128;

template <typename T>
bool compare(T l, T r, uint8_t op) noexcept {
  switch (static_cast<Op>(op)) {
    case Op::eq:
      return l == r;
    case Op::ne:
      return l != r;
    case Op::lt:
      return l < r;
    case Op::le:
      return l <= r;
    case Op::gt:
      return l > r;
    case Op::ge:
      return l >= r;
    default:
      return false;
  }
}

// Overflow in exact arithmetic saturates instead of wrapping (undefined in C++): an absurd
// sum then compares as "very large", which is what a rule expects of it.
inline int64_t saturate(Int128 v) noexcept {
  if (v > INT64_MAX) return INT64_MAX;
  if (v < INT64_MIN) return INT64_MIN;
  return static_cast<int64_t>(v);
}

// near_below(x, threshold, fraction) in decimal units: threshold * (1 - fraction) <= x <
// threshold, compared without division (scaled by 10^4).
inline bool near_below_units(int64_t x, int64_t threshold, int64_t fraction) noexcept {
  const Int128 low_scaled = Int128{threshold} * (kDecimalUnit - Int128{fraction});
  return Int128{x} * kDecimalUnit >= low_scaled && x < threshold;
}

}  // namespace corridor::rules::lang
