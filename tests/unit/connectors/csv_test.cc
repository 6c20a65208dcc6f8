// CSV import (connectors/csv/csv.h): row splitting, the header, and the CSV decoder over an
// AMLSim-shaped transaction file.
#include "connectors/csv/csv.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/event/timestamp.h"
#include "engine/pipeline/source.h"

namespace corridor::connectors::csv {
namespace {

namespace fs = std::filesystem;
using event::Field;

std::vector<std::string> split(std::string_view row, char delimiter = ',') {
  std::vector<std::string_view> cells{"stale"};
  std::string scratch = "stale";
  EXPECT_TRUE(split_row(row, delimiter, cells, scratch)) << row;
  return {cells.begin(), cells.end()};
}

bool splits(std::string_view row) {
  std::vector<std::string_view> cells;
  std::string scratch;
  return split_row(row, ',', cells, scratch);
}

using Cells = std::vector<std::string>;

TEST(SplitRow, PlainCells) {
  EXPECT_EQ(split("a,b,c"), (Cells{"a", "b", "c"}));
  EXPECT_EQ(split("single"), (Cells{"single"}));
  EXPECT_EQ(split("1,2.5,-3,x y z"), (Cells{"1", "2.5", "-3", "x y z"}));
}

TEST(SplitRow, EmptyCells) {
  EXPECT_EQ(split(""), (Cells{""}));
  EXPECT_EQ(split(","), (Cells{"", ""}));
  EXPECT_EQ(split(",,"), (Cells{"", "", ""}));
  EXPECT_EQ(split("a,,c"), (Cells{"a", "", "c"}));
  EXPECT_EQ(split("a,"), (Cells{"a", ""}));
  EXPECT_EQ(split(",a"), (Cells{"", "a"}));
  EXPECT_EQ(split(R"("",x)"), (Cells{"", "x"}));
}

TEST(SplitRow, QuotedCells) {
  EXPECT_EQ(split(R"("a,b",c)"), (Cells{"a,b", "c"}));
  EXPECT_EQ(split(R"(x,"y z","")"), (Cells{"x", "y z", ""}));
  EXPECT_EQ(split(R"("only")"), (Cells{"only"}));
  EXPECT_EQ(split(R"("line ; with ; semicolons")"), (Cells{"line ; with ; semicolons"}));
}

TEST(SplitRow, DoubledQuotesAreUnescaped) {
  EXPECT_EQ(split(R"("say ""hi""",x)"), (Cells{"say \"hi\"", "x"}));
  EXPECT_EQ(split(R"("""")"), (Cells{"\""}));
  EXPECT_EQ(split(R"("a""b","c""d","e")"), (Cells{"a\"b", "c\"d", "e"}));
  EXPECT_EQ(split(R"(plain,"q""",tail)"), (Cells{"plain", "q\"", "tail"}));
}

TEST(SplitRow, ViewsStayValidTogether) {
  // Many escaped cells in one row: all of their views into `scratch` must stay valid.
  std::string row;
  Cells expected;
  for (int i = 0; i < 50; ++i) {
    row += (i ? "," : "") + std::string("\"v") + std::to_string(i) + "\"\"q\"";
    expected.push_back("v" + std::to_string(i) + "\"q");
  }
  std::vector<std::string_view> cells;
  std::string scratch;
  ASSERT_TRUE(split_row(row, ',', cells, scratch));
  EXPECT_EQ(Cells(cells.begin(), cells.end()), expected);
}

TEST(SplitRow, OtherDelimiters) {
  EXPECT_EQ(split("a;b;\"c;d\"", ';'), (Cells{"a", "b", "c;d"}));
  EXPECT_EQ(split("a\tb,c\t", '\t'), (Cells{"a", "b,c", ""}));
}

TEST(SplitRow, UnbalancedAndMisplacedQuotes) {
  EXPECT_FALSE(splits(R"("abc)"));
  EXPECT_FALSE(splits(R"(a,"bc)"));
  EXPECT_FALSE(splits(R"("a""")"
                      "\""));         // """" then a lone quote: unbalanced
  EXPECT_FALSE(splits(R"(ab"c)"));    // a quote inside an unquoted cell
  EXPECT_FALSE(splits(R"("a"b,c)"));  // text after the closing quote
  EXPECT_FALSE(splits("\""));
}

class CsvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("csv_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // AMLSim's transactions: steps are days from a chosen origin.
    ASSERT_TRUE(event::parse_rfc3339("2024-01-01T00:00:00Z", origin_ms_));
    map_column(Field::sender_id, "sourceNodeId");
    map_column(Field::receiver_id, "targetNodeId");
    map_column(Field::amount, "value");
    map_column(Field::ts, "time");
    rule(Field::ts).time_scale = event::TimeScale{86'400'000, origin_ms_};
    rule(Field::id).line_number_prefix = "amlsim-";
    rule(Field::kind).default_value = "transfer";
    rule(Field::currency).default_value = "USD";
  }
  void TearDown() override { fs::remove_all(dir_); }

