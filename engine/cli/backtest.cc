// `corridor backtest`: runs one config, or two for comparison, over an input and scores the
// signals and alerts against ground truth (docs/backtest.md).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <ostream>
#include <set>
#include <thread>

#include "connectors/registry.h"
#include "connectors/synthetic/source.h"
#include "engine/backtest/evaluation.h"
#include "engine/backtest/report.h"
#include "engine/backtest/truth.h"
#include "engine/cli/commands.h"
#include "engine/cli/setup.h"
#include "engine/cli/version.h"
#include "engine/config/engine_config.h"
#include "engine/pipeline/pipeline.h"
#include "engine/report/html_report.h"
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

// One progress line on stderr for all runs (they run side by side): events, events/s and,
// for file inputs, the share read and the time left.
class ProgressBoard {
 public:
  struct Slot {
    std::string label;
    uint64_t events = 0;
    double fraction = -1;  // < 0: unknown (not a file input)
    double seconds = 0;
  };

  ProgressBoard(std::ostream* err, std::vector<std::string> labels) : err_(err) {
    for (std::string& l : labels) slots_.push_back(Slot{std::move(l)});
  }
  bool enabled() const noexcept { return err_ != nullptr; }

  void update(size_t slot, uint64_t events, double seconds, double fraction) {
    std::lock_guard lock(mutex_);
    Slot& s = slots_[slot];
    s.events = events;
    s.seconds = seconds;
    s.fraction = fraction;
    draw(false);
  }
  void finish() {
    if (err_ == nullptr) return;
    std::lock_guard lock(mutex_);
    draw(true);
  }

 private:
  void draw(bool last) {
    std::string line = "\r";
    double left = 0;
    for (const Slot& s : slots_) {
      char part[160];
      std::snprintf(part, sizeof part, "%s%s: %llu events, %.0f events/s",
                    line.size() > 1 ? " | " : "", s.label.c_str(),
                    static_cast<unsigned long long>(s.events),
                    s.seconds > 0 ? s.events / s.seconds : 0.0);
      line += part;
      if (s.fraction >= 0) {
        const double f = std::min(1.0, s.fraction);
        const int width = slots_.size() == 1 ? 24 : 12;
        const int filled = static_cast<int>(f * width);
        line += "  [" + std::string(filled, '#') + std::string(width - filled, '.') + "] ";
        std::snprintf(part, sizeof part, "%3.0f%%", f * 100);
        line += part;
        if (f > 0 && !last) left = std::max(left, s.seconds * (1 - f) / f);
      }
    }
    if (left > 0) {
      char part[48];
      std::snprintf(part, sizeof part, "  %.0f s left", left);
      line += part;
    }
    *err_ << line << "\x1b[K" << (last ? "\n" : "") << std::flush;
  }

  std::ostream* err_;
  std::mutex mutex_;
  std::vector<Slot> slots_;
};

// Counts what reaches the rules (event times, for the report's days) and tells the board
// how far its run has come, at most four times a second.
class ProgressHandler final : public pipeline::EventHandler {
 public:
  // How far a run has come is known from the bytes of its files (total_bytes > 0) or, for
  // one synthetic world, from event time against the world's span (span_ms > 0).
  ProgressHandler(pipeline::EventHandler& inner, ProgressBoard& board, size_t slot,
                  uint64_t total_bytes, int64_t span_from_ms, int64_t span_ms)
      : inner_(inner),
        board_(board),
        slot_(slot),
        total_bytes_(total_bytes),
        span_from_ms_(span_from_ms),
        span_ms_(span_ms) {}

  void on_event(const event::Event& e, const pipeline::Record& r) override {
    inner_.on_event(e, r);
    ++events_;
    first_ms_ = std::min(first_ms_, e.ts_ms);
    last_ms_ = std::max(last_ms_, e.ts_ms);
    offset_ = r.offset + r.bytes.size() + 1;
  }

  void on_batch_end() override {
    inner_.on_batch_end();
    const auto now = Clock::now();
    if (!board_.enabled() || now - reported_ < std::chrono::milliseconds(250)) return;
    reported_ = now;
    report(fraction());
  }

