#include "engine/config/engine_config.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "engine/config/yaml_reader.h"
#include "engine/event/timestamp.h"

namespace corridor::config {
namespace {

namespace fs = std::filesystem;
using event::Field;

std::string at_index(const std::string& what, size_t i) {
  return what + "[" + std::to_string(i) + "]";
}

std::string resolve_path(const std::string& config_file, const std::string& path) {
  if (path.empty() || path == "-" || fs::path(path).is_absolute()) return path;
  const fs::path dir = fs::path(config_file).parent_path();
  return dir.empty() ? path : (dir / path).lexically_normal().string();
}

// Whether two paths name one file: equal once made absolute with symbolic links resolved
// (what exists of them), or, when both exist, the same file (a hard link too). Paths are
// compared as the config gives them after resolve_path, whatever the working directory.
bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (fs::equivalent(a, b, ec) && !ec) return true;
  const auto resolved = [](const std::string& p) {
    std::error_code e;
    fs::path r = fs::weakly_canonical(fs::absolute(p, e), e);
    return e ? fs::path(p).lexically_normal() : r;
  };
  return resolved(a) == resolved(b);
}

bool is_capitals(const std::string& s, size_t n) {
  if (s.size() != n) return false;
  for (char c : s) {
    if (c < 'A' || c > 'Z') return false;
  }
  return true;
}

std::string all_field_names() {
  std::string out;
  for (size_t i = 0; i < event::kFieldCount; ++i) {
    if (!out.empty()) out += ", ";
    out += event::field_name(static_cast<Field>(i));
  }
  return out;
}

// Keys only a synthetic source takes.
constexpr std::string_view kSyntheticKeys[] = {"seed",      "entities",     "days", "start",
                                               "scenarios", "no_scenarios", "rate", "truth"};

class EngineConfigReader {
 public:
  EngineConfigReader(YamlReader& r, EngineConfig& c, const SourceCatalog& catalog)
      : r_(r), c_(c), catalog_(catalog) {}

  void read(const YAML::Node& root) {
    if (root.IsNull()) {
      r_.error(root,
               "config: the file holds no settings; expected a mapping with keys "
               "version, sources, sinks (required), schemas, currency, decode, time, "
               "pipeline, state, checkpoint, rules");
      return;
    }
    if (!r_.expect_map(root, "config",
                       {"version", "sources", "sinks", "schemas", "currency", "decode", "time",
                        "pipeline", "state", "checkpoint", "rules"})) {
      return;
    }
    if (const auto v = root["version"]) {
      if (auto n = r_.scalar(v, "version", "1"); n && *n != "1") {
        r_.error(v,
                 "version: this corridor reads config version 1, got " + YamlReader::shown(v, *n));
      }
    } else {
      r_.missing(root, "config", "version");
    }
    c_.schemas.emplace("canonical", event::Schema::canonical());
    if (const auto n = root["schemas"]) read_schemas(n);
    if (const auto n = root["currency"]) read_currency(n);
    if (const auto n = root["decode"]) read_decode(n);
    if (const auto n = root["time"]) read_time(n);
    if (const auto n = root["pipeline"]) read_pipeline(n);
    if (const auto n = root["state"]) read_state(n);
    if (const auto n = root["checkpoint"]) read_checkpoint(n);
    if (const auto n = root["rules"]) read_rules(n);
    if (const auto n = root["sinks"]) {
      read_sinks(n);
    } else {
      r_.missing(root, "config", "sinks");
    }
    if (const auto n = root["sources"]) {
      read_sources(n);
    } else {
      r_.missing(root, "config", "sources");
    }
    if (const auto n = root["sinks"]) check_sink_paths(n);
    check_truth_paths();
  }