  event::FieldRule& rule(Field f) { return schema_.fields[static_cast<size_t>(f)]; }
  void map_column(Field f, std::string column) {
    rule(f).column = std::move(column);
    rule(f).mapped = true;
  }

  std::string write(const std::string& name, std::string_view content) {
    const fs::path p = dir_ / name;
    std::ofstream out(p, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    return p.string();
  }

  fs::path dir_;
  int64_t origin_ms_ = 0;
  event::Schema schema_;  // nothing mapped until SetUp maps the AMLSim columns
  event::CurrencyTable currencies_;
  event::DecodeLimits limits_;
};

TEST_F(CsvTest, SourceReadsTheHeaderAndNumbersDataRowsByFileLine) {
  const std::string path = write("h.csv", "a,\"b,c\",d\r\n1,2,3\n\n4,5,6\n");
  CsvSource source("imports", path, ',', 1 << 20);
  EXPECT_EQ(source.name(), "imports");
  EXPECT_EQ(source.delimiter(), ',');
  EXPECT_EQ(source.header(), (std::vector<std::string>{"a", "b,c", "d"}));
  pipeline::RecordBatch batch;
  ASSERT_TRUE(source.next_batch(batch, 10));
  ASSERT_EQ(batch.records.size(), 3U);
  EXPECT_EQ(batch.records[0].bytes, "1,2,3");
  EXPECT_EQ(batch.records[0].line, 2U);
  EXPECT_EQ(batch.records[0].offset, 11U);
  EXPECT_EQ(batch.records[1].bytes, "");
  EXPECT_EQ(batch.records[1].line, 3U);
  EXPECT_EQ(batch.records[2].bytes, "4,5,6");
  EXPECT_EQ(batch.records[2].line, 4U);
  EXPECT_FALSE(source.next_batch(batch, 10));
}

TEST_F(CsvTest, HeaderOnlyFileHasNoRows) {
  const std::string path = write("header_only.csv", "a,b\n");
  CsvSource source("s", path, ',', 1 << 20);
  EXPECT_EQ(source.header(), (std::vector<std::string>{"a", "b"}));
  pipeline::RecordBatch batch;
  EXPECT_FALSE(source.next_batch(batch, 10));
}

TEST_F(CsvTest, EmptyFileOrBadHeaderIsASourceError) {
  EXPECT_THROW(CsvSource("s", write("empty.csv", ""), ',', 1 << 20), pipeline::SourceError);
  EXPECT_THROW(CsvSource("s", write("bad.csv", "a,\"b\n1,2\n"), ',', 1 << 20),
               pipeline::SourceError);
  EXPECT_THROW(CsvSource("s", (dir_ / "missing.csv").string(), ',', 1 << 20),
               pipeline::SourceError);
}

constexpr std::string_view kAmlsim =
    "sourceNodeId,targetNodeId,value,time\n"
    "1001,2002,100.5,0\n"
    "1003,2002,250,1\n"
    "\"1001\",\"2004\",\"0.01\",\"31\"\n"
    "1005,2006,9999.9999,365\n";

TEST_F(CsvTest, DecodesAnAmlsimTransactionFile) {
  const std::string path = write("transactions.csv", kAmlsim);
  CsvSource source("amlsim", path, ',', 1 << 20);
  const auto decoder = make_csv_decoder(schema_, source.header(), ',', currencies_, limits_);
  pipeline::RecordBatch batch;
  ASSERT_TRUE(source.next_batch(batch, 100));
  ASSERT_EQ(batch.records.size(), 4U);
  struct Expected {
    const char* id;
    const char* sender;
    const char* receiver;
    int64_t units;
    const char* ts;
  };
  const Expected expected[] = {
      {"amlsim-2", "1001", "2002", 1'005'000, "2024-01-01T00:00:00.000Z"},
      {"amlsim-3", "1003", "2002", 2'500'000, "2024-01-02T00:00:00.000Z"},
      {"amlsim-4", "1001", "2004", 100, "2024-02-01T00:00:00.000Z"},
      {"amlsim-5", "1005", "2006", 99'999'999, "2024-12-31T00:00:00.000Z"},
  };
  for (size_t i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    event::Event e;
    event::DecodeError error;
    ASSERT_TRUE(decoder->decode(batch.records[i], e, error)) << error.detail;
    EXPECT_EQ(e.id, expected[i].id);
    EXPECT_EQ(e.sender.id, expected[i].sender);
    EXPECT_EQ(e.receiver.id, expected[i].receiver);
    EXPECT_EQ(e.amount.units, expected[i].units);
    EXPECT_EQ(e.amount_base.units, expected[i].units);
    EXPECT_EQ(event::format_rfc3339(e.ts_ms), expected[i].ts);
    EXPECT_EQ(e.kind, event::Kind::transfer);
    EXPECT_EQ(e.currency.view(), "USD");
    EXPECT_FALSE(e.has(Field::channel));
    EXPECT_FALSE(e.has(Field::sender_name));
  }
}

TEST_F(CsvTest, ColumnOrderInTheFileDoesNotMatter) {
  const std::string path =
      write("reordered.csv", "time,value,extra,targetNodeId,sourceNodeId\n2,42,ignored,B,A\n");
  CsvSource source("amlsim", path, ',', 1 << 20);
  const auto decoder = make_csv_decoder(schema_, source.header(), ',', currencies_, limits_);
  pipeline::RecordBatch batch;
  ASSERT_TRUE(source.next_batch(batch, 10));
  event::Event e;
  event::DecodeError error;
  ASSERT_TRUE(decoder->decode(batch.records[0], e, error)) << error.detail;
  EXPECT_EQ(e.sender.id, "A");
  EXPECT_EQ(e.receiver.id, "B");
  EXPECT_EQ(e.amount.units, 420'000);
  EXPECT_EQ(e.ts_ms, origin_ms_ + 2 * 86'400'000);
  EXPECT_EQ(e.id, "amlsim-2");
}

TEST_F(CsvTest, MissingColumnIsInvalidArgumentNamingTheColumn) {
  const std::vector<std::string> header = {"sourceNodeId", "targetNodeId", "time"};
  try {
    make_csv_decoder(schema_, header, ',', currencies_, limits_);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()),
              "column 'value' (for amount) is not in the header; the header has: sourceNodeId, "
              "targetNodeId, time");
  }
  // A first line with none of the mapped columns is likely data: its cells are not shown.
  try {
    make_csv_decoder(schema_, {"280", "15349", "147.8", "1"}, ',', currencies_, limits_);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()),
              "column 'time' (for ts) is not in the header, nor is any other "
              "mapped column: the first line (4 cells) must be the header");
  }
}

