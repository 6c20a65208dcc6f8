// LineReader (connectors/file/line_reader.h): newline-delimited records from plain and gzip
// files, exact line numbers and byte offsets, batching, and the hard line limit.
#include "connectors/file/line_reader.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "engine/pipeline/source.h"

namespace corridor::connectors::file {
namespace {

namespace fs = std::filesystem;

// A record copied out of the reader's buffer.
struct Line {
  std::string bytes;
  uint64_t offset = 0;
  uint64_t line = 0;
  bool truncated = false;
  friend bool operator==(const Line&, const Line&) = default;
};

void PrintTo(const Line& l, std::ostream* os) {
  *os << "{line " << l.line << ", offset " << l.offset << (l.truncated ? ", truncated" : "") << ", "
      << l.bytes.size() << " bytes \"" << l.bytes.substr(0, 40)
      << (l.bytes.size() > 40 ? "..." : "") << "\"}";
}

class LineReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("line_reader_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write_plain(const std::string& name, std::string_view content) {
    const fs::path p = dir_ / name;
    std::ofstream out(p, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    return p.string();
  }

  std::string write_gzip(const std::string& name, std::string_view content) {
    const fs::path p = dir_ / name;
    gzFile f = gzopen(p.c_str(), "wb");
    EXPECT_NE(f, nullptr);
    // Written in pieces so the compressed stream is not one trivial block.
    for (size_t at = 0; at < content.size(); at += 100'000) {
      const size_t n = std::min<size_t>(100'000, content.size() - at);
      EXPECT_EQ(gzwrite(f, content.data() + at, static_cast<unsigned>(n)), static_cast<int>(n));
    }
    EXPECT_EQ(gzclose(f), Z_OK);
    return p.string();
  }

  // Reads everything with batches of `max_records`, checking the batch contract on the way.
  static std::vector<Line> read_all(LineReader& reader, size_t max_records,
                                    std::vector<size_t>* batch_sizes = nullptr) {
    std::vector<Line> out;
    pipeline::RecordBatch batch;
    batch.records.push_back({});  // must be replaced, not appended to
    while (reader.next_batch(batch, max_records)) {
      EXPECT_FALSE(batch.records.empty());
      EXPECT_LE(batch.records.size(), max_records);
      if (batch_sizes != nullptr) batch_sizes->push_back(batch.records.size());
      for (const pipeline::Record& r : batch.records) {
        // The padding after every record is readable (ASan checks this).
        volatile char last_pad = r.bytes.data()[r.bytes.size() + pipeline::kRecordPadding - 1];
        (void)last_pad;
        out.push_back({std::string(r.bytes), r.offset, r.line, r.truncated});
      }
      const pipeline::Record& last = batch.records.back();
      EXPECT_GT(batch.end_offset, last.offset);
    }
    EXPECT_TRUE(batch.records.empty());
    EXPECT_FALSE(reader.next_batch(batch, max_records));  // end stays the end
    return out;
  }

  fs::path dir_;
};

TEST_F(LineReaderTest, PlainFileLinesOffsetsAndNumbers) {
  const std::string path = write_plain("plain.ndjson", "alpha\nbe\n\ngamma delta\n");
  LineReader reader(path, 1 << 20);
  EXPECT_EQ(read_all(reader, 100), (std::vector<Line>{{"alpha", 0, 1, false},
                                                      {"be", 6, 2, false},
                                                      {"", 9, 3, false},
                                                      {"gamma delta", 10, 4, false}}));
}

TEST_F(LineReaderTest, EndOffsetIsWhereAResumeStarts) {
  const std::string path = write_plain("resume.ndjson", "one\ntwo\nthree\n");
  LineReader reader(path, 1 << 20);
  pipeline::RecordBatch batch;
  ASSERT_TRUE(reader.next_batch(batch, 2));
  EXPECT_EQ(batch.end_offset, 8U);  // after "one\ntwo\n"
  ASSERT_TRUE(reader.next_batch(batch, 2));
  ASSERT_EQ(batch.records.size(), 1U);
  EXPECT_EQ(batch.end_offset, 14U);
  EXPECT_FALSE(reader.next_batch(batch, 2));
}

TEST_F(LineReaderTest, GzipFileReadsLikeThePlainFile) {
  std::string content;
  for (int i = 0; i < 5000; ++i) {
    content += R"({"id":"e-)" + std::to_string(i) + R"(","n":)" + std::to_string(i * 7) + "}\n";
    if (i % 1000 == 0) content += "\n";
  }
  const std::string gz = write_gzip("events.ndjson.gz", content);
  const std::string plain = write_plain("events.ndjson", content);
  // The file on disk really is compressed.
  EXPECT_LT(fs::file_size(gz), content.size() / 2);
  LineReader gz_reader(gz, 1 << 20);
  LineReader plain_reader(plain, 1 << 20);
  const std::vector<Line> from_gz = read_all(gz_reader, 333);
  const std::vector<Line> from_plain = read_all(plain_reader, 333);
  ASSERT_EQ(from_gz.size(), 5005U);
  EXPECT_EQ(from_gz, from_plain);
  EXPECT_EQ(from_gz[0], (Line{R"({"id":"e-0","n":0})", 0, 1, false}));
  EXPECT_EQ(from_gz[1], (Line{"", 19, 2, false}));
  EXPECT_EQ(from_gz[2], (Line{R"({"id":"e-1","n":7})", 20, 3, false}));
  // Offsets are into the decompressed input: each record's bytes sit at its offset.
  for (const Line& l : from_gz) {
    ASSERT_EQ(content.compare(l.offset, l.bytes.size(), l.bytes), 0) << l.line;
  }
}

TEST_F(LineReaderTest, TruncatedGzipIsASourceError) {
  std::string content;
  for (int i = 0; i < 20000; ++i) content += "line " + std::to_string(i * 7919) + "\n";
  const std::string gz = write_gzip("cut.ndjson.gz", content);
  fs::resize_file(gz, fs::file_size(gz) / 2);
  LineReader reader(gz, 1 << 20);
  pipeline::RecordBatch batch;
  EXPECT_THROW(
      {
        while (reader.next_batch(batch, 1000)) {
        }
      },
      pipeline::SourceError);
}

// A pipe (a FIFO here; stdin alike) is read as a live feed, with read() rather than zlib's
// gzread, and gzip inflated on the way: the same records as from the file, whatever pieces
// the writer sends, gzip members concatenated included; a gzip stream cut short is an error.
TEST_F(LineReaderTest, APipeReadsLikeTheFilePlainOrGzip) {
  std::string content;
  for (int i = 0; i < 3000; ++i) content += "record " + std::to_string(i * 7919) + "\n";
  const std::string file = write_plain("events.ndjson", content);
  LineReader from_file(file, 1 << 20);
  const std::vector<Line> expected = read_all(from_file, 100);
  const auto gzipped = [&](std::string_view part) {
    std::ifstream in(write_gzip("part.gz", part), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  // The content as two gzip members, one after the other.
  const std::string half = gzipped(std::string_view(content).substr(0, 20000)) +
                           gzipped(std::string_view(content).substr(20000));
  const auto through_fifo = [&](const std::string& bytes, size_t piece) {
    const fs::path fifo = dir_ / "feed";
    fs::remove(fifo);
    EXPECT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    std::thread writer([&] {
      std::ofstream out(fifo, std::ios::binary);
      for (size_t at = 0; at < bytes.size(); at += piece) {
        out.write(bytes.data() + at,
                  static_cast<std::streamsize>(std::min(piece, bytes.size() - at)));
        out.flush();
      }
    });
    LineReader reader(fifo.string(), 1 << 20);
    std::vector<Line> got;
    try {
      got = read_all(reader, 100);
    } catch (...) {
      writer.join();
      throw;
    }
    writer.join();
    return got;
  };
  EXPECT_EQ(through_fifo(content, 4093), expected);
  EXPECT_EQ(through_fifo(half, 1000), expected);
  EXPECT_THROW(through_fifo(half.substr(0, half.size() - 100), 1000), pipeline::SourceError);
}

TEST_F(LineReaderTest, CrlfLineEndsAreDropped) {
  const std::string path = write_plain("crlf.ndjson", "a\r\nbb\r\n\r\nc\rd\r\nlast\r");
  LineReader reader(path, 1 << 20);
  EXPECT_EQ(read_all(reader, 100), (std::vector<Line>{{"a", 0, 1, false},
                                                      {"bb", 3, 2, false},
                                                      {"", 7, 3, false},
                                                      {"c\rd", 9, 4, false},
                                                      {"last", 14, 5, false}}));
}

TEST_F(LineReaderTest, LastLineWithoutNewline) {
  const std::string path = write_plain("no_newline.ndjson", "first\nsecond");
  LineReader reader(path, 1 << 20);
  EXPECT_EQ(read_all(reader, 100),
            (std::vector<Line>{{"first", 0, 1, false}, {"second", 6, 2, false}}));
}

TEST_F(LineReaderTest, EmptyLinesArePreservedAsEmptyRecords) {
  const std::string path = write_plain("empty_lines.ndjson", "\n\nx\n\n");
  LineReader reader(path, 1 << 20);
  EXPECT_EQ(read_all(reader, 100),
            (std::vector<Line>{
                {"", 0, 1, false}, {"", 1, 2, false}, {"x", 2, 3, false}, {"", 4, 4, false}}));
}

TEST_F(LineReaderTest, EmptyFileHasNoRecords) {
  const std::string path = write_plain("empty.ndjson", "");
  LineReader reader(path, 1 << 20);
  EXPECT_TRUE(read_all(reader, 100).empty());
}

TEST_F(LineReaderTest, BatchesRespectMaxRecordsAndStayValidUntilTheNextCall) {
  std::string content;
  std::vector<Line> expected;
  for (int i = 1; i <= 23; ++i) {
    const std::string line = "record-" + std::to_string(i) + std::string(i, '.');
    expected.push_back({line, content.size(), static_cast<uint64_t>(i), false});
    content += line + "\n";
  }
  const std::string path = write_plain("batches.ndjson", content);
  for (size_t max : {size_t{1}, size_t{5}, size_t{23}, size_t{1000}}) {
    SCOPED_TRACE("max_records " + std::to_string(max));
    LineReader reader(path, 1 << 20);
    std::vector<size_t> sizes;
    EXPECT_EQ(read_all(reader, max, &sizes), expected);
    size_t total = 0;
    for (size_t k = 0; k < sizes.size(); ++k) {
      total += sizes[k];
      if (k + 1 < sizes.size()) {
        EXPECT_EQ(sizes[k], std::min<size_t>(max, 23)) << k;
      }
    }
    EXPECT_EQ(total, 23U);
  }
}

TEST_F(LineReaderTest, AllRecordsOfABatchStayValidTogetherAcrossBufferRefills) {
  // Over 1 MiB (the initial buffer) so the reader moves and refills its buffer; each batch's
  // records are checked only after the whole batch is returned.
  std::string content;
  std::vector<std::string> lines;
  for (int i = 0; i < 60'000; ++i) {
    lines.push_back("line " + std::to_string(i) + " " +
                    std::string(static_cast<size_t>(i % 61), 'x'));
    content += lines.back() + "\n";
  }
  ASSERT_GT(content.size(), size_t{2} << 20);
  const std::string path = write_plain("big.ndjson", content);
  LineReader reader(path, 1 << 20);
  pipeline::RecordBatch batch;
  size_t next = 0;
  uint64_t offset = 0;
  while (reader.next_batch(batch, 4096)) {
    for (const pipeline::Record& r : batch.records) {
      ASSERT_LT(next, lines.size());
      ASSERT_EQ(r.bytes, lines[next]) << next;
      ASSERT_EQ(r.line, next + 1);
      ASSERT_EQ(r.offset, offset);
      ASSERT_FALSE(r.truncated);
      offset += lines[next].size() + 1;
      ++next;
    }
    EXPECT_EQ(batch.end_offset, offset);
  }
  EXPECT_EQ(next, lines.size());
}

TEST_F(LineReaderTest, LineOverTheHardLimitBecomesOneTruncatedRecord) {
  const std::string long_line = std::string(100, 'a') + std::string(150, 'b');
  const std::string content = "short\n" + long_line + "\nafter\n" + std::string(100, 'c') + "\nend";
  const std::string path = write_plain("long.ndjson", content);
  LineReader reader(path, 100);
  EXPECT_EQ(read_all(reader, 100),
            (std::vector<Line>{{"short", 0, 1, false},
                               {std::string(100, 'a'), 6, 2, true},
                               {"after", 257, 3, false},
                               {std::string(100, 'c'), 263, 4, false},  // exactly the limit
                               {"end", 364, 5, false}}));
}

TEST_F(LineReaderTest, LineLongerThanTheBufferIsTruncatedAndTheNextLineIsIntact) {
  // A 5 MiB line with a 2 MiB hard limit: the reader must cut it, skip the rest across several
  // buffer fills, and resume exactly at the next line.
  const size_t limit = size_t{2} << 20;
  std::string huge(size_t{5} << 20, 'z');
  huge[0] = '{';
  const std::string content = "before\n" + huge + "\nafter\n" + "tail";
  const std::string path = write_plain("huge.ndjson", content);
  for (size_t max : {size_t{1}, size_t{2}, size_t{100}}) {
    SCOPED_TRACE("max_records " + std::to_string(max));
    LineReader reader(path, limit);
    const std::vector<Line> got = read_all(reader, max);
    ASSERT_EQ(got.size(), 4U);
    EXPECT_EQ(got[0], (Line{"before", 0, 1, false}));
    EXPECT_EQ(got[1].line, 2U);
    EXPECT_EQ(got[1].offset, 7U);
    EXPECT_TRUE(got[1].truncated);
    EXPECT_EQ(got[1].bytes.size(), limit);
    EXPECT_EQ(got[1].bytes, huge.substr(0, limit));
    EXPECT_EQ(got[2], (Line{"after", 7 + huge.size() + 1, 3, false}));
    EXPECT_EQ(got[3], (Line{"tail", 7 + huge.size() + 7, 4, false}));
  }
}

TEST_F(LineReaderTest, TruncatedLastLineWithoutNewline) {
  const std::string path = write_plain("long_last.ndjson", "ok\n" + std::string(3000, 'q'));
  LineReader reader(path, 1000);
  EXPECT_EQ(read_all(reader, 10),
            (std::vector<Line>{{"ok", 0, 1, false}, {std::string(1000, 'q'), 3, 2, true}}));
}

TEST_F(LineReaderTest, GzipLongLineIsTruncatedToo) {
  const std::string content = "a\n" + std::string(5000, 'L') + "\nb\n";
  const std::string path = write_gzip("long.ndjson.gz", content);
  LineReader reader(path, 1024);
  EXPECT_EQ(read_all(reader, 10),
            (std::vector<Line>{
                {"a", 0, 1, false}, {std::string(1024, 'L'), 2, 2, true}, {"b", 5003, 3, false}}));
}

TEST_F(LineReaderTest, NonexistentPathIsASourceError) {
  const std::string path = (dir_ / "does-not-exist.ndjson").string();
  try {
    LineReader reader(path, 1024);
    FAIL() << "expected pipeline::SourceError";
  } catch (const pipeline::SourceError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace corridor::connectors::file
