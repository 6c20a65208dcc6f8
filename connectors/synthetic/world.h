// The synthetic remittance world (DESIGN §11): a seeded population of migrant workers,
// their employers and families, domestic customers, merchants and MTO agents on five
// corridors, plus injected, labelled scenarios of the patterns R1-R14, written as
// canonical NDJSON events in event-time order with a separate ground-truth file.
//
// What a caller may rely on:
// - Same WorldParams, same bytes: events and truth depend only on the parameters (a fixed
//   PRNG, no wall clock, no hash-map iteration order). Different seeds give different worlds.
// - Every event line decodes with the canonical schema and the rates of default_rates()
//   (all currencies used are in it), without a dead letter; lines come in ts order.
// - Every event carries `labels`: {"scenario":"background","role":R} for the population,
//   {"scenario":ID,"pattern":"R1","role":R} for an injected scenario's events.
// - truth() lists every scenario instance whose events were written, in planning order.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corridor::synthetic {

// The defaults are the default world; `corridor gen` and the synthetic source take theirs
// from here.
struct WorldParams {
  uint64_t seed = 1;
  uint32_t entities = 100'000;           // people, firms and agents of the population
  uint32_t days = 60;                    // length of the world, from start_ms
  int64_t start_ms = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
  // Scenario generators to run, by name ("R1", "R7", ...); empty: every registered one.
  std::vector<std::string> scenarios;
  bool no_scenarios = false;  // the background population alone
  // Instances of each variant (fire, near miss) per scenario generator per 10,000
  // entities, at least one each.
  double instances_per_10k = 2.0;
};

// One injected scenario instance: what the backtest scores against.
struct TruthRecord {
  std::string scenario;        // unique id, also in the labels of its events: "R1-0003"
  std::string pattern;         // "R1" ... "R14"
  std::string typology;        // "smuggling_fee" or "debt_bondage"
  std::string variant;         // "fire", "near_miss" or "lookalike"
  bool expect_signal = false;  // fire: the pattern's rule should signal on `subject`
  // A combined instance (pattern "R7+R11"), fire: the typology's alert should be raised on
  // `subject` (two primaries, or a primary and two contributors, within its horizon).
  // Single-pattern instances never expect one.
  bool expect_alert = false;
  // Patterns whose rules should signal on `subject`: the pattern's own on a fire (every
  // part of a combined one), the parts that still fire on a combined near miss, and other
  // patterns the instance meets on the way (R6 on a collector paid round fees in a fee
  // band). For a look-alike, the single rules it legitimately trips on `subject` (R8 on a
  // hostel paid equal rents after payday), often none: never enough for an alert.
  std::vector<std::string> expect_patterns;
  std::string subject;  // the entity the pattern's rule is keyed on
  std::vector<std::pair<std::string, std::string>> entities;  // (role, id), subject first
  std::vector<std::pair<std::string, double>> params;         // what was varied, by name
  std::string note;  // one line: how this instance sits against the threshold
  int64_t first_ms = 0, last_ms = 0;
  uint32_t events = 0;  // events written with this scenario's label
};

// Appends one truth record as a JSON object (no newline).
void append_truth_json(std::string& out, const TruthRecord& t);

// USD per one unit of every currency the world uses, as exact decimal strings; an engine
// config needs these rates (config/examples/synthetic.yaml carries them).
const std::vector<std::pair<std::string_view, std::string_view>>& default_rates();

// Names of the registered scenario generators, each once, in registration order (a
// pattern's look-alike generators share its name).
std::vector<std::string_view> scenario_names();

struct WorldStats {
  uint64_t events = 0, scenario_events = 0;
  uint32_t workers = 0, families = 0, employers = 0, customers = 0, merchants = 0, agents = 0;
};

class World {
 public:
  // Throws std::invalid_argument for parameters out of range (no entities, no days, more
  // than 3,660 days, an unknown scenario name).
  explicit World(const WorldParams& params);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // Appends up to `max_events` events as NDJSON lines (each ending in '\n') to `out` and
  // returns how many; 0 once the world has ended.
  size_t append_events(std::string& out, size_t max_events);

  const std::vector<TruthRecord>& truth() const noexcept;
  const WorldStats& stats() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corridor::synthetic
