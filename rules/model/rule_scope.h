// What a rule's expressions may name, and where the evaluator puts each value.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "rules/lang/expression.h"

namespace corridor::rules {

struct Aggregate;

// Slots the evaluator fills per event before evaluating a rule's expressions.
inline constexpr uint16_t kSlotIsNewPair = 0;     // boolean
inline constexpr uint16_t kSlotDirection = 1;     // string: "in", "out", "self" (account keys)
inline constexpr uint16_t kSlotCounterparty = 2;  // the other party's 10 fields (account keys)
inline constexpr uint16_t kFirstAggregateSlot = 12;

// Filters, aggregate arguments and predicates: the event, enrichment flags, and for
// account-keyed rules `direction` and `counterparty.*`.
class RuleScope : public lang::EventScope {
 public:
  RuleScope(bool account, const std::map<std::string, std::vector<std::string>>& lists)
      : account_(account), lists_(lists) {}
  std::optional<lang::Symbol> resolve(std::string_view name) override;
  std::string known_names() const override;
  const std::vector<std::string>* list(std::string_view name) const override;

 private:
  bool account_;
  const std::map<std::string, std::vector<std::string>>& lists_;
};

// `when`: everything a filter sees, plus the rule's aggregates by name.
class WhenScope : public RuleScope {
 public:
  WhenScope(bool account, const std::map<std::string, std::vector<std::string>>& lists,
            const std::vector<Aggregate>& aggregates)
      : RuleScope(account, lists), aggregates_(aggregates) {}
  std::optional<lang::Symbol> resolve(std::string_view name) override;
  std::string known_names() const override;

 private:
  const std::vector<Aggregate>& aggregates_;
};

}  // namespace corridor::rules
