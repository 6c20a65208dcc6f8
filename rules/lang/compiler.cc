// Type checking and code generation for rule expressions.
#include <algorithm>
#include <array>

#include "rules/lang/ast.h"
#include "rules/lang/expression.h"
#include "rules/lang/opcodes.h"

namespace corridor::rules::lang {

std::string_view type_name(Type t) noexcept {
  switch (t) {
    case Type::boolean:
      return "boolean";
    case Type::integer:
      return "integer";
    case Type::decimal:
      return "decimal";
    case Type::number:
      return "number";
    case Type::string:
      return "string";
    case Type::time:
      return "time";
    case Type::duration:
      return "duration";
  }
  return "unknown";
}

bool is_numeric(Type t) noexcept {
  return t == Type::integer || t == Type::decimal || t == Type::number;
}

namespace {

constexpr std::array<std::string_view, event::kKindCount> kKinds{
    "transfer", "remittance", "cash_in", "cash_out", "salary", "fee", "card"};

std::string joined(std::span<const std::string_view> values) {
  std::string out;
  for (std::string_view v : values) {
    if (!out.empty()) out += ", ";
    out += v;
  }
  return out;
}

}  // namespace

std::optional<Symbol> EventScope::resolve(std::string_view name) {
  using S = Symbol::Source;
  if (name == "id") return Symbol{Type::string, S::event_id, 0, {}};
  if (name == "ts") return Symbol{Type::time, S::event_ts, 0, {}};
  if (name == "kind") return Symbol{Type::string, S::event_kind, 0, kKinds};
  if (name == "amount") return Symbol{Type::decimal, S::event_amount, 0, {}};
  if (name == "amount_base") return Symbol{Type::decimal, S::event_amount_base, 0, {}};
  if (name == "currency") return Symbol{Type::string, S::event_currency, 0, {}};
  event::Field f{};
  if (name != "labels" && !name.starts_with("labels.") && event::parse_field(name, f) &&
      event::string_slot(event::Event{}, f) != nullptr) {
    return Symbol{Type::string, S::event_field, static_cast<uint16_t>(f), {}};
  }
  return std::nullopt;
}

std::string EventScope::known_names() const {
  return "id, ts, kind, amount, currency, amount_base, channel, agent, purpose, "
         "sender.{id,account,name,country,city,phone,device,ip,address,employer}, "
         "receiver.{same}";
}

// Walks the AST once: checks types, emits instructions, tracks the stack depth.
class Compiler {
 public:
  Compiler(Scope& scope, Program& program, CompileError& error)
      : scope_(scope), p_(program), error_(error) {}

  std::optional<Type> emit(const Node& n) {
    switch (n.kind) {
      case NodeKind::integer_literal:
        return push_int(n.int_value, Type::integer);
      case NodeKind::decimal_literal:
        return push_int(n.int_value, Type::decimal);
      case NodeKind::duration_literal:
        return push_int(n.int_value, Type::duration);
      case NodeKind::bool_literal:
        return push_int(n.int_value, Type::boolean);
      case NodeKind::string_literal: {
        Value v;
        v.s = p_.strings_.emplace_back(n.text);
        return push_value(v, Type::string);
      }
      case NodeKind::name:
        return emit_name(n);
      case NodeKind::unary:
        return emit_unary(n);
      case NodeKind::binary:
        return emit_binary(n);
      case NodeKind::in:
        return emit_in(n);
      case NodeKind::between:
        return emit_between(n);
      case NodeKind::call:
        return emit_call(n);
      case NodeKind::list:
        return fail(n, "a list stands only after 'in'");
    }
    return fail(n, "unsupported expression");
  }

  size_t max_depth() const noexcept { return max_depth_; }
  void set_result_type(Type t) noexcept { p_.type_ = t; }
  void finish() { p_.finish(); }

 private:
  std::nullopt_t fail(const Node& at, std::string message) {
    if (error_.message.empty()) {
      error_.offset = at.offset;
      error_.message = std::move(message);
    }
    return std::nullopt;
  }

