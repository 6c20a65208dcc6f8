#include "engine/config/yaml_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <span>
#include <sstream>
#include <vector>

namespace corridor::config {

std::string Diagnostic::format() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": error: " + message;
}

std::string format_all(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const Diagnostic& d : diagnostics) {
    out += d.format();
    out += '\n';
  }
  return out;
}

std::string YamlReader::shown(const YAML::Node& node, const std::string& value) {
  if (node.IsScalar() && node.Scalar().find('$') != std::string::npos) {
    return "'" + node.Scalar() + "' (substituted value not shown)";
  }
  return "'" + value + "'";
}

std::string join(std::span<const std::string_view> items) {
  std::string out;
  for (std::string_view s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

std::string_view node_type_name(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a sequence";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Null:
      return "nothing (null)";
    case YAML::NodeType::Undefined:
      return "nothing";
  }
  return "unknown";
}

void YamlReader::error(const YAML::Mark& at, const std::string& message) {
  // An empty document has no position; the start of the file is the honest answer.
  if (at.is_null()) {
    errors_.push_back(Diagnostic{file_, 1, 1, message});
    return;
  }
  errors_.push_back(Diagnostic{file_, at.line + 1, at.column + 1, message});
}

namespace {

// yaml-cpp reports a tab in indentation as some other syntax error; name the real cause.
std::string tab_hint(const std::string& text, int error_line) {
  int line = 1;
  for (size_t start = 0; start < text.size() && line <= error_line; ++line) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const size_t indent_end = text.find_first_not_of(" \t", start);
    if (indent_end < end && text.find('\t', start) < indent_end) {  // blank lines may hold tabs
      return " (line " + std::to_string(line) +
             " is indented with a tab; YAML indents with "
             "spaces only)";
    }
    start = end + 1;
  }
  return "";
}

// The byte offset of the innermost `open` bracket before `end` that is not closed before it,
// outside quotes and comments; npos when there is none.
size_t unclosed(const std::string& text, size_t end, char open, char close) {
  std::vector<size_t> stack;
  char quote = 0;
  for (size_t i = 0; i < end && i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
      continue;
    }
    // A quote opens a quoted scalar only where a scalar can start: O'Brien is plain text.
    const char before = i == 0 ? '\n' : text[i - 1];
    if ((c == '"' || c == '\'') &&
        std::string_view(" \t\n[{,:-").find(before) != std::string_view::npos) {
      quote = c;
    } else if (c == '#' && std::string_view(" \t\n").find(before) != std::string_view::npos) {
      i = text.find('\n', i);
      if (i == std::string::npos) break;
    } else if (c == open) {
      stack.push_back(i);
    } else if (c == close && !stack.empty()) {
      stack.pop_back();
    }
  }
  return stack.empty() ? std::string::npos : stack.back();
}

}  // namespace

void YamlReader::syntax_error(const std::string& text, const YAML::ParserException& e) {
  const bool list = e.msg == YAML::ErrorMsg::END_OF_SEQ_FLOW;
  if (list || e.msg == YAML::ErrorMsg::END_OF_MAP_FLOW) {
    const size_t at = unclosed(text, static_cast<size_t>(std::max(e.mark.pos, 0)), list ? '[' : '{',
                               list ? ']' : '}');
    if (at != std::string::npos) {
      YAML::Mark mark;
      mark.pos = static_cast<int>(at);
      mark.line = static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
      const size_t line_start = text.rfind('\n', at == 0 ? 0 : at - 1);
      mark.column =
          static_cast<int>(line_start == std::string::npos || at == 0 ? at : at - line_start - 1);
      error(mark, std::string("invalid YAML: this ") + (list ? "'[' list" : "'{' mapping") +
                      " is never closed with " + (list ? "']'" : "'}'") +
                      " (YAML found no end by line " + std::to_string(e.mark.line + 1) + ")");
      return;
    }
  }
  error(e.mark, "invalid YAML: " + e.msg + tab_hint(text, e.mark.line + 1));
}

