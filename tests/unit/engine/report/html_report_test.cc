// render_backtest_html (engine/report/html_report.h): one self-contained document with the
// report embedded as data that nothing in it can turn into markup.
#include "engine/report/html_report.h"

#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <string_view>

#include "engine/report/backtest_report_page.h"

namespace corridor::report {
namespace {

constexpr std::string_view kDataOpen = R"(<script type="application/json" id="report-data">)";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string sample_json() { return read_file(CORRIDOR_TEST_DATA "/backtest/report-sample.json"); }

size_t count(std::string_view haystack, std::string_view needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string_view::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

// The text of the data script as the HTML parser sees it: from the opening tag to the first
// "</script" in any case.
std::string_view data_block(std::string_view html) {
  const size_t open = html.find(kDataOpen);
  EXPECT_NE(open, std::string_view::npos);
  const size_t start = open + kDataOpen.size();
  const size_t end = lower(html).find("</script", start);
  EXPECT_NE(end, std::string::npos);
  return html.substr(start, end - start);
}

// The page without its data block: what the browser parses as markup.
std::string outside_data(std::string_view html) {
  const std::string_view data = data_block(html);
  const size_t start = static_cast<size_t>(data.data() - html.data());
  return std::string(html.substr(0, start)) + std::string(html.substr(start + data.size()));
}

TEST(HtmlReportTest, TemplateHoldsThePlaceholderOnceInsideTheDataScript) {
  const std::string_view page = backtest_report_page();
  const std::string_view placeholder = backtest_report_placeholder();
  EXPECT_EQ(count(page, placeholder), 1u);
  const size_t open = page.find(kDataOpen);
  ASSERT_NE(open, std::string_view::npos);
  EXPECT_EQ(page.find(placeholder), open + kDataOpen.size());
  EXPECT_EQ(page.substr(open + kDataOpen.size() + placeholder.size(), 9), "</script>");
}

TEST(HtmlReportTest, IsOneDocument) {
  const std::string html = render_backtest_html(sample_json());
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>\n")) << html.substr(0, 40);
  EXPECT_TRUE(html.ends_with("</html>\n")) << html.substr(html.size() - 40);
  const std::string l = lower(html);
  EXPECT_EQ(count(l, "<!doctype"), 1u);
  EXPECT_EQ(count(l, "<html"), 1u);
  EXPECT_EQ(count(l, "</html>"), 1u);
  EXPECT_EQ(count(l, "<body"), 1u);
  EXPECT_EQ(count(l, "</body>"), 1u);
  EXPECT_NE(html.find(R"(<meta charset="utf-8">)"), std::string::npos);
}

TEST(HtmlReportTest, LoadsNothingFromOutside) {
  const std::string page = lower(outside_data(render_backtest_html(sample_json())));
  // Every src= or href= in the markup points inside the page.
  const std::regex attribute(R"re(\b(src|href|action|srcset|poster)\s*=\s*["']?([^"'\s>]*))re");
  size_t attributes = 0;
  for (auto it = std::sregex_iterator(page.begin(), page.end(), attribute);
       it != std::sregex_iterator(); ++it) {
    ++attributes;
    EXPECT_TRUE((*it)[2].str().starts_with("#")) << it->str();
  }
  EXPECT_EQ(attributes, 0u) << "the template's own markup needs no src= or href= at all";
  // The only URL is the SVG namespace name, which names and never loads.
  const std::string svg_namespace = "http://www.w3.org/2000/svg";
  EXPECT_EQ(count(page, "http://"), count(page, svg_namespace));
  EXPECT_GE(count(page, svg_namespace), 1u);
  EXPECT_EQ(count(page, "https://"), 0u);
  EXPECT_EQ(count(page, "//cdn"), 0u);
  for (std::string_view loader : {"url(", "@import", "@font-face", "<link", "<iframe", "<img",
                                  "<object", "<embed", "fetch(", "xmlhttprequest", "import("}) {
    EXPECT_EQ(count(page, loader), 0u) << loader;
  }
  // Two scripts, both inline.
  EXPECT_EQ(count(page, "<script"), 2u);
  EXPECT_EQ(count(page, "<script src"), 0u);
}

TEST(HtmlReportTest, TheOnlyScriptEndTagsAreThePagesOwn) {
  const std::string sample = sample_json();
  ASSERT_NE(sample.find("</script>"), std::string::npos) << "the sample holds a hostile entity id";
  ASSERT_NE(sample.find("<!--"), std::string::npos) << "the sample holds a hostile entity id";
  const std::string html = lower(render_backtest_html(sample));
  const std::string page = lower(backtest_report_page());
  EXPECT_EQ(count(page, "</script"), 2u);
  EXPECT_EQ(count(html, "</script"), count(page, "</script"));
  EXPECT_EQ(count(html, "<!--"), count(page, "<!--"));
}

TEST(HtmlReportTest, DataRoundTrips) {
  const std::string sample = sample_json();
  const std::string html = render_backtest_html(sample);
  std::string data(data_block(html));
  EXPECT_EQ(data.find("</"), std::string::npos);
  replace_all(data, "<\\/", "</");
  replace_all(data, "\\u003c!--", "<!--");
  EXPECT_EQ(data, sample);
}

TEST(HtmlReportTest, HostileStringsStayData) {
  const std::string_view page = backtest_report_page();
  const size_t at = page.find(backtest_report_placeholder());
  const std::string_view head = page.substr(0, at);
  const std::string_view tail = page.substr(at + backtest_report_placeholder().size());
  for (const std::string json : {
           R"({"id":"evil</script><img src=x onerror=alert(1)>"})",
           R"({"id":"</SCRIPT ><script>alert(1)</ScRiPt>"})",
           R"({"id":"<!--<script>","x":"</script>"})",
           R"({"id":"<</<!--<!-</"})",
           R"(["</style></head><body onload=alert(1)>"])",
           "\"<\"",
           "\"<!-\"",
           "</",
           "<!--",
           "",
           "not json at all </script>",
       }) {
    const std::string html = render_backtest_html(json);
    ASSERT_TRUE(html.starts_with(head)) << json;
    ASSERT_TRUE(html.ends_with(tail)) << json;
    const std::string embedded = html.substr(head.size(), html.size() - head.size() - tail.size());
    EXPECT_EQ(embedded.find("</"), std::string::npos) << json;
    EXPECT_EQ(embedded.find("<!--"), std::string::npos) << json;
    // The data ends where the page's own end tag starts.
    EXPECT_EQ(data_block(html), embedded) << json;
    std::string undone = embedded;
    replace_all(undone, "<\\/", "</");
    replace_all(undone, "\\u003c!--", "<!--");
    EXPECT_EQ(undone, json);
  }
}

TEST(HtmlReportTest, LeavesEverythingElseAsGiven) {
  // UTF-8 and JSON escapes pass through byte for byte.
  const std::string json =
      "{\"name\":\"Nguy\xe1\xbb\x85n Th\xe1\xbb\x8b H\xc6\xb0\xc6\xa1ng\","
      "\"esc\":\"a\\u003cb\\\"c\\\\d\",\"lt\":\"1 < 2 > 0\"}";
  EXPECT_EQ(std::string(data_block(render_backtest_html(json))), json);
}

}  // namespace
}  // namespace corridor::report
