// Loading rule packs: YAML to Rule and Typology, with every problem located.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "engine/config/engine_config.h"
#include "engine/config/yaml_reader.h"
#include "engine/event/money.h"
#include "rules/lang/ast.h"
#include "rules/model/rule.h"
#include "rules/model/rule_scope.h"

namespace corridor::rules {

std::string_view severity_name(Severity s) noexcept {
  switch (s) {
    case Severity::low:
      return "low";
    case Severity::medium:
      return "medium";
    case Severity::high:
      return "high";
    case Severity::critical:
      return "critical";
  }
  return "unknown";
}

namespace {

namespace fs = std::filesystem;
using config::Diagnostic;
using config::YamlReader;
using lang::Type;

constexpr int kBucketsPerWindow = 48;

// `message` reported where a caller names something (PackLoadOptions::named_at,
// table_named_at), after the name of that entry ("rules.packs[1]: ...").
Diagnostic at_site(Diagnostic site, const std::string& message) {
  site.message += ": " + message;
  return site;
}

// Where byte `offset` of a scalar's value lies in the file, for errors inside expressions.
// Offsets count bytes of the value as YAML delivers it: quotes and escapes removed, lines
// folded, block indentation stripped. The raw text is walked the same way, so the column
// points at the offending token whatever the scalar's style. An offset at or past the end
// of the value (a missing operand) points just after its last non-blank character.
class ScalarLocator {
 public:
  ScalarLocator(const std::string& file, const YAML::Node& node)
      : file_(file), value_(node.Scalar()) {
    const YAML::Mark m = node.Mark();
    mark_ = m;
    // The mark's line and column, not its byte position: robust to a byte-order mark.
    size_t p = 0;
    for (int line = 0; line < m.line && p != std::string::npos; ++line) {
      p = file_.find('\n', p);
      if (p != std::string::npos) ++p;
    }
    if (m.line < 0 || p == std::string::npos || p + static_cast<size_t>(m.column) >= file_.size()) {
      valid_ = false;
      return;
    }
    line_start_ = p;
    start_ = p + static_cast<size_t>(m.column);
    // yaml-cpp marks a tagged or anchored scalar at its tag or anchor: skip those.
    while (start_ < file_.size() && (file_[start_] == '!' || file_[start_] == '&')) {
      while (start_ < file_.size() && !is_blank(file_[start_])) ++start_;
      while (start_ < file_.size() && (file_[start_] == ' ' || file_[start_] == '\t')) ++start_;
    }
    if (start_ >= file_.size() || is_break(file_[start_])) {
      valid_ = false;
      return;
    }
    column_ = mark_.column + static_cast<int>(start_ - (p + static_cast<size_t>(m.column)));
  }

  YAML::Mark at(uint32_t offset) {
    if (!valid_ || value_.empty()) return mark_;
    size_t want = offset;
    bool after = false;
    if (want >= value_.size()) {
      want = value_.size() - 1;
      while (want > 0 && is_blank(value_[want])) --want;
      after = true;
    }
    map(want + 1);
    if (positions_.size() <= want) return mark_;  // the walk lost its way: the scalar's start
    YAML::Mark out = mark_;
    out.line = positions_[want].line;
    out.column = positions_[want].column + (after ? 1 : 0);
    return out;
  }

 private:
  struct Pos {
    int line;
    int column;
  };

  static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
  static bool is_break(char c) { return c == '\n' || c == '\r'; }

  void emit(size_t count = 1) {
    for (size_t k = 0; k < count; ++k) positions_.push_back({line_, col_});
  }
  void step() {  // past one raw character on the current line
    ++i_;
    ++col_;
  }
  void next_line() {  // past a line break (\n, \r\n or \r)
    if (file_[i_] == '\r' && i_ + 1 < file_.size() && file_[i_ + 1] == '\n') ++i_;
    ++i_;
    ++line_;
    col_ = 0;
  }
  bool done(size_t need) const { return positions_.size() >= need || i_ >= file_.size(); }

  // Flow scalars (plain, '...', "..."): a line break and the blanks around it fold to one
  // space, or to one newline per empty line in between.
  void fold() {
    while (trailing_blanks_ > 0 && !positions_.empty()) {
      positions_.pop_back();
      --trailing_blanks_;
    }
    const Pos at{line_, col_};
    int empty_lines = 0;
    next_line();
    while (i_ < file_.size()) {
      while (i_ < file_.size() && (file_[i_] == ' ' || file_[i_] == '\t')) step();
      if (i_ < file_.size() && is_break(file_[i_])) {
        ++empty_lines;
        next_line();
        continue;
      }
      break;
    }
    if (empty_lines == 0) {
      positions_.push_back(at);
    } else {
      for (int k = 0; k < empty_lines; ++k) positions_.push_back(at);
    }
  }

  static size_t utf8_length(uint32_t cp) {
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }

  void map(size_t need) {
    if (positions_.size() >= need) return;
    positions_.clear();
    i_ = start_;
    line_ = mark_.line;
    col_ = column_;
    trailing_blanks_ = 0;
    const char first = file_[i_];
    if (first == '|' || first == '>') return map_block(need, first == '>');
    const char quote = first == '"' || first == '\'' ? first : 0;
    if (quote != 0) step();
    while (!done(need)) {
      const char c = file_[i_];
      if (is_break(c)) {
        fold();
        continue;
      }
      if (quote == '\'' && c == '\'') {
        if (i_ + 1 < file_.size() && file_[i_ + 1] == '\'') {  // '' is one quote
          emit();
          step();
          step();
          trailing_blanks_ = 0;
          continue;
        }
        return;
      }
      if (quote == '"' && c == '"') return;
      if (quote == '"' && c == '\\' && i_ + 1 < file_.size()) {
        const char e = file_[i_ + 1];
        if (is_break(e)) {  // an escaped line break: the value continues without a space
          step();
          next_line();
          while (i_ < file_.size() && (file_[i_] == ' ' || file_[i_] == '\t')) step();
          trailing_blanks_ = 0;
          continue;
        }
        size_t hex = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
        size_t bytes = e == 'N' || e == '_' ? 2 : e == 'L' || e == 'P' ? 3 : 1;
        if (hex > 0 && i_ + 2 + hex <= file_.size()) {
          bytes = utf8_length(
              static_cast<uint32_t>(std::strtoul(file_.substr(i_ + 2, hex).c_str(), nullptr, 16)));
        } else {
          hex = 0;
        }
        emit(bytes);
        for (size_t k = 0; k < 2 + hex; ++k) step();
        trailing_blanks_ = 0;
        continue;
      }
      emit();
      trailing_blanks_ = (c == ' ' || c == '\t') ? trailing_blanks_ + 1 : 0;
      step();
    }
  }

  // Block scalars: content starts on the line after the header, at the indentation of its
  // first non-empty line. Literal (|) keeps line breaks; folded (>) turns a single break
  // between two ordinary lines into a space.
  void map_block(size_t need, bool folded) {
    // An indentation indicator (|2) counts from the indentation of the mapping holding the
    // scalar: that of its key, after any "- " of a sequence entry.
    size_t explicit_indent = 0;
    for (size_t h = i_ + 1; h < file_.size() && h < i_ + 3; ++h) {
      if (file_[h] >= '1' && file_[h] <= '9') {
        size_t parent = line_start_;
        while (parent < file_.size() && (file_[parent] == ' ' || file_[parent] == '-')) ++parent;
        explicit_indent = parent - line_start_ + static_cast<size_t>(file_[h] - '0');
      }
    }
    while (i_ < file_.size() && !is_break(file_[i_])) step();  // header and any comment
    if (i_ >= file_.size()) return;
    next_line();
    // The indentation: that of the first line holding more than spaces.
    size_t indent = explicit_indent;
    for (size_t p = i_; p < file_.size() && explicit_indent == 0;) {
      size_t k = 0;
      while (p + k < file_.size() && file_[p + k] == ' ') ++k;
      if (p + k < file_.size() && is_break(file_[p + k])) {
        p = file_.find('\n', p + k);
        if (p == std::string::npos) break;
        ++p;
        continue;
      }
      indent = k;
      break;
    }
    if (indent == 0) return;
    bool previous_ordinary = false;  // the last non-empty line was not more-indented
    int pending_empty = 0;
    bool first_line = true;
    while (!done(need)) {
      size_t k = 0;
      while (i_ + k < file_.size() && file_[i_ + k] == ' ' && k < indent) ++k;
      const size_t content = i_ + k;
      const bool empty = content >= file_.size() || is_break(file_[content]);
      if (!empty && k < indent) return;  // a less indented line ends the scalar
      for (size_t s = 0; s < k; ++s) step();
      if (empty) {
        ++pending_empty;
        if (!folded) emit();  // literal: every empty line is a newline
        if (i_ >= file_.size()) return;
        next_line();
        continue;
      }
      const bool ordinary = file_[content] != ' ' && file_[content] != '\t';
      if (folded && first_line) {
        for (int e = 0; e < pending_empty; ++e) emit();  // leading empty lines stay newlines
      } else if (folded) {
        // The break ending the previous non-empty line (already counted as position
        // `break_at_`), then the empty lines.
        if (previous_ordinary && ordinary) {
          if (pending_empty == 0) {
            positions_.push_back(break_at_);
          } else {
            for (int e = 0; e < pending_empty; ++e) positions_.push_back(break_at_);
          }
        } else {
          for (int e = 0; e <= pending_empty; ++e) positions_.push_back(break_at_);
        }
      }
      pending_empty = 0;
      first_line = false;
      previous_ordinary = ordinary;
      while (i_ < file_.size() && !is_break(file_[i_]) && !done(need)) {
        emit();
        step();
      }
      if (done(need)) return;
      if (folded) {
        break_at_ = {line_, col_};
      } else {
        emit();
      }
      next_line();
    }
  }

