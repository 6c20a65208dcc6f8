// Builds sources and sinks from their config by type name. Adding a connector means a
// folder under connectors/ and one entry here.
#pragma once

#include <memory>

#include "engine/config/engine_config.h"
#include "engine/event/decoder.h"
#include "engine/pipeline/sink.h"
#include "engine/pipeline/source.h"

namespace corridor::connectors {

struct OpenedSource {
  std::unique_ptr<pipeline::Source> source;
  std::unique_ptr<event::Decoder> decoder;  // matched to the source's format and schema
};

// What the config loader checks source settings against (synthetic scenario names, the
// world's currencies); pass it to config::load_engine_config.
config::SourceCatalog source_catalog();

// Throws pipeline::SourceError when the source cannot be opened or its schema does not
// fit it (a CSV column missing from the header). `config` must outlive the result.
OpenedSource open_source(const config::SourceConfig& source, const config::EngineConfig& config);

// Throws pipeline::SinkError when the sink cannot be opened.
std::unique_ptr<pipeline::Sink> open_sink(const config::SinkConfig& sink);

}  // namespace corridor::connectors
