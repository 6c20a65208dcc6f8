// The engine config loader (engine/config/engine_config.h): every error a user can make is
// reported at once, in file order, as "file:line:col: error: message"; a valid file gives
// the expected EngineConfig. The environment is always injected, never the real one.
#include "engine/config/engine_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace corridor::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

// An environment holding exactly `vars`.
EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

LoadResult parse(const std::string& text, const EnvLookup& env = env_of({}),
                 const std::string& path = "cfg.yaml") {
  return parse_engine_config(path, text, env);
}

// The formatted diagnostics, in the order the loader reports them.
std::vector<std::string> errors(const std::string& text, const EnvLookup& env = env_of({})) {
  const LoadResult result = parse(text, env);
  std::vector<std::string> out;
  for (const Diagnostic& d : result.errors) out.push_back(d.format());
  EXPECT_EQ(result.config.has_value(), result.errors.empty()) << "config set despite errors";
  return out;
}

// A valid config, for tests that need one and do not care about its content.
EngineConfig load_ok(const std::string& text, const EnvLookup& env = env_of({}),
                     const std::string& path = "cfg.yaml") {
  LoadResult result = parse(text, env, path);
  EXPECT_THAT(result.errors, IsEmpty()) << format_all(result.errors);
  return result.config.value_or(EngineConfig{});
}

const event::FieldRule& rule(const EngineConfig& c, const std::string& schema, event::Field f) {
  return c.schemas.at(schema).fields[static_cast<size_t>(f)];
}

constexpr const char* kAllowedTop =
    "allowed: version, sources, sinks, schemas, currency, decode, time, pipeline, state, "
    "checkpoint, rules";
constexpr const char* kSourceKeys =
    "name, type, path, format, schema, csv, seed, entities, days, start, scenarios, "
    "no_scenarios, rate, truth";
constexpr const char* kAllFields =
    "id, ts, kind, amount, currency, channel, agent, purpose, labels, sender.id, "
    "sender.account, sender.name, sender.country, sender.city, sender.phone, sender.device, "
    "sender.ip, sender.address, sender.employer, receiver.id, receiver.account, receiver.name, "
    "receiver.country, receiver.city, receiver.phone, receiver.device, receiver.ip, "
    "receiver.address, receiver.employer";

// ---------------------------------------------------------------------------------------
// The file as a whole

TEST(EngineConfigSyntax, InvalidYamlIsLocatedByTheParser) {
  EXPECT_THAT(errors("version: 1\n"
                     "sources: [{name: a, type: file, path: x\n"
                     "sinks: {}\n"),
              // Never closed: reported at the opening bracket, not where the parser gave up.
              ElementsAre("cfg.yaml:2:11: error: invalid YAML: this '{' mapping is never closed "
                          "with '}' (YAML found no end by line 3)"));
  EXPECT_THAT(errors("version: 1\n"
                     "sources:\n"
                     "  - name: a\n"
                     "     type: file\n"),
              ElementsAre("cfg.yaml:4:10: error: invalid YAML: illegal map value"));
  EXPECT_THAT(errors("version: 1\n"
                     "sinks: {dead_letter: {type: discard}}}\n"),
              ElementsAre("cfg.yaml:2:38: error: invalid YAML: illegal flow end"));
  EXPECT_THAT(errors("version: 1\n"
                     "sources: *inputs\n"),
              ElementsAre("cfg.yaml:2:10: error: invalid YAML: the referenced anchor is not "
                          "defined"));
}

TEST(EngineConfigSyntax, TabIndentationIsNamedAsTheCause) {
  // yaml-cpp's own message does not mention the tab.
  EXPECT_THAT(errors("version: 1\n"
                     "sinks:\n"
                     "\tdead_letter: {type: discard}\n"),
              ElementsAre("cfg.yaml:3:13: error: invalid YAML: illegal map value (line 3 is "
                          "indented with a tab; YAML indents with spaces only)"));
}

TEST(EngineConfigSyntax, EmptyFileSaysWhatIsExpectedAtTheStart) {
  const std::string expected =
      "cfg.yaml:1:1: error: config: the file holds no settings; expected a mapping with keys "
      "version, sources, sinks (required), schemas, currency, decode, time, pipeline, state, "
      "checkpoint, rules";
  EXPECT_THAT(errors(""), ElementsAre(expected));
  EXPECT_THAT(errors("# only a comment\n\n"), ElementsAre(expected));
}

TEST(EngineConfigSyntax, TopLevelMustBeAMapping) {
  EXPECT_THAT(errors("- version: 1\n"),
              ElementsAre("cfg.yaml:1:1: error: config: expected a mapping with keys version, "
                          "sources, sinks, schemas, currency, decode, time, pipeline, state, "
                          "checkpoint, rules, got a sequence"));
}

TEST(EngineConfigSyntax, ASecondDocumentIsAnErrorNotIgnored) {
  EXPECT_THAT(errors("version: 1\n"
                     "sources: [{name: a, type: stdin}]\n"
                     "sinks: {dead_letter: {type: discard}}\n"
                     "---\n"
                     "version: 2\n"),
              ElementsAre("cfg.yaml:5:1: error: config: a second YAML document (after ---); an "
                          "engine config is one document"));
  // A leading "---" and a trailing one (an empty document) are harmless.
  load_ok(
      "---\n"
      "version: 1\n"
      "sources: [{name: a, type: stdin}]\n"
      "sinks: {dead_letter: {type: discard}}\n"
      "---\n");
}

// ---------------------------------------------------------------------------------------
// Keys

TEST(EngineConfigKeys, UnknownTopLevelKeyListsTheAllowedKeys) {
  EXPECT_THAT(errors("version: 1\n"
                     "sources: [{name: a, type: stdin}]\n"
                     "sinks: {dead_letter: {type: discard}}\n"
                     "source: []\n"),
              ElementsAre(std::string("cfg.yaml:4:1: error: config: unknown key 'source'; ") +
                          kAllowedTop));
}

TEST(EngineConfigKeys, UnknownNestedKeysAreReportedWhereTheyAre) {
  EXPECT_THAT(
      errors("version: 1\n"
             "sources:\n"
             "  - name: a\n"
             "    type: file\n"
             "    path: x.ndjson\n"
             "    gzip: true\n"
             "sinks:\n"
             "  events: {type: stdout, colour: red}\n"
             "  dead_letter: {type: stderr}\n"
             "decode: {max_bytes: 4096}\n"
             "time: {lateness: 1h}\n"
             "currency: {base: USD, rate: {EUR: \"1.08\"}}\n"
             "schemas:\n"
             "  feed:\n"
             "    fields:\n"
             "      id: /id\n"
             "      ammount: /amount\n"
             "      kind: {pointer: /kind, mapping: {SALA: salary}}\n"),
      ElementsAre(
          std::string("cfg.yaml:6:5: error: sources[0]: unknown key 'gzip'; allowed: ") +
              kSourceKeys,
          "cfg.yaml:8:26: error: sinks.events: unknown key 'colour'; allowed: type, path, append",
          "cfg.yaml:10:10: error: decode: unknown key 'max_bytes'; allowed: max_event_bytes, "
          "max_string_bytes, earliest, latest",
          "cfg.yaml:11:8: error: time: unknown key 'lateness'; allowed: allowed_lateness, "
          "late_events",
          "cfg.yaml:12:23: error: currency: unknown key 'rate'; allowed: base, rates",
          std::string("cfg.yaml:17:7: error: schemas.feed.fields: unknown canonical field "
                      "'ammount'; allowed: ") +
              kAllFields,
          "cfg.yaml:18:30: error: schemas.feed.fields.kind: unknown key 'mapping'; allowed: "
          "pointer, column, map, default, line_number_prefix, unit, origin"));
}

TEST(EngineConfigKeys, UnknownKeysInTheSmallSections) {
  EXPECT_THAT(
      errors("version: 1\n"
             "sources: [{name: a, type: stdin}]\n"
             "sinks: {dead_letter: {type: discard}}\n"
             "pipeline: {batch: 10}\n"
             "state: {dir: /tmp}\n"
             "checkpoint: {every: 1s}\n"
             "schemas: {feed: {fields: {id: /id}, strict: true}}\n"),
      ElementsAre("cfg.yaml:4:12: error: pipeline: unknown key 'batch'; allowed: batch_size",
                  "cfg.yaml:5:9: error: state: unknown key 'dir'; allowed: path, memory_limit",
                  "cfg.yaml:6:14: error: checkpoint: unknown key 'every'; allowed: "
                  "interval, max_events",
                  "cfg.yaml:7:37: error: schemas.feed: unknown key 'strict'; allowed: fields"));
}

TEST(EngineConfigKeys, DuplicateKeysAreReportedAtTheSecondOne) {
  EXPECT_THAT(
      errors("version: 1\n"
             "sources:\n"
             "  - name: a\n"
             "    type: stdin\n"
             "    name: b\n"
             "sinks: {dead_letter: {type: discard}}\n"
             "currency:\n"
             "  base: USD\n"
             "  rates: {EUR: \"1.08\", EUR: \"1.09\"}\n"
             "schemas:\n"
             "  feed:\n"
             "    fields:\n"
             "      id: /id\n"
             "      kind: {pointer: /k, map: {SALA: salary, SALA: fee}}\n"
             "      id: /other\n"
             "version: 1\n"),
      ElementsAre("cfg.yaml:5:5: error: sources[0]: duplicate key 'name'",
                  "cfg.yaml:9:24: error: currency.rates: duplicate key 'EUR'",
                  "cfg.yaml:14:47: error: schemas.feed.fields.kind.map: duplicate key 'SALA'",
                  "cfg.yaml:15:7: error: schemas.feed.fields: duplicate key 'id'",
                  "cfg.yaml:16:1: error: config: duplicate key 'version'"));
}

TEST(EngineConfigKeys, MissingRequiredTopLevelKeysAreReportedAtTheStart) {
  EXPECT_THAT(errors("decode: {max_event_bytes: 4096}\n"),
              ElementsAre("cfg.yaml:1:1: error: config: missing required key 'version'",
                          "cfg.yaml:1:1: error: config: missing required key 'sinks'",
                          "cfg.yaml:1:1: error: config: missing required key 'sources'"));
}

