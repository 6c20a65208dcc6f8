// Reading YAML config with every error collected and located (file:line:col).
// Internal to config loaders: includes yaml-cpp, so include it only from .cc files.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/config/diagnostic.h"
#include "engine/config/engine_config.h"

namespace corridor::config {

class YamlReader {
 public:
  YamlReader(std::string file, std::vector<Diagnostic>& errors, const EnvLookup& env)
      : file_(std::move(file)), errors_(errors), env_(env) {}

  void error(const YAML::Node& at, const std::string& message);
  void error(const YAML::Mark& at, const std::string& message);
  // A YAML syntax error in `text` (the file's content): yaml-cpp's wording made plainer; a
  // flow list or mapping never closed is reported at its opening bracket, where yaml-cpp
  // reports the place it gave up; a tab in indentation is named as the cause.
  void syntax_error(const std::string& text, const YAML::ParserException& e);
  // An error in another file the config names (a list or table file), at line:column.
  void error_in(const std::string& file, int line, int column, const std::string& message) {
    errors_.push_back(Diagnostic{file, line, column, message});
  }

  // `node` must be a mapping whose keys are all in `allowed`; reports the node's type,
  // unknown keys (listing the allowed ones) and duplicate keys. `what` names the node
  // in messages ("sources[0]").
  bool expect_map(const YAML::Node& node, const std::string& what,
                  std::initializer_list<std::string_view> allowed);
  bool expect_map(const YAML::Node& node, const std::string& what,
                  std::span<const std::string_view> allowed);
  // A mapping with free keys (rates, value maps): reports type and duplicate keys.
  bool expect_free_map(const YAML::Node& node, const std::string& what);
  bool expect_sequence(const YAML::Node& node, const std::string& what);
  // Where `node` is, as a diagnostic without a message yet but `what` ("rules.packs[1]"):
  // for errors about what the node names, found later (a file that cannot be read).
  Diagnostic site(const YAML::Node& node, const std::string& what) const {
    const YAML::Mark at = node.Mark();
    return Diagnostic{file_, at.line + 1, at.column + 1, what};
  }
  // A scalar, taken as written (no ${ENV} substitution): test data rather than settings.
  bool expect_text(const YAML::Node& node, const std::string& what);

  // Scalars, with ${ENV} substitution: ${NAME} is the variable's value (an error when it
  // is unset), ${NAME:-text} falls back to `text` when NAME is unset or empty, $$ is one
  // literal $; $NAME without braces is an error rather than silently kept as text.
  // nullopt (and an error) when invalid.
  std::optional<std::string> string(const YAML::Node& node, const std::string& what);
  // As string(); `expected` names what a non-scalar should have been ("an integer").
  std::optional<std::string> scalar(const YAML::Node& node, const std::string& what,
                                    std::string_view expected);
  std::optional<int64_t> integer(const YAML::Node& node, const std::string& what, int64_t min,
                                 int64_t max);
  std::optional<bool> boolean(const YAML::Node& node, const std::string& what);
  std::optional<int64_t> duration_ms(const YAML::Node& node, const std::string& what);
  std::optional<uint64_t> size_bytes(const YAML::Node& node, const std::string& what);
  std::optional<std::string> one_of(const YAML::Node& node, const std::string& what,
                                    std::initializer_list<std::string_view> allowed);

  // How a value appears in a message: quoted, or, when it came from ${ENV} substitution,
  // the reference as written ('${DB_PASSWORD}') so a secret never reaches a log.
  static std::string shown(const YAML::Node& node, const std::string& value);

  // Reports a missing required key at its parent mapping.
  void missing(const YAML::Node& parent, const std::string& what, const std::string& key);

  const std::string& file() const noexcept { return file_; }
  size_t error_count() const noexcept { return errors_.size(); }

 private:
  std::optional<std::string> substitute(const YAML::Node& node, const std::string& what,
                                        const std::string& raw);
  // Remembers where the keys of null values are: yaml-cpp marks a null value at the
  // token after it (often the next line), so errors about it point at its key instead.
  void note_null_values(const YAML::Node& map);

  std::string file_;
  std::vector<Diagnostic>& errors_;
  const EnvLookup& env_;
  std::vector<std::pair<YAML::Node, YAML::Mark>> null_value_keys_;
};

std::string join(std::span<const std::string_view> items);
inline std::string join(std::initializer_list<std::string_view> items) {
  return join(std::span<const std::string_view>(items.begin(), items.size()));
}
std::string_view node_type_name(const YAML::Node& node);

// The bytes of the file at `path`; nullopt when it cannot be read, with the reason in `why`:
// "it is a directory" (which a stream would read as an empty file), or the system's message.
std::optional<std::string> read_text_file(const std::string& path, std::string& why);

}  // namespace corridor::config
