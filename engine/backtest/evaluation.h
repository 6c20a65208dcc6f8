// Scoring one run of a config against ground truth, at entity level: a Collector listens to
// the engine's signals, alerts and typology scores; score_run() turns what it saw into
// precision, recall and F1 per rule and per typology (definitions in docs/backtest.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/backtest/truth.h"
#include "rules/eval/signal.h"

namespace corridor::backtest {

inline constexpr int64_t kDayMs = 86'400'000;

// UTC day number of an event time (days since 1970-01-01), floor for times before it.
inline int64_t day_of(int64_t ts_ms) noexcept {
  return ts_ms >= 0 ? ts_ms / kDayMs : -((-ts_ms + kDayMs - 1) / kDayMs);
}

struct FirstFlag {
  int64_t ts_ms = 0;
  uint32_t score = 0;  // alerts: the score that crossed the threshold
};

// What one rule or typology emitted during a run.
struct Tally {
  uint64_t emitted = 0;                                 // signals or alerts
  std::unordered_map<int64_t, uint64_t> per_day;        // day_of(ts) -> emitted
  std::unordered_map<std::string, FirstFlag> flagged;   // entity -> first flag
  std::unordered_map<std::string, uint32_t> max_score;  // typologies: entity -> highest score
};

class Collector final : public rules::SignalListener {
 public:
  explicit Collector(const rules::RuleSet& set);
  void on_signal(const rules::Signal& s) override;
  void on_alert(const rules::Alert& a) override;
  void on_score(const rules::Typology& t, const std::string& entity, uint32_t score,
                int64_t ts_ms) override;

  const std::vector<Tally>& rules() const noexcept { return rules_; }            // by RuleSet index
  const std::vector<Tally>& typologies() const noexcept { return typologies_; }  // likewise

 private:
  const rules::RuleSet& set_;
  std::vector<Tally> rules_;
  std::vector<Tally> typologies_;
};

// Why a flag is not a true positive ("tp" when it is).
enum class Verdict { tp, lookalike, other_typology, background };
std::string_view verdict_name(Verdict v) noexcept;

// A flag of `typology` on `entity` (definitions in docs/backtest.md). A rule's flag also
// counts when the entity is in an instance of its `pattern` (R4, R9 and R14 belong to both
// typologies, and their scenarios name one) or one whose truth expects that pattern.
Verdict classify(const Truth& truth, const std::string& entity, std::string_view typology,
                 std::string_view pattern = {});

// The scenario instances that count for a rule, pattern or typology, and what was caught.
struct InstanceFigures {
  uint64_t instances = 0, detected = 0;
  std::vector<std::string> missed;  // scenario ids, in truth order
  uint64_t near_misses = 0, near_misses_flagged = 0;
  std::optional<double> recall;
};

struct Figures : InstanceFigures {
  std::string id;
  std::string title;
  uint64_t emitted = 0;  // signals (rules) or alerts (typologies)
  uint64_t flagged = 0;  // distinct entities
  uint64_t tp = 0, fp = 0;
  uint64_t fp_lookalike = 0, fp_other_typology = 0, fp_background = 0;
  std::optional<double> precision, f1;
  std::vector<uint64_t> per_day;  // aligned with the report's days
};

struct RuleFigures : Figures {
  std::string pattern, typology, role;
};

struct TypologyFigures : Figures {
  uint32_t threshold = 0;
  // [score, entities] of the highest score each entity reached, ascending, split by whether
  // the entity is in a matching scenario.
  std::vector<std::pair<uint32_t, uint64_t>> positive_scores, negative_scores;
};

// A pattern's instances, detected by any of its rules (R9 has three: device, phone, address).
struct PatternFigures : InstanceFigures {
  std::string pattern;
  std::vector<std::string> rules;  // ids, in pack order
};

struct LookalikeFlags {
  const TruthInstance* instance = nullptr;
  std::vector<std::string> flagged_by;  // rule ids, then typology ids, in pack order
};

struct RunFigures {
  std::vector<TypologyFigures> typologies;
  std::vector<RuleFigures> rules;
  std::vector<PatternFigures> patterns;  // in order of first appearance among the rules
  std::vector<LookalikeFlags> lookalikes;
};

// `first_day` and `days` fix the per-day arrays (day_of of the first event, number of days).
RunFigures score_run(const Collector& collected, const rules::RuleSet& set, const Truth& truth,
                     int64_t first_day, size_t days);

}  // namespace corridor::backtest
