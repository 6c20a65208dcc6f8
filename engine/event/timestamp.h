// Event time: milliseconds since the Unix epoch, UTC.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace corridor::event {

// Parses an RFC 3339 date-time ("2024-05-01T12:00:00Z", "2024-05-01T14:00:00.250+02:00").
// Requires a zone designator (Z or +hh:mm); accepts 't'/'z' and a space between date and
// time; fractional seconds beyond milliseconds are truncated toward the past.
// Returns false on any syntax or calendar error (Feb 30, hour 24, second 60).
bool parse_rfc3339(std::string_view text, int64_t& epoch_ms) noexcept;

// "2024-05-01T12:00:00.250Z" (milliseconds always present, UTC).
void append_rfc3339(std::string& out, int64_t epoch_ms);
std::string format_rfc3339(int64_t epoch_ms);

// Days since 1970-01-01 for a proleptic Gregorian date.
int64_t days_from_civil(int64_t year, unsigned month, unsigned day) noexcept;

}  // namespace corridor::event