TEST(EngineConfigKeys, MissingRequiredNestedKeys) {
  EXPECT_THAT(errors("version: 1\n"
                     "sources:\n"
                     "  - format: ndjson\n"
                     "  - {name: b, type: file}\n"
                     "sinks:\n"
                     "  events: {type: file}\n"
                     "  events2: {}\n"
                     "schemas:\n"
                     "  feed: {}\n"),
              ElementsAre("cfg.yaml:3:5: error: sources[0]: missing required key 'name'",
                          "cfg.yaml:3:5: error: sources[0]: missing required key 'type'",
                          "cfg.yaml:4:5: error: sources[1]: missing required key 'path'",
                          "cfg.yaml:6:3: error: sinks: missing required key 'dead_letter'",
                          "cfg.yaml:6:11: error: sinks.events: missing required key 'path'",
                          "cfg.yaml:7:3: error: sinks: unknown key 'events2'; allowed: events, "
                          "signals, alerts, dead_letter",
                          "cfg.yaml:9:9: error: schemas.feed: missing required key 'fields'"));
  EXPECT_THAT(errors("version: 1\n"
                     "sources: [{name: a, type: stdin}]\n"
                     "sinks: {dead_letter: {}}\n"),
              ElementsAre("cfg.yaml:3:22: error: sinks.dead_letter: missing required key 'type'"));
}

// ---------------------------------------------------------------------------------------
// Node types

TEST(EngineConfigTypes, SourcesAsAMappingAndSinksAsAScalar) {
  EXPECT_THAT(errors("version: 1\n"
                     "sources:\n"
                     "  name: a\n"
                     "  type: stdin\n"
                     "sinks: discard\n"),
              ElementsAre("cfg.yaml:3:3: error: sources: expected a sequence, got a mapping",
                          "cfg.yaml:5:8: error: sinks: expected a mapping with keys events, "
                          "signals, alerts, dead_letter, got a scalar"));
}

TEST(EngineConfigTypes, ScalarWhereAMappingIsExpectedAndTheReverse) {
  EXPECT_THAT(
      errors("version: [1]\n"
             "sources:\n"
             "  - in.ndjson\n"
             "  - {name: {first: a}, type: stdin}\n"
             "sinks:\n"
             "  dead_letter: stderr\n"
             "time: {allowed_lateness: [1h], late_events: {}}\n"
             "pipeline: {batch_size: {n: 1}}\n"
             "currency: {base: USD, rates: [EUR]}\n"
             "decode: {max_event_bytes: [1], earliest: {}}\n"
             "schemas:\n"
             "  feed: [id]\n"),
      ElementsAre(
          "cfg.yaml:1:10: error: version: expected 1, got a sequence",
          std::string("cfg.yaml:3:5: error: sources[0]: expected a mapping with keys ") +
              kSourceKeys + ", got a scalar",
          "cfg.yaml:4:12: error: sources[1].name: expected a string, got a mapping",
          "cfg.yaml:6:16: error: sinks.dead_letter: expected a mapping with keys type, path, "
          "append, got a scalar",
          "cfg.yaml:7:26: error: time.allowed_lateness: expected a duration such as 30s, got a "
          "sequence",
          "cfg.yaml:7:45: error: time.late_events: expected one of dead_letter, apply, got a "
          "mapping",
          "cfg.yaml:8:24: error: pipeline.batch_size: expected an integer, got a mapping",
          "cfg.yaml:9:30: error: currency.rates: expected a mapping, got a sequence",
          "cfg.yaml:10:27: error: decode.max_event_bytes: expected a size such as 64KiB, got a "
          "sequence",
          "cfg.yaml:10:42: error: decode.earliest: expected a string, got a mapping",
          "cfg.yaml:12:9: error: schemas.feed: expected a mapping with keys fields, got a "
          "sequence"));
}

TEST(EngineConfigTypes, AnEmptyValueIsReportedAtItsKeyNotAtTheNextLine) {
  // yaml-cpp places a null value at the token after it; the user wrote the key.
  EXPECT_THAT(
      errors("version:\n"
             "sources:\n"
             "  - name: a\n"
             "    type:\n"
             "    path: x\n"
             "sinks:\n"
             "  events:\n"
             "  dead_letter: {type: }\n"
             "schemas:\n"
             "  feed:\n"
             "    fields:\n"
             "      id:\n"
             "      ts: {pointer: }\n"),
      ElementsAre(
          "cfg.yaml:1:1: error: version: expected 1, got nothing (null)",
          "cfg.yaml:4:5: error: sources[0].type: expected one of file, stdin, synthetic, got "
          "nothing (null)",
          "cfg.yaml:7:3: error: sinks.events: expected a mapping with keys type, "
          "path, append, got nothing (null)",
          "cfg.yaml:8:17: error: sinks.dead_letter.type: expected one of stdout, "
          "stderr, file, discard, got nothing (null)",
          "cfg.yaml:12:7: error: schemas.feed.fields.id: expected a mapping with "
          "keys pointer, column, map, default, line_number_prefix, unit, origin, "
          "got nothing (null)",
          "cfg.yaml:13:12: error: schemas.feed.fields.ts.pointer: expected a "
          "string, got nothing (null)"));
}

// ---------------------------------------------------------------------------------------
// Values

TEST(EngineConfigValues, BadEnumValuesListTheAllowedOnes) {
  EXPECT_THAT(
      errors("version: 1\n"
             "sources:\n"
             "  - {name: a, type: kafka, path: x}\n"
             "  - {name: b, type: file, path: x, format: json}\n"
             "sinks:\n"
             "  events: {type: kafka}\n"
             "  dead_letter: {type: discard}\n"
             "time: {late_events: drop}\n"
             "schemas:\n"
             "  feed:\n"
             "    fields:\n"
             "      ts: {pointer: /t, unit: days}\n"),
      ElementsAre(
          "cfg.yaml:3:21: error: sources[0].type: unknown value 'kafka'; allowed: file, stdin, "
          "synthetic",
          "cfg.yaml:4:44: error: sources[1].format: unknown value 'json'; allowed: ndjson, csv",
          "cfg.yaml:6:18: error: sinks.events.type: unknown value 'kafka'; allowed: stdout, "
          "stderr, file, discard",
          "cfg.yaml:8:21: error: time.late_events: unknown value 'drop'; allowed: dead_letter, "
          "apply",
          "cfg.yaml:12:31: error: schemas.feed.fields.ts.unit: unknown value 'days'; allowed: ms, "
          "s, m, h, d"));
}

TEST(EngineConfigValues, BadDurationsAndSizes) {
  EXPECT_THAT(
      errors("version: 1\n"
             "sources: [{name: a, type: stdin}]\n"
             "sinks: {dead_letter: {type: discard}}\n"
             "time: {allowed_lateness: 1h30m}\n"
             "checkpoint: {interval: -1s}\n"
             "state: {memory_limit: 4TB}\n"
             "decode: {max_event_bytes: 1.5MiB, max_string_bytes: 64 KiB}\n"),
      ElementsAre(
          "cfg.yaml:4:26: error: time.allowed_lateness: expected a duration such as 250ms, 30s, "
          "5m, 1h or 7d, got '1h30m'",
          "cfg.yaml:5:24: error: checkpoint.interval: expected a duration such as 250ms, 30s, 5m, "
          "1h or 7d, got '-1s'",
          "cfg.yaml:6:23: error: state.memory_limit: expected a size such as 4096, 64KiB, 1MiB or "
          "2GiB, got '4TB'",
          "cfg.yaml:7:27: error: decode.max_event_bytes: expected a size such as 4096, 64KiB, "
          "1MiB or 2GiB, got '1.5MiB'",
          "cfg.yaml:7:53: error: decode.max_string_bytes: expected a size such as 4096, 64KiB, "
          "1MiB or 2GiB, got '64 KiB'"));
}

TEST(EngineConfigValues, DurationsAndSizesThatWouldOverflowAreRejected) {
  EXPECT_THAT(
      errors("version: 1\n"
             "sources: [{name: a, type: stdin}]\n"
             "sinks: {dead_letter: {type: discard}}\n"
             "time: {allowed_lateness: 999999999999d}\n"
             "state: {memory_limit: 999999999999999GiB}\n"),
      ElementsAre(
          "cfg.yaml:4:26: error: time.allowed_lateness: expected a duration such as 250ms, 30s, "
          "5m, 1h or 7d, got '999999999999d'",
          "cfg.yaml:5:23: error: state.memory_limit: expected a size such as 4096, 64KiB, 1MiB or "
          "2GiB, got '999999999999999GiB'"));
}

TEST(EngineConfigValues, SizesOutOfTheirRange) {
  EXPECT_THAT(
      errors("version: 1\n"
             "sources: [{name: a, type: stdin}]\n"
             "sinks: {dead_letter: {type: discard}}\n"
             "decode: {max_event_bytes: 100MiB, max_string_bytes: 8}\n"
             "state: {memory_limit: 512}\n"),
      ElementsAre(
          "cfg.yaml:4:27: error: decode.max_event_bytes: expected a size from 256 to 64MiB, got "
          "'100MiB'",
          "cfg.yaml:4:53: error: decode.max_string_bytes: expected a size from 16 to 1MiB, got '8'",
          "cfg.yaml:5:23: error: state.memory_limit: expected at least 1MiB, got '512'; give a "
          "unit, as in 512MiB or 2GiB"));
}

TEST(EngineConfigValues, OutOfRangeIntegers) {
  EXPECT_THAT(
      errors("version: 2\n"
             "sources: [{name: a, type: stdin}]\n"
             "sinks: {dead_letter: {type: discard, append: yes}}\n"
             "pipeline: {batch_size: 0}\n"
             "checkpoint: {max_events: 99999999999999999999}\n"),
      ElementsAre(
          "cfg.yaml:1:10: error: version: this corridor reads config version 1, got '2'",
          "cfg.yaml:3:46: error: sinks.dead_letter.append: expected true or false, got 'yes'",
          "cfg.yaml:4:24: error: pipeline.batch_size: expected an integer from 1 to 1000000, got "
          "'0'",
          "cfg.yaml:5:26: error: checkpoint.max_events: expected an integer from 1 to 1000000000, "
          "got '99999999999999999999'"));
  EXPECT_THAT(errors("version: 1.0\n"
                     "sources: [{name: a, type: stdin}]\n"
                     "sinks: {dead_letter: {type: discard}}\n"
                     "pipeline: {batch_size: -5}\n"),
              ElementsAre("cfg.yaml:1:10: error: version: this corridor reads config version 1, "
                          "got '1.0'",
                          "cfg.yaml:4:24: error: pipeline.batch_size: expected an integer from 1 "
                          "to 1000000, got '-5'"));
}