  const std::string& file_;
  std::string value_;
  YAML::Mark mark_;
  bool valid_ = true;
  size_t line_start_ = 0;  // of the line the scalar starts on
  size_t start_ = 0;       // the scalar's first character (its quote or block indicator)
  int column_ = 0;         // start_'s column
  std::vector<Pos> positions_;
  size_t i_ = 0;
  int line_ = 0;
  int col_ = 0;
  size_t trailing_blanks_ = 0;
  Pos break_at_{0, 0};
};

YAML::Mark locate(const std::string& file_text, const YAML::Node& node, uint32_t offset) {
  return ScalarLocator(file_text, node).at(offset);
}

// A duration as an analyst would write it: 400d, 36h, 90m, 1500ms.
std::string duration_text(int64_t ms) {
  static constexpr std::pair<int64_t, const char*> kUnits[] = {
      {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}};
  for (const auto& [unit, suffix] : kUnits) {
    if (ms != 0 && ms % unit == 0) return std::to_string(ms / unit) + suffix;
  }
  return std::to_string(ms) + "ms";
}

// Where something was defined, for "already defined at ..." messages and late checks.
struct Site {
  std::string file;
  int line = 0;    // 1-based
  int column = 0;  // 1-based
  std::string text() const {
    return file + ":" + std::to_string(line) + ":" + std::to_string(column);
  }
};

// What the packs of one load share: names are global across them.
struct Sites {
  std::map<std::string, Site> rules;       // rule id -> its `id` value
  std::map<std::string, Site> typologies;  // typology id -> its `id` value
  std::map<std::string, Site> lists;       // list name -> its key
  std::map<std::string, Site> tables;      // table name -> its key
  // Lists and tables whose definitions failed to load (each with its own error): a rule
  // naming one is not reported again for it.
  std::set<std::string, std::less<>> failed_lists, failed_tables;
  struct TypologyRef {
    Site at;
    std::string id;
    std::string label;
  };
  std::vector<TypologyRef> typology_refs;  // checked once all packs are read
};

constexpr std::string_view kKeywords[] = {"and",     "or",    "not",  "in",
                                          "between", "where", "true", "false"};

// The lines of a list or table file that hold data: '#' starts a comment, blank lines are
// ignored, spaces around the text are removed.
struct DataLine {
  int line = 0;    // 1-based
  int column = 0;  // 1-based, of the text's first character
  std::string text;
};

std::vector<DataLine> data_lines(const std::string& content) {
  std::vector<DataLine> out;
  std::istringstream lines(content);
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (const size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
      line.pop_back();
    }
    size_t start = 0;
    while (start < line.size() && (line[start] == ' ' || line[start] == '\t')) ++start;
    if (start < line.size()) {
      out.push_back(DataLine{number, static_cast<int>(start) + 1, line.substr(start)});
    }
  }
  return out;
}

// Splits "BD, MY, 1000" at commas, trimming spaces around each cell.
std::vector<std::string> split_cells(std::string_view text) {
  std::vector<std::string> cells;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    std::string_view cell =
        text.substr(start, comma == std::string_view::npos ? comma : comma - start);
    while (!cell.empty() && (cell.front() == ' ' || cell.front() == '\t')) cell.remove_prefix(1);
    while (!cell.empty() && (cell.back() == ' ' || cell.back() == '\t')) cell.remove_suffix(1);
    cells.emplace_back(cell);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return cells;
}

class PackReader {
 public:
  // `hashed` collects the bytes of the list and table files read (for RuleSet::hash).
  PackReader(YamlReader& r, const std::string& text, RuleSet& set, Sites& sites,
             const PackLoadOptions& options, std::string& hashed)
      : r_(r),
        text_(text),
        set_(set),
        sites_(sites),
        table_files_(options.table_files),
        table_named_at_(options.table_named_at),
        hashed_(hashed),
        max_window_ms_(options.max_window_ms) {}

  // First pass over every pack: the pack's own keys and its lists, so that a rule may use a
  // list defined in any pack, whatever the load order. False when the root is no mapping.
  bool read_header(const YAML::Node& root) {
    if (!r_.expect_map(root, "rule pack",
                       {"pack", "version", "doc", "lists", "tables", "rules", "typologies"})) {
      return false;
    }
    if (const auto v = root["pack"]) {
      text_of(v, "pack");
    } else {
      r_.missing(root, "rule pack", "pack");
    }
    if (const auto v = root["doc"]) text_of(v, "doc");
    if (const auto v = root["version"]) {
      if (auto n = r_.integer(v, "version", 1, 1'000'000))
        pack_version_ = static_cast<uint32_t>(*n);
    }
    if (const auto v = root["lists"]) read_lists(v);
    if (const auto v = root["tables"]) read_tables(v);
    return true;
  }

  // Second pass: typologies and rules.
  void read_body(const YAML::Node& root) {
    if (const auto v = root["typologies"]) read_typologies(v);
    if (const auto v = root["rules"]) {
      read_rules(v);
    } else if (!root["typologies"]) {
      r_.missing(root, "rule pack", "rules");
    }
  }

 private:
  Site site(const YAML::Node& n) const {
    const YAML::Mark m = n.Mark();
    return Site{r_.file(), m.line + 1, m.column + 1};
  }

  std::optional<std::string> text_of(const YAML::Node& n, const std::string& what) {
    if (!n.IsScalar()) {
      r_.error(n, what + ": expected text, got " + std::string(config::node_type_name(n)));
      return std::nullopt;
    }
    return n.Scalar();
  }

  // The key node of `key` in `map` (which has it), for errors about the entry as a whole.
  static YAML::Node key_of(const YAML::Node& map, const std::string& key) {
    for (const auto& kv : map) {
      if (kv.first.Scalar() == key) return kv.first;
    }
    return map;
  }

  // Where an expression begins: operators are located at the operator, so go left.
  static uint32_t start_of(const lang::Node& node) {
    const lang::Node* n = &node;
    while ((n->kind == lang::NodeKind::binary || n->kind == lang::NodeKind::in ||
            n->kind == lang::NodeKind::between) &&
           !n->children.empty()) {
      n = n->children[0].get();
    }
    return n->offset;
  }

  void expression_error(const YAML::Node& n, const lang::CompileError& e, const std::string& what) {
    r_.error(locate(text_, n, e.offset), what + ": " + e.message);
  }

  // For each entry of the mapping `section` (lists, tables): read(name, what, value node)
  // builds its value (nothing after an error), stored in `into` under the name. Several
  // packs may each define the same name with the same contents (packs that share a list
  // file each declare it, so that each also loads alone): it is one list or table. A name
  // defined again with different contents is reported at its second definition.
  template <typename T, typename Read>
  void each_new_name(const YAML::Node& n, const std::string& section, const std::string& noun,
                     std::map<std::string, Site>& claimed, std::map<std::string, T>& into,
                     std::set<std::string, std::less<>>& failed, Read read) {
    if (!r_.expect_free_map(n, section)) return;
    std::set<std::string> here;
    for (const auto& kv : n) {
      const std::string name = kv.first.Scalar();
      const std::string what = section + "." + name;
      if (!here.insert(name).second) continue;  // a duplicate key: expect_free_map said so
      const auto it = claimed.find(name);
      if (it == claimed.end()) {
        claimed.emplace(name, site(kv.first));
        if (std::optional<T> value = read(name, what, kv.second)) {
          into[name] = std::move(*value);
        } else {
          failed.insert(name);
        }
        continue;
      }
      std::optional<T> value = read(name, what, kv.second);
      if (!value && into.find(name) == into.end()) failed.insert(name);
      const auto first = into.find(name);
      if (value && first != into.end() && !(*value == first->second)) {
        r_.error(kv.first, what + ": " + noun + " '" + name + "' is already defined at " +
                               it->second.text() + " with different contents");
      }
    }
  }

  // The data lines of the list or table file `file` names (relative to the pack's folder,
  // or absolute), and its path; nothing, with an error at `file`, when it cannot be read.
  std::optional<std::pair<std::string, std::vector<DataLine>>> data_file(const YAML::Node& file,
                                                                         const std::string& name,
                                                                         const std::string& what,
                                                                         const std::string& noun) {
    const fs::path dir = fs::path(r_.file()).parent_path();
    const fs::path path = fs::path(name).is_absolute() ? fs::path(name) : dir / name;
    std::string why;
    const std::optional<std::string> content = config::read_text_file(path.string(), why);
    if (!content) {
      r_.error(file, what + ": cannot read " + noun + " file " + path.string() + ": " + why);
      return std::nullopt;
    }
    hash_bytes(*content);
    return std::make_pair(path.string(), data_lines(*content));
  }

  // Length-prefixed, so files split differently cannot hash alike.
  void hash_bytes(const std::string& content) {
    hashed_ += std::to_string(content.size());
    hashed_ += '\n';
    hashed_ += content;
  }

