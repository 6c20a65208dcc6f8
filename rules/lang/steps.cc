// A compiled expression as a tree of typed steps, built once from its instructions.
//
// The stack interpreter (vm.cc) pays for each instruction a dispatch, a 32-byte Value pushed
// and popped, and the loop around them; most programs are a handful of instructions, so
// that overhead was most of their cost. A step is a function that calls its operands'
// functions and returns a plain int64, double or string_view. Common operand shapes are
// folded into their consumer: a comparison of a slot or an event field with a constant, a
// `between` or `near_below` with constant bounds, an `in` over a field. The instructions
// are structured (an `and`/`or` jumps over exactly its right operand), so the tree is
// rebuilt from them by replaying the stack with steps instead of values.
//
// Every step computes exactly what the interpreter computes for its instruction; the tests
// compare the two on every expression they compile and on random ones.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "rules/lang/ast.h"
#include "rules/lang/expression.h"
#include "rules/lang/opcodes.h"

namespace corridor::rules::lang {
namespace {

using IntFn = Step::Int;

int64_t I(const Step* p, const EvalContext& c) noexcept { return p->i(*p, c); }
double D(const Step* p, const EvalContext& c) noexcept { return p->d(*p, c); }
std::string_view S(const Step* p, const EvalContext& c) noexcept { return p->s(*p, c); }

std::string_view field(const EvalContext& c, int64_t f) noexcept {
  return *event::string_slot(*c.event, static_cast<event::Field>(f));
}

template <Op O, typename T>
bool compare_as(T l, T r) noexcept {
  if constexpr (O == Op::eq) return l == r;
  if constexpr (O == Op::ne) return l != r;
  if constexpr (O == Op::lt) return l < r;
  if constexpr (O == Op::le) return l <= r;
  if constexpr (O == Op::gt) return l > r;
  if constexpr (O == Op::ge) return l >= r;
}

int64_t never(const Step&, const EvalContext&) noexcept { return 0; }

// F<O>::run for the comparison `op` (the interpreter's `compare` answers false for any
// other operator; so does `never`).
template <template <Op> class F>
IntFn by_operator(uint8_t op) noexcept {
  switch (static_cast<Op>(op)) {
    case Op::eq:
      return &F<Op::eq>::run;
    case Op::ne:
      return &F<Op::ne>::run;
    case Op::lt:
      return &F<Op::lt>::run;
    case Op::le:
      return &F<Op::le>::run;
    case Op::gt:
      return &F<Op::gt>::run;
    case Op::ge:
      return &F<Op::ge>::run;
    default:
      return &never;
  }
}

// --- leaves -----------------------------------------------------------------------------

int64_t const_i(const Step& s, const EvalContext&) noexcept { return s.k.i; }
double const_d(const Step& s, const EvalContext&) noexcept { return s.k.d; }
std::string_view const_s(const Step& s, const EvalContext&) noexcept { return s.k.s; }
int64_t slot_i(const Step& s, const EvalContext& c) noexcept { return c.slots[s.k.i].i; }
double slot_d(const Step& s, const EvalContext& c) noexcept { return c.slots[s.k.i].d; }
std::string_view slot_s(const Step& s, const EvalContext& c) noexcept { return c.slots[s.k.i].s; }
std::string_view field_s(const Step& s, const EvalContext& c) noexcept { return field(c, s.k.i); }
std::string_view id_s(const Step&, const EvalContext& c) noexcept { return c.event->id; }
int64_t ts_i(const Step&, const EvalContext& c) noexcept { return c.event->ts_ms; }
std::string_view kind_s(const Step&, const EvalContext& c) noexcept {
  return event::kind_name(c.event->kind);
}
int64_t kind_set_i(const Step& s, const EvalContext& c) noexcept {
  return ((s.k.i >> static_cast<unsigned>(c.event->kind)) & 1) ^ s.arg;
}
int64_t amount_i(const Step&, const EvalContext& c) noexcept { return c.event->amount.units; }
int64_t amount_base_i(const Step&, const EvalContext& c) noexcept {
  return c.event->amount_base.units;
}
std::string_view currency_s(const Step&, const EvalContext& c) noexcept {
  return c.event->currency.view();
}

// --- conversions and arithmetic ---------------------------------------------------------

int64_t int_to_decimal(const Step& s, const EvalContext& c) noexcept {
  return saturate(static_cast<Int128>(I(s.x, c)) * kDecimalUnit);
}
double int_to_number(const Step& s, const EvalContext& c) noexcept {
  return static_cast<double>(I(s.x, c));
}
double decimal_to_number(const Step& s, const EvalContext& c) noexcept {
  return static_cast<double>(I(s.x, c)) / kDecimalUnit;
}
int64_t add_int(const Step& s, const EvalContext& c) noexcept {
  return saturate(static_cast<Int128>(I(s.x, c)) + I(s.y, c));
}
int64_t sub_int(const Step& s, const EvalContext& c) noexcept {
  return saturate(static_cast<Int128>(I(s.x, c)) - I(s.y, c));
}
int64_t mul_int(const Step& s, const EvalContext& c) noexcept {
  return saturate(static_cast<Int128>(I(s.x, c)) * I(s.y, c));
}
int64_t neg_int(const Step& s, const EvalContext& c) noexcept {
  return saturate(-static_cast<Int128>(I(s.x, c)));
}
int64_t abs_int(const Step& s, const EvalContext& c) noexcept {
  const Int128 v = I(s.x, c);
  return saturate(v < 0 ? -v : v);
}
int64_t min_int(const Step& s, const EvalContext& c) noexcept {
  return std::min(I(s.x, c), I(s.y, c));
}
int64_t max_int(const Step& s, const EvalContext& c) noexcept {
  return std::max(I(s.x, c), I(s.y, c));
}
double add_number(const Step& s, const EvalContext& c) noexcept { return D(s.x, c) + D(s.y, c); }
double sub_number(const Step& s, const EvalContext& c) noexcept { return D(s.x, c) - D(s.y, c); }
double mul_number(const Step& s, const EvalContext& c) noexcept { return D(s.x, c) * D(s.y, c); }
double div_number(const Step& s, const EvalContext& c) noexcept {
  // x / 0 is NaN: every comparison with it is false, so a rule never fires on it.
  const double l = D(s.x, c), r = D(s.y, c);
  return r == 0 ? std::nan("") : l / r;
}
double neg_number(const Step& s, const EvalContext& c) noexcept { return -D(s.x, c); }
double abs_number(const Step& s, const EvalContext& c) noexcept { return std::fabs(D(s.x, c)); }
double min_number(const Step& s, const EvalContext& c) noexcept {
  return std::fmin(D(s.x, c), D(s.y, c));
}
double max_number(const Step& s, const EvalContext& c) noexcept {
  return std::fmax(D(s.x, c), D(s.y, c));
}

// --- comparisons ------------------------------------------------------------------------

template <Op O>
struct CmpInt {
  static int64_t run(const Step& s, const EvalContext& c) noexcept {
    return compare_as<O>(I(s.x, c), I(s.y, c));
  }
};
template <Op O>
struct CmpNumber {
  static int64_t run(const Step& s, const EvalContext& c) noexcept {
    return compare_as<O>(D(s.x, c), D(s.y, c));
  }
};
template <Op O>
struct CmpIntConst {
  static int64_t run(const Step& s, const EvalContext& c) noexcept {
    return compare_as<O>(I(s.x, c), s.k.i);
  }
};
template <Op O>
struct CmpNumberConst {
  static int64_t run(const Step& s, const EvalContext& c) noexcept {
    return compare_as<O>(D(s.x, c), s.k.d);
  }
};
// The same with a slot (index in k2.i) folded in.
template <Op O>
struct CmpSlotIntConst {
  static int64_t run(const Step& s, const EvalContext& c) noexcept {
    return compare_as<O>(c.slots[s.k2.i].i, s.k.i);
  }
};
template <Op O>
struct CmpSlotNumberConst {
  static int64_t run(const Step& s, const EvalContext& c) noexcept {
    return compare_as<O>(c.slots[s.k2.i].d, s.k.d);
  }
};

// Strings compare for (in)equality only; arg is Op::eq or Op::ne.
int64_t strings_match(std::string_view l, std::string_view r, uint8_t op) noexcept {
  const bool equal = l == r;
  return static_cast<Op>(op) == Op::eq ? equal : !equal;
}
int64_t cmp_string(const Step& s, const EvalContext& c) noexcept {
  return strings_match(S(s.x, c), S(s.y, c), s.arg);
}
int64_t cmp_string_const(const Step& s, const EvalContext& c) noexcept {
  return strings_match(S(s.x, c), s.k.s, s.arg);
}
int64_t cmp_slot_string_const(const Step& s, const EvalContext& c) noexcept {
  return strings_match(c.slots[s.k2.i].s, s.k.s, s.arg);
}
int64_t cmp_field_string_const(const Step& s, const EvalContext& c) noexcept {
  return strings_match(field(c, s.k2.i), s.k.s, s.arg);
}

// --- logic, sets, tables ----------------------------------------------------------------

int64_t logical_not(const Step& s, const EvalContext& c) noexcept { return I(s.x, c) == 0; }
// The left value when it decides, else the right one (as the interpreter's jumps leave it).
int64_t logical_and(const Step& s, const EvalContext& c) noexcept {
  const int64_t l = I(s.x, c);
  return l == 0 ? l : I(s.y, c);
}
int64_t logical_or(const Step& s, const EvalContext& c) noexcept {
  const int64_t l = I(s.x, c);
  return l != 0 ? l : I(s.y, c);
}

using StringSet = std::vector<std::string_view>;
using IntSet = std::vector<int64_t>;
bool in_set(const Step& s, std::string_view v) noexcept {
  const auto& set = *static_cast<const StringSet*>(s.table);
  return std::binary_search(set.begin(), set.end(), v);
}
int64_t in_string_set(const Step& s, const EvalContext& c) noexcept { return in_set(s, S(s.x, c)); }
int64_t in_field_set(const Step& s, const EvalContext& c) noexcept {
  return in_set(s, field(c, s.k2.i));
}
int64_t in_int_set(const Step& s, const EvalContext& c) noexcept {
  const auto& set = *static_cast<const IntSet*>(s.table);
  return std::binary_search(set.begin(), set.end(), I(s.x, c));
}

using LookupRow = std::pair<std::pair<std::string_view, std::string_view>, Value>;
Value looked_up(const Step& s, const EvalContext& c) noexcept {
  const auto& rows = *static_cast<const std::vector<LookupRow>*>(s.table);
  std::pair<std::string_view, std::string_view> key{S(s.x, c), {}};
  if (s.arg == 2) key.second = S(s.y, c);
  auto it = std::lower_bound(rows.begin(), rows.end(), key,
                             [](const LookupRow& row, const auto& k) { return row.first < k; });
  return it != rows.end() && it->first == key ? it->second : s.k;  // k: the fallback
}
int64_t lookup_i(const Step& s, const EvalContext& c) noexcept { return looked_up(s, c).i; }
double lookup_d(const Step& s, const EvalContext& c) noexcept { return looked_up(s, c).d; }
std::string_view lookup_s(const Step& s, const EvalContext& c) noexcept {
  return looked_up(s, c).s;
}

// --- ranges and functions ---------------------------------------------------------------

int64_t between_int(const Step& s, const EvalContext& c) noexcept {
  const int64_t x = I(s.x, c);
  return I(s.y, c) <= x && x <= I(s.z, c);
}
int64_t between_int_const(const Step& s, const EvalContext& c) noexcept {
  const int64_t x = I(s.x, c);
  return s.k.i <= x && x <= s.k2.i;
}
int64_t between_number(const Step& s, const EvalContext& c) noexcept {
  const double x = D(s.x, c);
  return D(s.y, c) <= x && x <= D(s.z, c);
}
int64_t between_number_const(const Step& s, const EvalContext& c) noexcept {
  const double x = D(s.x, c);
  return s.k.d <= x && x <= s.k2.d;
}
int64_t is_multiple(const Step& s, const EvalContext& c) noexcept {
  const int64_t x = I(s.x, c), step = I(s.y, c);
  return step != 0 && x % step == 0;
}
int64_t near_below_exact(const Step& s, const EvalContext& c) noexcept {
  return near_below_units(I(s.x, c), I(s.y, c), I(s.z, c));
}
int64_t near_below_exact_const(const Step& s, const EvalContext& c) noexcept {
  return near_below_units(I(s.x, c), s.k.i, s.k2.i);
}
int64_t near_below_number(const Step& s, const EvalContext& c) noexcept {
  const double x = D(s.x, c), threshold = D(s.y, c);
  return x >= threshold * (1 - D(s.z, c)) && x < threshold;
}
std::string_view coalesce_string(const Step& s, const EvalContext& c) noexcept {
  const std::string_view a = S(s.x, c);
  return a.empty() ? S(s.y, c) : a;
}

bool is(const Step* s, OpCode op) noexcept { return s != nullptr && s->op == op; }

}  // namespace

// Once code_ is final: one-instruction programs run inline (expression.h), the others
// through their steps.
void Program::finish() {
  shape_ = code_.empty() ? Shape::empty : Shape::steps;
  if (code_.size() == 1) {
    switch (code_[0].op) {
      case OpCode::load_field:
        shape_ = Shape::load_field;
        break;
      case OpCode::load_slot:
        shape_ = Shape::load_slot;
        break;
      case OpCode::load_amount_base:
        shape_ = Shape::load_amount_base;
        break;
      case OpCode::in_kind_set:
        shape_ = Shape::in_kind_set;
        break;
      default:
        break;
    }
  }
  build_steps();
}

void Program::build_steps() {
  steps_.clear();
  root_ = nullptr;
  if (code_.empty()) return;
  steps_.reserve(code_.size());  // one step per instruction: never reallocated below
  std::vector<Step*> stack;
  build_steps(0, code_.size(), stack);
  if (stack.size() != 1 || steps_.size() > code_.size())
    throw std::logic_error("expression: instructions do not form one value");
  root_ = stack.back();
}

// Replays code_[from, to) on a stack of steps: each instruction's step takes its operands'
// steps off the stack and goes on it in their place.
void Program::build_steps(size_t from, size_t to, std::vector<Step*>& stack) {
  const auto pop = [&stack]() {
    if (stack.empty()) throw std::logic_error("expression: an instruction lacks an operand");
    Step* p = stack.back();
    stack.pop_back();
    return p;
  };
  for (size_t pc = from; pc < to; ++pc) {
    const Instruction in = code_[pc];
    Step& st = steps_.emplace_back();
    st.op = in.op;
    st.arg = in.b;
    // Operands, last pushed last.
    const auto unary = [&] { st.x = pop(); };
    const auto binary = [&] {
      st.y = pop();
      st.x = pop();
    };
    const auto ternary = [&] {
      st.z = pop();
      st.y = pop();
      st.x = pop();
    };
    switch (in.op) {
      case OpCode::push_const:
        st.k = constants_[in.a];
        st.i = &const_i;
        st.d = &const_d;
        st.s = &const_s;
        break;
      case OpCode::load_field:
        st.k.i = in.a;
        st.s = &field_s;
        break;
      case OpCode::load_id:
        st.s = &id_s;
        break;
      case OpCode::load_ts:
        st.i = &ts_i;
        break;
      case OpCode::load_kind:
        st.s = &kind_s;
        break;
      case OpCode::in_kind_set:
        st.k.i = in.a;
        st.i = &kind_set_i;
        break;
      case OpCode::load_amount:
        st.i = &amount_i;
        break;
      case OpCode::load_amount_base:
        st.i = &amount_base_i;
        break;
      case OpCode::load_currency:
        st.s = &currency_s;
        break;
      case OpCode::load_slot:
        st.k.i = in.a;
        st.i = &slot_i;
        st.d = &slot_d;
        st.s = &slot_s;
        break;
      case OpCode::int_to_decimal:
        unary();
        st.i = &int_to_decimal;
        break;
      case OpCode::int_to_number:
        unary();
        st.d = &int_to_number;
        break;
      case OpCode::decimal_to_number:
        unary();
        st.d = &decimal_to_number;
        break;
      case OpCode::add_int:
        binary();
        st.i = &add_int;
        break;
      case OpCode::sub_int:
        binary();
        st.i = &sub_int;
        break;
      case OpCode::mul_int:
        binary();
        st.i = &mul_int;
        break;
      case OpCode::neg_int:
        unary();
        st.i = &neg_int;
        break;
      case OpCode::abs_int:
        unary();
        st.i = &abs_int;
        break;
      case OpCode::min_int:
        binary();
        st.i = &min_int;
        break;
      case OpCode::max_int:
        binary();
        st.i = &max_int;
        break;
      case OpCode::add_number:
        binary();
        st.d = &add_number;
        break;
      case OpCode::sub_number:
        binary();
        st.d = &sub_number;
        break;
      case OpCode::mul_number:
        binary();
        st.d = &mul_number;
        break;
      case OpCode::div_number:
        binary();
        st.d = &div_number;
        break;
      case OpCode::neg_number:
        unary();
        st.d = &neg_number;
        break;
      case OpCode::abs_number:
        unary();
        st.d = &abs_number;
        break;
      case OpCode::min_number:
        binary();
        st.d = &min_number;
        break;
      case OpCode::max_number:
        binary();
        st.d = &max_number;
        break;
      case OpCode::cmp_int:
        binary();
        st.i = by_operator<CmpInt>(in.b);
        break;
      case OpCode::cmp_number:
        binary();
        st.i = by_operator<CmpNumber>(in.b);
        break;
      case OpCode::cmp_string:
        binary();
        st.i = &cmp_string;
        break;
      case OpCode::cmp_int_const:
        unary();
        st.k = constants_[in.a];
        if (is(st.x, OpCode::load_slot)) {
          st.k2.i = st.x->k.i;
          st.i = by_operator<CmpSlotIntConst>(in.b);
        } else {
          st.i = by_operator<CmpIntConst>(in.b);
        }
        break;
      case OpCode::cmp_number_const:
        unary();
        st.k = constants_[in.a];
        if (is(st.x, OpCode::load_slot)) {
          st.k2.i = st.x->k.i;
          st.i = by_operator<CmpSlotNumberConst>(in.b);
        } else {
          st.i = by_operator<CmpNumberConst>(in.b);
        }
        break;
      case OpCode::cmp_string_const:
        unary();
        st.k = constants_[in.a];
        st.i = &cmp_string_const;
        if (is(st.x, OpCode::load_slot)) {
          st.k2.i = st.x->k.i;
          st.i = &cmp_slot_string_const;
        } else if (is(st.x, OpCode::load_field)) {
          st.k2.i = st.x->k.i;
          st.i = &cmp_field_string_const;
        }
        break;
      case OpCode::logical_not:
        unary();
        st.i = &logical_not;
        break;
      case OpCode::jump_if_false_keep:
      case OpCode::jump_if_true_keep: {
        // [left] jump [right]: the jump lands right after the right operand's code.
        const size_t end = pc + in.a;
        if (in.a == 0 || end > to) throw std::logic_error("expression: a jump leaves its operand");
        st.x = pop();
        build_steps(pc + 1, end, stack);
        st.y = pop();
        st.i = in.op == OpCode::jump_if_false_keep ? &logical_and : &logical_or;
        pc = end - 1;
        break;
      }
      case OpCode::in_string_set:
        unary();
        st.table = &string_sets_[in.a];
        st.i = &in_string_set;
        if (is(st.x, OpCode::load_field)) {
          st.k2.i = st.x->k.i;
          st.i = &in_field_set;
        }
        break;
      case OpCode::lookup:
        if (in.b == 2) {
          binary();
        } else {
          unary();
        }
        st.table = &tables_[in.a].rows;
        st.k = tables_[in.a].fallback;
        st.i = &lookup_i;
        st.d = &lookup_d;
        st.s = &lookup_s;
        break;
      case OpCode::in_int_set:
        unary();
        st.table = &number_sets_[in.a];
        st.i = &in_int_set;
        break;
      case OpCode::between_int:
        ternary();
        st.i = &between_int;
        if (is(st.y, OpCode::push_const) && is(st.z, OpCode::push_const)) {
          st.k = st.y->k;
          st.k2 = st.z->k;
          st.i = &between_int_const;
        }
        break;
      case OpCode::between_number:
        ternary();
        st.i = &between_number;
        if (is(st.y, OpCode::push_const) && is(st.z, OpCode::push_const)) {
          st.k = st.y->k;
          st.k2 = st.z->k;
          st.i = &between_number_const;
        }
        break;
      case OpCode::is_multiple:
        binary();
        st.i = &is_multiple;
        break;
      case OpCode::near_below_exact:
        ternary();
        st.i = &near_below_exact;
        if (is(st.y, OpCode::push_const) && is(st.z, OpCode::push_const)) {
          st.k = st.y->k;
          st.k2 = st.z->k;
          st.i = &near_below_exact_const;
        }
        break;
      case OpCode::near_below_number:
        ternary();
        st.i = &near_below_number;
        break;
      case OpCode::coalesce_string:
        binary();
        st.s = &coalesce_string;
        break;
    }
    stack.push_back(&st);
  }
}

}  // namespace corridor::rules::lang