  void op(OpCode code, uint16_t a = 0, uint8_t b = 0) { p_.code_.push_back({code, b, a}); }

  // Stack accounting: every emitted value pushes one; operators pop.
  bool push_depth(const Node& at) {
    ++depth_;
    max_depth_ = std::max(max_depth_, depth_);
    if (depth_ > kMaxStack) {
      fail(at, "expression too large (more than " + std::to_string(kMaxStack) +
                   " values pending at once)");
      return false;
    }
    return true;
  }
  void pop_depth(size_t n = 1) { depth_ -= n; }

  std::optional<Type> push_value(const Value& v, Type t) {
    p_.constants_.push_back(v);
    op(OpCode::push_const, static_cast<uint16_t>(p_.constants_.size() - 1));
    Node dummy;
    if (!push_depth(dummy)) return std::nullopt;
    return t;
  }

  std::optional<Type> push_int(int64_t i, Type t) {
    Value v;
    v.i = i;
    return push_value(v, t);
  }

  std::optional<Type> emit_name(const Node& n) {
    std::optional<Symbol> sym = scope_.resolve(n.text);
    if (!sym) {
      return fail(n, "unknown name '" + n.text + "'; known here: " + scope_.known_names());
    }
    last_name_ = n.text;
    using S = Symbol::Source;
    switch (sym->source) {
      case S::event_field:
        op(OpCode::load_field, sym->index);
        break;
      case S::event_id:
        op(OpCode::load_id);
        break;
      case S::event_ts:
        op(OpCode::load_ts);
        break;
      case S::event_kind:
        op(OpCode::load_kind);
        break;
      case S::event_amount:
        op(OpCode::load_amount);
        break;
      case S::event_amount_base:
        op(OpCode::load_amount_base);
        break;
      case S::event_currency:
        op(OpCode::load_currency);
        break;
      case S::slot:
        op(OpCode::load_slot, sym->index);
        break;
    }
    if (!push_depth(n)) return std::nullopt;
    last_symbol_ = *sym;
    return sym->type;
  }

  // The instructions converting a value from `from` to `to` (numeric widening only).
  static std::vector<Instruction> conversion(Type from, Type to) {
    std::vector<Instruction> out;
    if (from == to) return out;
    if (from == Type::integer && to == Type::decimal) out.push_back({OpCode::int_to_decimal, 0, 0});
    if (from == Type::integer && to == Type::number) out.push_back({OpCode::int_to_number, 0, 0});
    if (from == Type::decimal && to == Type::number)
      out.push_back({OpCode::decimal_to_number, 0, 0});
    return out;
  }

  // Converts the value an operand's code leaves on the stack, by inserting the conversion
  // right after that code (which ends at `end`). Jumps are relative and patched only after
  // their operands are complete, so inserting here never breaks one.
  void convert_at(size_t end, Type from, Type to) {
    const std::vector<Instruction> ops = conversion(from, to);
    p_.code_.insert(p_.code_.begin() + static_cast<ptrdiff_t>(end), ops.begin(), ops.end());
  }
  void convert(Type from, Type to) { convert_at(p_.code_.size(), from, to); }

  // The common numeric type of two operands: number beats decimal beats integer.
  static Type widen(Type a, Type b) {
    if (a == Type::number || b == Type::number) return Type::number;
    if (a == Type::decimal || b == Type::decimal) return Type::decimal;
    return Type::integer;
  }

  // Emits two operands; `left_end` is where the left one's code ends.
  bool emit_pair(const Node& l, const Node& r, Type& lt, Type& rt, size_t& left_end) {
    std::optional<Type> a = emit(l);
    if (!a) return false;
    left_end = p_.code_.size();
    std::optional<Type> b = emit(r);
    if (!b) return false;
    lt = *a;
    rt = *b;
    return true;
  }

