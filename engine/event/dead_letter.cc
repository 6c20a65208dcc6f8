#include "engine/event/dead_letter.h"

namespace corridor::event {

std::string_view reason_name(Reason r) noexcept {
  constexpr std::array<std::string_view, kReasonCount> kNames{
      "malformed_json", "missing_field", "bad_type", "bad_value",
      "bad_timestamp",  "too_large",     "late"};
  return kNames[static_cast<size_t>(r)];
}

}  // namespace corridor::event
