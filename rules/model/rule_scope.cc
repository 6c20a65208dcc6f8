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
  if (name == "sender_salary_age") {
    return lang::Symbol{lang::Type::duration, S::slot, kSlotSenderSalaryAge, {}};
  }
  if (name == "sender_salary_payer") {
    return lang::Symbol{lang::Type::string, S::slot, kSlotSenderSalaryPayer, {}};
  }
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
  std::string names =
      EventScope::known_names() + ", is_new_pair, sender_salary_age, sender_salary_payer";
  if (account_) names += ", direction, counterparty.{id,country,city,...}";
  return names;
}

const std::vector<std::string>* RuleScope::list(std::string_view name) const {
  auto it = set_.lists.find(std::string(name));
  return it == set_.lists.end() ? nullptr : &it->second;
}

const lang::LookupTable* RuleScope::table(std::string_view name) const {
  auto it = set_.tables.find(std::string(name));
  return it == set_.tables.end() ? nullptr : &it->second;
}

std::optional<lang::Symbol> WhenScope::resolve(std::string_view name) {
  for (size_t i = 0; i < aggregates_.size(); ++i) {
    if (aggregates_[i].name == name) {
      named_aggregates |= i < 64 ? uint64_t{1} << i : ~uint64_t{0};
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

std::optional<lang::Symbol> SequenceScope::resolve(std::string_view name) {
  using S = lang::Symbol::Source;
  if (aggregates_ != nullptr) {
    for (size_t i = 0; i < aggregates_->size(); ++i) {
      if ((*aggregates_)[i].name == name) {
        return lang::Symbol{(*aggregates_)[i].result_type,
                            S::slot,
                            static_cast<uint16_t>(kFirstAggregateSlot + i),
                            {}};
      }
    }
  }
  const std::string prefix = first_as_ + ".";
  if (name.starts_with(prefix)) {
    const std::string_view field = name.substr(prefix.size());
    for (size_t k = 0; k < bindings_.size(); ++k) {
      if (bindings_[k].name == name) {
        return lang::Symbol{
            bindings_[k].type, S::slot, static_cast<uint16_t>(kFirstBindingSlot + k), {}};
      }
    }
    // The first step's event: what a filter of this rule sees, captured at the first step.
    static const RuleSet kNoLists;
    RuleScope event_scope(account_, kNoLists);
    std::optional<lang::Symbol> inner = event_scope.resolve(field);
    if (!inner || field == "is_new_pair") return std::nullopt;
    if (bindings_.size() >= kMaxBindings) {
      overflow = true;
      return std::nullopt;
    }
    lang::CompileError error;
    std::optional<lang::Program> program = lang::compile(field, event_scope, std::nullopt, error);
    if (!program) return std::nullopt;
    Binding b;
    b.name = std::string(name);
    b.type = program->type();
    b.value = std::move(*program);
    bindings_.push_back(std::move(b));
    return lang::Symbol{inner->type, S::slot,
                        static_cast<uint16_t>(kFirstBindingSlot + bindings_.size() - 1),
                        inner->allowed};
  }
  return RuleScope::resolve(name);
}

std::string SequenceScope::known_names() const {
  std::string names;
  if (aggregates_ != nullptr) {
    for (const EpisodeAggregate& a : *aggregates_) names += a.name + ", ";
  }
  return names + first_as_ + ".<field>, " + RuleScope::known_names();
}

}  // namespace corridor::rules
