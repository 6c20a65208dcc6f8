#include "connectors/registry.h"

#include <stdexcept>

#include "connectors/csv/csv.h"
#include "connectors/file/line_sink.h"
#include "connectors/file/ndjson_source.h"

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

}  // namespace

OpenedSource open_source(const config::SourceConfig& s, const config::EngineConfig& c) {
  const event::Schema& schema = c.schemas.at(s.schema);
  OpenedSource opened;
  if (s.format == config::SourceFormat::csv) {
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
