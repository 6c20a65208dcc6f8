#include "connectors/csv/csv.h"

#include <algorithm>
#include <stdexcept>

#include "engine/event/event_builder.h"

namespace corridor::connectors::csv {

bool split_row(std::string_view row, char delimiter, std::vector<std::string_view>& cells,
               std::string& scratch) {
  cells.clear();
  scratch.clear();
  // Unescaped cells are appended to scratch; reserve so views into it stay valid.
  if (scratch.capacity() < row.size()) scratch.reserve(row.size() * 2);
  size_t i = 0;
  while (true) {
    if (i < row.size() && row[i] == '"') {
      ++i;
      const size_t start = i;
      bool escaped = false;
      while (true) {
        if (i >= row.size()) return false;  // unbalanced quote
        if (row[i] == '"') {
          if (i + 1 < row.size() && row[i + 1] == '"') {
            escaped = true;
            i += 2;
            continue;
          }
          break;
        }
        ++i;
      }
      std::string_view cell = row.substr(start, i - start);
      ++i;  // closing quote
      if (escaped) {
        const size_t from = scratch.size();
        for (size_t k = 0; k < cell.size(); ++k) {
          scratch.push_back(cell[k]);
          if (cell[k] == '"') ++k;
        }
        cell = std::string_view(scratch).substr(from);
      }
      cells.push_back(cell);
      if (i < row.size() && row[i] != delimiter) return false;  // text after closing quote
    } else {
      const size_t start = i;
      while (i < row.size() && row[i] != delimiter) {
        if (row[i] == '"') return false;  // a quote inside an unquoted cell
        ++i;
      }
      cells.push_back(row.substr(start, i - start));
    }
    if (i >= row.size()) return true;
    ++i;  // delimiter
  }
}

CsvSource::CsvSource(std::string name, const std::string& path, char delimiter, size_t hard_limit)
    : name_(std::move(name)), delimiter_(delimiter), reader_(path, hard_limit) {
  if (!reader_.next_batch(pending_, 1)) {
    throw pipeline::SourceError(path + ": empty CSV file, expected a header line");
  }
  std::vector<std::string_view> cells;
  std::string scratch;
  if (!split_row(pending_.records[0].bytes, delimiter_, cells, scratch)) {
    throw pipeline::SourceError(path + ":1: malformed CSV header");
  }
  for (std::string_view c : cells) header_.emplace_back(c);
  pending_.records.clear();
}

bool CsvSource::next_batch(pipeline::RecordBatch& batch, size_t max_records) {
  return reader_.next_batch(batch, max_records);
}

namespace {

class CsvDecoder final : public event::Decoder {
 public:
  CsvDecoder(const event::Schema& schema, const std::vector<std::string>& header, char delimiter,
             const event::CurrencyTable& currencies, const event::DecodeLimits& limits)
      : builder_(schema, currencies, limits),
        limits_(limits),
        delimiter_(delimiter),
        columns_(header.size()) {
    // The first line is the header; when no mapped column is in it, it is likely data (a file
    // without a header), whose cells (account ids, amounts) are not repeated in the error.
    const auto in_header = [&](const std::string& column) {
      return std::find(header.begin(), header.end(), column) != header.end();
    };
    bool any = false;
    for (const event::FieldRule& rule : schema.fields) {
      any = any || (rule.mapped && !rule.column.empty() && in_header(rule.column));
    }
    for (size_t f = 0; f < event::kFieldCount; ++f) {
      const event::FieldRule& rule = schema.fields[f];
      if (!rule.mapped || rule.column.empty()) continue;
      const auto c = static_cast<size_t>(std::find(header.begin(), header.end(), rule.column) -
                                         header.begin());
      if (c == header.size()) {
        std::string have;
        for (const auto& h : header) have += (have.empty() ? "" : ", ") + h;
        const std::string missing = "column '" + rule.column + "' (for " +
                                    std::string(event::field_name(static_cast<event::Field>(f))) +
                                    ") is not in the header";
        if (!any) {
          throw std::invalid_argument(missing +
                                      ", nor is any other mapped column: the first line (" +
                                      std::to_string(header.size()) + " cells) must be the header");
        }
        throw std::invalid_argument(missing + "; the header has: " + have);
      }
      mapping_.push_back({c, static_cast<event::Field>(f)});
    }
  }

  bool decode(const pipeline::Record& record, event::Event& e, event::DecodeError& error) override {
    builder_.begin(e, record.line);
    if (record.truncated || record.bytes.size() > limits_.max_event_bytes) {
      error.reason = event::Reason::too_large;
      error.detail = "row of " + std::to_string(record.bytes.size()) +
                     " bytes exceeds the limit of " + std::to_string(limits_.max_event_bytes);
      return false;
    }
    if (!split_row(record.bytes, delimiter_, cells_, scratch_)) {
      error.reason = event::Reason::malformed_json;
      error.detail = "malformed CSV row: unbalanced or misplaced quote";
      return false;
    }
    if (cells_.size() != columns_) {
      error.reason = event::Reason::malformed_json;
      error.detail = "CSV row has " + std::to_string(cells_.size()) + " cells, the header has " +
                     std::to_string(columns_);
      return false;
    }
    for (const auto& [column, field] : mapping_) {
      const std::string_view cell = cells_[column];
      // An empty cell is an absent value: defaults and required-field checks apply.
      if (cell.empty()) continue;
      if (!builder_.assign(field, event::ValueType::text, cell, error)) return false;
    }
    return builder_.finish(error);
  }

 private:
  event::EventBuilder builder_;
  const event::DecodeLimits& limits_;
  char delimiter_;
  size_t columns_;
  std::vector<std::pair<size_t, event::Field>> mapping_;
  std::vector<std::string_view> cells_;
  std::string scratch_;
};

}  // namespace

std::unique_ptr<event::Decoder> make_csv_decoder(const event::Schema& schema,
                                                 const std::vector<std::string>& header,
                                                 char delimiter,
                                                 const event::CurrencyTable& currencies,
                                                 const event::DecodeLimits& limits) {
  return std::make_unique<CsvDecoder>(schema, header, delimiter, currencies, limits);
}

}  // namespace corridor::connectors::csv
