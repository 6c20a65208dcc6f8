// A problem in a config file, located to the character.
#pragma once

#include <string>
#include <vector>

namespace corridor::config {

struct Diagnostic {
  std::string file;
  int line = 0;    // 1-based
  int column = 0;  // 1-based
  std::string message;

  // "file:line:col: error: message", the form compilers and editors understand.
  std::string format() const;
};

std::string format_all(const std::vector<Diagnostic>& diagnostics);

}  // namespace corridor::config
