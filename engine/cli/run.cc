#include <signal.h>
#include <yaml-cpp/yaml.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>

#include "connectors/registry.h"
#include "connectors/synthetic/source.h"
#include "engine/cli/commands.h"
#include "engine/cli/setup.h"
#include "engine/config/engine_config.h"
#include "engine/pipeline/event_echo.h"
#include "engine/pipeline/pipeline.h"
#include "rules/eval/cloudevents.h"
#include "rules/eval/rule_engine.h"
#include "rules/eval/rule_handler.h"
#include "rules/golden/golden.h"
#include "rules/model/rule.h"

namespace corridor::cli {
namespace {

// "1 rule", "3 rules".
std::string counted(size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

pipeline::Pipeline* g_running = nullptr;
volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int signal) {
  g_stop_signal = signal;
  if (g_running != nullptr) g_running->request_stop();
}

// SIGINT and SIGTERM stop the run after the current batch. Installed without SA_RESTART, so
// that a read from an idle pipe or terminal returns (EINTR: the source ends there) instead of
// waiting on for input; SIGPIPE is ignored, so that a reader gone away is an output error
// with the summary printed, not a silent death.
class StopSignals {
  using Action = struct sigaction;

 public:
  StopSignals() {
    Action stop{};
    stop.sa_handler = on_stop_signal;
    sigemptyset(&stop.sa_mask);
    stop.sa_flags = 0;
    sigaction(SIGINT, &stop, &int_);
    sigaction(SIGTERM, &stop, &term_);
    Action ignore{};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, &pipe_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &int_, nullptr);
    sigaction(SIGTERM, &term_, nullptr);
    sigaction(SIGPIPE, &pipe_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  Action int_{};
  Action term_{};
  Action pipe_{};
};

// What `validate` was given, by the keys at its top level; by its name (*.pack.yaml,
// *.test.yaml) when its top level is not a mapping; `unknown` when neither tells.
enum class FileKind { engine_config, rule_pack, golden_tests, unknown };

FileKind kind_of(const std::string& path, std::string& top_level) {
  try {
    const YAML::Node root = YAML::LoadFile(path);
    if (root.IsMap()) {
      if (root["pack"]) return FileKind::rule_pack;
      if (root["cases"]) return FileKind::golden_tests;
      return FileKind::engine_config;
    }
    const std::string_view name = path;
    if (name.ends_with(".pack.yaml") || name.ends_with(".pack.yml")) return FileKind::rule_pack;
    if (name.ends_with(".test.yaml") || name.ends_with(".test.yml")) return FileKind::golden_tests;
    top_level = root.IsSequence() ? "a sequence" : root.IsScalar() ? "a single value" : "nothing";
    return FileKind::unknown;
  } catch (const std::exception&) {
  }
  return FileKind::engine_config;  // unreadable or invalid YAML: its loader says so
}

}  // namespace

int run(const RunOptions& options, std::ostream& err) {
  // From the start: a signal while the config and packs load stops the run before it reads.
  g_stop_signal = 0;
  std::optional<StopSignals> stop_signals(std::in_place);
  config::LoadResult loaded = config::load_engine_config(
      options.config_path, config::process_environment(), connectors::source_catalog());
  if (!loaded.config) {
    report_config_errors(loaded, options.config_path, err);
    return kConfigError;
  }
  const config::EngineConfig& cfg = *loaded.config;
  std::optional<rules::RuleSet> rule_set;
  if (!cfg.rules.packs.empty()) {
    rule_set = load_config_rules(cfg, err);
    if (!rule_set) return kConfigError;
    err << "corridor: config " << cfg.file << " (hash " << cfg.hash << "), "
        << counted(rule_set->rules.size(), "rule", "rules") << " and "
        << counted(rule_set->typologies.size(), "typology", "typologies") << " (hash "
        << rule_set->hash << ")\n";
  } else {
    err << "corridor: config " << cfg.file << " (hash " << cfg.hash << "), no rules\n";
  }

  // Open everything before reading anything: a bad path or CSV header fails the start.
  std::vector<connectors::OpenedSource> sources;
  std::unique_ptr<pipeline::Sink> events_sink, signals_sink, alerts_sink, dead_letter_sink;
  try {
    for (const config::SourceConfig& s : cfg.sources) {
      sources.push_back(connectors::open_source(s, cfg));
    }
    events_sink = connectors::open_sink(cfg.events);
    signals_sink = connectors::open_sink(cfg.signals);
    alerts_sink = connectors::open_sink(cfg.alerts);
    dead_letter_sink = connectors::open_sink(cfg.dead_letter);
  } catch (const std::exception& e) {
    err << "corridor: " << e.what() << "\n";
    return kConfigError;
  }

  pipeline::SystemClock clock;
  pipeline::EventEcho echo(*events_sink);
  std::unique_ptr<rules::CloudEventWriter> writer;
  std::unique_ptr<rules::RuleEngine> engine;
  std::unique_ptr<rules::RuleHandler> rule_handler;
  pipeline::EventHandler* handler = &echo;
  if (rule_set) {
    writer = std::make_unique<rules::CloudEventWriter>(
        signals_sink.get(), alerts_sink.get(),
        rules::OutputContext{cfg.outputs_hash, rule_set->hash});
    engine = std::make_unique<rules::RuleEngine>(*rule_set, *writer, engine_options(cfg));
    rule_handler = std::make_unique<rules::RuleHandler>(
        *engine, *writer, cfg.events.type == "discard" ? nullptr : &echo,
        std::vector<pipeline::Sink*>{signals_sink.get(), alerts_sink.get()},
        cfg.pipeline.allowed_lateness_ms);
    handler = rule_handler.get();
  }
  pipeline::DeadLetterWriter dead_letters(*dead_letter_sink);
  pipeline::PipelineOptions popts = cfg.pipeline;
  popts.max_records = options.max_records;
  pipeline::Pipeline pipe(*handler, dead_letters, clock, popts);

  g_running = &pipe;
  if (g_stop_signal != 0) pipe.request_stop();  // arrived before the pipeline existed
  bool completed = true;
  int code = kOk;
  try {
    for (size_t i = 0; i < sources.size(); ++i) {
      if (rule_handler) rule_handler->set_source(cfg.sources[i].name);
      if (!pipe.run(*sources[i].source, *sources[i].decoder)) {
        completed = false;
        break;
      }
    }
    for (auto* sink :
         {events_sink.get(), signals_sink.get(), alerts_sink.get(), dead_letter_sink.get()}) {
      sink->flush();
    }
  } catch (const std::exception& e) {
    err << "corridor: " << e.what() << "\n";
    code = kRuntimeError;
  }
  stop_signals.reset();
  g_running = nullptr;

  if (g_stop_signal != 0) {
    err << "corridor: stopped by " << (g_stop_signal == SIGINT ? "SIGINT" : "SIGTERM")
        << "; what was read is written and counted below\n";
  }
  print_pipeline_summary(err, pipe.stats());
  if (engine) {
    const rules::EngineStats s = engine->stats();
    err << "corridor: " << s.signals << " signals, " << s.alerts << " alerts, " << s.suppressed
        << " suppressed, " << s.state_keys << " state keys\n";
  }
  for (size_t i = 0; i < sources.size(); ++i) {
    const auto* world = dynamic_cast<const synthetic::WorldSource*>(sources[i].source.get());
    if (world == nullptr || cfg.sources[i].synthetic.truth.empty()) continue;
    if (world->ended()) {
      err << "corridor: source " << cfg.sources[i].name << ": truth of "
          << world->world().truth().size() << " scenario instances written to "
          << cfg.sources[i].synthetic.truth << "\n";
    } else {
      err << "corridor: source " << cfg.sources[i].name
          << ": the world was not read to its end; no truth file\n";
    }
  }
  if (!pipe.stats().conserved()) {
    // Cannot happen by construction; say so loudly if it ever does.
    err << "corridor: internal error: records read != decoded + dead-lettered\n";
    return kRuntimeError;
  }
  if (code == kOk && !completed && options.max_records == 0) code = kInterrupted;
  return code;
}

int validate(const std::vector<std::string>& files, std::ostream& out, std::ostream& err) {
  size_t bad = 0;
  for (const std::string& f : files) {
    std::string top_level;
    const FileKind kind = kind_of(f, top_level);
    if (kind == FileKind::unknown) {
      err << f
          << ":1:1: error: expected a mapping: an engine config (version, sources, sinks, "
             "...), a rule pack (pack, rules, typologies, ...) or golden tests (packs, "
             "cases); the file holds "
          << top_level << "\n";
      ++bad;
      continue;
    }
    if (kind == FileKind::golden_tests) {
      // Its packs are checked here; its cases run with test-rules.
      const rules::GoldenPacks g = rules::load_golden_packs(f);
      if (g.packs.empty() || !g.loaded.rules) {
        if (g.packs.empty() && g.loaded.errors.empty()) {
          err << f << ":1:1: error: golden tests: no `packs` to test\n";
        }
        err << config::format_all(g.loaded.errors);
        ++bad;
      } else {
        out << f << ": golden tests; their " << g.packs.size() << " pack(s) ok, "
            << g.loaded.rules->rules.size() << " rules (run the cases with corridor test-rules)\n";
      }
      continue;
    }
    if (kind == FileKind::rule_pack) {
      rules::RuleLoadResult r = rules::load_rule_packs({f});
      if (r.rules) {
        out << f << ": ok, " << counted(r.rules->rules.size(), "rule", "rules") << ", "
            << counted(r.rules->typologies.size(), "typology", "typologies") << " (hash "
            << r.rules->hash << ")\n";
      } else {
        err << config::format_all(r.errors);
        ++bad;
      }
      continue;
    }
    config::LoadResult loaded =
        config::load_engine_config(f, config::process_environment(), connectors::source_catalog());
    if (!loaded.config) {
      err << config::format_all(loaded.errors);
      // The packs are checked too, so that their errors come out in the same run.
      if (!loaded.rules.packs.empty())
        err << config::format_all(load_packs_of(loaded.rules).errors);
      ++bad;
      continue;
    }
    if (!loaded.config->rules.packs.empty()) {
      rules::RuleLoadResult r = load_packs_of(loaded.config->rules);
      if (!r.rules) {
        err << config::format_all(r.errors);
        ++bad;
        continue;
      }
    }
    out << f << ": ok (hash " << loaded.config->hash << ")\n";
  }
  if (bad > 0) {
    err << "corridor: " << bad << " of " << files.size() << " file(s) invalid\n";
    return kConfigError;
  }
  return kOk;
}

}  // namespace corridor::cli