 private:
  void read_sources(const YAML::Node& list) {
    if (!r_.expect_sequence(list, "sources")) return;
    if (list.size() == 0) r_.error(list, "sources: expected at least one source");
    std::set<std::string> names;
    std::string stdin_reader;  // the source that reads standard input, when one does
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node n = list[i];
      const std::string what = at_index("sources", i);
      if (!r_.expect_map(n, what,
                         {"name", "type", "path", "format", "schema", "csv", "seed", "entities",
                          "days", "start", "scenarios", "no_scenarios", "rate", "truth"})) {
        continue;
      }
      SourceConfig s;
      if (const auto v = n["name"]) {
        if (auto name = r_.string(v, what + ".name"); name && name->empty()) {
          r_.error(v, what + ".name: expected a non-empty name");
        } else if (name) {
          s.name = *name;
          if (!names.insert(s.name).second) {
            r_.error(v, what + ".name: duplicate source name '" + s.name + "'");
          }
        }
      } else {
        r_.missing(n, what, "name");
      }
      if (const auto v = n["type"]) {
        if (auto t = r_.one_of(v, what + ".type", {"file", "stdin", "synthetic"})) s.type = *t;
      } else {
        r_.missing(n, what, "type");
      }
      if (const auto v = n["path"]) {
        if (s.type == "stdin") {
          r_.error(v, what + ".path: a stdin source has no path");
        } else if (s.type == "synthetic") {
          r_.error(v, what +
                          ".path: a synthetic source generates its events and has no path (its "
                          "ground-truth file is `truth`)");
        } else if (auto p = r_.string(v, what + ".path"); p && p->empty()) {
          r_.error(v, what + ".path: expected a file path, got an empty string");
        } else if (p) {
          s.path = resolve_path(r_.file(), *p);
        }
      } else if (s.type == "file") {
        r_.missing(n, what, "path");
      }
      if (s.type == "stdin" || (s.type == "file" && s.path == "-")) {
        if (!stdin_reader.empty()) {
          r_.error(n["type"], what + ": '" + stdin_reader +
                                  "' already reads standard input; only one source can");
        }
        stdin_reader = s.name.empty() ? what : s.name;
      }
      if (s.type == "stdin") s.path = "-";
      if (s.type == "synthetic") {
        read_synthetic(n, what, s.synthetic);
      } else if (!s.type.empty()) {
        for (std::string_view key : kSyntheticKeys) {
          if (const auto v = n[std::string(key)]) {
            r_.error(v, what + "." + std::string(key) +
                            ": only for a synthetic source (this one is " + s.type + ")");
          }
        }
      }
      if (const auto v = n["format"]; v && s.type == "synthetic") {
        r_.error(v,
                 what + ".format: a synthetic source writes canonical NDJSON; it takes no format");
      } else if (v) {
        if (auto f = r_.one_of(v, what + ".format", {"ndjson", "csv"})) {
          s.format = *f == "csv" ? SourceFormat::csv : SourceFormat::ndjson;
        }
      }
      if (const auto v = n["csv"]) {
        if (s.format != SourceFormat::csv) {
          r_.error(v, what + ".csv: only for sources with format: csv");
        } else if (r_.expect_map(v, what + ".csv", {"delimiter"})) {
          if (const auto d = v["delimiter"]) {
            auto text = r_.string(d, what + ".csv.delimiter");
            if (text && (text->size() != 1 || (*text)[0] == '"' || (*text)[0] == '\n')) {
              r_.error(
                  d, what + ".csv.delimiter: expected one character other than a quote or newline");
            } else if (text) {
              s.csv_delimiter = (*text)[0];
            }
          }
        }
      }
      if (const auto v = n["schema"]; v && s.type == "synthetic") {
        r_.error(v,
                 what + ".schema: a synthetic source writes canonical events; it takes no schema");
      } else if (v) {
        if (auto name = r_.string(v, what + ".schema")) {
          s.schema = *name;
          check_schema_for(v, what + ".schema", s);
        }
      } else if (s.format == SourceFormat::csv) {
        r_.error(n, what +
                        ": missing required key 'schema': a csv source needs a schema that "
                        "maps its columns");
      }
      c_.sources.push_back(std::move(s));
      source_nodes_.emplace_back(n, what);
    }
  }

  // The keys of a synthetic source (SyntheticSourceConfig); unset ones keep the world's
  // defaults, which live in connectors/synthetic.
  void read_synthetic(const YAML::Node& n, const std::string& what, SyntheticSourceConfig& s) {
    if (const auto v = n["seed"]) {
      const std::string key = what + ".seed";
      if (auto text = r_.scalar(v, key, "an integer")) {
        uint64_t seed = 0;
        const char* end = text->data() + text->size();
        const auto [ptr, ec] = std::from_chars(text->data(), end, seed);
        if (text->empty() || ec != std::errc() || ptr != end) {
          r_.error(v, key + ": expected an integer from 0 to 18446744073709551615, got " +
                          YamlReader::shown(v, *text));
        } else {
          s.seed = seed;
        }
      }
    }
    if (const auto v = n["entities"]) {
      if (auto e = r_.integer(v, what + ".entities", 1, 100'000'000)) {
        s.entities = static_cast<uint32_t>(*e);
      }
    }
    if (const auto v = n["days"]) {
      if (auto d = r_.integer(v, what + ".days", 1, 3660)) s.days = static_cast<uint32_t>(*d);
    }
    if (const auto v = n["start"]) {
      auto text = r_.string(v, what + ".start");
      int64_t ms = 0;
      if (text && !event::parse_rfc3339(*text, ms)) {
        r_.error(v, what +
                        ".start: expected an RFC 3339 date-time such as "
                        "2026-01-01T00:00:00Z, got " +
                        YamlReader::shown(v, *text));
      } else if (text && (ms < c_.limits.min_ts_ms || ms >= c_.limits.max_ts_ms)) {
        r_.error(v, what + ".start: " + YamlReader::shown(v, *text) +
                        " lies outside the event times the decoder accepts (decode.earliest "
                        "to decode.latest); every event would be dead-lettered");
      } else if (text) {
        s.start_ms = ms;
      }
    }
    const auto scenarios = n["scenarios"];
    if (scenarios && r_.expect_sequence(scenarios, what + ".scenarios")) {
      if (scenarios.size() == 0) {
        r_.error(scenarios, what +
                                ".scenarios: expected at least one scenario name; leave the key "
                                "out for all of them, or set no_scenarios: true for none");
      }
      for (size_t i = 0; i < scenarios.size(); ++i) {
        const std::string key = at_index(what + ".scenarios", i);
        auto name = r_.string(scenarios[i], key);
        if (!name) continue;
        const auto& known = catalog_.synthetic_scenarios;
        if (!known.empty() && std::find(known.begin(), known.end(), *name) == known.end()) {
          r_.error(scenarios[i], key + ": unknown scenario " +
                                     YamlReader::shown(scenarios[i], *name) +
                                     "; allowed: " + joined(known));
          continue;
        }
        if (std::find(s.scenarios.begin(), s.scenarios.end(), *name) != s.scenarios.end()) {
          r_.error(scenarios[i],
                   key + ": " + YamlReader::shown(scenarios[i], *name) + " is listed twice");
          continue;
        }
        s.scenarios.push_back(*name);
      }
    }
    if (const auto v = n["no_scenarios"]) {
      if (auto b = r_.boolean(v, what + ".no_scenarios")) {
        s.no_scenarios = *b;
        if (*b && scenarios) {
          r_.error(v, what +
                          ".no_scenarios: true leaves every scenario out, but scenarios "
                          "names some; give one of the two");
        }
      }
    }
    if (const auto v = n["rate"]) {
      const std::string key = what + ".rate";
      if (auto text = r_.scalar(v, key, "a number of events per second")) {
        double rate = -1;
        const char* end = text->data() + text->size();
        const auto [ptr, ec] = std::from_chars(text->data(), end, rate);
        const bool number = !text->empty() && ec == std::errc() && ptr == end &&
                            text->find_first_not_of("0123456789.") == std::string::npos;
        if (!number || rate < 0 || rate > 1e9) {
          r_.error(v, key +
                          ": expected events per wall-clock second, a number from 0 (as fast as "
                          "possible) to 1000000000, got " +
                          YamlReader::shown(v, *text));
        } else {
          s.rate = rate;
        }
      }
    }
    if (const auto v = n["truth"]) {
      if (auto p = r_.string(v, what + ".truth"); p && p->empty()) {
        r_.error(v, what + ".truth: expected a file path, got an empty string");
      } else if (p && *p == "-") {
        r_.error(v, what + ".truth: expected a file path; stdout carries no truth file");
      } else if (p) {
        s.truth = resolve_path(r_.file(), *p);
      }
    }
    // The world's amounts are in its corridors' currencies; without a rate each of them
    // would be dead-lettered.
    std::string missing;
    for (const std::string& code : catalog_.synthetic_currencies) {
      if (code.size() != 3) continue;
      if (c_.currencies.find(event::Currency{{code[0], code[1], code[2]}}) == nullptr) {
        missing += (missing.empty() ? "" : ", ") + code;
      }
    }
    if (!missing.empty()) {
      r_.error(n["type"], what + ": a synthetic source writes amounts in " +
                              joined(catalog_.synthetic_currencies) +
                              "; currency.rates has no rate for " + missing +
                              " (config/examples/synthetic.yaml lists them all)");
    }
  }

