#include "engine/event/event.h"

#include <cstddef>
#include <type_traits>

namespace corridor::event {
namespace {

constexpr std::array<std::string_view, kKindCount> kKindNames{
    "transfer", "remittance", "cash_in", "cash_out", "salary", "fee", "card"};

constexpr std::array<std::string_view, kFieldCount> kFieldNames{
    "id",
    "ts",
    "kind",
    "amount",
    "currency",
    "channel",
    "agent",
    "purpose",
    "labels",
    "sender.id",
    "sender.account",
    "sender.name",
    "sender.country",
    "sender.city",
    "sender.phone",
    "sender.device",
    "sender.ip",
    "sender.address",
    "sender.employer",
    "receiver.id",
    "receiver.account",
    "receiver.name",
    "receiver.country",
    "receiver.city",
    "receiver.phone",
    "receiver.device",
    "receiver.ip",
    "receiver.address",
    "receiver.employer",
};

}  // namespace

std::string_view kind_name(Kind k) noexcept { return kKindNames[static_cast<size_t>(k)]; }

bool parse_kind(std::string_view s, Kind& out) noexcept {
  // Once per event: names of the input's length only, each a fixed-size comparison.
  const auto is = [&](Kind k) {
    const std::string_view name = kKindNames[static_cast<size_t>(k)];
    if (s != name) return false;
    out = k;
    return true;
  };
  switch (s.size()) {
    case 3:
      return is(Kind::fee);
    case 4:
      return is(Kind::card);
    case 6:
      return is(Kind::salary);
    case 7:
      return is(Kind::cash_in);
    case 8:
      return is(Kind::transfer) || is(Kind::cash_out);
    case 10:
      return is(Kind::remittance);
    default:
      return false;
  }
}

std::string_view field_name(Field f) noexcept { return kFieldNames[static_cast<size_t>(f)]; }

bool parse_field(std::string_view name, Field& out) noexcept {
  for (size_t i = 0; i < kFieldNames.size(); ++i) {
    if (kFieldNames[i] == name) {
      out = static_cast<Field>(i);
      return true;
    }
  }
  return false;
}

namespace detail {
namespace {
constexpr int16_t party_offset(size_t party, size_t index) {
  constexpr size_t fields[kPartyFieldCount] = {offsetof(Party, id),      offsetof(Party, account),
                                               offsetof(Party, name),    offsetof(Party, country),
                                               offsetof(Party, city),    offsetof(Party, phone),
                                               offsetof(Party, device),  offsetof(Party, ip),
                                               offsetof(Party, address), offsetof(Party, employer)};
  return static_cast<int16_t>(party + fields[index]);
}
constexpr std::array<int16_t, kFieldCount> make_offsets() {
  std::array<int16_t, kFieldCount> at{};
  at.fill(-1);
  at[static_cast<size_t>(Field::channel)] = offsetof(Event, channel);
  at[static_cast<size_t>(Field::agent)] = offsetof(Event, agent);
  at[static_cast<size_t>(Field::purpose)] = offsetof(Event, purpose);
  const auto sender0 = static_cast<size_t>(Field::sender_id);
  const auto receiver0 = static_cast<size_t>(Field::receiver_id);
  for (size_t i = 0; i < kPartyFieldCount; ++i) {
    at[sender0 + i] = party_offset(offsetof(Event, sender), i);
    at[receiver0 + i] = party_offset(offsetof(Event, receiver), i);
  }
  return at;
}
}  // namespace
static_assert(std::is_standard_layout_v<Event> && std::is_standard_layout_v<Party>);
const std::array<int16_t, kFieldCount> kStringSlotOffset = make_offsets();
}  // namespace detail

}  // namespace corridor::event
