// The engine config (YAML) as plain data. Loading it reports every error at once with
// file:line:col; nothing here includes yaml-cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/config/diagnostic.h"
#include "engine/event/schema.h"
#include "engine/pipeline/pipeline.h"

namespace corridor::config {

enum class SourceFormat { ndjson, csv };

// A `type: synthetic` source: the seeded synthetic world (connectors/synthetic). Unset
// values take the world's own defaults (synthetic::WorldParams, the default world), so
// `corridor gen` and this source cannot drift apart.
struct SyntheticSourceConfig {
  std::optional<uint64_t> seed;
  std::optional<uint32_t> entities;    // 1 to 100,000,000
  std::optional<uint32_t> days;        // 1 to 3660
  std::optional<int64_t> start_ms;     // the first day
  std::vector<std::string> scenarios;  // generators by name; empty: every registered one
  bool no_scenarios = false;           // the background population alone
  double rate = 0;                     // events per wall-clock second; 0: as fast as possible
  std::string truth;  // ground-truth file, resolved against the config's folder; empty: none
};

struct SourceConfig {
  std::string name;
  std::string type;  // a registered source type: "file", "stdin", "synthetic"
  std::string path;  // resolved against the config file's folder
  SourceFormat format = SourceFormat::ndjson;
  char csv_delimiter = ',';
  std::string schema = "canonical";
  SyntheticSourceConfig synthetic;  // type synthetic only
};

struct SinkConfig {
  std::string type = "discard";  // "stdout", "stderr", "file", "discard"
  std::string path;
  bool append = false;
};

struct StateConfig {
  std::string path;  // RocksDB folder (used from the state issue on)
  uint64_t memory_limit_bytes = 1ULL << 30;
};

struct CheckpointConfig {
  int64_t interval_ms = 1000;
  uint64_t max_events = 100'000;
};

struct RulesConfig {
  std::vector<std::string> packs;  // rule pack files, resolved against the config's folder
  // Where the config names each of `packs` (file, line, column, and "rules.packs[i]" as the
  // message), so that a pack that cannot be read is reported there.
  std::vector<Diagnostic> pack_sites;
  int64_t new_pair_lookback_ms = 90LL * 86'400'000;
  int64_t salary_lookback_ms = 35LL * 86'400'000;  // sender_salary_age forgets older salaries
  int64_t max_window_ms = 400LL * 86'400'000;      // the longest window a rule may declare
  // distinct() counts exactly up to this many values per window, then estimates.
  uint32_t distinct_exact_bound = 64;
  // max_by() and mode()/mode_share() keep up to this many entries per window exactly, then
  // the newest ones only (their results become lower bounds; docs/rule-language.md).
  uint32_t group_exact_bound = 256;
};

struct EngineConfig {
  std::string file;  // the config's path as given
  std::string hash;  // FNV-1a 64 of the file's bytes, 16 hex digits
  // FNV-1a 64 of the settings that decide what the engine emits (outputs_settings in
  // engine_config.cc), 16 hex digits: the config_hash signals and alerts carry. Settings that
  // only say where input comes from and output goes, how the work is batched or checkpointed,
  // and comments or layout leave it unchanged, so that outputs stay byte-identical.
  std::string outputs_hash;
  std::vector<SourceConfig> sources;
  SinkConfig events;       // decoded events in canonical JSON
  SinkConfig signals;      // rule hits, CloudEvents
  SinkConfig alerts;       // typology alerts, CloudEvents
  SinkConfig dead_letter;  // records that could not be decoded, with the reason
  std::map<std::string, event::Schema> schemas;  // always holds "canonical"
  event::CurrencyTable currencies;
  event::DecodeLimits limits;
  pipeline::PipelineOptions pipeline;
  StateConfig state;
  CheckpointConfig checkpoint;
  RulesConfig rules;
};

struct LoadResult {
  std::optional<EngineConfig> config;  // set only when there are no errors
  std::vector<Diagnostic> errors;
  // The rules settings as read, also when other settings have errors: the packs they name
  // are then checked in the same run, so that every error comes out at once.
  RulesConfig rules;
};

// Looks up an environment variable for ${NAME} substitution; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_environment();

// What the loader checks source settings against that connectors/ defines (engine/ does
// not depend on connectors/): connectors::source_catalog() fills it. A default catalog
// checks neither list: opening the source then rejects an unknown scenario (without a
// position), and amounts in a currency without a rate are dead-lettered.
struct SourceCatalog {
  std::vector<std::string> synthetic_scenarios;   // names a synthetic source may inject
  std::vector<std::string> synthetic_currencies;  // ISO 4217 codes its amounts are in
};

LoadResult load_engine_config(const std::string& path, const EnvLookup& env = process_environment(),
                              const SourceCatalog& catalog = {});
// For tests: `text` stands for the content of a file named `path`.
LoadResult parse_engine_config(const std::string& path, const std::string& text,
                               const EnvLookup& env = process_environment(),
                               const SourceCatalog& catalog = {});

// Durations: "250ms", "30s", "5m", "1h", "7d". Sizes: "512", "64KiB", "1MiB", "2GiB", "10MB".
std::optional<int64_t> parse_duration_ms(const std::string& text);
std::optional<uint64_t> parse_size_bytes(const std::string& text);

// FNV-1a 64-bit over `bytes`, as 16 lowercase hex digits. Fixed and documented so config
// hashes in alerts are comparable across builds and machines.
std::string fnv1a64_hex(const std::string& bytes);

}  // namespace corridor::config
