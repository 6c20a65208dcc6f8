// What a rule's expressions may name, and where the evaluator puts each value.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "rules/lang/expression.h"

namespace corridor::rules {

struct Aggregate;
struct Binding;
struct EpisodeAggregate;
struct RuleSet;

// Slots the evaluator fills per event before evaluating a rule's expressions.
inline constexpr uint16_t kSlotIsNewPair = 0;         // boolean
inline constexpr uint16_t kSlotDirection = 1;         // string: "in", "out", "self" (account keys)
inline constexpr uint16_t kSlotCounterparty = 2;      // the other party's 10 fields (account keys)
inline constexpr uint16_t kSlotSenderSalaryAge = 12;  // duration since the sender's last salary
inline constexpr uint16_t kSlotSenderSalaryPayer = 13;  // string: who paid that salary
inline constexpr uint16_t kFirstAggregateSlot = 14;
inline constexpr uint16_t kMaxSequenceAggregates = 16;
inline constexpr uint16_t kFirstBindingSlot = kFirstAggregateSlot + kMaxSequenceAggregates;
inline constexpr uint16_t kMaxBindings = 32;

// Filters, aggregate arguments and predicates: the event, enrichment flags, and for
// account-keyed rules `direction` and `counterparty.*`.
class RuleScope : public lang::EventScope {
 public:
  // `set` provides the lists and tables (it may still be loading).
  RuleScope(bool account, const RuleSet& set) : account_(account), set_(set) {}
  std::optional<lang::Symbol> resolve(std::string_view name) override;
  std::string known_names() const override;
  const std::vector<std::string>* list(std::string_view name) const override;
  const lang::LookupTable* table(std::string_view name) const override;

 private:
  bool account_;
  const RuleSet& set_;
};

// `when`: everything a filter sees, plus the rule's aggregates by name.
class WhenScope : public RuleScope {
 public:
  WhenScope(bool account, const RuleSet& set, const std::vector<Aggregate>& aggregates)
      : RuleScope(account, set), aggregates_(aggregates) {}
  std::optional<lang::Symbol> resolve(std::string_view name) override;
  std::string known_names() const override;
  // Bit i set when aggregates[i] was named since the caller last cleared it (all bits for
  // an aggregate beyond the 64th).
  uint64_t named_aggregates = 0;

 private:
  const std::vector<Aggregate>& aggregates_;
};

// A sequence's second step and its `when`: everything a filter sees, `<first>.<field>`
// (captured from the first step's event, added to `bindings` on first use), and in `when`
// the episode's aggregates.
class SequenceScope : public RuleScope {
 public:
  SequenceScope(bool account, const RuleSet& set, std::string first_as,
                std::vector<Binding>& bindings, const std::vector<EpisodeAggregate>* aggregates)
      : RuleScope(account, set),
        account_(account),
        first_as_(std::move(first_as)),
        bindings_(bindings),
        aggregates_(aggregates) {}
  std::optional<lang::Symbol> resolve(std::string_view name) override;
  std::string known_names() const override;
  // Set when a name could not be bound because the binding table is full.
  bool overflow = false;

 private:
  bool account_;
  std::string first_as_;
  std::vector<Binding>& bindings_;
  const std::vector<EpisodeAggregate>* aggregates_;
};

}  // namespace corridor::rules
