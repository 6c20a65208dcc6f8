// Rules and typologies as loaded from packs: plain data plus compiled expressions.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/config/diagnostic.h"
#include "engine/event/event.h"
#include "rules/lang/expression.h"
#include "rules/window/windowed_aggregates.h"

namespace corridor::rules {

enum class Severity : uint8_t { low, medium, high, critical };
std::string_view severity_name(Severity s) noexcept;

// Which entity's state a rule reads and writes.
struct KeySpec {
  enum class Kind : uint8_t {
    fields,   // one field or a composite of fields: receiver.id, [agent, receiver.id]
    account,  // account-centric: a transfer is the sender's outflow and the receiver's inflow
  };
  Kind kind = Kind::fields;
  std::vector<event::Field> fields;  // for Kind::fields, in order
  std::string text;                  // as written, for messages and alert output
};

// One named aggregate of a windowed rule: `senders: distinct(sender.id)`,
// `new_pairs: count() where is_new_pair`, `out_in: ratio(outflow, inflow)`.
struct Aggregate {
  std::string name;
  std::string text;                        // as written
  window::AggregateSpec spec;              // for windowed kinds
  std::optional<lang::Program> argument;   // the value (sum, min, distinct...), if any
  std::optional<lang::Program> predicate;  // `where ...`, if any
  lang::Type argument_type = lang::Type::integer;
  lang::Type result_type = lang::Type::integer;
  // ratio(a, b): indices of two sum aggregates of the same rule; not a window aggregate.
  bool is_ratio = false;
  size_t ratio_numerator = 0;
  size_t ratio_denominator = 0;
};

enum class Role : uint8_t { primary, contributor };

struct Rule {
  std::string id;
  std::string title;
  std::string pattern;  // R1..R14 when the rule encodes a TYPOLOGIES.md pattern
  std::string typology;
  Role role = Role::primary;
  uint32_t version = 1;
  std::string doc;
  KeySpec key;
  std::optional<lang::Program> filter;  // absent: every event
  window::WindowSpec window;
  std::vector<Aggregate> aggregates;
  lang::Program when;
  std::string explain;  // template: "{senders} distinct senders ... {key}"
  Severity severity = Severity::medium;
  uint32_t weight = 0;
  uint32_t evidence = 10;   // evidence event ids kept per signal
  int64_t suppress_ms = 0;  // no second signal for the same key within this
  std::string source_file;  // where it was defined
  int source_line = 0;
};

struct Typology {
  std::string id;
  std::string title;
  uint32_t version = 1;
  std::string doc;
  int64_t horizon_ms = 30LL * 86'400'000;
  uint32_t threshold = 100;    // alert when the weights of distinct rules hit reach this
  uint32_t min_primaries = 1;  // and at least this many of them are primaries
  std::string source_file;
  int source_line = 0;
};

// Everything loaded from a set of pack files, ready to evaluate.
struct RuleSet {
  std::vector<Rule> rules;
  std::vector<Typology> typologies;
  std::map<std::string, std::vector<std::string>> lists;  // name -> sorted values
  std::string hash;  // FNV-1a 64 over the pack files' bytes, in load order
};

struct RuleLoadResult {
  std::optional<RuleSet> rules;  // set only when there are no errors
  std::vector<config::Diagnostic> errors;
};

// Loads and checks rule packs: unknown keys and names, type errors in expressions, windows
// beyond the state limit, duplicate ids, typologies without rules. Every error at once.
RuleLoadResult load_rule_packs(const std::vector<std::string>& paths,
                               int64_t max_window_ms = 400LL * 86'400'000);
// For tests: `text` stands for the content of the file `path`.
RuleLoadResult parse_rule_pack(const std::string& path, const std::string& text,
                               int64_t max_window_ms = 400LL * 86'400'000);
// The same for several packs loaded together, as (path, content) in load order. Ids and list
// names are global across them; a rule may use a list or typology of any of them.
RuleLoadResult parse_rule_packs(const std::vector<std::pair<std::string, std::string>>& files,
                                int64_t max_window_ms = 400LL * 86'400'000);

}  // namespace corridor::rules
