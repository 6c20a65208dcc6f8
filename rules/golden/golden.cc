#include "rules/golden/golden.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <span>
#include <sstream>

#include "engine/config/yaml_reader.h"
#include "engine/event/decoder.h"
#include "engine/event/json_text.h"
#include "engine/event/schema.h"
#include "rules/eval/cloudevents.h"
#include "rules/eval/rule_engine.h"
#include "rules/model/rule.h"

namespace corridor::rules {
namespace {

namespace fs = std::filesystem;

bool looks_like_json_number(const std::string& s) {
  if (s.empty()) return false;
  size_t i = s[0] == '-' ? 1 : 0;
  if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  bool dot = false;
  for (; i < s.size(); ++i) {
    if (s[i] == '.' && !dot) {
      dot = true;
    } else if (!std::isdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return s.back() != '.';
}

// YAML to JSON: plain scalars that read as numbers, booleans or null stay so; quoted
// scalars are strings.
void to_json(const YAML::Node& n, std::string& out) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      out.push_back('{');
      bool first = true;
      for (const auto& kv : n) {
        if (!first) out.push_back(',');
        first = false;
        event::append_json_string(out, kv.first.Scalar());
        out.push_back(':');
        to_json(kv.second, out);
      }
      out.push_back('}');
      return;
    }
    case YAML::NodeType::Sequence: {
      out.push_back('[');
      for (size_t i = 0; i < n.size(); ++i) {
        if (i > 0) out.push_back(',');
        to_json(n[i], out);
      }
      out.push_back(']');
      return;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      const bool quoted = n.Tag() == "!";
      if (!quoted && (s == "true" || s == "false" || s == "null" || looks_like_json_number(s))) {
        out += s;
      } else {
        event::append_json_string(out, s);
      }
      return;
    }
    default:
      out += "null";
  }
}

struct Captured : SignalListener {
  std::vector<Signal> signals;
  std::vector<Alert> alerts;
  std::vector<std::string>* outputs = nullptr;
  OutputContext context;
  void on_signal(const Signal& s) override {
    signals.push_back(s);
    std::string line;
    append_signal_json(line, s, context, Origin{"golden", 0, 0});
    outputs->push_back(std::move(line));
  }
  void on_alert(const Alert& a) override {
    alerts.push_back(a);
    std::string line;
    append_alert_json(line, a, context, Origin{"golden", 0, 0});
    outputs->push_back(std::move(line));
  }
};

std::string scalar_or_empty(const YAML::Node& n, const char* key) {
  const YAML::Node v = n[key];
  return v && v.IsScalar() ? v.Scalar() : std::string();
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return "[" + out + "]";
}

std::string describe(const Signal& s) {
  return "{rule: " + s.rule->id + ", entity: " + s.entity + ", trigger: " + s.trigger_event_id +
         "}";
}

std::string describe(const Alert& a) {
  return "{typology: " + a.typology->id + ", entity: " + a.entity +
         ", trigger: " + a.trigger_event_id + ", score: " + std::to_string(a.score) + "}";
}

// An expected output as the test gives it: its identifying keys, then whatever else it gives.
std::string describe_expected(const YAML::Node& want, const char* first) {
  std::string out = std::string("{") + first + ": " + scalar_or_empty(want, first) +
                    ", entity: " + scalar_or_empty(want, "entity") +
                    ", trigger: " + scalar_or_empty(want, "trigger");
  if (want["score"]) out += ", score: " + scalar_or_empty(want, "score");
  return out + "}";
}

// The three keys that identify an output, and whether an expected one names this output.
struct Identity {
  std::string first, entity, trigger;  // first: the rule id, or the typology id
  bool operator==(const Identity&) const = default;
};
Identity identity_of(const YAML::Node& want, const char* first) {
  return {scalar_or_empty(want, first), scalar_or_empty(want, "entity"),
          scalar_or_empty(want, "trigger")};
}
Identity identity_of(const Signal& s) { return {s.rule->id, s.entity, s.trigger_event_id}; }
Identity identity_of(const Alert& a) { return {a.typology->id, a.entity, a.trigger_event_id}; }

class CaseRunner {
 public:
  CaseRunner(const std::string& file, const std::string& name, std::vector<std::string>& failures)
      : file_(file), name_(name), failures_(failures) {}

  void fail(const std::string& what) {
    failures_.push_back(file_ + ": case '" + name_ + "': " + what);
  }

