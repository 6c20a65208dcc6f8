// `corridor backtest`: runs one config, or two for comparison, over an input and scores the
// signals and alerts against ground truth (docs/backtest.md).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <set>

#include "connectors/registry.h"
#include "engine/backtest/evaluation.h"
#include "engine/backtest/report.h"
#include "engine/backtest/truth.h"
#include "engine/cli/commands.h"
#include "engine/cli/setup.h"
#include "engine/cli/version.h"
#include "engine/config/engine_config.h"
#include "engine/pipeline/pipeline.h"
#include "rules/eval/cloudevents.h"
#include "rules/eval/rule_engine.h"
#include "rules/eval/rule_handler.h"

namespace corridor::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct Loaded {
  config::EngineConfig config;
  rules::RuleSet rules;
  std::string label;
};

// Counts and times what reaches the rules and draws a progress line on stderr.
class ProgressHandler final : public pipeline::EventHandler {
 public:
  ProgressHandler(pipeline::EventHandler& inner, std::ostream* err, std::string label,
                  uint64_t total_bytes)
      : inner_(inner), err_(err), label_(std::move(label)), total_bytes_(total_bytes) {}

  void on_event(const event::Event& e, const pipeline::Record& r) override {
    inner_.on_event(e, r);
    ++events_;
    first_ms_ = std::min(first_ms_, e.ts_ms);
    last_ms_ = std::max(last_ms_, e.ts_ms);
    offset_ = r.offset + r.bytes.size() + 1;
  }

  void on_batch_end() override {
    inner_.on_batch_end();
    if (err_ == nullptr) return;
    const auto now = Clock::now();
    if (now - drawn_ < std::chrono::milliseconds(250)) return;
    drawn_ = now;
    draw(false);
  }

  // A source has ended: later offsets count from the next source's start.
  void next_source(uint64_t bytes_of_finished) {
    done_bytes_ += bytes_of_finished;
    offset_ = 0;
  }

  void finish() {
    if (err_ != nullptr) draw(true);
  }

  uint64_t events() const noexcept { return events_; }
  int64_t first_ms() const noexcept { return first_ms_; }
  int64_t last_ms() const noexcept { return last_ms_; }

 private:
  void draw(bool last) {
    const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    const double rate = seconds > 0 ? events_ / seconds : 0;
    char line[200];
    int n = std::snprintf(line, sizeof line, "\r%s: %llu events, %.0f events/s", label_.c_str(),
                          static_cast<unsigned long long>(events_), rate);
    if (total_bytes_ > 0 && n > 0 && static_cast<size_t>(n) < sizeof line) {
      const double done =
          std::min(1.0, static_cast<double>(done_bytes_ + offset_) / total_bytes_);
      const int width = 24;
      const int filled = static_cast<int>(done * width);
      std::string bar(filled, '#');
      bar.append(width - filled, '.');
      const double left = done > 0 && !last ? seconds * (1 - done) / done : 0;
      std::snprintf(line + n, sizeof line - n, "  [%s] %3.0f%%  %.0f s left", bar.c_str(),
                    (last ? 1.0 : done) * 100, left);
    }
    *err_ << line << "\x1b[K" << (last ? "\n" : "") << std::flush;
  }

  pipeline::EventHandler& inner_;
  std::ostream* err_;
  std::string label_;
  uint64_t total_bytes_;
  uint64_t done_bytes_ = 0, offset_ = 0, events_ = 0;
  int64_t first_ms_ = INT64_MAX, last_ms_ = INT64_MIN;
  Clock::time_point started_ = Clock::now(), drawn_{};
};

class Discard final : public pipeline::Sink {
 public:
  void write(std::string_view, std::string_view) override {}
  void flush() override {}
};

