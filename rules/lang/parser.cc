// Lexer and recursive-descent parser for rule expressions.
#include <cctype>
#include <cstdint>
#include <string_view>

#include "rules/lang/ast.h"
#include "rules/lang/value.h"

namespace corridor::rules::lang {
namespace {

enum class Tok : uint8_t {
  end,
  integer,
  decimal,
  duration,
  string,
  ident,
  lparen,
  rparen,
  lbracket,
  rbracket,
  comma,
  dot,
  plus,
  minus,
  star,
  slash,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  kw_and,
  kw_or,
  kw_not,
  kw_in,
  kw_between,
  kw_where,
  kw_true,
  kw_false,
};

struct Token {
  Tok kind = Tok::end;
  uint32_t offset = 0;
  int64_t value = 0;  // integer, decimal units, duration ms
  std::string text;   // identifier or unescaped string
};

constexpr int kMaxDepth = 64;

class Parser {
 public:
  Parser(std::string_view text, ParseError& error) : text_(text), error_(error) {}

  std::unique_ptr<Node> expression_only() {
    if (!advance()) return nullptr;
    auto node = parse_or(0);
    if (!node) return nullptr;
    if (tok_.kind != Tok::end)
      return fail(tok_.offset, "unexpected " + describe(tok_) + " after the expression");
    return node;
  }

  std::unique_ptr<Node> aggregate() {
    if (!advance()) return nullptr;
    if (tok_.kind != Tok::ident) {
      return fail(tok_.offset,
                  "expected an aggregate such as count(), sum(amount_base) or "
                  "distinct(sender.id), got " +
                      describe(tok_));
    }
    auto call = parse_primary(0);
    if (!call) return nullptr;
    if (call->kind != NodeKind::call) {
      return fail(
          call->offset,
          "expected an aggregate call such as sum(amount_base), got the name '" + call->text + "'");
    }
    auto wrapper = std::make_unique<Node>();
    wrapper->kind = NodeKind::call;
    wrapper->text = "aggregate";
    wrapper->offset = call->offset;
    wrapper->children.push_back(std::move(call));
    if (tok_.kind == Tok::kw_where) {
      if (!advance()) return nullptr;
      auto pred = parse_or(0);
      if (!pred) return nullptr;
      wrapper->children.push_back(std::move(pred));
    }
    if (tok_.kind != Tok::end) {
      return fail(tok_.offset, "unexpected " + describe(tok_) +
                                   "; an aggregate is a call, "
                                   "optionally followed by `where` and a condition");
    }
    return wrapper;
  }

 private:
  std::unique_ptr<Node> fail(uint32_t offset, std::string message) {
    if (!failed_) {
      error_.offset = offset;
      error_.message = std::move(message);
      failed_ = true;
    }
    return nullptr;
  }

  static std::string describe(const Token& t) {
    switch (t.kind) {
      case Tok::end:
        return "end of expression";
      case Tok::integer:
      case Tok::decimal:
      case Tok::duration:
        return "number";
      case Tok::string:
        return "string \"" + t.text + "\"";
      case Tok::ident:
        return "'" + t.text + "'";
      case Tok::kw_and:
        return "'and'";
      case Tok::kw_or:
        return "'or'";
      case Tok::kw_not:
        return "'not'";
      case Tok::kw_in:
        return "'in'";
      case Tok::kw_between:
        return "'between'";
      case Tok::kw_where:
        return "'where'";
      case Tok::kw_true:
        return "'true'";
      case Tok::kw_false:
        return "'false'";
      case Tok::lparen:
        return "'('";
      case Tok::rparen:
        return "')'";
      case Tok::lbracket:
        return "'['";
      case Tok::rbracket:
        return "']'";
      case Tok::comma:
        return "','";
      case Tok::dot:
        return "'.'";
      case Tok::plus:
        return "'+'";
      case Tok::minus:
        return "'-'";
      case Tok::star:
        return "'*'";
      case Tok::slash:
        return "'/'";
      case Tok::eq:
        return "'=='";
      case Tok::ne:
        return "'!='";
      case Tok::lt:
        return "'<'";
      case Tok::le:
        return "'<='";
      case Tok::gt:
        return "'>'";
      case Tok::ge:
        return "'>='";
    }
    return "token";
  }

