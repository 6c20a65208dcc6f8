// A backtest's report: the runs' figures as a terminal table and as JSON
// (corridor.backtest.v1, described in docs/backtest.md; the HTML report draws from it).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/backtest/evaluation.h"
#include "engine/backtest/truth.h"

namespace corridor::backtest {

struct InputSummary {
  std::string description;  // file paths or the synthetic world's parameters
  uint64_t records = 0, decoded = 0, dead_lettered = 0;
  int64_t first_ms = INT64_MAX, last_ms = INT64_MIN;  // event times; none: first > last
};

struct RunReport {
  std::string label;  // unique among the runs
  std::string config, config_hash, rules_hash;
  double seconds = 0;
  uint64_t events = 0;  // decoded events evaluated
  uint64_t signals = 0, alerts = 0;
  RunFigures figures;
  // Per typology (pack order): its id and the entities it alerted, with the first alert.
  std::vector<std::pair<std::string, std::unordered_map<std::string, FirstFlag>>> alerted;
};

struct Report {
  std::string corridor;  // version and commit of the binary
  InputSummary input;
  const Truth* truth = nullptr;
  std::vector<RunReport> runs;

  int64_t first_day() const noexcept;
  size_t days() const noexcept;  // every UTC day from the first event's to the last's
};

// An alert (typology, entity) that one run raised and the other did not.
struct AlertDiff {
  std::string typology, entity;
  FirstFlag first;
  Verdict verdict = Verdict::background;
};
std::vector<AlertDiff> only_in(const RunReport& a, const RunReport& b, const Truth& truth);

void append_report_json(std::string& out, const Report& report);
void print_report_table(std::ostream& out, const Report& report);

}  // namespace corridor::backtest
