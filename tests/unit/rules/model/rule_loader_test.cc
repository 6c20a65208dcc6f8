// The rule-pack loader: what a valid pack turns into, and every error located to the
// character (file:line:col), including errors inside expressions of every YAML style.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "rules/model/rule.h"
#include "rules/model/rule_scope.h"

namespace corridor::rules {
namespace {

namespace fs = std::filesystem;
using lang::Type;
using window::AggregateKind;
using Lines = std::vector<std::string>;

Lines formatted(const RuleLoadResult& r) {
  Lines out;
  for (const config::Diagnostic& d : r.errors) out.push_back(d.format());
  return out;
}

// The diagnostics of a pack that must not load.
Lines errors(const std::string& text) {
  RuleLoadResult r = parse_rule_pack("pack.yaml", text);
  EXPECT_FALSE(r.rules.has_value()) << "the pack loaded";
  return formatted(r);
}

// Four lines, so that the first rule starts on line 5 (its keys at column 5).
const std::string kHead = R"yaml(pack: test
typologies:
  - {id: smuggling_fee, title: Smuggling fee, horizon: 1d, threshold: 1}
rules:
)yaml";

Lines rule_errors(const std::string& rules) { return errors(kHead + rules); }

// What `filter` (and aggregate arguments) may name in a rule keyed by a field.
const std::string kEventNames =
    "id, ts, kind, amount, currency, amount_base, channel, agent, purpose, "
    "sender.{id,account,name,country,city,phone,device,ip,address,employer}, receiver.{same}, "
    "is_new_pair, sender_salary_age, sender_salary_payer";

// A scratch folder removed with the object (pack files, list files).
class TempDir {
 public:
  TempDir() {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "corridor-rules-" + std::to_string(::getpid()) + "-";
    name += info != nullptr ? info->name() : "x";
    path_ = fs::temp_directory_path() / name;
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path write(const std::string& name, const std::string& content) const {
    const fs::path p = path_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// ---------------------------------------------------------------------------------------
// A valid pack

// DESIGN.md §5's example rule in the real syntax, with the other constructs a pack offers.
const std::string kValidPack = R"yaml(pack: smuggling_fees
version: 3
doc: Fan-in, structuring and cash-out rules; a collector hub.
lists:
  transit_countries: [LY, TR, NE, TR]
  corridors: corridors.txt
typologies:
  - id: smuggling_fee
    title: Smuggling fee payments
    horizon: 30d
    threshold: 60
    min_primaries: 1
  - id: debt_bondage
    title: Debt bondage
    version: 7
    doc: Wages controlled by a third party.
    horizon: 45d
    threshold: 50
    min_primaries: 0
rules:
  - id: sf.fan_in_unrelated_senders
    title: Many unrelated senders pay one beneficiary
    pattern: R1
    typology: smuggling_fee
    key: receiver.id
    filter: kind in ["transfer", "remittance"] and amount_base between 200 and 5000
    window: 7d
    aggregate:
      senders: distinct(sender.id)
      origins: distinct(sender.city)
      new_pairs: count() where is_new_pair
      total: sum(amount_base)
    when: senders >= 5 and origins >= 3 and new_pairs >= 0.8 * senders
    explain: "{senders} senders from {origins} cities paid {total} {base} to {key} in {window}"
    severity: medium
    weight: 40
    evidence: 20
    suppress: 24h
  - id: sf.split_below_threshold
    title: Transfers split just under the reporting threshold, across agents
    pattern: R2
    typology: smuggling_fee
    role: contributor
    key: sender.id
    filter: near_below(amount_base, 3000, 0.2)
    window: 48h
    aggregate:
      near: count()
      agents: distinct(agent)
    when: near >= 2 and agents >= 2
    severity: low
    weight: 10
  - id: sf.cash_in_then_out
    title: Cash in, then rapid cross-border out
    pattern: R3
    typology: smuggling_fee
    key: account
    filter: kind == "cash_in" and direction == "in" or direction == "out" and in_list("transit_countries", counterparty.country)
    window: 48h
    bucket: 2h
    aggregate:
      inflow: sum(amount_base) where direction == "in"
      outflow: sum(amount_base) where direction == "out"
      out_in: ratio(outflow, inflow)
    when: inflow >= 1000 and out_in >= 0.8
    severity: high
    weight: 50
  - id: sf.agent_fan_in
    title: Several senders to one receiver at one agent within the hour
    pattern: R14
    typology: smuggling_fee
    key: [agent, receiver.id]
    window: 60m
    aggregate:
      senders: distinct(sender.id)
    when: senders >= 3
    severity: medium
    weight: 30
  - id: sf.round_fee_band
    title: Round amounts in a corridor's fee band
    pattern: R6
    typology: smuggling_fee
    role: contributor
    key: receiver.id
    when: is_round(amount_base, 100) and amount_base between 1000 and 5000 and in_list("corridors", sender.country)
    severity: low
    weight: 5
  - id: db.collector_hub
    title: Collector hub receiving many workers' wages
    pattern: R8
    typology: debt_bondage
    version: 2
    doc: |
      Workers of one employer paying one receiver similar amounts.
    key: receiver.id
    filter: kind in ["transfer", "remittance"] and sender.employer != ""
    window: 7d
    bucket: 1h
    aggregate:
      workers: distinct(sender.id)
      same_employer: share(sender.employer == receiver.employer)
      amount_cv: cv(amount_base)
      average: mean(amount_base)
      spread: stddev(amount_base)
      largest: max(amount_base)
      smallest: min(amount_base)
      latest: last(amount_base)
      first_seen: min(ts)
    when: workers >= 5 and same_employer >= 0.6 and amount_cv < 0.2 and abs(largest - smallest) <= max(average, 1)
    severity: critical
    weight: 50
)yaml";

const std::string kCorridors = R"(# corridors with a known smuggling fee band
BD   # Bangladesh
  AF

SY
BD
)";

// kValidPack loaded with its list file beside it (no rules when it fails, which fails the
// calling test), for the tests that do not look at where it was read from.
RuleSet valid_pack() {
  TempDir dir;
  dir.write("corridors.txt", kCorridors);
  RuleLoadResult r = parse_rule_pack((dir.path() / "pack.yaml").string(), kValidPack);
  EXPECT_TRUE(r.rules.has_value()) << config::format_all(r.errors);
  EXPECT_TRUE(r.errors.empty());
  return r.rules ? std::move(*r.rules) : RuleSet{};
}

TEST(RuleLoaderTest, ValidPackRulesAndKeys) {
  TempDir dir;
  dir.write("corridors.txt", kCorridors);
  RuleLoadResult r = parse_rule_pack((dir.path() / "pack.yaml").string(), kValidPack);
  ASSERT_TRUE(r.rules.has_value()) << config::format_all(r.errors);
  EXPECT_TRUE(r.errors.empty());
  const RuleSet& set = *r.rules;
  ASSERT_EQ(set.rules.size(), 6u);
  EXPECT_EQ(set.hash.size(), 16u);

  const Rule& fan_in = set.rules[0];
  EXPECT_EQ(fan_in.id, "sf.fan_in_unrelated_senders");
  EXPECT_EQ(fan_in.title, "Many unrelated senders pay one beneficiary");
  EXPECT_EQ(fan_in.pattern, "R1");
  EXPECT_EQ(fan_in.typology, "smuggling_fee");
  EXPECT_EQ(fan_in.role, Role::primary);  // the default
  EXPECT_EQ(fan_in.version, 3u);          // the pack's
  EXPECT_EQ(fan_in.key.kind, KeySpec::Kind::fields);
  EXPECT_EQ(fan_in.key.fields, std::vector<event::Field>{event::Field::receiver_id});
  EXPECT_EQ(fan_in.key.text, "receiver.id");
  ASSERT_TRUE(fan_in.filter.has_value());
  EXPECT_EQ(fan_in.filter->type(), Type::boolean);
  EXPECT_EQ(fan_in.window.length_ms, 7 * 86'400'000LL);
  EXPECT_EQ(fan_in.window.bucket_ms, 7 * 86'400'000LL / 48);  // default: window / 48
  EXPECT_EQ(fan_in.when.type(), Type::boolean);
  EXPECT_EQ(fan_in.explain,
            "{senders} senders from {origins} cities paid {total} {base} to {key} in {window}");
  EXPECT_EQ(fan_in.severity, Severity::medium);
  EXPECT_EQ(fan_in.weight, 40u);
  EXPECT_EQ(fan_in.evidence, 20u);
  EXPECT_EQ(fan_in.suppress_ms, 24 * 3'600'000LL);
  EXPECT_EQ(fan_in.source_line, 21);
  EXPECT_EQ(fan_in.source_file, (dir.path() / "pack.yaml").string());

  const Rule& split = set.rules[1];
  EXPECT_EQ(split.role, Role::contributor);
  EXPECT_EQ(split.evidence, 10u);  // the default
  EXPECT_EQ(split.suppress_ms, 0);
  EXPECT_EQ(split.window.bucket_ms, 48 * 3'600'000LL / 48);
  EXPECT_TRUE(split.explain.empty());

  const Rule& cash = set.rules[2];
  EXPECT_EQ(cash.key.kind, KeySpec::Kind::account);
  EXPECT_TRUE(cash.key.fields.empty());
  EXPECT_EQ(cash.key.text, "account");
  EXPECT_EQ(cash.window.bucket_ms, 2 * 3'600'000LL);  // given

  const Rule& agent = set.rules[3];
  EXPECT_EQ(agent.key.kind, KeySpec::Kind::fields);
  EXPECT_EQ(agent.key.fields,
            (std::vector<event::Field>{event::Field::agent, event::Field::receiver_id}));
  EXPECT_EQ(agent.key.text, "[agent, receiver.id]");
  EXPECT_FALSE(agent.filter.has_value());     // absent: every event
  EXPECT_EQ(agent.window.bucket_ms, 75'000);  // 60m / 48

  const Rule& round = set.rules[4];
  EXPECT_EQ(round.window.length_ms, 0);  // a rule on single events
  EXPECT_TRUE(round.aggregates.empty());

  const Rule& hub = set.rules[5];
  EXPECT_EQ(hub.typology, "debt_bondage");
  EXPECT_EQ(hub.version, 2u);
  EXPECT_EQ(hub.doc, "Workers of one employer paying one receiver similar amounts.\n");
  EXPECT_EQ(hub.severity, Severity::critical);
  EXPECT_EQ(severity_name(hub.severity), "critical");
}

TEST(RuleLoaderTest, ValidPackAggregates) {
  const RuleSet set = valid_pack();
  ASSERT_FALSE(set.rules.empty());

  const Rule& fan_in = set.rules[0];
  ASSERT_EQ(fan_in.aggregates.size(), 4u);
  const Aggregate& senders = fan_in.aggregates[0];
  EXPECT_EQ(senders.name, "senders");
  EXPECT_EQ(senders.text, "distinct(sender.id)");
  EXPECT_EQ(senders.spec.kind, AggregateKind::distinct);
  EXPECT_EQ(senders.spec.exact_bound, 64u);
  EXPECT_EQ(senders.argument_type, Type::string);
  EXPECT_EQ(senders.result_type, Type::integer);
  ASSERT_TRUE(senders.argument.has_value());
  EXPECT_FALSE(senders.predicate.has_value());
  const Aggregate& new_pairs = fan_in.aggregates[2];
  EXPECT_EQ(new_pairs.spec.kind, AggregateKind::count);
  EXPECT_FALSE(new_pairs.argument.has_value());
  ASSERT_TRUE(new_pairs.predicate.has_value());
  EXPECT_EQ(new_pairs.predicate->type(), Type::boolean);
  EXPECT_EQ(new_pairs.result_type, Type::integer);
  const Aggregate& total = fan_in.aggregates[3];
  EXPECT_EQ(total.spec.kind, AggregateKind::sum);
  EXPECT_EQ(total.argument_type, Type::decimal);
  EXPECT_EQ(total.result_type, Type::decimal);  // money stays exact
  EXPECT_FALSE(total.is_ratio);

  const Rule& cash = set.rules[2];
  ASSERT_EQ(cash.aggregates.size(), 3u);
  EXPECT_TRUE(cash.aggregates[0].predicate.has_value());
  const Aggregate& out_in = cash.aggregates[2];
  EXPECT_TRUE(out_in.is_ratio);
  EXPECT_EQ(out_in.result_type, Type::number);
  EXPECT_EQ(out_in.ratio_numerator, 1u);    // outflow
  EXPECT_EQ(out_in.ratio_denominator, 0u);  // inflow

  const Rule& hub = set.rules[5];
  struct Expected {
    const char* name;
    AggregateKind kind;
    Type argument;
    Type result;
  };
  const Expected expected[] = {
      {"workers", AggregateKind::distinct, Type::string, Type::integer},
      {"same_employer", AggregateKind::share, Type::boolean, Type::number},
      {"amount_cv", AggregateKind::cv, Type::decimal, Type::number},
      {"average", AggregateKind::mean, Type::decimal, Type::number},
      {"spread", AggregateKind::stddev, Type::decimal, Type::number},
      {"largest", AggregateKind::max, Type::decimal, Type::decimal},
      {"smallest", AggregateKind::min, Type::decimal, Type::decimal},
      {"latest", AggregateKind::last, Type::decimal, Type::decimal},
      {"first_seen", AggregateKind::min, Type::time, Type::time},
  };
  ASSERT_EQ(hub.aggregates.size(), std::size(expected));
  for (size_t i = 0; i < std::size(expected); ++i) {
    SCOPED_TRACE(expected[i].name);
    const Aggregate& a = hub.aggregates[i];
    EXPECT_EQ(a.name, expected[i].name);
    EXPECT_EQ(a.spec.kind, expected[i].kind);
    EXPECT_EQ(a.argument_type, expected[i].argument);
    EXPECT_EQ(a.result_type, expected[i].result);
    EXPECT_FALSE(a.is_ratio);
  }
}

// `when` is also kept as its top-level `and` terms, each with the aggregates it names, so
// that the evaluator computes a term's aggregates only once the terms before it held.
TEST(RuleLoaderTest, WhenIsCutIntoItsAndTermsWithTheAggregatesEachNames) {
  const RuleSet set = valid_pack();
  ASSERT_FALSE(set.rules.empty());

  // senders >= 5 and origins >= 3 and new_pairs >= 0.8 * senders
  const Rule& fan_in = set.rules[0];
  ASSERT_EQ(fan_in.when_terms.size(), 3u);
  EXPECT_EQ(fan_in.when_terms[0].aggregates, 0b0001u);  // senders
  EXPECT_EQ(fan_in.when_terms[1].aggregates, 0b0010u);  // origins
  EXPECT_EQ(fan_in.when_terms[2].aggregates, 0b0101u);  // new_pairs, senders
  // inflow >= 1000 and out_in >= 0.8: a ratio term names the ratio, not its operands.
  const Rule& cash = set.rules[2];
  ASSERT_EQ(cash.when_terms.size(), 2u);
  EXPECT_EQ(cash.when_terms[0].aggregates, 0b001u);
  EXPECT_EQ(cash.when_terms[1].aggregates, 0b100u);
  for (const Rule& rule : set.rules) {
    for (const WhenTerm& term : rule.when_terms) EXPECT_EQ(term.test.type(), Type::boolean);
  }

  // An `or` at the top is one term; nested and parenthesised `and`s are flattened.
  const auto rule = [](const std::string& id, const std::string& when) {
    return "  - id: " + id +
           "\n    title: T\n    typology: fee\n    severity: low\n    weight: 100\n"
           "    key: receiver.id\n    window: 1d\n"
           "    aggregate: {n: count(), total: sum(amount_base), top: max(amount_base)}\n"
           "    when: " +
           when + "\n";
  };
  RuleLoadResult loaded = parse_rule_pack(
      "other.yaml",
      "pack: t\ntypologies:\n"
      "  - {id: fee, title: Fee, horizon: 30d, threshold: 100, min_primaries: 1}\nrules:\n" +
          rule("a", "n >= 2 or total > 100") +
          rule("b", "(n >= 2 and total > 100) and (top > 5 and not (n > 9 and top > 9))"));
  ASSERT_TRUE(loaded.rules.has_value()) << config::format_all(loaded.errors);
  const RuleSet& other = *loaded.rules;
  ASSERT_EQ(other.rules.size(), 2u);
  ASSERT_EQ(other.rules[0].when_terms.size(), 1u);
  EXPECT_EQ(other.rules[0].when_terms[0].aggregates, 0b011u);
  ASSERT_EQ(other.rules[1].when_terms.size(), 4u);
  EXPECT_EQ(other.rules[1].when_terms[0].aggregates, 0b001u);
  EXPECT_EQ(other.rules[1].when_terms[1].aggregates, 0b010u);
  EXPECT_EQ(other.rules[1].when_terms[2].aggregates, 0b100u);
  EXPECT_EQ(other.rules[1].when_terms[3].aggregates, 0b101u);
}

TEST(RuleLoaderTest, ValidPackTypologiesAndLists) {
  const RuleSet set = valid_pack();
  ASSERT_FALSE(set.rules.empty());

  ASSERT_EQ(set.typologies.size(), 2u);
  const Typology& sf = set.typologies[0];
  EXPECT_EQ(sf.id, "smuggling_fee");
  EXPECT_EQ(sf.title, "Smuggling fee payments");
  EXPECT_EQ(sf.horizon_ms, 30 * 86'400'000LL);
  EXPECT_EQ(sf.threshold, 60u);
  EXPECT_EQ(sf.min_primaries, 1u);
  EXPECT_EQ(sf.version, 3u);  // the pack's
  EXPECT_EQ(sf.source_line, 8);
  const Typology& db = set.typologies[1];
  EXPECT_EQ(db.version, 7u);
  EXPECT_EQ(db.doc, "Wages controlled by a third party.");
  EXPECT_EQ(db.horizon_ms, 45 * 86'400'000LL);
  EXPECT_EQ(db.threshold, 50u);
  EXPECT_EQ(db.min_primaries, 0u);

  // Sorted and without duplicates; the file's comments and blank lines are not values.
  ASSERT_EQ(set.lists.size(), 2u);
  EXPECT_EQ(set.lists.at("transit_countries"), (std::vector<std::string>{"LY", "NE", "TR"}));
  EXPECT_EQ(set.lists.at("corridors"), (std::vector<std::string>{"AF", "BD", "SY"}));
}

// The compiled expressions read aggregates from the slots the rule scope assigns.
TEST(RuleLoaderTest, ValidPackExpressionsEvaluate) {
  const RuleSet set = valid_pack();
  ASSERT_FALSE(set.rules.empty());

  event::Event e;
  e.id = "tx-1";
  e.kind = event::Kind::remittance;
  e.amount.units = 300'0000;
  e.amount_base.units = 300'0000;
  e.sender.country = "BD";
  lang::Value slots[kFirstAggregateSlot + 4];
  const lang::EvalContext context{&e, slots};

  const Rule& fan_in = set.rules[0];
  EXPECT_TRUE(fan_in.filter->test(context));
  e.amount_base.units = 5000'0001;  // between is inclusive, exact to the last unit
  EXPECT_FALSE(fan_in.filter->test(context));
  slots[kFirstAggregateSlot + 0].i = 5;  // senders
  slots[kFirstAggregateSlot + 1].i = 3;  // origins
  slots[kFirstAggregateSlot + 2].i = 4;  // new_pairs: 4 >= 0.8 * 5
  EXPECT_TRUE(fan_in.when.test(context));
  slots[kFirstAggregateSlot + 2].i = 3;
  EXPECT_FALSE(fan_in.when.test(context));

  const Rule& round = set.rules[4];  // in_list against the list file
  e.amount_base.units = 2500'0000;
  EXPECT_TRUE(round.when.test(context));
  e.sender.country = "PK";
  EXPECT_FALSE(round.when.test(context));
}

// The brief's own example, adapted: `count(is_new_pair)` is written `count() where is_new_pair`.
TEST(RuleLoaderTest, DesignExampleLoads) {
  const std::string pack = R"yaml(pack: design_example
typologies:
  - {id: smuggling_fee, title: Smuggling fee, horizon: 30d, threshold: 40}
rules:
  - id: sf.fan_in_unrelated_senders
    title: Many unrelated senders pay one beneficiary
    typology: smuggling_fee
    key: receiver.id
    filter: kind in ["transfer", "remittance"] and amount_base between 200 and 5000
    window: 7d
    aggregate:
      senders: distinct(sender.id)
      origins: distinct(sender.city)
      new_pairs: count() where is_new_pair
      total: sum(amount_base)
    when: senders >= 5 and origins >= 3 and new_pairs >= 0.8 * senders
    severity: medium
    weight: 40
    evidence: 20
    suppress: 24h
)yaml";
  RuleLoadResult r = parse_rule_pack("pack.yaml", pack);
  ASSERT_TRUE(r.rules.has_value()) << config::format_all(r.errors);
  ASSERT_EQ(r.rules->rules.size(), 1u);
  EXPECT_EQ(r.rules->rules[0].aggregates.size(), 4u);

  // Written as in the sketch, the loader says how to write it.
  std::string sketch = pack;
  sketch.replace(sketch.find("count() where is_new_pair"), 25, "count(is_new_pair)");
  EXPECT_EQ(errors(sketch),
            Lines{"pack.yaml:14:18: error: rule sf.fan_in_unrelated_senders.aggregate.new_pairs: "
                  "count() takes no argument, got 1; to count the events that match a "
                  "condition write `count() where <condition>`"});
}

TEST(RuleLoaderTest, LoadsFilesFromDisk) {
  TempDir dir;
  dir.write("corridors.txt", kCorridors);
  const fs::path pack = dir.write("pack.yaml", kValidPack);
  RuleLoadResult r = load_rule_packs({pack.string()});
  ASSERT_TRUE(r.rules.has_value()) << config::format_all(r.errors);
  EXPECT_EQ(r.rules->rules.size(), 6u);

  const std::string missing = (dir.path() / "missing.yaml").string();
  RuleLoadResult bad = load_rule_packs({missing});
  EXPECT_FALSE(bad.rules.has_value());
  EXPECT_EQ(formatted(bad),
            Lines{missing + ":1:1: error: cannot read the rule pack: No such file or directory"});

  // Named by an engine config: reported where the config names it, and the other packs are
  // checked all the same (their errors come out in the same run).
  const fs::path broken = dir.write("broken.yaml", kHead + "  - id: r1\n    titel: T\n");
  PackLoadOptions options;
  options.named_at = {config::Diagnostic{"engine.yaml", 9, 10, "rules.packs[0]"},
                      config::Diagnostic{"engine.yaml", 9, 22, "rules.packs[1]"}};
  RuleLoadResult both = load_rule_packs({missing, broken.string()}, options);
  EXPECT_FALSE(both.rules.has_value());
  const Lines got = formatted(both);
  ASSERT_GE(got.size(), 2u) << config::format_all(both.errors);
  EXPECT_EQ(got[0], "engine.yaml:9:10: error: rules.packs[0]: cannot read the rule pack " +
                        missing + ": No such file or directory");
  const std::string titel = broken.string() + ":6:5: error: rules[0]: unknown key 'titel'";
  EXPECT_TRUE(std::any_of(got.begin(), got.end(), [&](const std::string& line) {
    return line.starts_with(titel);
  })) << config::format_all(both.errors);
}

TEST(RuleLoaderTest, HashFollowsTheBytes) {
  const std::string a =
      kHead +
      R"yaml(  - {id: r1, title: T, typology: smuggling_fee, key: agent, when: "true", severity: low, weight: 1}
)yaml";
  RuleLoadResult first = parse_rule_pack("pack.yaml", a);
  RuleLoadResult again = parse_rule_pack("pack.yaml", a);
  RuleLoadResult other = parse_rule_pack("pack.yaml", a + "# a comment\n");
  ASSERT_TRUE(first.rules && again.rules && other.rules);
  EXPECT_EQ(first.rules->hash, again.rules->hash);
  EXPECT_NE(first.rules->hash, other.rules->hash);
}

// Lists and typologies are global across the packs of one load, in any order.
TEST(RuleLoaderTest, PacksShareListsAndTypologies) {
  const std::string rules = R"yaml(pack: rules
rules:
  - id: r1
    title: T
    typology: smuggling_fee
    key: receiver.id
    when: in_list("transit", receiver.country)
    severity: low
    weight: 5
)yaml";
  const std::string shared = R"yaml(pack: shared
lists:
  transit: [LY]
typologies:
  - {id: smuggling_fee, title: Smuggling fee, horizon: 30d, threshold: 5}
)yaml";
  RuleLoadResult r = parse_rule_packs({{"rules.yaml", rules}, {"shared.yaml", shared}});
  ASSERT_TRUE(r.rules.has_value()) << config::format_all(r.errors);
  EXPECT_EQ(r.rules->rules.size(), 1u);
  EXPECT_EQ(r.rules->typologies.size(), 1u);
}