  // tables:
  //   reporting_threshold:
  //     type: decimal            # decimal (default), integer or string
  //     keys: [jurisdiction]     # the key's parts: one, or two (origin, destination)
  //     default: 3000            # the value of a key not in the table (required)
  //     rows: [[US, 3000]]       # inline rows: the key's parts, then the value
  //     file: lists/x.csv        # or rows in a file, one per line: US, 3000
  void read_tables(const YAML::Node& n) {
    each_new_name(
        n, "tables", "table", sites_.tables, set_.tables, sites_.failed_tables,
        [&](const std::string& name, const std::string& what,
            const YAML::Node& t) -> std::optional<lang::LookupTable> {
          if (!r_.expect_map(t, what, {"type", "keys", "default", "rows", "file", "doc"})) {
            return std::nullopt;
          }
          const size_t errors_before = r_.error_count();
          lang::LookupTable table;
          if (const auto v = t["type"]) {
            if (auto type = r_.one_of(v, what + ".type", {"decimal", "integer", "string"})) {
              table.type = *type == "decimal"   ? lang::Type::decimal
                           : *type == "integer" ? lang::Type::integer
                                                : lang::Type::string;
            }
          }
          if (const auto v = t["keys"]) {
            if (r_.expect_sequence(v, what + ".keys")) {
              if (v.size() < 1 || v.size() > 2) {
                r_.error(
                    v, what +
                           ".keys: a key has one or two parts (e.g. [origin, destination]), got " +
                           std::to_string(v.size()));
              } else {
                table.key_parts = static_cast<uint32_t>(v.size());
                for (const auto& part : v) text_of(part, what + ".keys");
              }
            }
          } else {
            r_.missing(t, what, "keys");
          }
          if (const auto v = t["doc"]) text_of(v, what + ".doc");
          // Parses one value of the table's type; an error message, or empty when it is fine.
          const auto parse_value = [&](const std::string& text, lang::LookupTable::Row& row) {
            switch (table.type) {
              case lang::Type::decimal: {
                event::Money m;
                if (event::parse_money(text, m) != event::DecimalError::ok) {
                  return "expected a decimal number (at most 4 decimals), got '" + text + "'";
                }
                row.number = m.units;
                return std::string();
              }
              case lang::Type::integer: {
                int64_t x = 0;
                const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
                if (ec != std::errc() || end != text.data() + text.size()) {
                  return "expected an integer, got '" + text + "'";
                }
                row.number = x;
                return std::string();
              }
              default:
                row.text = text;
                return std::string();
            }
          };
          if (const auto v = t["default"]) {
            if (auto text = text_of(v, what + ".default")) {
              const std::string bad = parse_value(*text, table.fallback);
              if (!bad.empty()) r_.error(v, what + ".default: " + bad);
            }
          } else {
            r_.missing(t, what, "default");
          }
          const size_t width = table.key_parts + 1;
          std::map<std::pair<std::string, std::string>, std::string> seen;  // key -> where
          const auto add_row = [&](std::vector<std::string> cells,
                                   const std::function<void(const std::string&)>& fail,
                                   const std::string& where) {
            if (cells.size() != width) {
              fail("expected " + std::to_string(width) + " cells (" +
                   (table.key_parts == 2 ? "two key parts" : "the key") +
                   ", then the value), got " + std::to_string(cells.size()));
              return;
            }
            lang::LookupTable::Row row;
            for (size_t i = 0; i < table.key_parts; ++i) {
              if (cells[i].empty()) return fail("a key part is empty");
              row.key[i] = cells[i];
            }
            const std::string bad = parse_value(cells.back(), row);
            if (!bad.empty()) return fail(bad);
            const auto key = std::make_pair(row.key[0], row.key[1]);
            if (const auto it = seen.find(key); it != seen.end()) {
              return fail("key " + row.key[0] + (table.key_parts == 2 ? ", " + row.key[1] : "") +
                          " is already in the table at " + it->second);
            }
            seen.emplace(key, where);
            table.rows.push_back(std::move(row));
          };
          const auto rows = t["rows"];
          const auto file = t["file"];
          if (const auto over = table_files_.find(name); over != table_files_.end()) {
            // The load replaces this table's rows with a file of its own (golden tests).
            std::string why;
            const std::optional<std::string> content = config::read_text_file(over->second, why);
            if (!content) {
              const std::string message =
                  "cannot read the replacing table file " + over->second + ": " + why;
              if (const auto at = table_named_at_.find(name); at != table_named_at_.end()) {
                const Diagnostic d = at_site(at->second, message);
                r_.error_in(d.file, d.line, d.column, d.message);
              } else {
                r_.error(t, what + ": " + message);
              }
            } else {
              hash_bytes(*content);
              for (const DataLine& line : data_lines(*content)) {
                add_row(
                    split_cells(line.text),
                    [&](const std::string& m) {
                      r_.error_in(over->second, line.line, line.column, what + ": " + m);
                    },
                    over->second + ":" + std::to_string(line.line));
              }
            }
          } else if (rows && file) {
            r_.error(key_of(t, "file"), what + ": give `rows` or `file`, not both");
          } else if (rows) {
            if (r_.expect_sequence(rows, what + ".rows")) {
              for (size_t i = 0; i < rows.size(); ++i) {
                const YAML::Node row = rows[i];
                const std::string rw = what + ".rows[" + std::to_string(i) + "]";
                if (!r_.expect_sequence(row, rw)) continue;
                std::vector<std::string> cells;
                for (const auto& c : row) {
                  if (auto text = text_of(c, rw)) cells.push_back(*text);
                }
                add_row(
                    std::move(cells), [&](const std::string& m) { r_.error(row, rw + ": " + m); },
                    site(row).text());
              }
            }
          } else if (file) {
            const auto name_text = text_of(file, what + ".file");
            if (const auto data =
                    name_text ? data_file(file, *name_text, what, "table") : std::nullopt) {
              const std::string& path = data->first;
              for (const DataLine& line : data->second) {
                add_row(
                    split_cells(line.text),
                    [&](const std::string& m) {
                      r_.error_in(path, line.line, line.column, what + ": " + m);
                    },
                    path + ":" + std::to_string(line.line));
              }
            }
          } else {
            r_.error(t, what + ": missing `rows` or `file`");
          }
          if (r_.error_count() != errors_before) return std::nullopt;
          std::sort(table.rows.begin(), table.rows.end(), [](const auto& a, const auto& b) {
            return std::tie(a.key[0], a.key[1]) < std::tie(b.key[0], b.key[1]);
          });
          return table;
        });
  }

  void read_lists(const YAML::Node& n) {
    each_new_name(n, "lists", "list", sites_.lists, set_.lists, sites_.failed_lists,
                  [&](const std::string&, const std::string& what,
                      const YAML::Node& v) -> std::optional<std::vector<std::string>> {
                    std::vector<std::string> values;
                    if (v.IsSequence()) {
                      for (const auto& item : v) {
                        if (auto text = text_of(item, what)) values.push_back(*text);
                      }
                    } else if (const auto file = text_of(v, what)) {
                      auto data = data_file(v, *file, what, "list");
                      if (!data) return std::nullopt;
                      for (DataLine& line : data->second) values.push_back(std::move(line.text));
                    } else {
                      return std::nullopt;
                    }
                    std::sort(values.begin(), values.end());
                    values.erase(std::unique(values.begin(), values.end()), values.end());
                    return values;
                  });
  }

  void read_typologies(const YAML::Node& list) {
    if (!r_.expect_sequence(list, "typologies")) return;
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node n = list[i];
      const std::string what = "typologies[" + std::to_string(i) + "]";
      if (!r_.expect_map(
              n, what,
              {"id", "title", "version", "doc", "horizon", "threshold", "min_primaries"})) {
        continue;
      }
      Typology t;
      t.source_file = r_.file();
      t.source_line = n.Mark().line + 1;
      t.version = pack_version_;
      if (const auto v = n["id"]) {
        if (auto id = text_of(v, what + ".id")) {
          t.id = *id;
          if (t.id.empty()) {
            r_.error(v, what + ".id: must not be empty");
          } else if (auto [it, added] = sites_.typologies.emplace(t.id, site(v)); !added) {
            r_.error(v, what + ".id: typology '" + t.id + "' is already defined at " +
                            it->second.text());
          }
        }
      } else {
        r_.missing(n, what, "id");
      }
      if (const auto v = n["title"]) {
        if (auto s = text_of(v, what + ".title")) t.title = *s;
      } else {
        r_.missing(n, what, "title");
      }
      if (const auto v = n["doc"]) {
        if (auto s = text_of(v, what + ".doc")) t.doc = *s;
      }
      if (const auto v = n["version"]) {
        if (auto x = r_.integer(v, what + ".version", 1, 1'000'000))
          t.version = static_cast<uint32_t>(*x);
      }
      if (const auto v = n["horizon"]) {
        if (auto d = r_.duration_ms(v, what + ".horizon")) {
          // Scores are state too: a horizon is bounded like a window.
          if (*d <= 0 || *d > max_window_ms_) {
            r_.error(v, what + ".horizon: must be more than 0 and at most " +
                            duration_text(max_window_ms_) + " (the state's retention limit)");
          } else {
            t.horizon_ms = *d;
          }
        }
      } else {
        r_.missing(n, what, "horizon");
      }
      if (const auto v = n["threshold"]) {
        if (auto x = r_.integer(v, what + ".threshold", 1, 1'000'000))
          t.threshold = static_cast<uint32_t>(*x);
      } else {
        r_.missing(n, what, "threshold");
      }
      if (const auto v = n["min_primaries"]) {
        if (auto x = r_.integer(v, what + ".min_primaries", 0, 100))
          t.min_primaries = static_cast<uint32_t>(*x);
      }
      set_.typologies.push_back(std::move(t));
    }
  }

  void read_key(const YAML::Node& n, const std::string& what, KeySpec& key) {
    static constexpr const char* kHint =
        "; a key is account, an id-like field (sender.id, receiver.id, agent, sender.device, "
        "sender.phone, receiver.account, ...) or a list of them";
    auto field_of = [&](const YAML::Node& item) -> std::optional<event::Field> {
      auto s = text_of(item, what);
      if (!s) return std::nullopt;
      event::Field f{};
      if (*s == "labels" || s->starts_with("labels.")) {
        r_.error(item, what + ": labels are ground truth for backtests and never read by rules");
        return std::nullopt;
      }
      if (!event::parse_field(*s, f)) {
        r_.error(item, what + ": '" + *s + "' is not an event field" + kHint);
        return std::nullopt;
      }
      // Only the identifying text fields: id, ts and amount (nearly) never repeat, kind and
      // currency are no entity, and the evaluator builds keys from text fields alone.
      if (event::string_slot(event::Event{}, f) == nullptr) {
        r_.error(item, what + ": '" + *s + "' cannot key state" + kHint);
        return std::nullopt;
      }
      return f;
    };
    if (n.IsSequence()) {
      if (n.size() == 0) r_.error(n, what + ": an empty composite key");
      for (const auto& item : n) {
        if (auto f = field_of(item)) key.fields.push_back(*f);
        key.text += (key.text.empty() ? "[" : ", ") + item.Scalar();
      }
      key.text += "]";
      return;
    }
    if (n.IsScalar() && n.Scalar() == "account") {
      key.kind = KeySpec::Kind::account;
      key.text = "account";
      return;
    }
    if (auto f = field_of(n)) {
      key.fields.push_back(*f);
      key.text = n.Scalar();
    }
  }

