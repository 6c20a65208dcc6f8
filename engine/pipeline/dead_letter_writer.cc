#include "engine/pipeline/dead_letter_writer.h"

#include "engine/event/json_text.h"

namespace corridor::pipeline {

void format_dead_letter(std::string& out, std::string_view source, const Record& record,
                        const event::DecodeError& error) {
  using event::append_json_string;
  out += "{\"reason\":\"";
  out += event::reason_name(error.reason);
  out += "\",\"detail\":";
  append_json_string(out, error.detail);
  out += ",\"source\":";
  append_json_string(out, source);
  out += ",\"line\":";
  out += std::to_string(record.line);
  out += ",\"offset\":";
  out += std::to_string(record.offset);
  if (record.truncated) out += ",\"truncated\":true";
  if (event::is_valid_utf8(record.bytes)) {
    out += ",\"original\":";
    append_json_string(out, record.bytes);
  } else {
    out += ",\"original_base64\":\"";
    event::append_base64(out, record.bytes);
    out.push_back('"');
  }
  out.push_back('}');
}

void DeadLetterWriter::write(std::string_view source, const Record& record,
                             const event::DecodeError& error) {
  line_.clear();
  format_dead_letter(line_, source, record, error);
  sink_.write(line_);
}

}  // namespace corridor::pipeline