  // Brings two emitted numeric operands to `common`.
  void unify(size_t left_end, Type lt, Type rt, Type common) {
    convert(rt, common);  // right first: it does not move the left code's end
    convert_at(left_end, lt, common);
  }

  std::optional<Type> emit_unary(const Node& n) {
    std::optional<Type> t = emit(*n.children[0]);
    if (!t) return std::nullopt;
    if (n.op == Op::logical_not) {
      if (*t != Type::boolean) {
        return fail(*n.children[0], "'not' needs a boolean, got " + std::string(type_name(*t)));
      }
      op(OpCode::logical_not);
      return Type::boolean;
    }
    if (*t == Type::number) {
      op(OpCode::neg_number);
    } else if (*t == Type::integer || *t == Type::decimal || *t == Type::duration) {
      op(OpCode::neg_int);
    } else {
      return fail(n, "'-' needs a number, got " + std::string(type_name(*t)));
    }
    return t;
  }

  static bool is_comparison(Op o) {
    return o == Op::eq || o == Op::ne || o == Op::lt || o == Op::le || o == Op::gt || o == Op::ge;
  }

  std::optional<Type> emit_logical(const Node& n) {
    std::optional<Type> lt = emit(*n.children[0]);
    if (!lt) return std::nullopt;
    if (*lt != Type::boolean) {
      return fail(*n.children[0], std::string(n.op == Op::logical_and ? "'and'" : "'or'") +
                                      " needs booleans, got " + std::string(type_name(*lt)));
    }
    // Short circuit: leave the left value as the result when it decides.
    const size_t jump = p_.code_.size();
    op(n.op == Op::logical_and ? OpCode::jump_if_false_keep : OpCode::jump_if_true_keep);
    pop_depth();
    std::optional<Type> rt = emit(*n.children[1]);
    if (!rt) return std::nullopt;
    if (*rt != Type::boolean) {
      return fail(*n.children[1], std::string(n.op == Op::logical_and ? "'and'" : "'or'") +
                                      " needs booleans, got " + std::string(type_name(*rt)));
    }
    // Relative, so moving this code as a block (numeric conversions) keeps it right.
    p_.code_[jump].a = static_cast<uint16_t>(p_.code_.size() - jump);
    return Type::boolean;
  }

  // Checks a string literal compared with an enumeration-like field (kind).
  bool check_allowed(const Node& literal, std::span<const std::string_view> allowed,
                     std::string_view field) {
    if (allowed.empty() || literal.kind != NodeKind::string_literal) return true;
    if (std::find(allowed.begin(), allowed.end(), literal.text) != allowed.end()) return true;
    fail(literal, "'" + literal.text + "' is not a value of " + std::string(field) +
                      "; allowed: " + joined(allowed));
    return false;
  }

