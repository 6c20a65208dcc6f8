#include "rules/eval/rule_engine.h"

#include <gtest/gtest.h>

#include "engine/event/timestamp.h"
#include "tests/unit/rules/eval/owned_event.h"

namespace corridor::rules {
namespace {

struct Captured : SignalListener {
  std::vector<Signal> signals;
  std::vector<Alert> alerts;
  void on_signal(const Signal& s) override { signals.push_back(s); }
  void on_alert(const Alert& a) override { alerts.push_back(a); }
};

constexpr int64_t kT0 = 1'772'323'200'000;  // 2026-03-01T00:00:00Z
constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;

RuleSet load(const std::string& yaml) { return load_pack(yaml); }

std::vector<std::string> run(const RuleSet& set, const std::vector<OwnedEvent>& events,
                             Captured& out, bool expire_after_each = false) {
  RuleEngine engine(set, out);
  for (const OwnedEvent& e : events) {
    engine.on_event(e.view());
    if (expire_after_each) engine.expire(e.ts - kHour);
  }
  std::vector<std::string> ids;
  for (const Signal& s : out.signals) ids.push_back("S:" + s.id + ":" + s.rule->id + ":" + s.key);
  for (const Alert& a : out.alerts) ids.push_back("A:" + a.id + ":" + a.entity);
  return ids;
}

const char* kPack = R"(pack: t
typologies:
  - {id: fee, title: Fee, horizon: 30d, threshold: 100, min_primaries: 1}
rules:
  - id: fan_in
    title: Fan in
    typology: fee
    key: receiver.id
    window: 7d
    aggregate: {senders: distinct(sender.id), cities: distinct(sender.city)}
    when: senders >= 3
    severity: medium
    weight: 50
    suppress: 1d
  - id: burst
    title: Burst at one agent
    typology: fee
    key: [agent, receiver.id]
    window: 60m
    aggregate: {senders: distinct(sender.id)}
    when: senders >= 2
    severity: high
    weight: 50
    suppress: 1d
  - id: helper_only
    title: Contributor
    typology: fee
    role: contributor
    key: receiver.id
    when: amount_base > 9000
    severity: low
    weight: 100
)";

std::vector<OwnedEvent> story() {
  std::vector<OwnedEvent> ev;
  auto add = [&](const char* id, int64_t ts, const char* s, const char* r, const char* agent) {
    ev.push_back(OwnedEvent{id, s, r, agent, std::string("city-") + s, "BD", ts,
                            event::Kind::remittance, 500'0000});
  };
  add("e1", kT0, "S1", "R1", "A1");
  add("e2", kT0 + kHour, "S2", "R1", "A2");
  add("e3", kT0 + 2 * kHour, "S3", "R1", "A3");           // fan_in fires
  add("e4", kT0 + 2 * kHour + 60'000, "S4", "R1", "A3");  // burst fires at A3|R1 -> alert
  add("e5", kT0 + 3 * kHour, "S5", "R1", "A3");           // both suppressed
  add("e6", kT0 + 40 * kDay, "S6", "R1", "A9");           // far later: windows empty
  add("e7", kT0 + 40 * kDay + 60'000, "S7", "R1", "A9");  // burst again, alone: no alert
  return ev;
}

TEST(RuleEngineTest, SignalsAlertsSuppressionAndCompositeEntity) {
  const RuleSet set = load(kPack);
  Captured out;
  run(set, story(), out);
  ASSERT_EQ(out.signals.size(), 3u);
  EXPECT_EQ(out.signals[0].rule->id, "fan_in");
  EXPECT_EQ(out.signals[0].trigger_event_id, "e3");
  EXPECT_EQ(out.signals[1].rule->id, "burst");
  EXPECT_EQ(out.signals[1].key, "A3|R1");
  EXPECT_EQ(out.signals[1].entity, "R1");  // a composite key scores its last component
  EXPECT_EQ(out.signals[1].trigger_event_id, "e4");
  EXPECT_EQ(out.signals[2].rule->id, "burst");
  EXPECT_EQ(out.signals[2].trigger_event_id, "e7");
  ASSERT_EQ(out.alerts.size(), 1u);
  EXPECT_EQ(out.alerts[0].entity, "R1");
  EXPECT_EQ(out.alerts[0].score, 100u);
  EXPECT_EQ(out.alerts[0].severity, Severity::high);
  EXPECT_EQ(out.alerts[0].trigger_event_id, "e4");
  EXPECT_EQ(out.alerts[0].evidence,
            (std::vector<std::string>{"e1", "e2", "e3", "e4"}));  // union, in order
}

// Ids may contain '|', the separator of composite keys: it stays part of the entity, and two
// tuples that would join to the same text keep their own state.
TEST(RuleEngineTest, ABarInsideAnIdIsPartOfItsEntityAndNeverJoinsTwoKeys) {
  const RuleSet set = load(kPack);
  Captured out;
  std::vector<OwnedEvent> ev;
  auto add = [&](const char* id, int64_t ts, const char* s, const char* r, const char* agent) {
    ev.push_back(OwnedEvent{id, s, r, agent, std::string("city-") + s, "BD", ts,
                            event::Kind::remittance, 500'0000});
  };
  // burst: (A|B, C) and (A, B|C) are two keys, one sender each: no signal.
  add("e1", kT0, "S1", "C", "A|B");
  add("e2", kT0 + 60'000, "S2", "B|C", "A");
  // fan_in on R|1 from three senders: the entity is R|1, not 1.
  add("e3", kT0 + kHour, "S1", "R|1", "X1");
  add("e4", kT0 + 3 * kHour, "S2", "R|1", "X2");
  add("e5", kT0 + 5 * kHour, "S3", "R|1", "X3");
  // burst on (A\B, C|D), twice: its key escapes the backslash and the bar.
  add("e6", kT0 + 6 * kHour, "S4", "C|D", "A\\B");
  add("e7", kT0 + 6 * kHour + 60'000, "S5", "C|D", "A\\B");
  run(set, ev, out);
  std::vector<std::string> got;
  for (const Signal& sig : out.signals)
    got.push_back(sig.trigger_event_id + " " + sig.rule->id + " " + sig.key + " " + sig.entity);
  EXPECT_EQ(got, (std::vector<std::string>{"e5 fan_in R|1 R|1", "e7 burst A\\\\B|C\\|D C|D"}));
  ASSERT_EQ(out.alerts.size(), 0u);
}

TEST(RuleEngineTest, DroppingExpiredStateNeverChangesTheOutput) {
  const RuleSet set = load(kPack);
  Captured kept, dropped;
  const auto a = run(set, story(), kept, false);
  const auto b = run(set, story(), dropped, true);
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a.empty());
}

TEST(RuleEngineTest, IdsAreDeterministicAcrossRuns) {
  const RuleSet set = load(kPack);
  Captured x, y;
  EXPECT_EQ(run(set, story(), x), run(set, story(), y));
  EXPECT_EQ(x.signals[0].id.size(), 32u);
  EXPECT_NE(x.signals[0].id, x.signals[1].id);
}

TEST(RuleEngineTest, ContributorsAloneNeverAlert) {
  const RuleSet set = load(kPack);
  Captured out;
  std::vector<OwnedEvent> ev{
      {"big", "S1", "R7", "A1", "c", "BD", kT0, event::Kind::transfer, 9500'0000}};
  run(set, ev, out);
  ASSERT_EQ(out.signals.size(), 1u);  // weight 100 reaches the threshold,
  EXPECT_TRUE(out.alerts.empty());    // but min_primaries 1 is not met
}

const char* kAccountPack = R"(pack: t
typologies:
  - {id: db, title: Debt bondage, horizon: 30d, threshold: 50}
rules:
  - id: flows
    title: In and out
    typology: db
    key: account
    window: 48h
    aggregate:
      inflow: sum(amount_base) where direction == "in"
      outflow: sum(amount_base) where direction == "out"
      out_in: ratio(outflow, inflow)
      to_others: distinct(counterparty.id)
    when: inflow >= 1000 and out_in >= 0.8
    severity: high
    weight: 50
    suppress: 48h
)";

TEST(RuleEngineTest, AccountKeysSeeBothSidesAndSelfTransfersOnce) {
  const RuleSet set = load(kAccountPack);
  Captured out;
  std::vector<OwnedEvent> ev{
      {"in1", "EMP", "W1", "", "", "", kT0, event::Kind::salary, 1500'0000},
      {"self", "W1", "W1", "", "", "", kT0 + kHour, event::Kind::transfer, 700'0000},
      {"out1", "W1", "REC", "", "", "", kT0 + 2 * kHour, event::Kind::transfer, 1300'0000},
  };
  run(set, ev, out);
  // W1: inflow 1500, outflow 1300 (the self-transfer counts as neither): ratio 0.8667.
  // REC gets an inflow of 1300 with no outflow: ratio 0, no signal. EMP only pays out.
  ASSERT_EQ(out.signals.size(), 1u);
  const Signal& s = out.signals[0];
  EXPECT_EQ(s.key, "W1");
  EXPECT_EQ(s.direction, "out");
  EXPECT_EQ(s.trigger_event_id, "out1");
  auto value = [&](const std::string& name) {
    for (const auto& [n, v] : s.values) {
      if (n == name) return v;
    }
    return std::string("?");
  };
  EXPECT_EQ(value("inflow"), "1500");
  EXPECT_EQ(value("outflow"), "1300");
  EXPECT_EQ(value("out_in"), "0.866667");
  EXPECT_EQ(value("to_others"), "3");  // EMP, W1 itself (self), REC
  ASSERT_EQ(out.alerts.size(), 1u);
}

const char* kSharedKeysPack = R"(pack: t
typologies:
  - {id: x, title: X, horizon: 30d, threshold: 5}
rules:
  - {id: a_receiver, title: A, typology: x, key: receiver.id, when: amount_base > 0, severity: low, weight: 1}
  - {id: b_composite, title: B, typology: x, key: [agent, sender.id], when: amount_base > 0, severity: low, weight: 1}
  - id: c_receiver
    title: C
    typology: x
    key: receiver.id
    window: 1d
    aggregate: {n: count()}
    when: n >= 1
    severity: low
    weight: 1
  - {id: d_account, title: D, typology: x, key: account, when: amount_base > 0, severity: low, weight: 1}
  - {id: e_composite, title: E, typology: x, key: [agent, sender.id], window: 1d, aggregate: {n: count()}, when: n >= 1, severity: low, weight: 1}
)";

// Rules sharing a key space look the key up once per event; each signal still carries its
// own rule's key and entity, whatever the rules evaluated before it in the same event.
TEST(RuleEngineTest, RulesSharingAKeySpaceEachReportTheirOwnKey) {
  const RuleSet set = load(kSharedKeysPack);
  Captured out;
  std::vector<OwnedEvent> ev{
      {"t1", "S1", "R1", "AG", "", "", kT0, event::Kind::transfer, 10'0000},
      {"t2", "S2", "R1", "AG", "", "", kT0 + kHour, event::Kind::transfer, 10'0000},
  };
  run(set, ev, out);
  std::vector<std::string> got;
  for (const Signal& sig : out.signals) {
    got.push_back(sig.trigger_event_id + " " + sig.rule->id + " " + sig.key + " " + sig.entity +
                  " " + sig.direction);
  }
  const std::vector<std::string> want{
      "t1 a_receiver R1 R1 ",   "t1 b_composite AG|S1 S1 ", "t1 c_receiver R1 R1 ",
      "t1 d_account S1 S1 out", "t1 d_account R1 R1 in",    "t1 e_composite AG|S1 S1 ",
      "t2 a_receiver R1 R1 ",   "t2 b_composite AG|S2 S2 ", "t2 c_receiver R1 R1 ",
      "t2 d_account S2 S2 out", "t2 d_account R1 R1 in",    "t2 e_composite AG|S2 S2 ",
  };
  EXPECT_EQ(got, want);
}

const char* kNewPairPack = R"(pack: t
typologies:
  - {id: x, title: X, horizon: 30d, threshold: 1}
rules:
  - id: new_pairs
    title: New pairs
    typology: x
    key: receiver.id
    window: 30d
    aggregate: {fresh: count() where is_new_pair, all: count()}
    when: all >= 3
    severity: low
    weight: 1
)";

TEST(RuleEngineTest, IsNewPairLooksBackTheConfiguredTime) {
  const RuleSet set = load(kNewPairPack);
  Captured out;
  RuleEngine engine(set, out, EngineOptions{.new_pair_lookback_ms = 10 * kDay});
  std::vector<OwnedEvent> ev{
      {"a", "S1", "R1", "", "", "", kT0, event::Kind::transfer, 1'0000},
      {"b", "S1", "R1", "", "", "", kT0 + 5 * kDay, event::Kind::transfer, 1'0000},   // seen 5d ago
      {"c", "S1", "R1", "", "", "", kT0 + 16 * kDay, event::Kind::transfer, 1'0000},  // 11d: new
  };
  for (const auto& e : ev) engine.on_event(e.view());
  ASSERT_EQ(out.signals.size(), 1u);
  EXPECT_EQ(out.signals[0].values[0], (std::pair<std::string, std::string>{"fresh", "2"}));
}

// `when` is tested term by term, a term's aggregates computed only once the terms before it
// held. Against the same condition written as one term that names every aggregate (so all
// are computed first), the signals must be identical, values included: also those of the
// aggregate no term names and of the ratio's operands, which no term names.
TEST(RuleEngineTest, WhenTestedTermByTermSignalsExactlyAsWhole) {
  const std::string rule = R"(pack: t
typologies:
  - {id: fee, title: Fee, horizon: 30d, threshold: 100, min_primaries: 1}
rules:
  - id: staged
    title: Staged
    typology: fee
    key: receiver.id
    window: 1d
    aggregate:
      payments: count()
      total: sum(amount_base)
      big: sum(amount_base) where amount_base > 1000
      big_share: ratio(big, total)
      largest: max(amount_base)
      senders: distinct(sender.id)
      smallest: min(amount_base)
    severity: low
    weight: 100
)";
  const std::string terms =
      "    when: payments >= 3 and big_share >= 0.5 and largest > 2000 and senders >= 2\n";
  // One term naming every aggregate (`smallest` is never negative): all computed at once.
  const std::string whole =
      "    when: (payments >= 3 and big_share >= 0.5 and largest > 2000 and senders >= 2) or "
      "smallest < 0\n";
  const RuleSet by_terms = load(rule + terms);
  const RuleSet at_once = load(rule + whole);
  ASSERT_EQ(by_terms.rules.size(), 1u);
  ASSERT_EQ(at_once.rules.size(), 1u);
  ASSERT_EQ(by_terms.rules[0].when_terms.size(), 4u);
  ASSERT_EQ(at_once.rules[0].when_terms.size(), 1u);

  std::vector<OwnedEvent> events;
  uint64_t x = 42;
  const auto next = [&x](uint64_t n) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return (x >> 33) % n;
  };
  int64_t ts = kT0;
  for (int i = 0; i < 600; ++i) {
    ts += static_cast<int64_t>(next(90)) * 60'000;
    const std::string id = "e" + std::to_string(i);
    const std::string sender = "S" + std::to_string(next(5));
    const std::string receiver = "R" + std::to_string(next(3));
    events.push_back(OwnedEvent{id, sender, receiver, "A1", "city", "BD", ts,
                                event::Kind::remittance,
                                static_cast<int64_t>(100 + next(2900)) * 10'000});
  }
  Captured a, b;
  run(by_terms, events, a);
  run(at_once, events, b);
  ASSERT_GT(a.signals.size(), 10u);
  ASSERT_EQ(a.signals.size(), b.signals.size());
  for (size_t i = 0; i < a.signals.size(); ++i) {
    EXPECT_EQ(a.signals[i].trigger_event_id, b.signals[i].trigger_event_id);
    EXPECT_EQ(a.signals[i].values, b.signals[i].values) << a.signals[i].trigger_event_id;
    ASSERT_EQ(a.signals[i].values.size(), 7u);
  }
}

// distinct(sender.id) reuses the hash the engine computed for the event's sender, matching
// the value by its address and length. A decoder reuses its buffers: the next event may hold
// another sender at the same address, which must count as another sender.
TEST(RuleEngineTest, DistinctValuesAtAReusedAddressAreHashedPerEvent) {
  const RuleSet set = load(R"(pack: t
typologies:
  - {id: fee, title: Fee, horizon: 30d, threshold: 100, min_primaries: 1}
rules:
  - id: cities
    title: Cities
    typology: fee
    key: receiver.id
    window: 1d
    aggregate: {cities: distinct(sender.city), senders: distinct(sender.id)}
    when: cities >= 3
    severity: low
    weight: 100
)");
  Captured out;
  RuleEngine engine(set, out);
  std::string city, sender;  // one buffer each, rewritten in place for every event
  for (int i = 0; i < 3; ++i) {
    OwnedEvent owned{"e" + std::to_string(i), "",      "R1", "A1", "", "BD", kT0 + i * 60'000,
                     event::Kind::remittance, 100'0000};
    city.assign(3, static_cast<char>('a' + i));
    sender.assign(2, static_cast<char>('p' + i));
    event::Event e = owned.view();
    e.sender.city = city;
    e.sender.id = sender;
    engine.on_event(e);
  }
  ASSERT_EQ(out.signals.size(), 1u);
  EXPECT_EQ(out.signals[0].values,
            (std::vector<std::pair<std::string, std::string>>{{"cities", "3"}, {"senders", "3"}}));
}

}  // namespace
}  // namespace corridor::rules
