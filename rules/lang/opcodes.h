// The instruction set of compiled expressions. Internal to rules/lang.
#pragma once

#include <cstdint>

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

}  // namespace corridor::rules::lang