  std::optional<Type> emit_binary(const Node& n) {
    if (n.op == Op::logical_and || n.op == Op::logical_or) return emit_logical(n);
    const Node& l = *n.children[0];
    const Node& r = *n.children[1];
    if (is_comparison(n.op)) return emit_comparison(n, l, r);

    // Arithmetic.
    Type lt{}, rt{};
    size_t left_end = 0;
    if (!emit_pair(l, r, lt, rt, left_end)) return std::nullopt;
    pop_depth();
    const bool temporal =
        lt == Type::time || lt == Type::duration || rt == Type::time || rt == Type::duration;
    if (temporal) {
      if (n.op == Op::sub && lt == Type::time && rt == Type::time) {
        op(OpCode::sub_int);
        return Type::duration;
      }
      if ((n.op == Op::add || n.op == Op::sub) && lt == Type::time && rt == Type::duration) {
        op(n.op == Op::add ? OpCode::add_int : OpCode::sub_int);
        return Type::time;
      }
      if ((n.op == Op::add || n.op == Op::sub) && lt == Type::duration && rt == Type::duration) {
        op(n.op == Op::add ? OpCode::add_int : OpCode::sub_int);
        return Type::duration;
      }
      if (n.op == Op::mul && ((lt == Type::duration && rt == Type::integer) ||
                              (lt == Type::integer && rt == Type::duration))) {
        op(OpCode::mul_int);
        return Type::duration;
      }
      return fail(n, "cannot apply this operator to " + std::string(type_name(lt)) + " and " +
                         std::string(type_name(rt)));
    }
    if (!is_numeric(lt) || !is_numeric(rt)) {
      const char* sym = n.op == Op::add   ? "'+'"
                        : n.op == Op::sub ? "'-'"
                        : n.op == Op::mul ? "'*'"
                                          : "'/'";
      return fail(is_numeric(lt) ? r : l, std::string(sym) + " needs numbers, got " +
                                              std::string(type_name(lt)) + " and " +
                                              std::string(type_name(rt)));
    }
    if (n.op == Op::div) {
      // Division always yields a number.
      unify(left_end, lt, rt, Type::number);
      op(OpCode::div_number);
      return Type::number;
    }
    if (n.op == Op::mul) {
      // Exact where it stays exact: integer x integer, decimal x integer.
      if (lt != Type::number && rt != Type::number &&
          !(lt == Type::decimal && rt == Type::decimal)) {
        op(OpCode::mul_int);
        return (lt == Type::decimal || rt == Type::decimal) ? Type::decimal : Type::integer;
      }
      unify(left_end, lt, rt, Type::number);
      op(OpCode::mul_number);
      return Type::number;
    }
    const Type common = widen(lt, rt);
    unify(left_end, lt, rt, common);
    if (common == Type::number) {
      op(n.op == Op::add ? OpCode::add_number : OpCode::sub_number);
    } else {
      op(n.op == Op::add ? OpCode::add_int : OpCode::sub_int);
    }
    return common;
  }

  static uint8_t cmp_code(Op o) { return static_cast<uint8_t>(o); }

  std::optional<Type> emit_comparison(const Node& n, const Node& l, const Node& r) {
    last_symbol_ = {};
    std::optional<Type> a = emit(l);
    if (!a) return std::nullopt;
    const size_t left_end = p_.code_.size();
    const Symbol left_symbol = last_symbol_;
    const std::string left_name = last_name_;
    last_symbol_ = {};
    std::optional<Type> b = emit(r);
    if (!b) return std::nullopt;
    const Symbol right_symbol = last_symbol_;
    const std::string right_name = last_name_;
    const Type lt = *a, rt = *b;
    if (!check_allowed(r, left_symbol.allowed, left_name) ||
        !check_allowed(l, right_symbol.allowed, right_name)) {
      return std::nullopt;
    }
    pop_depth();
    if (is_numeric(lt) && is_numeric(rt)) {
      const Type common = widen(lt, rt);
      unify(left_end, lt, rt, common);
      emit_compare(r, common == Type::number ? OpCode::cmp_number : OpCode::cmp_int, n.op);
      return Type::boolean;
    }
    if (lt != rt) {
      return fail(n, "cannot compare " + std::string(type_name(lt)) + " with " +
                         std::string(type_name(rt)));
    }
    if (lt == Type::string) {
      if (n.op != Op::eq && n.op != Op::ne) {
        return fail(n, "strings compare only with == and !=");
      }
      if (fuse_kind_comparison(l, r, left_end, n.op == Op::ne)) return Type::boolean;
      emit_compare(r, OpCode::cmp_string, n.op);
      return Type::boolean;
    }
    if (lt == Type::boolean && n.op != Op::eq && n.op != Op::ne) {
      return fail(n, "booleans compare only with == and !=");
    }
    emit_compare(r, OpCode::cmp_int, n.op);
    return Type::boolean;
  }

  static bool is_literal(const Node& n) {
    return n.kind == NodeKind::integer_literal || n.kind == NodeKind::decimal_literal ||
           n.kind == NodeKind::duration_literal || n.kind == NodeKind::bool_literal ||
           n.kind == NodeKind::string_literal;
  }

