// The `corridor` binary: data on stdout, diagnostics on stderr, exit codes in commands.h.
#include <CLI/CLI.hpp>
#include <iostream>

#include "engine/cli/commands.h"
#include "engine/cli/version.h"
#include "engine/event/decoder.h"

int main(int argc, char** argv) {
  using namespace corridor::cli;
  if (!corridor::event::cpu_runs_json_decoder()) {
    std::cerr << "corridor: this build's JSON decoder was compiled for "
              << corridor::event::json_decoder_isa()
              << " and this CPU lacks its instructions; rebuild with "
                 "-DCORRIDOR_JSON_ISA=westmere (or generic)\n";
    return kRuntimeError;
  }
  CLI::App app{
      "corridor: streaming detection of migrant-smuggling fees and debt bondage in "
      "money-transfer events"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(version()));

  RunOptions run_options;
  CLI::App* run_cmd = app.add_subcommand("run", "Run the engine on the inputs of a config");
  run_cmd->add_option("-c,--config", run_options.config_path, "Engine config (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  run_cmd->add_option("--max-records", run_options.max_records,
                      "Stop after this many input records (default: all)");

  std::vector<std::string> validate_files;
  CLI::App* validate_cmd =
      app.add_subcommand("validate", "Check configs; report every error with file:line:col");
  validate_cmd->add_option("files", validate_files, "Config files")->required();

  std::vector<std::string> golden_files;
  bool print_outputs = false;
  CLI::App* test_cmd = app.add_subcommand(
      "test-rules", "Run golden rule tests: events in, the exact signals and alerts out");
  test_cmd->add_option("files", golden_files, "Golden test files (*.test.yaml)")->required();
  test_cmd->add_flag("--print-outputs", print_outputs,
                     "Print every signal and alert produced, as CloudEvents JSON lines, on stdout");

  GenOptions gen_options;
  CLI::App* gen_cmd = app.add_subcommand(
      "gen", "Write a seeded synthetic remittance world: NDJSON events and a truth file");
  gen_cmd->add_option("--seed", gen_options.seed, "Seed; the same seed gives the same bytes")
      ->capture_default_str();
  gen_cmd->add_option("--entities", gen_options.entities, "People, firms and agents")
      ->capture_default_str()
      ->check(CLI::Range(1U, 100'000'000U));
  gen_cmd->add_option("--days", gen_options.days, "Days of activity")
      ->capture_default_str()
      ->check(CLI::Range(1U, 3660U));
  gen_cmd->add_option("--start", gen_options.start,
                      "First day, RFC 3339 (default 2026-01-01T00:00:00Z)");
  gen_cmd->add_option("-o,--out", gen_options.out, "Events file (NDJSON); - for stdout")
      ->capture_default_str();
  gen_cmd->add_option("--truth", gen_options.truth,
                      "Truth file (NDJSON, one scenario instance a line); - for stdout");
  gen_cmd
      ->add_option("--scenarios", gen_options.scenarios,
                   "Scenario generators to inject, by pattern (default: all registered)")
      ->delimiter(',');
  gen_cmd->add_flag("--no-scenarios", gen_options.no_scenarios, "The background population only")
      ->excludes("--scenarios");

  CLI::App* version_cmd = app.add_subcommand("version", "Print the version and build facts");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help or the error
    return code == 0 ? kOk : kUsageError;
  }

  if (*run_cmd) return run(run_options, std::cerr);
  if (*validate_cmd) return validate(validate_files, std::cout, std::cerr);
  if (*test_cmd) return test_rules(golden_files, print_outputs, std::cout, std::cerr);
  if (*gen_cmd) return gen(gen_options, std::cerr);
  if (*version_cmd) {
    std::cout << "corridor " << version() << " (commit " << git_commit() << ", json decoder "
              << corridor::event::json_decoder_isa() << ")\n";
    return kOk;
  }
  return kUsageError;
}
