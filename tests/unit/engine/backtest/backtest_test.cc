// The backtest's ground truth and scoring: what counts as a hit, a false positive (and
// why), a detected or missed instance, and the report's ordering.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "engine/backtest/evaluation.h"
#include "engine/backtest/report.h"
#include "engine/backtest/truth.h"

namespace corridor::backtest {
namespace {

class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    path_ = (std::filesystem::temp_directory_path() /
             ("corridor-backtest-" + std::to_string(++counter_) + "-" + std::to_string(::getpid())))
                .string();
    std::ofstream(path_, std::ios::binary) << text;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

std::string instance(const std::string& scenario, const std::string& pattern,
                     const std::string& typology, const std::string& variant, bool alert,
                     const std::vector<std::string>& ids) {
  std::string entities;
  for (const std::string& id : ids) {
    entities += (entities.empty() ? "" : ",") + std::string(R"({"role":"x","id":")") + id + "\"}";
  }
  return R"({"scenario":")" + scenario + R"(","pattern":")" + pattern + R"(","typology":")" +
         typology + R"(","variant":")" + variant + R"(","expect_signal":)" +
         (variant == "fire" ? "true" : "false") + R"(,"expect_alert":)" +
         (alert ? "true" : "false") + R"(,"subject":")" + ids[0] + R"(","entities":[)" + entities +
         R"(],"note":"n"})" + "\n";
}

// A world of five instances: an R1 fire (collector c1, payers p1 p2), an R1 near miss (c2),
// a combined R1+R14 fire that expects an alert (c3), a look-alike (grandmother g1, cousin
// k1) and a debt-bondage R7 fire (w1).
Truth world() {
  const TempFile f(instance("R1-1", "R1", "smuggling_fee", "fire", false, {"c1", "p1", "p2"}) +
                   instance("R1-2", "R1", "smuggling_fee", "near_miss", false, {"c2"}) +
                   instance("R1+R14-1", "R1+R14", "smuggling_fee", "fire", true, {"c3"}) +
                   "\n" +  // blank lines are skipped
                   instance("R1-3", "R1", "smuggling_fee", "lookalike", false, {"g1", "k1"}) +
                   instance("R7-1", "R7", "debt_bondage", "fire", false, {"w1"}));
  return load_truth_file(f.path());
}

TEST(Truth, ReadsTheGenTruthFileAndIndexesEntities) {
  const Truth t = world();
  EXPECT_EQ(t.format, "synthetic");
  ASSERT_EQ(t.instances.size(), 5u);
  EXPECT_EQ(t.instances[2].scenario, "R1+R14-1");
  EXPECT_TRUE(t.instances[2].expect_alert);
  EXPECT_FALSE(t.instances[0].expect_alert);
  EXPECT_EQ(t.instances[3].entities, (std::vector<std::string>{"g1", "k1"}));
  ASSERT_NE(t.instances_of("p2"), nullptr);
  EXPECT_EQ(*t.instances_of("p2"), std::vector<uint32_t>{0});
  EXPECT_EQ(t.instances_of("nobody"), nullptr);
}

TEST(Truth, CombinedPatternsIncludeTheirParts) {
  TruthInstance i;
  i.pattern = "R7+R11";
  EXPECT_TRUE(i.includes_pattern("R7"));
  EXPECT_TRUE(i.includes_pattern("R11"));
  EXPECT_FALSE(i.includes_pattern("R1"));
  EXPECT_FALSE(i.includes_pattern("R7+R11+"));
  i.pattern = "*";
  EXPECT_TRUE(i.includes_pattern("R13"));
}

TEST(Truth, ErrorsNameTheFileAndLine) {
  auto message = [](const std::string& text) {
    const TempFile f(text);
    try {
      load_truth_file(f.path());
    } catch (const TruthError& e) {
      return std::string(e.what()).substr(f.path().size());
    }
    return std::string("no error");
  };
  const std::string good = instance("R1-1", "R1", "smuggling_fee", "fire", false, {"c1"});
  EXPECT_EQ(message(good + "{not json\n"), ":2: not a JSON object");
  EXPECT_EQ(message(good + good.substr(0, 20) + "\n"), ":2: not a JSON object");
  std::string bad = good;
  bad.replace(bad.find("\"fire\""), 6, "\"maybe\"");
  EXPECT_EQ(message(bad), ":1: `variant` must be fire, near_miss or lookalike, not 'maybe'");
  bad = good;
  bad.replace(bad.find("\"R1\""), 4, "7");
  EXPECT_EQ(message(bad), ":1: `pattern` must be a string");
  bad = good;
  bad.replace(bad.find("\"entities\""), 10, "\"others\"");
  EXPECT_EQ(message(bad), ":1: `entities` must be an array of {role, id}");
  EXPECT_THROW(load_truth_file("/nonexistent/truth.ndjson"), TruthError);
}

