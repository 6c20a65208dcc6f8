// The `corridor` binary: data on stdout, diagnostics on stderr, exit codes in commands.h.
#include <CLI/CLI.hpp>
#include <iostream>

#include "engine/cli/commands.h"
#include "engine/cli/version.h"
#include "engine/event/decoder.h"

namespace {

// --max-records: a whole number of records, at least 1.
const CLI::Validator kRecordCount(
    [](const std::string& text) -> std::string {
      const bool digits =
          !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
      if (digits && text.find_first_not_of('0') != std::string::npos && text.size() <= 19)
        return "";
      return "expected a whole number of records, at least 1, got " + text;
    },
    "N >= 1");

}  // namespace

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
  run_cmd
      ->add_option("--max-records", run_options.max_records,
                   "Stop after this many input records, at least 1 (default: all)")
      ->check(kRecordCount);

  std::vector<std::string> validate_files;
  CLI::App* validate_cmd =
      app.add_subcommand("validate",
                         "Check configs, rule packs and golden tests; report every error with "
                         "file:line:col");
  validate_cmd
      ->add_option("files", validate_files,
                   "Engine configs, rule packs (*.yaml with pack:) and golden test files")
      ->required();

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

  BacktestOptions bt;
  CLI::App* backtest_cmd = app.add_subcommand(
      "backtest",
      "Score one config, or two compared, against ground truth: precision, recall, F1 per rule "
      "and typology");
  backtest_cmd->add_option("-c,--config", bt.configs, "Engine config(s); give two to compare")
      ->required()
      ->check(CLI::ExistingFile)
      ->expected(1, 2);
  backtest_cmd
      ->add_option("--input", bt.input, "NDJSON events to read instead of the configs' sources")
      ->check(CLI::ExistingFile);
  CLI::Option* truth_opt =
      backtest_cmd
          ->add_option("--truth", bt.truth,
                       "Truth file of corridor gen (NDJSON); a synthetic source brings its own")
          ->check(CLI::ExistingFile);
  backtest_cmd
      ->add_option("--labels", bt.labels, "CSV of entity labels as ground truth (AMLSim nodes.csv)")
      ->check(CLI::ExistingFile)
      ->excludes(truth_opt);
  backtest_cmd->add_option("--label-id-column", bt.label_id_column, "Entity id column of --labels")
      ->capture_default_str();
  backtest_cmd->add_option("--label-column", bt.label_column, "0/1 column of --labels")
      ->capture_default_str();
  backtest_cmd->add_option("--json", bt.json, "Write the JSON report here; - for stdout");
  backtest_cmd->add_option("--html", bt.html, "Write the HTML report here");
  bool progress_on = false, progress_off = false;
  auto* p_on = backtest_cmd->add_flag("--progress", progress_on,
                                      "Draw a progress line on stderr (default: on a terminal)");
  backtest_cmd->add_flag("--no-progress", progress_off, "Never draw the progress line")
      ->excludes(p_on);
  backtest_cmd
      ->add_option("--min-recall", bt.min_recall,
                   "Exit 4 if a typology's recall is below this (0-1)")
      ->check(CLI::Range(0.0, 1.0));
  backtest_cmd
      ->add_option("--min-precision", bt.min_precision,
                   "Exit 4 if a typology's precision is below this (0-1)")
      ->check(CLI::Range(0.0, 1.0));
  backtest_cmd
      ->add_option("--max-records", bt.max_records,
                   "Stop each run after this many input records, at least 1 (default: all)")
      ->check(kRecordCount);

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
  if (*backtest_cmd) {
    bt.progress = progress_on ? Progress::on : progress_off ? Progress::off : Progress::automatic;
    return backtest(bt, std::cout, std::cerr);
  }
  if (*version_cmd) {
    std::cout << "corridor " << version() << " (commit " << git_commit() << ", json decoder "
              << corridor::event::json_decoder_isa() << ")\n";
    return kOk;
  }
  return kUsageError;
}
