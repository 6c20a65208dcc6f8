// Why an input record was not decoded: the closed set of DESIGN §4.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace corridor::event {

enum class Reason : uint8_t {
  malformed_json,  // not one well-formed JSON value (or CSV row): syntax, UTF-8, empty line
  missing_field,   // a required canonical field is absent or null
  bad_type,        // a field (or the record) has the wrong JSON type
  bad_value,       // right type, unacceptable value: unknown kind, amount <= 0, bad currency
  bad_timestamp,   // event time unparseable or outside the accepted range
  too_large,       // the record or one of its strings exceeds the configured limits
  late,            // event time behind the watermark by more than the allowed lateness
};
inline constexpr size_t kReasonCount = 7;
inline constexpr std::array<Reason, kReasonCount> kAllReasons{
    Reason::malformed_json, Reason::missing_field, Reason::bad_type, Reason::bad_value,
    Reason::bad_timestamp,  Reason::too_large,     Reason::late};

std::string_view reason_name(Reason r) noexcept;

// Why one record failed: the reason and one line a human can act on.
// Allocates only on the failure path.
struct DecodeError {
  Reason reason = Reason::malformed_json;
  std::string detail;
};

}  // namespace corridor::event