  void compare_signal(size_t i, const YAML::Node& want, const Signal& got) {
    const std::string at = "signal " + std::to_string(i + 1) + " " + describe(got);
    auto check = [&](const char* key, const std::string& actual) {
      if (want[key] && scalar_or_empty(want, key) != actual) {
        fail(at + ": " + key + " is '" + actual + "', expected '" + scalar_or_empty(want, key) +
             "'");
      }
    };
    check("rule", got.rule->id);
    check("entity", got.entity);
    check("trigger", got.trigger_event_id);
    check("key", got.key);
    check("direction", got.direction);
    check("severity", std::string(severity_name(got.severity)));
    check("explanation", got.explanation);
    if (const YAML::Node values = want["values"]) {
      for (const auto& kv : values) {
        const std::string name = kv.first.Scalar();
        auto it = std::find_if(got.values.begin(), got.values.end(),
                               [&](const auto& p) { return p.first == name; });
        if (it == got.values.end()) {
          fail(at + ": no aggregate '" + name + "'");
        } else if (it->second != kv.second.Scalar()) {
          fail(at + ": " + name + " is " + it->second + ", expected " + kv.second.Scalar());
        }
      }
    }
    if (const YAML::Node evidence = want["evidence"]) {
      std::vector<std::string> expected;
      for (const auto& e : evidence) expected.push_back(e.Scalar());
      if (expected != got.evidence) {
        fail(at + ": evidence is " + joined(got.evidence) + ", expected " + joined(expected));
      }
    }
  }

  void compare_alert(size_t i, const YAML::Node& want, const Alert& got) {
    const std::string at = "alert " + std::to_string(i + 1) + " " + describe(got);
    auto check = [&](const char* key, const std::string& actual) {
      if (want[key] && scalar_or_empty(want, key) != actual) {
        fail(at + ": " + key + " is '" + actual + "', expected '" + scalar_or_empty(want, key) +
             "'");
      }
    };
    check("typology", got.typology->id);
    check("entity", got.entity);
    check("trigger", got.trigger_event_id);
    check("score", std::to_string(got.score));
    check("severity", std::string(severity_name(got.severity)));
    check("explanation", got.explanation);
    if (const YAML::Node rules = want["rules"]) {
      std::vector<std::string> expected, actual;
      for (const auto& r : rules) expected.push_back(r.Scalar());
      for (const auto& c : got.contributions) actual.push_back(c.rule_id);
      if (expected != actual) {
        fail(at + ": contributing rules are " + joined(actual) + ", expected " + joined(expected));
      }
    }
  }

  // Matches the expected outputs with the produced ones in order, by identity (rule or
  // typology, entity, trigger), so that one output too many or too few is reported as such
  // rather than as differences in every output after it. Pairs that match are compared key
  // by key; an expected and a produced output that match nothing else are compared as a pair
  // (a wrong trigger, say); the rest are missing or unexpected.
  template <typename Out, typename Compare>
  void align(const char* noun, const char* first, const YAML::Node& want,
             const std::vector<Out>& got, Compare compare) {
    const size_t n = want ? want.size() : 0;
    std::vector<Identity> expected;
    for (size_t i = 0; i < n; ++i) expected.push_back(identity_of(want[i], first));
    auto later_got = [&](size_t from, const Identity& id) {
      for (size_t k = from; k < got.size(); ++k) {
        if (identity_of(got[k]) == id) return k;
      }
      return got.size();
    };
    auto later_expected = [&](size_t from, const Identity& id) {
      for (size_t k = from; k < n; ++k) {
        if (expected[k] == id) return k;
      }
      return n;
    };
    auto unexpected = [&](size_t j) {
      fail(std::string("unexpected ") + noun + " " + std::to_string(j + 1) + " " +
           describe(got[j]));
    };
    auto missing = [&](size_t i) {
      fail(std::string("missing ") + noun + " " + std::to_string(i + 1) + " " +
           describe_expected(want[i], first));
    };
    // The same outputs in another order: said once, then each compared with its namesake.
    std::vector<Identity> produced;
    for (const Out& o : got) produced.push_back(identity_of(o));
    if (produced != expected &&
        std::is_permutation(produced.begin(), produced.end(), expected.begin(), expected.end())) {
      std::vector<std::string> p, e;
      for (const Identity& x : produced) p.push_back(x.first + "@" + x.trigger);
      for (const Identity& x : expected) e.push_back(x.first + "@" + x.trigger);
      fail(std::string(noun) + "s in another order: produced " + joined(p) + ", expected " +
           joined(e));
      std::vector<bool> used(got.size(), false);
      for (size_t a = 0; a < n; ++a) {
        for (size_t b = 0; b < got.size(); ++b) {
          if (used[b] || produced[b] != expected[a]) continue;
          used[b] = true;
          compare(b, want[a], got[b]);
          break;
        }
      }
      return;
    }
    size_t i = 0, j = 0;
    while (i < n && j < got.size()) {
      if (expected[i] == identity_of(got[j])) {
        compare(j, want[i], got[j]);
        ++i, ++j;
        continue;
      }
      const size_t k = later_got(j + 1, expected[i]);
      const size_t m = later_expected(i + 1, identity_of(got[j]));
      if (k < got.size() && (m == n || k - j <= m - i)) {
        for (; j < k; ++j) unexpected(j);
      } else if (m < n) {
        for (; i < m; ++i) missing(i);
      } else {
        compare(j, want[i], got[j]);
        ++i, ++j;
      }
    }
    for (; j < got.size(); ++j) unexpected(j);
    for (; i < n; ++i) missing(i);
  }

