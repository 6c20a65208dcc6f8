// Where records come from. Implementations live in connectors/.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "engine/pipeline/record.h"

namespace corridor::pipeline {

// An input failure the engine cannot continue past (unreadable file, broken stream).
// Content problems are never SourceErrors: they are dead-lettered records.
class SourceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Source {
 public:
  virtual ~Source() = default;
  // The configured name, used in dead letters and metrics.
  virtual std::string_view name() const noexcept = 0;
  // Replaces `batch` with up to `max_records` records. Returns false, with an empty batch,
  // at the end of the input. Throws SourceError on I/O failure.
  virtual bool next_batch(RecordBatch& batch, size_t max_records) = 0;
};

}  // namespace corridor::pipeline