void YamlReader::error(const YAML::Node& at, const std::string& message) {
  if (at.IsNull()) {
    for (const auto& [value, key_mark] : null_value_keys_) {
      if (value.is(at)) {
        error(key_mark, message);
        return;
      }
    }
  }
  error(at.Mark(), message);
}

void YamlReader::note_null_values(const YAML::Node& map) {
  for (const auto& kv : map) {
    if (kv.second.IsNull()) null_value_keys_.emplace_back(kv.second, kv.first.Mark());
  }
}

void YamlReader::missing(const YAML::Node& parent, const std::string& what,
                         const std::string& key) {
  error(parent, what + ": missing required key '" + key + "'");
}

bool YamlReader::expect_map(const YAML::Node& node, const std::string& what,
                            std::initializer_list<std::string_view> allowed) {
  return expect_map(node, what, std::span<const std::string_view>(allowed.begin(), allowed.size()));
}

bool YamlReader::expect_map(const YAML::Node& node, const std::string& what,
                            std::span<const std::string_view> allowed) {
  if (!node.IsMap()) {
    error(node, what + ": expected a mapping with keys " + join(allowed) + ", got " +
                    std::string(node_type_name(node)));
    return false;
  }
  note_null_values(node);
  std::set<std::string> seen;
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    if (!seen.insert(key).second) {
      error(kv.first, what + ": duplicate key '" + key + "'");
      continue;
    }
    bool known = false;
    for (std::string_view a : allowed) known = known || a == key;
    if (!known) {
      error(kv.first, what + ": unknown key '" + key + "'; allowed: " + join(allowed));
    }
  }
  return true;
}

bool YamlReader::expect_free_map(const YAML::Node& node, const std::string& what) {
  if (!node.IsMap()) {
    error(node, what + ": expected a mapping, got " + std::string(node_type_name(node)));
    return false;
  }
  note_null_values(node);
  std::set<std::string> seen;
  for (const auto& kv : node) {
    if (!seen.insert(kv.first.Scalar()).second) {
      error(kv.first, what + ": duplicate key '" + kv.first.Scalar() + "'");
    }
  }
  return true;
}

bool YamlReader::expect_text(const YAML::Node& node, const std::string& what) {
  if (!node.IsScalar()) {
    error(node, what + ": expected text, got " + std::string(node_type_name(node)));
    return false;
  }
  return true;
}

bool YamlReader::expect_sequence(const YAML::Node& node, const std::string& what) {
  if (!node.IsSequence()) {
    error(node, what + ": expected a sequence, got " + std::string(node_type_name(node)));
    return false;
  }
  return true;
}

namespace {

bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

}  // namespace

std::optional<std::string> YamlReader::substitute(const YAML::Node& node, const std::string& what,
                                                  const std::string& raw) {
  if (raw.find('$') == std::string::npos) return raw;
  std::string out;
  for (size_t i = 0; i < raw.size();) {
    if (raw[i] == '$' && i + 1 < raw.size() && raw[i + 1] == '$') {
      out += '$';  // "$$" is a literal dollar sign
      i += 2;
      continue;
    }
    if (raw[i] == '$' && i + 1 < raw.size() && is_name_start(raw[i + 1])) {
      // "$HOME/data" would otherwise reach the engine as those very characters.
      size_t end = i + 1;
      while (end < raw.size() && is_name_char(raw[end])) ++end;
      const std::string name = raw.substr(i + 1, end - i - 1);
      error(node, what + ": '$" + name + "' is not substituted; write ${" + name +
                      "} for the environment variable or $$" + name + " for the literal text");
      return std::nullopt;
    }
    if (raw[i] != '$' || i + 1 >= raw.size() || raw[i + 1] != '{') {
      out += raw[i++];
      continue;
    }
    const size_t close = raw.find('}', i + 2);
    if (close == std::string::npos) {
      error(node,
            what + ": unterminated ${...} in '" + raw + "'; expected ${NAME} or ${NAME:-default}");
      return std::nullopt;
    }
    std::string name = raw.substr(i + 2, close - i - 2);
    std::optional<std::string> fallback;
    if (const size_t colon = name.find(":-"); colon != std::string::npos) {
      fallback = name.substr(colon + 2);
      name.resize(colon);
    }
    bool valid = !name.empty() && is_name_start(name[0]);
    for (char c : name) valid = valid && is_name_char(c);
    if (!valid) {
      error(node, what + ": '" + name +
                      "' is not an environment variable name (a letter or _, then letters, "
                      "digits, _); expected ${NAME} or ${NAME:-default}");
      return std::nullopt;
    }
    if (fallback && fallback->find("${") != std::string::npos) {
      error(node, what + ": the default of ${" + name +
                      ":-...} holds another ${...}; defaults are plain text");
      return std::nullopt;
    }
    std::optional<std::string> value = env_(name);
    // As in the shell: ":-" also replaces a variable that is set but empty.
    if (fallback && (!value || value->empty())) value = fallback;
    if (!value) {
      error(node, what + ": environment variable " + name +
                      " is not set; set it or give a default as ${" + name + ":-default}");
      return std::nullopt;
    }
    out += *value;
    i = close + 1;
  }
  return out;
}

