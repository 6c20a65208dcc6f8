// Reads newline-delimited records from a file, gzip file or stdin (gzip is detected by its
// magic bytes; anything else is read as is). A leading UTF-8 byte-order mark is skipped
// (offsets still count it). Standard input, pipes and terminals are read as a live feed:
// what has arrived is handed on at once, without waiting for a buffer to fill.
#pragma once

#include <cstdint>
#include <memory>
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
  void check_bom();
  void emit(pipeline::RecordBatch& batch, size_t begin, size_t end, bool truncated);

  struct Stream;  // a live feed: the descriptor, and the inflater when it is gzip
  std::unique_ptr<Stream> stream_;
  gzFile file_ = nullptr;  // a regular file
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