  std::optional<window::AggregateKind> aggregate_kind(std::string_view name) {
    using K = window::AggregateKind;
    static const std::pair<std::string_view, K> kKinds[] = {
        {"count", K::count}, {"sum", K::sum},       {"min", K::min}, {"max", K::max},
        {"mean", K::mean},   {"stddev", K::stddev}, {"cv", K::cv},   {"distinct", K::distinct},
        {"last", K::last},   {"share", K::share}};
    for (const auto& [n, k] : kKinds) {
      if (n == name) return k;
    }
    return std::nullopt;
  }

  static std::string_view aggregate_kind_name(const Aggregate& a) {
    if (a.is_ratio) return "ratio";
    using K = window::AggregateKind;
    switch (a.spec.kind) {
      case K::count:
        return "count";
      case K::sum:
        return "sum";
      case K::min:
        return "min";
      case K::max:
        return "max";
      case K::mean:
        return "mean";
      case K::stddev:
        return "stddev";
      case K::cv:
        return "cv";
      case K::distinct:
        return "distinct";
      case K::last:
        return "last";
      case K::share:
        return "share";
      case K::max_by_sum:
      case K::max_by_distinct:
        return "max_by";
      case K::mode:
        return a.result_type == Type::number ? "mode_share" : "mode";
    }
    return "aggregate";
  }

