// Loading sequence rules: the steps, bindings of the first step's fields, episode
// aggregates, repeat, and their errors with file:line:col.
#include <gtest/gtest.h>

#include "rules/model/rule.h"

namespace corridor::rules {
namespace {

std::vector<std::string> errors_of(const std::string& yaml) {
  RuleLoadResult r = parse_rule_pack("seq.yaml", yaml);
  std::vector<std::string> out;
  for (const auto& d : r.errors) out.push_back(d.format());
  return out;
}

const std::string kHead = R"(pack: s
typologies:
  - {id: db, title: Debt bondage, horizon: 90d, threshold: 50}
rules:
  - id: sweep
    title: Sweep
    typology: db
    key: account
    severity: high
    weight: 50
)";

// What an account rule's first step may name (the later steps also name its fields).
const std::string kAccountNames =
    "id, ts, kind, amount, currency, amount_base, channel, agent, purpose, "
    "sender.{id,account,name,country,city,phone,device,ip,address,employer}, receiver.{same}, "
    "is_new_pair, sender_salary_age, sender_salary_payer, direction, "
    "counterparty.{id,country,city,...}";

TEST(SequenceLoaderTest, LoadsStepsBindingsAggregatesAndRepeat) {
  RuleLoadResult r = parse_rule_pack("seq.yaml", kHead + R"(    sequence:
      - {as: pay, match: kind == "salary" and direction == "in"}
      - as: sweep
        match: direction == "out" and counterparty.country == pay.receiver.country
        within: 24h
        aggregate:
          to_one: max_by(counterparty.id, sum(amount_base))
          parties: distinct(counterparty.id) where amount_base > 10
          n: max_by(counterparty.id, count())
        when: to_one >= 0.7 * pay.amount_base and ts - pay.ts <= 24h
    repeat: {cycles: 2, consecutive: true}
    explain: "{to_one} of {pay.amount_base}, {cycles} cycles"
)");
  ASSERT_TRUE(r.rules.has_value()) << config::format_all(r.errors);
  const Rule& rule = r.rules->rules.at(0);
  ASSERT_TRUE(rule.sequence.has_value());
  const Sequence& q = *rule.sequence;
  EXPECT_EQ(q.first_as, "pay");
  EXPECT_EQ(q.second_as, "sweep");
  EXPECT_EQ(q.within_ms, 86'400'000);
  ASSERT_EQ(q.aggregates.size(), 3u);
  EXPECT_EQ(q.aggregates[0].kind, EpisodeAggregate::Kind::max_by_sum);
  EXPECT_EQ(q.aggregates[0].result_type, lang::Type::decimal);
  EXPECT_EQ(q.aggregates[1].kind, EpisodeAggregate::Kind::distinct);
  EXPECT_TRUE(q.aggregates[1].predicate.has_value());
  EXPECT_EQ(q.aggregates[2].kind, EpisodeAggregate::Kind::max_by_count);
  // Bindings are the first step's fields the later expressions read, once each.
  std::vector<std::string> names;
  for (const Binding& b : q.bindings) names.push_back(b.name);
  EXPECT_EQ(names, (std::vector<std::string>{"pay.receiver.country", "pay.amount_base", "pay.ts"}));
  EXPECT_EQ(q.cycles, 2u);
  EXPECT_TRUE(q.consecutive);
  EXPECT_FALSE(q.when_at_cycle_end);  // the default: tested at each second-step event
}

TEST(SequenceLoaderTest, WhenAtCycleEnd) {
  const std::string rule = kHead + R"(    sequence:
      - {as: pay, match: kind == "salary" and direction == "in"}
      - as: spend
        match: direction == "out"
        within: 35d
        aggregate: {out: sum(amount_base)}
        when: out >= 0.9 * pay.amount_base
        when_at: AT
)";
  const auto with = [&](const std::string& at) {
    std::string text = rule;
    text.replace(text.find("AT"), 2, at);
    return text;
  };
  RuleLoadResult r = parse_rule_pack("seq.yaml", with("cycle_end"));
  ASSERT_TRUE(r.rules.has_value()) << config::format_all(r.errors);
  EXPECT_TRUE(r.rules->rules.at(0).sequence->when_at_cycle_end);
  r = parse_rule_pack("seq.yaml", with("each_event"));
  ASSERT_TRUE(r.rules.has_value()) << config::format_all(r.errors);
  EXPECT_FALSE(r.rules->rules.at(0).sequence->when_at_cycle_end);
  EXPECT_EQ(errors_of(with("payday")),
            (std::vector<std::string>{"seq.yaml:18:18: error: rule sweep.sequence[1].when_at: "
                                      "unknown value 'payday'; allowed: each_event, cycle_end"}));
}

