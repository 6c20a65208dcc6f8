#include "rules/eval/cloudevents.h"

#include "engine/event/json_text.h"
#include "engine/event/timestamp.h"

namespace corridor::rules {
namespace {

using event::append_json_string;

void field(std::string& out, std::string_view name, std::string_view value, bool first = false) {
  if (!first) out.push_back(',');
  append_json_string(out, name);
  out.push_back(':');
  append_json_string(out, value);
}

void number_field(std::string& out, std::string_view name, uint64_t value) {
  out.push_back(',');
  append_json_string(out, name);
  out.push_back(':');
  out += std::to_string(value);
}

void string_array(std::string& out, std::string_view name, const std::vector<std::string>& values) {
  out.push_back(',');
  append_json_string(out, name);
  out += ":[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    append_json_string(out, values[i]);
  }
  out.push_back(']');
}

void envelope(std::string& out, std::string_view id, std::string_view type, int64_t ts_ms,
              std::string_view subject) {
  out += "{\"specversion\":\"1.0\"";
  field(out, "id", id);
  field(out, "source", "urn:corridor:engine");
  field(out, "type", type);
  out += ",\"time\":\"";
  event::append_rfc3339(out, ts_ms);
  out.push_back('"');
  field(out, "subject", subject);
  field(out, "datacontenttype", "application/json");
  field(out, "dataschema", kDataSchema);
}

void trailer(std::string& out, const OutputContext& c, const Origin& o,
             std::string_view trigger_event_id) {
  out += ",\"trigger\":{";
  field(out, "event_id", trigger_event_id, true);
  field(out, "source", o.source);
  number_field(out, "line", o.line);
  number_field(out, "offset", o.offset);
  out.push_back('}');
  field(out, "config_hash", c.config_hash);
  field(out, "rules_hash", c.rules_hash);
}

std::string_view role_name(Role r) { return r == Role::primary ? "primary" : "contributor"; }

}  // namespace

void append_signal_json(std::string& out, const Signal& s, const OutputContext& c,
                        const Origin& o) {
  const Rule& r = *s.rule;
  envelope(out, s.id, kSignalType, s.ts_ms, s.entity);
  out += ",\"data\":{";
  field(out, "kind", "signal", true);
  out += ",\"rule\":{";
  field(out, "id", r.id, true);
  number_field(out, "version", r.version);
  field(out, "title", r.title);
  field(out, "pattern", r.pattern);
  field(out, "typology", r.typology);
  field(out, "role", role_name(r.role));
  out.push_back('}');
  field(out, "severity", severity_name(s.severity));
  number_field(out, "weight", r.weight);
  field(out, "entity", s.entity);
  field(out, "key", s.key);
  field(out, "key_spec", r.key.text);
  if (!s.direction.empty()) field(out, "direction", s.direction);
  out += ",\"window\":{\"start\":\"";
  event::append_rfc3339(out, s.window_start_ms);
  out += "\",\"end\":\"";
  event::append_rfc3339(out, s.window_end_ms);
  out += "\"";
  // The rule's window; for a sequence, the completing episode's span (its `within` bounds
  // each step, not the whole).
  number_field(out, "length_ms", static_cast<uint64_t>(s.window_end_ms - s.window_start_ms));
  out.push_back('}');
  out += ",\"values\":{";
  for (size_t i = 0; i < s.values.size(); ++i)
    field(out, s.values[i].first, s.values[i].second, i == 0);
  out.push_back('}');
  field(out, "explanation", s.explanation);
  string_array(out, "evidence", s.evidence);
  trailer(out, c, o, s.trigger_event_id);
  out += "}}";
}

void append_alert_json(std::string& out, const Alert& a, const OutputContext& c, const Origin& o) {
  const Typology& t = *a.typology;
  envelope(out, a.id, kAlertType, a.ts_ms, a.entity);
  out += ",\"data\":{";
  field(out, "kind", "alert", true);
  out += ",\"typology\":{";
  field(out, "id", t.id, true);
  number_field(out, "version", t.version);
  field(out, "title", t.title);
  number_field(out, "threshold", t.threshold);
  number_field(out, "horizon_ms", static_cast<uint64_t>(t.horizon_ms));
  out.push_back('}');
  field(out, "severity", severity_name(a.severity));
  number_field(out, "score", a.score);
  field(out, "entity", a.entity);
  out += ",\"signals\":[";
  for (size_t i = 0; i < a.contributions.size(); ++i) {
    const Contribution& h = a.contributions[i];
    if (i > 0) out.push_back(',');
    out.push_back('{');
    field(out, "id", h.signal_id, true);
    field(out, "rule", h.rule_id);
    field(out, "pattern", h.pattern);
    field(out, "role", role_name(h.role));
    number_field(out, "weight", h.weight);
    out += ",\"time\":\"";
    event::append_rfc3339(out, h.ts_ms);
    out += "\"}";
  }
  out.push_back(']');
  field(out, "explanation", a.explanation);
  string_array(out, "evidence", a.evidence);
  trailer(out, c, o, a.trigger_event_id);
  out += "}}";
}

void CloudEventWriter::on_signal(const Signal& s) {
  if (signals_ == nullptr) return;
  line_.clear();
  append_signal_json(line_, s, context_, origin_);
  signals_->write(line_, s.entity);
}

void CloudEventWriter::on_alert(const Alert& a) {
  if (alerts_ == nullptr) return;
  line_.clear();
  append_alert_json(line_, a, context_, origin_);
  alerts_->write(line_, a.entity);
}

}  // namespace corridor::rules
