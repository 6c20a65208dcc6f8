#include "engine/backtest/report.h"

#include <algorithm>
#include <cstdio>
#include <ostream>

#include "engine/event/json_text.h"
#include "engine/event/timestamp.h"

namespace corridor::backtest {
namespace {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// 0.4040 -> 0.404; 1.0000 -> 1
std::string trimmed(double v) {
  std::string s = fixed(v, 4);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::string day_name(int64_t day) { return event::format_rfc3339(day * kDayMs).substr(0, 10); }

// ---------------------------------------------------------------- JSON

class Json {
 public:
  explicit Json(std::string& out) : out_(out) {}
  Json& key(std::string_view k) {
    comma();
    event::append_json_string(out_, k);
    out_ += ':';
    fresh_ = true;
    return *this;
  }
  Json& str(std::string_view v) {
    comma();
    event::append_json_string(out_, v);
    return *this;
  }
  Json& raw(std::string_view v) {
    comma();
    out_ += v;
    return *this;
  }
  Json& num(uint64_t v) { return raw(std::to_string(v)); }
  Json& ratio(const std::optional<double>& v) { return raw(v ? trimmed(*v) : "null"); }
  Json& open(char c) {
    comma();
    out_ += c;
    fresh_ = true;
    return *this;
  }
  Json& close(char c) {
    out_ += c;
    fresh_ = false;
    return *this;
  }
  template <typename Range>
  Json& strings(const Range& r) {
    open('[');
    for (const auto& s : r) str(s);
    return close(']');
  }

 private:
  void comma() {
    if (!fresh_) out_ += ',';
    fresh_ = false;
  }
  std::string& out_;
  bool fresh_ = true;
};

void instances_json(Json& j, const InstanceFigures& f) {
  j.key("instances").num(f.instances).key("detected").num(f.detected);
  j.key("missed").strings(f.missed);
  j.key("near_misses").num(f.near_misses).key("near_misses_flagged").num(f.near_misses_flagged);
}

void figures_json(Json& j, const Figures& f) {
  j.key("flagged").num(f.flagged).key("tp").num(f.tp).key("fp").num(f.fp);
  j.key("fp_reasons").open('{');
  j.key("lookalike").num(f.fp_lookalike).key("other_typology").num(f.fp_other_typology);
  j.key("background").num(f.fp_background).close('}');
  instances_json(j, f);
  j.key("precision").ratio(f.precision).key("recall").ratio(f.recall).key("f1").ratio(f.f1);
  j.key("per_day").open('[');
  for (uint64_t n : f.per_day) j.num(n);
  j.close(']');
}

void scores_json(Json& j, const std::vector<std::pair<uint32_t, uint64_t>>& scores) {
  j.open('[');
  for (const auto& [score, n] : scores) j.open('[').num(score).num(n).close(']');
  j.close(']');
}

void diffs_json(Json& j, const std::vector<AlertDiff>& diffs) {
  j.open('[');
  for (const AlertDiff& d : diffs) {
    j.open('{').key("typology").str(d.typology).key("entity").str(d.entity);
    j.key("first_alert").str(event::format_rfc3339(d.first.ts_ms)).key("score").num(d.first.score);
    j.key("truth").str(verdict_name(d.verdict)).close('}');
  }
  j.close(']');
}

// ---------------------------------------------------------------- table

// Columns padded to their widest cell: the first left-aligned, the others right-aligned.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  void print(std::ostream& out) const {
    std::vector<size_t> width(rows_[0].size(), 0);
    for (const auto& r : rows_) {
      for (size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
    }
    for (const auto& r : rows_) {
      std::string line;
      for (size_t c = 0; c < r.size(); ++c) {
        const std::string pad(width[c] - r[c].size(), ' ');
        line += c == 0 ? r[c] + pad : "  " + pad + r[c];
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out << line << '\n';
    }
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

std::string shown(const std::optional<double>& v) { return v ? fixed(*v, 2) : "-"; }

std::string thousands(uint64_t v) {
  const std::string digits = std::to_string(v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string fp_cell(const Figures& f) {
  if (f.fp == 0) return "0";
  return std::to_string(f.fp) + " (" + std::to_string(f.fp_lookalike) + "/" +
         std::to_string(f.fp_other_typology) + "/" + std::to_string(f.fp_background) + ")";
}

std::vector<std::string> figure_cells(const std::string& name, const Figures& f) {
  return {name,
          std::to_string(f.emitted),
          std::to_string(f.flagged),
          std::to_string(f.tp),
          fp_cell(f),
          std::to_string(f.instances),
          std::to_string(f.detected),
          std::to_string(f.near_misses_flagged) + "/" + std::to_string(f.near_misses),
          shown(f.precision),
          shown(f.recall),
          shown(f.f1)};
}

void print_list(std::ostream& out, const std::string& title, const std::vector<std::string>& ids) {
  if (ids.empty()) return;
  out << "  " << title << ":";
  const size_t shown_max = 12;
  for (size_t i = 0; i < ids.size() && i < shown_max; ++i) out << (i == 0 ? " " : ", ") << ids[i];
  if (ids.size() > shown_max) out << ", ... (" << ids.size() - shown_max << " more)";
  out << '\n';
}

}  // namespace

int64_t Report::first_day() const noexcept {
  return input.first_ms <= input.last_ms ? day_of(input.first_ms) : 0;
}

size_t Report::days() const noexcept {
  if (input.first_ms > input.last_ms) return 0;
  return static_cast<size_t>(day_of(input.last_ms) - day_of(input.first_ms) + 1);
}

std::vector<AlertDiff> only_in(const RunReport& a, const RunReport& b, const Truth& truth) {
  std::vector<AlertDiff> out;
  for (const auto& [typology, flagged] : a.alerted) {  // pack order
    const std::unordered_map<std::string, FirstFlag>* other = nullptr;
    for (const auto& [t, f] : b.alerted) {
      if (t == typology) other = &f;
    }
    const size_t from = out.size();
    for (const auto& [entity, first] : flagged) {
      if (other != nullptr && other->contains(entity)) continue;
      out.push_back(AlertDiff{typology, entity, first, classify(truth, entity, typology)});
    }
    // Within a typology by time of the first alert, then entity: not hash order.
    std::sort(out.begin() + static_cast<ptrdiff_t>(from), out.end(),
              [](const AlertDiff& x, const AlertDiff& y) {
                return x.first.ts_ms != y.first.ts_ms ? x.first.ts_ms < y.first.ts_ms
                                                      : x.entity < y.entity;
              });
  }
  return out;
}

void append_report_json(std::string& out, const Report& report) {
  Json j(out);
  const int64_t first_day = report.first_day();
  j.open('{');
  j.key("report").str("corridor.backtest.v1").key("corridor").str(report.corridor);
  const InputSummary& in = report.input;
  j.key("input").open('{').key("description").str(in.description);
  j.key("records").num(in.records).key("decoded").num(in.decoded);
  j.key("dead_lettered").num(in.dead_lettered);
  const bool any = in.first_ms <= in.last_ms;
  j.key("first_event").raw(any ? "\"" + event::format_rfc3339(in.first_ms) + "\"" : "null");
  j.key("last_event").raw(any ? "\"" + event::format_rfc3339(in.last_ms) + "\"" : "null");
  j.key("days").open('[');
  for (size_t d = 0; d < report.days(); ++d) j.str(day_name(first_day + static_cast<int64_t>(d)));
  j.close(']').close('}');

  const Truth& truth = *report.truth;
  j.key("truth").open('{').key("source").str(truth.source).key("format").str(truth.format);
  j.key("instances").num(truth.instances.size());
  j.key("lookalikes")
      .num(std::count_if(truth.instances.begin(), truth.instances.end(),
                         [](const TruthInstance& i) { return i.lookalike(); }));
  j.close('}');

  j.key("runs").open('[');
  for (const RunReport& r : report.runs) {
    j.open('{').key("label").str(r.label).key("config").str(r.config);
    j.key("config_hash").str(r.config_hash).key("rules_hash").str(r.rules_hash);
    j.key("seconds").raw(fixed(r.seconds, 2));
    j.key("events_per_second").raw(fixed(r.seconds > 0 ? r.events / r.seconds : 0, 0));
    j.key("signals").num(r.signals).key("alerts").num(r.alerts);
    j.key("typologies").open('[');
    for (const TypologyFigures& t : r.figures.typologies) {
      j.open('{').key("id").str(t.id).key("title").str(t.title).key("threshold").num(t.threshold);
      j.key("alerts").num(t.emitted);
      figures_json(j, t);
      j.key("scores").open('{').key("positive");
      scores_json(j, t.positive_scores);
      j.key("negative");
      scores_json(j, t.negative_scores);
      j.close('}').close('}');
    }
    j.close(']');
    j.key("rules").open('[');
    for (const RuleFigures& f : r.figures.rules) {
      j.open('{').key("id").str(f.id).key("title").str(f.title).key("pattern").str(f.pattern);
      j.key("typology").str(f.typology).key("role").str(f.role).key("signals").num(f.emitted);
      figures_json(j, f);
      j.close('}');
    }
    j.close(']');
    j.key("patterns").open('[');
    for (const PatternFigures& f : r.figures.patterns) {
      j.open('{').key("pattern").str(f.pattern).key("rules").strings(f.rules);
      instances_json(j, f);
      j.key("recall").ratio(f.recall).close('}');
    }
    j.close(']');
    j.key("lookalikes").open('[');
    for (const LookalikeFlags& l : r.figures.lookalikes) {
      j.open('{').key("scenario").str(l.instance->scenario).key("pattern").str(l.instance->pattern);
      j.key("subject").str(l.instance->subject).key("note").str(l.instance->note);
      j.key("flagged_by").strings(l.flagged_by).close('}');
    }
    j.close(']').close('}');
  }
  j.close(']');

  j.key("comparison");
  if (report.runs.size() == 2) {
    const RunReport& a = report.runs[0];
    const RunReport& b = report.runs[1];
    j.open('{').key("a").str(a.label).key("b").str(b.label);
    j.key("only_a");
    diffs_json(j, only_in(a, b, truth));
    j.key("only_b");
    diffs_json(j, only_in(b, a, truth));
    j.close('}');
  } else {
    j.raw("null");
  }
  j.close('}');
  out += '\n';
}

void print_report_table(std::ostream& out, const Report& report) {
  const InputSummary& in = report.input;
  out << "input: " << in.description << ": " << thousands(in.records) << " records, "
      << thousands(in.decoded) << " decoded, " << thousands(in.dead_lettered) << " dead-lettered";
  if (in.first_ms <= in.last_ms) {
    out << "; " << day_name(day_of(in.first_ms)) << " to " << day_name(day_of(in.last_ms)) << " ("
        << report.days() << " days)";
  }
  out << "\ntruth: " << report.truth->source << " (" << report.truth->format << ", "
      << report.truth->instances.size() << " instances)\n";
  const std::vector<std::string> columns = {"instances", "detected", "near misses",
                                            "precision", "recall",   "F1"};
  for (const RunReport& r : report.runs) {
    out << "\nrun " << r.label << ": " << r.config << " (rules " << r.rules_hash << "), "
        << thousands(r.signals) << " signals, " << thousands(r.alerts) << " alerts, "
        << fixed(r.seconds, 1) << " s, "
        << thousands(static_cast<uint64_t>(r.seconds > 0 ? r.events / r.seconds : 0))
        << " events/s\n\n";
    std::vector<std::string> header = {"typology", "alerts", "flagged", "TP", "FP (l/o/b)"};
    header.insert(header.end(), columns.begin(), columns.end());
    Table typologies(header);
    for (const TypologyFigures& t : r.figures.typologies) typologies.row(figure_cells(t.id, t));
    typologies.print(out);
    for (const TypologyFigures& t : r.figures.typologies)
      print_list(out, t.id + " missed", t.missed);
    out << '\n';
    header = {"rule", "pattern", "signals", "flagged", "TP", "FP (l/o/b)"};
    header.insert(header.end(), columns.begin(), columns.end());
    Table rules(header);
    for (const RuleFigures& f : r.figures.rules) {
      std::vector<std::string> cells = figure_cells(f.id, f);
      cells.insert(cells.begin() + 1, f.pattern.empty() ? "-" : f.pattern);
      rules.row(std::move(cells));
    }
    rules.print(out);
    if (!r.figures.patterns.empty()) out << '\n';
    Table patterns({"pattern", "rules", "instances", "detected", "near misses", "recall"});
    for (const PatternFigures& f : r.figures.patterns) {
      patterns.row({f.pattern, std::to_string(f.rules.size()), std::to_string(f.instances),
                    std::to_string(f.detected),
                    std::to_string(f.near_misses_flagged) + "/" + std::to_string(f.near_misses),
                    shown(f.recall)});
    }
    if (!r.figures.patterns.empty()) patterns.print(out);
    for (const PatternFigures& f : r.figures.patterns) {
      print_list(out, f.pattern + " missed", f.missed);
    }
    size_t quiet = 0;
    std::vector<std::string> loud;
    for (const LookalikeFlags& l : r.figures.lookalikes) {
      if (l.flagged_by.empty()) {
        ++quiet;
        continue;
      }
      std::string by;
      for (const std::string& id : l.flagged_by) by += (by.empty() ? "" : " ") + id;
      loud.push_back(l.instance->scenario + " (" + by + ")");
    }
    if (!r.figures.lookalikes.empty()) {
      out << "\nlook-alikes: " << r.figures.lookalikes.size() << ", " << quiet << " quiet\n";
    }
    print_list(out, "flagged", loud);
  }
  out << "\nFP (l/o/b): false positives in a look-alike / in a scenario of another typology / "
         "in no scenario. Near misses: flagged/all.\n";
  if (report.runs.size() == 2) {
    const RunReport& a = report.runs[0];
    const RunReport& b = report.runs[1];
    for (const auto& [x, y] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
      const std::vector<AlertDiff> diffs = only_in(*x, *y, *report.truth);
      const auto tp = std::count_if(diffs.begin(), diffs.end(),
                                    [](const AlertDiff& d) { return d.verdict == Verdict::tp; });
      out << "\nalerts only " << x->label << " raised: " << diffs.size() << " (" << tp
          << " true positives)\n";
      for (size_t i = 0; i < diffs.size() && i < 20; ++i) {
        const AlertDiff& d = diffs[i];
        out << "  " << d.typology << "  " << d.entity << "  "
            << event::format_rfc3339(d.first.ts_ms) << "  score " << d.first.score << "  "
            << verdict_name(d.verdict) << '\n';
      }
      if (diffs.size() > 20) out << "  ... (" << diffs.size() - 20 << " more in --json)\n";
    }
  }
}

}  // namespace corridor::backtest
