#include "rules/lang/expression.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>

namespace corridor::rules::lang {
namespace {

// The member of a Value that a program of type `t` sets, compared (NaN equals NaN).
bool same_value(Type t, const Value& a, const Value& b) {
  if (t == Type::string) return a.s == b.s;
  if (t == Type::number) return (std::isnan(a.d) && std::isnan(b.d)) || a.d == b.d;
  return a.i == b.i;
}

// The event scope plus a few slots and lists, as a rule's `when` would see them.
class TestScope : public EventScope {
 public:
  std::optional<Symbol> resolve(std::string_view name) override {
    if (name == "senders") return Symbol{Type::integer, Symbol::Source::slot, 0, {}};
    if (name == "total") return Symbol{Type::decimal, Symbol::Source::slot, 1, {}};
    if (name == "cv") return Symbol{Type::number, Symbol::Source::slot, 2, {}};
    if (name == "pay.ts") return Symbol{Type::time, Symbol::Source::slot, 3, {}};
    if (name == "is_new_pair") return Symbol{Type::boolean, Symbol::Source::slot, 4, {}};
    return EventScope::resolve(name);
  }
  std::string known_names() const override { return "senders, total, cv, pay.ts, is_new_pair"; }
  const std::vector<std::string>* list(std::string_view name) const override {
    auto it = lists_.find(std::string(name));
    return it == lists_.end() ? nullptr : &it->second;
  }

 private:
  std::map<std::string, std::vector<std::string>> lists_{{"transit_countries", {"LY", "TR", "NE"}}};
};

class ExpressionTest : public ::testing::Test {
 protected:
  ExpressionTest() {
    event_.id = "tx-1";
    event_.ts_ms = 1'714'564'800'000;
    event_.kind = event::Kind::remittance;
    event_.amount.units = 2'950'0000;
    event_.amount_base.units = 2'950'0000;
    event_.currency.code = {'U', 'S', 'D'};
    event_.sender.id = "C-1";
    event_.sender.city = "Sylhet";
    event_.receiver.country = "LY";
    slots_[0].i = 6;                         // senders
    slots_[1].i = 9'400'0000;                // total 9400.0000
    slots_[2].d = 0.15;                      // cv
    slots_[3].i = event_.ts_ms - 3'600'000;  // pay.ts, an hour earlier
    slots_[4].i = 1;                         // is_new_pair
  }

  Value eval(std::string_view text, std::optional<Type> expected = std::nullopt) {
    CompileError err;
    std::optional<Program> p = compile(text, scope_, expected, err);
    EXPECT_TRUE(p.has_value()) << text << ": " << err.offset << ": " << err.message;
    if (!p) return {};
    const EvalContext context{&event_, slots_};
    const Value v = p->evaluate(context);
    EXPECT_TRUE(same_value(p->type(), v, p->interpret(context)))
        << text << ": the steps and the interpreter disagree";
    return v;
  }
  bool test(std::string_view text) { return eval(text, Type::boolean).i != 0; }

  CompileError error(std::string_view text, std::optional<Type> expected = std::nullopt) {
    CompileError err;
    std::optional<Program> p = compile(text, scope_, expected, err);
    EXPECT_FALSE(p.has_value()) << text << " compiled";
    return err;
  }

