// The canonical event (DESIGN §4). One object is reused across events: its strings view
// the decoder's buffers or the config, so decoding copies no string per event.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "engine/event/money.h"

namespace corridor::event {

enum class Kind : uint8_t { transfer, remittance, cash_in, cash_out, salary, fee, card };
inline constexpr size_t kKindCount = 7;
std::string_view kind_name(Kind k) noexcept;
bool parse_kind(std::string_view s, Kind& out) noexcept;

// ISO 4217 alphabetic code packed into three bytes.
struct Currency {
  std::array<char, 3> code{};
  std::string_view view() const noexcept { return {code.data(), code.size()}; }
  friend bool operator==(const Currency&, const Currency&) = default;
};

struct Party {
  std::string_view id, account, name, country, city, phone, device, ip, address, employer;
};

// Every canonical field, in a fixed order. Schema mappings and the CSV column mapping
// name these; `sender.city` is Field::sender_city.
enum class Field : uint8_t {
  id,
  ts,
  kind,
  amount,
  currency,
  channel,
  agent,
  purpose,
  labels,
  sender_id,
  sender_account,
  sender_name,
  sender_country,
  sender_city,
  sender_phone,
  sender_device,
  sender_ip,
  sender_address,
  sender_employer,
  receiver_id,
  receiver_account,
  receiver_name,
  receiver_country,
  receiver_city,
  receiver_phone,
  receiver_device,
  receiver_ip,
  receiver_address,
  receiver_employer,
};
inline constexpr size_t kFieldCount = 29;
inline constexpr size_t kPartyFieldCount = 10;

// "sender.city" for Field::sender_city.
std::string_view field_name(Field f) noexcept;
bool parse_field(std::string_view name, Field& out) noexcept;

struct Event {
  std::string_view id;
  int64_t ts_ms = 0;  // event time, epoch milliseconds UTC
  Kind kind = Kind::transfer;
  Money amount;  // in `currency`, > 0
  Currency currency;
  Money amount_base;  // converted once, at decode, into the config's base currency
  std::string_view channel, agent, purpose;
  Party sender, receiver;
  std::string_view labels;  // raw JSON object text; ground truth, never read by rules
  uint32_t present = 0;     // bit (1 << Field) set for every field the input carried or defaulted

  bool has(Field f) const noexcept { return (present >> static_cast<unsigned>(f)) & 1U; }
};

namespace detail {
// Byte offset of each field's string_view in Event, or -1 (string_slot's table).
extern const std::array<int16_t, kFieldCount> kStringSlotOffset;
}  // namespace detail

// The string slot of a string-valued canonical field, or nullptr for id/ts/kind/amount/
// currency/labels which have their own types. Inline: rules read fields on every event.
inline std::string_view* string_slot(Event& e, Field f) noexcept {
  const int16_t at = detail::kStringSlotOffset[static_cast<size_t>(f)];
  return at < 0 ? nullptr : reinterpret_cast<std::string_view*>(reinterpret_cast<char*>(&e) + at);
}
inline const std::string_view* string_slot(const Event& e, Field f) noexcept {
  return string_slot(const_cast<Event&>(e), f);
}

}  // namespace corridor::event
