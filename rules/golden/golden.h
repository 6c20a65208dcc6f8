// Golden rule tests: YAML files of input events with the exact signals and alerts they must
// produce. Run by `corridor test-rules` and by ctest.
//
//   packs: [../packs/smuggling_fee.yaml]   # relative to this file
//   tables: {minimum_wage: wages.csv}       # optional: replace a pack table's rows with a
//                                           # file's (relative to this file)
//   rates: {EUR: "1.08"}                    # optional: base currency USD plus these
//   new_pair_lookback: 90d                  # optional
//   salary_lookback: 35d                    # optional
//   cases:
//     - name: five unrelated senders pay one collector
//       events:                             # canonical events, in input order
//         - {id: e1, ts: "2026-03-01T10:00:00Z", kind: remittance, amount: "450",
//            currency: USD, sender: {id: S1, city: Dhaka}, receiver: {id: R1}}
//       signals:                            # exactly these, in this order
//         - {rule: sf.fan_in, entity: R1, trigger: e5, values: {senders: "5"}}
//       alerts: []                          # exactly these (omitted: none expected)
//
// An expected signal must give rule, entity and trigger; values (a subset of aggregates),
// explanation, evidence, key, direction and severity are compared when given. An expected
// alert must give typology, entity and trigger; score, rules (the contributing rule ids in
// order), explanation and severity are compared when given. Any other key is an error, as is
// a rule or typology the packs do not define; so are an event key that is not canonical, two
// events with one id in a case, two cases with one name, and a file without packs, cases or
// events. Every such error is reported at once, located; a case with one does not run.
//
// Events are applied in the order given, however late: a golden test has no allowed
// lateness (`corridor run` dead-letters an event older than `time.allowed_lateness` behind
// the newest). Outputs are matched with the expected ones by (rule or typology, entity,
// trigger), so one too many or too few is reported as such; the same outputs in another
// order fail once, saying so.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "engine/config/diagnostic.h"
#include "rules/model/rule.h"

namespace corridor::rules {

struct GoldenReport {
  size_t cases = 0;
  size_t passed = 0;
  std::vector<config::Diagnostic> errors;  // the test file or its packs are invalid
  std::vector<std::string> failures;       // "file: case 'name': what differed"
  // Every signal and alert produced, as CloudEvents lines (for schema validation).
  std::vector<std::string> outputs;
};

GoldenReport run_golden_file(const std::string& path);

// The packs a golden test file names, loaded as its cases run them (with its `tables`
// replacements): for `corridor validate`. Errors of the test file itself come first.
struct GoldenPacks {
  std::vector<std::string> packs;
  RuleLoadResult loaded;
};
GoldenPacks load_golden_packs(const std::string& path);

}  // namespace corridor::rules
