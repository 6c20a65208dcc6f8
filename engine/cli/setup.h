// What `run` and `backtest` both build from an engine config.
#pragma once

#include <iosfwd>
#include <optional>
#include <string_view>

#include "engine/config/engine_config.h"
#include "engine/pipeline/pipeline.h"
#include "rules/eval/rule_engine.h"
#include "rules/model/rule.h"

namespace corridor::cli {

// Loads the rule packs `rules` names; a pack that cannot be read is reported where the config
// names it.
rules::RuleLoadResult load_packs_of(const config::RulesConfig& rules);

// Prints the errors of a config that did not load, then those of the rule packs it names
// (checked all the same, so that every error comes out at once), and a closing line.
void report_config_errors(const config::LoadResult& loaded, const std::string& path,
                          std::ostream& err);

// The rule packs the config names (rules.packs), with its state bounds applied to their
// aggregates. On errors prints them all to `err` and returns nothing.
std::optional<rules::RuleSet> load_config_rules(const config::EngineConfig& cfg, std::ostream& err);

// The engine options the config sets (rules.*, the base currency).
rules::EngineOptions engine_options(const config::EngineConfig& cfg);

// "<who>: read N records: N decoded, N dead-lettered (reason N, ...) in S s"
void print_pipeline_summary(std::ostream& err, const pipeline::PipelineStats& s,
                            std::string_view who = "corridor");

}  // namespace corridor::cli
