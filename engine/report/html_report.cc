#include "engine/report/html_report.h"

#include "engine/report/backtest_report_page.h"

namespace corridor::report {
namespace {

// Inside <script type="application/json"> the HTML parser ends the element at the first
// "</script" (any case) and treats "<!--" as the start of an escape that can swallow the real
// end tag. "<" occurs in JSON only inside strings, where "<\/" still reads as "</" and
// "\u003c" as "<", so rewriting those two sequences changes no value the page parses.
void append_escaped_json(std::string& out, std::string_view json) {
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (c == '<' && json.substr(i + 1, 1) == "/") {
      out += "<\\/";
      ++i;
    } else if (c == '<' && json.substr(i + 1, 3) == "!--") {
      out += "\\u003c!--";
      i += 3;
    } else {
      out += c;
    }
  }
}

}  // namespace

std::string render_backtest_html(std::string_view report_json) {
  const std::string_view page = backtest_report_page();
  const std::string_view placeholder = backtest_report_placeholder();
  // The build guarantees the placeholder is in the page exactly once (embed_text.cmake).
  const size_t at = page.find(placeholder);
  std::string out;
  out.reserve(page.size() + report_json.size() + report_json.size() / 16);
  out.append(page.substr(0, at));
  append_escaped_json(out, report_json);
  out.append(page.substr(at + placeholder.size()));
  return out;
}

}  // namespace corridor::report