// ---------------------------------------------------------------------------------------
// Pack structure

TEST(RuleLoaderStructureTest, InvalidYaml) {
  EXPECT_EQ(errors("pack: x\nrules: [\n"),
            Lines{"pack.yaml:2:8: error: invalid YAML: this '[' list is never closed with ']' "
                  "(YAML found no end by line 3)"});
  // An apostrophe inside plain text opens no quote.
  EXPECT_EQ(errors("pack: x\ndoc: [O'Brien, x]\nrules: [\n"),
            Lines{"pack.yaml:3:8: error: invalid YAML: this '[' list is never closed with ']' "
                  "(YAML found no end by line 4)"});
  // The bracket that is not closed, past closed ones, quoted ones and comments.
  EXPECT_EQ(errors("pack: x  # [\nlists: {a: [\"]\", b], c: '[x'\nrules: [\n  - {id: r}\n"),
            Lines{"pack.yaml:2:8: error: invalid YAML: this '{' mapping is never closed with '}' "
                  "(YAML found no end by line 3)"});
  EXPECT_EQ(errors("pack: x\n  rules: []\n"),
            Lines{"pack.yaml:2:8: error: invalid YAML: illegal map value"});
}

TEST(RuleLoaderStructureTest, NotAMapping) {
  EXPECT_EQ(errors(""),
            Lines{"pack.yaml:1:1: error: rule pack: expected a mapping with keys "
                  "pack, version, doc, lists, tables, rules, typologies, got nothing (null)"});
  EXPECT_EQ(errors("- a\n"),
            Lines{"pack.yaml:1:1: error: rule pack: expected a mapping with "
                  "keys pack, version, doc, lists, tables, rules, typologies, got a "
                  "sequence"});
  EXPECT_EQ(errors("pack: x\nrules: {a: 1}\n"),
            Lines{"pack.yaml:2:8: error: rules: expected a sequence, got a mapping"});
  EXPECT_EQ(errors("pack: x\ntypologies: t\n"),
            Lines{"pack.yaml:2:13: error: typologies: expected a sequence, got a scalar"});
  EXPECT_EQ(
      rule_errors("  - r1\n"),
      (Lines{"pack.yaml:5:5: error: rules[0]: expected a mapping with keys id, title, "
             "pattern, typology, role, version, doc, key, filter, window, bucket, "
             "aggregate, when, sequence, repeat, escalate, explain, severity, weight, evidence, "
             "suppress, got a scalar"}));
}

