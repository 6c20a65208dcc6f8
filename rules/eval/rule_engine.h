// Evaluates a RuleSet over events: per-rule keyed windowed state, `when`, suppression,
// signals, and typology scoring into alerts. Deterministic: output depends only on the
// events (their order and content) and the rules, never on the wall clock or hash-map order.
#pragma once

#include <memory>
#include <string>

#include "engine/event/event.h"
#include "rules/eval/signal.h"
#include "rules/model/rule.h"

namespace corridor::rules {

struct EngineOptions {
  // is_new_pair: no transfer from this sender to this receiver within the lookback.
  int64_t new_pair_lookback_ms = 90LL * 86'400'000;
  std::string base_currency = "USD";  // for explanations
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

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corridor::rules