TEST(SequenceLoaderTest, ErrorsAreLocated) {
  EXPECT_EQ(errors_of(kHead + R"(    sequence:
      - {as: pay, match: kind == "salary"}
      - as: sweep
        match: direction == "out" and counterparty.city == pay.recever.city
        within: 24h
        when: true
)"),
            (std::vector<std::string>{
                "seq.yaml:14:60: error: rule sweep.sequence[1].match: unknown name "
                "'pay.recever.city'; known here: pay.<field>, id, ts, kind, amount, currency, "
                "amount_base, channel, agent, purpose, sender.{id,account,name,country,city,phone,"
                "device,ip,address,employer}, receiver.{same}, is_new_pair, sender_salary_age, "
                "sender_salary_payer, direction, "
                "counterparty.{id,country,city,...}"}));
  EXPECT_EQ(errors_of(kHead + R"(    when: true
    sequence:
      - {as: pay, match: kind == "salary"}
      - {as: sweep, match: direction == "out", when: true}
)"),
            (std::vector<std::string>{
                "seq.yaml:11:5: error: rule sweep.when: a sequence rule's condition is the "
                "`when` of its second step",
                "seq.yaml:14:9: error: rule sweep.sequence[1]: missing required key 'within'"}));
  EXPECT_EQ(errors_of(kHead + R"(    when: true
    repeat: {cycles: 2}
)"),
            (std::vector<std::string>{
                "seq.yaml:12:5: error: rule sweep.repeat: only a sequence rule repeats"}));
  EXPECT_EQ(errors_of(kHead + R"(    sequence:
      - {as: pay, match: kind == "salary"}
      - as: sweep
        match: direction == "out"
        within: 24h
        aggregate: {m: mean(amount_base)}
        when: true
    repeat: {cycles: 2, consecutive: false}
)"),
            (std::vector<std::string>{
                "seq.yaml:16:24: error: rule sweep.sequence[1].aggregate.m: a sequence step "
                "aggregates with count(), sum(x), min(x), max(x), distinct(x), max_by(group, "
                "sum(x)) or max_by(group, count())",
                "seq.yaml:18:13: error: rule sweep.repeat: missing required key 'within'"}));
}

TEST(SequenceLoaderTest, Escalate) {
  const std::string rule = kHead + R"(    sequence:
      - {as: pay, match: kind == "salary" and direction == "in"}
      - as: back
        match: direction == "out"
        within: 72h
        aggregate: {returned: sum(amount_base), n: count()}
        when: returned >= 0.2 * pay.amount_base
    repeat: {cycles: 3, consecutive: false, within: 400d}
    escalate: ESCALATE
    explain: "{returned}; {run_cycles} cycles since {run_since}, {run_total} in all; {escalated}"
)";
  const auto with = [&](const std::string& escalate) {
    std::string text = rule;
    text.replace(text.find("ESCALATE"), 8, escalate);
    return text;
  };
  RuleLoadResult r =
      parse_rule_pack("seq.yaml", with("{after: 548d, severity: critical, total: returned}"));
  ASSERT_TRUE(r.rules.has_value()) << config::format_all(r.errors);
  const Sequence& q = *r.rules->rules.at(0).sequence;
  EXPECT_EQ(q.escalate_after_ms, 548LL * 86'400'000);
  EXPECT_EQ(q.escalate_severity, Severity::critical);
  EXPECT_EQ(q.run_total, 0);

  EXPECT_EQ(errors_of(with("{after: 0d, severity: severe, total: n}")),
            (std::vector<std::string>{
                "seq.yaml:19:23: error: rule sweep.escalate.after: must be more than 0",
                "seq.yaml:19:37: error: rule sweep.escalate.severity: unknown value 'severe'; "
                "allowed: low, medium, high, critical",
                "seq.yaml:19:52: error: rule sweep.escalate.total: 'n' is not a sum aggregate of "
                "the second step; sums: returned"}));
  // {run_total} needs escalate.total; the run's values need escalate at all.
  EXPECT_EQ(errors_of(with("{after: 548d, severity: critical}")),
            (std::vector<std::string>{"seq.yaml:20:66: error: rule sweep.explain: unknown "
                                      "placeholder {run_total}; use an aggregate name, {key}, "
                                      "{window} or {base}"}));
  std::string no_repeat = with("{after: 548d, severity: critical, total: returned}");
  no_repeat.erase(no_repeat.find("    repeat:"),
                  no_repeat.find("    escalate:") - no_repeat.find("    repeat:"));
  EXPECT_EQ(errors_of(no_repeat),
            (std::vector<std::string>{"seq.yaml:18:5: error: rule sweep.escalate: only a rule "
                                      "with `repeat` escalates (a run is its repeated cycles)"}));
  EXPECT_EQ(errors_of(kHead + "    when: true\n    escalate: {after: 1d, severity: high}\n"),
            (std::vector<std::string>{"seq.yaml:12:5: error: rule sweep.escalate: only a "
                                      "sequence rule with `repeat` escalates"}));
  // The run's values are reserved names.
  std::string clash = with("{after: 548d, severity: critical}");
  clash.replace(clash.find("n: count()"), 10, "run_cycles: count()");
  clash.replace(clash.find(", {run_total} in all"), 20, "");
  EXPECT_EQ(errors_of(clash),
            (std::vector<std::string>{
                "seq.yaml:16:49: error: rule sweep.sequence[1].aggregate.run_cycles: "
                "'run_cycles' is a value sequence signals report (cycles, run_since, run_cycles, "
                "run_total, escalated); choose another name"}));
}