TEST(RuleLoaderStructureTest, UnknownKeysAtEveryLevel) {
  EXPECT_EQ(errors(R"yaml(pack: x
rulez: []
typologies:
  - id: smuggling_fee
    title: Smuggling fee
    horizon: 30d
    treshold: 40
rules:
  - id: r1
    title: T
    typology: smuggling_fee
    key: receiver.id
    windw: 7d
    when: amount > 1
    severity: low
    weight: 1
)yaml"),
            (Lines{
                "pack.yaml:2:1: error: rule pack: unknown key 'rulez'; allowed: pack, version, "
                "doc, lists, tables, rules, typologies",
                "pack.yaml:4:5: error: typologies[0]: missing required key 'threshold'",
                "pack.yaml:7:5: error: typologies[0]: unknown key 'treshold'; allowed: id, "
                "title, version, doc, horizon, threshold, min_primaries",
                "pack.yaml:13:5: error: rules[0]: unknown key 'windw'; allowed: id, title, "
                "pattern, typology, role, version, doc, key, filter, window, bucket, "
                "aggregate, when, sequence, repeat, escalate, explain, severity, weight, evidence, "
                "suppress",
            }));
}

TEST(RuleLoaderStructureTest, MissingRequiredKeys) {
  EXPECT_EQ(errors("version: 1\nrules: []\n"),
            Lines{"pack.yaml:1:1: error: rule pack: missing required key 'pack'"});
  EXPECT_EQ(errors("pack: x\n"),
            Lines{"pack.yaml:1:1: error: rule pack: missing required key 'rules'"});
  EXPECT_EQ(rule_errors("  - pattern: R1\n"),
            (Lines{
                "pack.yaml:5:5: error: rules[0]: missing required key 'id'",
                "pack.yaml:5:5: error: rules[0]: missing required key 'title'",
                "pack.yaml:5:5: error: rules[0]: missing required key 'typology'",
                "pack.yaml:5:5: error: rules[0]: missing required key 'key'",
                "pack.yaml:5:5: error: rules[0]: missing required key 'when'",
                "pack.yaml:5:5: error: rules[0]: missing required key 'severity'",
                "pack.yaml:5:5: error: rules[0]: missing required key 'weight'",
            }));
  // With an id, messages name the rule.
  EXPECT_EQ(rule_errors("  - id: r1\n    title: T\n    typology: smuggling_fee\n"),
            (Lines{
                "pack.yaml:5:5: error: rule r1: missing required key 'key'",
                "pack.yaml:5:5: error: rule r1: missing required key 'when'",
                "pack.yaml:5:5: error: rule r1: missing required key 'severity'",
                "pack.yaml:5:5: error: rule r1: missing required key 'weight'",
            }));
  EXPECT_EQ(errors("pack: x\ntypologies:\n  - {doc: d}\n"),
            (Lines{
                "pack.yaml:3:5: error: typologies[0]: missing required key 'id'",
                "pack.yaml:3:5: error: typologies[0]: missing required key 'title'",
                "pack.yaml:3:5: error: typologies[0]: missing required key 'horizon'",
                "pack.yaml:3:5: error: typologies[0]: missing required key 'threshold'",
            }));
}

// An empty value is reported at its key (yaml-cpp marks it at the next token).
TEST(RuleLoaderStructureTest, EmptyValuesAtTheirKey) {
  EXPECT_EQ(rule_errors(R"yaml(  - id: r1
    title: T
    typology: smuggling_fee
    key: receiver.id
    when:
    severity: low
    weight: 1
)yaml"),
            Lines{"pack.yaml:9:5: error: rule r1.when: expected text, got nothing (null)"});
}

TEST(RuleLoaderStructureTest, ScalarValues) {
  EXPECT_EQ(rule_errors(R"yaml(  - id: r1
    title: [T]
    typology: smuggling_fee
    role: leader
    version: 0
    key: receiver.id
    when: amount > 1
    severity: severe
    weight: 1001
    evidence: -1
    suppress: 1 day
)yaml"),
            (Lines{
                "pack.yaml:6:12: error: rule r1.title: expected text, got a sequence",
                "pack.yaml:8:11: error: rule r1.role: unknown value 'leader'; allowed: "
                "primary, contributor",
                "pack.yaml:9:14: error: rule r1.version: expected an integer from 1 to 1000000, "
                "got '0'",
                "pack.yaml:12:15: error: rule r1.severity: unknown value 'severe'; allowed: "
                "low, medium, high, critical",
                "pack.yaml:13:13: error: rule r1.weight: expected an integer from 0 to 1000, "
                "got '1001'",
                "pack.yaml:14:15: error: rule r1.evidence: expected an integer from 0 to 1000, "
                "got '-1'",
                "pack.yaml:15:15: error: rule r1.suppress: expected a duration such as 250ms, "
                "30s, 5m, 1h or 7d, got '1 day'",
            }));
  EXPECT_EQ(rule_errors("  - {id: \"\", title: T, typology: smuggling_fee, key: agent, when: "
                        "\"true\", severity: low, weight: 1}\n"),
            Lines{"pack.yaml:5:10: error: rules[0].id: must not be empty"});
}

TEST(RuleLoaderStructureTest, TypologyValues) {
  EXPECT_EQ(
      errors(R"yaml(pack: x
typologies:
  - id: smuggling_fee
    title: Smuggling fee
    horizon: 0s
    threshold: 0
    min_primaries: 101
)yaml"),
      (Lines{
          "pack.yaml:5:14: error: typologies[0].horizon: must be more than 0 and at most 400d "
          "(the state's retention limit)",
          "pack.yaml:6:16: error: typologies[0].threshold: expected an integer from 1 to "
          "1000000, got '0'",
          "pack.yaml:7:20: error: typologies[0].min_primaries: expected an integer from 0 "
          "to 100, got '101'",
      }));
}

// Suppression and typology scores are state kept per key: bounded like windows.
TEST(RuleLoaderStructureTest, StateDurationsWithinTheRetentionLimit) {
  const std::string text = R"yaml(pack: x
typologies:
  - {id: debt_bondage, title: Debt bondage, horizon: 548d, threshold: 1}
rules:
  - id: r1
    title: T
    typology: debt_bondage
    key: agent
    when: "true"
    severity: low
    weight: 1
    suppress: 401d
)yaml";
  EXPECT_EQ(errors(text),
            (Lines{
                "pack.yaml:3:54: error: typologies[0].horizon: must be more than 0 and at most "
                "400d (the state's retention limit)",
                "pack.yaml:12:15: error: rule r1.suppress: must be at most 400d (the state's "
                "retention limit)",
            }));
  // An engine that keeps state longer (rules.max_window) accepts them.
  RuleLoadResult r = parse_rule_pack("pack.yaml", text, 600LL * 86'400'000);
  ASSERT_TRUE(r.rules.has_value()) << config::format_all(r.errors);
  EXPECT_EQ(r.rules->typologies[0].horizon_ms, 548LL * 86'400'000);
  EXPECT_EQ(r.rules->rules[0].suppress_ms, 401LL * 86'400'000);
}

// ---------------------------------------------------------------------------------------
// Ids and references

TEST(RuleLoaderReferenceTest, DuplicateRuleIdInOnePack) {
  EXPECT_EQ(
      rule_errors(
          R"yaml(  - {id: r1, title: T, typology: smuggling_fee, key: agent, when: "true", severity: low, weight: 1}
  - {id: r1, title: U, typology: smuggling_fee, key: agent, when: "true", severity: low, weight: 1}
)yaml"),
      Lines{"pack.yaml:6:10: error: rules[1].id: rule 'r1' is already defined at "
            "pack.yaml:5:10"});
}

TEST(RuleLoaderReferenceTest, DuplicateIdsAcrossPacks) {
  const std::string a = R"yaml(pack: a
lists:
  transit: [LY]
typologies:
  - {id: smuggling_fee, title: Smuggling fee, horizon: 30d, threshold: 1}
rules:
  - {id: r1, title: T, typology: smuggling_fee, key: agent, when: "true", severity: low, weight: 1}
)yaml";
  const std::string b = R"yaml(pack: b
lists:
  transit: [TR]
typologies:
  - {id: smuggling_fee, title: Again, horizon: 30d, threshold: 1}
rules:
  - id: r1
    title: T
    typology: smuggling_fee
    key: agent
    when: "true"
    severity: low
    weight: 1
)yaml";
  RuleLoadResult r = parse_rule_packs({{"a.yaml", a}, {"b.yaml", b}});
  EXPECT_FALSE(r.rules.has_value());
  EXPECT_EQ(formatted(r),
            (Lines{
                "b.yaml:3:3: error: lists.transit: list 'transit' is already defined at "
                "a.yaml:3:3 with different contents",
                "b.yaml:5:10: error: typologies[0].id: typology 'smuggling_fee' is already "
                "defined at a.yaml:5:10",
                "b.yaml:7:9: error: rules[0].id: rule 'r1' is already defined at a.yaml:7:10",
            }));
}