class CsvRowTest : public CsvTest {
 protected:
  void SetUp() override {
    CsvTest::SetUp();
    decoder_ = make_csv_decoder(schema_, header_, ',', currencies_, limits_);
  }

  bool decode(std::string_view row, uint64_t line = 2) {
    buffer_.assign(row);
    buffer_.append(pipeline::kRecordPadding, '\0');
    pipeline::Record r;
    r.bytes = std::string_view(buffer_.data(), row.size());
    r.line = line;
    error_ = {};
    return decoder_->decode(r, event_, error_);
  }

  const std::vector<std::string> header_ = {"sourceNodeId", "targetNodeId", "value", "time"};
  std::unique_ptr<event::Decoder> decoder_;
  std::string buffer_;
  event::Event event_;
  event::DecodeError error_;
};

TEST_F(CsvRowTest, WrongCellCountIsMalformed) {
  EXPECT_FALSE(decode("1,2,3"));
  EXPECT_EQ(error_.reason, event::Reason::malformed_json);
  EXPECT_EQ(error_.detail, "CSV row has 3 cells, the header has 4");
  EXPECT_FALSE(decode("1,2,3,4,5"));
  EXPECT_EQ(error_.reason, event::Reason::malformed_json);
  EXPECT_EQ(error_.detail, "CSV row has 5 cells, the header has 4");
  EXPECT_FALSE(decode(""));
  EXPECT_EQ(error_.reason, event::Reason::malformed_json);
  EXPECT_EQ(error_.detail, "CSV row has 1 cells, the header has 4");
}