  static std::string joined(const std::vector<std::string>& codes) {
    std::string out;
    for (const std::string& c : codes) out += (out.empty() ? "" : ", ") + c;
    return out;
  }

  // The schema must exist and address records the way the source's format does.
  void check_schema_for(const YAML::Node& at, const std::string& what, const SourceConfig& s) {
    if (broken_schemas_.contains(s.schema)) return;  // its own errors say enough
    auto it = c_.schemas.find(s.schema);
    if (it == c_.schemas.end()) {
      std::string have;
      for (const auto& [name, _] : c_.schemas) have += (have.empty() ? "" : ", ") + name;
      r_.error(at, what + ": no schema named '" + s.schema + "'; defined: " + have);
      return;
    }
    if (s.schema == "canonical") {
      if (s.format == SourceFormat::csv) {
        r_.error(at, what + ": a csv source needs a schema that maps columns");
      }
      return;
    }
    for (size_t f = 0; f < event::kFieldCount; ++f) {
      const event::FieldRule& rule = it->second.fields[f];
      if (!rule.mapped) continue;
      const bool json = s.format == SourceFormat::ndjson;
      if (json && !rule.column.empty()) {
        r_.error(at, what + ": schema '" + s.schema + "' maps " +
                         std::string(event::field_name(static_cast<Field>(f))) +
                         " to a CSV column, but this source reads ndjson; use pointer");
        return;
      }
      if (!json && !rule.pointer.empty()) {
        r_.error(at, what + ": schema '" + s.schema + "' maps " +
                         std::string(event::field_name(static_cast<Field>(f))) +
                         " to a JSON pointer, but this source reads csv; use column");
        return;
      }
    }
  }

  void read_sink(const YAML::Node& n, const std::string& what, SinkConfig& sink) {
    if (!r_.expect_map(n, what, {"type", "path", "append"})) return;
    if (const auto v = n["type"]) {
      if (auto t = r_.one_of(v, what + ".type", {"stdout", "stderr", "file", "discard"})) {
        sink.type = *t;
      }
    } else {
      r_.missing(n, what, "type");
    }
    if (const auto v = n["path"]) {
      if (sink.type != "file") {
        r_.error(v, what + ".path: only a file sink has a path");
      } else if (auto p = r_.string(v, what + ".path"); p && p->empty()) {
        r_.error(v, what + ".path: expected a file path, got an empty string");
      } else if (p) {
        sink.path = resolve_path(r_.file(), *p);
      }
    } else if (sink.type == "file") {
      r_.missing(n, what, "path");
    }
    if (const auto v = n["append"]) {
      if (auto b = r_.boolean(v, what + ".append")) sink.append = *b;
    }
  }