  // Why `name` cannot name an aggregate, or empty when it can.
  std::string bad_aggregate_name(const std::string& name, bool account) {
    if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0])) ||
        !std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
        })) {
      return "an aggregate name is a letter followed by letters, digits or _ (it is used in "
             "`when`)";
    }
    if (std::find(std::begin(kKeywords), std::end(kKeywords), name) != std::end(kKeywords)) {
      return "'" + name + "' is a keyword of the expression language; choose another name";
    }
    if (name == "key" || name == "window" || name == "base") {
      return "'" + name + "' is an `explain` placeholder ({" + name + "}); choose another name";
    }
    RuleScope scope(account, set_);
    if (scope.resolve(name)) {
      return "'" + name +
             "' already names a value of the event in expressions; choose another "
             "name";
    }
    return {};
  }

  // max_by(group, sum(x)) / max_by(group, count()) / max_by(group, distinct(x)): the largest
  // per-group total, as read for windowed rules and sequence steps alike (a sequence step has
  // no distinct form). Errors are reported at their token; nullopt after one.
  struct MaxBy {
    enum class Of : uint8_t { count, sum, distinct };
    Of of = Of::count;
    lang::Program group;
    std::optional<lang::Program> argument;  // sum's and distinct's x
    Type result_type = Type::integer;
  };
  std::optional<MaxBy> read_max_by(const lang::Node& call, lang::Scope& scope,
                                   const YAML::Node& node, const std::string& where,
                                   bool windowed) {
    const std::string totals = windowed ? "sum(x), count() or distinct(x)" : "sum(x) or count()";
    auto fail_at = [&](uint32_t offset, const std::string& message) {
      r_.error(locate(text_, node, offset), where + ": " + message);
      return std::nullopt;
    };
    if (call.children.size() != 2) {
      return fail_at(call.offset, "max_by(group, total) takes 2 arguments, got " +
                                      std::to_string(call.children.size()) + "; the total is " +
                                      totals);
    }
    const lang::Node& inner = *call.children[1];
    const bool is_call = inner.kind == lang::NodeKind::call;
    if (!is_call ||
        (inner.text != "sum" && inner.text != "count" && (inner.text != "distinct" || !windowed))) {
      if (is_call && inner.text == "distinct") {
        return fail_at(inner.offset,
                       "max_by(group, distinct(x)) is for windowed rules; a sequence step "
                       "totals each group with sum(x) or count()");
      }
      return fail_at(start_of(inner), "max_by() totals each group with " + totals +
                                          ", such as max_by(counterparty.id, sum(amount_base))");
    }
    const size_t want = inner.text == "count" ? 0 : 1;
    if (inner.children.size() != want) {
      return fail_at(inner.offset, inner.text + "() takes " +
                                       (want == 0 ? std::string("no argument") : "1 argument") +
                                       ", got " + std::to_string(inner.children.size()));
    }
    MaxBy m;
    m.of = inner.text == "sum"     ? MaxBy::Of::sum
           : inner.text == "count" ? MaxBy::Of::count
                                   : MaxBy::Of::distinct;
    lang::CompileError err;
    std::optional<lang::Program> group = lang::compile(*call.children[0], scope, std::nullopt, err);
    if (!group) {
      expression_error(node, err, where);
      return std::nullopt;
    }
    if (group->type() != Type::string) {
      return fail_at(start_of(*call.children[0]),
                     "max_by() groups by a string such as counterparty.id, got " +
                         std::string(lang::type_name(group->type())));
    }
    m.group = std::move(*group);
    if (m.of == MaxBy::Of::count) return m;
    m.argument = lang::compile(*inner.children[0], scope, std::nullopt, err);
    if (!m.argument) {
      expression_error(node, err, where);
      return std::nullopt;
    }
    const Type t = m.argument->type();
    const bool exact = t == Type::integer || t == Type::decimal;
    if (m.of == MaxBy::Of::sum && !exact) {
      return fail_at(start_of(*inner.children[0]),
                     "sum() needs an exact number (integer or decimal), got " +
                         std::string(lang::type_name(t)));
    }
    if (m.of == MaxBy::Of::distinct && !exact && t != Type::string) {
      return fail_at(
          start_of(*inner.children[0]),
          "distinct() needs a string or an exact number, got " + std::string(lang::type_name(t)));
    }
    m.result_type = m.of == MaxBy::Of::sum ? t : Type::integer;
    return m;
  }

  // A decimal literal's value (10^-4 units, >= 0) without trailing zeros: 15000 -> "1.5".
  static std::string decimal_text(int64_t units) {
    std::string out = std::to_string(units / lang::kDecimalUnit);
    std::string fraction =
        std::to_string(lang::kDecimalUnit + units % lang::kDecimalUnit).substr(1);
    while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
    if (!fraction.empty()) out += "." + fraction;
    return out;
  }

  // mode(x, tolerance) / mode_share(x, tolerance) into `agg`; false after an error (reported).
  bool read_mode(const lang::Node& call, lang::Scope& scope, const YAML::Node& node,
                 const std::string& where, Aggregate& agg) {
    auto fail_at = [&](uint32_t offset, const std::string& message) {
      r_.error(locate(text_, node, offset), where + ": " + message);
      return false;
    };
    if (call.children.size() != 2) {
      return fail_at(call.offset, call.text + "(x, tolerance) takes 2 arguments, got " +
                                      std::to_string(call.children.size()));
    }
    lang::CompileError err;
    agg.argument = lang::compile(*call.children[0], scope, std::nullopt, err);
    if (!agg.argument) {
      expression_error(node, err, where);
      return false;
    }
    agg.argument_type = agg.argument->type();
    if (agg.argument_type != Type::integer && agg.argument_type != Type::decimal) {
      return fail_at(start_of(*call.children[0]),
                     call.text + "() needs an integer or a decimal, got " +
                         std::string(lang::type_name(agg.argument_type)));
    }
    // The tolerance: a literal from 0 to 1, kept in 10^-4 (decimal literals are exact there).
    const lang::Node& t = *call.children[1];
    std::optional<int64_t> units;
    if (t.kind == lang::NodeKind::decimal_literal) units = t.int_value;
    if (t.kind == lang::NodeKind::integer_literal && t.int_value >= 0 && t.int_value <= 1)
      units = t.int_value * lang::kDecimalUnit;
    if (!units || *units < 0 || *units > window::kToleranceUnit) {
      std::string got;
      if (t.kind == lang::NodeKind::decimal_literal)
        got = "; got " + decimal_text(t.int_value);
      else if (t.kind == lang::NodeKind::integer_literal)
        got = "; got " + std::to_string(t.int_value);
      return fail_at(start_of(t), call.text +
                                      "() takes a tolerance from 0 to 1 written as a literal, "
                                      "such as 0.1 for ±10 % of the modal value" +
                                      got);
    }
    agg.spec.kind = window::AggregateKind::mode;
    agg.spec.exact_bound = window::kDefaultGroupExactBound;
    agg.spec.tolerance = static_cast<uint32_t>(*units);
    agg.result_type = call.text == "mode" ? agg.argument_type : Type::number;
    return true;
  }

  // The windowed max_by into `agg`; false after an error (reported).
  bool read_windowed_max_by(const lang::Node& call, lang::Scope& scope, const YAML::Node& node,
                            const std::string& where, Aggregate& agg) {
    std::optional<MaxBy> m = read_max_by(call, scope, node, where, /*windowed=*/true);
    if (!m) return false;
    using K = window::AggregateKind;
    agg.spec.kind = m->of == MaxBy::Of::distinct ? K::max_by_distinct : K::max_by_sum;
    agg.spec.exact_bound = window::kDefaultGroupExactBound;
    agg.group = std::move(m->group);
    agg.argument = std::move(m->argument);
    if (agg.argument) agg.argument_type = agg.argument->type();
    agg.result_type = m->result_type;
    return true;
  }

  // An aggregate's `where` condition, if it has one; false after an error (reported).
  bool read_where(const lang::Node& parsed, lang::Scope& scope, const YAML::Node& node,
                  const std::string& where, std::optional<lang::Program>& predicate) {
    if (parsed.children.size() < 2) return true;
    lang::CompileError err;
    predicate = lang::compile(*parsed.children[1], scope, Type::boolean, err);
    if (!predicate) expression_error(node, err, where);
    return predicate.has_value();
  }

  void read_aggregates(const YAML::Node& n, const std::string& what, Rule& rule) {
    if (!r_.expect_free_map(n, what)) return;
    const bool account = rule.key.kind == KeySpec::Kind::account;
    struct PendingRatio {
      size_t index;
      YAML::Node node;
      const lang::Node* num;
      const lang::Node* den;
      std::unique_ptr<lang::Node> parsed;  // owns num and den
    };
    std::vector<PendingRatio> ratios;
    std::set<std::string> seen;
    for (const auto& kv : n) {
      const std::string name = kv.first.Scalar();
      const std::string where = what + "." + name;
      if (!seen.insert(name).second) continue;  // a duplicate key: expect_free_map said so
      if (const std::string why = bad_aggregate_name(name, account); !why.empty()) {
        r_.error(kv.first, where + ": " + why);
        failed_aggregates_.insert(name);
        continue;
      }
      failed_aggregates_.insert(name);  // until it has loaded
      auto text = text_of(kv.second, where);
      if (!text) continue;
      lang::ParseError perr;
      std::unique_ptr<lang::Node> parsed = lang::parse_aggregate(*text, perr);
      if (!parsed) {
        expression_error(kv.second, lang::CompileError{perr.offset, perr.message}, where);
        continue;
      }
      const lang::Node& call = *parsed->children[0];
      Aggregate agg;
      agg.name = name;
      agg.text = *text;
      if (call.text == "ratio") {
        if (call.children.size() != 2 || call.children[0]->kind != lang::NodeKind::name ||
            call.children[1]->kind != lang::NodeKind::name || parsed->children.size() > 1) {
          r_.error(locate(text_, kv.second, call.offset),
                   where +
                       ": ratio(a, b) takes the names of two sum aggregates of this rule, "
                       "and no `where`");
          continue;
        }
        agg.is_ratio = true;
        agg.result_type = Type::number;
        const lang::Node* num = call.children[0].get();
        const lang::Node* den = call.children[1].get();
        ratios.push_back({rule.aggregates.size(), kv.second, num, den, std::move(parsed)});
        rule.aggregates.push_back(std::move(agg));
        failed_aggregates_.erase(name);
        continue;
      }
      if (call.text == "max_by" || call.text == "mode" || call.text == "mode_share") {
        RuleScope scope(account, set_);
        const bool read = call.text == "max_by"
                              ? read_windowed_max_by(call, scope, kv.second, where, agg)
                              : read_mode(call, scope, kv.second, where, agg);
        if (read && read_where(*parsed, scope, kv.second, where, agg.predicate)) {
          rule.aggregates.push_back(std::move(agg));
          failed_aggregates_.erase(name);
        }
        continue;
      }
      std::optional<window::AggregateKind> kind = aggregate_kind(call.text);
      if (!kind) {
        r_.error(locate(text_, kv.second, call.offset),
                 where + ": unknown aggregate '" + call.text +
                     "'; aggregates: count, sum, min, max, mean, stddev, cv, distinct, "
                     "last, share, ratio, max_by, mode, mode_share");
        continue;
      }
      agg.spec.kind = *kind;
      using K = window::AggregateKind;
      const size_t want_args = *kind == K::count ? 0 : 1;
      if (call.children.size() != want_args) {
        std::string message = where + ": " + call.text + "() takes " +
                              (want_args == 0 ? std::string("no argument")
                                              : std::to_string(want_args) + " argument") +
                              ", got " + std::to_string(call.children.size());
        if (*kind == K::count) {
          message +=
              "; to count the events that match a condition write `count() where "
              "<condition>`";
        }
        r_.error(locate(text_, kv.second, call.offset), message);
        continue;
      }
      RuleScope scope(account, set_);
      bool ok = true;
      if (want_args == 1) {
        lang::CompileError err;
        agg.argument = lang::compile(*call.children[0], scope, std::nullopt, err);
        if (!agg.argument) {
          expression_error(kv.second, err, where);
          ok = false;
        } else {
          agg.argument_type = agg.argument->type();
          const Type t = agg.argument_type;
          const bool exact =
              t == Type::integer || t == Type::decimal || t == Type::time || t == Type::duration;
          std::string need;
          if (*kind == K::share && t != Type::boolean) need = "a condition (boolean)";
          if (*kind == K::distinct && t != Type::string && t != Type::integer &&
              t != Type::decimal) {
            need = "a string or an exact number";
          }
          // Sums and moments take no times (below); min, max and last do.
          const bool adds =
              *kind == K::sum || *kind == K::mean || *kind == K::stddev || *kind == K::cv;
          if (*kind != K::share && *kind != K::distinct && !exact) {
            need = adds ? "an exact number (integer, decimal or duration)"
                        : "an exact number (integer, decimal, time or duration)";
          }
          // A sum or moment of points in time means nothing; min, max and last of them do.
          if (t == Type::time && adds) {
            need = "an exact number or a duration (times cannot be summed or averaged)";
          }
          if (!need.empty()) {
            r_.error(locate(text_, kv.second, start_of(*call.children[0])),
                     where + ": " + call.text + "() needs " + need + ", got " +
                         std::string(lang::type_name(t)));
            ok = false;
          }
        }
      }
      if (!read_where(*parsed, scope, kv.second, where, agg.predicate)) ok = false;
      if (!ok) continue;
      switch (*kind) {
        case K::count:
          agg.result_type = Type::integer;
          break;
        case K::distinct:
          agg.result_type = Type::integer;
          break;
        case K::sum:
        case K::min:
        case K::max:
        case K::last:
          agg.result_type = agg.argument_type;
          break;
        case K::mean:
        case K::stddev:
        case K::cv:
        case K::share:
          agg.result_type = Type::number;
          break;
        case K::max_by_sum:
        case K::max_by_distinct:
        case K::mode:
          break;  // not named by aggregate_kind(): read above
      }
      rule.aggregates.push_back(std::move(agg));
      failed_aggregates_.erase(name);
    }
    for (const PendingRatio& p : ratios) {
      const std::string where = what + "." + rule.aggregates[p.index].name;
      auto find_sum = [&](const lang::Node& arg, size_t& out) {
        const std::string& name = arg.text;
        if (failed_aggregates_.count(name) != 0) {  // its own error is reported
          failed_aggregates_.insert(rule.aggregates[p.index].name);
          return;
        }
        std::string sums;
        for (size_t k = 0; k < rule.aggregates.size(); ++k) {
          const Aggregate& a = rule.aggregates[k];
          const bool is_sum = !a.is_ratio && a.spec.kind == window::AggregateKind::sum;
          if (a.name == name) {
            if (is_sum) {
              out = k;
              return;
            }
            r_.error(locate(text_, p.node, arg.offset),
                     where + ": ratio() divides two sum aggregates; '" + name + "' is a " +
                         std::string(aggregate_kind_name(a)));
            return;
          }
          if (is_sum) sums += (sums.empty() ? "" : ", ") + a.name;
        }
        r_.error(locate(text_, p.node, arg.offset),
                 where + ": '" + name + "' is not an aggregate of this rule; " +
                     (sums.empty() ? std::string("it has no sum aggregates")
                                   : "its sum aggregates: " + sums));
      };
      const size_t errors_before = r_.error_count();
      Aggregate& ratio = rule.aggregates[p.index];
      ratio.ratio_numerator = ratio.ratio_denominator = SIZE_MAX;
      find_sum(*p.num, ratio.ratio_numerator);
      find_sum(*p.den, ratio.ratio_denominator);
      if (r_.error_count() == errors_before && ratio.ratio_numerator != SIZE_MAX &&
          ratio.ratio_denominator != SIZE_MAX) {
        const Type a = rule.aggregates[ratio.ratio_numerator].argument_type;
        const Type b = rule.aggregates[ratio.ratio_denominator].argument_type;
        if (a != b) {
          r_.error(locate(text_, p.node, p.den->offset),
                   where + ": ratio() divides sums of the same kind of value; '" + p.num->text +
                       "' sums " + std::string(lang::type_name(a)) + "s, '" + p.den->text + "' " +
                       std::string(lang::type_name(b)) + "s");
        }
      }
    }
    // One window state keeps at most window::kMaxAggregates aggregates; a ratio keeps none.
    const auto windowed =
        static_cast<size_t>(std::count_if(rule.aggregates.begin(), rule.aggregates.end(),
                                          [](const Aggregate& a) { return !a.is_ratio; }));
    if (windowed > window::kMaxAggregates) {
      r_.error(n, what + ": at most " + std::to_string(window::kMaxAggregates) +
                      " aggregates over a window (ratios not counted); this rule has " +
                      std::to_string(windowed));
    } else if (rule.aggregates.size() > kMaxRuleAggregates) {
      r_.error(n, what + ": at most " + std::to_string(kMaxRuleAggregates) +
                      " aggregates with the ratios; this rule has " +
                      std::to_string(rule.aggregates.size()));
    }
  }

  // A scope that notes when a name it cannot resolve is one whose definition failed to load:
  // an aggregate of the rule being read, or a list or table, each with an error of its own.
  // The expression's error then only follows from that one and is not reported again.
  template <class Base>
  class AfterErrors final : public Base {
   public:
    template <class... Args>
    AfterErrors(const std::set<std::string>& aggregates, const Sites& sites, Args&&... args)
        : Base(std::forward<Args>(args)...), aggregates_(aggregates), sites_(sites) {}
    std::optional<lang::Symbol> resolve(std::string_view name) override {
      std::optional<lang::Symbol> symbol = Base::resolve(name);
      if (!symbol && aggregates_.count(std::string(name)) != 0) named_failed = true;
      return symbol;
    }
    const std::vector<std::string>* list(std::string_view name) const override {
      const std::vector<std::string>* values = Base::list(name);
      if (values == nullptr && sites_.failed_lists.count(name) != 0) named_failed = true;
      return values;
    }
    const lang::LookupTable* table(std::string_view name) const override {
      const lang::LookupTable* t = Base::table(name);
      if (t == nullptr && sites_.failed_tables.count(name) != 0) named_failed = true;
      return t;
    }
    mutable bool named_failed = false;

   private:
    const std::set<std::string>& aggregates_;
    const Sites& sites_;
  };
  template <class Base, class... Args>
  AfterErrors<Base> scope_after_errors(Args&&... args) const {
    return AfterErrors<Base>(failed_aggregates_, sites_, std::forward<Args>(args)...);
  }

  // The terms of a chain of `and` and `or` (the node itself when it is neither).
  static void and_or_terms(const lang::Node& n, std::vector<const lang::Node*>& out) {
    if (n.kind == lang::NodeKind::binary &&
        (n.op == lang::Op::logical_and || n.op == lang::Op::logical_or)) {
      for (const auto& child : n.children) and_or_terms(*child, out);
    } else {
      out.push_back(&n);
    }
  }

  // Compiles the condition `root`, the expression of the YAML value `at`, reported as `what`.
  // On failure every mistake is reported, not only the first: a condition that is a chain of
  // `and` and `or` has each of its terms compiled alone, and each failing term reports its
  // own error. An error that follows from a definition that failed to load is not reported.
  template <class Base>
  std::optional<lang::Program> condition(const YAML::Node& at, const lang::Node& root,
                                         AfterErrors<Base>& scope, const std::string& what) {
    lang::CompileError err;
    scope.named_failed = false;
    std::optional<lang::Program> program = lang::compile(root, scope, Type::boolean, err);
    if (program) return program;
    const bool follows = scope.named_failed;
    std::vector<const lang::Node*> terms;
    and_or_terms(root, terms);
    bool term_failed = false;
    if (terms.size() > 1) {
      for (const lang::Node* term : terms) {
        lang::CompileError term_err;
        scope.named_failed = false;
        if (lang::compile(*term, scope, Type::boolean, term_err)) continue;
        term_failed = true;
        if (!scope.named_failed) expression_error(at, term_err, what);
      }
    }
    // Terms that each compile alone but not together (too deep, say): the whole's error.
    if (!term_failed && !follows) expression_error(at, err, what);
    return std::nullopt;
  }
  // The same for the condition's text (a parse error is reported as it is).
  template <class Base>
  std::optional<lang::Program> condition(const YAML::Node& at, const std::string& text,
                                         AfterErrors<Base>& scope, const std::string& what) {
    lang::ParseError parse_error;
    const std::unique_ptr<lang::Node> root = lang::parse_expression(text, parse_error);
    if (!root) {
      expression_error(at, lang::CompileError{parse_error.offset, parse_error.message}, what);
      return std::nullopt;
    }
    return condition(at, *root, scope, what);
  }

  // The top-level `and` terms of a `when` (parsed as `root`) that compiled in `scope`, each
  // compiled alone, with the aggregates it names.
  static std::vector<WhenTerm> when_terms(const lang::Node& root, WhenScope& scope) {
    std::vector<const lang::Node*> terms;
    const std::function<void(const lang::Node&)> flatten = [&](const lang::Node& n) {
      if (n.kind == lang::NodeKind::binary && n.op == lang::Op::logical_and) {
        for (const auto& child : n.children) flatten(*child);
      } else {
        terms.push_back(&n);
      }
    };
    flatten(root);
    std::vector<WhenTerm> out;
    for (const lang::Node* term : terms) {
      scope.named_aggregates = 0;
      lang::CompileError err;
      std::optional<lang::Program> test = lang::compile(*term, scope, Type::boolean, err);
      if (!test) return {};  // not for a `when` that compiled whole: tested whole then
      out.push_back(WhenTerm{std::move(*test), scope.named_aggregates});
    }
    return out;
  }

  void read_rules(const YAML::Node& list) {
    if (!r_.expect_sequence(list, "rules")) return;
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node n = list[i];
      const std::string what = "rules[" + std::to_string(i) + "]";
      if (!r_.expect_map(
              n, what,
              {"id",     "title",    "pattern", "typology", "role",      "version",  "doc",
               "key",    "filter",   "window",  "bucket",   "aggregate", "when",     "sequence",
               "repeat", "escalate", "explain", "severity", "weight",    "evidence", "suppress"})) {
        continue;
      }
      Rule rule;
      rule.source_file = r_.file();
      rule.source_line = n.Mark().line + 1;
      rule.version = pack_version_;
      failed_aggregates_.clear();
      escalate_given_ = run_total_given_ = false;
      const size_t errors_before = r_.error_count();
      if (const auto v = n["id"]) {
        if (auto id = text_of(v, what + ".id")) {
          rule.id = *id;
          if (rule.id.empty()) {
            r_.error(v, what + ".id: must not be empty");
          } else if (auto [it, added] = sites_.rules.emplace(rule.id, site(v)); !added) {
            r_.error(
                v, what + ".id: rule '" + rule.id + "' is already defined at " + it->second.text());
          }
        }
      } else {
        r_.missing(n, what, "id");
      }
      const std::string label = rule.id.empty() ? what : "rule " + rule.id;
      if (const auto v = n["title"]) {
        if (auto s = text_of(v, label + ".title")) rule.title = *s;
      } else {
        r_.missing(n, label, "title");
      }
      if (const auto v = n["pattern"]) {
        if (auto s = text_of(v, label + ".pattern")) rule.pattern = *s;
      }
      if (const auto v = n["doc"]) {
        if (auto s = text_of(v, label + ".doc")) rule.doc = *s;
      }
      if (const auto v = n["version"]) {
        if (auto x = r_.integer(v, label + ".version", 1, 1'000'000))
          rule.version = static_cast<uint32_t>(*x);
      }
      if (const auto v = n["typology"]) {
        if (auto s = text_of(v, label + ".typology")) {
          rule.typology = *s;
          sites_.typology_refs.push_back({site(v), *s, label});
        }
      } else {
        r_.missing(n, label, "typology");
      }
      if (const auto v = n["role"]) {
        if (auto s = r_.one_of(v, label + ".role", {"primary", "contributor"})) {
          rule.role = *s == "primary" ? Role::primary : Role::contributor;
        }
      }
      if (const auto v = n["key"]) {
        read_key(v, label + ".key", rule.key);
      } else {
        r_.missing(n, label, "key");
      }
      const bool account = rule.key.kind == KeySpec::Kind::account;
      if (const auto v = n["filter"]) {
        if (auto s = text_of(v, label + ".filter")) {
          auto scope = scope_after_errors<RuleScope>(account, set_);
          rule.filter = condition(v, *s, scope, label + ".filter");
        }
      }
      const YAML::Node window = n["window"];
      bool window_ok = false;
      if (window) {
        if (auto d = r_.duration_ms(window, label + ".window")) {
          if (*d <= 0 || *d > max_window_ms_) {
            r_.error(window, label + ".window: must be more than 0 and at most " +
                                 duration_text(max_window_ms_) + " (the state's retention limit)");
          } else {
            rule.window.length_ms = *d;
            window_ok = true;
          }
        }
      }
      if (const auto v = n["bucket"]) {
        if (!window) {
          r_.error(v, label + ".bucket: a bucket divides a `window`; this rule has none");
        } else if (auto d = r_.duration_ms(v, label + ".bucket")) {
          if (window_ok) {
            if (*d <= 0 || rule.window.length_ms % *d != 0) {
              r_.error(v, label + ".bucket: must divide the window (" +
                              duration_text(rule.window.length_ms) + ") into whole buckets");
            } else {
              rule.window.bucket_ms = *d;
            }
          }
        }
      } else if (window_ok) {
        if (rule.window.length_ms % kBucketsPerWindow != 0) {
          r_.error(window, label + ".window: " + duration_text(rule.window.length_ms) +
                               " does not divide into 48 buckets of whole milliseconds (the "
                               "default granularity); give `bucket`");
        } else {
          rule.window.bucket_ms = rule.window.length_ms / kBucketsPerWindow;
        }
      }
      if (const auto v = n["aggregate"]) {
        // Read even without a window, so that their own errors and `when` are checked too.
        if (!window)
          r_.error(key_of(n, "aggregate"), label + ".aggregate: aggregates need a `window`");
        read_aggregates(v, label + ".aggregate", rule);
      } else if (window) {
        r_.error(window, label +
                             ".window: a window without aggregates keeps nothing; add "
                             "`aggregate` or remove `window`");
      }
      if (const auto esc = n["escalate"]; esc && !n["sequence"]) {
        r_.error(key_of(n, "escalate"),
                 label + ".escalate: only a sequence rule with `repeat` escalates");
      }
      if (const auto v = n["sequence"]) {
        if (n["when"]) {
          r_.error(key_of(n, "when"), label +
                                          ".when: a sequence rule's condition is the `when` "
                                          "of its second step");
        }
        if (window) r_.error(window, label + ".window: a sequence rule's window is `within`");
        read_sequence(v, n["repeat"], label, rule);
        // For `explain`: the run's values are known once `escalate` is given, even with
        // errors in it (reported there, not again as unknown placeholders).
        escalate_given_ = static_cast<bool>(n["escalate"]);
        run_total_given_ = escalate_given_ && n["escalate"].IsMap() && n["escalate"]["total"];
        if (const auto esc = n["escalate"]) {
          if (!n["repeat"]) {
            r_.error(key_of(n, "escalate"),
                     label +
                         ".escalate: only a rule with `repeat` escalates (a run is its "
                         "repeated cycles)");
          } else if (rule.sequence) {
            read_escalate(esc, label + ".escalate", *rule.sequence);
          }
        }
      } else if (const auto rep = n["repeat"]) {
        r_.error(key_of(n, "repeat"), label + ".repeat: only a sequence rule repeats");
      } else if (const auto when_node = n["when"]) {
        if (auto s = text_of(when_node, label + ".when")) {
          auto scope = scope_after_errors<WhenScope>(account, set_, rule.aggregates);
          lang::ParseError parse_error;
          const std::unique_ptr<lang::Node> root = lang::parse_expression(*s, parse_error);
          if (!root) {
            expression_error(when_node, lang::CompileError{parse_error.offset, parse_error.message},
                             label + ".when");
          } else if (std::optional<lang::Program> when =
                         condition(when_node, *root, scope, label + ".when")) {
            rule.when = std::move(*when);
            rule.when_terms = when_terms(*root, scope);
          }
        }
      } else {
        r_.missing(n, label, "when");
      }
      if (const auto v = n["explain"]) {
        if (auto s = text_of(v, label + ".explain")) {
          rule.explain = *s;
          check_template(v, label + ".explain", rule);
        }
      }
      if (const auto v = n["severity"]) {
        if (auto s = severity(v, label + ".severity")) rule.severity = *s;
      } else {
        r_.missing(n, label, "severity");
      }
      if (const auto v = n["weight"]) {
        if (auto x = r_.integer(v, label + ".weight", 0, 1000))
          rule.weight = static_cast<uint32_t>(*x);
      } else {
        r_.missing(n, label, "weight");
      }
      if (const auto v = n["evidence"]) {
        if (auto x = r_.integer(v, label + ".evidence", 0, 1000))
          rule.evidence = static_cast<uint32_t>(*x);
      }
      if (const auto v = n["suppress"]) {
        if (auto d = r_.duration_ms(v, label + ".suppress")) {
          // Suppression is state kept per key, bounded like a window.
          if (*d > max_window_ms_) {
            r_.error(v, label + ".suppress: must be at most " + duration_text(max_window_ms_) +
                            " (the state's retention limit)");
          } else {
            rule.suppress_ms = *d;
          }
        }
      }
      if (r_.error_count() == errors_before) set_.rules.push_back(std::move(rule));
    }
  }

  // {name} placeholders must name an aggregate, or key, window or base.
  void check_template(const YAML::Node& at, const std::string& what, const Rule& rule) {
    const std::string& t = rule.explain;
    for (size_t i = t.find('{'); i != std::string::npos; i = t.find('{', i + 1)) {
      const size_t close = t.find('}', i);
      if (close == std::string::npos) {
        r_.error(locate(text_, at, static_cast<uint32_t>(i)), what + ": '{' without '}'");
        return;
      }
      const std::string name = t.substr(i + 1, close - i - 1);
      bool in_sequence = false;
      if (rule.sequence) {
        const Sequence& q = *rule.sequence;
        in_sequence = name == "cycles" ||
                      (escalate_given_ && is_sequence_value(name) &&
                       (name != "run_total" || q.run_total >= 0 || run_total_given_)) ||
                      std::any_of(q.aggregates.begin(), q.aggregates.end(),
                                  [&](const EpisodeAggregate& a) { return a.name == name; }) ||
                      std::any_of(q.bindings.begin(), q.bindings.end(),
                                  [&](const Binding& b) { return b.name == name; });
      }
      const bool known = name == "key" || name == "window" || name == "base" || in_sequence ||
                         failed_aggregates_.count(name) != 0 ||
                         std::any_of(rule.aggregates.begin(), rule.aggregates.end(),
                                     [&](const Aggregate& a) { return a.name == name; });
      if (!known) {
        r_.error(locate(text_, at, static_cast<uint32_t>(i)),
                 what + ": unknown placeholder {" + name +
                     "}; use an aggregate name, {key}, "
                     "{window} or {base}");
      }
    }
  }

  // sequence: [{as, match}, {as, match, within, aggregate, when}], repeat: {cycles, ...}
  void read_sequence(const YAML::Node& n, const YAML::Node& repeat, const std::string& label,
                     Rule& rule) {
    const std::string what = label + ".sequence";
    if (!r_.expect_sequence(n, what)) return;
    if (n.size() != 2) {
      r_.error(n, what +
                      ": expected two steps, the first (A) and the second (B) within a time "
                      "after it; got " +
                      std::to_string(n.size()));
      return;
    }
    const bool account = rule.key.kind == KeySpec::Kind::account;
    Sequence q;
    const YAML::Node a = n[0];
    const YAML::Node b = n[1];
    const bool a_ok = r_.expect_map(a, what + "[0]", {"as", "match"});
    const bool b_ok =
        r_.expect_map(b, what + "[1]", {"as", "match", "within", "aggregate", "when", "when_at"});
    if (!a_ok || !b_ok) return;
    auto step_name = [&](const YAML::Node& step, const std::string& where, std::string& out) {
      if (const auto v = step["as"]) {
        if (auto t = text_of(v, where + ".as")) {
          if (!bad_aggregate_name(*t, account).empty() || *t == "cycles") {
            r_.error(v, where + ".as: '" + *t +
                            "' cannot name a step; use a plain name such "
                            "as pay or sweep");
          } else {
            out = *t;
          }
        }
      } else {
        r_.missing(step, where, "as");
      }
    };
    step_name(a, what + "[0]", q.first_as);
    step_name(b, what + "[1]", q.second_as);
    if (!q.first_as.empty() && q.first_as == q.second_as) {
      r_.error(b["as"], what + "[1].as: the two steps need different names");
    }
    if (const auto v = a["match"]) {
      if (auto t = text_of(v, what + "[0].match")) {
        auto scope = scope_after_errors<RuleScope>(account, set_);
        if (std::optional<lang::Program> p = condition(v, *t, scope, what + "[0].match"))
          q.first_match = std::move(*p);
      }
    } else {
      r_.missing(a, what + "[0]", "match");
    }
    if (const auto v = b["within"]) {
      if (auto d = r_.duration_ms(v, what + "[1].within")) {
        if (*d <= 0 || *d > max_window_ms_) {
          r_.error(v, what + "[1].within: must be more than 0 and at most the state limit " +
                          duration_text(max_window_ms_));
        } else {
          q.within_ms = *d;
        }
      }
    } else {
      r_.missing(b, what + "[1]", "within");
    }
    if (const auto v = b["match"]) {
      if (auto t = text_of(v, what + "[1].match")) {
        auto scope =
            scope_after_errors<SequenceScope>(account, set_, q.first_as, q.bindings, nullptr);
        if (std::optional<lang::Program> p = condition(v, *t, scope, what + "[1].match"))
          q.second_match = std::move(*p);
      }
    } else {
      r_.missing(b, what + "[1]", "match");
    }
    if (const auto v = b["aggregate"])
      read_episode_aggregates(v, what + "[1].aggregate", account, q);
    if (const auto v = b["when"]) {
      if (auto t = text_of(v, what + "[1].when")) {
        auto scope =
            scope_after_errors<SequenceScope>(account, set_, q.first_as, q.bindings, &q.aggregates);
        if (std::optional<lang::Program> p = condition(v, *t, scope, what + "[1].when"))
          q.when = std::move(*p);
      }
    } else {
      r_.missing(b, what + "[1]", "when");
    }
    if (const auto v = b["when_at"]) {
      if (auto at = r_.one_of(v, what + "[1].when_at", {"each_event", "cycle_end"})) {
        q.when_at_cycle_end = *at == "cycle_end";
      }
    }
    if (repeat) {
      const std::string rw = label + ".repeat";
      if (r_.expect_map(repeat, rw, {"cycles", "consecutive", "within"})) {
        if (const auto v = repeat["cycles"]) {
          if (auto c = r_.integer(v, rw + ".cycles", 1, 1000)) q.cycles = static_cast<uint32_t>(*c);
        } else {
          r_.missing(repeat, rw, "cycles");
        }
        if (const auto v = repeat["consecutive"]) {
          if (auto c = r_.boolean(v, rw + ".consecutive")) q.consecutive = *c;
        }
        if (const auto v = repeat["within"]) {
          if (auto d = r_.duration_ms(v, rw + ".within")) {
            if (*d <= 0 || *d > max_window_ms_) {
              r_.error(v, rw + ".within: must be more than 0 and at most the state limit " +
                              duration_text(max_window_ms_));
            } else {
              q.repeat_within_ms = *d;
            }
          }
          if (q.consecutive) r_.error(v, rw + ".within: only for consecutive: false");
        } else if (!q.consecutive) {
          r_.missing(repeat, rw, "within");
        }
      }
    }
    q.streak_lapse_ms = max_window_ms_;
    rule.sequence = std::move(q);
  }

  // The values a sequence rule's signals report besides its aggregates and bindings:
  // cycles, and with `escalate` the run's.
  static bool is_sequence_value(const std::string& name) {
    return name == "cycles" || name == "run_since" || name == "run_cycles" || name == "run_total" ||
           name == "escalated";
  }

  std::optional<Severity> severity(const YAML::Node& v, const std::string& what) {
    const auto s = r_.one_of(v, what, {"low", "medium", "high", "critical"});
    if (!s) return std::nullopt;
    return *s == "low"      ? Severity::low
           : *s == "medium" ? Severity::medium
           : *s == "high"   ? Severity::high
                            : Severity::critical;
  }

  // escalate: {after: 548d, severity: critical, total: returned}
  void read_escalate(const YAML::Node& n, const std::string& what, Sequence& q) {
    if (!r_.expect_map(n, what, {"after", "severity", "total"})) return;
    if (const auto v = n["after"]) {
      if (auto d = r_.duration_ms(v, what + ".after")) {
        if (*d <= 0) {
          r_.error(v, what + ".after: must be more than 0");
        } else {
          q.escalate_after_ms = *d;
        }
      }
    } else {
      r_.missing(n, what, "after");
    }
    if (const auto v = n["severity"]) {
      if (auto s = severity(v, what + ".severity")) q.escalate_severity = *s;
    } else {
      r_.missing(n, what, "severity");
    }
    if (const auto v = n["total"]) {
      if (auto name = text_of(v, what + ".total")) {
        std::string sums;
        for (size_t i = 0; i < q.aggregates.size(); ++i) {
          const EpisodeAggregate& a = q.aggregates[i];
          if (a.kind != EpisodeAggregate::Kind::sum) continue;
          if (a.name == *name) q.run_total = static_cast<int>(i);
          sums += (sums.empty() ? "" : ", ") + a.name;
        }
        if (q.run_total < 0) {
          r_.error(v, what + ".total: '" + *name +
                          "' is not a sum aggregate of the second step; sums: " +
                          (sums.empty() ? "none" : sums));
        }
      }
    }
  }

  void read_episode_aggregates(const YAML::Node& n, const std::string& what, bool account,
                               Sequence& q) {
    if (!r_.expect_free_map(n, what)) return;
    using K = EpisodeAggregate::Kind;
    for (const auto& kv : n) {
      const std::string name = kv.first.Scalar();
      const std::string where = what + "." + name;
      if (std::string why = bad_aggregate_name(name, account);
          !why.empty() || is_sequence_value(name)) {
        r_.error(kv.first, where + ": " +
                               (why.empty() ? "'" + name +
                                                  "' is a value sequence signals report (cycles, "
                                                  "run_since, run_cycles, run_total, escalated); "
                                                  "choose another name"
                                            : why));
        continue;
      }
      if (q.aggregates.size() >= kMaxSequenceAggregates) {
        r_.error(kv.first, where + ": at most " + std::to_string(kMaxSequenceAggregates) +
                               " aggregates in a sequence step");
        continue;
      }
      auto text = text_of(kv.second, where);
      if (!text) continue;
      lang::ParseError perr;
      std::unique_ptr<lang::Node> parsed = lang::parse_aggregate(*text, perr);
      if (!parsed) {
        expression_error(kv.second, lang::CompileError{perr.offset, perr.message}, where);
        continue;
      }
      const lang::Node& call = *parsed->children[0];
      SequenceScope scope(account, set_, q.first_as, q.bindings, nullptr);
      EpisodeAggregate agg;
      agg.name = name;
      agg.text = *text;
      auto fail_at = [&](const lang::Node& node, const std::string& message) {
        r_.error(locate(text_, kv.second, node.offset), where + ": " + message);
      };
      auto compile_arg = [&](const lang::Node& node, std::optional<lang::Program>& out) {
        lang::CompileError err;
        out = lang::compile(node, scope, std::nullopt, err);
        if (!out) expression_error(kv.second, err, where);
        return out.has_value();
      };
      auto exact = [](Type t) { return t == Type::integer || t == Type::decimal; };
      bool ok = true;
      if (call.text == "count" && call.children.empty()) {
        agg.kind = K::count;
        agg.result_type = Type::integer;
      } else if ((call.text == "sum" || call.text == "min" || call.text == "max") &&
                 call.children.size() == 1) {
        agg.kind = call.text == "sum" ? K::sum : call.text == "min" ? K::min : K::max;
        ok = compile_arg(*call.children[0], agg.argument);
        if (ok && !exact(agg.argument->type())) {
          fail_at(*call.children[0], call.text + "() needs an exact number, got " +
                                         std::string(lang::type_name(agg.argument->type())));
          ok = false;
        }
        if (ok) agg.result_type = agg.argument->type();
      } else if (call.text == "distinct" && call.children.size() == 1) {
        agg.kind = K::distinct;
        agg.result_type = Type::integer;
        ok = compile_arg(*call.children[0], agg.argument);
        if (ok && agg.argument->type() != Type::string && !exact(agg.argument->type())) {
          fail_at(*call.children[0], "distinct() needs a string or an exact number");
          ok = false;
        }
      } else if (call.text == "max_by") {
        std::optional<MaxBy> m = read_max_by(call, scope, kv.second, where, /*windowed=*/false);
        ok = m.has_value();
        if (ok) {
          agg.kind = m->of == MaxBy::Of::sum ? K::max_by_sum : K::max_by_count;
          agg.group = std::move(m->group);
          agg.argument = std::move(m->argument);
          agg.result_type = m->result_type;
        }
      } else {
        fail_at(call,
                "a sequence step aggregates with count(), sum(x), min(x), max(x), "
                "distinct(x), max_by(group, sum(x)) or max_by(group, count())");
        ok = false;
      }
      if (ok && parsed->children.size() > 1) {
        lang::CompileError err;
        agg.predicate = lang::compile(*parsed->children[1], scope, Type::boolean, err);
        if (!agg.predicate) {
          expression_error(kv.second, err, where);
          ok = false;
        }
      }
      if (ok) {
        q.aggregates.push_back(std::move(agg));
      } else {
        failed_aggregates_.insert(name);  // its own error is reported
      }
    }
  }

  YamlReader& r_;
  const std::string& text_;
  RuleSet& set_;
  Sites& sites_;
  const std::map<std::string, std::string>& table_files_;
  const std::map<std::string, Diagnostic>& table_named_at_;
  std::string& hashed_;
  int64_t max_window_ms_;
  uint32_t pack_version_ = 1;
  std::set<std::string> failed_aggregates_;  // of the rule being read
  bool escalate_given_ = false;              // ... it has `escalate`
  bool run_total_given_ = false;             // ... with `total`
};

