// The page template, embedded at build time from engine/report/backtest_report.html
// (see embed_text.cmake). Internal to corridor_report.
#pragma once

#include <string_view>

namespace corridor::report {

// The bytes of backtest_report.html.
std::string_view backtest_report_page() noexcept;
// The marker the page holds exactly once, inside its JSON data script, where the report goes.
std::string_view backtest_report_placeholder() noexcept;

}  // namespace corridor::report
