// render_report_sample REPORT.json OUT.html: writes the HTML page of a backtest report, so
// the page's script can be checked by Node on a real rendering (render_check.js).
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

#include "engine/report/html_report.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: render_report_sample REPORT.json OUT.html\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::cerr << "render_report_sample: cannot read " << argv[1] << "\n";
    return 1;
  }
  const std::string json{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
  out << corridor::report::render_backtest_html(json);
  out.close();
  if (!out) {
    std::cerr << "render_report_sample: cannot write " << argv[2] << "\n";
    return 1;
  }
  return 0;
}