// Packs that share a list or table each declare it, so that each also loads alone: the
// same name with the same contents is one list or table; different contents are an error.
TEST(RuleLoaderReferenceTest, ListsAndTablesDeclaredAlikeInSeveralPacksAreShared) {
  const std::string rules = R"yaml(typologies:
  - {id: t, title: T, horizon: 30d, threshold: 1}
rules:
  - {id: r1, title: T, typology: t, key: agent, when: 'in_list("transit", agent) and lookup("fee", agent) > 1', severity: low, weight: 1}
)yaml";
  // A pack declaring the list `transit` and the table `fee`; the first also has the rule.
  const auto pack = [&](const std::string& name, const std::string& list, const std::string& rows,
                        const std::string& fallback) {
    return "pack: " + name + "\nlists:\n  transit: " + list +
           "\ntables:\n  fee: {keys: [country], default: " + fallback + ", rows: " + rows +
           ", doc: " + name + "'s words}\n" + (name == "a" ? rules : "rules: []\n");
  };
  RuleLoadResult same =
      parse_rule_packs({{"a.yaml", pack("a", "[LY, TR]", "[[BD, 5]]", "1")},
                        {"b.yaml", pack("b", "[TR, LY, TR]", "[[BD, 5.0]]", "1")}});
  ASSERT_TRUE(same.rules.has_value()) << formatted(same).front();
  EXPECT_EQ(same.rules->lists.at("transit"), (std::vector<std::string>{"LY", "TR"}));
  EXPECT_EQ(same.rules->tables.at("fee").rows.size(), 1u);

  RuleLoadResult different = parse_rule_packs({{"a.yaml", pack("a", "[LY]", "[[BD, 5]]", "1")},
                                               {"b.yaml", pack("b", "[LY]", "[[BD, 6]]", "1")},
                                               {"c.yaml", pack("c", "[LY]", "[[BD, 5]]", "2")},
                                               {"d.yaml", pack("d", "[TR]", "[[BD, 5]]", "1")}});
  EXPECT_EQ(formatted(different),
            (Lines{"b.yaml:5:3: error: tables.fee: table 'fee' is already defined at a.yaml:5:3 "
                   "with different contents",
                   "c.yaml:5:3: error: tables.fee: table 'fee' is already defined at a.yaml:5:3 "
                   "with different contents",
                   "d.yaml:3:3: error: lists.transit: list 'transit' is already defined at "
                   "a.yaml:3:3 with different contents"}));
}

TEST(RuleLoaderReferenceTest, DuplicateKeysReportedOnce) {
  EXPECT_EQ(errors(R"yaml(pack: x
lists:
  transit: [LY]
  transit: [TR]
rules: []
)yaml"),
            Lines{"pack.yaml:4:3: error: lists: duplicate key 'transit'"});
  EXPECT_EQ(rule_errors(R"yaml(  - id: r1
    title: T
    typology: smuggling_fee
    key: agent
    window: 1h
    aggregate:
      total: sum(amount)
      total: count()
    when: total > 1
    severity: low
    weight: 1
)yaml"),
            Lines{"pack.yaml:12:7: error: rule r1.aggregate: duplicate key 'total'"});
}

TEST(RuleLoaderReferenceTest, UnknownTypology) {
  EXPECT_EQ(errors(R"yaml(pack: x
typologies:
  - {id: smuggling_fee, title: Smuggling fee, horizon: 30d, threshold: 1}
  - {id: debt_bondage, title: Debt bondage, horizon: 30d, threshold: 1}
rules:
  - id: r1
    title: T
    typology: smugling_fee
    key: agent
    when: "true"
    severity: low
    weight: 1
)yaml"),
            Lines{"pack.yaml:8:15: error: rule r1.typology: no typology 'smugling_fee' is "
                  "defined; defined: smuggling_fee, debt_bondage"});
  EXPECT_EQ(errors(R"yaml(pack: x
rules:
  - {id: r1, title: T, typology: smuggling_fee, key: agent, when: "true", severity: low, weight: 1}
)yaml"),
            Lines{"pack.yaml:3:34: error: rule r1.typology: no typology 'smuggling_fee' is "
                  "defined"});
}

// Checked once everything else is valid: a typology that can never alert is a mistake.
TEST(RuleLoaderReferenceTest, TypologiesThatCanNeverAlert) {
  EXPECT_EQ(errors(R"yaml(pack: x
typologies:
  - {id: smuggling_fee, title: Smuggling fee, horizon: 30d, threshold: 1}
  - {id: debt_bondage, title: Debt bondage, horizon: 30d, threshold: 100, min_primaries: 2}
rules:
  - {id: r1, title: T, typology: debt_bondage, key: agent, when: "true", severity: low, weight: 60}
  - {id: r2, title: T, typology: debt_bondage, role: contributor, key: agent, when: "true", severity: low, weight: 30}
)yaml"),
            (Lines{
                "pack.yaml:3:10: error: typology smuggling_fee: no rule names this typology, "
                "so it can never alert",
                "pack.yaml:4:10: error: typology debt_bondage: can never alert: the weights of "
                "its rules add up to 90, below its threshold 100",
                "pack.yaml:4:10: error: typology debt_bondage: can never alert: min_primaries "
                "is 2 but only 1 of its rules is primary",
            }));
}

TEST(RuleLoaderReferenceTest, ErrorsSortedByFileThenPosition) {
  const std::string bad = "pack: b\nrules:\n  - {id: r9}\n";
  RuleLoadResult r = parse_rule_packs({{"z.yaml", bad}, {"a.yaml", "rules: []\n"}});
  const Lines lines = formatted(r);
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[0], "z.yaml:3:5: error: rule r9: missing required key 'title'");
  EXPECT_EQ(lines[5], "z.yaml:3:5: error: rule r9: missing required key 'weight'");
  EXPECT_EQ(lines[6], "a.yaml:1:1: error: rule pack: missing required key 'pack'");
}

// ---------------------------------------------------------------------------------------
// Keys

TEST(RuleLoaderKeyTest, BadKeyFields) {
  auto key_error = [](const std::string& key) {
    return rule_errors("  - id: r1\n    title: T\n    typology: smuggling_fee\n    key: " + key +
                       "\n    when: \"true\"\n    severity: low\n    weight: 1\n");
  };
  const std::string hint =
      "; a key is account, an id-like field (sender.id, receiver.id, agent, sender.device, "
      "sender.phone, receiver.account, ...) or a list of them";
  EXPECT_EQ(key_error("labels"),
            Lines{"pack.yaml:8:10: error: rule r1.key: labels are ground truth for backtests "
                  "and never read by rules"});
  EXPECT_EQ(key_error("labels.scenario"),
            Lines{"pack.yaml:8:10: error: rule r1.key: labels are ground truth for backtests "
                  "and never read by rules"});
  EXPECT_EQ(key_error("ts"),
            Lines{"pack.yaml:8:10: error: rule r1.key: 'ts' cannot key state" + hint});
  EXPECT_EQ(key_error("amount"),
            Lines{"pack.yaml:8:10: error: rule r1.key: 'amount' cannot key state" + hint});
  EXPECT_EQ(key_error("kind"),
            Lines{"pack.yaml:8:10: error: rule r1.key: 'kind' cannot key state" + hint});
  EXPECT_EQ(key_error("id"),
            Lines{"pack.yaml:8:10: error: rule r1.key: 'id' cannot key state" + hint});
  EXPECT_EQ(key_error("currency"),
            Lines{"pack.yaml:8:10: error: rule r1.key: 'currency' cannot key state" + hint});
  EXPECT_EQ(
      key_error("sender.iban"),
      Lines{"pack.yaml:8:10: error: rule r1.key: 'sender.iban' is not an event field" + hint});
  EXPECT_EQ(
      key_error("[agent, receiver.ID]"),
      Lines{"pack.yaml:8:18: error: rule r1.key: 'receiver.ID' is not an event field" + hint});
  EXPECT_EQ(key_error("[]"), Lines{"pack.yaml:8:10: error: rule r1.key: an empty composite key"});
  EXPECT_EQ(key_error("{field: agent}"),
            Lines{"pack.yaml:8:10: error: rule r1.key: expected text, got a mapping"});
}

TEST(RuleLoaderKeyTest, IdentifyingFieldsKeyState) {
  for (const std::string key : {"channel", "agent", "purpose", "sender.device", "sender.phone",
                                "receiver.address", "receiver.employer", "[sender.phone, agent]"}) {
    SCOPED_TRACE(key);
    RuleLoadResult r = parse_rule_pack(
        "pack.yaml", kHead + "  - {id: r1, title: T, typology: smuggling_fee, key: " + key +
                         ", when: \"true\", severity: low, weight: 1}\n");
    EXPECT_TRUE(r.rules.has_value()) << config::format_all(r.errors);
  }
}

// direction and counterparty.* exist only where a transfer has two sides: key: account.
TEST(RuleLoaderKeyTest, AccountNamesOnlyForAccountKeys) {
  const std::string account_rule = R"yaml(  - id: r1
    title: T
    typology: smuggling_fee
    key: account
    filter: direction == "out" and counterparty.country != sender.country
    when: direction == "out"
    severity: low
    weight: 1
)yaml";
  RuleLoadResult ok = parse_rule_pack("pack.yaml", kHead + account_rule);
  EXPECT_TRUE(ok.rules.has_value()) << config::format_all(ok.errors);

  std::string receiver_rule = account_rule;
  receiver_rule.replace(receiver_rule.find("key: account"), 12, "key: receiver.id");
  EXPECT_EQ(rule_errors(receiver_rule),
            (Lines{
                "pack.yaml:9:13: error: rule r1.filter: unknown name 'direction'; known here: " +
                    kEventNames,
                "pack.yaml:9:36: error: rule r1.filter: unknown name 'counterparty.country'; "
                "known here: " +
                    kEventNames,
                "pack.yaml:10:11: error: rule r1.when: unknown name 'direction'; known here: " +
                    kEventNames,
            }));
  // A counterparty the account rule does not have.
  std::string typo = account_rule;
  typo.replace(typo.find("counterparty.country"), 20, "counterparty.iban   ");
  EXPECT_EQ(rule_errors(typo),
            Lines{"pack.yaml:9:36: error: rule r1.filter: unknown name 'counterparty.iban'; "
                  "known here: " +
                  kEventNames + ", direction, counterparty.{id,country,city,...}"});
  // Enumerations are checked: direction is "in", "out" or "self".
  std::string inward = account_rule;
  inward.replace(inward.find("\"out\""), 5, "\"inn\"");
  EXPECT_EQ(rule_errors(inward), Lines{"pack.yaml:9:26: error: rule r1.filter: 'inn' is not a "
                                       "value of direction; allowed: in, out, self"});
}

// ---------------------------------------------------------------------------------------
// Windows and buckets

Lines window_errors(const std::string& lines, int64_t max_window_ms = 400LL * 86'400'000) {
  const std::string text = kHead +
                           "  - id: r1\n    title: T\n    typology: smuggling_fee\n"
                           "    key: agent\n" +
                           lines + "    when: \"true\"\n    severity: low\n    weight: 1\n";
  RuleLoadResult r = parse_rule_pack("pack.yaml", text, max_window_ms);
  EXPECT_FALSE(r.rules.has_value());
  return formatted(r);
}

TEST(RuleLoaderWindowTest, WindowLimits) {
  EXPECT_EQ(window_errors("    window: 401d\n    aggregate: {n: count()}\n"),
            Lines{"pack.yaml:9:13: error: rule r1.window: must be more than 0 and at most 400d "
                  "(the state's retention limit)"});
  EXPECT_EQ(window_errors("    window: 37h\n    aggregate: {n: count()}\n", 36 * 3'600'000LL),
            Lines{"pack.yaml:9:13: error: rule r1.window: must be more than 0 and at most 36h "
                  "(the state's retention limit)"});
  EXPECT_EQ(window_errors("    window: 0ms\n    aggregate: {n: count()}\n"),
            Lines{"pack.yaml:9:13: error: rule r1.window: must be more than 0 and at most 400d "
                  "(the state's retention limit)"});
  EXPECT_EQ(window_errors("    window: 7 days\n    aggregate: {n: count()}\n"),
            Lines{"pack.yaml:9:13: error: rule r1.window: expected a duration such as 250ms, "
                  "30s, 5m, 1h or 7d, got '7 days'"});
}

TEST(RuleLoaderWindowTest, Buckets) {
  EXPECT_EQ(window_errors("    window: 10s\n    aggregate: {n: count()}\n"),
            Lines{"pack.yaml:9:13: error: rule r1.window: 10s does not divide into 48 buckets "
                  "of whole milliseconds (the default granularity); give `bucket`"});
  EXPECT_EQ(window_errors("    window: 7d\n    bucket: 5h\n    aggregate: {n: count()}\n"),
            Lines{"pack.yaml:10:13: error: rule r1.bucket: must divide the window (7d) into "
                  "whole buckets"});
  EXPECT_EQ(window_errors("    window: 7d\n    bucket: 8d\n    aggregate: {n: count()}\n"),
            Lines{"pack.yaml:10:13: error: rule r1.bucket: must divide the window (7d) into "
                  "whole buckets"});
  EXPECT_EQ(window_errors("    window: 7d\n    bucket: 0s\n    aggregate: {n: count()}\n"),
            Lines{"pack.yaml:10:13: error: rule r1.bucket: must divide the window (7d) into "
                  "whole buckets"});
  EXPECT_EQ(window_errors("    bucket: 1h\n"),
            Lines{"pack.yaml:9:13: error: rule r1.bucket: a bucket divides a `window`; this "
                  "rule has none"});
  // A window that is itself wrong gets one error, not a second about its bucket.
  EXPECT_EQ(window_errors("    window: 500d\n    bucket: 7h\n    aggregate: {n: count()}\n"),
            Lines{"pack.yaml:9:13: error: rule r1.window: must be more than 0 and at most 400d "
                  "(the state's retention limit)"});

  // 10s with an explicit bucket loads.
  const std::string text = kHead + R"yaml(  - id: r1
    title: T
    typology: smuggling_fee
    key: agent
    window: 10s
    bucket: 500ms
    aggregate: {n: count()}
    when: n > 2
    severity: low
    weight: 1
)yaml";
  RuleLoadResult r = parse_rule_pack("pack.yaml", text);
  ASSERT_TRUE(r.rules.has_value()) << config::format_all(r.errors);
  EXPECT_EQ(r.rules->rules[0].window.bucket_ms, 500);
}

