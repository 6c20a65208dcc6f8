// The HTML page of `corridor backtest`.
#pragma once

#include <string>
#include <string_view>

namespace corridor::report {

// Returns one HTML document showing a backtest report: report_json is the JSON object
// `corridor backtest --json` writes (format "corridor.backtest.v1", docs/backtest.md, "The
// JSON report"). The page draws its tables and SVG charts from that JSON with
// its own script when opened; the document is self-contained: it loads nothing from the
// network or the disk (no external scripts, styles, fonts or images), so it can be mailed or
// archived as one file.
//
// report_json is embedded as given, not parsed or validated here: the page itself says when
// it is not a readable report. Whatever it holds (entity ids are untrusted input), it stays
// data: it cannot end the script element it sits in or inject markup.
std::string render_backtest_html(std::string_view report_json);

}  // namespace corridor::report