 private:
  const std::string& file_;
  std::string name_;
  std::vector<std::string>& failures_;
};

// Checks a case's events before they run: mappings of the canonical keys only (a misspelt
// key would otherwise be ignored by the decoder), each id once. Returns whether each event
// passed (none when `events` itself is wrong).
std::vector<bool> check_events(config::YamlReader& r, const YAML::Node& tc,
                               const std::string& what) {
  const YAML::Node events = tc["events"];
  if (!events) {
    r.missing(tc, what, "events");
    return {};
  }
  if (!r.expect_sequence(events, what + ".events")) return {};
  if (events.size() == 0) {
    r.error(events, what + ".events: expected at least one event");
    return {};
  }
  std::vector<bool> passed(events.size(), false);
  std::map<std::string, size_t> ids;
  for (size_t i = 0; i < events.size(); ++i) {
    const YAML::Node e = events[i];
    const std::string w = what + ".events[" + std::to_string(i) + "]";
    const size_t errors_before = r.error_count();
    // The canonical event's keys (amount_base is computed, never given).
    if (!r.expect_map(e, w,
                      {"id", "ts", "kind", "amount", "currency", "channel", "agent", "purpose",
                       "labels", "sender", "receiver"})) {
      continue;
    }
    for (const char* party : {"sender", "receiver"}) {
      if (const YAML::Node p = e[party];
          p && !r.expect_map(p, w + "." + party,
                             {"id", "account", "name", "country", "city", "phone", "device", "ip",
                              "address", "employer"})) {
      }
    }
    if (const YAML::Node id = e["id"]; id && id.IsScalar()) {
      const auto [it, fresh] = ids.emplace(id.Scalar(), i);
      if (!fresh) {
        r.error(id, w + ".id: '" + id.Scalar() + "' is also the id of events[" +
                        std::to_string(it->second) +
                        "]; evidence and triggers name events by id, so each needs its own");
      }
    }
    passed[i] = r.error_count() == errors_before;  // duplicate keys too
  }
  return passed;
}

// The keys an expected signal and an expected alert may give; the first three identify it
// and are required.
constexpr std::string_view kSignalKeys[] = {"rule",   "entity",      "trigger",
                                            "values", "explanation", "evidence",
                                            "key",    "direction",   "severity"};
constexpr std::string_view kAlertKeys[] = {"typology", "entity",      "trigger", "score",
                                           "rules",    "explanation", "severity"};

// Checks a case's expected signals or alerts (`what`: "cases[0].signals"): a list of
// mappings with the keys the format allows, the identifying three required, text where text
// belongs, and rules or typologies the packs define.
void check_expected(config::YamlReader& r, const YAML::Node& list, const std::string& what,
                    bool signals, const RuleSet& set) {
  if (!list || !r.expect_sequence(list, what)) return;  // omitted: none expected
  using Keys = std::span<const std::string_view>;
  const Keys keys = signals ? Keys(kSignalKeys) : Keys(kAlertKeys);
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node want = list[i];
    const std::string w = what + "[" + std::to_string(i) + "]";
    if (!r.expect_map(want, w, keys)) continue;
    for (size_t k = 0; k < 3; ++k) {
      if (!want[std::string(keys[k])]) r.missing(want, w, std::string(keys[k]));
    }
    for (const auto& kv : want) {
      const std::string key = kv.first.Scalar();
      const std::string wk = w + "." + key;
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) continue;  // reported above
      if (key == "values") {
        if (!r.expect_free_map(kv.second, wk)) continue;
        for (const auto& value : kv.second) {
          r.expect_text(value.second, wk + "." + value.first.Scalar());
        }
      } else if (key == "evidence" || key == "rules") {
        if (!r.expect_sequence(kv.second, wk)) continue;
        for (size_t k = 0; k < kv.second.size(); ++k) {
          r.expect_text(kv.second[k], wk + "[" + std::to_string(k) + "]");
        }
      } else if (!r.expect_text(kv.second, wk)) {
        continue;
      } else if (key == "rule" &&
                 std::none_of(set.rules.begin(), set.rules.end(),
                              [&](const Rule& x) { return x.id == kv.second.Scalar(); })) {
        r.error(kv.second, wk + ": no rule '" + kv.second.Scalar() + "' in the packs");
      } else if (key == "typology" &&
                 std::none_of(set.typologies.begin(), set.typologies.end(),
                              [&](const Typology& x) { return x.id == kv.second.Scalar(); })) {
        r.error(kv.second, wk + ": no typology '" + kv.second.Scalar() + "' in the packs");
      }
    }
  }
}