std::optional<std::string> YamlReader::scalar(const YAML::Node& node, const std::string& what,
                                              std::string_view expected) {
  if (!node.IsScalar()) {
    error(node, what + ": expected " + std::string(expected) + ", got " +
                    std::string(node_type_name(node)));
    return std::nullopt;
  }
  return substitute(node, what, node.Scalar());
}

std::optional<std::string> YamlReader::string(const YAML::Node& node, const std::string& what) {
  return scalar(node, what, "a string");
}

std::optional<int64_t> YamlReader::integer(const YAML::Node& node, const std::string& what,
                                           int64_t min, int64_t max) {
  std::optional<std::string> s = scalar(node, what, "an integer");
  if (!s) return std::nullopt;
  int64_t v = 0;
  bool ok = !s->empty() && s->size() <= 18;
  for (char c : *s) ok = ok && c >= '0' && c <= '9';
  if (ok) v = std::stoll(*s);
  if (!ok || v < min || v > max) {
    error(node, what + ": expected an integer from " + std::to_string(min) + " to " +
                    std::to_string(max) + ", got " + shown(node, *s));
    return std::nullopt;
  }
  return v;
}

std::optional<bool> YamlReader::boolean(const YAML::Node& node, const std::string& what) {
  std::optional<std::string> s = scalar(node, what, "true or false");
  if (!s) return std::nullopt;
  if (*s == "true") return true;
  if (*s == "false") return false;
  error(node, what + ": expected true or false, got " + shown(node, *s));
  return std::nullopt;
}

std::optional<int64_t> YamlReader::duration_ms(const YAML::Node& node, const std::string& what) {
  std::optional<std::string> s = scalar(node, what, "a duration such as 30s");
  if (!s) return std::nullopt;
  std::optional<int64_t> v = parse_duration_ms(*s);
  if (!v) {
    error(node,
          what + ": expected a duration such as 250ms, 30s, 5m, 1h or 7d, got " + shown(node, *s));
  }
  return v;
}

std::optional<uint64_t> YamlReader::size_bytes(const YAML::Node& node, const std::string& what) {
  std::optional<std::string> s = scalar(node, what, "a size such as 64KiB");
  if (!s) return std::nullopt;
  std::optional<uint64_t> v = parse_size_bytes(*s);
  if (!v) {
    error(node,
          what + ": expected a size such as 4096, 64KiB, 1MiB or 2GiB, got " + shown(node, *s));
  }
  return v;
}

std::optional<std::string> YamlReader::one_of(const YAML::Node& node, const std::string& what,
                                              std::initializer_list<std::string_view> allowed) {
  std::optional<std::string> s = scalar(node, what, "one of " + join(allowed));
  if (!s) return std::nullopt;
  for (std::string_view a : allowed) {
    if (a == *s) return s;
  }
  error(node, what + ": unknown value " + shown(node, *s) + "; allowed: " + join(allowed));
  return std::nullopt;
}

std::optional<std::string> read_text_file(const std::string& path, std::string& why) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    why = "it is a directory";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    why = "a read failed";
    return std::nullopt;
  }
  return std::move(buffer).str();
}

}  // namespace corridor::config