  // Emits a comparison of the two values on the stack. When the right operand is a literal
  // whose code is its push_const alone (no conversion followed it), compares against the
  // constant directly: one instruction instead of two. Stack accounting stays as emitted.
  void emit_compare(const Node& right, OpCode code, Op o) {
    const size_t size = p_.code_.size();
    if (is_literal(right) && size >= 2 && p_.code_.back().op == OpCode::push_const) {
      const uint16_t constant = p_.code_.back().a;
      p_.code_.pop_back();
      const OpCode fused = code == OpCode::cmp_int      ? OpCode::cmp_int_const
                           : code == OpCode::cmp_number ? OpCode::cmp_number_const
                                                        : OpCode::cmp_string_const;
      op(fused, constant, cmp_code(o));
      return;
    }
    op(code, 0, cmp_code(o));
  }

  // The bit of a kind literal in an in_kind_set mask; 0 when the text names no kind.
  static uint16_t kind_bit(std::string_view text) {
    static_assert(event::kKindCount <= 16, "kind masks are 16 bits");
    event::Kind k{};
    return event::parse_kind(text, k) ? static_cast<uint16_t>(1u << static_cast<unsigned>(k)) : 0;
  }

  // `kind == "x"`, `"x" == kind` (and !=): the enum compared with a bit mask instead of its
  // name compared as a string. The two operands' code (load_kind and the literal's
  // push_const, in either order) is replaced; the stack accounting stays as emitted.
  bool fuse_kind_comparison(const Node& l, const Node& r, size_t left_end, bool negate) {
    const size_t size = p_.code_.size();
    if (left_end + 1 != size || size < 2) return false;
    const Instruction first = p_.code_[size - 2], second = p_.code_[size - 1];
    const Node* literal = nullptr;
    Instruction constant{};
    if (l.kind == NodeKind::name && first.op == OpCode::load_kind &&
        r.kind == NodeKind::string_literal && second.op == OpCode::push_const) {
      literal = &r;
      constant = second;
    } else if (r.kind == NodeKind::name && second.op == OpCode::load_kind &&
               l.kind == NodeKind::string_literal && first.op == OpCode::push_const) {
      literal = &l;
      constant = first;
    } else {
      return false;
    }
    const uint16_t bit = kind_bit(literal->text);
    if (bit == 0 || constant.a + 1u != p_.constants_.size()) return false;
    p_.code_.resize(size - 2);
    p_.constants_.pop_back();
    p_.strings_.pop_back();
    op(OpCode::in_kind_set, bit, negate ? 1 : 0);
    return true;
  }

  std::optional<Type> emit_in(const Node& n) {
    last_symbol_ = {};
    std::optional<Type> t = emit(*n.children[0]);
    if (!t) return std::nullopt;
    const Symbol symbol = last_symbol_;
    const std::string name = last_name_;
    const Node& list = *n.children[1];
    if (*t == Type::string) {
      // The event's kind: a bit mask over the enum (when every item names a kind).
      uint16_t kinds = 0;
      bool all_kinds = n.children[0]->kind == NodeKind::name && !p_.code_.empty() &&
                       p_.code_.back().op == OpCode::load_kind;
      for (const auto& item : list.children) {
        if (item->kind != NodeKind::string_literal) {
          return fail(*item, "the list must hold strings like the value before 'in'");
        }
        if (!check_allowed(*item, symbol.allowed, name)) return std::nullopt;
        const uint16_t bit = kind_bit(item->text);
        all_kinds = all_kinds && bit != 0;
        kinds |= bit;
      }
      if (all_kinds) {
        p_.code_.back() =
            Instruction{OpCode::in_kind_set, n.negated ? uint8_t{1} : uint8_t{0}, kinds};
        return Type::boolean;
      }
      std::vector<std::string_view> set;
      for (const auto& item : list.children) set.push_back(p_.strings_.emplace_back(item->text));
      std::sort(set.begin(), set.end());
      p_.string_sets_.push_back(std::move(set));
      op(OpCode::in_string_set, static_cast<uint16_t>(p_.string_sets_.size() - 1));
    } else if (*t == Type::integer || *t == Type::decimal) {
      std::vector<int64_t> set;
      for (const auto& item : list.children) {
        int64_t v = item->int_value;
        if (item->kind == NodeKind::integer_literal && *t == Type::decimal) {
          v *= kDecimalUnit;
        } else if (!(item->kind == NodeKind::integer_literal ||
                     (item->kind == NodeKind::decimal_literal && *t == Type::decimal))) {
          return fail(*item, "the list must hold " + std::string(type_name(*t)) +
                                 " literals like the value before 'in'");
        }
        set.push_back(v);
      }
      std::sort(set.begin(), set.end());
      p_.number_sets_.push_back(std::move(set));
      op(OpCode::in_int_set, static_cast<uint16_t>(p_.number_sets_.size() - 1));
    } else {
      return fail(*n.children[0], "'in' works on strings, integers and decimals, not " +
                                      std::string(type_name(*t)));
    }
    if (n.negated) op(OpCode::logical_not);
    return Type::boolean;
  }