// An episode aggregate that failed is not reported again where the step's `when` names it;
// every other mistake of the step's expressions is, each term of an `and`/`or` chain alone.
TEST(SequenceLoaderTest, EveryMistakeOnceAndNoCascadeFromFailedAggregates) {
  EXPECT_EQ(errors_of(kHead + R"(    sequence:
      - {as: pay, match: kind == "salary" and direction == "inn" and bogus > 1}
      - as: sweep
        match: direction == "out" and counterparty.country == payy.receiver.country
        within: 24h
        aggregate:
          to_one: max_by(counterparty.id, sum(sender.name))
        when: to_one >= 0.7 * pay.amount_base or nothing
)"),
            (std::vector<std::string>{
                "seq.yaml:12:60: error: rule sweep.sequence[0].match: 'inn' is not a value of "
                "direction; allowed: in, out, self",
                "seq.yaml:12:70: error: rule sweep.sequence[0].match: unknown name 'bogus'; "
                "known here: " +
                    kAccountNames,
                "seq.yaml:14:63: error: rule sweep.sequence[1].match: unknown name "
                "'payy.receiver.country'; known here: pay.<field>, " +
                    kAccountNames,
                "seq.yaml:17:47: error: rule sweep.sequence[1].aggregate.to_one: sum() needs an "
                "exact number (integer or decimal), got string",
                "seq.yaml:18:50: error: rule sweep.sequence[1].when: unknown name 'nothing'; "
                "known here: pay.<field>, " +
                    kAccountNames,
            }));
}

}  // namespace
}  // namespace corridor::rules

namespace corridor::rules {
namespace {

TEST(RatioLoaderTest, RatioOfSumsOfDifferentKindsIsAnError) {
  RuleLoadResult r = parse_rule_pack("r.yaml", R"(pack: r
typologies: [{id: t, title: T, horizon: 30d, threshold: 1}]
rules:
  - id: mixed
    title: Mixed
    typology: t
    key: receiver.id
    window: 48h
    aggregate:
      money: sum(amount_base)
      waits: sum(ts - ts)
      odd: ratio(money, waits)
    when: odd > 1
    severity: low
    weight: 1
)");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].format(),
            "r.yaml:12:25: error: rule mixed.aggregate.odd: ratio() divides sums of the same kind "
            "of value; 'money' sums decimals, 'waits' durations");
}

TEST(SequenceLoaderTest, MaxByIsReadLikeInWindowedRules) {
  const auto step = [](const std::string& aggregate) {
    return errors_of(kHead + R"(    sequence:
      - {as: pay, match: kind == "salary"}
      - as: sweep
        match: direction == "out"
        within: 24h
        aggregate:
          )" + aggregate +
                     R"(
        when: true
)");
  };
  // The distinct form is for windowed rules only.
  EXPECT_EQ(step("top: max_by(counterparty.id, distinct(counterparty.country))"),
            (std::vector<std::string>{
                "seq.yaml:17:40: error: rule sweep.sequence[1].aggregate.top: max_by(group, "
                "distinct(x)) is for windowed rules; a sequence step totals each group with "
                "sum(x) or count()"}));
  // The same messages as a windowed rule's max_by, saying what a sequence step allows.
  EXPECT_EQ(step("top: max_by(counterparty.id)"),
            (std::vector<std::string>{
                "seq.yaml:17:16: error: rule sweep.sequence[1].aggregate.top: max_by(group, "
                "total) takes 2 arguments, got 1; the total is sum(x) or count()"}));
  EXPECT_EQ(step("top: max_by(amount, sum(amount))"),
            (std::vector<std::string>{
                "seq.yaml:17:23: error: rule sweep.sequence[1].aggregate.top: max_by() groups "
                "by a string such as counterparty.id, got decimal"}));
  EXPECT_EQ(step("top: max_by(counterparty.id, sum(counterparty.city))"),
            (std::vector<std::string>{
                "seq.yaml:17:44: error: rule sweep.sequence[1].aggregate.top: sum() needs an "
                "exact number (integer or decimal), got string"}));
}

}  // namespace
}  // namespace corridor::rules
