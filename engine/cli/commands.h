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
int validate(const std::vector<std::string>& files, std::ostream& out, std::ostream& err);
int test_rules(const std::vector<std::string>& files, bool print_outputs, std::ostream& out,
               std::ostream& err);

}  // namespace corridor::cli