// Checked once every pack has loaded without error (each check would otherwise repeat
// errors already reported): a typology must be able to alert.
void check_typologies(const RuleSet& set, const Sites& sites, std::vector<Diagnostic>& errors) {
  for (const Typology& t : set.typologies) {
    uint64_t weights = 0;
    uint32_t rules = 0;
    uint32_t primaries = 0;
    for (const Rule& r : set.rules) {
      if (r.typology != t.id) continue;
      ++rules;
      weights += r.weight;
      if (r.role == Role::primary) ++primaries;
    }
    const auto at = sites.typologies.find(t.id);
    if (at == sites.typologies.end()) continue;
    const Site& s = at->second;
    const std::string what = "typology " + t.id;
    if (rules == 0) {
      errors.push_back(Diagnostic{s.file, s.line, s.column,
                                  what + ": no rule names this typology, so it can never alert"});
      continue;
    }
    if (weights < t.threshold) {
      errors.push_back(Diagnostic{s.file, s.line, s.column,
                                  what + ": can never alert: the weights of its rules add up to " +
                                      std::to_string(weights) + ", below its threshold " +
                                      std::to_string(t.threshold)});
    }
    if (primaries < t.min_primaries) {
      errors.push_back(Diagnostic{s.file, s.line, s.column,
                                  what + ": can never alert: min_primaries is " +
                                      std::to_string(t.min_primaries) + " but only " +
                                      std::to_string(primaries) + " of its rules " +
                                      (primaries == 1 ? "is" : "are") + " primary"});
    }
  }
}

}  // namespace