  // Emits `nodes` in order and converts each to one common type. Returns false on error.
  bool emit_all(const std::vector<const Node*>& nodes, std::vector<Type>& types,
                std::vector<size_t>& ends) {
    for (const Node* node : nodes) {
      std::optional<Type> t = emit(*node);
      if (!t) return false;
      types.push_back(*t);
      ends.push_back(p_.code_.size());
    }
    return true;
  }
  void convert_all(const std::vector<Type>& types, const std::vector<size_t>& ends, Type to) {
    for (size_t k = types.size(); k-- > 0;) convert_at(ends[k], types[k], to);  // last first
  }

  std::optional<Type> emit_between(const Node& n) {
    // x between a and b  ==  a <= x and x <= b, with x evaluated once.
    std::vector<Type> t;
    std::vector<size_t> ends;
    if (!emit_all({n.children[0].get(), n.children[1].get(), n.children[2].get()}, t, ends)) {
      return std::nullopt;
    }
    const bool numeric = is_numeric(t[0]) && is_numeric(t[1]) && is_numeric(t[2]);
    const bool same =
        t[0] == t[1] && t[1] == t[2] && (t[0] == Type::time || t[0] == Type::duration);
    if (!numeric && !same) {
      return fail(n, "'between' needs numbers (or times, or durations), got " +
                         std::string(type_name(t[0])) + ", " + std::string(type_name(t[1])) +
                         " and " + std::string(type_name(t[2])));
    }
    const Type common = numeric ? widen(widen(t[0], t[1]), t[2]) : t[0];
    convert_all(t, ends, common);
    pop_depth(2);
    op(common == Type::number ? OpCode::between_number : OpCode::between_int);
    return Type::boolean;
  }

