#include "rules/model/rule_scope.h"

#include "rules/model/rule.h"

namespace corridor::rules {
namespace {

constexpr std::string_view kPartyFields[] = {"id",    "account", "name", "country", "city",
                                             "phone", "device",  "ip",   "address", "employer"};

}  // namespace

std::optional<lang::Symbol> RuleScope::resolve(std::string_view name) {
  using S = lang::Symbol::Source;
  if (name == "is_new_pair") return lang::Symbol{lang::Type::boolean, S::slot, kSlotIsNewPair, {}};
  if (account_) {
    static constexpr std::string_view kDirections[] = {"in", "out", "self"};
    if (name == "direction") {
      return lang::Symbol{lang::Type::string, S::slot, kSlotDirection, kDirections};
    }
    if (name.starts_with("counterparty.")) {
      const std::string_view field = name.substr(13);
      for (size_t i = 0; i < std::size(kPartyFields); ++i) {
        if (kPartyFields[i] == field) {
          return lang::Symbol{
              lang::Type::string, S::slot, static_cast<uint16_t>(kSlotCounterparty + i), {}};
        }
      }
    }
  }
  return EventScope::resolve(name);
}

std::string RuleScope::known_names() const {
  std::string names = EventScope::known_names() + ", is_new_pair";
  if (account_) names += ", direction, counterparty.{id,country,city,...}";
  return names;
}

const std::vector<std::string>* RuleScope::list(std::string_view name) const {
  auto it = lists_.find(std::string(name));
  return it == lists_.end() ? nullptr : &it->second;
}

std::optional<lang::Symbol> WhenScope::resolve(std::string_view name) {
  for (size_t i = 0; i < aggregates_.size(); ++i) {
    if (aggregates_[i].name == name) {
      return lang::Symbol{aggregates_[i].result_type,
                          lang::Symbol::Source::slot,
                          static_cast<uint16_t>(kFirstAggregateSlot + i),
                          {}};
    }
  }
  return RuleScope::resolve(name);
}

std::string WhenScope::known_names() const {
  std::string names;
  for (const Aggregate& a : aggregates_) names += a.name + ", ";
  return names + RuleScope::known_names();
}

}  // namespace corridor::rules