TEST(Truth, LabelsMakeOneInstanceOfEveryTypologyPerLabelledEntity) {
  const TempFile f("nodeid,isFraud,init_balance\r\n0,0,1.5\r\n7,1,2\r\n\"8\",true,3\r\n9,,4\r\n");
  const Truth t = load_truth_labels(f.path(), "nodeid", "isFraud");
  EXPECT_EQ(t.format, "labels");
  ASSERT_EQ(t.instances.size(), 2u);
  EXPECT_EQ(t.instances[0].scenario, "isFraud:7");
  EXPECT_EQ(t.instances[1].entities, std::vector<std::string>{"8"});
  EXPECT_TRUE(t.instances[0].of_typology("anything"));
  EXPECT_TRUE(t.instances[0].includes_pattern("R3"));
  EXPECT_TRUE(t.instances[0].expect_alert);

  auto error = [](const std::string& text, const std::string& id, const std::string& label) {
    const TempFile g(text);
    try {
      load_truth_labels(g.path(), id, label);
    } catch (const TruthError& e) {
      return std::string(e.what()).substr(g.path().size());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error("id,isFraud\n1,1\n", "nodeid", "isFraud"),
            ":1: no column 'nodeid' in the header");
  EXPECT_EQ(error("nodeid,fraud\n1,1\n", "nodeid", "isFraud"),
            ":1: no column 'isFraud' in the header");
  EXPECT_EQ(error("nodeid,isFraud\n1,yes\n", "nodeid", "isFraud"),
            ":2: `isFraud` must be 0/1 or true/false, not 'yes'");
  EXPECT_EQ(error("nodeid,isFraud\n1,1\n2\n", "nodeid", "isFraud"),
            ":3: expected 2 columns or more, found 1");
  EXPECT_EQ(error("", "nodeid", "isFraud"), ":1: empty file: expected a header line");
}

TEST(Truth, ExpectedPatternsDecideARulesInstancesAndNearMisses) {
  std::string combined = instance("R7+R11-2", "R7+R11", "debt_bondage", "near_miss", false, {"w"});
  combined.insert(combined.find(",\"subject\""), R"(,"expect_patterns":["R11"])");
  std::string broker = instance("R12-1", "R12", "debt_bondage", "fire", false, {"b"});
  broker.insert(broker.find(",\"subject\""), R"(,"expect_patterns":["R12","R6"])");
  std::string lookalike = instance("L-1", "R8", "debt_bondage", "lookalike", false, {"l"});
  lookalike.insert(lookalike.find(",\"subject\""), R"(,"expect_patterns":["R8"])");
  const TempFile f(combined + broker + lookalike);
  const Truth t = load_truth_file(f.path());
  const TruthInstance& near = t.instances[0];
  EXPECT_TRUE(near.expects_pattern("R11"));  // the part of a combined near miss that fires
  EXPECT_FALSE(near.near_miss_of("R11"));
  EXPECT_FALSE(near.expects_pattern("R7"));
  EXPECT_TRUE(near.near_miss_of("R7"));
  EXPECT_TRUE(t.instances[1].expects_pattern("R6"));
  EXPECT_FALSE(t.instances[1].expects_pattern("R1"));
  EXPECT_FALSE(t.instances[2].expects_pattern("R8"));  // a look-alike is never a positive
  // R6 on the broker is what the truth expects: right, though R6 is a smuggling-fee rule.
  EXPECT_EQ(classify(t, "b", "smuggling_fee", "R6"), Verdict::tp);
  EXPECT_EQ(classify(t, "b", "smuggling_fee", "R1"), Verdict::other_typology);
  EXPECT_EQ(classify(t, "l", "debt_bondage", "R8"), Verdict::lookalike);

  std::string bad = broker;
  bad.replace(bad.find(R"(["R12","R6"])"), 13, R"(["R12",6])");
  const TempFile g(bad);
  EXPECT_THROW(load_truth_file(g.path()), TruthError);
}

TEST(Classify, SaysWhyAFlagIsNotAHit) {
  const Truth t = world();
  EXPECT_EQ(classify(t, "p1", "smuggling_fee"), Verdict::tp);  // a payer is in the instance
  EXPECT_EQ(classify(t, "c2", "smuggling_fee"), Verdict::tp);  // near misses are real
  EXPECT_EQ(classify(t, "g1", "smuggling_fee"), Verdict::lookalike);
  EXPECT_EQ(classify(t, "w1", "smuggling_fee"), Verdict::other_typology);
  EXPECT_EQ(classify(t, "w1", "debt_bondage"), Verdict::tp);
  EXPECT_EQ(classify(t, "stranger", "smuggling_fee"), Verdict::background);
  // A rule of a pattern both typologies use is right on that pattern's instances.
  EXPECT_EQ(classify(t, "w1", "smuggling_fee", "R7"), Verdict::tp);
  EXPECT_EQ(classify(t, "g1", "smuggling_fee", "R1"), Verdict::lookalike);
}

// Two rules (R1 primary, R6 contributor) and one typology, fed by hand.
struct Fixture {
  rules::RuleSet set;
  Fixture() {
    set.rules.resize(3);
    set.rules[0].id = "sf.r1";
    set.rules[0].pattern = "R1";
    set.rules[1].id = "sf.r6";
    set.rules[1].pattern = "R6";
    set.rules[1].role = rules::Role::contributor;
    set.rules[2].id = "sf.r14";
    set.rules[2].pattern = "R14";
    for (rules::Rule& r : set.rules) r.typology = "smuggling_fee";
    set.typologies.resize(1);
    set.typologies[0].id = "smuggling_fee";
  }
  void signal(Collector& c, size_t rule, const std::string& entity, int64_t day) {
    rules::Signal s;
    s.rule = &set.rules[rule];
    s.entity = entity;
    s.ts_ms = day * kDayMs + 3'600'000;
    c.on_signal(s);
  }
  void alert(Collector& c, const std::string& entity, int64_t day, uint32_t score) {
    rules::Alert a;
    a.typology = &set.typologies[0];
    a.entity = entity;
    a.ts_ms = day * kDayMs;
    a.score = score;
    c.on_alert(a);
  }
};

TEST(ScoreRun, CountsEntitiesInstancesAndDays) {
  const Truth t = world();
  Fixture fx;
  Collector c(fx.set);
  const int64_t d0 = 20'000;      // 2024-10-04
  fx.signal(c, 0, "c1", d0);      // R1 fire: detected
  fx.signal(c, 0, "c1", d0 + 1);  // the same entity again: one flag, two signals
  fx.signal(c, 0, "c2", d0 + 1);  // the R1 near miss: a flagged near miss, a true positive
  fx.signal(c, 0, "k1", d0 + 2);  // a cousin of the look-alike: a false positive
  fx.signal(c, 0, "w1", d0 + 2);  // a debt-bondage worker: another typology
  fx.signal(c, 0, "zz", d0 + 9);  // outside the report's days: counted, not drawn
  fx.signal(c, 1, "c3", d0 + 1);  // R6 on the combined instance's collector
  fx.alert(c, "c3", d0 + 1, 100);
  fx.alert(c, "k1", d0 + 2, 125);
  c.on_score(fx.set.typologies[0], "c3", 50, 0);
  c.on_score(fx.set.typologies[0], "c3", 100, 0);
  c.on_score(fx.set.typologies[0], "k1", 125, 0);
  c.on_score(fx.set.typologies[0], "p1", 50, 0);
  c.on_score(fx.set.typologies[0], "w1", 50, 0);

  const RunFigures f = score_run(c, fx.set, t, d0, 3);
  ASSERT_EQ(f.rules.size(), 3u);
  const RuleFigures& r1 = f.rules[0];
  EXPECT_EQ(r1.emitted, 6u);
  EXPECT_EQ(r1.flagged, 5u);
  EXPECT_EQ(r1.tp, 2u);  // c1, c2
  EXPECT_EQ(r1.fp, 3u);
  EXPECT_EQ(r1.fp_lookalike, 1u);
  EXPECT_EQ(r1.fp_other_typology, 1u);
  EXPECT_EQ(r1.fp_background, 1u);
  EXPECT_EQ(r1.instances, 2u);  // R1-1 and R1+R14-1 (fire, pattern includes R1)
  EXPECT_EQ(r1.detected, 1u);
  EXPECT_EQ(r1.missed, std::vector<std::string>{"R1+R14-1"});
  EXPECT_EQ(r1.near_misses, 1u);
  EXPECT_EQ(r1.near_misses_flagged, 1u);
  EXPECT_DOUBLE_EQ(*r1.precision, 0.4);
  EXPECT_DOUBLE_EQ(*r1.recall, 0.5);
  EXPECT_DOUBLE_EQ(*r1.f1, 2 * 0.4 * 0.5 / 0.9);
  EXPECT_EQ(r1.per_day, (std::vector<uint64_t>{1, 2, 2}));

  const RuleFigures& r6 = f.rules[1];
  EXPECT_EQ(r6.role, "contributor");
  EXPECT_EQ(r6.tp, 1u);         // c3 is in a smuggling-fee instance, though not an R6 one
  EXPECT_EQ(r6.instances, 0u);  // no R6 scenario in this world
  EXPECT_FALSE(r6.recall.has_value());
  EXPECT_FALSE(r6.f1.has_value());
  const RuleFigures& r14 = f.rules[2];  // silent
  EXPECT_EQ(r14.flagged, 0u);
  EXPECT_FALSE(r14.precision.has_value());
  EXPECT_EQ(*r14.recall, 0.0);

  ASSERT_EQ(f.typologies.size(), 1u);
  const TypologyFigures& ty = f.typologies[0];
  EXPECT_EQ(ty.emitted, 2u);
  EXPECT_EQ(ty.tp, 1u);
  EXPECT_EQ(ty.fp_lookalike, 1u);
  EXPECT_EQ(ty.instances, 1u);  // only R1+R14-1 expects an alert
  EXPECT_EQ(ty.detected, 1u);
  EXPECT_EQ(ty.near_misses, 1u);
  EXPECT_DOUBLE_EQ(*ty.precision, 0.5);
  EXPECT_DOUBLE_EQ(*ty.recall, 1.0);
  EXPECT_EQ(ty.per_day, (std::vector<uint64_t>{0, 1, 1}));
  // Highest score per entity, split by whether the entity is in a matching instance.
  using Scores = std::vector<std::pair<uint32_t, uint64_t>>;
  EXPECT_EQ(ty.positive_scores, (Scores{{50, 1}, {100, 1}}));  // p1, c3
  EXPECT_EQ(ty.negative_scores, (Scores{{50, 1}, {125, 1}}));  // w1, k1

  ASSERT_EQ(f.patterns.size(), 3u);
  EXPECT_EQ(f.patterns[0].pattern, "R1");
  EXPECT_EQ(f.patterns[0].detected, 1u);
  EXPECT_EQ(f.patterns[2].pattern, "R14");
  EXPECT_EQ(f.patterns[2].instances, 1u);
  EXPECT_EQ(f.patterns[2].missed, std::vector<std::string>{"R1+R14-1"});

  ASSERT_EQ(f.lookalikes.size(), 1u);
  EXPECT_EQ(f.lookalikes[0].instance->scenario, "R1-3");
  EXPECT_EQ(f.lookalikes[0].flagged_by, (std::vector<std::string>{"sf.r1", "smuggling_fee"}));
}

TEST(Report, AlertsOnlyOneRunRaisedAreOrderedByTimeThenEntity) {
  const Truth t = world();
  RunReport a, b;
  a.alerted = {{"smuggling_fee", {{"c3", {5, 100}}, {"k1", {3, 100}}, {"b", {3, 100}}}},
               {"debt_bondage", {{"w1", {1, 100}}}}};
  b.alerted = {{"smuggling_fee", {{"c3", {7, 100}}}}};
  const std::vector<AlertDiff> d = only_in(a, b, t);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].entity, "b");
  EXPECT_EQ(d[0].verdict, Verdict::background);
  EXPECT_EQ(d[1].entity, "k1");
  EXPECT_EQ(d[1].verdict, Verdict::lookalike);
  EXPECT_EQ(d[2].typology, "debt_bondage");  // typologies in pack order
  EXPECT_EQ(d[2].verdict, Verdict::tp);
  EXPECT_TRUE(only_in(b, a, t).empty());
}

TEST(Report, DaysRunFromTheFirstEventsDayToTheLasts) {
  Report r;
  EXPECT_EQ(r.days(), 0u);
  r.input.first_ms = 20'000 * kDayMs + 5;
  r.input.last_ms = 20'002 * kDayMs;
  EXPECT_EQ(r.first_day(), 20'000);
  EXPECT_EQ(r.days(), 3u);
  EXPECT_EQ(day_of(-1), -1);
  EXPECT_EQ(day_of(0), 0);
}

}  // namespace
}  // namespace corridor::backtest