  TestScope scope_;
  event::Event event_;
  Value slots_[5];
};

TEST_F(ExpressionTest, FieldsAndLiterals) {
  EXPECT_TRUE(test(R"(kind in ["transfer", "remittance"])"));
  EXPECT_FALSE(test(R"(kind not in ["transfer", "remittance"])"));
  EXPECT_TRUE(test(R"(sender.city == "Sylhet" and receiver.country != "BD")"));
  EXPECT_TRUE(test(R"(currency == 'USD')"));
  EXPECT_TRUE(test("amount_base between 200 and 5000"));
  EXPECT_TRUE(test("amount_base between 2950 and 2950"));  // inclusive both ends
  EXPECT_FALSE(test("amount_base between 2950.0001 and 5000"));
  EXPECT_TRUE(test("receiver.city == \"\""));  // absent fields read as empty
}

// `kind in [...]` and `kind == "..."` compile to a bit test over the enum: the answers must
// be those of comparing the kind's name, for every kind and every shape.
TEST_F(ExpressionTest, KindTestsAnswerAsTheKindsNameWould) {
  const std::string_view kinds[] = {"transfer", "remittance", "cash_in", "cash_out",
                                    "salary",   "fee",        "card"};
  for (size_t k = 0; k < event::kKindCount; ++k) {
    event_.kind = static_cast<event::Kind>(k);
    const std::string_view name = kinds[k];
    SCOPED_TRACE(std::string(name));
    const bool payment = name == "transfer" || name == "remittance";
    EXPECT_EQ(test(R"(kind in ["transfer", "remittance"])"), payment);
    EXPECT_EQ(test(R"(kind not in ["remittance", "transfer"])"), !payment);
    EXPECT_EQ(test(R"(kind in ["fee"])"), name == "fee");
    EXPECT_EQ(test(R"(kind == "cash_out")"), name == "cash_out");
    EXPECT_EQ(test(R"(kind != "cash_out")"), name != "cash_out");
    EXPECT_EQ(test(R"("salary" == kind)"), name == "salary");
    EXPECT_EQ(test(R"("salary" != kind)"), name != "salary");
    EXPECT_EQ(test(R"(kind == "card" or kind in ["cash_in", "cash_out"])"),
              name == "card" || name == "cash_in" || name == "cash_out");
    EXPECT_EQ(test(R"(not (kind == "fee") and amount_base > 1)"), name != "fee");
    // Shapes that stay string comparisons.
    EXPECT_EQ(test(R"(kind == kind)"), true);
    EXPECT_EQ(test(R"(kind == sender.city)"), false);
    EXPECT_EQ(test(R"(sender.city in ["Sylhet", "x"] and kind != "fee")"), name != "fee");
  }
  // Literals are still checked against the kinds, wherever they stand.
  EXPECT_NE(error(R"(kind == "wire")").message.find("'wire' is not a value of kind"),
            std::string::npos);
  EXPECT_NE(error(R"("wire" != kind)").message.find("'wire' is not a value of kind"),
            std::string::npos);
  EXPECT_NE(error(R"(kind in ["fee", "wire"])").message.find("'wire' is not a value of kind"),
            std::string::npos);
  EXPECT_NE(error(R"(kind in ["fee", 3])").message.find("the list must hold strings"),
            std::string::npos);
}

// Programs evaluate on an uninitialised stack: every result must be fully written, whatever
// ran before it on the same thread.
TEST_F(ExpressionTest, ResultsDoNotDependOnEarlierEvaluations) {
  CompileError err;
  std::optional<Program> big = compile("cv * 2 + 1", scope_, Type::number, err);
  std::optional<Program> small = compile("senders", scope_, Type::integer, err);
  std::optional<Program> text = compile("sender.city", scope_, Type::string, err);
  ASSERT_TRUE(big && small && text);
  const EvalContext c{&event_, slots_};
  EXPECT_DOUBLE_EQ(big->evaluate(c).d, 1.3);
  const Value v = small->evaluate(c);
  EXPECT_EQ(v.i, 6);
  EXPECT_EQ(v.d, 0.0);
  EXPECT_TRUE(v.s.empty());
  EXPECT_EQ(text->evaluate(c).s, "Sylhet");
  EXPECT_EQ(text->evaluate(c).i, 0);
  const Program empty;
  EXPECT_EQ(empty.evaluate(c).i, 0);
}

// Comparisons with a literal on the right compile to one instruction against the constant;
// the answers are those of the two-operand form (literal on the left).
TEST_F(ExpressionTest, ComparisonsWithConstantsAnswerBothWays) {
  const char* ops[] = {"==", "!=", "<", "<=", ">", ">="};
  const char* mirrored[] = {"==", "!=", ">", ">=", "<", "<="};
  for (size_t k = 0; k < 6; ++k) {
    for (const char* value : {"5", "6", "7"}) {
      const std::string right = std::string("senders ") + ops[k] + " " + value;
      const std::string left = std::string(value) + " " + mirrored[k] + " senders";
      EXPECT_EQ(test(right), test(left)) << right;
    }
    for (const char* value : {"9399.9999", "9400", "9400.0001"}) {
      const std::string right = std::string("total ") + ops[k] + " " + value;
      const std::string left = std::string(value) + " " + mirrored[k] + " total";
      EXPECT_EQ(test(right), test(left)) << right;
    }
  }
  EXPECT_TRUE(test(R"(sender.city == "Sylhet")"));
  EXPECT_FALSE(test(R"(sender.city != "Sylhet")"));
  EXPECT_TRUE(test(R"(sender.city != "Dhaka" and "Sylhet" == sender.city)"));
  EXPECT_TRUE(test("is_new_pair == true and is_new_pair != false"));
  EXPECT_TRUE(test("ts - pay.ts == 1h and ts - pay.ts < 2h"));
  EXPECT_TRUE(test("cv < 0.2 and cv > 0.1 and cv != 0.15 or senders == 6"));
  EXPECT_FALSE(test("senders > 100 and senders == 6 or senders < 0"));
}

TEST_F(ExpressionTest, ExactDecimalComparisons) {
  EXPECT_TRUE(test("amount_base >= 2950"));
  EXPECT_TRUE(test("amount_base == 2950.0000"));
  EXPECT_FALSE(test("amount_base > 2950"));
  EXPECT_TRUE(test("amount_base < 2950.0001"));
  EXPECT_TRUE(test("total == 9400"));
}

TEST_F(ExpressionTest, ArithmeticTypes) {
  EXPECT_EQ(eval("senders + 1", Type::integer).i, 7);
  EXPECT_EQ(eval("total - 400", Type::decimal).i, 9'000'0000);
  EXPECT_EQ(eval("total * 2", Type::decimal).i, 18'800'0000);
  EXPECT_EQ(eval("0.8 * senders", Type::decimal).i, 4'8000);  // exact: 4.8
  EXPECT_DOUBLE_EQ(eval("total / senders", Type::number).d, 9400.0 / 6);
  EXPECT_DOUBLE_EQ(eval("total * 0.5", Type::number).d, 4700.0);
  EXPECT_DOUBLE_EQ(eval("cv * 2", Type::number).d, 0.3);
  EXPECT_TRUE(test("senders >= 5 and total >= 0.8 * 5000 and cv < 0.2"));
  EXPECT_EQ(eval("-senders", Type::integer).i, -6);
  EXPECT_EQ(eval("abs(0 - total)", Type::decimal).i, 9'400'0000);
  EXPECT_EQ(eval("max(senders, 9)", Type::integer).i, 9);
  EXPECT_EQ(eval("2 + 3 * 4", Type::integer).i, 14);
  EXPECT_EQ(eval("(2 + 3) * 4", Type::integer).i, 20);
}

TEST_F(ExpressionTest, DivisionByZeroNeverFires) {
  EXPECT_FALSE(test("total / 0 > 1"));
  EXPECT_FALSE(test("total / 0 <= 1"));
}

TEST_F(ExpressionTest, TimeAndDurations) {
  EXPECT_TRUE(test("ts - pay.ts <= 24h"));
  EXPECT_TRUE(test("ts - pay.ts == 60m"));
  EXPECT_FALSE(test("ts - pay.ts < 3600s"));
  EXPECT_TRUE(test("pay.ts + 1h == ts"));
  EXPECT_EQ(eval("2 * 12h", Type::duration).i, 86'400'000);
}

TEST_F(ExpressionTest, LogicShortCircuitsAndNests) {
  EXPECT_TRUE(test("not (senders < 5) and (is_new_pair or total < 1)"));
  EXPECT_TRUE(test("senders > 100 or senders == 6"));
  EXPECT_FALSE(test("senders > 100 and senders == 6"));
  EXPECT_TRUE(test("is_new_pair == true"));
  // The right side of a decided `and` is not needed; the stack stays balanced either way.
  EXPECT_TRUE(test("(senders > 100 and total > 1) or (senders == 6 and (total > 1 or cv > 1))"));
}

TEST_F(ExpressionTest, Functions) {
  EXPECT_TRUE(test("near_below(amount_base, 3000, 0.2)"));    // 2400 <= 2950 < 3000
  EXPECT_FALSE(test("near_below(amount_base, 2950, 0.2)"));   // not below
  EXPECT_TRUE(test("near_below(amount_base, 3687.5, 0.2)"));  // low bound exactly 2950
  EXPECT_FALSE(test("near_below(amount_base, 3687.6, 0.2)"));
  EXPECT_TRUE(test("is_round(amount_base, 50)"));
  EXPECT_FALSE(test("is_round(amount_base, 100)"));
  EXPECT_TRUE(test(R"(in_list("transit_countries", receiver.country))"));
  EXPECT_FALSE(test(R"(in_list("transit_countries", sender.country))"));
  // coalesce: the first non-empty string, left to right; "" when all are empty.
  EXPECT_TRUE(test(R"(coalesce(receiver.city, sender.city) == "Sylhet")"));
  EXPECT_TRUE(test(R"(coalesce(sender.city, receiver.country) == "Sylhet")"));
  EXPECT_TRUE(test(R"(coalesce(receiver.city, agent, receiver.country, "x") == "LY")"));
  EXPECT_TRUE(test(R"(coalesce(receiver.city, agent) == "")"));
  EXPECT_TRUE(test(R"(coalesce(receiver.city, "") == "" and coalesce("", "a") == "a")"));
  // An `and` / `or` on the left of a comparison may stop before its last operand: the
  // comparison still sees the whole operand's value.
  EXPECT_TRUE(test("(senders > 6 and is_new_pair) == false"));
  EXPECT_FALSE(test("(senders > 6 and is_new_pair) == true"));
  EXPECT_TRUE(test("(senders > 5 or is_new_pair) == true"));
  EXPECT_TRUE(test("(senders < 5 or is_new_pair) != false"));
}

TEST_F(ExpressionTest, ProgramsSayWhichSlotsTheyRead) {
  // The engine provides an enrichment only when some program reads its slot.
  CompileError err;
  std::optional<Program> p =
      compile("senders >= 5 and (is_new_pair or cv < 0.2)", scope_, Type::boolean, err);
  ASSERT_TRUE(p) << err.message;
  EXPECT_TRUE(p->reads_slot(0));
  EXPECT_TRUE(p->reads_slot(2));
  EXPECT_TRUE(p->reads_slot(4));
  EXPECT_FALSE(p->reads_slot(1));
  EXPECT_FALSE(p->reads_slot(3));
  std::optional<Program> fields = compile("sender.city != \"\"", scope_, Type::boolean, err);
  ASSERT_TRUE(fields) << err.message;
  for (uint16_t slot = 0; slot < 8; ++slot) EXPECT_FALSE(fields->reads_slot(slot)) << slot;
}

TEST_F(ExpressionTest, ErrorsNameThePlaceAndTheProblem) {
  CompileError e = error("sender.citty == \"x\"");
  EXPECT_EQ(e.offset, 0u);
  EXPECT_NE(e.message.find("unknown name 'sender.citty'"), std::string::npos) << e.message;

  e = error(R"(kind == "transfr")");
  EXPECT_EQ(e.offset, 8u);
  EXPECT_EQ(e.message,
            "'transfr' is not a value of kind; allowed: transfer, remittance, cash_in, "
            "cash_out, salary, fee, card");

  e = error("senders >= \"5\"");
  EXPECT_EQ(e.message, "cannot compare integer with string");

  e = error("senders = 5");
  EXPECT_EQ(e.offset, 8u);
  EXPECT_EQ(e.message, "'=' is not an operator; compare with '=='");

  e = error("senders + 1", Type::boolean);
  EXPECT_EQ(e.message, "expected a boolean expression, got integer");

  e = error("senders >= 5 and");
  EXPECT_EQ(e.offset, 16u);
  EXPECT_EQ(e.message, "expected a value, a name or '(', got end of expression");

  e = error(R"(in_list("nope", receiver.country))");
  EXPECT_EQ(e.message, "no list named 'nope'");

  e = error("frobnicate(1)");
  EXPECT_NE(e.message.find("unknown function 'frobnicate'"), std::string::npos);

  e = error("coalesce(sender.city)");
  EXPECT_EQ(e.message, "coalesce() takes two or more strings, got 1");
  e = error("coalesce(sender.city, amount)");
  EXPECT_EQ(e.offset, 22u);
  EXPECT_EQ(e.message, "coalesce() takes strings, got decimal");

  e = error("near_below(amount_base, 3000)");
  EXPECT_EQ(e.message, "near_below() takes 3 arguments, got 2");

  e = error("amount_base > 1.23456");
  EXPECT_EQ(e.message, "at most 4 decimal places in a number");

  e = error("ts - pay.ts <= 24x");
  EXPECT_EQ(e.message, "unknown duration unit 'x'; use ms, s, m, h or d");

  e = error("sender.id == \"a");
  EXPECT_EQ(e.message, "string not closed: missing \"");

  e = error("labels.scenario == \"x\"");
  EXPECT_NE(e.message.find("unknown name 'labels.scenario'"), std::string::npos);
}

TEST_F(ExpressionTest, DeepNestingIsRefusedNotCrashing) {
  std::string deep(10'000, '(');
  deep += "1";
  deep += std::string(10'000, ')');
  CompileError e = error(deep);
  EXPECT_EQ(e.message, "expression nested too deeply");
  std::string long_sum = "1";
  for (int i = 0; i < 200; ++i) long_sum += " + (1 * (2 + 3))";
  EXPECT_EQ(eval(long_sum, Type::integer).i, 1 + 200 * 5);
}

// Random well-typed expressions over every operator, function and operand shape, each
// evaluated through its steps and through the stack interpreter on random events and slots:
// the two must agree on every one.
class RandomExpressions {
 public:
  explicit RandomExpressions(uint64_t seed) : rng_(seed) {}

  std::string boolean(int depth) {
    if (depth <= 0) return pick({"is_new_pair", "true", "false", R"(kind == "remittance")"});
    switch (below(19)) {
      case 0:
        return integer(depth - 1) + cmp() + integer(depth - 1);
      case 1:
        return decimal(depth - 1) + cmp() + decimal(depth - 1);
      case 2:
        return number(depth - 1) + cmp() + number(depth - 1);
      case 3:
        return text(depth - 1) + pick({" == ", " != "}) + text(depth - 1);
      case 4:
        return "(" + boolean(depth - 1) + " and " + boolean(depth - 1) + ")";
      case 5:
        return "(" + boolean(depth - 1) + " or " + boolean(depth - 1) + ")";
      case 6:
        return "not (" + boolean(depth - 1) + ")";
      case 7:
        return integer(depth - 1) + " between " + integer(depth - 1) + " and " + integer(depth - 1);
      case 8:
        return decimal(depth - 1) + " between " + decimal(0) + " and " + decimal(depth - 1);
      case 9:
        return number(depth - 1) + " between " + number(0) + " and " + number(0);
      case 10:
        return text(depth - 1) + pick({" in ", " not in "}) + R"(["Sylhet", "LY", ""])";
      case 11:
        return integer(depth - 1) + pick({" in ", " not in "}) + "[1, 6, 9]";
      case 12:
        return "near_below(" + decimal(depth - 1) + ", " + decimal(0) + ", " +
               pick({"0.2", "0.5", "1"}) + ")";
      case 13:
        return "is_round(" + decimal(depth - 1) + ", " + pick({"50", "100", "0.5"}) + ")";
      case 14:
        return R"(in_list("transit_countries", )" + text(depth - 1) + ")";
      case 15:
        return pick({R"(kind in ["transfer", "remittance"])", R"(kind not in ["fee"])",
                     R"("salary" != kind)"});
      case 16:
        return "ts - pay.ts" + cmp() + pick({"1h", "30m", "2d"});
      case 17:
        return "(" + boolean(depth - 1) + ") == " + boolean(depth - 1);
      default:
        return "is_new_pair" + std::string(pick({" == true", " != false", ""}));
    }
  }

 private:
  std::string integer(int depth) {
    if (depth <= 0) return pick({"senders", "0", "1", "6", "9", "-3"});
    switch (below(7)) {
      case 0:
        return "(" + integer(depth - 1) + pick({" + ", " - ", " * "}) + integer(depth - 1) + ")";
      case 1:
        return "-" + integer(depth - 1);
      case 2:
        return "abs(" + integer(depth - 1) + ")";
      case 3:
        return pick({"max(", "min("}) + integer(depth - 1) + ", " + integer(depth - 1) + ")";
      default:
        return integer(0);
    }
  }
  std::string decimal(int depth) {
    if (depth <= 0) return pick({"total", "amount_base", "amount", "2950", "3000.5", "0.2"});
    switch (below(6)) {
      case 0:
        return "(" + decimal(depth - 1) + pick({" + ", " - "}) + decimal(depth - 1) + ")";
      case 1:
        return "(" + decimal(depth - 1) + " * " + integer(depth - 1) + ")";
      case 2:
        return "abs(" + decimal(depth - 1) + ")";
      case 3:
        return "(" + integer(depth - 1) + " + " + decimal(depth - 1) + ")";
      default:
        return decimal(0);
    }
  }
  std::string number(int depth) {
    if (depth <= 0) return pick({"cv", "(total / senders)", "(cv * 1)"});
    switch (below(5)) {
      case 0:
        return "(" + number(depth - 1) + pick({" + ", " - ", " * ", " / "}) + number(depth - 1) +
               ")";
      case 1:
        return "(" + decimal(depth - 1) + " / " + integer(depth - 1) + ")";
      case 2:
        return pick({"max(", "min("}) + number(depth - 1) + ", " + decimal(depth - 1) + ")";
      case 3:
        return pick({"-", "abs("}) + std::string("(") + number(depth - 1) + ")" +
               (below(2) ? "" : "");
      default:
        return number(0);
    }
  }
  std::string text(int depth) {
    if (depth <= 0)
      return pick({"sender.city", "receiver.country", "currency", "id", R"("Sylhet")", R"("LY")",
                   R"("")", "receiver.city"});
    if (below(3) == 0) return "coalesce(" + text(depth - 1) + ", " + text(depth - 1) + ")";
    return text(0);
  }
  std::string cmp() { return pick({" == ", " != ", " < ", " <= ", " > ", " >= "}); }
  std::string pick(std::initializer_list<const char*> options) {
    return *(options.begin() + below(options.size()));
  }
  size_t below(size_t n) { return static_cast<size_t>(rng_() % n); }

  std::mt19937_64 rng_;
};

TEST_F(ExpressionTest, StepsAnswerAsTheInterpreterOnRandomExpressions) {
  std::mt19937_64 rng(7);
  const std::string_view cities[] = {"Sylhet", "", "Dhaka"};
  const std::string_view countries[] = {"LY", "BD", ""};
  size_t compiled = 0, evaluations = 0, fired = 0;
  for (uint64_t seed = 1; seed <= 3000; ++seed) {
    RandomExpressions gen(seed);
    const std::string text = gen.boolean(static_cast<int>(seed % 5));
    CompileError err;
    std::optional<Program> p = compile(text, scope_, Type::boolean, err);
    if (!p) continue;
    ++compiled;
    for (int round = 0; round < 8; ++round) {
      event_.kind = static_cast<event::Kind>(rng() % event::kKindCount);
      event_.amount_base.units = static_cast<int64_t>(rng() % 80) * 500'000 - 500'000;
      event_.amount.units = static_cast<int64_t>(rng() % 6000) * 10'000;
      event_.sender.city = cities[rng() % 3];
      event_.receiver.country = countries[rng() % 3];
      event_.receiver.city = cities[rng() % 3];
      slots_[0].i = static_cast<int64_t>(rng() % 24) - 3;
      slots_[1].i = static_cast<int64_t>(rng() % 2000) * 50'000;
      slots_[2].d = rng() % 10 == 0 ? std::nan("") : static_cast<double>(rng() % 100) / 50;
      slots_[3].i = event_.ts_ms - static_cast<int64_t>(rng() % 5) * 1'800'000;
      slots_[4].i = static_cast<int64_t>(rng() % 2);
      const EvalContext context{&event_, slots_};
      const Value steps = p->evaluate(context);
      ASSERT_TRUE(same_value(Type::boolean, steps, p->interpret(context))) << text;
      ASSERT_EQ(p->test(context), p->interpret(context).i != 0) << text;
      ++evaluations;
      fired += steps.i != 0;
    }
  }
  // Most expressions compile (the generator keeps to the language's types), and they answer
  // both ways often.
  EXPECT_GT(compiled, 2700u);
  EXPECT_GT(fired, evaluations / 5);
  EXPECT_LT(fired, evaluations * 4 / 5);
}

}  // namespace
}  // namespace corridor::rules::lang