  // A synthetic source's truth file is written by corridor: it cannot be another source's
  // input or another synthetic source's truth file (sinks are checked in check_sink_paths).
  void check_truth_paths() {
    for (size_t i = 0; i < c_.sources.size(); ++i) {
      const SourceConfig& s = c_.sources[i];
      if (s.type != "synthetic" || s.synthetic.truth.empty()) continue;
      const YAML::Node at = source_nodes_[i].first["truth"];
      const std::string what = source_nodes_[i].second + ".truth";
      for (size_t j = 0; j < c_.sources.size(); ++j) {
        const SourceConfig& o = c_.sources[j];
        if (o.type == "file" && same_file(o.path, s.synthetic.truth)) {
          r_.error(at, what + ": '" + s.synthetic.truth + "' is the input of source '" + o.name +
                           "'; writing there would destroy it");
          break;
        }
        if (j < i && o.type == "synthetic" && same_file(o.synthetic.truth, s.synthetic.truth)) {
          r_.error(at, what + ": '" + s.synthetic.truth + "' is also the truth file of source '" +
                           o.name + "'; give each its own file");
          break;
        }
      }
    }
  }

  // A file sink opened on an input or on the other sink's file would truncate it.
  void check_sink_paths(const YAML::Node& sinks) {
    if (!sinks.IsMap()) return;
    const std::pair<const char*, const SinkConfig*> all[] = {{"events", &c_.events},
                                                             {"signals", &c_.signals},
                                                             {"alerts", &c_.alerts},
                                                             {"dead_letter", &c_.dead_letter}};
    for (const auto& [key, sink] : all) {
      if (sink->type != "file" || sink->path.empty()) continue;
      const YAML::Node at = sinks[key]["path"];
      const std::string what = std::string("sinks.") + key + ".path";
      if (same_file(r_.file(), sink->path)) {
        r_.error(at, what + ": '" + sink->path +
                         "' is this config file; writing there would destroy it");
        continue;
      }
      if (const auto pack =
              std::find_if(c_.rules.packs.begin(), c_.rules.packs.end(),
                           [&](const std::string& p) { return same_file(p, sink->path); });
          pack != c_.rules.packs.end()) {
        r_.error(at, what + ": '" + sink->path + "' is the rule pack " + *pack +
                         "; writing there would destroy it");
        continue;
      }
      for (const SourceConfig& source : c_.sources) {
        if (source.type == "file" && same_file(source.path, sink->path)) {
          r_.error(at, what + ": '" + sink->path + "' is the input of source '" + source.name +
                           "'; writing there would destroy it");
          break;
        }
        if (source.type == "synthetic" && !source.synthetic.truth.empty() &&
            same_file(source.synthetic.truth, sink->path)) {
          r_.error(at, what + ": '" + sink->path + "' is the truth file of source '" + source.name +
                           "'; give each its own file");
          break;
        }
      }
    }
    // No two file sinks on one file.
    for (size_t a = 0; a < std::size(all); ++a) {
      for (size_t b = a + 1; b < std::size(all); ++b) {
        const SinkConfig& x = *all[a].second;
        const SinkConfig& y = *all[b].second;
        if (x.type == "file" && y.type == "file" && !x.path.empty() && same_file(x.path, y.path)) {
          r_.error(sinks[all[b].first]["path"], std::string("sinks.") + all[b].first + ".path: '" +
                                                    y.path + "' is also the " + all[a].first +
                                                    " sink's file; give each sink its own file");
        }
      }
    }
  }

  void read_sinks(const YAML::Node& n) {
    if (!r_.expect_map(n, "sinks", {"events", "signals", "alerts", "dead_letter"})) return;
    if (const auto v = n["events"]) read_sink(v, "sinks.events", c_.events);
    if (const auto v = n["signals"]) read_sink(v, "sinks.signals", c_.signals);
    if (const auto v = n["alerts"]) read_sink(v, "sinks.alerts", c_.alerts);
    if (const auto v = n["dead_letter"]) {
      read_sink(v, "sinks.dead_letter", c_.dead_letter);
    } else {
      r_.missing(n, "sinks", "dead_letter");
    }
  }

  void read_schemas(const YAML::Node& n) {
    if (!r_.expect_free_map(n, "schemas")) return;
    for (const auto& kv : n) {
      const std::string name = kv.first.Scalar();
      const std::string what = "schemas." + name;
      if (name == "canonical") {
        r_.error(kv.first, what + ": 'canonical' is built in and cannot be redefined");
        continue;
      }
      const size_t errors_before = r_.error_count();
      read_schema(name, kv.second, what);
      if (r_.error_count() != errors_before) broken_schemas_.insert(name);
    }
  }

  void read_schema(const std::string& name, const YAML::Node& n, const std::string& what) {
    if (!r_.expect_map(n, what, {"fields"})) return;
    const YAML::Node fields = n["fields"];
    if (!fields) {
      r_.missing(n, what, "fields");
      return;
    }
    if (!r_.expect_free_map(fields, what + ".fields")) return;
    event::Schema schema;
    schema.name = name;
    for (const auto& f : fields) read_field_rule(f.first, f.second, what + ".fields", schema);
    check_pointer_overlap(fields, what + ".fields", schema);
    c_.schemas[name] = std::move(schema);
  }

