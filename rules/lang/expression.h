// The rule expression language: `filter`, `when` and aggregate predicates.
//
//   kind in ["transfer", "remittance"] and amount_base between 200 and 5000
//   senders >= 5 and origins >= 3 and new_pairs >= 0.8 * senders
//   near_below(amount_base, 3000, 0.2) and in_list("transit_countries", receiver.country)
//
// Text is parsed, type-checked against a Scope and compiled once, at load, into a Program:
// a flat instruction list for a fixed-size stack, and from it a tree of typed steps
// (functions that call their operands' functions) that evaluates with no allocation.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/event/event.h"
#include "rules/lang/value.h"

namespace corridor::rules::lang {

struct Node;

// What a name in an expression refers to.
struct Symbol {
  enum class Source : uint8_t {
    event_field,  // a string field of the current event: index is an event::Field
    event_id,
    event_ts,
    event_kind,
    event_amount,
    event_amount_base,
    event_currency,
    slot,  // a value the evaluator provides (aggregate, bound event's field, enrichment)
  };
  Type type = Type::boolean;
  Source source = Source::slot;
  uint16_t index = 0;
  // Allowed values of an enumeration-like string (kind): literals compared with it are
  // checked at compile time.
  std::span<const std::string_view> allowed;
};

// A table of values by key, read with lookup("name", key...): a threshold per jurisdiction,
// a fee band per corridor. Keys are one string or a pair; a key not in the table reads as
// `fallback` (every table has one, so that lookup() always has a value).
struct LookupTable {
  struct Row {
    std::string key[2];  // key[1] is used by two-part tables only
    int64_t number = 0;  // decimal (10^-4 units) and integer tables
    std::string text;    // string tables
    bool operator==(const Row&) const = default;
  };
  Type type = Type::decimal;  // of the values: decimal, integer or string
  uint32_t key_parts = 1;     // 1, or 2 (e.g. origin and destination country)
  std::vector<Row> rows;      // sorted by key, no two equal
  Row fallback;               // the value of a key not in the table (its key is unused)
  bool operator==(const LookupTable&) const = default;
};

// Resolves names and lists while compiling. Implementations decide what an expression may
// see: a filter sees the event; `when` sees aggregates; a sequence step also sees the
// fields of earlier steps.
class Scope {
 public:
  virtual ~Scope() = default;
  virtual std::optional<Symbol> resolve(std::string_view name) = 0;
  // For "unknown name" messages: the names this scope offers, comma-separated.
  virtual std::string known_names() const = 0;
  // A named list (in_list); nullptr when there is none of that name.
  virtual const std::vector<std::string>* list(std::string_view /*name*/) const { return nullptr; }
  // A named table (lookup); nullptr when there is none of that name.
  virtual const LookupTable* table(std::string_view /*name*/) const { return nullptr; }
};

// The event's own fields: id, ts, kind, amount, currency, amount_base, channel, agent,
// purpose, sender.*, receiver.* (labels are never visible to rules).
class EventScope : public Scope {
 public:
  std::optional<Symbol> resolve(std::string_view name) override;
  std::string known_names() const override;
};

struct CompileError {
  uint32_t offset = 0;  // byte offset in the expression text
  std::string message;
};

struct EvalContext {
  const event::Event* event = nullptr;
  const Value* slots = nullptr;
};

enum class OpCode : uint8_t;

struct Instruction {
  OpCode op;
  uint8_t b = 0;
  uint16_t a = 0;
};

// One node of a compiled expression's tree of typed steps (steps.cc): each step computes
// its value from its operands' steps or from the event, the slots and its immediates. A
// step of an integer-like type (boolean, integer, decimal, time, duration) answers through
// `i`, a number through `d`, a string through `s`; constants, slots and lookups answer
// through all three (their type is their reader's). Internal to rules/lang.
struct Step {
  using Int = int64_t (*)(const Step&, const EvalContext&) noexcept;
  using Num = double (*)(const Step&, const EvalContext&) noexcept;
  using Str = std::string_view (*)(const Step&, const EvalContext&) noexcept;
  Int i = nullptr;
  Num d = nullptr;
  Str s = nullptr;
  const Step* x = nullptr;  // operands
  const Step* y = nullptr;
  const Step* z = nullptr;
  Value k;                      // immediates: a constant, a slot index or a field (k.i)
  Value k2;                     // a second one (between's upper bound, near_below's fraction)
  const void* table = nullptr;  // a set or a lookup table of the program
  OpCode op{};                  // the instruction it was built from
  uint8_t arg = 0;              // a comparison, lookup's key parts, a negation
};

class Program {
 public:
  Program() = default;
  Program(Program&&) noexcept = default;
  Program& operator=(Program&&) noexcept = default;
  // Constants view the program's own storage: a copy would view the original's.
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  Type type() const noexcept { return type_; }
  // The program's value: the member of Value that its type() names (i for booleans,
  // integers, decimals, times and durations, d for numbers, s for strings) is set.
  Value evaluate(const EvalContext& context) const noexcept {
    switch (shape_) {
      case Shape::load_field:
        return Value{0, 0,
                     *event::string_slot(*context.event, static_cast<event::Field>(code_[0].a))};
      case Shape::load_slot:
        return context.slots[code_[0].a];
      case Shape::load_amount_base:
        return Value{context.event->amount_base.units, 0, {}};
      case Shape::in_kind_set:
        return Value{
            ((code_[0].a >> static_cast<unsigned>(context.event->kind)) & 1) ^ code_[0].b, 0, {}};
      case Shape::steps: {
        const Step& r = *root_;
        Value v;
        if (type_ == Type::string)
          v.s = r.s(r, context);
        else if (type_ == Type::number)
          v.d = r.d(r, context);
        else
          v.i = r.i(r, context);
        return v;
      }
      case Shape::empty:
        break;
    }
    return Value{};
  }
  bool test(const EvalContext& context) const noexcept {
    if (shape_ == Shape::steps && type_ == Type::boolean) return root_->i(*root_, context) != 0;
    return evaluate(context).i != 0;
  }
  // The same value computed by the stack interpreter the steps were built from: the
  // reference the steps are checked against (tests). Slower; the same members are set.
  Value interpret(const EvalContext& context) const noexcept;
  // Whether evaluating may read slot `slot` (an enrichment the engine then has to provide).
  bool reads_slot(uint16_t slot) const noexcept;