  std::optional<Type> emit_call(const Node& n) {
    const std::string& f = n.text;
    auto arity = [&](size_t k) {
      if (n.children.size() == k) return true;
      fail(n, f + "() takes " + std::to_string(k) + " argument" + (k == 1 ? "" : "s") + ", got " +
                  std::to_string(n.children.size()));
      return false;
    };
    if (f == "in_list") {
      if (!arity(2)) return std::nullopt;
      const Node& name = *n.children[0];
      if (name.kind != NodeKind::string_literal) {
        return fail(name, "in_list() takes the list's name as a string literal first");
      }
      const std::vector<std::string>* values = scope_.list(name.text);
      if (values == nullptr) return fail(name, "no list named '" + name.text + "'");
      std::optional<Type> t = emit(*n.children[1]);
      if (!t) return std::nullopt;
      if (*t != Type::string) {
        return fail(*n.children[1],
                    "in_list() compares strings, got " + std::string(type_name(*t)));
      }
      std::vector<std::string_view> set;
      for (const std::string& v : *values) set.push_back(p_.strings_.emplace_back(v));
      std::sort(set.begin(), set.end());
      p_.string_sets_.push_back(std::move(set));
      op(OpCode::in_string_set, static_cast<uint16_t>(p_.string_sets_.size() - 1));
      return Type::boolean;
    }
    if (f == "lookup") {
      // lookup("table", key) or lookup("table", key1, key2): the table's value for the key,
      // its default when the key is not in it.
      if (n.children.size() < 2 || n.children.size() > 3) {
        return fail(n, "lookup() takes a table's name and one or two key values, got " +
                           std::to_string(n.children.size()) + " arguments");
      }
      const Node& name = *n.children[0];
      if (name.kind != NodeKind::string_literal) {
        return fail(name, "lookup() takes the table's name as a string literal first");
      }
      const LookupTable* table = scope_.table(name.text);
      if (table == nullptr) return fail(name, "no table named '" + name.text + "'");
      const size_t parts = n.children.size() - 1;
      if (parts != table->key_parts) {
        return fail(n, "table '" + name.text + "' has keys of " + std::to_string(table->key_parts) +
                           " part" + (table->key_parts == 1 ? "" : "s") + ", lookup() gave " +
                           std::to_string(parts));
      }
      for (size_t i = 1; i < n.children.size(); ++i) {
        std::optional<Type> t = emit(*n.children[i]);
        if (!t) return std::nullopt;
        if (*t != Type::string) {
          return fail(*n.children[i],
                      "lookup() keys are strings, got " + std::string(type_name(*t)));
        }
      }
      Program::Table compiled;
      const auto value_of = [&](const LookupTable::Row& row) {
        Value v;
        if (table->type == Type::string) {
          v.s = p_.strings_.emplace_back(row.text);
        } else {
          v.i = row.number;
        }
        return v;
      };
      for (const LookupTable::Row& row : table->rows) {
        const std::string_view a = p_.strings_.emplace_back(row.key[0]);
        const std::string_view b =
            table->key_parts == 2 ? std::string_view(p_.strings_.emplace_back(row.key[1])) : "";
        compiled.rows.emplace_back(std::make_pair(a, b), value_of(row));
      }
      std::sort(compiled.rows.begin(), compiled.rows.end(),
                [](const auto& x, const auto& y) { return x.first < y.first; });
      compiled.fallback = value_of(table->fallback);
      p_.tables_.push_back(std::move(compiled));
      op(OpCode::lookup, static_cast<uint16_t>(p_.tables_.size() - 1), static_cast<uint8_t>(parts));
      pop_depth(parts - 1);  // the key parts in, one value out
      return table->type;
    }
    if (f == "is_round") {
      // is_round(x, step): x is a whole multiple of step (exact).
      if (!arity(2)) return std::nullopt;
      std::vector<Type> t;
      std::vector<size_t> ends;
      if (!emit_all({n.children[0].get(), n.children[1].get()}, t, ends)) return std::nullopt;
      if (!exact_numbers(n, t)) return std::nullopt;
      convert_all(t, ends, widen(t[0], t[1]));
      pop_depth();
      op(OpCode::is_multiple);
      return Type::boolean;
    }
    if (f == "near_below") {
      // near_below(x, threshold, fraction): threshold * (1 - fraction) <= x < threshold,
      // exact when all three are exact (the usual case: amounts and literals).
      if (!arity(3)) return std::nullopt;
      std::vector<Type> t;
      std::vector<size_t> ends;
      if (!emit_all({n.children[0].get(), n.children[1].get(), n.children[2].get()}, t, ends)) {
        return std::nullopt;
      }
      for (size_t k = 0; k < 3; ++k) {
        if (!is_numeric(t[k])) {
          return fail(*n.children[k],
                      "near_below() needs numbers, got " + std::string(type_name(t[k])));
        }
      }
      const bool exact = std::none_of(t.begin(), t.end(), [](Type x) { return x == Type::number; });
      convert_all(t, ends, exact ? Type::decimal : Type::number);
      pop_depth(2);
      op(exact ? OpCode::near_below_exact : OpCode::near_below_number);
      return Type::boolean;
    }
    if (f == "abs") {
      if (!arity(1)) return std::nullopt;
      std::optional<Type> t = emit(*n.children[0]);
      if (!t) return std::nullopt;
      if (!is_numeric(*t) && *t != Type::duration) {
        return fail(*n.children[0], "abs() needs a number, got " + std::string(type_name(*t)));
      }
      op(*t == Type::number ? OpCode::abs_number : OpCode::abs_int);
      return t;
    }
    if (f == "min" || f == "max") {
      if (!arity(2)) return std::nullopt;
      std::vector<Type> t;
      std::vector<size_t> ends;
      if (!emit_all({n.children[0].get(), n.children[1].get()}, t, ends)) return std::nullopt;
      if (!is_numeric(t[0]) || !is_numeric(t[1])) {
        return fail(*n.children[is_numeric(t[0]) ? 1 : 0],
                    f + "() needs numbers, got " + std::string(type_name(t[0])) + " and " +
                        std::string(type_name(t[1])));
      }
      const Type common = widen(t[0], t[1]);
      convert_all(t, ends, common);
      pop_depth();
      const bool is_min = f == "min";
      op(common == Type::number ? (is_min ? OpCode::min_number : OpCode::max_number)
                                : (is_min ? OpCode::min_int : OpCode::max_int));
      return common;
    }
    if (f == "coalesce") {
      // coalesce(a, b, ...): the first of the strings that is not empty ("" when all are).
      if (n.children.size() < 2) {
        return fail(
            n, "coalesce() takes two or more strings, got " + std::to_string(n.children.size()));
      }
      for (size_t i = 0; i < n.children.size(); ++i) {
        std::optional<Type> t = emit(*n.children[i]);
        if (!t) return std::nullopt;
        if (*t != Type::string) {
          return fail(*n.children[i],
                      "coalesce() takes strings, got " + std::string(type_name(*t)));
        }
        if (i > 0) {
          pop_depth();
          op(OpCode::coalesce_string);
        }
      }
      return Type::string;
    }
    return fail(n, "unknown function '" + f +
                       "'; functions: in_list, lookup, coalesce, is_round, near_below, abs, "
                       "min, max");
  }

