#include "engine/event/event.h"

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

std::string_view* party_slot(Party& p, size_t index) noexcept {
  std::string_view* const slots[kPartyFieldCount] = {&p.id,      &p.account, &p.name,   &p.country,
                                                     &p.city,    &p.phone,   &p.device, &p.ip,
                                                     &p.address, &p.employer};
  return slots[index];
}

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

std::string_view* string_slot(Event& e, Field f) noexcept {
  const auto i = static_cast<size_t>(f);
  switch (f) {
    case Field::channel:
      return &e.channel;
    case Field::agent:
      return &e.agent;
    case Field::purpose:
      return &e.purpose;
    default:
      break;
  }
  const auto sender0 = static_cast<size_t>(Field::sender_id);
  const auto receiver0 = static_cast<size_t>(Field::receiver_id);
  if (i >= sender0 && i < receiver0) return party_slot(e.sender, i - sender0);
  if (i >= receiver0 && i < kFieldCount) return party_slot(e.receiver, i - receiver0);
  return nullptr;
}

const std::string_view* string_slot(const Event& e, Field f) noexcept {
  return string_slot(const_cast<Event&>(e), f);
}

}  // namespace corridor::event