  // A source has ended: later offsets count from the next source's start.
  void next_source(uint64_t bytes_of_finished) {
    done_bytes_ += bytes_of_finished;
    offset_ = 0;
  }
  // The run has ended: its last figures, at 100 % when it read its whole input.
  void finish(bool whole_input) {
    if (!board_.enabled()) return;
    const double f = fraction();
    report(whole_input && f >= 0 ? 1.0 : f);
  }

  uint64_t events() const noexcept { return events_; }
  int64_t first_ms() const noexcept { return first_ms_; }
  int64_t last_ms() const noexcept { return last_ms_; }

 private:
  double fraction() const {
    if (total_bytes_ > 0) return static_cast<double>(done_bytes_ + offset_) / total_bytes_;
    if (span_ms_ > 0 && events_ > 0) {
      return std::clamp(static_cast<double>(last_ms_ - span_from_ms_) / span_ms_, 0.0, 1.0);
    }
    return -1;
  }
  void report(double fraction) {
    board_.update(slot_, events_, std::chrono::duration<double>(Clock::now() - started_).count(),
                  fraction);
  }

  pipeline::EventHandler& inner_;
  ProgressBoard& board_;
  size_t slot_;
  uint64_t total_bytes_;
  int64_t span_from_ms_, span_ms_;
  uint64_t done_bytes_ = 0, offset_ = 0, events_ = 0;
  int64_t first_ms_ = INT64_MAX, last_ms_ = INT64_MIN;
  Clock::time_point started_ = Clock::now(), reported_{};
};

