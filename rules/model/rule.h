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
// `new_pairs: count() where is_new_pair`, `out_in: ratio(outflow, inflow)`,
// `top_employer: max_by(sender.employer, distinct(sender.id))`,
// `near_mode: mode_share(amount_base, 0.1)`.
struct Aggregate {
  std::string name;
  std::string text;                        // as written
  window::AggregateSpec spec;              // for windowed kinds (mode's tolerance in it)
  std::optional<lang::Program> argument;   // the value (sum, min, distinct, max_by's sum or
                                           // distinct, mode...), if any
  std::optional<lang::Program> group;      // max_by: the grouping value (a string)
  std::optional<lang::Program> predicate;  // `where ...`, if any
  lang::Type argument_type = lang::Type::integer;
  lang::Type result_type = lang::Type::integer;
  // ratio(a, b): indices of two sum aggregates of the same rule; not a window aggregate.
  bool is_ratio = false;
  size_t ratio_numerator = 0;
  size_t ratio_denominator = 0;
};

// One term of a rule's `when` cut at its top-level `and`s, with the aggregates it reads.
struct WhenTerm {
  lang::Program test;
  uint64_t aggregates = 0;  // bit i: Rule::aggregates[i] (a ratio's own bit, not its operands')
};

// The most aggregates one rule may have, ratios included (at most window::kMaxAggregates of
// them over the window): the evaluator tracks a rule's aggregates in 64-bit masks.
inline constexpr size_t kMaxRuleAggregates = 32;

enum class Role : uint8_t { primary, contributor };

// An aggregate over the events of one sequence episode (the B events after one A).
struct EpisodeAggregate {
  enum class Kind : uint8_t { count, sum, min, max, distinct, max_by_sum, max_by_count };
  std::string name;
  std::string text;
  Kind kind = Kind::count;
  std::optional<lang::Program> argument;   // sum/min/max/distinct, and max_by's summed value
  std::optional<lang::Program> group;      // max_by: the grouping value (a string)
  std::optional<lang::Program> predicate;  // `where`
  lang::Type result_type = lang::Type::integer;
};

// A field of the first step's event that later expressions read as `<as>.<field>`
// (`pay.amount_base`): captured when the first step matches.
struct Binding {
  std::string name;     // "pay.amount_base"
  lang::Program value;  // evaluated on the first step's event
  lang::Type type = lang::Type::string;
};

// "A then B within T" on one key (DESIGN §5): A opens an episode; B events within `within`
// after it feed the episode's aggregates; when `when` first holds the cycle completes.
// With `repeat`, a signal needs `cycles` completed cycles (consecutive: no failed cycle
// between them; otherwise any within `repeat_within_ms`).
struct Sequence {
  std::string first_as;
  lang::Program first_match;
  std::string second_as;
  lang::Program second_match;
  int64_t within_ms = 0;
  std::vector<EpisodeAggregate> aggregates;
  lang::Program when;
  std::vector<Binding> bindings;
  // `when` is tested when the next first-step event ends the cycle (on everything the cycle
  // collected), instead of at each second-step event: for "nothing kept after payday".
  bool when_at_cycle_end = false;
  uint32_t cycles = 1;
  bool consecutive = true;
  int64_t repeat_within_ms = 0;  // non-consecutive cycles count within this
  // A consecutive streak lapses when the key has had no event of the rule for this long
  // (the state limit, rules.max_window): its state is not kept forever.
  int64_t streak_lapse_ms = 400LL * 86'400'000;
  // `escalate`: a run is the key's completed cycles without a break (consecutive: the
  // streak; otherwise each within repeat_within_ms of the one before). When the run has
  // lasted escalate_after_ms (from its first cycle's first step to the trigger), a hit
  // signals with escalate_severity. 0: the rule does not escalate (and reports no run).
  int64_t escalate_after_ms = 0;
  Severity escalate_severity = Severity::critical;
  int run_total = -1;  // a sum aggregate (index) totalled over the run's cycles, or -1
};

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
  // `when` as its top-level `and` terms, in order (one term when it is no `and`): testing them
  // one after the other is testing `when`, and the evaluator computes a term's aggregates only
  // once the terms before it held. Empty when `when` did not compile.
  std::vector<WhenTerm> when_terms;
  std::optional<Sequence> sequence;  // a sequence rule has no window, aggregate or when
  std::string explain;               // template: "{senders} distinct senders ... {key}"
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

