// What rule evaluation produces: signals (one rule hit) and alerts (a typology crossing).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "rules/model/rule.h"

namespace corridor::rules {

struct Signal {
  std::string id;  // 32 hex digits: XXH3-128 of (rule id, key, trigger event id)
  const Rule* rule = nullptr;
  std::string key;        // the state key: one value, or composite values joined by '|' (a
                          // '|' or backslash inside a value escaped with a backslash)
  std::string entity;     // the entity typologies score: the key, or its last component
  std::string direction;  // "in" or "out" for account-keyed rules, else empty
  std::string trigger_event_id;
  Severity severity = Severity::low;  // the rule's, or its escalated severity
  int64_t ts_ms = 0;                  // event time of the trigger
  int64_t window_start_ms = 0;
  int64_t window_end_ms = 0;
  std::vector<std::pair<std::string, std::string>> values;  // aggregate -> rendered value
  std::vector<std::string> evidence;                        // event ids, oldest first
  std::string explanation;
};

struct Contribution {
  std::string signal_id;
  std::string rule_id;
  std::string pattern;
  Role role = Role::primary;
  uint32_t weight = 0;
  Severity severity = Severity::low;  // the signal's
  int64_t ts_ms = 0;
  std::vector<std::string> evidence;  // the signal's evidence event ids
};

struct Alert {
  std::string id;  // XXH3-128 of (typology id, entity, trigger event id)
  const Typology* typology = nullptr;
  std::string entity;
  std::string trigger_event_id;
  int64_t ts_ms = 0;
  uint32_t score = 0;
  Severity severity = Severity::low;        // the highest of the contributing signals
  std::vector<Contribution> contributions;  // distinct rules within the horizon, by time
  std::vector<std::string> evidence;        // the contributions' evidence, deduplicated, in order
  std::string explanation;
};

// Receives signals and alerts in the order evaluation produces them (input order).
class SignalListener {
 public:
  virtual ~SignalListener() = default;
  virtual void on_signal(const Signal& signal) = 0;
  virtual void on_alert(const Alert& alert) = 0;
  // After each signal of a typology's rule: the entity's score within the horizon, whether
  // or not it crossed the threshold (the backtest's score distributions).
  virtual void on_score(const Typology& typology, const std::string& entity, uint32_t score,
                        int64_t ts_ms) {
    (void)typology, (void)entity, (void)score, (void)ts_ms;
  }
};

}  // namespace corridor::rules