TEST(RuleLoaderWindowTest, WindowAndAggregatesGoTogether) {
  EXPECT_EQ(window_errors("    window: 7d\n"),
            Lines{"pack.yaml:9:13: error: rule r1.window: a window without aggregates keeps "
                  "nothing; add `aggregate` or remove `window`"});
  // Without a window the aggregates are still checked, and `when` still sees them.
  EXPECT_EQ(rule_errors(R"yaml(  - id: r1
    title: T
    typology: smuggling_fee
    key: agent
    aggregate:
      n: count()
      total: sum(sender.id)
    when: n > 2 and total > 5 and bogus
    severity: low
    weight: 1
)yaml"),
            (Lines{
                "pack.yaml:9:5: error: rule r1.aggregate: aggregates need a `window`",
                "pack.yaml:11:18: error: rule r1.aggregate.total: sum() needs an exact number "
                "(integer, decimal or duration), got string",
                // `total` failed on its own; `bogus` is a mistake of `when`'s own.
                "pack.yaml:12:35: error: rule r1.when: unknown name 'bogus'; known here: n, " +
                    kEventNames,
            }));
}

// ---------------------------------------------------------------------------------------
// Aggregates

// One aggregate on line 11 of a 7d rule whose `when` is line 12.
Lines aggregate_errors(const std::string& aggregate, const std::string& when = "\"true\"") {
  return rule_errors(
      "  - id: r1\n    title: T\n    typology: smuggling_fee\n    key: agent\n"
      "    window: 7d\n    aggregate:\n      " +
      aggregate + "\n    when: " + when + "\n    severity: low\n    weight: 1\n");
}

TEST(RuleLoaderAggregateTest, UnknownFunction) {
  EXPECT_EQ(aggregate_errors("mid: median(amount)"),
            Lines{"pack.yaml:11:12: error: rule r1.aggregate.mid: unknown aggregate 'median'; "
                  "aggregates: count, sum, min, max, mean, stddev, cv, distinct, last, share, "
                  "ratio, max_by, mode, mode_share"});
  EXPECT_EQ(aggregate_errors("total: amount"),
            Lines{"pack.yaml:11:14: error: rule r1.aggregate.total: expected an aggregate call "
                  "such as sum(amount_base), got the name 'amount'"});
  EXPECT_EQ(aggregate_errors("total: sum(amount) if amount > 5"),
            Lines{"pack.yaml:11:26: error: rule r1.aggregate.total: unexpected 'if'; an "
                  "aggregate is a call, optionally followed by `where` and a condition"});
}

// A window state holds at most 16 aggregates; ratios keep no state of their own, and a rule
// has at most 32 in all. Reported at load, before the engine starts.
TEST(RuleLoaderAggregateTest, AtMostSixteenAggregatesOverAWindow) {
  std::string sixteen, seventeen;
  for (int i = 0; i < 16; ++i) sixteen += "a" + std::to_string(i) + ": sum(amount)\n      ";
  seventeen = sixteen + "a16: count()";
  const RuleLoadResult ok = parse_rule_pack(
      "pack.yaml", kHead +
                       "  - id: r1\n    title: T\n    typology: smuggling_fee\n    key: agent\n"
                       "    window: 7d\n    aggregate:\n      " +
                       sixteen +
                       "r: ratio(a0, a1)\n    when: a0 > 0\n    severity: low\n"
                       "    weight: 1\n");
  EXPECT_TRUE(ok.rules.has_value()) << config::format_all(ok.errors);
  EXPECT_EQ(aggregate_errors(seventeen),
            Lines{"pack.yaml:11:7: error: rule r1.aggregate: at most 16 aggregates over a window "
                  "(ratios not counted); this rule has 17"});
  std::string ratios;  // 16 sums and 17 ratios of them: 33 in all
  for (int i = 0; i < 17; ++i)
    ratios += "\n      r" + std::to_string(i) + ": ratio(a" + std::to_string(i % 16) + ", a0)";
  EXPECT_EQ(aggregate_errors(sixteen + ratios.substr(7)),
            Lines{"pack.yaml:11:7: error: rule r1.aggregate: at most 32 aggregates with the "
                  "ratios; this rule has 33"});
}