 private:
  friend class Compiler;
  // Programs of one instruction run inline (an aggregate's argument or predicate, a filter
  // on the kind); the others through their tree of steps. Set by finish().
  enum class Shape : uint8_t {
    empty,             // no code: a default Program
    steps,             // root_
    load_field,        // [load_field]
    load_slot,         // [load_slot]
    load_amount_base,  // [load_amount_base]
    in_kind_set,       // [in_kind_set]
  };
  // Once code_ is final: the shape and the steps.
  void finish();
  void build_steps();
  void build_steps(size_t from, size_t to, std::vector<Step*>& stack);

  Type type_ = Type::boolean;
  Shape shape_ = Shape::empty;
  std::vector<Instruction> code_;
  std::vector<Value> constants_;
  std::deque<std::string> strings_;  // storage for string constants (stable addresses)
  std::vector<std::vector<std::string_view>> string_sets_;  // sorted, for `in` and in_list
  std::vector<std::vector<int64_t>> number_sets_;           // sorted, for `in` over numbers
  // lookup(): rows sorted by key (the second part empty for one-part keys), then the value
  // of a key not in the table.
  struct Table {
    std::vector<std::pair<std::pair<std::string_view, std::string_view>, Value>> rows;
    Value fallback;
  };
  std::vector<Table> tables_;
  // The steps, one per instruction at most, never reallocated once built (steps point at
  // each other), and the one whose value is the program's.
  std::vector<Step> steps_;
  const Step* root_ = nullptr;
};

// The maximum stack depth a Program may need; deeper expressions are refused at compile.
inline constexpr size_t kMaxStack = 32;

// Compiles `text`. When `expected` is set the result must have that type (numeric types
// are not interchangeable here). nullopt with `error` filled on any problem.
std::optional<Program> compile(std::string_view text, Scope& scope, std::optional<Type> expected,
                               CompileError& error);
// The same for an already parsed node (aggregate arguments and predicates).
std::optional<Program> compile(const Node& node, Scope& scope, std::optional<Type> expected,
                               CompileError& error);

}  // namespace corridor::rules::lang
