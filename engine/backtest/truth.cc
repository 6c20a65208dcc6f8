#include "engine/backtest/truth.h"

#include <simdjson.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "connectors/csv/csv.h"

namespace corridor::backtest {
namespace {

[[noreturn]] void fail(const std::string& path, uint64_t line, const std::string& what) {
  throw TruthError(path + ":" + std::to_string(line) + ": " + what);
}

std::ifstream open(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TruthError(path + ": cannot read the truth file");
  return in;
}

}  // namespace

bool TruthInstance::includes_pattern(std::string_view p) const noexcept {
  if (pattern == kAnything) return true;
  std::string_view rest = pattern;
  while (!rest.empty()) {
    const size_t plus = rest.find('+');
    if (rest.substr(0, plus) == p) return true;
    if (plus == std::string_view::npos) break;
    rest.remove_prefix(plus + 1);
  }
  return false;
}

bool TruthInstance::expects_pattern(std::string_view p) const noexcept {
  if (lookalike()) return false;
  if (!expect_patterns) return variant == "fire" && includes_pattern(p);
  return std::find(expect_patterns->begin(), expect_patterns->end(), p) != expect_patterns->end();
}

bool TruthInstance::near_miss_of(std::string_view p) const noexcept {
  return near_miss() && includes_pattern(p) && !expects_pattern(p);
}

void Truth::index() {
  by_entity.clear();
  for (uint32_t i = 0; i < instances.size(); ++i) {
    for (const std::string& e : instances[i].entities) {
      std::vector<uint32_t>& list = by_entity[e];
      if (list.empty() || list.back() != i) list.push_back(i);  // an entity twice in one instance
    }
  }
}

Truth load_truth_file(const std::string& path) {
  std::ifstream in = open(path);
  std::ostringstream text;
  text << in.rdbuf();
  return parse_truth(text.str(), path);
}

Truth parse_truth(std::string_view text, const std::string& path) {
  Truth truth;
  truth.source = path;
  truth.format = "synthetic";
  simdjson::dom::parser parser;
  uint64_t number = 0;
  while (!text.empty()) {
    ++number;
    const size_t end = text.find('\n');
    const std::string line(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    simdjson::dom::object o;
    if (parser.parse(line).get_object().get(o) != simdjson::SUCCESS) {
      fail(path, number, "not a JSON object");
    }
    TruthInstance t;
    auto field = [&](const char* key, std::string& out, bool required) {
      std::string_view v;
      const auto e = o[key].get_string().get(v);
      if (e == simdjson::SUCCESS) {
        out.assign(v);
      } else if (required || e != simdjson::NO_SUCH_FIELD) {
        fail(path, number, std::string("`") + key + "` must be a string");
      }
    };
    field("scenario", t.scenario, true);
    field("pattern", t.pattern, true);
    field("typology", t.typology, true);
    field("variant", t.variant, true);
    field("subject", t.subject, false);
    field("note", t.note, false);
    if (t.variant != "fire" && t.variant != "near_miss" && t.variant != "lookalike") {
      fail(path, number, "`variant` must be fire, near_miss or lookalike, not '" + t.variant + "'");
    }
    bool expect = false;
    const auto e = o["expect_alert"].get_bool().get(expect);
    if (e != simdjson::SUCCESS && e != simdjson::NO_SUCH_FIELD) {
      fail(path, number, "`expect_alert` must be true or false");
    }
    t.expect_alert = expect;
    simdjson::dom::array patterns;
    const auto pe = o["expect_patterns"].get_array().get(patterns);
    if (pe == simdjson::SUCCESS) {
      t.expect_patterns.emplace();
      for (simdjson::dom::element p : patterns) {
        std::string_view v;
        if (p.get_string().get(v) != simdjson::SUCCESS) {
          fail(path, number, "`expect_patterns` must be an array of pattern names");
        }
        t.expect_patterns->emplace_back(v);
      }
    } else if (pe != simdjson::NO_SUCH_FIELD) {
      fail(path, number, "`expect_patterns` must be an array of pattern names");
    }
    simdjson::dom::array entities;
    if (o["entities"].get_array().get(entities) != simdjson::SUCCESS) {
      fail(path, number, "`entities` must be an array of {role, id}");
    }
    for (simdjson::dom::element en : entities) {
      std::string_view id;
      if (en["id"].get_string().get(id) != simdjson::SUCCESS) {
        fail(path, number, "every entry of `entities` needs an `id` string");
      }
      t.entities.emplace_back(id);
    }
    if (t.entities.empty() && !t.subject.empty()) t.entities.push_back(t.subject);
    truth.instances.push_back(std::move(t));
  }
  truth.index();
  return truth;
}

Truth load_truth_labels(const std::string& path, const std::string& id_column,
                        const std::string& label_column) {
  std::ifstream in = open(path);
  Truth truth;
  truth.source = path;
  truth.format = "labels";
  std::string line, scratch;
  std::vector<std::string_view> cells;
  if (!std::getline(in, line)) fail(path, 1, "empty file: expected a header line");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (!connectors::csv::split_row(line, ',', cells, scratch)) fail(path, 1, "unbalanced quote");
  size_t id_at = cells.size(), label_at = cells.size();
  for (size_t i = 0; i < cells.size(); ++i) {
    if (cells[i] == id_column) id_at = i;
    if (cells[i] == label_column) label_at = i;
  }
  if (id_at == cells.size()) fail(path, 1, "no column '" + id_column + "' in the header");
  if (label_at == cells.size()) fail(path, 1, "no column '" + label_column + "' in the header");
  uint64_t number = 1;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (!connectors::csv::split_row(line, ',', cells, scratch)) {
      fail(path, number, "unbalanced quote");
    }
    if (cells.size() <= std::max(id_at, label_at)) {
      fail(path, number,
           "expected " + std::to_string(std::max(id_at, label_at) + 1) +
               " columns or more, found " + std::to_string(cells.size()));
    }
    const std::string_view label = cells[label_at];
    bool bad;
    if (label == "1" || label == "true" || label == "True" || label == "TRUE") {
      bad = true;
    } else if (label == "0" || label == "false" || label == "False" || label == "FALSE" ||
               label.empty()) {
      bad = false;
    } else {
      fail(path, number,
           "`" + label_column + "` must be 0/1 or true/false, not '" + std::string(label) + "'");
    }
    if (!bad) continue;
    TruthInstance t;
    t.subject.assign(cells[id_at]);
    t.scenario = label_column + ":" + t.subject;
    t.pattern = std::string(kAnything);
    t.typology = std::string(kAnything);
    t.variant = "fire";
    t.expect_alert = true;
    t.entities.push_back(t.subject);
    truth.instances.push_back(std::move(t));
  }
  truth.index();
  return truth;
}

}  // namespace corridor::backtest
