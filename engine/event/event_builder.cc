#include "engine/event/event_builder.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <type_traits>

#include "engine/event/money.h"
#include "engine/event/timestamp.h"

namespace corridor::event {

__extension__ using Int128 = __int128;  // exact intermediate products of int64 money
namespace {

constexpr uint32_t bit(Field f) noexcept { return 1U << static_cast<unsigned>(f); }

bool fail(DecodeError& error, Reason reason, std::string detail) {
  error.reason = reason;
  error.detail = std::move(detail);
  return false;
}

bool is_upper(char c) noexcept { return static_cast<unsigned char>(c) - unsigned{'A'} < 26U; }

template <size_t N>
bool is_upper_alpha(std::string_view s) noexcept {
  static_assert(N == 2 || N == 3);
  if (s.size() != N) return false;
  if constexpr (N == 2) {
    return is_upper(s[0]) & is_upper(s[1]);
  } else {
    return is_upper(s[0]) & is_upper(s[1]) & is_upper(s[2]);
  }
}

bool is_country_field(Field f) noexcept {
  return f == Field::sender_country || f == Field::receiver_country;
}

// Which parties a kind needs: transfers move money between two identified parties,
// cash_in credits a receiver, cash_out debits a sender.
bool needs_sender(Kind k) noexcept { return k != Kind::cash_in; }
bool needs_receiver(Kind k) noexcept { return k != Kind::cash_out; }

std::string quoted(std::string_view v) {
  constexpr size_t kShown = 64;
  std::string s = "\"";
  s.append(v.substr(0, kShown));
  if (v.size() > kShown) s += "...";
  s += '"';
  return s;
}

}  // namespace

std::string_view value_type_name(ValueType t) noexcept {
  switch (t) {
    case ValueType::string:
      return "string";
    case ValueType::number:
      return "number";
    case ValueType::boolean:
      return "boolean";
    case ValueType::null:
      return "null";
    case ValueType::object:
      return "object";
    case ValueType::array:
      return "array";
    case ValueType::text:
      return "text";
  }
  return "unknown";
}

EventBuilder::EventBuilder(const Schema& schema, const CurrencyTable& currencies,
                           const DecodeLimits& limits)
    : schema_(schema), currencies_(currencies), limits_(limits) {
  generated_id_.reserve(64);
  Event probe;
  const auto* base = reinterpret_cast<const char*>(&probe);
  for (size_t i = 0; i < kFieldCount; ++i) {
    const auto f = static_cast<Field>(i);
    const std::string_view* slot = string_slot(probe, f);
    slot_offset_[i] =
        slot == nullptr ? -1 : static_cast<int32_t>(reinterpret_cast<const char*>(slot) - base);
    const FieldRule& rule = schema.fields[i];
    if (rule.default_value || rule.line_number_prefix) filled_fields_.push_back(f);
    if (!rule.value_map.empty()) mapped_values_ |= bit(f);
    if (slot == nullptr || f == Field::id || f == Field::sender_country ||
        f == Field::receiver_country || !rule.value_map.empty()) {
      checked_fields_ |= bit(f);
    }
    if (rule.value_map.empty()) {
      switch (f) {
        case Field::id:
          check_[i] = Check::id;
          break;
        case Field::kind:
          check_[i] = Check::kind;
          break;
        case Field::currency:
          check_[i] = Check::currency;
          break;
        case Field::sender_country:
        case Field::receiver_country:
          check_[i] = Check::country;
          break;
        case Field::ts:
          check_[i] = Check::ts;
          break;
        case Field::amount:
          check_[i] = Check::amount;
          break;
        default:
          check_[i] = Check::general;
          break;
      }
    }
  }
}

void EventBuilder::begin(Event& event, uint64_t line) noexcept {
#if defined(__SSE2__)
  // Event{} is all zero bytes (its members are views, integers and enums whose zero value is
  // their default; a test compares every member). For `event = Event{}` gcc emits rep stos,
  // whose start-up costs more than 28 vector stores of zero.
  static_assert(std::is_trivially_copyable_v<Event> && sizeof(Event) % 16 == 0);
  auto* chunks = reinterpret_cast<__m128i*>(&event);
  const __m128i zero = _mm_setzero_si128();
#pragma GCC unroll 32
  for (size_t i = 0; i < sizeof(Event) / 16; ++i) _mm_storeu_si128(chunks + i, zero);
#else
  event = Event{};
#endif
  event_ = &event;
  line_ = line;
}

bool EventBuilder::assign_checked(Field field, ValueType type, std::string_view value,
                                  DecodeError& error) {
  Event& e = *event_;
  const uint32_t b = bit(field);
  if (type != ValueType::string || (e.present & b) != 0) {
    return assign_general(field, type, value, error);
  }
  // Each case accepts exactly what assign_general accepts for a first unmapped string, with
  // the same result, or leaves the value to it; no error is produced here.
  switch (check_[static_cast<size_t>(field)]) {
    case Check::id:
      if (value.empty() || value.size() > limits_.max_string_bytes) break;
      e.id = value;
      e.present |= b;
      return true;
    case Check::kind:
      return assign_kind_string(value, error);
    case Check::currency:
      if (value.size() > limits_.max_string_bytes || !is_upper_alpha<3>(value)) break;
      e.currency.code = {value[0], value[1], value[2]};
      e.present |= b;
      return true;
    case Check::country:
      if (value.size() > limits_.max_string_bytes || !is_upper_alpha<2>(value)) break;
      *reinterpret_cast<std::string_view*>(reinterpret_cast<char*>(&e) +
                                           slot_offset_[static_cast<size_t>(field)]) = value;
      e.present |= b;
      return true;
    case Check::ts:
      return assign_ts_string(value, error);
    case Check::amount:
      return assign_amount_string(value, error);
    case Check::general:
      break;
  }
  return assign_general(field, type, value, error);
}

// The parsing cases of assign_checked, called last so that assign_checked itself calls
// nothing and needs no registers saved.
bool EventBuilder::assign_kind_string(std::string_view value, DecodeError& error) {
  if (value.size() <= limits_.max_string_bytes && parse_kind(value, event_->kind)) {
    event_->present |= bit(Field::kind);
    return true;
  }
  return assign_general(Field::kind, ValueType::string, value, error);
}

bool EventBuilder::assign_ts_string(std::string_view value, DecodeError& error) {
  int64_t ms = 0;
  if (parse_rfc3339(value, ms) && ms >= limits_.min_ts_ms && ms < limits_.max_ts_ms) {
    event_->ts_ms = ms;
    event_->present |= bit(Field::ts);
    return true;
  }
  return assign_general(Field::ts, ValueType::string, value, error);
}

bool EventBuilder::assign_amount_string(std::string_view value, DecodeError& error) {
  Money amount;
  if (parse_money(value, amount) == DecimalError::ok && amount.units > 0) {
    event_->amount = amount;
    event_->present |= bit(Field::amount);
    return true;
  }
  return assign_general(Field::amount, ValueType::string, value, error);
}

bool EventBuilder::assign_general(Field field, ValueType type, std::string_view value,
                                  DecodeError& error) {
  Event& e = *event_;
  const std::string_view name = field_name(field);
  if (type == ValueType::null) return true;  // null is absence: defaults and required apply
  if (e.present & bit(field)) {
    return fail(error, Reason::bad_value, std::string(name) + ": appears more than once");
  }
  if ((mapped_values_ & bit(field)) && (type == ValueType::string || type == ValueType::text)) {
    const FieldRule& rule = schema_.fields[static_cast<size_t>(field)];
    for (const auto& [from, to] : rule.value_map) {
      if (from == value) {
        value = to;
        break;
      }
    }
  }
  if (field == Field::labels) {
    if (type != ValueType::object) {
      return fail(error, Reason::bad_type,
                  "labels: expected object, got " + std::string(value_type_name(type)));
    }
    e.labels = value;
    e.present |= bit(field);
    return true;
  }
  if (field == Field::ts) return assign_ts(type, value, error);
  if (field == Field::amount) return assign_amount(type, value, error);

  if (type != ValueType::string && type != ValueType::text) {
    return fail(error, Reason::bad_type,
                std::string(name) + ": expected string, got " + std::string(value_type_name(type)));
  }
  if (value.size() > limits_.max_string_bytes) {
    return fail(error, Reason::too_large,
                std::string(name) + ": " + std::to_string(value.size()) + " bytes, limit " +
                    std::to_string(limits_.max_string_bytes));
  }
  switch (field) {
    case Field::id:
      if (value.empty()) return fail(error, Reason::bad_value, "id: empty");
      e.id = value;
      break;
    case Field::kind:
      if (!parse_kind(value, e.kind)) {
        return fail(
            error, Reason::bad_value,
            "kind: " + quoted(value) +
                " is not one of transfer, remittance, cash_in, cash_out, salary, fee, card");
      }
      break;
    case Field::currency:
      if (!is_upper_alpha<3>(value)) {
        return fail(error, Reason::bad_value,
                    "currency: " + quoted(value) + " is not an ISO 4217 code (three capitals)");
      }
      e.currency.code = {value[0], value[1], value[2]};
      break;
    default: {
      if (is_country_field(field) && !is_upper_alpha<2>(value)) {
        return fail(error, Reason::bad_value,
                    std::string(name) + ": " + quoted(value) +
                        " is not an ISO 3166 alpha-2 code (two capitals)");
      }
      const int32_t offset = slot_offset_[static_cast<size_t>(field)];
      if (offset >= 0) {
        *reinterpret_cast<std::string_view*>(reinterpret_cast<char*>(&e) + offset) = value;
      }
      break;
    }
  }
  e.present |= bit(field);
  return true;
}

bool EventBuilder::assign_ts(ValueType type, std::string_view value, DecodeError& error) {
  Event& e = *event_;
  const TimeScale& scale = schema_.fields[static_cast<size_t>(Field::ts)].time_scale;
  bool numeric = type == ValueType::number;
  if (type == ValueType::text) {
    numeric = !value.empty();
    for (size_t i = 0; i < value.size(); ++i) {
      const char c = value[i];
      if (!((c >= '0' && c <= '9') || (i == 0 && c == '-'))) numeric = false;
    }
  }
  if (numeric) {
    // An integer count of `unit_ms` since `origin_ms` (epoch millis by default).
    int64_t v = 0;
    size_t i = 0;
    bool negative = false;
    if (i < value.size() && value[i] == '-') {
      negative = true;
      ++i;
    }
    if (i == value.size() || value.size() - i > 15) {
      return fail(error, Reason::bad_timestamp,
                  "ts: " + quoted(value) + " is not an integer count of milliseconds in range");
    }
    for (; i < value.size(); ++i) {
      if (value[i] < '0' || value[i] > '9') {
        return fail(error, Reason::bad_timestamp,
                    "ts: " + quoted(value) + " is not an integer (epoch milliseconds expected)");
      }
      v = v * 10 + (value[i] - '0');
    }
    if (negative) v = -v;
    Int128 ms = static_cast<Int128>(v) * scale.unit_ms + scale.origin_ms;
    if (ms < limits_.min_ts_ms || ms >= limits_.max_ts_ms) {
      return fail(error, Reason::bad_timestamp,
                  "ts: " + quoted(value) + " is outside the accepted range");
    }
    e.ts_ms = static_cast<int64_t>(ms);
  } else if (type == ValueType::string || type == ValueType::text) {
    if (!parse_rfc3339(value, e.ts_ms)) {
      return fail(error, Reason::bad_timestamp,
                  "ts: " + quoted(value) + " is not an RFC 3339 date-time with a zone");
    }
    if (e.ts_ms < limits_.min_ts_ms || e.ts_ms >= limits_.max_ts_ms) {
      return fail(error, Reason::bad_timestamp,
                  "ts: " + quoted(value) + " is outside the accepted range");
    }
  } else {
    return fail(error, Reason::bad_type,
                "ts: expected RFC 3339 string or epoch milliseconds, got " +
                    std::string(value_type_name(type)));
  }
  e.present |= bit(Field::ts);
  return true;
}

bool EventBuilder::assign_amount(ValueType type, std::string_view value, DecodeError& error) {
  Event& e = *event_;
  if (type != ValueType::number && type != ValueType::string && type != ValueType::text) {
    return fail(
        error, Reason::bad_type,
        "amount: expected number or decimal string, got " + std::string(value_type_name(type)));
  }
  switch (parse_money(value, e.amount)) {
    case DecimalError::ok:
      break;
    case DecimalError::syntax:
      return fail(error, Reason::bad_value,
                  "amount: " + quoted(value) + " is not a decimal number");
    case DecimalError::too_precise:
      return fail(error, Reason::bad_value,
                  "amount: " + quoted(value) + " has more than 4 decimal places");
    case DecimalError::out_of_range:
      return fail(error, Reason::bad_value,
                  "amount: " + quoted(value) + " is out of range (limit 10^14)");
  }
  if (e.amount.units <= 0) {
    return fail(error, Reason::bad_value, "amount: " + quoted(value) + " is not greater than 0");
  }
  e.present |= bit(Field::amount);
  return true;
}

bool EventBuilder::finish(DecodeError& error) {
  Event& e = *event_;
  for (const Field field : filled_fields_) {
    if (e.present & bit(field)) continue;
    const FieldRule& rule = schema_.fields[static_cast<size_t>(field)];
    if (rule.line_number_prefix) {
      generated_id_.assign(*rule.line_number_prefix);
      generated_id_ += std::to_string(line_);
      if (!assign(field, ValueType::text, generated_id_, error)) return false;
    } else if (rule.default_value) {
      if (!assign(field, ValueType::text, *rule.default_value, error)) return false;
    }
  }
  constexpr Field kRequired[] = {Field::id, Field::ts, Field::kind, Field::amount, Field::currency};
  constexpr uint32_t kRequiredBits = bit(Field::id) | bit(Field::ts) | bit(Field::kind) |
                                     bit(Field::amount) | bit(Field::currency);
  if ((e.present & kRequiredBits) != kRequiredBits) {
    for (Field f : kRequired) {
      if (!(e.present & bit(f))) {
        return fail(error, Reason::missing_field, std::string(field_name(f)) + ": required");
      }
    }
  }
  if (needs_sender(e.kind) && !(e.present & bit(Field::sender_id))) {
    return fail(error, Reason::missing_field,
                "sender.id: required for kind " + std::string(kind_name(e.kind)));
  }
  if (needs_receiver(e.kind) && !(e.present & bit(Field::receiver_id))) {
    return fail(error, Reason::missing_field,
                "receiver.id: required for kind " + std::string(kind_name(e.kind)));
  }
  const Rate* rate = currencies_.find(e.currency);
  if (rate == nullptr) {
    return fail(error, Reason::bad_value,
                "currency: " + std::string(e.currency.view()) + " has no rate to " +
                    std::string(currencies_.base().view()) + " in the currency table");
  }
  const std::optional<Money> base = convert(e.amount, *rate);
  if (!base) {
    return fail(error, Reason::bad_value,
                "amount: too large after conversion to the base currency");
  }
  if (base->units <= 0) {
    return fail(
        error, Reason::bad_value,
        "amount: rounds to 0 " + std::string(currencies_.base().view()) + " in the base currency");
  }
  e.amount_base = *base;
  return true;
}

}  // namespace corridor::event