// Calls f on every compiled expression of a rule: filter, aggregates, when, and a
// sequence's steps, bindings and episode aggregates.
template <typename F>
void for_each_program(const Rule& r, F f) {
  auto maybe = [&](const std::optional<lang::Program>& p) {
    if (p) f(*p);
  };
  maybe(r.filter);
  for (const Aggregate& a : r.aggregates) {
    maybe(a.argument);
    maybe(a.group);
    maybe(a.predicate);
  }
  if (!r.sequence) {
    f(r.when);
    return;
  }
  const Sequence& s = *r.sequence;
  f(s.first_match);
  f(s.second_match);
  f(s.when);
  for (const Binding& b : s.bindings) f(b.value);
  for (const EpisodeAggregate& a : s.aggregates) {
    maybe(a.argument);
    maybe(a.group);
    maybe(a.predicate);
  }
}

// Everything loaded from a set of pack files, ready to evaluate.
struct RuleSet {
  std::vector<Rule> rules;
  std::vector<Typology> typologies;
  std::map<std::string, std::vector<std::string>> lists;  // name -> sorted values
  std::map<std::string, lang::LookupTable> tables;        // name -> rows, for lookup()
  std::string
      hash;  // FNV-1a 64 over the pack files' and their list and table files' bytes, in load order
};

struct RuleLoadResult {
  std::optional<RuleSet> rules;  // set only when there are no errors
  std::vector<config::Diagnostic> errors;
};

struct PackLoadOptions {
  int64_t max_window_ms = 400LL * 86'400'000;  // the state limit (rules.max_window)
  // Table name -> a file whose rows replace the rows the packs give that table (its keys,
  // type and default stay the pack's): golden tests of a pack with other reference data.
  // Naming a table no pack declares is an error.
  std::map<std::string, std::string> table_files;
  // load_rule_packs: where a config or test names each path, with the entry's name as the
  // message ("rules.packs[1]"), so that a pack that cannot be read is reported there;
  // without it, at the path itself.
  std::vector<config::Diagnostic> named_at;
  // Table name -> where a test names its replacing file, with the entry's name as the
  // message ("tables.fees"): an undeclared table or an unreadable file is reported there.
  std::map<std::string, config::Diagnostic> table_named_at;
};

// Loads and checks rule packs: unknown keys and names, type errors in expressions, windows
// beyond the state limit, duplicate ids, typologies without rules. Every error at once: a
// pack that cannot be read does not keep the others from being checked.
RuleLoadResult load_rule_packs(const std::vector<std::string>& paths,
                               int64_t max_window_ms = 400LL * 86'400'000);
// For tests: `text` stands for the content of the file `path`.
RuleLoadResult parse_rule_pack(const std::string& path, const std::string& text,
                               int64_t max_window_ms = 400LL * 86'400'000);
// The same for several packs loaded together, as (path, content) in load order. Ids and list
// names are global across them; a rule may use a list or typology of any of them.
RuleLoadResult parse_rule_packs(const std::vector<std::pair<std::string, std::string>>& files,
                                int64_t max_window_ms = 400LL * 86'400'000);
RuleLoadResult load_rule_packs(const std::vector<std::string>& paths,
                               const PackLoadOptions& options);
RuleLoadResult parse_rule_packs(const std::vector<std::pair<std::string, std::string>>& files,
                                const PackLoadOptions& options);

}  // namespace corridor::rules
