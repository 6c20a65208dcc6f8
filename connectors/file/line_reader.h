// Reads newline-delimited records from a file, gzip file or stdin (zlib detects gzip by
// its magic bytes and reads anything else as is). A leading UTF-8 byte-order mark is
// skipped (offsets still count it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/pipeline/record.h"

using gzFile = struct gzFile_s*;

namespace corridor::connectors::file {

class LineReader {
 public:
  // `path` "-" reads standard input. Throws pipeline::SourceError when it cannot open.
  // A line longer than `hard_limit` bytes is handed on as a truncated record of its first
  // `hard_limit` bytes (flagged), and the rest of the line is skipped.
  LineReader(const std::string& path, size_t hard_limit);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Replaces batch.records with up to `max_records` lines. Trailing '\r' is dropped.
  // Returns false at end of input. Records stay valid until the next call.
  bool next_batch(pipeline::RecordBatch& batch, size_t max_records);

 private:
  bool fill();  // reads more bytes; false at end of input
  void emit(pipeline::RecordBatch& batch, size_t begin, size_t end, bool truncated);

  gzFile file_ = nullptr;
  std::string path_;
  size_t hard_limit_;
  std::vector<char> buffer_;  // data in [begin_, end_), kRecordPadding spare bytes beyond
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t scan_ = 0;           // bytes in [begin_, scan_) hold no newline
  uint64_t base_offset_ = 0;  // input offset of buffer_[0]
  uint64_t line_ = 0;         // lines emitted so far
  bool eof_ = false;
  bool skipping_ = false;     // inside the remainder of a truncated line
  bool bom_checked_ = false;  // a leading UTF-8 byte-order mark has been looked for
};

}  // namespace corridor::connectors::file
