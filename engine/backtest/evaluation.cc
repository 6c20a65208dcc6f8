#include "engine/backtest/evaluation.h"

#include <algorithm>
#include <map>

namespace corridor::backtest {
namespace {

void count(Tally& t, const std::string& entity, int64_t ts_ms, uint32_t score) {
  ++t.emitted;
  ++t.per_day[day_of(ts_ms)];
  t.flagged.try_emplace(entity, FirstFlag{ts_ms, score});
}

std::optional<double> ratio(uint64_t num, uint64_t den) {
  if (den == 0) return std::nullopt;
  return static_cast<double>(num) / static_cast<double>(den);
}

bool flagged_any(const Tally& t, const TruthInstance& i) {
  return std::any_of(i.entities.begin(), i.entities.end(),
                     [&](const std::string& e) { return t.flagged.contains(e); });
}

// Counts the instances `positive` and `near_miss` pick, and those of them `hit`.
template <typename Positive, typename NearMiss, typename Hit>
void count_instances(InstanceFigures& f, const Truth& truth, Positive positive, NearMiss near_miss,
                     Hit hit) {
  for (const TruthInstance& i : truth.instances) {
    const bool pos = positive(i), near = near_miss(i);
    if (!pos && !near) continue;
    const bool caught = hit(i);
    if (pos) {
      ++f.instances;
      if (caught) {
        ++f.detected;
      } else {
        f.missed.push_back(i.scenario);
      }
    }
    if (near) {
      ++f.near_misses;
      f.near_misses_flagged += caught ? 1 : 0;
    }
  }
  f.recall = ratio(f.detected, f.instances);
}

// Flags and instances of one rule or typology. `positive` and `near_miss` pick the
// instances that count for it.
template <typename Positive, typename NearMiss>
void tally(Figures& f, const Tally& t, const Truth& truth, std::string_view typology,
           std::string_view pattern, Positive positive, NearMiss near_miss, int64_t first_day) {
  f.emitted = t.emitted;
  f.flagged = t.flagged.size();
  for (const auto& [entity, first] : t.flagged) {
    switch (classify(truth, entity, typology, pattern)) {
      case Verdict::tp:
        ++f.tp;
        break;
      case Verdict::lookalike:
        ++f.fp_lookalike;
        break;
      case Verdict::other_typology:
        ++f.fp_other_typology;
        break;
      case Verdict::background:
        ++f.fp_background;
        break;
    }
  }
  f.fp = f.flagged - f.tp;
  count_instances(f, truth, positive, near_miss,
                  [&](const TruthInstance& i) { return flagged_any(t, i); });
  f.precision = ratio(f.tp, f.flagged);
  if (f.precision && f.recall && *f.precision + *f.recall > 0) {
    f.f1 = 2 * *f.precision * *f.recall / (*f.precision + *f.recall);
  }
  for (const auto& [day, n] : t.per_day) {
    const int64_t at = day - first_day;
    if (at >= 0 && static_cast<size_t>(at) < f.per_day.size()) f.per_day[at] += n;
  }
}

}  // namespace

Collector::Collector(const rules::RuleSet& set)
    : set_(set), rules_(set.rules.size()), typologies_(set.typologies.size()) {}

void Collector::on_signal(const rules::Signal& s) {
  count(rules_[s.rule - set_.rules.data()], s.entity, s.ts_ms, 0);
}

void Collector::on_alert(const rules::Alert& a) {
  count(typologies_[a.typology - set_.typologies.data()], a.entity, a.ts_ms, a.score);
}

void Collector::on_score(const rules::Typology& t, const std::string& entity, uint32_t score,
                         int64_t) {
  uint32_t& best = typologies_[&t - set_.typologies.data()].max_score[entity];
  best = std::max(best, score);
}

std::string_view verdict_name(Verdict v) noexcept {
  switch (v) {
    case Verdict::tp:
      return "tp";
    case Verdict::lookalike:
      return "lookalike";
    case Verdict::other_typology:
      return "other_typology";
    case Verdict::background:
      return "background";
  }
  return "background";
}

Verdict classify(const Truth& truth, const std::string& entity, std::string_view typology,
                 std::string_view pattern) {
  const std::vector<uint32_t>* in = truth.instances_of(entity);
  if (in == nullptr) return Verdict::background;
  bool lookalike = false;
  for (uint32_t i : *in) {
    const TruthInstance& t = truth.instances[i];
    if (t.lookalike()) {
      lookalike = true;
    } else if (t.of_typology(typology) ||
               (!pattern.empty() && (t.includes_pattern(pattern) || t.expects_pattern(pattern)))) {
      return Verdict::tp;
    }
  }
  return lookalike ? Verdict::lookalike : Verdict::other_typology;
}

RunFigures score_run(const Collector& collected, const rules::RuleSet& set, const Truth& truth,
                     int64_t first_day, size_t days) {
  RunFigures out;
  for (size_t k = 0; k < set.typologies.size(); ++k) {
    const rules::Typology& typ = set.typologies[k];
    const Tally& t = collected.typologies()[k];
    TypologyFigures f;
    f.id = typ.id;
    f.title = typ.title;
    f.threshold = typ.threshold;
    f.per_day.assign(days, 0);
    tally(
        f, t, truth, typ.id, {},
        [&](const TruthInstance& i) { return i.expect_alert && i.of_typology(typ.id); },
        [&](const TruthInstance& i) { return i.near_miss() && i.of_typology(typ.id); }, first_day);
    std::map<uint32_t, uint64_t> pos, neg;
    for (const auto& [entity, score] : t.max_score) {
      ++(classify(truth, entity, typ.id) == Verdict::tp ? pos : neg)[score];
    }
    f.positive_scores.assign(pos.begin(), pos.end());
    f.negative_scores.assign(neg.begin(), neg.end());
    out.typologies.push_back(std::move(f));
  }
  for (size_t k = 0; k < set.rules.size(); ++k) {
    const rules::Rule& r = set.rules[k];
    RuleFigures f;
    f.id = r.id;
    f.title = r.title;
    f.pattern = r.pattern;
    f.typology = r.typology;
    f.role = r.role == rules::Role::primary ? "primary" : "contributor";
    f.per_day.assign(days, 0);
    tally(
        f, collected.rules()[k], truth, r.typology, r.pattern,
        [&](const TruthInstance& i) { return i.expects_pattern(r.pattern); },
        [&](const TruthInstance& i) { return i.near_miss_of(r.pattern); }, first_day);
    out.rules.push_back(std::move(f));
  }
  for (size_t k = 0; k < set.rules.size(); ++k) {
    const std::string& p = set.rules[k].pattern;
    if (p.empty()) continue;
    auto it = std::find_if(out.patterns.begin(), out.patterns.end(),
                           [&](const PatternFigures& f) { return f.pattern == p; });
    if (it == out.patterns.end()) {
      it = out.patterns.insert(it, PatternFigures{});
      it->pattern = p;
    }
    it->rules.push_back(set.rules[k].id);
  }
  for (PatternFigures& f : out.patterns) {
    count_instances(
        f, truth, [&](const TruthInstance& i) { return i.expects_pattern(f.pattern); },
        [&](const TruthInstance& i) { return i.near_miss_of(f.pattern); },
        [&](const TruthInstance& i) {
          for (size_t k = 0; k < set.rules.size(); ++k) {
            if (set.rules[k].pattern == f.pattern && flagged_any(collected.rules()[k], i)) {
              return true;
            }
          }
          return false;
        });
  }
  for (const TruthInstance& i : truth.instances) {
    if (!i.lookalike()) continue;
    LookalikeFlags l{&i, {}};
    for (size_t k = 0; k < set.rules.size(); ++k) {
      if (flagged_any(collected.rules()[k], i)) l.flagged_by.push_back(set.rules[k].id);
    }
    for (size_t k = 0; k < set.typologies.size(); ++k) {
      if (flagged_any(collected.typologies()[k], i)) l.flagged_by.push_back(set.typologies[k].id);
    }
    out.lookalikes.push_back(std::move(l));
  }
  return out;
}

}  // namespace corridor::backtest
