// Assigns decoded values to canonical fields and validates the finished event.
// Shared by every decoder (JSON, CSV) so a field means the same whatever the feed format.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/event/dead_letter.h"
#include "engine/event/event.h"
#include "engine/event/schema.h"

namespace corridor::event {

// The type a value had in the input. CSV cells are `text`: untyped, read as the field needs.
enum class ValueType : uint8_t { string, number, boolean, null, object, array, text };
std::string_view value_type_name(ValueType t) noexcept;

class EventBuilder {
 public:
  // All three must outlive the builder; defaults and value maps are viewed, not copied.
  EventBuilder(const Schema& schema, const CurrencyTable& currencies, const DecodeLimits& limits);

  // Starts a new event, clearing `event`. `line` feeds generated ids.
  void begin(Event& event, uint64_t line) noexcept;

  // Assigns one value. `value` must stay valid until the event is consumed. Returns false
  // with `error` filled when the value is unacceptable for the field.
  bool assign(Field field, ValueType type, std::string_view value, DecodeError& error) {
    // Fast path, inlined into the decoders: a plain string field (no checks beyond length,
    // no value map) seen for the first time. Everything else takes assign_checked.
    const uint32_t b = 1U << static_cast<unsigned>(field);
    if (((event_->present | checked_fields_) & b) == 0 && type == ValueType::string &&
        value.size() <= limits_.max_string_bytes) {
      *reinterpret_cast<std::string_view*>(reinterpret_cast<char*>(event_) +
                                           slot_offset_[static_cast<size_t>(field)]) = value;
      event_->present |= b;
      return true;
    }
    return assign_checked(field, type, value, error);
  }

  // Whether `field` has no checks beyond the string limit and no value map, so that its
  // strings may go through assign_plain_string. Fixed when the builder is constructed.
  bool is_plain(Field field) const noexcept {
    return (checked_fields_ & (1U << static_cast<unsigned>(field))) == 0;
  }

  // assign(field, ValueType::string, value, error) for a field where is_plain() holds.
  bool assign_plain_string(Field field, std::string_view value, DecodeError& error) {
    const uint32_t b = 1U << static_cast<unsigned>(field);
    if ((event_->present & b) == 0 && value.size() <= limits_.max_string_bytes) {
      *reinterpret_cast<std::string_view*>(reinterpret_cast<char*>(event_) +
                                           slot_offset_[static_cast<size_t>(field)]) = value;
      event_->present |= b;
      return true;
    }
    return assign_checked(field, ValueType::string, value, error);
  }

  // assign(field, ValueType::string, value, error) for a field where is_plain() does not hold.
  bool assign_checked_string(Field field, std::string_view value, DecodeError& error) {
    return assign_checked(field, ValueType::string, value, error);
  }

  // Applies defaults, checks required fields, range-checks time and converts the amount
  // into the base currency. Returns false with `error` filled when the event is invalid.
  bool finish(DecodeError& error);

  const Schema& schema() const noexcept { return schema_; }
  const DecodeLimits& limits() const noexcept { return limits_; }

 private:
  // The checked fields' common case: a first, unmapped string value that passes its field's
  // checks. Anything it is not sure of goes to assign_general, which decides and explains.
  bool assign_checked(Field field, ValueType type, std::string_view value, DecodeError& error);
  [[gnu::noinline]] bool assign_kind_string(std::string_view value, DecodeError& error);
  [[gnu::noinline]] bool assign_ts_string(std::string_view value, DecodeError& error);
  [[gnu::noinline]] bool assign_amount_string(std::string_view value, DecodeError& error);
  // Out of line, so that assign_checked stays a short function with a short prologue.
  [[gnu::noinline]] bool assign_general(Field field, ValueType type, std::string_view value,
                                        DecodeError& error);
  bool assign_ts(ValueType type, std::string_view value, DecodeError& error);
  bool assign_amount(ValueType type, std::string_view value, DecodeError& error);

  const Schema& schema_;
  const CurrencyTable& currencies_;
  const DecodeLimits& limits_;
  Event* event_ = nullptr;
  uint64_t line_ = 0;
  std::string generated_id_;  // storage for a generated id; reused, not reallocated
  // Precomputed from the schema so the per-event path does no lookups:
  std::array<int32_t, kFieldCount> slot_offset_{};  // byte offset of a string slot, or -1
  std::vector<Field> filled_fields_;                // fields with a default or generated value
  uint32_t mapped_values_ = 0;                      // fields with a value map
  uint32_t checked_fields_ = 0;                     // fields assign must not take the fast path for
  // How assign_checked treats a first unmapped string value of each field.
  enum class Check : uint8_t { general, id, kind, currency, country, ts, amount };
  std::array<Check, kFieldCount> check_{};
};

}  // namespace corridor::event
