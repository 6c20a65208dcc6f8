// The rule engine's state in a StateStore: a run stopped at any point, saved, and resumed by
// a new engine from the store emits exactly what one uninterrupted run emits; incremental
// checkpoints leave the store equal to a full snapshot; changed rules drop their state.
#include <gtest/gtest.h>

#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "engine/state/state_store.h"
#include "rules/eval/rule_engine.h"
#include "tests/unit/rules/eval/owned_event.h"

namespace corridor::rules {
namespace {

constexpr int64_t kT0 = 1'772'323'200'000;  // 2026-03-01T00:00:00Z
constexpr int64_t kHour = 3'600'000;

// Every kind of state: distinct (exact and past its bound), sums, min/max/last, ratio, a
// composite and an account key, is_new_pair, salaries, suppression, evidence, both sequence kinds
// with bindings, episode aggregates and escalating runs, and a typology.
const char* kPack = R"(pack: state
typologies:
  - {id: fee, title: Fee, horizon: 30d, threshold: 80, min_primaries: 1}
rules:
  - id: fan_in
    title: Fan in
    typology: fee
    key: receiver.id
    window: 7d
    aggregate:
      senders: distinct(sender.id)
      cities: distinct(sender.city)
      new_pairs: count() where is_new_pair
      total: sum(amount_base)
      smallest: min(amount_base)
      largest: max(amount_base)
      latest: last(amount_base)
    when: senders >= 4 and new_pairs >= 2
    severity: medium
    weight: 40
    evidence: 5
    suppress: 12h
  - id: many_payees
    title: Many payees
    typology: fee
    role: contributor
    key: sender.id
    window: 2d
    aggregate:
      payees: distinct(receiver.id)
    when: payees >= 3
    severity: medium
    weight: 20
    suppress: 6h
  - id: burst
    title: Burst at one agent
    typology: fee
    key: [agent, receiver.id]
    window: 60m
    aggregate: {senders: distinct(sender.id)}
    when: senders >= 2
    severity: medium
    weight: 40
  - id: in_out
    title: In then out
    typology: fee
    key: account
    window: 48h
    aggregate:
      inflow: sum(amount_base) where direction == "in"
      outflow: sum(amount_base) where direction == "out"
      out_in: ratio(outflow, inflow)
      spread: cv(amount_base)
    when: inflow >= 1000 and out_in >= 0.8
    severity: medium
    weight: 40
    suppress: 1d
  - id: paid_workers
    title: Workers paying within two days of payday
    typology: fee
    role: contributor
    key: receiver.id
    filter: sender_salary_age <= 2d and sender_salary_payer != receiver.id
    window: 2d
    aggregate: {workers: distinct(sender.id)}
    when: workers >= 3
    severity: low
    weight: 20
  - id: sweep
    title: Salary swept
    typology: fee
    key: account
    sequence:
      - as: pay
        match: kind == "salary" and direction == "in"
      - as: out
        match: direction == "out"
        within: 24h
        aggregate:
          to_one: max_by(counterparty.id, sum(amount_base))
          payees: distinct(counterparty.id)
        when: to_one >= 0.5 * pay.amount_base
    repeat: {cycles: 2, consecutive: true}
    escalate: {after: 3d, severity: high}
    severity: medium
    weight: 40
  - id: paid_back
    title: Paid back
    typology: fee
    key: account
    sequence:
      - as: pay
        match: kind == "salary" and direction == "in"
      - as: back
        match: direction == "out" and counterparty.id == pay.sender.id
        within: 72h
        aggregate:
          returned: sum(amount_base)
        when: returned >= 0.1 * pay.amount_base
    repeat: {cycles: 2, consecutive: false, within: 30d}
    escalate: {after: 5d, severity: critical, total: returned}
    severity: medium
    weight: 40
)";

RuleSet load(const std::string& yaml) { return load_pack(yaml, "state.yaml"); }

// A small, busy population so that every rule fires many times: 60 people, 10 employers
// paying salaries, 5 agents; about 12 events per hour over 20 days, with some late ones.
std::vector<OwnedEvent> stream(size_t n) {
  std::mt19937_64 rng(7);
  std::vector<OwnedEvent> out;
  int64_t ts = kT0;
  for (size_t i = 0; i < n; ++i) {
    OwnedEvent e;
    e.id = "e" + std::to_string(i);
    ts += static_cast<int64_t>(rng() % 600'000);
    e.ts = rng() % 10 == 0 ? ts - static_cast<int64_t>(rng() % kHour) : ts;  // some late
    const uint64_t x = rng() % 100;
    if (x < 15) {
      e.kind = event::Kind::salary;
      e.sender = "EMP" + std::to_string(rng() % 10);
      e.receiver = "P" + std::to_string(rng() % 60);
      e.units = static_cast<int64_t>(800 + rng() % 800) * 10'000;
    } else {
      e.kind = x < 80 ? event::Kind::remittance : event::Kind::transfer;
      e.sender = "P" + std::to_string(rng() % 60);
      e.receiver = x < 25 ? "EMP" + std::to_string(rng() % 10) : "P" + std::to_string(rng() % 60);
      e.units = static_cast<int64_t>(50 + rng() % 1500) * 10'000;
    }
    e.agent = "A" + std::to_string(rng() % 5);
    e.sender_city = "C" + std::to_string(rng() % 7);
    out.push_back(std::move(e));
  }
  return out;
}

// Everything the engine emitted, in order, as comparable text.
struct Transcript : SignalListener {
  std::vector<std::string> lines;
  void on_signal(const Signal& s) override {
    std::string l = "S " + s.id + " " + s.rule->id + " " + s.key + " " +
                    std::string(severity_name(s.severity)) + " " + s.explanation + " [";
    for (const auto& [k, v] : s.values) l += k + "=" + v + " ";
    for (const auto& id : s.evidence) l += id + " ";
    lines.push_back(l + "]");
  }
  void on_alert(const Alert& a) override {
    std::string l = "A " + a.id + " " + a.entity + " " + std::to_string(a.score) + " " +
                    std::string(severity_name(a.severity)) + " [";
    for (const auto& c : a.contributions) l += c.signal_id + " ";
    for (const auto& id : a.evidence) l += id + " ";
    lines.push_back(l + "]");
  }
};

EngineOptions tracking() {
  EngineOptions o;
  o.track_changes = true;
  o.new_pair_lookback_ms = 3 * 24 * kHour;
  o.salary_lookback_ms = 4 * 24 * kHour;
  return o;
}

// Writes what changed since the engine's last checkpoint into `store`.
void checkpoint_into(RuleEngine& engine, state::MemoryStateStore& store) {
  state::WriteBatch batch;
  engine.checkpoint(batch);
  store.write(batch);
}

// A store holding the engine's whole state.
state::MemoryStateStore snapshot_of(const RuleEngine& engine) {
  state::MemoryStateStore store;
  state::WriteBatch all;
  engine.snapshot(all);
  store.write(all);
  return store;
}

// Feeds events [from, to), expiring every 97 events a little behind the newest time (as
// rule_handler does at batch ends).
void feed(RuleEngine& engine, const std::vector<OwnedEvent>& events, size_t from, size_t to,
          int64_t& max_ts) {
  for (size_t i = from; i < to; ++i) {
    engine.on_event(events[i].view());
    max_ts = std::max(max_ts, events[i].ts);
    if (i % 97 == 96) engine.expire(max_ts - kHour);
  }
}

std::vector<std::string> uninterrupted(const RuleSet& set, const std::vector<OwnedEvent>& ev) {
  Transcript t;
  RuleEngine engine(set, t, tracking());
  int64_t max_ts = INT64_MIN;
  feed(engine, ev, 0, ev.size(), max_ts);
  return t.lines;
}

TEST(EngineStateTest, ResumingFromTheStoreChangesNoOutput) {
  const RuleSet set = load(kPack);
  const std::vector<OwnedEvent> ev = stream(3000);
  const std::vector<std::string> expected = uninterrupted(set, ev);
  ASSERT_GT(expected.size(), 100u);
  size_t alerts = 0;
  for (const auto& l : expected) alerts += l[0] == 'A' ? 1 : 0;
  ASSERT_GT(alerts, 5u);

  // Stop after each of these, save, and go on in a new engine restored from the store.
  Transcript t;
  state::MemoryStateStore store;
  int64_t max_ts = INT64_MIN;
  size_t at = 0;
  for (const size_t stop : {1ul, 2ul, 250ul, 251ul, 1000ul, 2999ul, 3000ul}) {
    RuleEngine engine(set, t, tracking());
    const RestoreStats r = engine.restore(store);
    EXPECT_EQ(r.dropped_states, 0u);
    feed(engine, ev, at, stop, max_ts);
    // Two checkpoints, the second one with nothing new, as a periodic checkpoint would.
    state::WriteBatch batch;
    engine.checkpoint(batch);
    engine.checkpoint(batch);
    store.write(batch);
    at = stop;
  }
  EXPECT_EQ(t.lines, expected);
}

// State keys are held by their 64-bit hash, colliding keys chained on one another. With a
// hash that makes every key collide, or half of them, the engine must emit exactly what it
// emits with the real hash: through evaluation, expiry, checkpoints and restores.
uint64_t one_hash(std::string_view) { return 42; }
uint64_t two_hashes(std::string_view key) { return key.size() % 2; }

TEST(EngineStateTest, CollidingKeyHashesNeverMixState) {
  const RuleSet set = load(kPack);
  const std::vector<OwnedEvent> ev = stream(2000);
  const std::vector<std::string> expected = uninterrupted(set, ev);
  ASSERT_GT(expected.size(), 50u);
  for (auto* hash : {&one_hash, &two_hashes}) {
    EngineOptions o = tracking();
    o.key_hash_for_tests = hash;
    Transcript t;
    state::MemoryStateStore store;
    int64_t max_ts = INT64_MIN;
    size_t at = 0;
    for (const size_t stop : {700ul, 1400ul, 2000ul}) {
      RuleEngine engine(set, t, o);
      engine.restore(store);
      feed(engine, ev, at, stop, max_ts);
      checkpoint_into(engine, store);
      at = stop;
    }
    EXPECT_EQ(t.lines, expected);
    // The store does not depend on the hash either (keys are saved by their text).
    Transcript t2;
    RuleEngine plain(set, t2, tracking());
    int64_t max2 = INT64_MIN;
    feed(plain, ev, 0, ev.size(), max2);
    EXPECT_EQ(store.entries(), snapshot_of(plain).entries());
  }
}

TEST(EngineStateTest, IncrementalCheckpointsEqualAFullSnapshot) {
  const RuleSet set = load(kPack);
  const std::vector<OwnedEvent> ev = stream(2000);
  Transcript t;
  RuleEngine engine(set, t, tracking());
  state::MemoryStateStore incremental;
  int64_t max_ts = INT64_MIN;
  for (size_t at = 0; at < ev.size(); at += 173) {
    feed(engine, ev, at, std::min(ev.size(), at + 173), max_ts);
    checkpoint_into(engine, incremental);

    const state::MemoryStateStore full = snapshot_of(engine);
    ASSERT_EQ(incremental.entries(), full.entries()) << "after event " << at + 173;
  }
  // Something of every kind is in there.
  for (const char* prefix :
       {"rules/format", "rules/k/receiver.id", "rules/k/sender.id", "rules/k/agent,receiver.id",
        "rules/k/account", "rules/s/sweep", "rules/s/paid_back", "rules/t/fee", "rules/p/"}) {
    size_t n = 0;
    incremental.scan(prefix, [&](std::string_view, std::string_view) { ++n; });
    EXPECT_GT(n, 0u) << prefix;
  }
  // Expiry far ahead drops everything but running consecutive streaks (they last until the
  // next pay cycle, up to the state limit of 400 days), and the checkpoint erases it from
  // the store.
  engine.expire(max_ts + 399LL * 24 * kHour);
  checkpoint_into(engine, incremental);
  size_t streaks = 0;
  incremental.scan("rules/s/sweep", [&](std::string_view, std::string_view) { ++streaks; });
  EXPECT_GT(streaks, 0u);
  EXPECT_EQ(engine.stats().state_keys, streaks);
  EXPECT_EQ(incremental.size(), 1 + streaks);
  EXPECT_TRUE(incremental.get("rules/format").has_value());
  // Past the limit the streaks have lapsed too: nothing is left but the format.
  engine.expire(max_ts + 401LL * 24 * kHour);
  checkpoint_into(engine, incremental);
  EXPECT_EQ(engine.stats().state_keys, 0u);
  EXPECT_EQ(incremental.size(), 1u);
}

TEST(EngineStateTest, ChangedOrRemovedRulesDropTheirStateAndKeepTheRest) {
  const RuleSet set = load(kPack);
  const std::vector<OwnedEvent> ev = stream(1500);
  Transcript t;
  state::MemoryStateStore store;
  {
    RuleEngine engine(set, t, tracking());
    int64_t max_ts = INT64_MIN;
    feed(engine, ev, 0, ev.size(), max_ts);
    checkpoint_into(engine, store);
  }
  // fan_in's window changes (7d -> 5d), many_payees goes, `paid_back` changes its step;
  // a changed threshold (burst) keeps its state.
  std::string changed = kPack;
  const auto replace = [&](const std::string& from, const std::string& to) {
    const size_t at = changed.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    changed.replace(at, from.size(), to);
  };
  replace("    window: 7d\n", "    window: 5d\n");
  replace("when: senders >= 2\n", "when: senders >= 3\n");
  replace("within: 72h", "within: 48h");
  const size_t a = changed.find("  - id: many_payees");
  const size_t b = changed.find("  - id: burst");
  changed.erase(a, b - a);
  const RuleSet set2 = load(changed);

  size_t fan_in = 0, payees = 0, paid_back = 0, kept_before = 0;
  store.scan("rules/k/receiver.id", [&](std::string_view, std::string_view) { ++fan_in; });
  store.scan("rules/k/sender.id", [&](std::string_view, std::string_view) { ++payees; });
  store.scan("rules/s/paid_back", [&](std::string_view, std::string_view) { ++paid_back; });
  store.scan("rules/k/agent", [&](std::string_view, std::string_view) { ++kept_before; });
  ASSERT_GT(fan_in * payees * paid_back * kept_before, 0u);

  Transcript t2;
  RuleEngine engine(set2, t2, tracking());
  const RestoreStats r = engine.restore(store);
  EXPECT_EQ(r.dropped_states, fan_in + payees + paid_back);
  EXPECT_GT(r.rule_states, kept_before);  // burst and in_out
  EXPECT_GT(r.sequence_keys, 0u);         // sweep
  EXPECT_GT(r.pairs, 0u);
  EXPECT_GT(r.typology_entities, 0u);
  // The next checkpoint erases what was dropped: the store equals a snapshot again.
  checkpoint_into(engine, store);
  const state::MemoryStateStore full = snapshot_of(engine);
  EXPECT_EQ(store.entries(), full.entries());
}

// max_by and mode state, exact and past its bound: a resumed run emits what an uninterrupted
// one does; a changed tolerance or bound is a changed shape (the state is dropped).
const char* kGroupPack = R"(pack: groups
typologies:
  - {id: fee, title: Fee, horizon: 30d, threshold: 40, min_primaries: 1}
rules:
  - id: agent_mix
    title: Agent mix
    typology: fee
    key: agent
    window: 24h
    aggregate:
      top_payer: max_by(sender.id, sum(amount_base))
      top_count: max_by(receiver.id, count()) where kind == "remittance"
      cities: max_by(receiver.id, distinct(sender.city))
      near: mode_share(amount_base, 0.2)
      modal: mode(amount_base, 0.2)
    when: top_count >= 2 and near >= 0.3
    severity: medium
    weight: 40
    suppress: 2h
)";

TEST(EngineStateTest, GroupAggregatesResumeExactlyAndTheirParametersAreTheirShape) {
  for (const uint32_t bound : {256u, 12u}) {
    SCOPED_TRACE(bound);
    RuleSet set = load(kGroupPack);
    for (Aggregate& a : set.rules[0].aggregates) a.spec.exact_bound = bound;
    const std::vector<OwnedEvent> ev = stream(2000);
    const std::vector<std::string> expected = uninterrupted(set, ev);
    std::cout << "bound " << bound << ": " << expected.size() << " outputs\n";
    ASSERT_GT(expected.size(), 5u);
    Transcript t;
    state::MemoryStateStore store;
    int64_t max_ts = INT64_MIN;
    size_t at = 0;
    for (const size_t stop : {1ul, 333ul, 1000ul, 1999ul, 2000ul}) {
      RuleEngine engine(set, t, tracking());
      EXPECT_EQ(engine.restore(store).dropped_states, 0u);
      feed(engine, ev, at, stop, max_ts);
      checkpoint_into(engine, store);
      at = stop;
    }
    EXPECT_EQ(t.lines, expected);

    // The same rule with another tolerance, or another bound, keeps none of the state.
    size_t states = 0;
    store.scan("rules/k/agent", [&](std::string_view, std::string_view) { ++states; });
    ASSERT_GT(states, 0u);
    std::string text = kGroupPack;
    text.replace(text.find("0.2)\n      modal"), 3, "0.25");
    RuleSet other_tolerance = load(text);
    RuleSet other_bound = load(kGroupPack);
    for (Aggregate& a : other_bound.rules[0].aggregates) a.spec.exact_bound = bound + 1;
    for (const RuleSet* changed : {&other_tolerance, &other_bound}) {
      Transcript t2;
      RuleEngine engine(*changed, t2, tracking());
      const RestoreStats r = engine.restore(store);
      EXPECT_EQ(r.dropped_states, states);
      EXPECT_EQ(r.rule_states, 0u);
    }
  }
}

TEST(EngineStateTest, CorruptValuesAreFatalAndNameNoEntity) {
  const RuleSet set = load(kPack);
  const std::vector<OwnedEvent> ev = stream(500);
  state::MemoryStateStore good;
  {
    Transcript t;
    RuleEngine engine(set, t, tracking());
    int64_t max_ts = INT64_MIN;
    feed(engine, ev, 0, ev.size(), max_ts);
    good = snapshot_of(engine);
  }
  size_t checked = 0;
  for (const auto& [key, value] : good.entries()) {
    if (key == "rules/format") continue;
    // Every value cut short by one byte is refused, and so is one byte too many.
    for (const std::string& bad : {value.substr(0, value.size() - 1), value + "x"}) {
      state::MemoryStateStore store = good;
      state::WriteBatch b;
      b.put(key, bad);
      store.write(b);
      Transcript t;
      RuleEngine engine(set, t, tracking());
      try {
        engine.restore(store);
        ADD_FAILURE() << "restored a damaged value at " << key;
      } catch (const state::StateStoreError& e) {
        const std::string what = e.what();
        EXPECT_EQ(what.find(key.substr(key.rfind('\0') + 1)), std::string::npos) << what;
      }
    }
    if (++checked == 40) break;
  }
  EXPECT_EQ(checked, 40u);

  state::MemoryStateStore future = good;
  state::WriteBatch b;
  b.put("rules/format", std::string("\x02\0\0\0", 4));
  future.write(b);
  Transcript t;
  RuleEngine engine(set, t, tracking());
  EXPECT_THROW(engine.restore(future), state::StateStoreError);
}

TEST(EngineStateTest, CheckpointNeedsChangeTracking) {
  const RuleSet set = load(kPack);
  Transcript t;
  RuleEngine engine(set, t);
  state::WriteBatch batch;
  EXPECT_THROW(engine.checkpoint(batch), std::logic_error);
}

}  // namespace
}  // namespace corridor::rules