TEST(RuleLoaderAggregateTest, MaxByAndModeLoad) {
  RuleLoadResult r = parse_rule_pack("pack.yaml", kHead + R"yaml(  - id: r1
    title: T
    typology: smuggling_fee
    key: receiver.id
    window: 7d
    aggregate:
      senders: distinct(sender.id)
      top_employer: max_by(sender.employer, distinct(sender.id))
      to_one: max_by(sender.id, count()) where kind == "remittance"
      most_from_one: max_by(sender.id, sum(amount_base))
      near: mode_share(amount_base, 0.1)
      modal: mode(amount_base, 0.1)
      exact_modal: mode(amount_base, 0)
      anything: mode_share(amount_base, 1)
    when: senders >= 5 and top_employer >= 0.6 * senders and near >= 0.8 and modal > 100
    severity: low
    weight: 1
)yaml");
  ASSERT_TRUE(r.rules.has_value()) << config::format_all(r.errors);
  const std::vector<Aggregate>& a = r.rules->rules.at(0).aggregates;
  ASSERT_EQ(a.size(), 8u);
  struct Expected {
    const char* name;
    AggregateKind kind;
    Type result;
    bool group;
    bool argument;
    uint32_t tolerance;
  };
  const Expected expected[] = {
      {"top_employer", AggregateKind::max_by_distinct, Type::integer, true, true, 0},
      {"to_one", AggregateKind::max_by_sum, Type::integer, true, false, 0},
      {"most_from_one", AggregateKind::max_by_sum, Type::decimal, true, true, 0},
      {"near", AggregateKind::mode, Type::number, false, true, 1'000},
      {"modal", AggregateKind::mode, Type::decimal, false, true, 1'000},
      {"exact_modal", AggregateKind::mode, Type::decimal, false, true, 0},
      {"anything", AggregateKind::mode, Type::number, false, true, 10'000},
  };
  for (size_t i = 0; i < std::size(expected); ++i) {
    SCOPED_TRACE(expected[i].name);
    const Aggregate& g = a[i + 1];
    EXPECT_EQ(g.name, expected[i].name);
    EXPECT_EQ(g.spec.kind, expected[i].kind);
    EXPECT_EQ(g.result_type, expected[i].result);
    EXPECT_EQ(g.group.has_value(), expected[i].group);
    EXPECT_EQ(g.argument.has_value(), expected[i].argument);
    EXPECT_EQ(g.spec.tolerance, expected[i].tolerance);
    // The engine config's rules.group_exact_bound replaces it; distinct keeps its own.
    EXPECT_EQ(g.spec.exact_bound, window::kDefaultGroupExactBound);
  }
  EXPECT_EQ(a[0].spec.exact_bound, 64u);
  EXPECT_EQ(a[1].argument_type, Type::string);  // distinct's values are hashed as strings
  EXPECT_TRUE(a[2].predicate.has_value());
  EXPECT_EQ(a[2].group->type(), Type::string);
}

TEST(RuleLoaderAggregateTest, MaxByErrors) {
  EXPECT_EQ(aggregate_errors("top: max_by(sender.employr, count())"),
            Lines{"pack.yaml:11:19: error: rule r1.aggregate.top: unknown name 'sender.employr'; "
                  "known here: " +
                  kEventNames});
  EXPECT_EQ(aggregate_errors("top: max_by(sender.employer)"),
            Lines{"pack.yaml:11:12: error: rule r1.aggregate.top: max_by(group, total) takes 2 "
                  "arguments, got 1; the total is sum(x), count() or distinct(x)"});
  EXPECT_EQ(aggregate_errors("top: max_by(sender.employer, count(), sum(amount))"),
            Lines{"pack.yaml:11:12: error: rule r1.aggregate.top: max_by(group, total) takes 2 "
                  "arguments, got 3; the total is sum(x), count() or distinct(x)"});
  EXPECT_EQ(aggregate_errors("top: max_by(sender.employer, mean(amount))"),
            Lines{"pack.yaml:11:36: error: rule r1.aggregate.top: max_by() totals each group "
                  "with sum(x), count() or distinct(x), such as max_by(counterparty.id, "
                  "sum(amount_base))"});
  EXPECT_EQ(aggregate_errors("top: max_by(sender.employer, sum())"),
            Lines{"pack.yaml:11:36: error: rule r1.aggregate.top: sum() takes 1 argument, got 0"});
  EXPECT_EQ(aggregate_errors("top: max_by(sender.employer, count(amount))"),
            Lines{"pack.yaml:11:36: error: rule r1.aggregate.top: count() takes no argument, "
                  "got 1"});
  EXPECT_EQ(aggregate_errors("top: max_by(amount, count())"),
            Lines{"pack.yaml:11:19: error: rule r1.aggregate.top: max_by() groups by a string "
                  "such as counterparty.id, got decimal"});
  EXPECT_EQ(aggregate_errors("top: max_by(sender.id, sum(sender.city))"),
            Lines{"pack.yaml:11:34: error: rule r1.aggregate.top: sum() needs an exact number "
                  "(integer or decimal), got string"});
  EXPECT_EQ(aggregate_errors("top: max_by(sender.id, distinct(is_new_pair))"),
            Lines{"pack.yaml:11:39: error: rule r1.aggregate.top: distinct() needs a string or "
                  "an exact number, got boolean"});
  EXPECT_EQ(aggregate_errors("top: max_by(sender.id, count()) where amount"),
            Lines{"pack.yaml:11:45: error: rule r1.aggregate.top: expected a boolean "
                  "expression, got decimal"});
  // A max_by is no sum for ratio(), and its result is typed in `when`.
  EXPECT_EQ(aggregate_errors("top: max_by(sender.id, sum(amount))", "top == \"x\""),
            Lines{"pack.yaml:12:15: error: rule r1.when: cannot compare decimal with string"});
}

TEST(RuleLoaderAggregateTest, ModeErrors) {
  EXPECT_EQ(aggregate_errors("near: mode_share(amount_base)"),
            Lines{"pack.yaml:11:13: error: rule r1.aggregate.near: mode_share(x, tolerance) "
                  "takes 2 arguments, got 1"});
  EXPECT_EQ(aggregate_errors("near: mode(amount_base, 0.1, 0.2)"),
            Lines{"pack.yaml:11:13: error: rule r1.aggregate.near: mode(x, tolerance) takes 2 "
                  "arguments, got 3"});
  const std::string tolerance =
      "() takes a tolerance from 0 to 1 written as a literal, such as 0.1 for ±10 % of the "
      "modal value";
  EXPECT_EQ(aggregate_errors("near: mode_share(amount_base, 1.5)"),
            Lines{"pack.yaml:11:37: error: rule r1.aggregate.near: mode_share" + tolerance +
                  "; got 1.5"});
  EXPECT_EQ(aggregate_errors("near: mode_share(amount_base, 1.0001)"),
            Lines{"pack.yaml:11:37: error: rule r1.aggregate.near: mode_share" + tolerance +
                  "; got 1.0001"});
  EXPECT_EQ(aggregate_errors("near: mode(amount_base, 2)"),
            Lines{"pack.yaml:11:31: error: rule r1.aggregate.near: mode" + tolerance + "; got 2"});
  EXPECT_EQ(aggregate_errors("near: mode_share(amount_base, -0.1)"),
            Lines{"pack.yaml:11:37: error: rule r1.aggregate.near: mode_share" + tolerance});
  EXPECT_EQ(aggregate_errors("near: mode_share(amount_base, 0.1 * 2)"),
            Lines{"pack.yaml:11:37: error: rule r1.aggregate.near: mode_share" + tolerance});
  EXPECT_EQ(aggregate_errors("near: mode(sender.id, 0.1)"),
            Lines{"pack.yaml:11:18: error: rule r1.aggregate.near: mode() needs an integer or a "
                  "decimal, got string"});
  EXPECT_EQ(aggregate_errors("near: mode_share(ts, 0.1)"),
            Lines{"pack.yaml:11:24: error: rule r1.aggregate.near: mode_share() needs an "
                  "integer or a decimal, got time"});
  EXPECT_EQ(aggregate_errors("near: mode_share(amont, 0.1)"),
            Lines{"pack.yaml:11:24: error: rule r1.aggregate.near: unknown name 'amont'; known "
                  "here: " +
                  kEventNames});
  // mode_share is a number, mode the argument's type.
  EXPECT_EQ(aggregate_errors("near: mode(amount_base, 0.1)", "near == 0.5 or near == \"x\""),
            Lines{"pack.yaml:12:31: error: rule r1.when: cannot compare decimal with string"});
}

TEST(RuleLoaderAggregateTest, ArgumentCounts) {
  EXPECT_EQ(aggregate_errors("total: sum()"),
            Lines{"pack.yaml:11:14: error: rule r1.aggregate.total: sum() takes 1 argument, "
                  "got 0"});
  EXPECT_EQ(aggregate_errors("senders: distinct(sender.id, sender.city)"),
            Lines{"pack.yaml:11:16: error: rule r1.aggregate.senders: distinct() takes 1 "
                  "argument, got 2"});
  EXPECT_EQ(aggregate_errors("n: count(is_new_pair)"),
            Lines{"pack.yaml:11:10: error: rule r1.aggregate.n: count() takes no argument, got "
                  "1; to count the events that match a condition write `count() where "
                  "<condition>`"});
}

TEST(RuleLoaderAggregateTest, ArgumentTypes) {
  EXPECT_EQ(aggregate_errors("total: sum(sender.id)"),
            Lines{"pack.yaml:11:18: error: rule r1.aggregate.total: sum() needs an exact number "
                  "(integer, decimal or duration), got string"});
  EXPECT_EQ(aggregate_errors("top: max(amount / 2)"),
            Lines{"pack.yaml:11:16: error: rule r1.aggregate.top: max() needs an exact number "
                  "(integer, decimal, time or duration), got number"});
  EXPECT_EQ(aggregate_errors("flagged: share(amount)"),
            Lines{"pack.yaml:11:22: error: rule r1.aggregate.flagged: share() needs a condition "
                  "(boolean), got decimal"});
  EXPECT_EQ(aggregate_errors("kinds: distinct(is_new_pair)"),
            Lines{"pack.yaml:11:23: error: rule r1.aggregate.kinds: distinct() needs a string or "
                  "an exact number, got boolean"});
  EXPECT_EQ(aggregate_errors("when_sum: sum(ts)"),
            Lines{"pack.yaml:11:21: error: rule r1.aggregate.when_sum: sum() needs an exact "
                  "number or a duration (times cannot be summed or averaged), got time"});
  EXPECT_EQ(aggregate_errors("average_ts: mean(ts)"),
            Lines{"pack.yaml:11:24: error: rule r1.aggregate.average_ts: mean() needs an exact "
                  "number or a duration (times cannot be summed or averaged), got time"});
  // Errors inside the argument and the `where` condition, at their token.
  EXPECT_EQ(aggregate_errors("total: sum(amount_base) where kind == \"wire\""),
            Lines{"pack.yaml:11:45: error: rule r1.aggregate.total: 'wire' is not a value of kind; "
                  "allowed: transfer, remittance, cash_in, cash_out, salary, fee, card"});
  EXPECT_EQ(aggregate_errors("total: sum(amount_base) where amount"),
            Lines{"pack.yaml:11:37: error: rule r1.aggregate.total: expected a boolean "
                  "expression, got decimal"});
  EXPECT_EQ(aggregate_errors("total: sum(amont)"),
            Lines{"pack.yaml:11:18: error: rule r1.aggregate.total: unknown name 'amont'; "
                  "known here: " +
                  kEventNames});
}

TEST(RuleLoaderAggregateTest, Ratios) {
  auto ratio_errors = [](const std::string& ratio) {
    return rule_errors(R"yaml(  - id: r1
    title: T
    typology: smuggling_fee
    key: account
    window: 48h
    aggregate:
      inflow: sum(amount_base) where direction == "in"
      outflow: sum(amount_base) where direction == "out"
      n: count()
      )yaml" + ratio + R"yaml(
    when: "true"
    severity: low
    weight: 1
)yaml");
  };
  EXPECT_EQ(ratio_errors("out_in: ratio(n, inflow)"),
            Lines{"pack.yaml:14:21: error: rule r1.aggregate.out_in: ratio() divides two sum "
                  "aggregates; 'n' is a count"});
  EXPECT_EQ(ratio_errors("out_in: ratio(outflow, infow)"),
            Lines{"pack.yaml:14:30: error: rule r1.aggregate.out_in: 'infow' is not an "
                  "aggregate of this rule; its sum aggregates: inflow, outflow"});
  EXPECT_EQ(ratio_errors("out_in: ratio(outflow)"),
            Lines{"pack.yaml:14:15: error: rule r1.aggregate.out_in: ratio(a, b) takes the names "
                  "of two sum aggregates of this rule, and no `where`"});
  EXPECT_EQ(ratio_errors("out_in: ratio(outflow, inflow) where amount > 5"),
            Lines{"pack.yaml:14:15: error: rule r1.aggregate.out_in: ratio(a, b) takes the names "
                  "of two sum aggregates of this rule, and no `where`"});
  EXPECT_EQ(ratio_errors("out_in: ratio(outflow, inflow * 2)"),
            Lines{"pack.yaml:14:15: error: rule r1.aggregate.out_in: ratio(a, b) takes the names "
                  "of two sum aggregates of this rule, and no `where`"});
}

TEST(RuleLoaderAggregateTest, Names) {
  EXPECT_EQ(aggregate_errors("in: count()"),
            Lines{"pack.yaml:11:7: error: rule r1.aggregate.in: 'in' is a keyword of the "
                  "expression language; choose another name"});
  EXPECT_EQ(aggregate_errors("amount: sum(amount)"),
            Lines{"pack.yaml:11:7: error: rule r1.aggregate.amount: 'amount' already names a "
                  "value of the event in expressions; choose another name"});
  EXPECT_EQ(aggregate_errors("is_new_pair: count()"),
            Lines{"pack.yaml:11:7: error: rule r1.aggregate.is_new_pair: 'is_new_pair' already "
                  "names a value of the event in expressions; choose another name"});
  EXPECT_EQ(aggregate_errors("key: count()"),
            Lines{"pack.yaml:11:7: error: rule r1.aggregate.key: 'key' is an `explain` "
                  "placeholder ({key}); choose another name"});
  EXPECT_EQ(aggregate_errors("2nd: count()"),
            Lines{"pack.yaml:11:7: error: rule r1.aggregate.2nd: an aggregate name is a letter "
                  "followed by letters, digits or _ (it is used in `when`)"});
  EXPECT_EQ(rule_errors(R"yaml(  - id: r1
    title: T
    typology: smuggling_fee
    key: agent
    window: 7d
    aggregate: [count()]
    when: "true"
    severity: low
    weight: 1
)yaml"),
            Lines{"pack.yaml:10:16: error: rule r1.aggregate: expected a mapping, got a "
                  "sequence"});
}

// `when` sees the aggregates with their result types.
TEST(RuleLoaderAggregateTest, AggregatesInWhenAreTyped) {
  const std::string aggregates =
      "senders: distinct(sender.id)\n      total_count: count()\n      total: sum(amount_base)\n"
      "      spread: cv(amount_base)\n      first: min(ts)";
  auto when_errors = [&](const std::string& when) { return aggregate_errors(aggregates, when); };
  auto loads = [&](const std::string& when) {
    RuleLoadResult r =
        parse_rule_pack("pack.yaml", kHead +
                                         "  - id: r1\n    title: T\n    typology: smuggling_fee\n"
                                         "    key: agent\n    window: 7d\n    aggregate:\n      " +
                                         aggregates + "\n    when: " + when +
                                         "\n    severity: low\n    weight: 1\n");
    return r.errors.empty() ? std::string("ok") : config::format_all(r.errors);
  };
  EXPECT_EQ(loads("senders >= 0.8 * total_count"), "ok");
  EXPECT_EQ(loads("total / total_count > 250 and spread < 0.2"), "ok");
  EXPECT_EQ(loads("ts - first < 24h and total >= 2999.99"), "ok");
  // The `when` line is 16 here (5 aggregate lines); its value starts at column 11.
  EXPECT_EQ(when_errors("senders == \"x\""),
            Lines{"pack.yaml:16:19: error: rule r1.when: cannot compare integer with string"});
  EXPECT_EQ(when_errors("first > 5"),
            Lines{"pack.yaml:16:17: error: rule r1.when: cannot compare time with integer"});
  EXPECT_EQ(when_errors("total"),
            Lines{"pack.yaml:16:11: error: rule r1.when: expected a boolean expression, got "
                  "decimal"});
  EXPECT_EQ(when_errors("sendrs > 5"),
            Lines{"pack.yaml:16:11: error: rule r1.when: unknown name 'sendrs'; known here: "
                  "senders, total_count, total, spread, first, " +
                  kEventNames});
}

// An aggregate that failed is not reported again where `when` or `explain` names it.
TEST(RuleLoaderAggregateTest, NoCascadeFromFailedAggregates) {
  EXPECT_EQ(rule_errors(R"yaml(  - id: r1
    title: T
    typology: smuggling_fee
    key: agent
    window: 7d
    aggregate:
      senders: distinct(sender.id)
      total: sum(sender.name)
      share_new: ratio(total, senders)
    when: total > 5 and share_new > 0.5 and senders > 2
    explain: "{total} from {senders}"
    severity: low
    weight: 1
)yaml"),
            (Lines{
                "pack.yaml:12:18: error: rule r1.aggregate.total: sum() needs an exact number "
                "(integer, decimal or duration), got string",
                // ratio(total, senders): only the second argument is a new problem.
                "pack.yaml:13:31: error: rule r1.aggregate.share_new: ratio() divides two sum "
                "aggregates; 'senders' is a distinct",
            }));
}

// ---------------------------------------------------------------------------------------
// Expressions: names, lists, explain

TEST(RuleLoaderExpressionTest, UnknownNamesAndLists) {
  auto filter_errors = [](const std::string& filter) {
    return rule_errors(
        "  - id: r1\n    title: T\n    typology: smuggling_fee\n    key: receiver.id\n"
        "    filter: " +
        filter + "\n    when: \"true\"\n    severity: low\n    weight: 1\n");
  };
  EXPECT_EQ(
      filter_errors("sender.town == \"Sylhet\""),
      Lines{"pack.yaml:9:13: error: rule r1.filter: unknown name 'sender.town'; known here: " +
            kEventNames});
  EXPECT_EQ(
      filter_errors("labels.role == \"collector\""),
      Lines{"pack.yaml:9:13: error: rule r1.filter: unknown name 'labels.role'; known here: " +
            kEventNames});
  EXPECT_EQ(filter_errors("in_list(\"transit\", receiver.country)"),
            Lines{"pack.yaml:9:21: error: rule r1.filter: no list named 'transit'"});
  EXPECT_EQ(filter_errors("median(amount) > 5"),
            Lines{"pack.yaml:9:13: error: rule r1.filter: unknown function 'median'; functions: "
                  "in_list, lookup, coalesce, is_round, near_below, abs, min, max"});
  EXPECT_EQ(filter_errors("amount_base"),
            Lines{"pack.yaml:9:13: error: rule r1.filter: expected a boolean expression, got "
                  "decimal"});
  EXPECT_EQ(filter_errors("kind == \"wire\""),
            Lines{"pack.yaml:9:21: error: rule r1.filter: 'wire' is not a value of kind; allowed: "
                  "transfer, remittance, cash_in, cash_out, salary, fee, card"});
}

// The diagnostics of `pack`, a pack that must not load, read as pack.yaml in `dir` (beside
// its list and table files).
Lines errors_in(const TempDir& dir, const std::string& pack) {
  RuleLoadResult r = parse_rule_pack((dir.path() / "pack.yaml").string(), pack);
  EXPECT_FALSE(r.rules.has_value()) << "the pack loaded";
  return formatted(r);
}

// The error for a list or table file of `dir` that cannot be read, at `at` in its pack.
std::string cannot_read(const TempDir& dir, const std::string& at, const std::string& what,
                        const std::string& file, const std::string& reason) {
  return (dir.path() / "pack.yaml").string() + ":" + at + ": error: " + what + ": cannot read " +
         (what.starts_with("lists.") ? "list" : "table") + " file " + (dir.path() / file).string() +
         ": " + reason;
}

TEST(RuleLoaderExpressionTest, ListFiles) {
  TempDir dir;
  fs::create_directories(dir.path() / "lists/corridors.txt");  // a folder, not a file
  const std::string pack = R"yaml(pack: x
lists:
  corridors: lists/corridors.txt
  missing: nowhere.txt
  nested: [[LY]]
rules: []
)yaml";
  const std::string p = (dir.path() / "pack.yaml").string();
  EXPECT_EQ(
      errors_in(dir, pack),
      (Lines{
          cannot_read(dir, "3:14", "lists.corridors", "lists/corridors.txt", "it is a directory"),
          cannot_read(dir, "4:12", "lists.missing", "nowhere.txt", "No such file or directory"),
          p + ":5:12: error: lists.nested: expected text, got a sequence",
      }));
}

// A condition's mistakes are all reported in one run: each term of an `and`/`or` chain is
// checked alone, at its own position.
TEST(RuleLoaderExpressionTest, EveryTermOfAConditionReportsItsMistake) {
  EXPECT_EQ(
      rule_errors(R"yaml(  - id: r1
    title: T
    typology: smuggling_fee
    key: receiver.id
    filter: sender.amount > 1 and (receiver.iban == "x" or foo(1)) and kind != "cashin"
    when: abs("x") > 1 and "true" and is_round(amount_base, receiver.id) and max(1, "y") > 0
    severity: low
    weight: 1
)yaml"),
      (Lines{
          "pack.yaml:9:13: error: rule r1.filter: unknown name 'sender.amount'; known "
          "here: " +
              kEventNames,
          "pack.yaml:9:36: error: rule r1.filter: unknown name 'receiver.iban'; known "
          "here: " +
              kEventNames,
          "pack.yaml:9:60: error: rule r1.filter: unknown function 'foo'; functions: in_list, "
          "lookup, coalesce, is_round, near_below, abs, min, max",
          "pack.yaml:9:80: error: rule r1.filter: 'cashin' is not a value of kind; allowed: "
          "transfer, remittance, cash_in, cash_out, salary, fee, card",
          // Wrong argument types are located at the argument.
          "pack.yaml:10:15: error: rule r1.when: abs() needs a number, got string",
          "pack.yaml:10:28: error: rule r1.when: expected a boolean expression, got string",
          "pack.yaml:10:61: error: rule r1.when: is_round() needs exact values (integers or "
          "decimals), got string",
          "pack.yaml:10:85: error: rule r1.when: max() needs numbers, got integer and string",
      }));
}

// A list or table that failed to load is not reported again where a rule names it.
TEST(RuleLoaderExpressionTest, NoCascadeFromFailedListsAndTables) {
  TempDir dir;
  const std::string pack = R"yaml(pack: x
lists:
  missing: nowhere.txt
tables:
  fee: {keys: [country], default: 0, file: nowhere.csv}
typologies:
  - {id: smuggling_fee, title: Smuggling fee, horizon: 1d, threshold: 1}
rules:
  - id: r1
    title: T
    typology: smuggling_fee
    key: receiver.id
    filter: in_list("missing", sender.country) and in_list("absent", sender.country)
    when: amount_base > lookup("fee", sender.country)
    severity: low
    weight: 1
)yaml";
  const std::string p = (dir.path() / "pack.yaml").string();
  EXPECT_EQ(
      errors_in(dir, pack),
      (Lines{
          cannot_read(dir, "3:12", "lists.missing", "nowhere.txt", "No such file or directory"),
          cannot_read(dir, "5:44", "tables.fee", "nowhere.csv", "No such file or directory"),
          p + ":13:60: error: rule r1.filter: no list named 'absent'",
      }));
}

TEST(RuleLoaderExpressionTest, ExplainPlaceholders) {
  auto explain_errors = [](const std::string& explain) {
    return rule_errors(
        "  - id: r1\n    title: T\n    typology: smuggling_fee\n    key: agent\n"
        "    window: 7d\n    aggregate: {total: sum(amount_base)}\n"
        "    when: total > 5\n    explain: " +
        explain + "\n    severity: low\n    weight: 1\n");
  };
  EXPECT_EQ(explain_errors("\"{total} {base} to {key} in {window}; {totl}\""),
            Lines{"pack.yaml:12:52: error: rule r1.explain: unknown placeholder {totl}; use an "
                  "aggregate name, {key}, {window} or {base}"});
  EXPECT_EQ(explain_errors("paid {total"),
            Lines{"pack.yaml:12:19: error: rule r1.explain: '{' without '}'"});
  EXPECT_EQ(explain_errors("|\n      paid {total}\n      to {receiver}"),
            Lines{"pack.yaml:14:10: error: rule r1.explain: unknown placeholder {receiver}; use "
                  "an aggregate name, {key}, {window} or {base}"});
}

// ---------------------------------------------------------------------------------------
// Where an error inside an expression is reported, for every YAML scalar style

// `when` of a stateless rule; its value starts on line 9 at column 11.
Lines when_errors(const std::string& when) {
  return rule_errors(
      "  - id: r1\n    title: T\n    typology: smuggling_fee\n    key: agent\n"
      "    when: " +
      when + "\n    severity: low\n    weight: 1\n");
}

const std::string kFooError = "error: rule r1.when: unknown name 'foo'; known here: " + kEventNames;

TEST(RuleLoaderLocationTest, PlainScalar) {
  EXPECT_EQ(when_errors("amount > 5 and foo"), Lines{"pack.yaml:9:26: " + kFooError});
  // Folded over two lines: the continuation is found on its own line.
  EXPECT_EQ(when_errors("amount > 5 and\n      foo"), Lines{"pack.yaml:10:7: " + kFooError});
  // A missing operand: just after the last character.
  EXPECT_EQ(when_errors("amount >"),
            Lines{"pack.yaml:9:19: error: rule r1.when: expected a value, a name or '(', got end "
                  "of expression"});
  EXPECT_EQ(when_errors("amount = 5"),
            Lines{"pack.yaml:9:18: error: rule r1.when: '=' is not an operator; compare with "
                  "'=='"});
}

TEST(RuleLoaderLocationTest, SingleQuoted) {
  EXPECT_EQ(when_errors("'amount > 5 and foo'"), Lines{"pack.yaml:9:27: " + kFooError});
  // '' is one quote in the value and two characters in the file.
  EXPECT_EQ(when_errors("'kind == ''transfer'' and foo'"), Lines{"pack.yaml:9:37: " + kFooError});
  EXPECT_EQ(when_errors("'amount > 5 and\n      foo'"), Lines{"pack.yaml:10:7: " + kFooError});
}

TEST(RuleLoaderLocationTest, DoubleQuoted) {
  EXPECT_EQ(when_errors("\"amount > 5 and foo\""), Lines{"pack.yaml:9:27: " + kFooError});
  // Escaped quotes take two characters in the file, one in the value.
  EXPECT_EQ(when_errors(R"("kind == \"transfer\" and foo")"),
            Lines{"pack.yaml:9:37: " + kFooError});
  EXPECT_EQ(when_errors(R"("kind == \x22transfer\u0022 and foo")"),
            Lines{"pack.yaml:9:43: " + kFooError});
  // An escaped line break joins the lines without a space.
  EXPECT_EQ(when_errors("\"amount > 5 and \\\n      foo\""), Lines{"pack.yaml:10:7: " + kFooError});
  EXPECT_EQ(when_errors("\"amount >\""),
            Lines{"pack.yaml:9:20: error: rule r1.when: expected a value, a name or '(', got end "
                  "of expression"});
  EXPECT_EQ(when_errors("\"amount > 5 and 'open\""),
            Lines{"pack.yaml:9:27: error: rule r1.when: string not closed: missing '"});
}

TEST(RuleLoaderLocationTest, LiteralBlock) {
  EXPECT_EQ(when_errors("|\n      amount > 5 and\n      foo"),
            Lines{"pack.yaml:11:7: " + kFooError});
  EXPECT_EQ(when_errors("|-\n      amount > 5 and\n        (foo or true)"),
            Lines{"pack.yaml:11:10: " + kFooError});
  // Leading empty lines and a comment on the header line.
  EXPECT_EQ(when_errors("|  # the test\n\n      amount > 5\n      and foo"),
            Lines{"pack.yaml:12:11: " + kFooError});
  EXPECT_EQ(when_errors("|\n      amount > 5 and\n"),
            Lines{"pack.yaml:10:21: error: rule r1.when: expected a value, a name or '(', got "
                  "end of expression"});
}

TEST(RuleLoaderLocationTest, BlockIndentationIndicator) {
  // |2 counts from the mapping's indentation (4): the value keeps two leading spaces.
  EXPECT_EQ(when_errors("|2\n        amount > 5 and foo"), Lines{"pack.yaml:10:24: " + kFooError});
}

TEST(RuleLoaderLocationTest, TagsAnchorsAndLineEnds) {
  EXPECT_EQ(when_errors("!!str amount > 5 and foo"), Lines{"pack.yaml:9:32: " + kFooError});
  EXPECT_EQ(when_errors("&w amount > 5 and foo"), Lines{"pack.yaml:9:29: " + kFooError});
  // A file with CRLF line ends.
  std::string crlf = kHead +
                     "  - id: r1\n    title: T\n    typology: smuggling_fee\n"
                     "    key: agent\n    when: |\n      amount > 5 and\n      foo\n"
                     "    severity: low\n    weight: 1\n";
  for (size_t at = crlf.find('\n'); at != std::string::npos; at = crlf.find('\n', at + 2)) {
    crlf.insert(at, "\r");
  }
  EXPECT_EQ(errors(crlf), Lines{"pack.yaml:11:7: " + kFooError});
}

TEST(RuleLoaderLocationTest, FoldedBlock) {
  EXPECT_EQ(when_errors(">\n      amount > 5 and\n      foo"),
            Lines{"pack.yaml:11:7: " + kFooError});
  EXPECT_EQ(when_errors(">\n      amount > 5\n\n      and foo"),
            Lines{"pack.yaml:12:11: " + kFooError});
}

TEST(RuleLoaderLocationTest, AggregateStyles) {
  // Flow mapping, double-quoted value with escapes, block value.
  EXPECT_EQ(rule_errors(R"yaml(  - id: r1
    title: T
    typology: smuggling_fee
    key: agent
    window: 7d
    aggregate: {n: count() where foo, m: "count() where kind == \"fee\" and foo"}
    when: "true"
    severity: low
    weight: 1
)yaml"),
            (Lines{
                "pack.yaml:10:34: error: rule r1.aggregate.n: unknown name 'foo'; known here: " +
                    kEventNames,
                "pack.yaml:10:77: error: rule r1.aggregate.m: unknown name 'foo'; known here: " +
                    kEventNames,
            }));
  EXPECT_EQ(rule_errors(R"yaml(  - id: r1
    title: T
    typology: smuggling_fee
    key: agent
    window: 7d
    aggregate:
      big: |
        count() where
          amount > 1000 and foo
    when: "true"
    severity: low
    weight: 1
)yaml"),
            Lines{"pack.yaml:13:29: error: rule r1.aggregate.big: unknown name 'foo'; known "
                  "here: " +
                  kEventNames});
}

// The errors of one pack come all at once, in file order.
TEST(RuleLoaderLocationTest, EveryErrorAtOnce) {
  EXPECT_EQ(rule_errors(R"yaml(  - id: r1
    title: T
    typology: smuggling_fee
    key: receiver.id
    filter: kind == "wire"
    when: "true"
    severity: low
    weight: 1
  - id: r2
    title: T
    typology: smuggling_fee
    key: sender.iban
    when: amount >
    severity: extreme
    weight: 1
)yaml"),
            (Lines{
                "pack.yaml:9:21: error: rule r1.filter: 'wire' is not a value of kind; allowed: "
                "transfer, "
                "remittance, cash_in, cash_out, salary, fee, card",
                "pack.yaml:16:10: error: rule r2.key: 'sender.iban' is not an event field; a key "
                "is account, an id-like field (sender.id, receiver.id, agent, sender.device, "
                "sender.phone, receiver.account, ...) or a list of them",
                "pack.yaml:17:19: error: rule r2.when: expected a value, a name or '(', got end "
                "of expression",
                "pack.yaml:18:15: error: rule r2.severity: unknown value 'extreme'; allowed: low, "
                "medium, high, critical",
            }));
}

}  // namespace
}  // namespace corridor::rules

