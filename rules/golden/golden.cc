#include "rules/golden/golden.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
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

std::string describe(const Signal& s) {
  return "{rule: " + s.rule->id + ", entity: " + s.entity + ", trigger: " + s.trigger_event_id +
         "}";
}

std::string describe(const Alert& a) {
  return "{typology: " + a.typology->id + ", entity: " + a.entity +
         ", trigger: " + a.trigger_event_id + ", score: " + std::to_string(a.score) + "}";
}

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
        std::string have;
        for (const auto& e : got.evidence) have += (have.empty() ? "" : ", ") + e;
        fail(at + ": evidence is [" + have + "]");
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
        std::string have;
        for (const auto& r : actual) have += (have.empty() ? "" : ", ") + r;
        fail(at + ": contributing rules are [" + have + "]");
      }
    }
  }

 private:
  const std::string& file_;
  std::string name_;
  std::vector<std::string>& failures_;
};

// The test file's packs and table replacements (`packs`, `tables`, relative to the file).
void read_packs(const YAML::Node& root, config::YamlReader& r, const fs::path& dir,
                std::vector<std::string>& packs, PackLoadOptions& options) {
  if (const auto p = root["packs"]; p && r.expect_sequence(p, "packs")) {
    for (const auto& item : p) packs.push_back((dir / item.Scalar()).lexically_normal().string());
  } else if (!p) {
    r.missing(root, "test", "packs");
  }
  if (const auto t = root["tables"]; t && r.expect_free_map(t, "tables")) {
    for (const auto& kv : t) {
      options.table_files[kv.first.Scalar()] =
          (dir / kv.second.Scalar()).lexically_normal().string();
    }
  }
}

// Reads and parses the test file; false, with errors, when it cannot.
bool read_test_file(const std::string& path, std::vector<config::Diagnostic>& errors,
                    YAML::Node& root) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors.push_back(config::Diagnostic{path, 1, 1, "cannot read the test file"});
    return false;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  config::EnvLookup no_env = [](const std::string&) { return std::optional<std::string>(); };
  config::YamlReader r(path, errors, no_env);
  const std::string text = buffer.str();
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

  const event::Schema schema = event::Schema::canonical();
  const event::DecodeLimits limits;
  auto decoder = event::make_json_decoder(schema, currencies, limits);
  for (size_t c = 0; c < cases.size(); ++c) {
    const YAML::Node tc = cases[c];
    const std::string what = "cases[" + std::to_string(c) + "]";
    if (!r.expect_map(tc, what, {"name", "events", "signals", "alerts"})) continue;
    const std::string name = tc["name"] ? tc["name"].Scalar() : what;
    ++report.cases;
    const size_t failures_before = report.failures.size();
    CaseRunner runner(path, name, report.failures);
    Captured captured;
    captured.outputs = &report.outputs;
    captured.context = OutputContext{"golden", loaded.rules->hash};
    RuleEngine engine(*loaded.rules, captured, options);
    if (const YAML::Node events = tc["events"]; events && events.IsSequence()) {
      for (size_t i = 0; i < events.size(); ++i) {
        std::string json;
        to_json(events[i], json);
        json.append(pipeline::kRecordPadding, ' ');
        pipeline::Record record;
        record.bytes = std::string_view(json.data(), json.size() - pipeline::kRecordPadding);
        record.line = i + 1;
        event::Event e;
        event::DecodeError error;
        if (!decoder->decode(record, e, error)) {
          r.error(events[i], what + ".events[" + std::to_string(i) + "]: not a valid event (" +
                                 std::string(event::reason_name(error.reason)) + ": " +
                                 error.detail + ")");
          break;
        }
        engine.on_event(e);
      }
    } else {
      r.error(tc, what + ": expected `events`, a list of canonical events");
    }
    const YAML::Node want_signals = tc["signals"];
    const size_t n_signals = want_signals ? want_signals.size() : 0;
    for (size_t i = 0; i < std::min(n_signals, captured.signals.size()); ++i) {
      runner.compare_signal(i, want_signals[i], captured.signals[i]);
    }
    for (size_t i = n_signals; i < captured.signals.size(); ++i) {
      runner.fail("unexpected signal " + std::to_string(i + 1) + " " +
                  describe(captured.signals[i]));
    }
    for (size_t i = captured.signals.size(); i < n_signals; ++i) {
      runner.fail("missing signal " + std::to_string(i + 1) +
                  " {rule: " + scalar_or_empty(want_signals[i], "rule") +
                  ", entity: " + scalar_or_empty(want_signals[i], "entity") +
                  ", trigger: " + scalar_or_empty(want_signals[i], "trigger") + "}");
    }
    const YAML::Node want_alerts = tc["alerts"];
    const size_t n_alerts = want_alerts ? want_alerts.size() : 0;
    for (size_t i = 0; i < std::min(n_alerts, captured.alerts.size()); ++i) {
      runner.compare_alert(i, want_alerts[i], captured.alerts[i]);
    }
    for (size_t i = n_alerts; i < captured.alerts.size(); ++i) {
      runner.fail("unexpected alert " + std::to_string(i + 1) + " " + describe(captured.alerts[i]));
    }
    for (size_t i = captured.alerts.size(); i < n_alerts; ++i) {
      runner.fail("missing alert " + std::to_string(i + 1) +
                  " {typology: " + scalar_or_empty(want_alerts[i], "typology") +
                  ", entity: " + scalar_or_empty(want_alerts[i], "entity") + "}");
    }
    if (report.failures.size() == failures_before && report.errors.empty()) ++report.passed;
  }
  return report;
}

}  // namespace corridor::rules