// The node a decode error is about, when the event gives it: `detail` starts with the
// field's canonical name ("amount: ...", "sender.id: ..."); otherwise the event itself.
YAML::Node node_of_error(const YAML::Node& event, const std::string& detail) {
  const size_t colon = detail.find(':');
  if (colon == std::string::npos) return event;
  const std::string field = detail.substr(0, colon);
  const size_t dot = field.find('.');
  if (dot == std::string::npos) {
    if (const YAML::Node v = event[field]) return v;
    return event;
  }
  if (const YAML::Node party = event[field.substr(0, dot)]; party && party.IsMap()) {
    if (const YAML::Node v = party[field.substr(dot + 1)]) return v;
  }
  return event;
}

// The test file's packs and table replacements (`packs`, `tables`, relative to the file).
void read_packs(const YAML::Node& root, config::YamlReader& r, const fs::path& dir,
                std::vector<std::string>& packs, PackLoadOptions& options) {
  if (const auto p = root["packs"]; p && r.expect_sequence(p, "packs")) {
    if (p.size() == 0) r.error(p, "packs: expected at least one rule pack");
    for (size_t i = 0; i < p.size(); ++i) {
      const std::string what = "packs[" + std::to_string(i) + "]";
      if (!r.expect_text(p[i], what)) continue;
      packs.push_back((dir / p[i].Scalar()).lexically_normal().string());
      // A pack that cannot be read is reported here, where the test names it.
      options.named_at.push_back(r.site(p[i], what));
    }
  } else if (!p) {
    r.missing(root, "test", "packs");
  }
  if (const auto t = root["tables"]; t && r.expect_free_map(t, "tables")) {
    for (const auto& kv : t) {
      const std::string what = "tables." + kv.first.Scalar();
      if (!r.expect_text(kv.second, what)) continue;
      options.table_files[kv.first.Scalar()] =
          (dir / kv.second.Scalar()).lexically_normal().string();
      options.table_named_at[kv.first.Scalar()] = r.site(kv.second, what);
    }
  }
}

// Reads and parses the test file; false, with errors, when it cannot.
bool read_test_file(const std::string& path, std::vector<config::Diagnostic>& errors,
                    YAML::Node& root) {
  std::string why;
  const std::optional<std::string> read = config::read_text_file(path, why);
  if (!read) {
    errors.push_back(config::Diagnostic{path, 1, 1, "cannot read the test file: " + why});
    return false;
  }
  config::EnvLookup no_env = [](const std::string&) { return std::optional<std::string>(); };
  config::YamlReader r(path, errors, no_env);
  const std::string& text = *read;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    r.syntax_error(text, e);
    return false;
  }
  return r.expect_map(
      root, "test", {"packs", "tables", "rates", "new_pair_lookback", "salary_lookback", "cases"});
}

}  // namespace

GoldenPacks load_golden_packs(const std::string& path) {
  GoldenPacks out;
  YAML::Node root;
  if (!read_test_file(path, out.loaded.errors, root)) return out;
  config::EnvLookup no_env = [](const std::string&) { return std::optional<std::string>(); };
  config::YamlReader r(path, out.loaded.errors, no_env);
  PackLoadOptions options;
  read_packs(root, r, fs::path(path).parent_path(), out.packs, options);
  if (!out.loaded.errors.empty()) return out;
  out.loaded = load_rule_packs(out.packs, options);
  return out;
}