  void read_field_rule(const YAML::Node& key, const YAML::Node& spec, const std::string& where,
                       event::Schema& schema) {
    Field field{};
    const std::string name = key.Scalar();
    if (!event::parse_field(name, field)) {
      r_.error(key,
               where + ": unknown canonical field '" + name + "'; allowed: " + all_field_names());
      return;
    }
    const std::string what = where + "." + name;
    event::FieldRule& rule = schema.fields[static_cast<size_t>(field)];
    auto set_location = [&](const YAML::Node& at, const std::string& text, bool is_pointer) {
      if (text.empty()) {
        r_.error(at, what +
                         ": expected a JSON Pointer such as /a/b or a CSV column name, got "
                         "an empty string");
        return;
      }
      if (is_pointer) {
        auto tokens = event::parse_json_pointer(text);
        if (!tokens) {
          r_.error(at, what + ": '" + text +
                           "' is not a JSON Pointer (RFC 6901: starts with /, ~ only as ~0 or ~1)");
          return;
        }
        if (tokens->size() > static_cast<size_t>(event::kMaxPointerDepth)) {
          r_.error(at, what + ": '" + text + "' has " + std::to_string(tokens->size()) +
                           " levels; at most " + std::to_string(event::kMaxPointerDepth) +
                           " are supported");
          return;
        }
        rule.pointer = std::move(*tokens);
      } else {
        rule.column = text;
      }
      rule.mapped = true;
    };
    if (spec.IsScalar()) {
      // Shorthand: "/a/b" is a JSON Pointer, anything else a CSV column name.
      if (auto text = r_.string(spec, what)) set_location(spec, *text, text->starts_with('/'));
      return;
    }
    if (!r_.expect_map(
            spec, what,
            {"pointer", "column", "map", "default", "line_number_prefix", "unit", "origin"})) {
      return;
    }
    if (const auto v = spec["pointer"]) {
      if (auto text = r_.string(v, what + ".pointer")) set_location(v, *text, true);
    }
    if (const auto v = spec["column"]) {
      if (spec["pointer"]) r_.error(v, what + ": give pointer or column, not both");
      if (auto text = r_.string(v, what + ".column")) set_location(v, *text, false);
    }
    if (const auto v = spec["map"]; v && r_.expect_free_map(v, what + ".map")) {
      for (const auto& m : v) {
        auto to = r_.string(m.second, what + ".map." + m.first.Scalar());
        if (!to) continue;
        check_value(m.second, what + ".map." + m.first.Scalar(), field, *to);
        rule.value_map.emplace_back(m.first.Scalar(), *to);
      }
    }
    if (const auto v = spec["default"]) {
      if (auto d = r_.string(v, what + ".default")) {
        check_value(v, what + ".default", field, *d);
        rule.default_value = *d;
      }
    }
    if (const auto v = spec["line_number_prefix"]) {
      if (field != Field::id) r_.error(v, what + ".line_number_prefix: only for id");
      if (auto p = r_.string(v, what + ".line_number_prefix")) rule.line_number_prefix = *p;
    }
    for (const char* k : {"unit", "origin"}) {
      if (spec[k] && field != Field::ts) {
        r_.error(spec[k], what + "." + k + ": only for ts");
      }
    }
    if (const auto v = spec["unit"]; v && field == Field::ts) {
      if (auto u = r_.one_of(v, what + ".unit", {"ms", "s", "m", "h", "d"})) {
        rule.time_scale.unit_ms = *parse_duration_ms("1" + *u);
      }
    }
    if (const auto v = spec["origin"]; v && field == Field::ts) {
      if (auto o = r_.string(v, what + ".origin")) {
        int64_t ms = 0;
        if (event::parse_rfc3339(*o, ms)) {
          rule.time_scale.origin_ms = ms;
        } else {
          r_.error(v, what +
                          ".origin: expected an RFC 3339 date-time such as "
                          "2024-01-01T00:00:00Z, got " +
                          YamlReader::shown(v, *o));
        }
      }
    }
    // Only when none was written: a source given but invalid has its own error.
    if (!spec["pointer"] && !spec["column"] && !spec["default"] && !spec["line_number_prefix"]) {
      r_.error(spec, what + ": give pointer, column, default or line_number_prefix");
    }
  }

  // Defaults and value-map targets are checked now, not on the first event.
  void check_value(const YAML::Node& at, const std::string& what, Field field,
                   const std::string& value) {
    event::Kind kind{};
    if (field == Field::kind && !event::parse_kind(value, kind)) {
      r_.error(at, what + ": '" + value +
                       "' is not a kind; allowed: transfer, remittance, cash_in, cash_out, "
                       "salary, fee, card");
    } else if (field == Field::currency && !is_capitals(value, 3)) {
      r_.error(at, what + ": '" + value + "' is not an ISO 4217 code (three capitals)");
    } else if ((field == Field::sender_country || field == Field::receiver_country) &&
               !is_capitals(value, 2)) {
      r_.error(at, what + ": '" + value + "' is not an ISO 3166 alpha-2 code (two capitals)");
    } else if (field == Field::labels) {
      r_.error(at, what + ": labels take no default or map");
    } else if (field == Field::amount) {
      event::Money m;
      if (event::parse_money(value, m) != event::DecimalError::ok || m.units <= 0) {
        r_.error(at, what + ": '" + value +
                         "' is not an amount (a decimal greater than 0, at most 4 decimal places)");
      }
    } else if (field == Field::ts) {
      int64_t ms = 0;
      const bool count = value.find_first_not_of("0123456789") == std::string::npos &&
                         !value.empty() && value.size() <= 15;
      if (!count && !event::parse_rfc3339(value, ms)) {
        r_.error(at, what + ": '" + value +
                         "' is not an RFC 3339 date-time such as 2024-01-01T00:00:00Z");
      }
    } else if (field == Field::id && value.empty()) {
      r_.error(at, what + ": an id cannot be empty");
    }
  }

