// How a feed's records map onto canonical fields, and what the decoder accepts.
// Plain data: built by the config loader, read by the decoders. No third-party headers.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/event/event.h"
#include "engine/event/money.h"

namespace corridor::event {

// How a numeric event time is read: `value * unit_ms + origin_ms`. The default reads epoch
// milliseconds; AMLSim's simulation steps are read with unit 1 day from a chosen origin.
struct TimeScale {
  int64_t unit_ms = 1;
  int64_t origin_ms = 0;
};

// RFC 6901 JSON Pointers: "/a/b~1c" <-> {"a", "b/c"}. parse returns nullopt for text that
// is not a pointer (no leading slash, "~" not followed by 0 or 1).
std::optional<std::vector<std::string>> parse_json_pointer(std::string_view text);
std::string format_json_pointer(const std::vector<std::string>& tokens);

// The longest JSON Pointer a schema may use, in reference tokens.
inline constexpr int kMaxPointerDepth = 12;

struct FieldRule {
  // JSON sources: the JSON Pointer (RFC 6901) split into unescaped reference tokens.
  // Empty with `mapped` false: the field is not read from the record.
  std::vector<std::string> pointer;
  // CSV sources: the column name.
  std::string column;
  bool mapped = false;
  // Enumeration translation applied to the value before validation, e.g. SALA -> salary.
  std::vector<std::pair<std::string, std::string>> value_map;
  // Used when the record does not carry the field (absent or null).
  std::optional<std::string> default_value;
  // The value is generated as prefix + the record's line number (for feeds without ids).
  std::optional<std::string> line_number_prefix;
  TimeScale time_scale;  // for `ts` only
};

struct Schema {
  std::string name = "canonical";
  std::array<FieldRule, kFieldCount> fields;

  // The identity mapping: every canonical field at its own pointer (/sender/city ...).
  static Schema canonical();
};

// Conversion into the base currency. The base currency converts at rate 1.
class CurrencyTable {
 public:
  CurrencyTable();
  explicit CurrencyTable(Currency base);
  Currency base() const noexcept { return base_; }
  void set_rate(Currency c, Rate r);
  // nullptr when the currency has no rate.
  const Rate* find(Currency c) const noexcept;
  size_t size() const noexcept { return rates_.size(); }

 private:
  Currency base_;
  std::vector<std::pair<uint32_t, Rate>> rates_;  // sorted by packed code
};

uint32_t pack(Currency c) noexcept;

struct DecodeLimits {
  size_t max_event_bytes = 1 << 20;   // a longer record is dead-lettered as too_large
  size_t max_string_bytes = 4096;     // a longer string field is too_large
  int64_t min_ts_ms = 631152000000;   // 1990-01-01T00:00:00Z
  int64_t max_ts_ms = 4102444800000;  // 2100-01-01T00:00:00Z
};

}  // namespace corridor::event
