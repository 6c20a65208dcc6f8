// The subcommands of the `corridor` binary. Each returns the process exit code.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "connectors/synthetic/world.h"

namespace corridor::cli {

// Exit codes, documented in docs/cli.md.
enum ExitCode : int {
  kOk = 0,
  kRuntimeError = 1,   // I/O failure: unreadable input, unwritable sink
  kTestsFailed = 1,    // test-rules: a golden case produced other signals or alerts
  kUsageError = 2,     // bad command line
  kConfigError = 3,    // the config (or a file it names) is invalid; nothing was read
  kBelowBar = 4,       // backtest: a typology's recall or precision below the required bar
  kInterrupted = 130,  // stopped by SIGINT/SIGTERM after finishing the current batch
};

struct RunOptions {
  std::string config_path;
  uint64_t max_records = 0;  // 0: all
};

int run(const RunOptions& options, std::ostream& err);

// Defaults from synthetic::WorldParams, as the synthetic source's (the default world).
struct GenOptions {
  uint64_t seed = synthetic::WorldParams{}.seed;
  uint32_t entities = synthetic::WorldParams{}.entities;
  uint32_t days = synthetic::WorldParams{}.days;
  std::string start;  // RFC 3339; empty: the generator's default (2026-01-01T00:00:00Z)
  std::string out = "-";
  std::string truth;  // empty: no truth file
  std::vector<std::string> scenarios;
  bool no_scenarios = false;
};

// The synthetic world as NDJSON events and a truth file (connectors/synthetic).
int gen(const GenOptions& options, std::ostream& err);
enum class Progress { automatic, on, off };  // automatic: when stderr is a terminal

struct BacktestOptions {
  std::vector<std::string> configs;  // one, or two to compare
  std::string input;                 // NDJSON events replacing the configs' sources
  std::string truth;                 // a `corridor gen --truth` file, or ...
  std::string labels;                // ... a CSV of entity labels
  std::string label_id_column = "nodeid";
  std::string label_column = "isFraud";
  std::string json;  // write the JSON report here; - for stdout (then no table)
  std::string html;  // write the HTML report here
  Progress progress = Progress::automatic;
  double min_recall = -1, min_precision = -1;  // < 0: no bar
  uint64_t max_records = 0;
};

// Scores configs against ground truth: table on `out`, progress and diagnostics on `err`.
int backtest(const BacktestOptions& options, std::ostream& out, std::ostream& err);
int validate(const std::vector<std::string>& files, std::ostream& out, std::ostream& err);
int test_rules(const std::vector<std::string>& files, bool print_outputs, std::ostream& out,
               std::ostream& err);

}  // namespace corridor::cli
