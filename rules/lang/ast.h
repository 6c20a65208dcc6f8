// The parsed form of an expression, before type checking. Internal to rules/lang.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace corridor::rules::lang {

enum class NodeKind : uint8_t {
  integer_literal,   // 5000
  decimal_literal,   // 0.8, 2999.99 (exact, up to 4 decimals)
  duration_literal,  // 24h
  string_literal,    // "transfer"
  bool_literal,      // true
  name,              // sender.city, senders, pay.amount_base (dotted path)
  call,              // near_below(amount_base, 3000, 0.2)
  list,              // ["transfer", "remittance"]
  unary,             // not x, -x
  binary,            // a + b, a and b, a >= b
  in,                // x in [..], x not in [..]
  between,           // x between a and b (inclusive)
};

enum class Op : uint8_t {
  none,
  add,
  sub,
  mul,
  div,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  logical_and,
  logical_or,
  logical_not,
  neg,
};

struct Node {
  NodeKind kind = NodeKind::name;
  Op op = Op::none;
  uint32_t offset = 0;    // byte offset in the expression text, for messages
  int64_t int_value = 0;  // integer, decimal units, duration ms, bool
  std::string text;       // name path, string literal, function name
  bool negated = false;   // `not in`
  std::vector<std::unique_ptr<Node>> children;
};

struct ParseError {
  uint32_t offset = 0;
  std::string message;
};

// Parses a full expression. On error returns nullptr and fills `error`.
std::unique_ptr<Node> parse_expression(std::string_view text, ParseError& error);

// Parses an aggregate definition: `fn(args)` optionally followed by `where <expr>`.
// The call is children[0]; the predicate, when present, children[1] of the returned node
// (kind call wrapper: text "aggregate").
std::unique_ptr<Node> parse_aggregate(std::string_view text, ParseError& error);

}  // namespace corridor::rules::lang
