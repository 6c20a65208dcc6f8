// CSV import: a file (plain or gzip) whose first line is a header, rows mapped onto
// canonical fields by column name (the schema's `column` entries).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/file/line_reader.h"
#include "engine/event/decoder.h"
#include "engine/pipeline/source.h"

namespace corridor::connectors::csv {

// Splits one CSV row (RFC 4180 quoting, no line breaks inside quotes). Cells view `row`
// unless they contain doubled quotes, which are unescaped into `scratch` (reused).
// Returns false when a quote is unbalanced.
bool split_row(std::string_view row, char delimiter, std::vector<std::string_view>& cells,
               std::string& scratch);

class CsvSource final : public pipeline::Source {
 public:
  // Reads the header line at once; throws pipeline::SourceError when the file is empty.
  CsvSource(std::string name, const std::string& path, char delimiter, size_t hard_limit);
  std::string_view name() const noexcept override { return name_; }
  bool next_batch(pipeline::RecordBatch& batch, size_t max_records) override;
  const std::vector<std::string>& header() const noexcept { return header_; }
  char delimiter() const noexcept { return delimiter_; }

 private:
  std::string name_;
  char delimiter_;
  file::LineReader reader_;
  std::vector<std::string> header_;
  pipeline::RecordBatch pending_;  // the rows read together with the header
};

// Decodes rows of a CSV source. Throws std::invalid_argument naming the missing column
// when the schema maps a column the header does not have.
std::unique_ptr<event::Decoder> make_csv_decoder(const event::Schema& schema,
                                                 const std::vector<std::string>& header,
                                                 char delimiter,
                                                 const event::CurrencyTable& currencies,
                                                 const event::DecodeLimits& limits);

}  // namespace corridor::connectors::csv