TEST(EngineConfigValues, BadCurrencyCodesAndRates) {
  EXPECT_THAT(
      errors("version: 1\n"
             "sources: [{name: a, type: stdin}]\n"
             "sinks: {dead_letter: {type: discard}}\n"
             "currency:\n"
             "  base: eur\n"
             "  rates:\n"
             "    USD: \"-1.08\"\n"
             "    GBP: about one\n"
             "    MYR: \"0.21234567891\"\n"
             "    EUR: \"2\"\n"
             "    Yen: \"0.0061\"\n"
             "    THB: \"0\"\n"),
      ElementsAre(
          "cfg.yaml:5:9: error: currency.base: 'eur' is not an ISO 4217 code (three capitals)",
          "cfg.yaml:7:10: error: currency.rates.USD: expected a positive decimal with at most 10 "
          "decimal places (units of USD per 1 USD), got '-1.08'",
          "cfg.yaml:8:10: error: currency.rates.GBP: expected a positive decimal with at most 10 "
          "decimal places (units of USD per 1 GBP), got 'about one'",
          "cfg.yaml:9:10: error: currency.rates.MYR: expected a positive decimal with at most 10 "
          "decimal places (units of USD per 1 MYR), got '0.21234567891'",
          "cfg.yaml:11:5: error: currency.rates.Yen: 'Yen' is not an ISO 4217 code (three "
          "capitals)",
          "cfg.yaml:12:10: error: currency.rates.THB: expected a positive decimal with at most 10 "
          "decimal places (units of USD per 1 THB), got '0'"));
  EXPECT_THAT(errors("version: 1\n"
                     "sources: [{name: a, type: stdin}]\n"
                     "sinks: {dead_letter: {type: discard}}\n"
                     "currency:\n"
                     "  base: EUR\n"
                     "  rates: {EUR: \"1.0001\", USD: \"0.92\"}\n"),
              ElementsAre("cfg.yaml:6:16: error: currency.rates.EUR: the base currency's rate "
                          "must be 1"));
  EXPECT_THAT(errors("version: 1\n"
                     "sources: [{name: a, type: stdin}]\n"
                     "sinks: {dead_letter: {type: discard}}\n"
                     "currency: {rates: {EUR: \"1.08\"}}\n"),
              ElementsAre("cfg.yaml:4:11: error: currency: missing required key 'base'"));
}

TEST(EngineConfigValues, BadDateTimesInDecodeAndTsOrigin) {
  EXPECT_THAT(
      errors("version: 1\n"
             "sources: [{name: a, type: stdin}]\n"
             "sinks: {dead_letter: {type: discard}}\n"
             "decode:\n"
             "  earliest: 2024-13-01T00:00:00Z\n"
             "  latest: 2030-01-01T00:00:00\n"
             "schemas:\n"
             "  feed:\n"
             "    fields:\n"
             "      ts: {column: step, unit: d, origin: 2024-01-01}\n"),
      ElementsAre(
          "cfg.yaml:5:13: error: decode.earliest: expected an RFC 3339 date-time such as "
          "2000-01-01T00:00:00Z, got '2024-13-01T00:00:00Z'",
          "cfg.yaml:6:11: error: decode.latest: expected an RFC 3339 date-time such as "
          "2000-01-01T00:00:00Z, got '2030-01-01T00:00:00'",
          "cfg.yaml:10:43: error: schemas.feed.fields.ts.origin: expected an RFC 3339 date-time "
          "such as 2024-01-01T00:00:00Z, got '2024-01-01'"));
}

TEST(EngineConfigValues, EarliestMustBeBeforeLatest) {
  EXPECT_THAT(errors("version: 1\n"
                     "sources: [{name: a, type: stdin}]\n"
                     "sinks: {dead_letter: {type: discard}}\n"
                     "decode:\n"
                     "  earliest: 2030-01-01T00:00:00Z\n"
                     "  latest: 2030-01-01T01:00:00+01:00\n"),
              ElementsAre("cfg.yaml:6:11: error: decode.latest: no event time would be accepted: "
                          "earliest 2030-01-01T00:00:00Z is not before latest "
                          "2030-01-01T01:00:00+01:00"));
  // Against the default bound, which the message names since the file does not.
  EXPECT_THAT(errors("version: 1\n"
                     "sources: [{name: a, type: stdin}]\n"
                     "sinks: {dead_letter: {type: discard}}\n"
                     "decode: {earliest: 2100-01-01T00:00:00Z}\n"),
              ElementsAre("cfg.yaml:4:20: error: decode.earliest: no event time would be "
                          "accepted: earliest 2100-01-01T00:00:00Z is not before latest "
                          "2100-01-01T00:00:00Z (the default)"));
}

// ---------------------------------------------------------------------------------------
// Schemas

TEST(EngineConfigSchemas, UnknownCanonicalFieldNamesListTheFields) {
  EXPECT_THAT(errors("version: 1\n"
                     "sources: [{name: a, type: stdin}]\n"
                     "sinks: {dead_letter: {type: discard}}\n"
                     "schemas:\n"
                     "  feed:\n"
                     "    fields:\n"
                     "      sender_id: /Dbtr/Id\n"
                     "      debtor.name: /Dbtr/Nm\n"),
              ElementsAre(std::string("cfg.yaml:7:7: error: schemas.feed.fields: unknown "
                                      "canonical field 'sender_id'; allowed: ") +
                              kAllFields,
                          std::string("cfg.yaml:8:7: error: schemas.feed.fields: unknown "
                                      "canonical field 'debtor.name'; allowed: ") +
                              kAllFields));
}

TEST(EngineConfigSchemas, BadJsonPointers) {
  // Shorthand: a leading / makes a pointer; anything else is a CSV column name, so the
  // pointer syntax is exercised through escapes and the explicit `pointer` key.
  EXPECT_THAT(
      errors("version: 1\n"
             "sources: [{name: a, type: stdin}]\n"
             "sinks: {dead_letter: {type: discard}}\n"
             "schemas:\n"
             "  feed:\n"
             "    fields:\n"
             "      id: /PmtId/End~2ToEnd\n"
             "      amount: /Amt/value~\n"
             "      kind: {pointer: Purp/Cd}\n"
             "      currency: {pointer: \"\"}\n"
             "      agent: \"\"\n"),
      ElementsAre(
          "cfg.yaml:7:11: error: schemas.feed.fields.id: '/PmtId/End~2ToEnd' is not a JSON "
          "Pointer (RFC 6901: starts with /, ~ only as ~0 or ~1)",
          "cfg.yaml:8:15: error: schemas.feed.fields.amount: '/Amt/value~' is not a JSON Pointer "
          "(RFC 6901: starts with /, ~ only as ~0 or ~1)",
          "cfg.yaml:9:23: error: schemas.feed.fields.kind: 'Purp/Cd' is not a JSON Pointer (RFC "
          "6901: starts with /, ~ only as ~0 or ~1)",
          "cfg.yaml:10:27: error: schemas.feed.fields.currency: expected a JSON Pointer such as "
          "/a/b or a CSV column name, got an empty string",
          "cfg.yaml:11:14: error: schemas.feed.fields.agent: expected a JSON Pointer such as /a/b "
          "or a CSV column name, got an empty string"));
}

TEST(EngineConfigSchemas, PointersDeeperThanTheDecoderWalksAreRejected) {
  EXPECT_THAT(errors("version: 1\n"
                     "sources: [{name: a, type: stdin}]\n"
                     "sinks: {dead_letter: {type: discard}}\n"
                     "schemas:\n"
                     "  feed:\n"
                     "    fields:\n"
                     "      id: /a/b/c/d/e/f/g/h/i/j/k/l\n"
                     "      agent: /a/b/c/d/e/f/g/h/i/j/k/l/m/n\n"),
              ElementsAre("cfg.yaml:8:14: error: schemas.feed.fields.agent: "
                          "'/a/b/c/d/e/f/g/h/i/j/k/l/m/n' has 14 levels; at most 12 are "
                          "supported"));
}

TEST(EngineConfigSchemas, PointerEscapesAreDecoded) {
  const EngineConfig c = load_ok(
      "version: 1\n"
      "sources: [{name: a, type: stdin, schema: feed}]\n"
      "sinks: {dead_letter: {type: discard}}\n"
      "schemas:\n"
      "  feed:\n"
      "    fields:\n"
      "      id: /a~1b/c~0d/~01\n"
      "      amount: /items/0/amt\n"
      "      agent: /\n");
  EXPECT_THAT(rule(c, "feed", event::Field::id).pointer, ElementsAre("a/b", "c~d", "~1"));
  EXPECT_THAT(rule(c, "feed", event::Field::amount).pointer, ElementsAre("items", "0", "amt"));
  EXPECT_THAT(rule(c, "feed", event::Field::agent).pointer, ElementsAre(""));
  EXPECT_TRUE(rule(c, "feed", event::Field::id).mapped);
  EXPECT_FALSE(rule(c, "feed", event::Field::ts).mapped);
}

TEST(EngineConfigSchemas, OverlappingPointersAreReportedAtTheInnerOrLaterField) {
  EXPECT_THAT(
      errors("version: 1\n"
             "sources: [{name: a, type: stdin}]\n"
             "sinks: {dead_letter: {type: discard}}\n"
             "schemas:\n"
             "  feed:\n"
             "    fields:\n"
             "      sender.name: /Dbtr/Nm/Full\n"
             "      sender.id: /Dbtr/Nm\n"
             "      id: /PmtId\n"
             "      agent: /DbtrAgt/BIC\n"
             "      receiver.id: /PmtId\n"),
      ElementsAre("cfg.yaml:7:7: error: schemas.feed.fields.sender.name: pointer /Dbtr/Nm/Full "
                  "lies inside /Dbtr/Nm, the pointer of sender.id; a field's value cannot also "
                  "hold another field",
                  "cfg.yaml:11:7: error: schemas.feed.fields.receiver.id: pointer /PmtId is "
                  "already the pointer of id; one location feeds one field"));
}

TEST(EngineConfigSchemas, PointerAndColumnBothGiven) {
  EXPECT_THAT(errors("version: 1\n"
                     "sources: [{name: a, type: stdin}]\n"
                     "sinks: {dead_letter: {type: discard}}\n"
                     "schemas:\n"
                     "  feed:\n"
                     "    fields:\n"
                     "      amount: {pointer: /Amt, column: amount}\n"),
              ElementsAre("cfg.yaml:7:39: error: schemas.feed.fields.amount: give pointer or "
                          "column, not both"));
}

TEST(EngineConfigSchemas, AFieldRuleNeedsASource) {
  EXPECT_THAT(errors("version: 1\n"
                     "sources: [{name: a, type: stdin}]\n"
                     "sinks: {dead_letter: {type: discard}}\n"
                     "schemas:\n"
                     "  feed:\n"
                     "    fields:\n"
                     "      kind: {map: {SALA: salary}}\n"
                     "      currency: {}\n"),
              ElementsAre("cfg.yaml:7:13: error: schemas.feed.fields.kind: give pointer, column, "
                          "default or line_number_prefix",
                          "cfg.yaml:8:17: error: schemas.feed.fields.currency: give pointer, "
                          "column, default or line_number_prefix"));
}

