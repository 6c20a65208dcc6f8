// The stack interpreter of compiled expressions: a fixed-size stack, no allocation, no
// recursion. Programs evaluate through their steps (steps.cc); this is their reference.
#include <algorithm>
#include <cmath>
#include <new>

#include "rules/lang/ast.h"
#include "rules/lang/expression.h"
#include "rules/lang/opcodes.h"

namespace corridor::rules::lang {

bool Program::reads_slot(uint16_t slot) const noexcept {
  return std::any_of(code_.begin(), code_.end(), [&](const Instruction& i) {
    return i.op == OpCode::load_slot && i.a == slot;
  });
}

Value Program::interpret(const EvalContext& c) const noexcept {
  // Raw storage: `Value stack[kMaxStack]` would zero all 1 KiB of it on every call (Value's
  // members have initialisers), which cost more than most programs. Every push below
  // writes a whole Value, so nothing is read before it is written.
  alignas(Value) unsigned char storage[sizeof(Value) * kMaxStack];
  Value* const stack = reinterpret_cast<Value*>(storage);
  size_t sp = 0;  // next free slot
  const auto push_int = [&](int64_t i) { ::new (&stack[sp++]) Value{i, 0, {}}; };
  const auto push_string = [&](std::string_view s) { ::new (&stack[sp++]) Value{0, 0, s}; };
  const event::Event& e = *c.event;
  const size_t n = code_.size();
  for (size_t pc = 0; pc < n; ++pc) {
    const Instruction in = code_[pc];
    switch (in.op) {
      case OpCode::push_const:
        ::new (&stack[sp++]) Value(constants_[in.a]);
        break;
      case OpCode::load_field:
        push_string(*event::string_slot(e, static_cast<event::Field>(in.a)));
        break;
      case OpCode::load_id:
        push_string(e.id);
        break;
      case OpCode::load_ts:
        push_int(e.ts_ms);
        break;
      case OpCode::load_kind:
        push_string(event::kind_name(e.kind));
        break;
      case OpCode::in_kind_set:
        push_int(((in.a >> static_cast<unsigned>(e.kind)) & 1u) ^ in.b);
        break;
      case OpCode::load_amount:
        push_int(e.amount.units);
        break;
      case OpCode::load_amount_base:
        push_int(e.amount_base.units);
        break;
      case OpCode::load_currency:
        push_string(e.currency.view());
        break;
      case OpCode::load_slot:
        ::new (&stack[sp++]) Value(c.slots[in.a]);
        break;
      case OpCode::int_to_decimal:
        stack[sp - 1].i = saturate(static_cast<Int128>(stack[sp - 1].i) * kDecimalUnit);
        break;
      case OpCode::int_to_number:
        stack[sp - 1].d = static_cast<double>(stack[sp - 1].i);
        break;
      case OpCode::decimal_to_number:
        stack[sp - 1].d = static_cast<double>(stack[sp - 1].i) / kDecimalUnit;
        break;
      case OpCode::add_int:
        --sp;
        stack[sp - 1].i = saturate(static_cast<Int128>(stack[sp - 1].i) + stack[sp].i);
        break;
      case OpCode::sub_int:
        --sp;
        stack[sp - 1].i = saturate(static_cast<Int128>(stack[sp - 1].i) - stack[sp].i);
        break;
      case OpCode::mul_int:
        --sp;
        stack[sp - 1].i = saturate(static_cast<Int128>(stack[sp - 1].i) * stack[sp].i);
        break;
      case OpCode::neg_int:
        stack[sp - 1].i = saturate(-static_cast<Int128>(stack[sp - 1].i));
        break;
      case OpCode::abs_int: {
        const Int128 v = stack[sp - 1].i;
        stack[sp - 1].i = saturate(v < 0 ? -v : v);
        break;
      }
      case OpCode::min_int:
        --sp;
        stack[sp - 1].i = std::min(stack[sp - 1].i, stack[sp].i);
        break;
      case OpCode::max_int:
        --sp;
        stack[sp - 1].i = std::max(stack[sp - 1].i, stack[sp].i);
        break;
      case OpCode::add_number:
        --sp;
        stack[sp - 1].d += stack[sp].d;
        break;
      case OpCode::sub_number:
        --sp;
        stack[sp - 1].d -= stack[sp].d;
        break;
      case OpCode::mul_number:
        --sp;
        stack[sp - 1].d *= stack[sp].d;
        break;
      case OpCode::div_number:
        // x / 0 is NaN: every comparison with it is false, so a rule never fires on it.
        --sp;
        stack[sp - 1].d = stack[sp].d == 0 ? std::nan("") : stack[sp - 1].d / stack[sp].d;
        break;
      case OpCode::neg_number:
        stack[sp - 1].d = -stack[sp - 1].d;
        break;
      case OpCode::abs_number:
        stack[sp - 1].d = std::fabs(stack[sp - 1].d);
        break;
      case OpCode::min_number:
        --sp;
        stack[sp - 1].d = std::fmin(stack[sp - 1].d, stack[sp].d);
        break;
      case OpCode::max_number:
        --sp;
        stack[sp - 1].d = std::fmax(stack[sp - 1].d, stack[sp].d);
        break;
      case OpCode::cmp_int:
        --sp;
        stack[sp - 1].i = compare(stack[sp - 1].i, stack[sp].i, in.b);
        break;
      case OpCode::cmp_number:
        --sp;
        stack[sp - 1].i = compare(stack[sp - 1].d, stack[sp].d, in.b);
        break;
      case OpCode::cmp_string: {
        --sp;
        const bool equal = stack[sp - 1].s == stack[sp].s;
        stack[sp - 1].i = static_cast<Op>(in.b) == Op::eq ? equal : !equal;
        break;
      }
      case OpCode::cmp_int_const:
        stack[sp - 1].i = compare(stack[sp - 1].i, constants_[in.a].i, in.b);
        break;
      case OpCode::cmp_number_const:
        stack[sp - 1].i = compare(stack[sp - 1].d, constants_[in.a].d, in.b);
        break;
      case OpCode::cmp_string_const: {
        const bool equal = stack[sp - 1].s == constants_[in.a].s;
        stack[sp - 1].i = static_cast<Op>(in.b) == Op::eq ? equal : !equal;
        break;
      }
      case OpCode::logical_not:
        stack[sp - 1].i = stack[sp - 1].i == 0;
        break;
      case OpCode::jump_if_false_keep:
        if (stack[sp - 1].i == 0) {
          pc += in.a - 1;
        } else {
          --sp;
        }
        break;
      case OpCode::jump_if_true_keep:
        if (stack[sp - 1].i != 0) {
          pc += in.a - 1;
        } else {
          --sp;
        }
        break;
      case OpCode::in_string_set: {
        const auto& set = string_sets_[in.a];
        stack[sp - 1].i = std::binary_search(set.begin(), set.end(), stack[sp - 1].s);
        break;
      }
      case OpCode::lookup: {
        const Program::Table& t = tables_[in.a];
        std::pair<std::string_view, std::string_view> key;
        if (in.b == 2) {
          key = {stack[sp - 2].s, stack[sp - 1].s};
          --sp;
        } else {
          key.first = stack[sp - 1].s;
        }
        auto it = std::lower_bound(t.rows.begin(), t.rows.end(), key,
                                   [](const auto& row, const auto& k) { return row.first < k; });
        stack[sp - 1] = it != t.rows.end() && it->first == key ? it->second : t.fallback;
        break;
      }
      case OpCode::in_int_set: {
        const auto& set = number_sets_[in.a];
        stack[sp - 1].i = std::binary_search(set.begin(), set.end(), stack[sp - 1].i);
        break;
      }
      case OpCode::between_int: {
        sp -= 2;
        const int64_t x = stack[sp - 1].i;
        stack[sp - 1].i = stack[sp].i <= x && x <= stack[sp + 1].i;
        break;
      }
      case OpCode::between_number: {
        sp -= 2;
        const double x = stack[sp - 1].d;
        stack[sp - 1].i = stack[sp].d <= x && x <= stack[sp + 1].d;
        break;
      }
      case OpCode::is_multiple: {
        --sp;
        const int64_t step = stack[sp].i;
        stack[sp - 1].i = step != 0 && stack[sp - 1].i % step == 0;
        break;
      }
      case OpCode::near_below_exact: {
        sp -= 2;
        stack[sp - 1].i = near_below_units(stack[sp - 1].i, stack[sp].i, stack[sp + 1].i);
        break;
      }
      case OpCode::near_below_number: {
        sp -= 2;
        const double x = stack[sp - 1].d;
        const double threshold = stack[sp].d;
        stack[sp - 1].i = x >= threshold * (1 - stack[sp + 1].d) && x < threshold;
        break;
      }
      case OpCode::coalesce_string:
        --sp;
        if (stack[sp - 1].s.empty()) stack[sp - 1].s = stack[sp].s;
        break;
    }
  }
  return sp == 0 ? Value{} : stack[0];  // an empty (default) Program pushes nothing
}

}  // namespace corridor::rules::lang