GoldenReport run_golden_file(const std::string& path) {
  GoldenReport report;
  YAML::Node root;
  if (!read_test_file(path, report.errors, root)) return report;
  config::EnvLookup no_env = [](const std::string&) { return std::optional<std::string>(); };
  config::YamlReader r(path, report.errors, no_env);
  std::vector<std::string> packs;
  PackLoadOptions load_options;
  read_packs(root, r, fs::path(path).parent_path(), packs, load_options);
  event::CurrencyTable currencies;
  if (const auto rates = root["rates"]; rates && r.expect_free_map(rates, "rates")) {
    for (const auto& kv : rates) {
      event::Rate rate;
      const std::string code = kv.first.Scalar();
      if (code.size() != 3 ||
          event::parse_rate(kv.second.Scalar(), rate) != event::DecimalError::ok) {
        r.error(kv.second,
                "rates." + code + ": expected a three-letter code and a positive decimal");
        continue;
      }
      currencies.set_rate(event::Currency{{code[0], code[1], code[2]}}, rate);
    }
  }
  EngineOptions options;
  if (const auto v = root["new_pair_lookback"]) {
    if (auto d = r.duration_ms(v, "new_pair_lookback")) options.new_pair_lookback_ms = *d;
  }
  if (const auto v = root["salary_lookback"]) {
    if (auto d = r.duration_ms(v, "salary_lookback")) options.salary_lookback_ms = *d;
  }
  const YAML::Node cases = root["cases"];
  if (!cases) r.missing(root, "test", "cases");
  if (!report.errors.empty()) return report;

  RuleLoadResult loaded = load_rule_packs(packs, load_options);
  if (!loaded.rules) {
    report.errors = std::move(loaded.errors);
    return report;
  }
  if (!r.expect_sequence(cases, "cases")) return report;

  if (cases.size() == 0) {
    r.error(cases, "cases: expected at least one case");
    return report;
  }

  const event::Schema schema = event::Schema::canonical();
  const event::DecodeLimits limits;
  auto decoder = event::make_json_decoder(schema, currencies, limits);
  std::map<std::string, size_t> names;
  for (size_t c = 0; c < cases.size(); ++c) {
    const YAML::Node tc = cases[c];
    const std::string what = "cases[" + std::to_string(c) + "]";
    if (!r.expect_map(tc, what, {"name", "events", "signals", "alerts"})) continue;
    std::string name = what;
    if (const YAML::Node n = tc["name"]; n && r.expect_text(n, what + ".name")) {
      name = n.Scalar();
      if (const auto [it, fresh] = names.emplace(name, c); !fresh) {
        r.error(n, what + ".name: '" + name + "' is also the name of cases[" +
                       std::to_string(it->second) + "]; a failure names its case");
      }
    }
    ++report.cases;
    const size_t errors_before = report.errors.size();
    const std::vector<bool> event_ok = check_events(r, tc, what);
    check_expected(r, tc["signals"], what + ".signals", true, *loaded.rules);
    check_expected(r, tc["alerts"], what + ".alerts", false, *loaded.rules);

    // Every event that passed its checks is decoded, so that every bad one is reported;
    // the case runs only when nothing was wrong.
    Captured captured;
    captured.outputs = &report.outputs;
    captured.context = OutputContext{"golden", loaded.rules->hash};
    RuleEngine engine(*loaded.rules, captured, options);
    const YAML::Node events = tc["events"];
    for (size_t i = 0; i < event_ok.size(); ++i) {
      if (!event_ok[i]) continue;
      std::string json;
      to_json(events[i], json);
      json.append(pipeline::kRecordPadding, ' ');
      pipeline::Record record;
      record.bytes = std::string_view(json.data(), json.size() - pipeline::kRecordPadding);
      record.line = i + 1;
      event::Event e;
      event::DecodeError error;
      if (!decoder->decode(record, e, error)) {  // every bad event is reported
        r.error(node_of_error(events[i], error.detail),
                what + ".events[" + std::to_string(i) + "]: not a valid event (" +
                    std::string(event::reason_name(error.reason)) + ": " + error.detail + ")");
        continue;
      }
      if (report.errors.size() == errors_before) engine.on_event(e);
    }
    if (report.errors.size() != errors_before) continue;
    const size_t failures_before = report.failures.size();
    CaseRunner runner(path, name, report.failures);
    runner.align("signal", "rule", tc["signals"], captured.signals,
                 [&](size_t j, const YAML::Node& want, const Signal& got) {
                   runner.compare_signal(j, want, got);
                 });
    runner.align("alert", "typology", tc["alerts"], captured.alerts,
                 [&](size_t j, const YAML::Node& want, const Alert& got) {
                   runner.compare_alert(j, want, got);
                 });
    if (report.failures.size() == failures_before) ++report.passed;
  }
  // Errors sorted by position, as everywhere else.
  std::stable_sort(report.errors.begin(), report.errors.end(),
                   [](const config::Diagnostic& a, const config::Diagnostic& b) {
                     return a.line != b.line ? a.line < b.line : a.column < b.column;
                   });
  return report;
}

}  // namespace corridor::rules
