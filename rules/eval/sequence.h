// State and evaluation of sequence rules ("A then B within T", repeated cycles) for the
// RuleEngine: one SequenceRuleState per sequence rule, keyed like any rule's state.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/event/event.h"
#include "rules/lang/value.h"
#include "rules/model/rule.h"

namespace corridor::state {
class WriteBatch;
}  // namespace corridor::state

namespace corridor::rules {

// What a completed run of cycles reports in its signal.
struct SequenceHit {
  std::vector<std::pair<std::string, std::string>> values;  // aggregates, bindings, cycles
  std::vector<std::pair<std::string, std::string>> shown;   // the same, rendered for people
  std::vector<std::string> evidence;                        // A, then the episode's B events
  uint32_t cycles = 0;
  int64_t episode_start_ms = 0;
  bool escalated = false;  // the run has lasted Sequence::escalate_after_ms
};

class SequenceRuleState {
 public:
  // track_changes: remember the keys changed since the last checkpoint().
  explicit SequenceRuleState(const Rule& rule, bool track_changes = false);
  ~SequenceRuleState();
  SequenceRuleState(SequenceRuleState&&) noexcept;
  SequenceRuleState& operator=(SequenceRuleState&&) noexcept;

  // One event for one key (the rule's filter has passed). `slots` holds the engine's
  // per-event values (enrichment, direction, counterparty); this fills the episode
  // aggregate and binding slots. Returns true, with `hit` filled, when this event completes
  // the cycles a signal needs and the key is not suppressed.
  bool on_event(std::string_view key, const event::Event& e, std::vector<lang::Value>& slots,
                SequenceHit& hit, bool& suppressed);

  // Drops keys whose episodes, cycles and suppression can no longer matter.
  void expire(int64_t watermark_ms);
  size_t size() const noexcept;

  // State in a StateStore, one value per key under `prefix` + key (the engine's
  // "rules/s/<rule id>\0"). checkpoint(): the keys changed or dropped since the last one
  // (needs track_changes); snapshot(): every key.
  void checkpoint(const std::string& prefix, state::WriteBatch& batch);
  void snapshot(const std::string& prefix, state::WriteBatch& batch) const;
  enum class Restored { yes, changed_rule, corrupt };
  // One saved key. changed_rule: saved by a rule whose steps, bindings or aggregates differ
  // from this one's (not restored).
  Restored restore(std::string_view key, std::string_view value);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corridor::rules
