#include "connectors/registry.h"

#include <stdexcept>

#include "connectors/csv/csv.h"
#include "connectors/file/line_sink.h"
#include "connectors/file/ndjson_source.h"
#include "connectors/synthetic/source.h"

namespace corridor::connectors {
namespace {

// Records beyond this are cut by the source (and dead-lettered as too_large by the
// decoder): a bound on memory whatever the input holds.
size_t hard_limit(const config::EngineConfig& c) {
  return std::max<size_t>(c.limits.max_event_bytes * 4, 1 << 20);
}

class DiscardSink final : public pipeline::Sink {
 public:
  void write(std::string_view, std::string_view) override {}
  void flush() override {}
};

// The world's parameters: what the config sets, the world's defaults for the rest.
synthetic::WorldParams world_params(const config::SyntheticSourceConfig& s) {
  synthetic::WorldParams p;
  if (s.seed) p.seed = *s.seed;
  if (s.entities) p.entities = *s.entities;
  if (s.days) p.days = *s.days;
  if (s.start_ms) p.start_ms = *s.start_ms;
  p.scenarios = s.scenarios;
  p.no_scenarios = s.no_scenarios;
  return p;
}

}  // namespace

config::SourceCatalog source_catalog() {
  config::SourceCatalog catalog;
  for (std::string_view name : synthetic::scenario_names()) {
    catalog.synthetic_scenarios.emplace_back(name);
  }
  for (const auto& [code, rate] : synthetic::default_rates()) {
    catalog.synthetic_currencies.emplace_back(code);
  }
  return catalog;
}

OpenedSource open_source(const config::SourceConfig& s, const config::EngineConfig& c) {
  const event::Schema& schema = c.schemas.at(s.schema);
  OpenedSource opened;
  if (s.type == "synthetic") {
    synthetic::WorldSourceOptions options;
    options.rate = s.synthetic.rate;
    options.truth_path = s.synthetic.truth;
    try {
      opened.source =
          std::make_unique<synthetic::WorldSource>(s.name, world_params(s.synthetic), options);
    } catch (const std::invalid_argument& e) {
      throw pipeline::SourceError("source " + s.name + ": " + e.what());
    }
    opened.decoder = event::make_json_decoder(schema, c.currencies, c.limits);
  } else if (s.format == config::SourceFormat::csv) {
    auto csv = std::make_unique<csv::CsvSource>(s.name, s.path, s.csv_delimiter, hard_limit(c));
    try {
      opened.decoder =
          csv::make_csv_decoder(schema, csv->header(), s.csv_delimiter, c.currencies, c.limits);
    } catch (const std::invalid_argument& e) {
      throw pipeline::SourceError("source " + s.name + " (" + s.path + "): " + e.what());
    }
    opened.source = std::move(csv);
  } else {
    opened.source = std::make_unique<file::NdjsonSource>(s.name, s.path, hard_limit(c));
    opened.decoder = event::make_json_decoder(schema, c.currencies, c.limits);
  }
  return opened;
}

std::unique_ptr<pipeline::Sink> open_sink(const config::SinkConfig& s) {
  if (s.type == "stdout") return std::make_unique<file::LineSink>("-");
  if (s.type == "stderr") return std::make_unique<file::LineSink>("/dev/stderr");
  if (s.type == "file") return std::make_unique<file::LineSink>(s.path, s.append);
  return std::make_unique<DiscardSink>();
}

}  // namespace corridor::connectors
