#include <csignal>
#include <iomanip>
#include <ostream>

#include "connectors/registry.h"
#include "engine/cli/commands.h"
#include "engine/config/engine_config.h"
#include "engine/pipeline/event_echo.h"
#include "engine/pipeline/pipeline.h"

namespace corridor::cli {
namespace {

pipeline::Pipeline* g_running = nullptr;

extern "C" void on_stop_signal(int) {
  if (g_running != nullptr) g_running->request_stop();
}

void print_summary(std::ostream& err, const pipeline::PipelineStats& s) {
  err << "corridor: read " << s.read << " records: " << s.decoded << " decoded, " << s.dead_lettered
      << " dead-lettered";
  bool first = true;
  for (event::Reason r : event::kAllReasons) {
    const uint64_t n = s.by_reason[static_cast<size_t>(r)];
    if (n == 0) continue;
    err << (first ? " (" : ", ") << event::reason_name(r) << " " << n;
    first = false;
  }
  if (!first) err << ")";
  const double seconds = static_cast<double>(s.finished_ms - s.started_ms) / 1000.0;
  err << " in " << std::fixed << std::setprecision(2) << seconds << " s\n";
  if (s.late_applied > 0) err << "corridor: " << s.late_applied << " late events applied\n";
}

}  // namespace

int run(const RunOptions& options, std::ostream& err) {
  config::LoadResult loaded = config::load_engine_config(options.config_path);
  if (!loaded.config) {
    err << config::format_all(loaded.errors);
    err << "corridor: " << loaded.errors.size() << " error(s) in " << options.config_path
        << "; nothing was read\n";
    return kConfigError;
  }
  const config::EngineConfig& cfg = *loaded.config;
  err << "corridor: config " << cfg.file << " (hash " << cfg.hash << ")\n";

  // Open everything before reading anything: a bad path or CSV header fails the start.
  std::vector<connectors::OpenedSource> sources;
  std::unique_ptr<pipeline::Sink> events_sink;
  std::unique_ptr<pipeline::Sink> dead_letter_sink;
  try {
    for (const config::SourceConfig& s : cfg.sources) {
      sources.push_back(connectors::open_source(s, cfg));
    }
    events_sink = connectors::open_sink(cfg.events);
    dead_letter_sink = connectors::open_sink(cfg.dead_letter);
  } catch (const std::exception& e) {
    err << "corridor: " << e.what() << "\n";
    return kConfigError;
  }

  pipeline::SystemClock clock;
  pipeline::EventEcho echo(*events_sink);
  pipeline::DeadLetterWriter dead_letters(*dead_letter_sink);
  pipeline::PipelineOptions popts = cfg.pipeline;
  popts.max_records = options.max_records;
  pipeline::Pipeline pipe(echo, dead_letters, clock, popts);

  g_running = &pipe;
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  bool completed = true;
  int code = kOk;
  try {
    for (auto& s : sources) {
      if (!pipe.run(*s.source, *s.decoder)) {
        completed = false;
        break;
      }
    }
    events_sink->flush();
    dead_letter_sink->flush();
  } catch (const std::exception& e) {
    err << "corridor: " << e.what() << "\n";
    code = kRuntimeError;
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  g_running = nullptr;

  print_summary(err, pipe.stats());
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
    config::LoadResult loaded = config::load_engine_config(f);
    if (loaded.config) {
      out << f << ": ok (hash " << loaded.config->hash << ")\n";
    } else {
      err << config::format_all(loaded.errors);
      ++bad;
    }
  }
  if (bad > 0) {
    err << "corridor: " << bad << " of " << files.size() << " file(s) invalid\n";
    return kConfigError;
  }
  return kOk;
}

}  // namespace corridor::cli