// ---------------------------------------------------------------------------------------
// Tables and lookup()

namespace corridor::rules {
namespace {

const std::string kTablesPack = R"yaml(pack: tables
tables:
  reporting_threshold:
    doc: Reporting threshold per jurisdiction, in the base currency.
    keys: [jurisdiction]
    default: 3000
    rows: [[US, 3000], [CA, "10000"], [MY, 5555.25]]
  fee_band_high:
    keys: [origin, destination]
    default: 5000
    file: fee_bands.csv
  route_name:
    type: string
    keys: [origin, destination]
    default: none
    rows: [[AF, TR, balkan], [BD, MY, andaman]]
  legs:
    type: integer
    keys: [route]
    default: 1
    rows: [[balkan, 3]]
typologies:
  - {id: smuggling_fee, title: Smuggling fee, horizon: 1d, threshold: 1}
rules:
  - id: r1
    title: T
    typology: smuggling_fee
    key: sender.id
    filter: near_below(amount_base, lookup("reporting_threshold", sender.country), 0.2)
    when: amount_base <= lookup("fee_band_high", sender.country, receiver.country) and lookup("route_name", sender.country, receiver.country) != "none" and lookup("legs", lookup("route_name", sender.country, receiver.country)) >= 3
    severity: low
    weight: 1
)yaml";

const char* kFeeBands = R"(# origin, destination, highest fee seen (USD)
BD, MY, 4500
AF ,TR,  8000.5   # spaces around cells are removed

NP, QA, 3500
)";