  // A pointer may not lead through another field's value: /a and /a/b cannot both be
  // mapped, and one location cannot feed two fields. Reported at the inner (or later) field.
  void check_pointer_overlap(const YAML::Node& fields, const std::string& what,
                             const event::Schema& schema) {
    // Where each field is written (a default-constructed YAML::Node cannot stand for
    // "absent": it is a defined null, and assigning to it copies content).
    std::array<std::optional<YAML::Mark>, event::kFieldCount> keys;
    for (const auto& kv : fields) {
      Field f{};
      if (event::parse_field(kv.first.Scalar(), f) && !keys[static_cast<size_t>(f)]) {
        keys[static_cast<size_t>(f)] = kv.first.Mark();
      }
    }
    for (size_t b = 0; b < event::kFieldCount; ++b) {
      const auto& pb = schema.fields[b].pointer;
      if (pb.empty() || !keys[b]) continue;
      for (size_t a = 0; a < event::kFieldCount; ++a) {
        const auto& pa = schema.fields[a].pointer;
        if (a == b || pa.empty() || !keys[a] || pa.size() > pb.size()) continue;
        if (!std::equal(pa.begin(), pa.end(), pb.begin())) continue;
        const std::string name_a(event::field_name(static_cast<Field>(a)));
        const std::string name_b(event::field_name(static_cast<Field>(b)));
        if (pa.size() < pb.size()) {
          r_.error(*keys[b], what + "." + name_b + ": pointer " + event::format_json_pointer(pb) +
                                 " lies inside " + event::format_json_pointer(pa) +
                                 ", the pointer of " + name_a +
                                 "; a field's value cannot also hold another field");
          break;
        }
        if (keys[b]->pos > keys[a]->pos) {
          r_.error(*keys[b], what + "." + name_b + ": pointer " + event::format_json_pointer(pb) +
                                 " is already the pointer of " + name_a +
                                 "; one location feeds one field");
          break;
        }
      }
    }
  }

  void read_currency(const YAML::Node& n) {
    if (!r_.expect_map(n, "currency", {"base", "rates"})) return;
    event::Currency base{{'U', 'S', 'D'}};
    if (const auto v = n["base"]) {
      if (auto b = r_.string(v, "currency.base")) {
        if (is_capitals(*b, 3)) {
          base.code = {(*b)[0], (*b)[1], (*b)[2]};
        } else {
          r_.error(v, "currency.base: '" + *b + "' is not an ISO 4217 code (three capitals)");
        }
      }
    } else {
      r_.missing(n, "currency", "base");
    }
    c_.currencies = event::CurrencyTable(base);
    if (const auto rates = n["rates"]; rates && r_.expect_free_map(rates, "currency.rates")) {
      for (const auto& kv : rates) {
        const std::string code = kv.first.Scalar();
        const std::string what = "currency.rates." + code;
        if (!is_capitals(code, 3)) {
          r_.error(kv.first, what + ": '" + code + "' is not an ISO 4217 code (three capitals)");
          continue;
        }
        auto text = r_.string(kv.second, what);
        if (!text) continue;
        event::Rate rate;
        if (event::parse_rate(*text, rate) != event::DecimalError::ok) {
          r_.error(kv.second, what +
                                  ": expected a positive decimal with at most 10 decimal "
                                  "places (units of " +
                                  std::string(base.view()) + " per 1 " + code + "), got " +
                                  YamlReader::shown(kv.second, *text));
          continue;
        }
        const event::Currency c{{code[0], code[1], code[2]}};
        if (c == base && rate.scaled != event::Rate::kUnit) {
          r_.error(kv.second, what + ": the base currency's rate must be 1");
          continue;
        }
        c_.currencies.set_rate(c, rate);
      }
    }
  }

  void read_decode(const YAML::Node& n) {
    if (!r_.expect_map(n, "decode",
                       {"max_event_bytes", "max_string_bytes", "earliest", "latest"})) {
      return;
    }
    auto bounded_size = [&](const char* key, uint64_t min, uint64_t max, const char* range,
                            size_t& out) {
      const auto v = n[key];
      if (!v) return;
      const std::string what = std::string("decode.") + key;
      if (auto s = r_.size_bytes(v, what)) {
        if (*s < min || *s > max) {
          r_.error(v, what + ": expected a size from " + range + ", got '" + v.Scalar() + "'");
        } else {
          out = *s;
        }
      }
    };
    bounded_size("max_event_bytes", 256, 64ULL << 20, "256 to 64MiB", c_.limits.max_event_bytes);
    bounded_size("max_string_bytes", 16, 1ULL << 20, "16 to 1MiB", c_.limits.max_string_bytes);
    std::string texts[2] = {"1990-01-01T00:00:00Z (the default)",
                            "2100-01-01T00:00:00Z (the default)"};
    bool ok[2] = {true, true};
    std::optional<YAML::Node> nodes[2];
    const char* keys[2] = {"earliest", "latest"};
    for (int i = 0; i < 2; ++i) {
      const auto v = n[keys[i]];
      if (!v) continue;
      nodes[i].emplace(v);
      const std::string what = std::string("decode.") + keys[i];
      auto text = r_.string(v, what);
      int64_t ms = 0;
      ok[i] = text && event::parse_rfc3339(*text, ms);
      if (text && !ok[i]) {
        r_.error(v, what + ": expected an RFC 3339 date-time such as 2000-01-01T00:00:00Z, got " +
                        YamlReader::shown(v, *text));
      } else if (ok[i]) {
        texts[i] = *text;
        (i == 0 ? c_.limits.min_ts_ms : c_.limits.max_ts_ms) = ms;
      }
    }
    if (ok[0] && ok[1] && c_.limits.min_ts_ms >= c_.limits.max_ts_ms) {
      // At the bound the user wrote (latest when both are written).
      const YAML::Node& at = nodes[1] ? *nodes[1] : *nodes[0];
      r_.error(at, std::string("decode.") + (nodes[1] ? "latest" : "earliest") +
                       ": no event time would be accepted: earliest " + texts[0] +
                       " is not before latest " + texts[1]);
    }
  }

