// Ground truth for a backtest: which entities take part in which scenario instances. Two
// sources: the truth file of `corridor gen` (one JSON object per instance, NDJSON) and a CSV
// of entity labels (AMLSim's nodes.csv: a column of ids, a 0/1 column such as isFraud).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace corridor::backtest {

// "*" in typology and pattern: the instance matches every typology and rule (label files say
// that an entity is bad, not in which way).
inline constexpr std::string_view kAnything = "*";

struct TruthInstance {
  std::string scenario;  // unique id, e.g. "R1-0003"
  std::string pattern;   // "R1", a combination "R7+R11", or "*"
  std::string typology;  // "smuggling_fee", "debt_bondage" or "*"
  std::string variant;   // "fire", "near_miss" or "lookalike"
  bool expect_alert = false;
  // The patterns whose rules should signal on the subject (truth files since
  // `expect_patterns`); absent in older files: every part of a fire's pattern.
  std::optional<std::vector<std::string>> expect_patterns;
  std::string subject;
  std::vector<std::string> entities;  // subject first
  std::string note;

  bool lookalike() const noexcept { return variant == "lookalike"; }
  bool near_miss() const noexcept { return variant == "near_miss"; }
  bool of_typology(std::string_view t) const noexcept {
    return typology == kAnything || typology == t;
  }
  // A combined pattern "R7+R11" includes R7 and R11; "*" includes every pattern.
  bool includes_pattern(std::string_view p) const noexcept;
  // A positive instance of pattern p's rules: the truth expects them to signal on it (never
  // on a look-alike: a look-alike that trips a rule is a false positive, expected or not).
  bool expects_pattern(std::string_view p) const noexcept;
  // A near miss of pattern p: just below one of its thresholds, so p should not signal.
  bool near_miss_of(std::string_view p) const noexcept;
};

struct Truth {
  std::string source;  // the file it came from
  std::string format;  // "synthetic" or "labels"
  std::vector<TruthInstance> instances;
  // Entity id -> the instances it is in (indexes into `instances`, ascending).
  std::unordered_map<std::string, std::vector<uint32_t>> by_entity;

  void index();  // (re)builds by_entity from instances
  const std::vector<uint32_t>* instances_of(const std::string& entity) const {
    auto it = by_entity.find(entity);
    return it == by_entity.end() ? nullptr : &it->second;
  }
};

// A truth file that cannot be used; the message names the file and line.
class TruthError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads a `corridor gen --truth` file. Throws TruthError.
Truth load_truth_file(const std::string& path);
// The same from the file's text (a synthetic source's truth, written in memory); `source`
// names it in errors and in the report.
Truth parse_truth(std::string_view text, const std::string& source);

// Reads a CSV with a header; every row whose `label_column` is non-zero ("1", "true") makes
// one instance of typology and pattern "*" holding the entity in `id_column`. Throws
// TruthError naming a missing column or a malformed row.
Truth load_truth_labels(const std::string& path, const std::string& id_column,
                        const std::string& label_column);

}  // namespace corridor::backtest