TEST(RuleLoaderTablesTest, LookupReadsTheTableAndFallsBackToItsDefault) {
  TempDir dir;
  dir.write("fee_bands.csv", kFeeBands);
  RuleLoadResult r = parse_rule_pack((dir.path() / "pack.yaml").string(), kTablesPack);
  ASSERT_TRUE(r.rules.has_value()) << config::format_all(r.errors);
  const RuleSet& set = *r.rules;
  ASSERT_EQ(set.tables.size(), 4u);
  const lang::LookupTable& bands = set.tables.at("fee_band_high");
  EXPECT_EQ(bands.key_parts, 2u);
  ASSERT_EQ(bands.rows.size(), 3u);
  EXPECT_EQ(bands.rows[0].key[0], "AF");  // sorted
  EXPECT_EQ(bands.rows[0].key[1], "TR");
  EXPECT_EQ(bands.rows[0].number, 8000'5000);

  event::Event e;
  e.kind = event::Kind::transfer;
  lang::Value slots[kFirstAggregateSlot];
  const lang::EvalContext context{&e, slots};
  const Rule& rule = set.rules[0];
  // US: threshold 3000, near below = [2400, 3000).
  e.sender.country = "US";
  e.amount_base.units = 2400'0000;
  EXPECT_TRUE(rule.filter->test(context));
  e.amount_base.units = 3000'0000;
  EXPECT_FALSE(rule.filter->test(context));
  // MY: 5555.25, exact to the unit.
  e.sender.country = "MY";
  e.amount_base.units = 5555'2499;
  EXPECT_TRUE(rule.filter->test(context));
  e.amount_base.units = 5555'2500;
  EXPECT_FALSE(rule.filter->test(context));
  // Not in the table: the default, 3000.
  e.sender.country = "ZZ";
  e.amount_base.units = 2999'9999;
  EXPECT_TRUE(rule.filter->test(context));
  // Two-part keys, string values, and a lookup keyed by another lookup.
  e.sender.country = "AF";
  e.receiver.country = "TR";
  e.amount_base.units = 8000'5000;
  EXPECT_TRUE(rule.when.test(context));
  e.amount_base.units = 8000'5001;
  EXPECT_FALSE(rule.when.test(context));
  e.sender.country = "BD";
  e.receiver.country = "MY";  // andaman: 1 leg (the default), band 4500
  e.amount_base.units = 4000'0000;
  EXPECT_FALSE(rule.when.test(context));
  e.sender.country = "TR";
  e.receiver.country = "AF";  // the key's order matters: not in route_name
  EXPECT_FALSE(rule.when.test(context));
}

Lines table_errors(const std::string& tables, const std::string& filter = "amount > 0") {
  return errors("pack: t\ntables:\n" + tables +
                "typologies:\n  - {id: x, title: X, horizon: 1d, threshold: 1}\nrules:\n"
                "  - {id: r1, title: T, typology: x, key: sender.id, severity: low, weight: 1,\n"
                "     when: amount > 0, filter: '" +
                filter + "'}\n");
}

// The rule set's hash covers the list and table files, not only the packs: a changed
// threshold in a file is a changed configuration. A load may replace a table's rows with
// another file (golden tests); naming a table no pack declares is an error.
TEST(RuleLoaderTablesTest, TableFilesAreHashedAndCanBeReplaced) {
  TempDir dir;
  dir.write("fee_bands.csv", kFeeBands);
  dir.write("other_bands.csv", "BD, MY, 1\n");
  const std::string pack = (dir.path() / "pack.yaml").string();
  RuleLoadResult a = parse_rule_pack(pack, kTablesPack);
  ASSERT_TRUE(a.rules.has_value()) << config::format_all(a.errors);
  dir.write("fee_bands.csv", std::string(kFeeBands) + "LK, AE, 3000\n");
  RuleLoadResult b = parse_rule_pack(pack, kTablesPack);
  ASSERT_TRUE(b.rules.has_value()) << config::format_all(b.errors);
  EXPECT_NE(a.rules->hash, b.rules->hash);

  PackLoadOptions options;
  options.table_files["fee_band_high"] = (dir.path() / "other_bands.csv").string();
  RuleLoadResult c = parse_rule_packs({{pack, kTablesPack}}, options);
  ASSERT_TRUE(c.rules.has_value()) << config::format_all(c.errors);
  const lang::LookupTable& bands = c.rules->tables.at("fee_band_high");
  ASSERT_EQ(bands.rows.size(), 1u);
  EXPECT_EQ(bands.rows[0].number, 1'0000);
  EXPECT_EQ(bands.fallback.number, c.rules->tables.at("fee_band_high").fallback.number);
  EXPECT_NE(c.rules->hash, b.rules->hash);

  options.table_files["fee_band_hihg"] = (dir.path() / "other_bands.csv").string();
  RuleLoadResult d = parse_rule_packs({{pack, kTablesPack}}, options);
  EXPECT_EQ(config::format_all(d.errors),
            (dir.path() / "other_bands.csv").string() +
                ":1:1: error: replaces table 'fee_band_hihg', which no pack of the load "
                "declares\n");

  // Where the caller names the replacements (a golden test's `tables:`), errors are there.
  options.table_named_at["fee_band_hihg"] = config::Diagnostic{"t.test.yaml", 3, 18, "tables.x"};
  options.table_files["fee_band_high"] = (dir.path() / "gone.csv").string();
  options.table_named_at["fee_band_high"] = config::Diagnostic{"t.test.yaml", 2, 18, "tables.y"};
  RuleLoadResult e = parse_rule_packs({{pack, kTablesPack}}, options);
  EXPECT_EQ(config::format_all(e.errors),
            "t.test.yaml:2:18: error: tables.y: cannot read the replacing table file " +
                (dir.path() / "gone.csv").string() +
                ": No such file or directory\n"
                "t.test.yaml:3:18: error: tables.x: replaces table 'fee_band_hihg', which no pack "
                "of the load declares\n");
}

TEST(RuleLoaderTablesTest, EveryMistakeInATableIsLocated) {
  EXPECT_EQ(table_errors("  a: {keys: [k], rows: [[US, 1]]}\n"),
            Lines{"pack.yaml:3:6: error: tables.a: missing required key 'default'"});
  EXPECT_EQ(table_errors("  a: {default: 1, rows: [[US, 1]]}\n"),
            Lines{"pack.yaml:3:6: error: tables.a: missing required key 'keys'"});
  EXPECT_EQ(table_errors("  a: {keys: [k], default: 1}\n"),
            Lines{"pack.yaml:3:6: error: tables.a: missing `rows` or `file`"});
  EXPECT_EQ(table_errors("  a: {keys: [k, l, m], default: 1, rows: []}\n"),
            Lines{"pack.yaml:3:13: error: tables.a.keys: a key has one or two parts (e.g. "
                  "[origin, destination]), got 3"});
  EXPECT_EQ(table_errors("  a: {keys: [k], default: x1, rows: []}\n"),
            Lines{"pack.yaml:3:27: error: tables.a.default: expected a decimal number (at most "
                  "4 decimals), got 'x1'"});
  EXPECT_EQ(table_errors("  a: {type: integer, keys: [k], default: 1.5, rows: []}\n"),
            Lines{"pack.yaml:3:42: error: tables.a.default: expected an integer, got '1.5'"});
  EXPECT_EQ(table_errors("  a: {type: money, keys: [k], default: 1, rows: []}\n"),
            Lines{"pack.yaml:3:13: error: tables.a.type: unknown value 'money'; allowed: "
                  "decimal, integer, string"});
  EXPECT_EQ(table_errors("  a: {keys: [k], default: 1, rows: [[US, 1], [US, 2], [CA]]}\n"),
            (Lines{"pack.yaml:3:46: error: tables.a.rows[1]: key US is already in the table at "
                   "pack.yaml:3:37",
                   "pack.yaml:3:55: error: tables.a.rows[2]: expected 2 cells (the key, then "
                   "the value), got 1"}));
  EXPECT_EQ(table_errors("  a: {keys: [k], default: 1, rows: [], file: x.csv}\n"),
            Lines{"pack.yaml:3:40: error: tables.a: give `rows` or `file`, not both"});
  EXPECT_EQ(table_errors("  a: {keys: [k], default: 1, colour: red, rows: []}\n"),
            Lines{"pack.yaml:3:30: error: tables.a: unknown key 'colour'; allowed: type, keys, "
                  "default, rows, file, doc"});
  // Uses of a table.
  EXPECT_EQ(table_errors("  a: {keys: [k], default: 1, rows: []}\n", "lookup(\"b\", agent) > 0"),
            Lines{"pack.yaml:8:40: error: rule r1.filter: no table named 'b'"});
  EXPECT_EQ(
      table_errors("  a: {keys: [k], default: 1, rows: []}\n", "lookup(\"a\", agent, agent) > 0"),
      Lines{"pack.yaml:8:33: error: rule r1.filter: table 'a' has keys of 1 part, "
            "lookup() gave 2"});
  EXPECT_EQ(table_errors("  a: {keys: [k], default: 1, rows: []}\n", "lookup(\"a\", amount) > 0"),
            Lines{"pack.yaml:8:45: error: rule r1.filter: lookup() keys are strings, got "
                  "decimal"});
  EXPECT_EQ(
      table_errors("  a: {keys: [k], default: 1, rows: []}\n", "lookup(\"a\", agent) == \"x\""),
      Lines{"pack.yaml:8:52: error: rule r1.filter: cannot compare decimal with string"});
}

TEST(RuleLoaderTablesTest, TableFileErrorsNameTheFileLine) {
  TempDir dir;
  dir.write("t.csv", "# header comment\nUS, 1\n  CA, 2, 3\nMX, lots\nUS, 4\n");
  const std::string pack =
      "pack: t\ntables:\n  a: {keys: [k], default: 1, file: t.csv}\n"
      "  b: {keys: [k], default: 1, file: missing.csv}\n"
      "typologies:\n  - {id: x, title: X, horizon: 1d, threshold: 1}\n"
      "rules:\n  - {id: r1, title: T, typology: x, key: sender.id, "
      "severity: low, weight: 1, when: amount > 0}\n";
  const std::string path = (dir.path() / "pack.yaml").string();
  RuleLoadResult r = parse_rule_pack(path, pack);
  ASSERT_FALSE(r.rules.has_value());
  const std::string csv = (dir.path() / "t.csv").string();
  EXPECT_EQ(
      formatted(r),
      (Lines{path + ":4:36: error: tables.b: cannot read table file " +
                 (dir.path() / "missing.csv").string() + ": No such file or directory",
             csv + ":3:3: error: tables.a: expected 2 cells (the key, then the value), got 3",
             csv + ":4:1: error: tables.a: expected a decimal number (at most 4 decimals), "
                   "got 'lots'",
             csv + ":5:1: error: tables.a: key US is already in the table at " + csv + ":2"}));
}

}  // namespace
}  // namespace corridor::rules