  void read_time(const YAML::Node& n) {
    if (!r_.expect_map(n, "time", {"allowed_lateness", "late_events"})) return;
    if (const auto v = n["allowed_lateness"]) {
      if (auto d = r_.duration_ms(v, "time.allowed_lateness")) c_.pipeline.allowed_lateness_ms = *d;
    }
    if (const auto v = n["late_events"]) {
      if (auto p = r_.one_of(v, "time.late_events", {"dead_letter", "apply"})) {
        c_.pipeline.late_policy =
            *p == "apply" ? pipeline::LatePolicy::apply : pipeline::LatePolicy::dead_letter;
      }
    }
  }

  void read_pipeline(const YAML::Node& n) {
    if (!r_.expect_map(n, "pipeline", {"batch_size"})) return;
    if (const auto v = n["batch_size"]) {
      if (auto b = r_.integer(v, "pipeline.batch_size", 1, 1'000'000)) {
        c_.pipeline.batch_size = static_cast<size_t>(*b);
      }
    }
  }

  void read_state(const YAML::Node& n) {
    if (!r_.expect_map(n, "state", {"path", "memory_limit"})) return;
    if (const auto v = n["path"]) {
      if (auto p = r_.string(v, "state.path"); p && p->empty()) {
        r_.error(v, "state.path: expected a folder path, got an empty string");
      } else if (p) {
        c_.state.path = resolve_path(r_.file(), *p);
      }
    }
    if (const auto v = n["memory_limit"]) {
      if (auto s = r_.size_bytes(v, "state.memory_limit"); s && *s < (1ULL << 20)) {
        // "memory_limit: 512" is more likely meant as MiB than as 512 bytes.
        r_.error(v, "state.memory_limit: expected at least 1MiB, got '" + v.Scalar() +
                        "'; give a unit, as in 512MiB or 2GiB");
      } else if (s) {
        c_.state.memory_limit_bytes = *s;
      }
    }
  }

  void read_checkpoint(const YAML::Node& n) {
    if (!r_.expect_map(n, "checkpoint", {"interval", "max_events"})) return;
    if (const auto v = n["interval"]) {
      if (auto d = r_.duration_ms(v, "checkpoint.interval")) c_.checkpoint.interval_ms = *d;
    }
    if (const auto v = n["max_events"]) {
      if (auto e = r_.integer(v, "checkpoint.max_events", 1, 1'000'000'000)) {
        c_.checkpoint.max_events = static_cast<uint64_t>(*e);
      }
    }
  }

  void read_rules(const YAML::Node& n) {
    if (!r_.expect_map(n, "rules",
                       {"packs", "new_pair_lookback", "salary_lookback", "max_window",
                        "distinct_exact_bound", "group_exact_bound"})) {
      return;
    }
    if (const auto v = n["packs"]) {
      if (r_.expect_sequence(v, "rules.packs")) {
        for (size_t i = 0; i < v.size(); ++i) {
          const std::string what = "rules.packs[" + std::to_string(i) + "]";
          if (auto p = r_.string(v[i], what)) {
            c_.rules.packs.push_back(resolve_path(r_.file(), *p));
            c_.rules.pack_sites.push_back(r_.site(v[i], what));
          }
        }
      }
    } else {
      r_.missing(n, "rules", "packs");
    }
    if (const auto v = n["new_pair_lookback"]) {
      if (auto d = r_.duration_ms(v, "rules.new_pair_lookback")) c_.rules.new_pair_lookback_ms = *d;
    }
    if (const auto v = n["salary_lookback"]) {
      if (auto d = r_.duration_ms(v, "rules.salary_lookback")) c_.rules.salary_lookback_ms = *d;
    }
    if (const auto v = n["max_window"]) {
      if (auto d = r_.duration_ms(v, "rules.max_window")) c_.rules.max_window_ms = *d;
    }
    if (const auto v = n["distinct_exact_bound"]) {
      if (auto b = r_.integer(v, "rules.distinct_exact_bound", 1, 100'000)) {
        c_.rules.distinct_exact_bound = static_cast<uint32_t>(*b);
      }
    }
    if (const auto v = n["group_exact_bound"]) {
      if (auto b = r_.integer(v, "rules.group_exact_bound", 1, 100'000)) {
        c_.rules.group_exact_bound = static_cast<uint32_t>(*b);
      }
    }
  }

  YamlReader& r_;
  EngineConfig& c_;
  const SourceCatalog& catalog_;
  // The mapping of each of c_.sources and its name in messages ("sources[1]").
  std::vector<std::pair<YAML::Node, std::string>> source_nodes_;
  std::set<std::string> broken_schemas_;  // defined, but with errors of their own
};

}  // namespace

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::optional<int64_t> parse_duration_ms(const std::string& text) {
  size_t i = 0;
  int64_t n = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i < 12) {
    n = n * 10 + (text[i] - '0');
    ++i;
  }
  if (i == 0) return std::nullopt;
  const std::string unit = text.substr(i);
  int64_t scale = 0;
  if (unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = 1000;
  } else if (unit == "m") {
    scale = 60'000;
  } else if (unit == "h") {
    scale = 3'600'000;
  } else if (unit == "d") {
    scale = 86'400'000;
  } else {
    return std::nullopt;
  }
  if (n > INT64_MAX / scale) return std::nullopt;  // beyond 292 million years
  return n * scale;
}

std::optional<uint64_t> parse_size_bytes(const std::string& text) {
  size_t i = 0;
  uint64_t n = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i < 15) {
    n = n * 10 + static_cast<uint64_t>(text[i] - '0');
    ++i;
  }
  if (i == 0) return std::nullopt;
  const std::string unit = text.substr(i);
  uint64_t scale = 0;
  if (unit.empty() || unit == "B") {
    scale = 1;
  } else if (unit == "KiB") {
    scale = 1ULL << 10;
  } else if (unit == "MiB") {
    scale = 1ULL << 20;
  } else if (unit == "GiB") {
    scale = 1ULL << 30;
  } else if (unit == "KB") {
    scale = 1000;
  } else if (unit == "MB") {
    scale = 1000'000;
  } else if (unit == "GB") {
    scale = 1000'000'000;
  } else {
    return std::nullopt;
  }
  if (n > UINT64_MAX / scale) return std::nullopt;
  return n * scale;
}