uint64_t file_size(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

// The run's sources: the config's, or one NDJSON file (canonical schema) for --input.
std::vector<config::SourceConfig> sources_of(const config::EngineConfig& cfg,
                                             const std::string& input) {
  if (input.empty()) return cfg.sources;
  config::SourceConfig s;
  s.name = "input";
  s.type = "file";
  s.path = input;
  return {s};
}

std::string describe(const std::vector<config::SourceConfig>& sources) {
  std::string out;
  for (const config::SourceConfig& s : sources) {
    if (!out.empty()) out += ", ";
    out += s.path.empty() ? s.name : s.path;
  }
  return out;
}

bool write_file(const std::string& path, const std::string& bytes, std::ostream& err) {
  if (path == "-") {
    std::fwrite(bytes.data(), 1, bytes.size(), stdout);
    return std::fflush(stdout) == 0;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  out.close();
  if (!out) {
    err << "corridor backtest: cannot write " << path << "\n";
    return false;
  }
  return true;
}

}  // namespace

int backtest(const BacktestOptions& options, std::ostream& out, std::ostream& err) {
  // Everything that can be wrong with the command, the truth or a config is found before
  // any event is read.
  if (options.configs.empty() || options.configs.size() > 2) {
    err << "corridor backtest: give one config, or two to compare\n";
    return kUsageError;
  }
  if (options.truth.empty() == options.labels.empty()) {
    err << "corridor backtest: give the ground truth: --truth FILE (corridor gen) or "
           "--labels FILE (a CSV of entity labels)\n";
    return kUsageError;
  }
  backtest::Truth truth;
  try {
    truth = options.truth.empty()
                ? backtest::load_truth_labels(options.labels, options.label_id_column,
                                              options.label_column)
                : backtest::load_truth_file(options.truth);
  } catch (const backtest::TruthError& e) {
    err << "corridor backtest: " << e.what() << "\n";
    return kConfigError;
  }

  std::vector<std::unique_ptr<Loaded>> loaded;
  std::set<std::string> labels;
  for (const std::string& path : options.configs) {
    config::LoadResult c = config::load_engine_config(path);
    if (!c.config) {
      err << config::format_all(c.errors);
      err << "corridor: " << c.errors.size() << " error(s) in " << path << "; nothing was read\n";
      return kConfigError;
    }
    if (c.config->rules.packs.empty()) {
      err << path << ":1:1: error: a backtest needs rules: the config names no rules.packs\n";
      return kConfigError;
    }
    std::optional<rules::RuleSet> set = load_config_rules(*c.config, err);
    if (!set) return kConfigError;
    std::string label = std::filesystem::path(path).stem().string();
    for (int n = 2; labels.contains(label); ++n) {
      label = std::filesystem::path(path).stem().string() + "-" + std::to_string(n);
    }
    labels.insert(label);
    loaded.push_back(std::make_unique<Loaded>(Loaded{std::move(*c.config), std::move(*set), label}));
  }

  const bool progress = options.progress == Progress::on ||
                        (options.progress == Progress::automatic && isatty(STDERR_FILENO) == 1);
  backtest::Report report;
  report.corridor = std::string(version()) + " (" + std::string(git_commit()) + ")";
  report.truth = &truth;
  std::vector<std::unique_ptr<backtest::Collector>> collected;
  for (size_t k = 0; k < loaded.size(); ++k) {
    const Loaded& l = *loaded[k];
    const config::EngineConfig& cfg = l.config;
    const std::vector<config::SourceConfig> specs = sources_of(cfg, options.input);
    std::vector<connectors::OpenedSource> sources;
    uint64_t total_bytes = 0;
    try {
      for (const config::SourceConfig& s : specs) {
        sources.push_back(connectors::open_source(s, cfg));
        total_bytes += s.type == "file" && s.path != "-" ? file_size(s.path) : 0;
      }
    } catch (const std::exception& e) {
      err << "corridor backtest: " << e.what() << "\n";
      return kConfigError;
    }
    err << "corridor backtest: run " << l.label << ": " << l.config.file << ", "
        << l.rules.rules.size() << " rules, " << l.rules.typologies.size()
        << " typologies (rules hash " << l.rules.hash << ")\n";

    auto collector = std::make_unique<backtest::Collector>(l.rules);
    rules::CloudEventWriter origins(nullptr, nullptr, {});  // outputs go to the collector only
    rules::RuleEngine engine(l.rules, *collector, engine_options(cfg));
    rules::RuleHandler rule_handler(engine, origins, nullptr, {}, cfg.pipeline.allowed_lateness_ms);
    ProgressHandler handler(rule_handler, progress ? &err : nullptr, l.label, total_bytes);
    Discard discard;
    pipeline::DeadLetterWriter dead_letters(discard);
    pipeline::SystemClock clock;
    pipeline::PipelineOptions popts = cfg.pipeline;
    popts.max_records = options.max_records;
    pipeline::Pipeline pipe(handler, dead_letters, clock, popts);
    const auto started = Clock::now();
    try {
      for (size_t i = 0; i < sources.size(); ++i) {
        rule_handler.set_source(specs[i].name);
        if (!pipe.run(*sources[i].source, *sources[i].decoder)) break;
        handler.next_source(specs[i].type == "file" ? file_size(specs[i].path) : 0);
      }
    } catch (const std::exception& e) {
      err << "\ncorridor backtest: " << e.what() << "\n";
      return kRuntimeError;
    }
    handler.finish();
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    print_pipeline_summary(err, pipe.stats());

    const pipeline::PipelineStats& st = pipe.stats();
    if (k == 0) {
      report.input.description = describe(specs);
      report.input.records = st.read;
      report.input.decoded = st.decoded;
      report.input.dead_lettered = st.dead_lettered;
    } else if (st.read != report.input.records || st.decoded != report.input.decoded) {
      err << "corridor backtest: warning: run " << l.label << " read " << st.read << " records ("
          << st.decoded << " decoded), run " << report.runs[0].label << " "
          << report.input.records << " (" << report.input.decoded
          << "): the configs read different inputs; give --input to compare on one\n";
    }
    report.input.first_ms = std::min(report.input.first_ms, handler.first_ms());
    report.input.last_ms = std::max(report.input.last_ms, handler.last_ms());

    backtest::RunReport run;
    run.label = l.label;
    run.config = l.config.file;
    run.config_hash = l.config.hash;
    run.rules_hash = l.rules.hash;
    run.seconds = seconds;
    run.events = handler.events();
    const rules::EngineStats es = engine.stats();
    run.signals = es.signals;
    run.alerts = es.alerts;
    for (size_t t = 0; t < l.rules.typologies.size(); ++t) {
      run.alerted.emplace_back(l.rules.typologies[t].id, collector->typologies()[t].flagged);
    }
    report.runs.push_back(std::move(run));
    collected.push_back(std::move(collector));
  }

  for (size_t k = 0; k < report.runs.size(); ++k) {
    report.runs[k].figures = backtest::score_run(*collected[k], loaded[k]->rules, truth,
                                                 report.first_day(), report.days());
  }

  std::string json;
  backtest::append_report_json(json, report);
  if (options.json != "-") backtest::print_report_table(out, report);
  if (!options.json.empty() && !write_file(options.json, json, err)) return kRuntimeError;

  // The quality bars: every typology with positive instances, in every run.
  int code = kOk;
  for (const backtest::RunReport& r : report.runs) {
    for (const backtest::TypologyFigures& t : r.figures.typologies) {
      if (t.instances == 0) continue;
      char line[200];
      const double recall = t.recall.value_or(0);
      if (options.min_recall >= 0 && recall < options.min_recall) {
        std::snprintf(line, sizeof line, "recall %.2f is below --min-recall %.2f", recall,
                      options.min_recall);
        err << "corridor backtest: run " << r.label << ": " << t.id << " " << line << "\n";
        code = kBelowBar;
      }
      // Nothing flagged: no precision to judge (the recall bar speaks).
      if (options.min_precision >= 0 && t.precision && *t.precision < options.min_precision) {
        std::snprintf(line, sizeof line, "precision %.2f is below --min-precision %.2f",
                      *t.precision, options.min_precision);
        err << "corridor backtest: run " << r.label << ": " << t.id << " " << line << "\n";
        code = kBelowBar;
      }
    }
  }
  return code;
}

}  // namespace corridor::cli
