// For the rule engine's tests: events that own their strings (the engine sees views, as it
// does behind the decoder) and loading a pack from text.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "engine/event/event.h"
#include "rules/model/rule.h"

namespace corridor::rules {

struct OwnedEvent {
  std::string id, sender, receiver, agent, sender_city, receiver_country;
  int64_t ts = 0;
  event::Kind kind = event::Kind::remittance;
  int64_t units = 0;  // amount and amount_base, USD in 10^-4 units

  event::Event view() const {
    event::Event e;
    e.id = id;
    e.ts_ms = ts;
    e.kind = kind;
    e.amount.units = units;
    e.amount_base.units = units;
    e.currency.code = {'U', 'S', 'D'};
    e.sender.id = sender;
    e.receiver.id = receiver;
    e.agent = agent;
    e.sender.city = sender_city;
    e.receiver.country = receiver_country;
    return e;
  }
};

// The rules of one pack given as text; a failed load fails the test and gives no rules.
inline RuleSet load_pack(const std::string& yaml, const std::string& file = "test.yaml") {
  RuleLoadResult r = parse_rule_pack(file, yaml);
  EXPECT_TRUE(r.rules.has_value()) << config::format_all(r.errors);
  return r.rules ? std::move(*r.rules) : RuleSet{};
}

}  // namespace corridor::rules
