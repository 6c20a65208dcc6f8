# cmake -DINPUT=page.html -DOUTPUT=page.cc -DPLACEHOLDER=@X@ -P embed_text.cmake
#
# Writes OUTPUT, a C++ source defining corridor::report::backtest_report_page(): the bytes of
# INPUT as one raw string literal. Fails when INPUT holds the literal's closing delimiter or
# does not hold PLACEHOLDER (where the renderer puts the JSON) exactly once, so a broken page
# is a build error rather than a broken report.
foreach(var INPUT OUTPUT PLACEHOLDER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_text.cmake: ${var} is not set")
  endif()
endforeach()

file(READ "${INPUT}" page)
set(delimiter "corridor_page")
string(FIND "${page}" ")${delimiter}\"" found)
if(NOT found EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains ')${delimiter}\"', the end of the raw string it is embedded in")
endif()
string(FIND "${page}" "${PLACEHOLDER}" first)
string(FIND "${page}" "${PLACEHOLDER}" last REVERSE)
if(first EQUAL -1 OR NOT first EQUAL last)
  message(FATAL_ERROR "${INPUT} must contain ${PLACEHOLDER} exactly once")
endif()

set(content "// Generated from ${INPUT} by embed_text.cmake. Do not edit.\n")
string(APPEND content "#include <string_view>\n\n")
string(APPEND content "#include \"engine/report/backtest_report_page.h\"\n\n")
string(APPEND content "namespace corridor::report {\n")
string(APPEND content "std::string_view backtest_report_page() noexcept {\n")
string(APPEND content "  static constexpr std::string_view kPage = R\"${delimiter}(${page})${delimiter}\";\n")
string(APPEND content "  return kPage;\n}\n")
string(APPEND content "std::string_view backtest_report_placeholder() noexcept { return \"${PLACEHOLDER}\"; }\n")
string(APPEND content "}  // namespace corridor::report\n")

file(WRITE "${OUTPUT}" "${content}")
