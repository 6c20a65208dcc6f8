// NDJSON from a file (plain or gzip) or standard input: one JSON object per line.
#pragma once

#include <string>

#include "connectors/file/line_reader.h"
#include "engine/pipeline/source.h"

namespace corridor::connectors::file {

class NdjsonSource final : public pipeline::Source {
 public:
  // `path` "-" reads standard input.
  NdjsonSource(std::string name, const std::string& path, size_t hard_limit);
  std::string_view name() const noexcept override { return name_; }
  bool next_batch(pipeline::RecordBatch& batch, size_t max_records) override {
    return reader_.next_batch(batch, max_records);
  }

 private:
  std::string name_;
  LineReader reader_;
};

}  // namespace corridor::connectors::file
