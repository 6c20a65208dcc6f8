#include <ostream>

#include "engine/cli/commands.h"
#include "rules/golden/golden.h"

namespace corridor::cli {

int test_rules(const std::vector<std::string>& files, bool print_outputs, std::ostream& out,
               std::ostream& err) {
  size_t cases = 0, passed = 0, invalid = 0;
  for (const std::string& f : files) {
    rules::GoldenReport report = rules::run_golden_file(f);
    if (!report.errors.empty()) {
      err << config::format_all(report.errors);
      ++invalid;
      continue;
    }
    for (const std::string& failure : report.failures) err << failure << "\n";
    if (print_outputs) {
      for (const std::string& line : report.outputs) out << line << "\n";
    }
    cases += report.cases;
    passed += report.passed;
    err << f << ": " << report.passed << " of " << report.cases << " cases passed\n";
  }
  // The other files' count stands beside the invalid ones.
  err << "corridor: " << passed << " of " << cases << " golden cases passed";
  if (invalid > 0) err << "; " << invalid << " test file(s) invalid";
  err << "\n";
  if (invalid > 0) return kConfigError;
  return passed == cases ? kOk : kTestsFailed;
}

}  // namespace corridor::cli