RuleLoadResult parse_rule_packs(const std::vector<std::pair<std::string, std::string>>& files,
                                const PackLoadOptions& options) {
  RuleLoadResult result;
  RuleSet set;
  Sites sites;
  std::string all_bytes;
  config::EnvLookup no_env = [](const std::string&) { return std::optional<std::string>(); };
  struct Pack {
    std::unique_ptr<YamlReader> reader;
    std::unique_ptr<PackReader> pack;
    YAML::Node root;
  };
  std::vector<Pack> packs;
  for (const auto& [path, text] : files) {
    // Length-prefixed, so packs split differently cannot hash alike.
    all_bytes += std::to_string(text.size());
    all_bytes += '\n';
    all_bytes += text;
    auto reader = std::make_unique<YamlReader>(path, result.errors, no_env);
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::ParserException& e) {
      reader->syntax_error(text, e);
      continue;
    }
    auto pack = std::make_unique<PackReader>(*reader, text, set, sites, options, all_bytes);
    if (!pack->read_header(root)) continue;
    packs.push_back({std::move(reader), std::move(pack), root});
  }
  for (Pack& p : packs) p.pack->read_body(p.root);
  for (const auto& [name, file] : options.table_files) {
    if (sites.tables.count(name) != 0) continue;
    const std::string message = "replaces table '" + name + "', which no pack of the load declares";
    if (const auto at = options.table_named_at.find(name); at != options.table_named_at.end()) {
      result.errors.push_back(at_site(at->second, message));
    } else {
      result.errors.push_back(Diagnostic{file, 1, 1, message});
    }
  }
  for (const Sites::TypologyRef& ref : sites.typology_refs) {
    if (sites.typologies.count(ref.id) == 0) {
      std::string known;
      for (const Typology& t : set.typologies) known += (known.empty() ? "" : ", ") + t.id;
      result.errors.push_back(Diagnostic{ref.at.file, ref.at.line, ref.at.column,
                                         ref.label + ".typology: no typology '" + ref.id +
                                             "' is defined" +
                                             (known.empty() ? "" : "; defined: " + known)});
    }
  }
  if (result.errors.empty()) check_typologies(set, sites, result.errors);
  // In load order of the files, then by position.
  std::map<std::string, size_t> file_order;
  for (const auto& [path, text] : files) file_order.emplace(path, file_order.size());
  auto order = [&](const std::string& f) {
    const auto it = file_order.find(f);
    return it == file_order.end() ? file_order.size() : it->second;
  };
  std::stable_sort(result.errors.begin(), result.errors.end(),
                   [&](const Diagnostic& a, const Diagnostic& b) {
                     const size_t fa = order(a.file), fb = order(b.file);
                     if (fa != fb) return fa < fb;
                     return a.line != b.line ? a.line < b.line : a.column < b.column;
                   });
  if (result.errors.empty()) {
    set.hash = config::fnv1a64_hex(all_bytes);
    result.rules = std::move(set);
  }
  return result;
}