std::string fnv1a64_hex(const std::string& bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kHex[h & 0xF];
    h >>= 4;
  }
  return out;
}

// A node as text for hashing, whatever its YAML style: mappings in file order, sequences,
// and scalars length-prefixed (so that no two different trees give the same text).
void canonical(const YAML::Node& n, std::string& out) {
  if (!n) {  // absent
    out += '~';
    return;
  }
  switch (n.Type()) {
    case YAML::NodeType::Map:
      out += '{';
      for (const auto& kv : n) {
        canonical(kv.first, out);
        canonical(kv.second, out);
      }
      out += '}';
      return;
    case YAML::NodeType::Sequence:
      out += '[';
      for (const auto& item : n) canonical(item, out);
      out += ']';
      return;
    case YAML::NodeType::Scalar:
      out += std::to_string(n.Scalar().size()) + ':' + n.Scalar();
      return;
    default:
      out += '~';
  }
}

// The settings that decide what the engine emits: the version, schemas, currency, decode
// limits, time (lateness), the rules settings but the packs' paths (their content has a hash
// of its own), and each source but its path, pacing (`rate`) and truth file. Left out: sinks,
// pipeline, checkpoint and state, which change where and how, never what.
std::string outputs_settings(const YAML::Node& root) {
  std::string out;
  if (!root.IsMap()) return out;
  for (const char* key : {"version", "schemas", "currency", "decode", "time"}) {
    out += key;
    canonical(root[key], out);
  }
  // A mapping's entries but those under `skip`.
  const auto entries_but = [&out](const YAML::Node& map,
                                  std::initializer_list<std::string_view> skip) {
    out += '{';
    if (map && map.IsMap()) {
      for (const auto& kv : map) {
        if (std::find(skip.begin(), skip.end(), kv.first.Scalar()) != skip.end()) continue;
        canonical(kv.first, out);
        canonical(kv.second, out);
      }
    }
    out += '}';
  };
  out += "sources";
  if (const YAML::Node sources = root["sources"]; sources && sources.IsSequence()) {
    for (const auto& source : sources) entries_but(source, {"path", "rate", "truth"});
  }
  out += "rules";
  entries_but(root["rules"], {"packs"});
  return out;
}

LoadResult parse_engine_config(const std::string& path, const std::string& text,
                               const EnvLookup& env, const SourceCatalog& catalog) {
  LoadResult result;
  YamlReader reader(path, result.errors, env);
  YAML::Node root;
  try {
    const std::vector<YAML::Node> documents = YAML::LoadAll(text);
    for (size_t i = 1; i < documents.size(); ++i) {
      if (documents[i].IsNull()) continue;  // a trailing "---" adds an empty document
      // Only the first would be read; the rest would be silently ignored.
      reader.error(documents[i].Mark(),
                   "config: a second YAML document (after ---); an "
                   "engine config is one document");
      return result;
    }
    if (!documents.empty()) root = documents[0];
  } catch (const YAML::ParserException& e) {
    reader.syntax_error(text, e);
    return result;
  }
  EngineConfig config;
  config.file = path;
  config.hash = fnv1a64_hex(text);
  config.outputs_hash = fnv1a64_hex(outputs_settings(root));
  EngineConfigReader(reader, config, catalog).read(root);
  std::stable_sort(result.errors.begin(), result.errors.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return a.line != b.line ? a.line < b.line : a.column < b.column;
                   });
  result.rules = config.rules;
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

LoadResult load_engine_config(const std::string& path, const EnvLookup& env,
                              const SourceCatalog& catalog) {
  std::string why;
  const std::optional<std::string> text = read_text_file(path, why);
  if (!text) {
    LoadResult result;
    result.errors.push_back(Diagnostic{path, 1, 1, "cannot read the config file: " + why});
    return result;
  }
  return parse_engine_config(path, *text, env, catalog);
}

}  // namespace corridor::config