  // --- lexer ---------------------------------------------------------------------------
  bool advance() {
    size_t i = pos_;
    while (i < text_.size() &&
           (text_[i] == ' ' || text_[i] == '\t' || text_[i] == '\n' || text_[i] == '\r')) {
      ++i;
    }
    tok_ = Token{};
    tok_.offset = static_cast<uint32_t>(i);
    if (i >= text_.size()) {
      pos_ = i;
      tok_.kind = Tok::end;
      return true;
    }
    const char c = text_[i];
    auto two = [&](char next) { return i + 1 < text_.size() && text_[i + 1] == next; };
    auto single = [&](Tok k, size_t len) {
      tok_.kind = k;
      pos_ = i + len;
      return true;
    };
    switch (c) {
      case '(':
        return single(Tok::lparen, 1);
      case ')':
        return single(Tok::rparen, 1);
      case '[':
        return single(Tok::lbracket, 1);
      case ']':
        return single(Tok::rbracket, 1);
      case ',':
        return single(Tok::comma, 1);
      case '.':
        return single(Tok::dot, 1);
      case '+':
        return single(Tok::plus, 1);
      case '-':
        return single(Tok::minus, 1);
      case '*':
        return single(Tok::star, 1);
      case '/':
        return single(Tok::slash, 1);
      case '=':
        if (two('=')) return single(Tok::eq, 2);
        fail(static_cast<uint32_t>(i), "'=' is not an operator; compare with '=='");
        return false;
      case '!':
        if (two('=')) return single(Tok::ne, 2);
        fail(static_cast<uint32_t>(i), "'!' is not an operator; write 'not' or '!='");
        return false;
      case '<':
        return two('=') ? single(Tok::le, 2) : single(Tok::lt, 1);
      case '>':
        return two('=') ? single(Tok::ge, 2) : single(Tok::gt, 1);
      case '"':
      case '\'':
        return lex_string(i);
      default:
        break;
    }
    if (c >= '0' && c <= '9') return lex_number(i);
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[j])) || text_[j] == '_'))
        ++j;
      tok_.text = std::string(text_.substr(i, j - i));
      pos_ = j;
      static constexpr std::pair<std::string_view, Tok> kKeywords[] = {
          {"and", Tok::kw_and},   {"or", Tok::kw_or},           {"not", Tok::kw_not},
          {"in", Tok::kw_in},     {"between", Tok::kw_between}, {"where", Tok::kw_where},
          {"true", Tok::kw_true}, {"false", Tok::kw_false}};
      tok_.kind = Tok::ident;
      for (const auto& [word, kind] : kKeywords) {
        if (tok_.text == word) tok_.kind = kind;
      }
      return true;
    }
    fail(static_cast<uint32_t>(i), std::string("unexpected character '") + c + "'");
    return false;
  }

  bool lex_string(size_t i) {
    const char quote = text_[i];
    std::string out;
    size_t j = i + 1;
    while (j < text_.size() && text_[j] != quote) {
      if (text_[j] == '\\' && j + 1 < text_.size() &&
          (text_[j + 1] == quote || text_[j + 1] == '\\')) {
        ++j;
      }
      out += text_[j++];
    }
    if (j >= text_.size()) {
      fail(static_cast<uint32_t>(i), "string not closed: missing " + std::string(1, quote));
      return false;
    }
    tok_.kind = Tok::string;
    tok_.text = std::move(out);
    pos_ = j + 1;
    return true;
  }

  bool lex_number(size_t i) {
    size_t j = i;
    int64_t whole = 0;
    while (j < text_.size() && text_[j] >= '0' && text_[j] <= '9') {
      if (whole > 100'000'000'000'000) {
        fail(static_cast<uint32_t>(i), "number too large");
        return false;
      }
      whole = whole * 10 + (text_[j] - '0');
      ++j;
    }
    if (j < text_.size() && text_[j] == '.' && j + 1 < text_.size() && text_[j + 1] >= '0' &&
        text_[j + 1] <= '9') {
      ++j;
      int64_t frac = 0;
      int digits = 0;
      while (j < text_.size() && text_[j] >= '0' && text_[j] <= '9') {
        if (digits == 4 && text_[j] != '0') {
          fail(static_cast<uint32_t>(i), "at most 4 decimal places in a number");
          return false;
        }
        if (digits < 4) frac = frac * 10 + (text_[j] - '0');
        ++digits;
        ++j;
      }
      for (int k = std::min(digits, 4); k < 4; ++k) frac *= 10;
      if (whole >= 100'000'000'000'000) {
        fail(static_cast<uint32_t>(i), "number too large (decimals stay below 10^14)");
        return false;
      }
      tok_.kind = Tok::decimal;
      tok_.value = whole * kDecimalUnit + frac;
    } else {
      // A unit right after digits makes a duration: 500ms, 30s, 15m, 24h, 7d.
      size_t k = j;
      while (k < text_.size() && std::isalpha(static_cast<unsigned char>(text_[k]))) ++k;
      const std::string_view unit = text_.substr(j, k - j);
      if (!unit.empty()) {
        int64_t scale = 0;
        if (unit == "ms")
          scale = 1;
        else if (unit == "s")
          scale = 1000;
        else if (unit == "m")
          scale = 60'000;
        else if (unit == "h")
          scale = 3'600'000;
        else if (unit == "d")
          scale = 86'400'000;
        if (scale == 0) {
          fail(static_cast<uint32_t>(j),
               "unknown duration unit '" + std::string(unit) + "'; use ms, s, m, h or d");
          return false;
        }
        if (whole > INT64_MAX / scale) {
          fail(static_cast<uint32_t>(i), "duration too long");
          return false;
        }
        tok_.kind = Tok::duration;
        tok_.value = whole * scale;
        j = k;
      } else {
        tok_.kind = Tok::integer;
        tok_.value = whole;
      }
    }
    pos_ = j;
    return true;
  }

  // --- grammar -------------------------------------------------------------------------
  std::unique_ptr<Node> make(NodeKind kind, uint32_t offset) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->offset = offset;
    return n;
  }

  std::unique_ptr<Node> binary(Op op, uint32_t offset, std::unique_ptr<Node> l,
                               std::unique_ptr<Node> r) {
    auto n = make(NodeKind::binary, offset);
    n->op = op;
    n->children.push_back(std::move(l));
    n->children.push_back(std::move(r));
    return n;
  }

  std::unique_ptr<Node> parse_or(int depth) {
    if (depth > kMaxDepth) return fail(tok_.offset, "expression nested too deeply");
    auto left = parse_and(depth);
    while (left && tok_.kind == Tok::kw_or) {
      const uint32_t at = tok_.offset;
      if (!advance()) return nullptr;
      auto right = parse_and(depth);
      if (!right) return nullptr;
      left = binary(Op::logical_or, at, std::move(left), std::move(right));
    }
    return left;
  }

  std::unique_ptr<Node> parse_and(int depth) {
    auto left = parse_not(depth);
    while (left && tok_.kind == Tok::kw_and) {
      const uint32_t at = tok_.offset;
      if (!advance()) return nullptr;
      auto right = parse_not(depth);
      if (!right) return nullptr;
      left = binary(Op::logical_and, at, std::move(left), std::move(right));
    }
    return left;
  }

  std::unique_ptr<Node> parse_not(int depth) {
    if (tok_.kind == Tok::kw_not) {
      const uint32_t at = tok_.offset;
      if (!advance()) return nullptr;
      if (depth > kMaxDepth) return fail(at, "expression nested too deeply");
      auto operand = parse_not(depth + 1);
      if (!operand) return nullptr;
      auto n = make(NodeKind::unary, at);
      n->op = Op::logical_not;
      n->children.push_back(std::move(operand));
      return n;
    }
    return parse_comparison(depth);
  }

  std::unique_ptr<Node> parse_comparison(int depth) {
    auto left = parse_sum(depth);
    if (!left) return nullptr;
    const uint32_t at = tok_.offset;
    Op op = Op::none;
    switch (tok_.kind) {
      case Tok::eq:
        op = Op::eq;
        break;
      case Tok::ne:
        op = Op::ne;
        break;
      case Tok::lt:
        op = Op::lt;
        break;
      case Tok::le:
        op = Op::le;
        break;
      case Tok::gt:
        op = Op::gt;
        break;
      case Tok::ge:
        op = Op::ge;
        break;
      default:
        break;
    }
    if (op != Op::none) {
      if (!advance()) return nullptr;
      auto right = parse_sum(depth);
      if (!right) return nullptr;
      return binary(op, at, std::move(left), std::move(right));
    }
    bool negated = false;
    if (tok_.kind == Tok::kw_not) {
      if (!advance()) return nullptr;
      if (tok_.kind != Tok::kw_in) return fail(tok_.offset, "expected 'in' after 'not' here");
      negated = true;
    }
    if (tok_.kind == Tok::kw_in) {
      if (!advance()) return nullptr;
      if (tok_.kind != Tok::lbracket) {
        return fail(tok_.offset,
                    "expected a list such as [\"transfer\", \"remittance\"] after 'in'");
      }
      auto list = parse_primary(depth + 1);
      if (!list) return nullptr;
      auto n = make(NodeKind::in, at);
      n->negated = negated;
      n->children.push_back(std::move(left));
      n->children.push_back(std::move(list));
      return n;
    }
    if (tok_.kind == Tok::kw_between) {
      if (!advance()) return nullptr;
      auto low = parse_sum(depth);
      if (!low) return nullptr;
      if (tok_.kind != Tok::kw_and) return fail(tok_.offset, "expected 'and' in 'between … and …'");
      if (!advance()) return nullptr;
      auto high = parse_sum(depth);
      if (!high) return nullptr;
      auto n = make(NodeKind::between, at);
      n->children.push_back(std::move(left));
      n->children.push_back(std::move(low));
      n->children.push_back(std::move(high));
      return n;
    }
    return left;
  }

  std::unique_ptr<Node> parse_sum(int depth) {
    auto left = parse_product(depth);
    while (left && (tok_.kind == Tok::plus || tok_.kind == Tok::minus)) {
      const Op op = tok_.kind == Tok::plus ? Op::add : Op::sub;
      const uint32_t at = tok_.offset;
      if (!advance()) return nullptr;
      auto right = parse_product(depth);
      if (!right) return nullptr;
      left = binary(op, at, std::move(left), std::move(right));
    }
    return left;
  }

  std::unique_ptr<Node> parse_product(int depth) {
    auto left = parse_unary(depth);
    while (left && (tok_.kind == Tok::star || tok_.kind == Tok::slash)) {
      const Op op = tok_.kind == Tok::star ? Op::mul : Op::div;
      const uint32_t at = tok_.offset;
      if (!advance()) return nullptr;
      auto right = parse_unary(depth);
      if (!right) return nullptr;
      left = binary(op, at, std::move(left), std::move(right));
    }
    return left;
  }

  std::unique_ptr<Node> parse_unary(int depth) {
    if (tok_.kind == Tok::minus) {
      const uint32_t at = tok_.offset;
      if (!advance()) return nullptr;
      if (depth > kMaxDepth) return fail(at, "expression nested too deeply");
      auto operand = parse_unary(depth + 1);
      if (!operand) return nullptr;
      auto n = make(NodeKind::unary, at);
      n->op = Op::neg;
      n->children.push_back(std::move(operand));
      return n;
    }
    return parse_primary(depth);
  }

  std::unique_ptr<Node> parse_primary(int depth) {
    if (depth > kMaxDepth) return fail(tok_.offset, "expression nested too deeply");
    const uint32_t at = tok_.offset;
    switch (tok_.kind) {
      case Tok::integer:
      case Tok::decimal:
      case Tok::duration: {
        auto n = make(tok_.kind == Tok::integer   ? NodeKind::integer_literal
                      : tok_.kind == Tok::decimal ? NodeKind::decimal_literal
                                                  : NodeKind::duration_literal,
                      at);
        n->int_value = tok_.value;
        if (!advance()) return nullptr;
        return n;
      }
      case Tok::string: {
        auto n = make(NodeKind::string_literal, at);
        n->text = tok_.text;
        if (!advance()) return nullptr;
        return n;
      }
      case Tok::kw_true:
      case Tok::kw_false: {
        auto n = make(NodeKind::bool_literal, at);
        n->int_value = tok_.kind == Tok::kw_true ? 1 : 0;
        if (!advance()) return nullptr;
        return n;
      }
      case Tok::lparen: {
        if (!advance()) return nullptr;
        auto inner = parse_or(depth + 1);
        if (!inner) return nullptr;
        if (tok_.kind != Tok::rparen)
          return fail(tok_.offset, "expected ')', got " + describe(tok_));
        if (!advance()) return nullptr;
        return inner;
      }
      case Tok::lbracket: {
        auto n = make(NodeKind::list, at);
        if (!advance()) return nullptr;
        while (tok_.kind != Tok::rbracket) {
          auto item = parse_sum(depth + 1);
          if (!item) return nullptr;
          n->children.push_back(std::move(item));
          if (tok_.kind == Tok::comma) {
            if (!advance()) return nullptr;
          } else if (tok_.kind != Tok::rbracket) {
            return fail(tok_.offset, "expected ',' or ']' in the list, got " + describe(tok_));
          }
        }
        if (n->children.empty()) return fail(at, "an empty list matches nothing");
        if (!advance()) return nullptr;
        return n;
      }
      case Tok::ident: {
        std::string path = tok_.text;
        if (!advance()) return nullptr;
        if (tok_.kind == Tok::lparen) {
          auto n = make(NodeKind::call, at);
          n->text = path;
          if (!advance()) return nullptr;
          while (tok_.kind != Tok::rparen) {
            auto arg = parse_or(depth + 1);
            if (!arg) return nullptr;
            n->children.push_back(std::move(arg));
            if (tok_.kind == Tok::comma) {
              if (!advance()) return nullptr;
            } else if (tok_.kind != Tok::rparen) {
              return fail(tok_.offset,
                          "expected ',' or ')' in the call to " + path + ", got " + describe(tok_));
            }
          }
          if (!advance()) return nullptr;
          return n;
        }
        while (tok_.kind == Tok::dot) {
          if (!advance()) return nullptr;
          if (tok_.kind != Tok::ident) return fail(tok_.offset, "expected a field name after '.'");
          path += '.';
          path += tok_.text;
          if (!advance()) return nullptr;
        }
        auto n = make(NodeKind::name, at);
        n->text = std::move(path);
        return n;
      }
      default:
        return fail(at, "expected a value, a name or '(', got " + describe(tok_));
    }
  }

  std::string_view text_;
  ParseError& error_;
  size_t pos_ = 0;
  Token tok_;
  bool failed_ = false;
};

}  // namespace

std::unique_ptr<Node> parse_expression(std::string_view text, ParseError& error) {
  return Parser(text, error).expression_only();
}

std::unique_ptr<Node> parse_aggregate(std::string_view text, ParseError& error) {
  return Parser(text, error).aggregate();
}

}  // namespace corridor::rules::lang