TEST(EngineConfigSchemas, DefaultsAndMappedValuesAreCheckedWhenLoading) {
  EXPECT_THAT(
      errors("version: 1\n"
             "sources: [{name: a, type: stdin}]\n"
             "sinks: {dead_letter: {type: discard}}\n"
             "schemas:\n"
             "  feed:\n"
             "    fields:\n"
             "      kind: {pointer: /Purp/Cd, map: {SALA: wages, SUPP: transfer}, default: "
             "Transfer}\n"
             "      currency: {pointer: /Ccy, default: eur}\n"
             "      sender.country: {pointer: /Ctry, default: DEU}\n"
             "      amount: {pointer: /Amt, default: \"0\"}\n"
             "      ts: {pointer: /CreDtTm, default: yesterday}\n"
             "      id: {pointer: /Id, default: \"\"}\n"
             "      labels: {pointer: /labels, default: \"{}\"}\n"),
      ElementsAre(
          "cfg.yaml:7:45: error: schemas.feed.fields.kind.map.SALA: 'wages' is not a kind; "
          "allowed: transfer, remittance, cash_in, cash_out, salary, fee, card",
          "cfg.yaml:7:78: error: schemas.feed.fields.kind.default: 'Transfer' is not a kind; "
          "allowed: transfer, remittance, cash_in, cash_out, salary, fee, card",
          "cfg.yaml:8:42: error: schemas.feed.fields.currency.default: 'eur' is not an ISO 4217 "
          "code (three capitals)",
          "cfg.yaml:9:49: error: schemas.feed.fields.sender.country.default: 'DEU' is not an ISO "
          "3166 alpha-2 code (two capitals)",
          "cfg.yaml:10:40: error: schemas.feed.fields.amount.default: '0' is not an amount (a "
          "decimal greater than 0, at most 4 decimal places)",
          "cfg.yaml:11:40: error: schemas.feed.fields.ts.default: 'yesterday' is not an RFC 3339 "
          "date-time such as 2024-01-01T00:00:00Z",
          "cfg.yaml:12:35: error: schemas.feed.fields.id.default: an id cannot be empty",
          "cfg.yaml:13:43: error: schemas.feed.fields.labels.default: labels take no default or "
          "map"));
}

TEST(EngineConfigSchemas, OptionsThatBelongToOneField) {
  EXPECT_THAT(errors("version: 1\n"
                     "sources: [{name: a, type: stdin}]\n"
                     "sinks: {dead_letter: {type: discard}}\n"
                     "schemas:\n"
                     "  feed:\n"
                     "    fields:\n"
                     "      amount: {pointer: /Amt, unit: s}\n"
                     "      purpose: {pointer: /Purp, origin: 2024-01-01T00:00:00Z}\n"
                     "      agent: {pointer: /Agt, line_number_prefix: row-}\n"),
              ElementsAre("cfg.yaml:7:37: error: schemas.feed.fields.amount.unit: only for ts",
                          "cfg.yaml:8:41: error: schemas.feed.fields.purpose.origin: only for ts",
                          "cfg.yaml:9:50: error: schemas.feed.fields.agent.line_number_prefix: "
                          "only for id"));
}

TEST(EngineConfigSchemas, CanonicalIsBuiltIn) {
  EXPECT_THAT(errors("version: 1\n"
                     "sources: [{name: a, type: stdin}]\n"
                     "sinks: {dead_letter: {type: discard}}\n"
                     "schemas:\n"
                     "  canonical: {fields: {id: /id}}\n"),
              ElementsAre("cfg.yaml:5:3: error: schemas.canonical: 'canonical' is built in and "
                          "cannot be redefined"));
}

// ---------------------------------------------------------------------------------------
// Sources and sinks

TEST(EngineConfigSources, CsvSourceNeedsASchemaThatMapsColumns) {
  EXPECT_THAT(
      errors("version: 1\n"
             "sources:\n"
             "  - {name: a, type: file, path: a.csv, format: csv}\n"
             "  - {name: b, type: file, path: b.csv, format: csv, schema: canonical}\n"
             "  - {name: c, type: file, path: c.csv, format: csv, schema: json_feed}\n"
             "  - {name: d, type: file, path: d.ndjson, schema: csv_feed}\n"
             "  - {name: e, type: file, path: e.ndjson, schema: pacs008}\n"
             "sinks: {dead_letter: {type: discard}}\n"
             "schemas:\n"
             "  json_feed: {fields: {id: /id}}\n"
             "  csv_feed: {fields: {id: txn_id}}\n"),
      ElementsAre(
          "cfg.yaml:3:5: error: sources[0]: missing required key 'schema': a csv source needs a "
          "schema that maps its columns",
          "cfg.yaml:4:61: error: sources[1].schema: a csv source needs a schema that maps columns",
          "cfg.yaml:5:61: error: sources[2].schema: schema 'json_feed' maps id to a JSON pointer, "
          "but this source reads csv; use column",
          "cfg.yaml:6:51: error: sources[3].schema: schema 'csv_feed' maps id to a CSV column, but "
          "this source reads ndjson; use pointer",
          "cfg.yaml:7:51: error: sources[4].schema: no schema named 'pacs008'; defined: canonical, "
          "csv_feed, json_feed"));
}

TEST(EngineConfigSources, ASchemaWithErrorsIsNotAlsoReportedAsMissing) {
  EXPECT_THAT(errors("version: 1\n"
                     "sources: [{name: a, type: stdin, schema: feed}]\n"
                     "sinks: {dead_letter: {type: discard}}\n"
                     "schemas:\n"
                     "  feed: {fields: {idd: /id}}\n"),
              ElementsAre(std::string("cfg.yaml:5:19: error: schemas.feed.fields: unknown "
                                      "canonical field 'idd'; allowed: ") +
                          kAllFields));
}

TEST(EngineConfigSources, DuplicateSourceNames) {
  EXPECT_THAT(errors("version: 1\n"
                     "sources:\n"
                     "  - {name: bank, type: file, path: a.ndjson}\n"
                     "  - {name: bank, type: file, path: b.ndjson}\n"
                     "  - {name: \"\", type: stdin}\n"
                     "sinks: {dead_letter: {type: discard}}\n"),
              ElementsAre("cfg.yaml:4:12: error: sources[1].name: duplicate source name 'bank'",
                          "cfg.yaml:5:12: error: sources[2].name: expected a non-empty name"));
}

TEST(EngineConfigSources, OptionsThatDoNotFitTheSource) {
  EXPECT_THAT(
      errors("version: 1\n"
             "sources:\n"
             "  - {name: a, type: stdin, path: in.ndjson}\n"
             "  - {name: b, type: file, path: b.ndjson, csv: {delimiter: \";\"}}\n"
             "  - {name: c, type: file, path: c.csv, format: csv, schema: f, csv: {delimiter: "
             "\"||\"}}\n"
             "  - {name: d, type: file, path: \"\"}\n"
             "  - []\n"
             "sinks: {dead_letter: {type: discard}}\n"
             "schemas: {f: {fields: {id: id}}}\n"),
      ElementsAre(
          "cfg.yaml:3:34: error: sources[0].path: a stdin source has no path",
          "cfg.yaml:4:48: error: sources[1].csv: only for sources with format: csv",
          "cfg.yaml:5:81: error: sources[2].csv.delimiter: expected one character other than a "
          "quote or newline",
          "cfg.yaml:6:33: error: sources[3].path: expected a file path, got an empty string",
          std::string("cfg.yaml:7:5: error: sources[4]: expected a mapping with keys ") +
              kSourceKeys + ", got a sequence"));
  EXPECT_THAT(errors("version: 1\n"
                     "sources: []\n"
                     "sinks: {dead_letter: {type: discard}}\n"),
              ElementsAre("cfg.yaml:2:10: error: sources: expected at least one source"));
}

// What connectors/ would tell the loader about the synthetic world (a fixed list here, so
// this test does not depend on the scenario generators).
SourceCatalog test_catalog() {
  SourceCatalog c;
  c.synthetic_scenarios = {"R1", "R7", "R11", "R7+R11"};
  c.synthetic_currencies = {"MYR", "BDT"};
  return c;
}

std::vector<std::string> synthetic_errors(const std::string& text) {
  const LoadResult result = parse_engine_config("cfg.yaml", text, env_of({}), test_catalog());
  std::vector<std::string> out;
  for (const Diagnostic& d : result.errors) out.push_back(d.format());
  EXPECT_EQ(result.config.has_value(), result.errors.empty()) << "config set despite errors";
  return out;
}

constexpr const char* kWorldRates =
    "currency: {base: USD, rates: {MYR: \"0.2245\", BDT: \"0.0083\"}}\n";

TEST(EngineConfigSources, SyntheticSourceTakesTheWorldsParameters) {
  const LoadResult r = parse_engine_config(
      "/srv/corridor/engine.yaml",
      std::string("version: 1\n"
                  "sources:\n"
                  "  - name: world\n"
                  "    type: synthetic\n"
                  "    seed: 18446744073709551615\n"
                  "    entities: 100000000\n"
                  "    days: 3660\n"
                  "    start: \"2025-03-01T00:00:00Z\"\n"
                  "    scenarios: [R1, R7+R11]\n"
                  "    rate: 2.5\n"
                  "    truth: out/world.truth.ndjson\n"
                  "  - {name: plain, type: synthetic, no_scenarios: true, rate: 0}\n"
                  "  - {name: none, type: synthetic, no_scenarios: false}\n"
                  "sinks: {dead_letter: {type: discard}}\n") +
          kWorldRates,
      env_of({}), test_catalog());
  ASSERT_TRUE(r.config) << format_all(r.errors);
  const EngineConfig& c = *r.config;
  ASSERT_EQ(c.sources.size(), 3u);
  const SyntheticSourceConfig& w = c.sources[0].synthetic;
  EXPECT_EQ(c.sources[0].type, "synthetic");
  EXPECT_EQ(c.sources[0].path, "");
  EXPECT_EQ(c.sources[0].schema, "canonical");
  EXPECT_EQ(w.seed, 18'446'744'073'709'551'615ULL);
  EXPECT_EQ(w.entities, 100'000'000u);
  EXPECT_EQ(w.days, 3660u);
  EXPECT_EQ(w.start_ms, 1'740'787'200'000);  // 2025-03-01T00:00:00Z
  EXPECT_THAT(w.scenarios, ElementsAre("R1", "R7+R11"));
  EXPECT_FALSE(w.no_scenarios);
  EXPECT_DOUBLE_EQ(w.rate, 2.5);
  EXPECT_EQ(w.truth, "/srv/corridor/out/world.truth.ndjson");
  // Unset: the world's own defaults apply (connectors/synthetic: WorldParams).
  const SyntheticSourceConfig& plain = c.sources[1].synthetic;
  EXPECT_FALSE(plain.seed || plain.entities || plain.days || plain.start_ms);
  EXPECT_THAT(plain.scenarios, IsEmpty());
  EXPECT_TRUE(plain.no_scenarios);
  EXPECT_EQ(plain.rate, 0.0);
  EXPECT_EQ(plain.truth, "");
  EXPECT_FALSE(c.sources[2].synthetic.no_scenarios);
}