RuleLoadResult parse_rule_packs(const std::vector<std::pair<std::string, std::string>>& files,
                                int64_t max_window_ms) {
  PackLoadOptions options;
  options.max_window_ms = max_window_ms;
  return parse_rule_packs(files, options);
}

RuleLoadResult parse_rule_pack(const std::string& path, const std::string& text,
                               int64_t max_window_ms) {
  return parse_rule_packs({{path, text}}, max_window_ms);
}

RuleLoadResult load_rule_packs(const std::vector<std::string>& paths, int64_t max_window_ms) {
  PackLoadOptions options;
  options.max_window_ms = max_window_ms;
  return load_rule_packs(paths, options);
}

RuleLoadResult load_rule_packs(const std::vector<std::string>& paths,
                               const PackLoadOptions& options) {
  std::vector<std::pair<std::string, std::string>> files;
  std::vector<Diagnostic> unreadable;
  for (size_t i = 0; i < paths.size(); ++i) {
    const std::string& p = paths[i];
    std::string reason;
    std::optional<std::string> text = config::read_text_file(p, reason);
    if (!text) {
      if (i < options.named_at.size()) {
        unreadable.push_back(
            at_site(options.named_at[i], "cannot read the rule pack " + p + ": " + reason));
      } else {
        unreadable.push_back(Diagnostic{p, 1, 1, "cannot read the rule pack: " + reason});
      }
      continue;
    }
    files.emplace_back(p, std::move(*text));
  }
  RuleLoadResult result = parse_rule_packs(files, options);
  if (!unreadable.empty()) {
    // The readable packs are checked all the same; without the others they do not load.
    result.rules.reset();
    result.errors.insert(result.errors.begin(), unreadable.begin(), unreadable.end());
  }
  return result;
}

}  // namespace corridor::rules
