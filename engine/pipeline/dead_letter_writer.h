// Formats dead letters as NDJSON records for a Sink.
#pragma once

#include <string>
#include <string_view>

#include "engine/event/dead_letter.h"
#include "engine/pipeline/record.h"
#include "engine/pipeline/sink.h"

namespace corridor::pipeline {

// One dead letter per line:
// {"reason":"bad_value","detail":"...","source":"sample","line":12,"offset":3456,
//  "original":"<the record's bytes as a JSON string>"}
// When the bytes are not valid UTF-8 they go in "original_base64" instead, so the original
// is always recoverable byte for byte. "truncated":true marks a record cut at the source's
// hard limit.
class DeadLetterWriter {
 public:
  explicit DeadLetterWriter(Sink& sink) : sink_(sink) {}
  void write(std::string_view source, const Record& record, const event::DecodeError& error);
  void flush() { sink_.flush(); }

 private:
  Sink& sink_;
  std::string line_;
};

// The line DeadLetterWriter writes, for tests and tools.
void format_dead_letter(std::string& out, std::string_view source, const Record& record,
                        const event::DecodeError& error);

}  // namespace corridor::pipeline
