// Writing JSON text by hand for the few record shapes corridor emits.
#pragma once

#include <string>
#include <string_view>

namespace corridor::event {

// Appends `s` as a JSON string literal (quotes included). Invalid UTF-8 bytes are
// replaced by U+FFFD so the output is always valid JSON.
void append_json_string(std::string& out, std::string_view s);

// True when `s` is well-formed UTF-8.
bool is_valid_utf8(std::string_view s) noexcept;

// Standard base64 (RFC 4648, with padding).
void append_base64(std::string& out, std::string_view bytes);

}  // namespace corridor::event