TEST_F(CsvRowTest, UnbalancedQuoteIsMalformed) {
  EXPECT_FALSE(decode("1,\"2,3,4"));
  EXPECT_EQ(error_.reason, event::Reason::malformed_json);
  EXPECT_EQ(error_.detail, "malformed CSV row: unbalanced or misplaced quote");
}

TEST_F(CsvRowTest, EmptyCellIsAbsent) {
  EXPECT_FALSE(decode("1,,5,0"));
  EXPECT_EQ(error_.reason, event::Reason::missing_field);
  EXPECT_EQ(error_.detail, "receiver.id: required for kind transfer");
  EXPECT_FALSE(decode("1,2,,0"));
  EXPECT_EQ(error_.reason, event::Reason::missing_field);
  EXPECT_EQ(error_.detail, "amount: required");
}

TEST_F(CsvRowTest, BadCellValuesUseTheBuilderReasons) {
  EXPECT_FALSE(decode("1,2,abc,0"));
  EXPECT_EQ(error_.reason, event::Reason::bad_value);
  EXPECT_EQ(error_.detail, "amount: \"abc\" is not a decimal number");
  EXPECT_FALSE(decode("1,2,5,day3"));
  EXPECT_EQ(error_.reason, event::Reason::bad_timestamp);
  EXPECT_EQ(error_.detail, "ts: \"day3\" is not an RFC 3339 date-time with a zone");
  EXPECT_FALSE(decode("1,2,5,1.5"));
  EXPECT_EQ(error_.reason, event::Reason::bad_timestamp);
}

TEST_F(CsvRowTest, TruncatedRowIsTooLarge) {
  buffer_ = std::string(50, '1') + std::string(pipeline::kRecordPadding, '\0');
  pipeline::Record r;
  r.bytes = std::string_view(buffer_.data(), 50);
  r.truncated = true;
  EXPECT_FALSE(decoder_->decode(r, event_, error_));
  EXPECT_EQ(error_.reason, event::Reason::too_large);
}

TEST_F(CsvRowTest, DecoderIsReusableAfterErrors) {
  EXPECT_TRUE(decode("1,2,3,4", 2)) << error_.detail;
  EXPECT_FALSE(decode("1,2", 3));
  EXPECT_TRUE(decode("5,6,7,8", 4)) << error_.detail;
  EXPECT_EQ(event_.id, "amlsim-4");
  EXPECT_EQ(event_.sender.id, "5");
  EXPECT_EQ(event_.amount.units, 70'000);
}

}  // namespace
}  // namespace corridor::connectors::csv