TEST(EngineConfigSources, SyntheticValuesOutOfRangeAreAllReported) {
  EXPECT_THAT(
      synthetic_errors(std::string("version: 1\n"
                                   "sources:\n"
                                   "  - name: world\n"
                                   "    type: synthetic\n"
                                   "    seed: -1\n"
                                   "    entities: 0\n"
                                   "    days: 3661\n"
                                   "    start: yesterday\n"
                                   "    scenarios: [R1, R99, R1]\n"
                                   "    rate: -5\n"
                                   "    truth: \"\"\n"
                                   "  - {name: b, type: synthetic, days: 0, scenarios: [], rate: "
                                   "fast, seed: x1}\n"
                                   "  - {name: c, type: synthetic, scenarios: R7, no_scenarios: "
                                   "yes, entities: 1.5}\n"
                                   "  - {name: d, type: synthetic, scenarios: [R7], no_scenarios: "
                                   "true, truth: \"-\"}\n"
                                   "  - {name: e, type: synthetic, start: "
                                   "\"1970-01-01T00:00:00Z\", rate: 1e3}\n"
                                   "sinks: {dead_letter: {type: discard}}\n") +
                       kWorldRates),
      ElementsAre(
          "cfg.yaml:5:11: error: sources[0].seed: expected an integer from 0 to "
          "18446744073709551615, got '-1'",
          "cfg.yaml:6:15: error: sources[0].entities: expected an integer from 1 to 100000000, "
          "got '0'",
          "cfg.yaml:7:11: error: sources[0].days: expected an integer from 1 to 3660, got '3661'",
          "cfg.yaml:8:12: error: sources[0].start: expected an RFC 3339 date-time such as "
          "2026-01-01T00:00:00Z, got 'yesterday'",
          "cfg.yaml:9:21: error: sources[0].scenarios[1]: unknown scenario 'R99'; allowed: R1, R7, "
          "R11, R7+R11",
          "cfg.yaml:9:26: error: sources[0].scenarios[2]: 'R1' is listed twice",
          "cfg.yaml:10:11: error: sources[0].rate: expected events per wall-clock second, a number "
          "from 0 (as fast as possible) to 1000000000, got '-5'",
          "cfg.yaml:11:12: error: sources[0].truth: expected a file path, got an empty string",
          "cfg.yaml:12:38: error: sources[1].days: expected an integer from 1 to 3660, got '0'",
          "cfg.yaml:12:52: error: sources[1].scenarios: expected at least one scenario name; leave "
          "the key out for all of them, or set no_scenarios: true for none",
          "cfg.yaml:12:62: error: sources[1].rate: expected events per wall-clock second, a number "
          "from 0 (as fast as possible) to 1000000000, got 'fast'",
          "cfg.yaml:12:74: error: sources[1].seed: expected an integer from 0 to "
          "18446744073709551615, got 'x1'",
          "cfg.yaml:13:43: error: sources[2].scenarios: expected a sequence, got a scalar",
          "cfg.yaml:13:61: error: sources[2].no_scenarios: expected true or false, got 'yes'",
          "cfg.yaml:13:76: error: sources[2].entities: expected an integer from 1 to 100000000, "
          "got '1.5'",
          "cfg.yaml:14:63: error: sources[3].no_scenarios: true leaves every scenario out, but "
          "scenarios names some; give one of the two",
          "cfg.yaml:14:76: error: sources[3].truth: expected a file path; stdout carries no truth "
          "file",
          "cfg.yaml:15:39: error: sources[4].start: '1970-01-01T00:00:00Z' lies outside the event "
          "times the decoder accepts (decode.earliest to decode.latest); every event would be "
          "dead-lettered",
          "cfg.yaml:15:69: error: sources[4].rate: expected events per wall-clock second, a number "
          "from 0 (as fast as possible) to 1000000000, got '1e3'"));
}

TEST(EngineConfigSources, KeysOfOtherSourceTypesAreErrors) {
  EXPECT_THAT(
      synthetic_errors(std::string("version: 1\n"
                                   "sources:\n"
                                   "  - {name: a, type: synthetic, path: w.ndjson, format: csv, "
                                   "schema: canonical, csv: {delimiter: \";\"}}\n"
                                   "  - {name: b, type: file, path: b.ndjson, seed: 1, rate: 10, "
                                   "truth: t.ndjson}\n"
                                   "  - {name: c, type: stdin, entities: 10, no_scenarios: true}\n"
                                   "sinks: {dead_letter: {type: discard}}\n") +
                       kWorldRates),
      ElementsAre("cfg.yaml:3:38: error: sources[0].path: a synthetic source generates its events "
                  "and has no path (its ground-truth file is `truth`)",
                  "cfg.yaml:3:56: error: sources[0].format: a synthetic source writes canonical "
                  "NDJSON; it takes no format",
                  "cfg.yaml:3:69: error: sources[0].schema: a synthetic source writes canonical "
                  "events; it takes no schema",
                  "cfg.yaml:3:85: error: sources[0].csv: only for sources with format: csv",
                  "cfg.yaml:4:49: error: sources[1].seed: only for a synthetic source (this one is "
                  "file)",
                  "cfg.yaml:4:58: error: sources[1].rate: only for a synthetic source (this one is "
                  "file)",
                  "cfg.yaml:4:69: error: sources[1].truth: only for a synthetic source (this one "
                  "is file)",
                  "cfg.yaml:5:38: error: sources[2].entities: only for a synthetic source (this "
                  "one is stdin)",
                  "cfg.yaml:5:56: error: sources[2].no_scenarios: only for a synthetic source "
                  "(this one is stdin)"));
}

TEST(EngineConfigSources, SyntheticSourceNeedsRatesForTheWorldsCurrencies) {
  EXPECT_THAT(synthetic_errors("version: 1\n"
                               "sources: [{name: world, type: synthetic}]\n"
                               "sinks: {dead_letter: {type: discard}}\n"
                               "currency: {base: USD, rates: {BDT: \"0.0083\"}}\n"),
              ElementsAre("cfg.yaml:2:31: error: sources[0]: a synthetic source writes amounts "
                          "in MYR, BDT; currency.rates has no rate for MYR "
                          "(config/examples/synthetic.yaml lists them all)"));
  // A base currency needs no rate of its own.
  EXPECT_THAT(synthetic_errors("version: 1\n"
                               "sources: [{name: world, type: synthetic}]\n"
                               "sinks: {dead_letter: {type: discard}}\n"
                               "currency: {base: MYR, rates: {BDT: \"0.037\"}}\n"),
              IsEmpty());
}

TEST(EngineConfigSources, WithoutACatalogScenarioNamesAreLeftToTheSource) {
  // load_engine_config without connectors' catalog: the source reports them when opened.
  EXPECT_THAT(errors("version: 1\n"
                     "sources: [{name: world, type: synthetic, scenarios: [R99]}]\n"
                     "sinks: {dead_letter: {type: discard}}\n"),
              IsEmpty());
}

TEST(EngineConfigSinks, TruthFilesAreNeitherInputsNorOutputs) {
  EXPECT_THAT(
      synthetic_errors(std::string("version: 1\n"
                                   "sources:\n"
                                   "  - {name: a, type: synthetic, truth: out/truth.ndjson}\n"
                                   "  - {name: b, type: synthetic, truth: ./out/truth.ndjson}\n"
                                   "  - {name: c, type: file, path: in.ndjson}\n"
                                   "  - {name: d, type: synthetic, truth: in.ndjson}\n"
                                   "sinks:\n"
                                   "  alerts: {type: file, path: out/../out/truth.ndjson}\n"
                                   "  dead_letter: {type: discard}\n") +
                       kWorldRates),
      ElementsAre("cfg.yaml:4:39: error: sources[1].truth: './out/truth.ndjson' is also the "
                  "truth file of source 'a'; give each its own file",
                  "cfg.yaml:6:39: error: sources[3].truth: 'in.ndjson' is the input of source "
                  "'c'; writing there would destroy it",
                  "cfg.yaml:8:30: error: sinks.alerts.path: 'out/../out/truth.ndjson' is the "
                  "truth file of source 'a'; give each its own file"));
}

TEST(EngineConfigSinks, PathsThatWouldDestroyInputOrMixOutputs) {
  EXPECT_THAT(errors("version: 1\n"
                     "sources: [{name: a, type: stdin}]\n"
                     "sinks:\n"
                     "  events: {type: stdout, path: out.ndjson}\n"
                     "  dead_letter: {type: file, path: \"\"}\n"),
              ElementsAre("cfg.yaml:4:32: error: sinks.events.path: only a file sink has a path",
                          "cfg.yaml:5:35: error: sinks.dead_letter.path: expected a file path, "
                          "got an empty string"));
  EXPECT_THAT(
      errors("version: 1\n"
             "sources: [{name: bank, type: file, path: data/in.ndjson}]\n"
             "sinks:\n"
             "  events: {type: file, path: ./data/in.ndjson}\n"
             "  dead_letter: {type: file, path: data/sub/../in.ndjson}\n",
             env_of({})),
      ElementsAre("cfg.yaml:4:30: error: sinks.events.path: './data/in.ndjson' is the input of "
                  "source 'bank'; writing there would destroy it",
                  "cfg.yaml:5:35: error: sinks.dead_letter.path: 'data/sub/../in.ndjson' is the "
                  "input of source 'bank'; writing there would destroy it",
                  "cfg.yaml:5:35: error: sinks.dead_letter.path: 'data/sub/../in.ndjson' is also "
                  "the events sink's file; give each sink its own file"));
}