uint64_t file_size(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

// The run's sources: the config's, or one NDJSON file (canonical schema) for --input.
std::vector<config::SourceConfig> sources_of(const config::EngineConfig& cfg,
                                             const std::string& input) {
  if (input.empty()) {
    std::vector<config::SourceConfig> sources = cfg.sources;
    // The backtest takes a synthetic world's truth from memory; two runs writing one truth
    // file would race.
    for (config::SourceConfig& s : sources) s.synthetic.truth.clear();
    return sources;
  }
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
    if (s.type == "synthetic") {
      const synthetic::WorldParams defaults;
      out += "synthetic source " + s.name + " (seed " +
             std::to_string(s.synthetic.seed.value_or(defaults.seed)) + ", " +
             std::to_string(s.synthetic.entities.value_or(defaults.entities)) + " entities, " +
             std::to_string(s.synthetic.days.value_or(defaults.days)) + " days)";
    } else if (s.type == "stdin") {
      out += "stdin";
    } else {
      out += s.path;
    }
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

// One run, its sources open.
struct Prepared {
  const Loaded* loaded = nullptr;
  std::vector<config::SourceConfig> specs;
  std::vector<connectors::OpenedSource> sources;
  uint64_t total_bytes = 0;
  int64_t span_from_ms = 0, span_ms = 0;  // one synthetic world: its event-time span
};

struct Outcome {
  pipeline::PipelineStats stats;
  rules::EngineStats engine;
  std::unique_ptr<backtest::Collector> collector;
  double seconds = 0;
  uint64_t events = 0;
  int64_t first_ms = INT64_MAX, last_ms = INT64_MIN;
  std::string error;  // an input that failed mid-run
};

// Reads a run's input through its rules into a Collector. Touches nothing another run uses
// but the progress board (which locks).
Outcome execute(Prepared& p, const BacktestOptions& options, ProgressBoard& board, size_t slot) {
  const Loaded& l = *p.loaded;
  const config::EngineConfig& cfg = l.config;
  Outcome o;
  o.collector = std::make_unique<backtest::Collector>(l.rules);
  rules::CloudEventWriter origins(nullptr, nullptr, {});  // outputs go to the collector only
  rules::RuleEngine engine(l.rules, *o.collector, engine_options(cfg));
  rules::RuleHandler rule_handler(engine, origins, nullptr, {}, cfg.pipeline.allowed_lateness_ms);
  ProgressHandler handler(rule_handler, board, slot, p.total_bytes, p.span_from_ms, p.span_ms);
  // Dead letters are counted in the report, not written.
  const std::unique_ptr<pipeline::Sink> discard = connectors::open_sink(config::SinkConfig{});
  pipeline::DeadLetterWriter dead_letters(*discard);
  pipeline::SystemClock clock;
  pipeline::PipelineOptions popts = cfg.pipeline;
  popts.max_records = options.max_records;
  pipeline::Pipeline pipe(handler, dead_letters, clock, popts);
  const auto started = Clock::now();
  bool whole_input = false;
  try {
    size_t i = 0;
    for (; i < p.sources.size(); ++i) {
      rule_handler.set_source(p.specs[i].name);
      if (!pipe.run(*p.sources[i].source, *p.sources[i].decoder)) break;
      handler.next_source(p.specs[i].type == "file" ? file_size(p.specs[i].path) : 0);
    }
    whole_input = i == p.sources.size();
  } catch (const std::exception& e) {
    o.error = e.what();
  }
  handler.finish(whole_input);
  o.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  o.stats = pipe.stats();
  o.engine = engine.stats();
  o.events = handler.events();
  o.first_ms = handler.first_ms();
  o.last_ms = handler.last_ms();
  return o;
}

}  // namespace

int backtest(const BacktestOptions& options, std::ostream& out, std::ostream& err) {
  // Everything that can be wrong with the command, the truth or a config is found before
  // any event is read.
  if (options.configs.empty() || options.configs.size() > 2) {
    err << "corridor backtest: give one config, or two to compare\n";
    return kUsageError;
  }
  if (!options.truth.empty() && !options.labels.empty()) {
    err << "corridor backtest: give one ground truth: --truth or --labels\n";
    return kUsageError;
  }
  // Without either, the truth is the synthetic world's the first run reads (below).
  const bool truth_from_world = options.truth.empty() && options.labels.empty();
  backtest::Truth truth;
  try {
    if (!options.labels.empty()) {
      truth = backtest::load_truth_labels(options.labels, options.label_id_column,
                                          options.label_column);
    } else if (!options.truth.empty()) {
      truth = backtest::load_truth_file(options.truth);
    }
  } catch (const backtest::TruthError& e) {
    err << "corridor backtest: " << e.what() << "\n";
    return kConfigError;
  }

  std::vector<std::unique_ptr<Loaded>> loaded;
  std::set<std::string> labels;
  for (const std::string& path : options.configs) {
    config::LoadResult c = config::load_engine_config(path, config::process_environment(),
                                                      connectors::source_catalog());
    if (!c.config) {
      report_config_errors(c, path, err);
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
    loaded.push_back(
        std::make_unique<Loaded>(Loaded{std::move(*c.config), std::move(*set), label}));
  }

  // Every run's sources are opened before any of them reads: a bad path fails the start.
  std::vector<Prepared> prepared(loaded.size());
  for (size_t k = 0; k < loaded.size(); ++k) {
    Prepared& p = prepared[k];
    p.loaded = loaded[k].get();
    p.specs = sources_of(p.loaded->config, options.input);
    if (k > 0 && std::any_of(p.specs.begin(), p.specs.end(),
                             [](const config::SourceConfig& s) { return s.type == "stdin"; })) {
      err << "corridor backtest: two runs cannot share stdin; compare on a file (--input) or "
             "a synthetic source\n";
      return kUsageError;
    }
    if (k == 0 && truth_from_world &&
        !std::all_of(p.specs.begin(), p.specs.end(),
                     [](const config::SourceConfig& s) { return s.type == "synthetic"; })) {
      err << "corridor backtest: give the ground truth: --truth FILE (corridor gen) or "
             "--labels FILE (a CSV of entity labels); without them the first config must "
             "read only synthetic sources, whose truth the backtest knows\n";
      return kUsageError;
    }
    try {
      for (const config::SourceConfig& s : p.specs) {
        p.sources.push_back(connectors::open_source(s, p.loaded->config));
        p.total_bytes += s.type == "file" && s.path != "-" ? file_size(s.path) : 0;
      }
      if (p.specs.size() == 1 && p.specs[0].type == "synthetic") {
        const synthetic::WorldParams defaults;
        const config::SyntheticSourceConfig& w = p.specs[0].synthetic;
        p.span_from_ms = w.start_ms.value_or(defaults.start_ms);
        p.span_ms = int64_t{w.days.value_or(defaults.days)} * backtest::kDayMs;
      }
    } catch (const std::exception& e) {
      err << "corridor backtest: " << e.what() << "\n";
      return kConfigError;
    }
    err << "corridor backtest: run " << p.loaded->label << ": " << p.loaded->config.file << ", "
        << p.loaded->rules.rules.size() << " rules, " << p.loaded->rules.typologies.size()
        << " typologies (rules hash " << p.loaded->rules.hash << ")\n";
  }

  // Two configs run side by side, each on its own thread: runs share nothing.
  const bool progress = options.progress == Progress::on ||
                        (options.progress == Progress::automatic && isatty(STDERR_FILENO) == 1);
  std::vector<std::string> labels_in_order;
  for (const auto& l : loaded) labels_in_order.push_back(l->label);
  ProgressBoard board(progress ? &err : nullptr, labels_in_order);
  std::vector<Outcome> outcomes(prepared.size());
  std::vector<std::thread> others;
  for (size_t k = 1; k < prepared.size(); ++k) {
    others.emplace_back([&, k] { outcomes[k] = execute(prepared[k], options, board, k); });
  }
  outcomes[0] = execute(prepared[0], options, board, 0);
  for (std::thread& t : others) t.join();
  board.finish();

  if (truth_from_world) {
    // The scenario instances of the worlds the first run read, as `corridor gen --truth`.
    std::string text, names;
    for (size_t i = 0; i < prepared[0].sources.size(); ++i) {
      const auto& world =
          dynamic_cast<const synthetic::WorldSource&>(*prepared[0].sources[i].source);
      for (const synthetic::TruthRecord& t : world.world().truth()) {
        synthetic::append_truth_json(text, t);
        text += '\n';
      }
      names += (names.empty() ? "synthetic source " : ", ") + prepared[0].specs[i].name;
    }
    try {
      truth = backtest::parse_truth(text, names);
    } catch (const backtest::TruthError& e) {  // cannot happen: the generator wrote it
      err << "corridor backtest: internal error: " << e.what() << "\n";
      return kRuntimeError;
    }
  }

  backtest::Report report;
  report.corridor = std::string(version()) + " (" + std::string(git_commit()) + ")";
  report.truth = &truth;
  for (size_t k = 0; k < prepared.size(); ++k) {
    const Loaded& l = *prepared[k].loaded;
    Outcome& o = outcomes[k];
    print_pipeline_summary(err, o.stats, "corridor backtest: run " + l.label);
    if (!o.error.empty()) {
      err << "corridor backtest: run " << l.label << ": " << o.error << "\n";
      return kRuntimeError;
    }
    if (k == 0) {
      report.input.description = describe(prepared[k].specs);
      report.input.records = o.stats.read;
      report.input.decoded = o.stats.decoded;
      report.input.dead_lettered = o.stats.dead_lettered;
    } else if (o.stats.read != report.input.records || o.stats.decoded != report.input.decoded) {
      err << "corridor backtest: warning: run " << l.label << " read " << o.stats.read
          << " records (" << o.stats.decoded << " decoded), run " << report.runs[0].label << " "
          << report.input.records << " (" << report.input.decoded
          << "): the configs read different inputs; give --input to compare on one\n";
    }
    report.input.first_ms = std::min(report.input.first_ms, o.first_ms);
    report.input.last_ms = std::max(report.input.last_ms, o.last_ms);

    backtest::RunReport run;
    run.label = l.label;
    run.config = l.config.file;
    run.config_hash = l.config.outputs_hash;  // as its alerts carry it
    run.rules_hash = l.rules.hash;
    run.seconds = o.seconds;
    run.events = o.events;
    run.signals = o.engine.signals;
    run.alerts = o.engine.alerts;
    for (size_t t = 0; t < l.rules.typologies.size(); ++t) {
      run.alerted.emplace_back(l.rules.typologies[t].id, o.collector->typologies()[t].flagged);
    }
    report.runs.push_back(std::move(run));
  }

  for (size_t k = 0; k < report.runs.size(); ++k) {
    report.runs[k].figures = backtest::score_run(*outcomes[k].collector, loaded[k]->rules, truth,
                                                 report.first_day(), report.days());
  }

  std::string json;
  backtest::append_report_json(json, report);
  if (options.json != "-") backtest::print_report_table(out, report);
  if (!options.json.empty() && !write_file(options.json, json, err)) return kRuntimeError;
  if (!options.html.empty() && !write_file(options.html, report::render_backtest_html(json), err)) {
    return kRuntimeError;
  }

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
