// Raw input records as sources hand them to decoders.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace corridor::pipeline {

// Every record's bytes are followed by at least this many readable bytes (the JSON
// parser reads ahead in 64-byte blocks). Sources guarantee it; decoders rely on it.
inline constexpr size_t kRecordPadding = 64;

struct Record {
  std::string_view bytes;  // one record, without its line terminator
  uint64_t offset = 0;     // byte offset of the record in the (decompressed) input
  uint64_t line = 0;       // 1-based line number (CSV: the data row's line in the file)
  bool truncated = false;  // the source cut the record at its hard limit; bytes is a prefix
};

// Records of one batch view the source's buffer and stay valid until its next batch.
struct RecordBatch {
  std::vector<Record> records;
  uint64_t end_offset = 0;  // input position after the last record: where a resume starts
};

}  // namespace corridor::pipeline
