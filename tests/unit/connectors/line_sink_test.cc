// LineSink (connectors/file/line_sink.h): one record per line to a file.
#include "connectors/file/line_sink.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace corridor::connectors::file {
namespace {

namespace fs = std::filesystem;

class LineSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("line_sink_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "out.ndjson").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string contents() const {
    std::ifstream in(path_, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(LineSinkTest, WritesOneRecordPerLine) {
  {
    LineSink sink(path_);
    sink.write(R"({"a":1})");
    sink.write("", "key-is-ignored");
    sink.write("x y", "k");
  }
  EXPECT_EQ(contents(), "{\"a\":1}\n\nx y\n");
}

TEST_F(LineSinkTest, FlushMakesWrittenLinesVisible) {
  LineSink sink(path_);
  sink.write("first");
  sink.flush();
  EXPECT_EQ(contents(), "first\n");
  sink.write("second");
  sink.write("third");
  sink.flush();
  EXPECT_EQ(contents(), "first\nsecond\nthird\n");
  sink.flush();  // nothing new: harmless
  EXPECT_EQ(contents(), "first\nsecond\nthird\n");
}

TEST_F(LineSinkTest, LargeVolumesArriveComplete) {
  std::string expected;
  {
    LineSink sink(path_);
    for (int i = 0; i < 20'000; ++i) {
      const std::string line =
          "record " + std::to_string(i) + std::string(static_cast<size_t>(i % 97), '.');
      sink.write(line);
      expected += line + "\n";
      if (i % 5000 == 0) sink.flush();
    }
    sink.flush();
    EXPECT_EQ(contents(), expected);
  }
  EXPECT_EQ(contents(), expected);
}

TEST_F(LineSinkTest, TruncatesAnExistingFileByDefault) {
  { std::ofstream(path_) << "old content\n"; }
  {
    LineSink sink(path_);
    sink.write("new");
  }
  EXPECT_EQ(contents(), "new\n");
}

TEST_F(LineSinkTest, AppendModeKeepsExistingLines) {
  { std::ofstream(path_) << "old 1\nold 2\n"; }
  {
    LineSink sink(path_, /*append=*/true);
    sink.write("new 1");
    sink.flush();
    EXPECT_EQ(contents(), "old 1\nold 2\nnew 1\n");
    sink.write("new 2");
  }
  {
    LineSink sink(path_, /*append=*/true);
    sink.write("new 3");
  }
  EXPECT_EQ(contents(), "old 1\nold 2\nnew 1\nnew 2\nnew 3\n");
}

TEST_F(LineSinkTest, AppendModeCreatesAMissingFile) {
  {
    LineSink sink(path_, /*append=*/true);
    sink.write("only");
  }
  EXPECT_EQ(contents(), "only\n");
}

TEST_F(LineSinkTest, UnopenablePathIsASinkError) {
  const std::string bad = (dir_ / "no-such-dir" / "out.ndjson").string();
  try {
    LineSink sink(bad);
    FAIL() << "expected pipeline::SinkError";
  } catch (const pipeline::SinkError& e) {
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
  }
}

TEST_F(LineSinkTest, FlushReportsAFullDevice) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full on this system";
  LineSink sink("/dev/full");
  sink.write("does not fit");  // buffered
  EXPECT_THROW(sink.flush(), pipeline::SinkError);
}

}  // namespace
}  // namespace corridor::connectors::file
