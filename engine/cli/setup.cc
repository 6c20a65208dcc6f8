#include "engine/cli/setup.h"

#include <iomanip>
#include <ostream>

namespace corridor::cli {

rules::RuleLoadResult load_packs_of(const config::RulesConfig& rules) {
  rules::PackLoadOptions options;
  options.max_window_ms = rules.max_window_ms;
  options.named_at = rules.pack_sites;
  return rules::load_rule_packs(rules.packs, options);
}

void report_config_errors(const config::LoadResult& loaded, const std::string& path,
                          std::ostream& err) {
  err << config::format_all(loaded.errors);
  size_t n = loaded.errors.size();
  if (!loaded.rules.packs.empty()) {
    const rules::RuleLoadResult packs = load_packs_of(loaded.rules);
    err << config::format_all(packs.errors);
    n += packs.errors.size();
  }
  err << "corridor: " << n << " error(s) in " << path
      << (n > loaded.errors.size() ? " and its rule packs" : "") << "; nothing was read\n";
}

std::optional<rules::RuleSet> load_config_rules(const config::EngineConfig& cfg,
                                                std::ostream& err) {
  rules::RuleLoadResult r = load_packs_of(cfg.rules);
  if (!r.rules) {
    err << config::format_all(r.errors);
    err << "corridor: " << r.errors.size() << " error(s) in the rule packs; nothing was read\n";
    return std::nullopt;
  }
  for (rules::Rule& rule : r.rules->rules) {
    for (rules::Aggregate& a : rule.aggregates) {
      // max_by and mode keep per-group / per-value entries; distinct (and the kinds that
      // ignore the bound) its values.
      const bool grouped = a.group || a.spec.kind == rules::window::AggregateKind::mode;
      a.spec.exact_bound = grouped ? cfg.rules.group_exact_bound : cfg.rules.distinct_exact_bound;
    }
  }
  return std::move(r.rules);
}

rules::EngineOptions engine_options(const config::EngineConfig& cfg) {
  rules::EngineOptions o;
  o.new_pair_lookback_ms = cfg.rules.new_pair_lookback_ms;
  o.salary_lookback_ms = cfg.rules.salary_lookback_ms;
  o.base_currency = std::string(cfg.currencies.base().view());
  return o;
}

void print_pipeline_summary(std::ostream& err, const pipeline::PipelineStats& s,
                            std::string_view who) {
  err << who << ": read " << s.read << " records: " << s.decoded << " decoded, " << s.dead_lettered
      << " dead-lettered";
  bool first = true;
  for (event::Reason r : event::kAllReasons) {
    const uint64_t n = s.by_reason[static_cast<size_t>(r)];
    if (n == 0) continue;
    err << (first ? " (" : ", ") << event::reason_name(r) << " " << n;
    first = false;
  }
  if (!first) err << ")";
  const double seconds = static_cast<double>(s.finished_ms - s.started_ms) / 1000.0;
  err << " in " << std::fixed << std::setprecision(2) << seconds << " s\n";
  if (s.late_applied > 0) err << who << ": " << s.late_applied << " late events applied\n";
}

}  // namespace corridor::cli
