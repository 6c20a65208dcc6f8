// Evaluates a RuleSet over events: keyed windowed state (one table per key space, shared by
// the rules keyed alike), `when`, suppression, sequences, signals, and typology scoring into
// alerts; the state can be checkpointed to and restored from a StateStore. Deterministic:
// output depends only on the events (their order and content) and the rules, never on the
// wall clock, hash-map order, batching, expiry timing or restarts.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "engine/event/event.h"
#include "rules/eval/signal.h"
#include "rules/model/rule.h"

namespace corridor::state {
class StateStore;
class WriteBatch;
}  // namespace corridor::state

namespace corridor::rules {

struct EngineOptions {
  // is_new_pair: no transfer from this sender to this receiver within the lookback.
  int64_t new_pair_lookback_ms = 90LL * 86'400'000;
  // sender_salary_age / sender_salary_payer: salaries older than this are forgotten.
  int64_t salary_lookback_ms = 35LL * 86'400'000;
  std::string base_currency = "USD";  // for explanations
  // Remember what changed since the last checkpoint(): needed by checkpoint(), off when no
  // state store is used (the record would only grow).
  bool track_changes = false;
  // Tests only: the 64-bit hash of state keys (default, nullptr: XXH3-64). Keys whose hashes
  // collide are chained, never merged; a test makes them collide on purpose.
  uint64_t (*key_hash_for_tests)(std::string_view key) = nullptr;
};

// What restore() read.
struct RestoreStats {
  uint64_t keys = 0;            // keys of windowed rules' key spaces
  uint64_t rule_states = 0;     // (rule, key) states restored
  uint64_t dropped_states = 0;  // ... not restored: the rule is gone, or its window or
                                // aggregates changed (its state would mean something else)
  uint64_t sequence_keys = 0;   // (sequence rule, key) states restored
  uint64_t typology_entities = 0;
  uint64_t pairs = 0;     // is_new_pair history
  uint64_t salaries = 0;  // sender_salary_* history
};

struct EngineStats {
  uint64_t events = 0;
  uint64_t signals = 0;
  uint64_t alerts = 0;
  uint64_t suppressed = 0;  // rule hits not signalled because of `suppress`
  uint64_t state_keys = 0;  // (rule, key) entries held
};

class RuleEngine {
 public:
  // `rules` must outlive the engine.
  RuleEngine(const RuleSet& rules, SignalListener& listener, EngineOptions options = {});
  ~RuleEngine();
  RuleEngine(const RuleEngine&) = delete;
  RuleEngine& operator=(const RuleEngine&) = delete;

  // Evaluates every rule on one decoded event, in input order.
  void on_event(const event::Event& event);

  // Drops state that can no longer affect any result (older than every window and
  // suppression, and the pair lookback) given the watermark.
  void expire(int64_t watermark_ms);

  EngineStats stats() const;

  // The engine's state in a StateStore, under keys starting with "rules/" (DESIGN §7).
  //
  // checkpoint() adds to `batch` what changed since the previous checkpoint (or restore):
  // puts of changed state, erases of state expired since. Requires track_changes. Applied in
  // order after the previous checkpoints' batches, the store then holds exactly what
  // snapshot() would write now.
  void checkpoint(state::WriteBatch& batch);
  // The whole state, as puts.
  void snapshot(state::WriteBatch& batch) const;
  // Loads the state a previous engine saved, into an engine that has seen no event yet. The
  // engine then behaves exactly as the one that saved it would have. State of a rule that no
  // longer exists, or whose window or aggregates changed, is dropped and counted. Throws
  // state::StateStoreError on a value that does not decode (a corrupt store).
  RestoreStats restore(const state::StateStore& store);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corridor::rules