  // Each argument of the call `n`, of types `t`, must be exact; an error is located at the
  // first argument that is not.
  bool exact_numbers(const Node& n, const std::vector<Type>& t) {
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i] != Type::integer && t[i] != Type::decimal) {
        fail(i < n.children.size() ? *n.children[i] : n,
             n.text + "() needs exact values (integers or decimals), got " +
                 std::string(type_name(t[i])));
        return false;
      }
    }
    return true;
  }

  Scope& scope_;
  Program& p_;
  CompileError& error_;
  size_t depth_ = 0;
  size_t max_depth_ = 0;
  Symbol last_symbol_{};
  std::string last_name_;  // the name last_symbol_ was resolved from, for messages
};

std::optional<Program> compile(const Node& node, Scope& scope, std::optional<Type> expected,
                               CompileError& error) {
  Program program;
  Compiler compiler(scope, program, error);
  std::optional<Type> t = compiler.emit(node);
  if (!t) return std::nullopt;
  if (expected && *t != *expected) {
    error.offset = node.offset;
    error.message = "expected a " + std::string(type_name(*expected)) + " expression, got " +
                    std::string(type_name(*t));
    return std::nullopt;
  }
  compiler.set_result_type(*t);
  compiler.finish();
  return program;
}

std::optional<Program> compile(std::string_view text, Scope& scope, std::optional<Type> expected,
                               CompileError& error) {
  ParseError perr;
  std::unique_ptr<Node> node = parse_expression(text, perr);
  if (!node) {
    error.offset = perr.offset;
    error.message = perr.message;
    return std::nullopt;
  }
  return compile(*node, scope, expected, error);
}

}  // namespace corridor::rules::lang