// The same file by another name is still the same file: an absolute path for a relative
// one, a symbolic or a hard link. Nor may a sink write over the config or a rule pack, and
// only one source can read standard input.
TEST(EngineConfigSinks, AFileIsRecognisedUnderAnyName) {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::path(::testing::TempDir()) / ("corridor-same-file-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "in.ndjson") << "{}\n";
  fs::create_symlink(dir / "in.ndjson", dir / "link.ndjson");
  fs::create_hard_link(dir / "in.ndjson", dir / "hard.ndjson");
  const std::string cfg = (dir / "cfg.yaml").string();
  const auto located = [&](const std::string& text) {
    std::vector<std::string> out;
    for (const Diagnostic& d : parse(text, env_of({}), cfg).errors) {
      out.push_back(d.format().substr(cfg.size()));
    }
    return out;
  };
  const std::string in = (dir / "in.ndjson").string();
  EXPECT_THAT(located("version: 1\n"
                      "sources: [{name: bank, type: file, path: in.ndjson}]\n"
                      "sinks:\n"
                      "  events: {type: file, path: link.ndjson}\n"
                      "  signals: {type: file, path: '" +
                      in +
                      "'}\n"
                      "  alerts: {type: file, path: hard.ndjson}\n"
                      "  dead_letter: {type: file, path: cfg.yaml}\n"),
              ElementsAre(":4:30: error: sinks.events.path: '" + (dir / "link.ndjson").string() +
                              "' is the input of source 'bank'; writing there would destroy it",
                          ":5:31: error: sinks.signals.path: '" + in +
                              "' is the input of source 'bank'; writing there would destroy it",
                          ":5:31: error: sinks.signals.path: '" + in +
                              "' is also the events sink's file; give each sink its own file",
                          ":6:30: error: sinks.alerts.path: '" + (dir / "hard.ndjson").string() +
                              "' is the input of source 'bank'; writing there would destroy it",
                          ":6:30: error: sinks.alerts.path: '" + (dir / "hard.ndjson").string() +
                              "' is also the events sink's file; give each sink its own file",
                          ":6:30: error: sinks.alerts.path: '" + (dir / "hard.ndjson").string() +
                              "' is also the signals sink's file; give each sink its own file",
                          ":7:35: error: sinks.dead_letter.path: '" + cfg +
                              "' is this config file; writing there would destroy it"));
  EXPECT_THAT(located("version: 1\n"
                      "sources: [{name: a, type: stdin}, {name: b, type: stdin}]\n"
                      "rules: {packs: [p.yaml]}\n"
                      "sinks:\n"
                      "  dead_letter: {type: file, path: ./p.yaml}\n"),
              ElementsAre(":2:51: error: sources[1]: 'a' already reads standard input; only one "
                          "source can",
                          ":5:35: error: sinks.dead_letter.path: '" + (dir / "p.yaml").string() +
                              "' is the rule pack " + (dir / "p.yaml").string() +
                              "; writing there would destroy it"));
  fs::remove_all(dir);
}

// ---------------------------------------------------------------------------------------
// ${ENV} substitution

constexpr const char* kEnvConfig =
    "version: 1\n"
    "sources:\n"
    "  - {name: bank, type: file, path: \"${DATA_DIR}/in.ndjson\"}\n"
    "sinks:\n"
    "  events: {type: file, path: \"${OUT:-/var/out}/events.ndjson\"}\n"
    "  dead_letter: {type: discard}\n"
    "pipeline: {batch_size: \"${BATCH:-256}\"}\n"
    "currency: {base: \"${BASE:-USD}\", rates: {EUR: \"${EUR_RATE:-1.08}\"}}\n";

TEST(EngineConfigEnv, SetVariablesAreSubstituted) {
  const EngineConfig c = load_ok(kEnvConfig, env_of({{"DATA_DIR", "/srv/feeds"},
                                                     {"OUT", "/tmp/o"},
                                                     {"BATCH", "64"},
                                                     {"BASE", "EUR"},
                                                     {"EUR_RATE", "1"}}));
  ASSERT_EQ(c.sources.size(), 1u);
  EXPECT_EQ(c.sources[0].path, "/srv/feeds/in.ndjson");
  EXPECT_EQ(c.events.path, "/tmp/o/events.ndjson");
  EXPECT_EQ(c.pipeline.batch_size, 64u);
  EXPECT_EQ(c.currencies.base().view(), "EUR");
}

TEST(EngineConfigEnv, DefaultsApplyWhenUnsetOrEmpty) {
  for (const auto& env :
       {env_of({{"DATA_DIR", "/d"}}), env_of({{"DATA_DIR", "/d"}, {"OUT", ""}, {"BATCH", ""}})}) {
    const EngineConfig c = load_ok(kEnvConfig, env);
    EXPECT_EQ(c.events.path, "/var/out/events.ndjson");
    EXPECT_EQ(c.pipeline.batch_size, 256u);
    EXPECT_EQ(c.currencies.base().view(), "USD");
    ASSERT_NE(c.currencies.find(event::Currency{{'E', 'U', 'R'}}), nullptr);
    EXPECT_EQ(c.currencies.find(event::Currency{{'E', 'U', 'R'}})->scaled, 10'800'000'000);
  }
}

TEST(EngineConfigEnv, UnsetVariableWithoutDefaultNamesTheVariable) {
  EXPECT_THAT(errors(kEnvConfig),
              ElementsAre("cfg.yaml:3:36: error: sources[0].path: environment variable DATA_DIR "
                          "is not set; set it or give a default as ${DATA_DIR:-default}"));
  // Set but empty is a value (only ":-" replaces empty values, as in the shell).
  const EngineConfig c = load_ok(kEnvConfig, env_of({{"DATA_DIR", ""}}));
  EXPECT_EQ(c.sources[0].path, "/in.ndjson");
}

// Substituted values are validated like written ones, but the message shows the reference,
// never the value: it may be a secret, and errors end up in logs.
TEST(EngineConfigEnv, SubstitutedValuesAreValidatedWithoutShowingThem) {
  const std::vector<std::string> got =
      errors(kEnvConfig, env_of({{"DATA_DIR", "/d"}, {"BATCH", "s3cr3t"}}));
  EXPECT_THAT(got,
              ElementsAre("cfg.yaml:7:24: error: pipeline.batch_size: expected an integer "
                          "from 1 to 1000000, got '${BATCH:-256}' (substituted value not shown)"));
  for (const std::string& e : got) EXPECT_EQ(e.find("s3cr3t"), std::string::npos) << e;
}

TEST(EngineConfigEnv, DollarDollarIsALiteralDollar) {
  const EngineConfig c = load_ok(
      "version: 1\n"
      "sources: [{name: \"$$PAY ${X}$$\", type: file, path: a$$b}]\n"
      "sinks: {dead_letter: {type: discard}}\n"
      "schemas: {f: {fields: {id: \"/$$id\", amount: \"US$ 5\"}}}\n",
      env_of({{"X", "x"}}));
  ASSERT_EQ(c.sources.size(), 1u);
  EXPECT_EQ(c.sources[0].name, "$PAY x$");
  EXPECT_EQ(c.sources[0].path, "a$b");
  EXPECT_THAT(rule(c, "f", event::Field::id).pointer, ElementsAre("$id"));
  EXPECT_EQ(rule(c, "f", event::Field::amount).column, "US$ 5");  // "$ " is plain text
}

TEST(EngineConfigEnv, MalformedReferences) {
  EXPECT_THAT(
      errors("version: 1\n"
             "sources:\n"
             "  - {name: a, type: file, path: \"${1DIR}/x\"}\n"
             "  - {name: b, type: file, path: \"${DIR/x\"}\n"
             "  - {name: c, type: file, path: \"$HOME/x\"}\n"
             "  - {name: d, type: file, path: \"${A:-${B}}\"}\n"
             "  - {name: e, type: file, path: \"${DATA-/tmp}\"}\n"
             "sinks: {dead_letter: {type: discard}}\n"),
      ElementsAre(
          "cfg.yaml:3:33: error: sources[0].path: '1DIR' is not an environment variable name (a "
          "letter or _, then letters, digits, _); expected ${NAME} or ${NAME:-default}",
          "cfg.yaml:4:33: error: sources[1].path: unterminated ${...} in '${DIR/x'; expected "
          "${NAME} or ${NAME:-default}",
          "cfg.yaml:5:33: error: sources[2].path: '$HOME' is not substituted; write ${HOME} for "
          "the environment variable or $$HOME for the literal text",
          "cfg.yaml:6:33: error: sources[3].path: the default of ${A:-...} holds another ${...}; "
          "defaults are plain text",
          "cfg.yaml:7:33: error: sources[4].path: 'DATA-/tmp' is not an environment variable "
          "name (a letter or _, then letters, digits, _); expected ${NAME} or ${NAME:-default}"));
}

// ---------------------------------------------------------------------------------------
// Paths

TEST(EngineConfigPaths, RelativePathsAreResolvedAgainstTheConfigFolder) {
  const std::string text =
      "version: 1\n"
      "sources:\n"
      "  - {name: a, type: file, path: data/in.ndjson}\n"
      "  - {name: b, type: file, path: ../shared/b.ndjson.gz}\n"
      "  - {name: c, type: file, path: /abs/c.ndjson}\n"
      "  - {name: d, type: stdin}\n"
      "sinks:\n"
      "  events: {type: file, path: out/events.ndjson}\n"
      "  dead_letter: {type: file, path: ./out/dead.ndjson}\n"
      "state: {path: state}\n";
  const EngineConfig c = load_ok(text, env_of({}), "/etc/corridor/engine.yaml");
  ASSERT_EQ(c.sources.size(), 4u);
  EXPECT_EQ(c.sources[0].path, "/etc/corridor/data/in.ndjson");
  EXPECT_EQ(c.sources[1].path, "/etc/shared/b.ndjson.gz");
  EXPECT_EQ(c.sources[2].path, "/abs/c.ndjson");
  EXPECT_EQ(c.sources[3].path, "-");
  EXPECT_EQ(c.events.path, "/etc/corridor/out/events.ndjson");
  EXPECT_EQ(c.dead_letter.path, "/etc/corridor/out/dead.ndjson");
  EXPECT_EQ(c.state.path, "/etc/corridor/state");

  // A config named without a folder is in the working directory: paths stay as written.
  const EngineConfig here = load_ok(text, env_of({}), "engine.yaml");
  EXPECT_EQ(here.sources[0].path, "data/in.ndjson");
  EXPECT_EQ(here.sources[1].path, "../shared/b.ndjson.gz");

  const EngineConfig nested = load_ok(text, env_of({}), "config/examples/engine.yaml");
  EXPECT_EQ(nested.sources[0].path, "config/examples/data/in.ndjson");
  EXPECT_EQ(nested.sources[1].path, "config/shared/b.ndjson.gz");
}

// ---------------------------------------------------------------------------------------
// All errors at once

TEST(EngineConfigErrors, SeveralErrorsAreAllReportedSortedByPosition) {
  // The loader reads schemas and sinks before sources; the report is in file order.
  const LoadResult r = parse(
      "sources:\n"
      "  - {name: a, type: file, path: x, schema: feed}\n"
      "  - {name: b, type: files, path: y}\n"
      "sinks:\n"
      "  dead_letter: {type: file}\n"
      "time: {allowed_lateness: soon}\n"
      "schemas:\n"
      "  feed: {fields: {kind: {pointer: /k, default: wire}}}\n"
      "version: 3\n");
  EXPECT_FALSE(r.config.has_value());
  EXPECT_EQ(format_all(r.errors),
            "cfg.yaml:3:21: error: sources[1].type: unknown value 'files'; allowed: file, stdin, "
            "synthetic\n"
            "cfg.yaml:5:16: error: sinks.dead_letter: missing required key 'path'\n"
            "cfg.yaml:6:26: error: time.allowed_lateness: expected a duration such as 250ms, 30s, "
            "5m, 1h or 7d, got 'soon'\n"
            "cfg.yaml:8:48: error: schemas.feed.fields.kind.default: 'wire' is not a kind; "
            "allowed: transfer, remittance, cash_in, cash_out, salary, fee, card\n"
            "cfg.yaml:9:10: error: version: this corridor reads config version 1, got '3'\n");
  ASSERT_FALSE(r.errors.empty());
  EXPECT_EQ(r.errors[0].file, "cfg.yaml");
  EXPECT_EQ(r.errors[0].line, 3);
  EXPECT_EQ(r.errors[0].column, 21);
}

TEST(EngineConfigErrors, UnreadableFile) {
  const LoadResult r = load_engine_config("/nonexistent/corridor/engine.yaml", env_of({}));
  EXPECT_FALSE(r.config.has_value());
  EXPECT_THAT(format_all(r.errors),
              "/nonexistent/corridor/engine.yaml:1:1: error: cannot read the config file: No "
              "such file or directory\n");
  // A stream reads a directory as an empty file; it is reported as what it is.
  const std::string dir = ::testing::TempDir();
  const LoadResult d = load_engine_config(dir, env_of({}));
  EXPECT_FALSE(d.config.has_value());
  EXPECT_EQ(format_all(d.errors), dir +
                                      ":1:1: error: cannot read the config file: it is a "
                                      "directory\n");
}

// ---------------------------------------------------------------------------------------
// A valid config

constexpr const char* kFull = R"(# Every section, with values that differ from the defaults.
version: 1
sources:
  - name: payments
    type: file
    path: feeds/pacs008.ndjson.gz
    schema: pacs008
  - name: amlsim
    type: file
    path: /data/amlsim/transactions.csv
    format: csv
    csv: {delimiter: ";"}
    schema: amlsim
  - name: live
    type: stdin
sinks:
  events: {type: file, path: out/events.ndjson, append: true}
  dead_letter: {type: stderr}
schemas:
  pacs008:
    fields:
      id: /FIToFICstmrCdtTrf/CdtTrfTxInf/0/PmtId/EndToEndId
      ts: /FIToFICstmrCdtTrf/GrpHdr/CreDtTm
      kind:
        pointer: /FIToFICstmrCdtTrf/CdtTrfTxInf/0/Purp/Cd
        map: {SALA: salary, SUPP: transfer}
        default: transfer
      amount: /FIToFICstmrCdtTrf/CdtTrfTxInf/0/IntrBkSttlmAmt/value
      currency: {pointer: /FIToFICstmrCdtTrf/CdtTrfTxInf/0/IntrBkSttlmAmt/Ccy}
      channel: {default: bank}
      sender.id: /FIToFICstmrCdtTrf/CdtTrfTxInf/0/DbtrAcct/Id/IBAN
      sender.country: {pointer: /FIToFICstmrCdtTrf/CdtTrfTxInf/0/Dbtr/PstlAdr/Ctry, default: XX}
      receiver.id: /FIToFICstmrCdtTrf/CdtTrfTxInf/0/CdtrAcct/Id/IBAN
  amlsim:
    fields:
      id: {line_number_prefix: amlsim-}
      ts: {column: time, unit: d, origin: "2024-01-01T00:00:00Z"}
      kind: {default: transfer}
      amount: value
      currency: {default: USD}
      sender.id: sourceNodeId
      receiver.id: {column: targetNodeId}
currency:
  base: EUR
  rates: {USD: "0.92", GBP: "1.1712345678", EUR: "1"}
decode:
  max_event_bytes: 64KiB
  max_string_bytes: 512
  earliest: 2020-01-01T00:00:00Z
  latest: 2030-01-01T00:00:00+02:00
time: {allowed_lateness: 15m, late_events: apply}
pipeline: {batch_size: 512}
state: {path: state, memory_limit: 2GiB}
checkpoint: {interval: 250ms, max_events: 50000}
)";

TEST(EngineConfigValid, FullConfigGivesTheExpectedValues) {
  const EngineConfig c = load_ok(kFull, env_of({}), "/srv/corridor/engine.yaml");
  EXPECT_EQ(c.file, "/srv/corridor/engine.yaml");

  ASSERT_EQ(c.sources.size(), 3u);
  EXPECT_EQ(c.sources[0].name, "payments");
  EXPECT_EQ(c.sources[0].type, "file");
  EXPECT_EQ(c.sources[0].path, "/srv/corridor/feeds/pacs008.ndjson.gz");
  EXPECT_EQ(c.sources[0].format, SourceFormat::ndjson);
  EXPECT_EQ(c.sources[0].schema, "pacs008");
  EXPECT_EQ(c.sources[1].path, "/data/amlsim/transactions.csv");
  EXPECT_EQ(c.sources[1].format, SourceFormat::csv);
  EXPECT_EQ(c.sources[1].csv_delimiter, ';');
  EXPECT_EQ(c.sources[1].schema, "amlsim");
  EXPECT_EQ(c.sources[2].type, "stdin");
  EXPECT_EQ(c.sources[2].path, "-");
  EXPECT_EQ(c.sources[2].schema, "canonical");
  EXPECT_EQ(c.sources[2].csv_delimiter, ',');

  EXPECT_EQ(c.events.type, "file");
  EXPECT_EQ(c.events.path, "/srv/corridor/out/events.ndjson");
  EXPECT_TRUE(c.events.append);
  EXPECT_EQ(c.dead_letter.type, "stderr");
  EXPECT_EQ(c.dead_letter.path, "");
  EXPECT_FALSE(c.dead_letter.append);

  EXPECT_EQ(c.limits.max_event_bytes, 64u * 1024);
  EXPECT_EQ(c.limits.max_string_bytes, 512u);
  EXPECT_EQ(c.limits.min_ts_ms, 1'577'836'800'000);  // 2020-01-01T00:00:00Z
  EXPECT_EQ(c.limits.max_ts_ms, 1'893'448'800'000);  // 2029-12-31T22:00:00Z
  EXPECT_EQ(c.pipeline.allowed_lateness_ms, 15 * 60'000);
  EXPECT_EQ(c.pipeline.late_policy, pipeline::LatePolicy::apply);
  EXPECT_EQ(c.pipeline.batch_size, 512u);
  EXPECT_EQ(c.pipeline.max_records, 0u);
  EXPECT_EQ(c.state.path, "/srv/corridor/state");
  EXPECT_EQ(c.state.memory_limit_bytes, 2ULL << 30);
  EXPECT_EQ(c.checkpoint.interval_ms, 250);
  EXPECT_EQ(c.checkpoint.max_events, 50'000u);

  EXPECT_EQ(c.currencies.base().view(), "EUR");
  EXPECT_EQ(c.currencies.size(), 3u);
  ASSERT_NE(c.currencies.find(event::Currency{{'U', 'S', 'D'}}), nullptr);
  EXPECT_EQ(c.currencies.find(event::Currency{{'U', 'S', 'D'}})->scaled, 9'200'000'000);
  ASSERT_NE(c.currencies.find(event::Currency{{'G', 'B', 'P'}}), nullptr);
  EXPECT_EQ(c.currencies.find(event::Currency{{'G', 'B', 'P'}})->scaled, 11'712'345'678);
  EXPECT_EQ(c.currencies.find(event::Currency{{'E', 'U', 'R'}})->scaled, event::Rate::kUnit);
  EXPECT_EQ(c.currencies.find(event::Currency{{'J', 'P', 'Y'}}), nullptr);

  ASSERT_EQ(c.schemas.size(), 3u);
  EXPECT_TRUE(c.schemas.contains("canonical"));
  using event::Field;
  const event::FieldRule& kind = rule(c, "pacs008", Field::kind);
  EXPECT_TRUE(kind.mapped);
  EXPECT_THAT(kind.pointer, ElementsAre("FIToFICstmrCdtTrf", "CdtTrfTxInf", "0", "Purp", "Cd"));
  EXPECT_THAT(kind.value_map, ElementsAre(Pair("SALA", "salary"), Pair("SUPP", "transfer")));
  EXPECT_EQ(kind.default_value, "transfer");
  EXPECT_EQ(rule(c, "pacs008", Field::channel).default_value, "bank");
  EXPECT_FALSE(rule(c, "pacs008", Field::channel).mapped);
  EXPECT_EQ(rule(c, "pacs008", Field::sender_country).default_value, "XX");
  EXPECT_EQ(rule(c, "pacs008", Field::sender_country).pointer.back(), "Ctry");
  EXPECT_FALSE(rule(c, "pacs008", Field::receiver_name).mapped);
  EXPECT_FALSE(rule(c, "pacs008", Field::receiver_name).default_value.has_value());
  EXPECT_EQ(rule(c, "pacs008", Field::ts).time_scale.unit_ms, 1);
  EXPECT_EQ(rule(c, "pacs008", Field::ts).time_scale.origin_ms, 0);
  EXPECT_TRUE(rule(c, "pacs008", Field::amount).column.empty());

  const event::FieldRule& id = rule(c, "amlsim", Field::id);
  EXPECT_FALSE(id.mapped);
  EXPECT_EQ(id.line_number_prefix, "amlsim-");
  const event::FieldRule& ts = rule(c, "amlsim", Field::ts);
  EXPECT_EQ(ts.column, "time");
  EXPECT_TRUE(ts.pointer.empty());
  EXPECT_EQ(ts.time_scale.unit_ms, 86'400'000);
  EXPECT_EQ(ts.time_scale.origin_ms, 1'704'067'200'000);  // 2024-01-01T00:00:00Z
  EXPECT_EQ(rule(c, "amlsim", Field::amount).column, "value");
  EXPECT_EQ(rule(c, "amlsim", Field::receiver_id).column, "targetNodeId");
  EXPECT_EQ(rule(c, "amlsim", Field::currency).default_value, "USD");
}

TEST(EngineConfigValid, MinimalConfigTakesTheDefaults) {
  const EngineConfig c = load_ok(
      "version: 1\n"
      "sources: [{name: in, type: stdin}]\n"
      "sinks: {dead_letter: {type: stderr}}\n");
  EXPECT_EQ(c.events.type, "discard");
  EXPECT_EQ(c.currencies.base().view(), "USD");
  EXPECT_EQ(c.currencies.size(), 1u);
  EXPECT_EQ(c.limits.max_event_bytes, 1u << 20);
  EXPECT_EQ(c.limits.max_string_bytes, 4096u);
  EXPECT_EQ(c.limits.min_ts_ms, 631'152'000'000);    // 1990-01-01T00:00:00Z
  EXPECT_EQ(c.limits.max_ts_ms, 4'102'444'800'000);  // 2100-01-01T00:00:00Z
  EXPECT_EQ(c.pipeline.allowed_lateness_ms, 3'600'000);
  EXPECT_EQ(c.pipeline.late_policy, pipeline::LatePolicy::dead_letter);
  EXPECT_EQ(c.pipeline.batch_size, 4096u);
  EXPECT_EQ(c.state.path, "");
  EXPECT_EQ(c.state.memory_limit_bytes, 1ULL << 30);
  EXPECT_EQ(c.checkpoint.interval_ms, 1000);
  EXPECT_EQ(c.checkpoint.max_events, 100'000u);
  ASSERT_EQ(c.schemas.size(), 1u);
  const event::FieldRule& city = rule(c, "canonical", event::Field::sender_city);
  EXPECT_THAT(city.pointer, ElementsAre("sender", "city"));
  EXPECT_EQ(city.column, "sender.city");
}

TEST(EngineConfigValid, ShippedExamplesAreValid) {
  for (const char* name : {"replay.yaml", "pacs008.yaml", "amlsim.yaml", "synthetic.yaml"}) {
    const std::string path = std::string(CORRIDOR_SOURCE_DIR) + "/config/examples/" + name;
    const LoadResult r = load_engine_config(path, env_of({}));
    EXPECT_TRUE(r.config.has_value()) << format_all(r.errors);
  }
}

// ---------------------------------------------------------------------------------------
// Hash, durations, sizes

TEST(EngineConfigHash, StableForTheSameBytesAndChangingWithAnyByte) {
  const EngineConfig a = load_ok(kFull);
  const EngineConfig b = load_ok(kFull);
  EXPECT_EQ(a.hash, b.hash);
  EXPECT_EQ(a.hash.size(), 16u);
  EXPECT_EQ(a.hash, fnv1a64_hex(kFull));
  EXPECT_NE(load_ok(std::string(kFull) + "# a comment\n").hash, a.hash);
  std::string changed = kFull;
  changed.replace(changed.find("batch_size: 512"), 15, "batch_size: 513");
  EXPECT_NE(load_ok(changed).hash, a.hash);
  // The hash is of the file as written: what ${...} expands to does not enter it.
  EXPECT_EQ(load_ok(kEnvConfig, env_of({{"DATA_DIR", "/a"}})).hash,
            load_ok(kEnvConfig, env_of({{"DATA_DIR", "/b"}})).hash);
}

TEST(EngineConfigHash, IsFnv1a64) {
  // Published FNV-1a 64 test vectors.
  EXPECT_EQ(fnv1a64_hex(""), "cbf29ce484222325");
  EXPECT_EQ(fnv1a64_hex("a"), "af63dc4c8601ec8c");
  EXPECT_EQ(fnv1a64_hex("foobar"), "85944171f73967e8");
}

TEST(EngineConfigUnits, Durations) {
  EXPECT_EQ(parse_duration_ms("250ms"), 250);
  EXPECT_EQ(parse_duration_ms("30s"), 30'000);
  EXPECT_EQ(parse_duration_ms("5m"), 300'000);
  EXPECT_EQ(parse_duration_ms("1h"), 3'600'000);
  EXPECT_EQ(parse_duration_ms("7d"), 604'800'000);
  EXPECT_EQ(parse_duration_ms("0s"), 0);
  EXPECT_EQ(parse_duration_ms("106751991167d"), 106'751'991'167LL * 86'400'000);
  EXPECT_EQ(parse_duration_ms("106751991168d"), std::nullopt);  // past int64 milliseconds
  for (const char* bad : {"", "s", "1", "1.5s", "-1s", "1 s", "1S", "1w", "1h30m", "+1s"}) {
    EXPECT_EQ(parse_duration_ms(bad), std::nullopt) << bad;
  }
}

TEST(EngineConfigUnits, Sizes) {
  EXPECT_EQ(parse_size_bytes("512"), 512u);
  EXPECT_EQ(parse_size_bytes("512B"), 512u);
  EXPECT_EQ(parse_size_bytes("64KiB"), 65'536u);
  EXPECT_EQ(parse_size_bytes("1MiB"), 1u << 20);
  EXPECT_EQ(parse_size_bytes("2GiB"), 2ULL << 30);
  EXPECT_EQ(parse_size_bytes("10KB"), 10'000u);
  EXPECT_EQ(parse_size_bytes("10MB"), 10'000'000u);
  EXPECT_EQ(parse_size_bytes("3GB"), 3'000'000'000u);
  EXPECT_EQ(parse_size_bytes("999999999999999GiB"), std::nullopt);  // past uint64
  for (const char* bad : {"", "KiB", "1.5MiB", "1 MiB", "1kib", "1TiB", "-1", "1K"}) {
    EXPECT_EQ(parse_size_bytes(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace corridor::config

namespace corridor::config {
namespace {

// The config_hash outputs carry covers what decides them, and nothing that only says where
// input comes from, where output goes or how the work is batched.
TEST(EngineConfigHash, OutputsHashFollowsOnlyTheSettingsThatDecideOutputs) {
  const std::string base =
      "version: 1\n"
      "sources: [{name: in, type: file, path: a.ndjson}]\n"
      "sinks: {dead_letter: {type: stderr}, alerts: {type: file, path: alerts.ndjson}}\n"
      "currency: {base: USD, rates: {EUR: \"1.08\"}}\n"
      "time: {allowed_lateness: 1h}\n"
      "pipeline: {batch_size: 4096}\n"
      "rules: {packs: [p.yaml], new_pair_lookback: 30d}\n";
  auto hashes = [](const std::string& text) {
    const LoadResult r =
        parse_engine_config("/etc/corridor/engine.yaml", text,
                            [](const std::string&) { return std::optional<std::string>(); });
    EXPECT_TRUE(r.config.has_value()) << format_all(r.errors);
    return r.config ? std::make_pair(r.config->hash, r.config->outputs_hash)
                    : std::make_pair(std::string(), std::string());
  };
  auto edited = [&](const std::string& from, const std::string& to) {
    std::string text = base;
    text.replace(text.find(from), from.size(), to);
    return hashes(text);
  };
  const auto [file_hash, outputs_hash] = hashes(base);
  // The same outputs: batch size, paths, layout and comments.
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"batch_size: 4096", "batch_size: 7"},
           {"path: alerts.ndjson", "path: elsewhere.ndjson"},
           {"path: a.ndjson", "path: b.ndjson"},
           {"packs: [p.yaml]", "packs: [../packs/p.yaml]"},
           {"time: {allowed_lateness: 1h}\n", "time:\n  allowed_lateness: 1h  # an hour\n"},
       }) {
    const auto [f, o] = edited(from, to);
    EXPECT_NE(f, file_hash) << to;  // the file's own hash follows every edit
    EXPECT_EQ(o, outputs_hash) << to;
  }
  // Other outputs: a rate, the lateness, a rules setting, a source's name.
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"\"1.08\"", "\"1.09\""},
           {"allowed_lateness: 1h", "allowed_lateness: 2h"},
           {"new_pair_lookback: 30d", "new_pair_lookback: 31d"},
           {"name: in", "name: feed"},
       }) {
    EXPECT_NE(edited(from, to).second, outputs_hash) << to;
  }
}

TEST(EngineConfigRules, PacksResolveAndLimitsAreRead) {
  const LoadResult r =
      parse_engine_config("/etc/corridor/engine.yaml",
                          "version: 1\n"
                          "sources: [{name: in, type: stdin}]\n"
                          "sinks:\n"
                          "  dead_letter: {type: stderr}\n"
                          "  alerts: {type: file, path: alerts.ndjson}\n"
                          "  signals: {type: file, path: alerts.ndjson}\n"
                          "rules:\n"
                          "  packs: [packs/fees.yaml, /opt/p.yaml]\n"
                          "  new_pair_lookback: 30d\n"
                          "  max_window: 500d\n"
                          "  distinct_exact_bound: 0\n"
                          "  group_exact_bound: 100001\n",
                          [](const std::string&) { return std::optional<std::string>(); });
  std::vector<std::string> got;
  for (const Diagnostic& d : r.errors) got.push_back(d.format());
  EXPECT_EQ(got, (std::vector<std::string>{
                     "/etc/corridor/engine.yaml:5:30: error: sinks.alerts.path: "
                     "'/etc/corridor/alerts.ndjson' is also the signals sink's file; give each "
                     "sink its own file",
                     "/etc/corridor/engine.yaml:11:25: error: rules.distinct_exact_bound: "
                     "expected an integer from 1 to 100000, got '0'",
                     "/etc/corridor/engine.yaml:12:22: error: rules.group_exact_bound: "
                     "expected an integer from 1 to 100000, got '100001'"}));
  // The rules settings come back despite the errors, with where each pack is named, so that
  // the packs can be checked in the same run.
  EXPECT_FALSE(r.config.has_value());
  EXPECT_EQ(r.rules.packs,
            (std::vector<std::string>{"/etc/corridor/packs/fees.yaml", "/opt/p.yaml"}));
  ASSERT_EQ(r.rules.pack_sites.size(), 2u);
  EXPECT_EQ(r.rules.pack_sites[1].file, "/etc/corridor/engine.yaml");
  EXPECT_EQ(r.rules.pack_sites[1].line, 8);
  EXPECT_EQ(r.rules.pack_sites[1].column, 28);
  EXPECT_EQ(r.rules.max_window_ms, 500LL * 86'400'000);
  const LoadResult ok = parse_engine_config(
      "/etc/corridor/engine.yaml",
      "version: 1\n"
      "sources: [{name: in, type: stdin}]\n"
      "sinks: {dead_letter: {type: stderr}}\n"
      "rules: {packs: [packs/fees.yaml, /opt/p.yaml], new_pair_lookback: 30d, "
      "salary_lookback: 40d, distinct_exact_bound: 128, group_exact_bound: 32}\n",
      [](const std::string&) { return std::optional<std::string>(); });
  ASSERT_TRUE(ok.config.has_value()) << format_all(ok.errors);
  EXPECT_EQ(ok.config->rules.packs,
            (std::vector<std::string>{"/etc/corridor/packs/fees.yaml", "/opt/p.yaml"}));
  EXPECT_EQ(ok.config->rules.new_pair_lookback_ms, 30LL * 86'400'000);
  EXPECT_EQ(ok.config->rules.salary_lookback_ms, 40LL * 86'400'000);
  EXPECT_EQ(ok.config->rules.distinct_exact_bound, 128u);
  EXPECT_EQ(ok.config->rules.group_exact_bound, 32u);
}

}  // namespace
}  // namespace corridor::config
