// Internal to connectors/synthetic: injected scenario generators. Each pattern of
// TYPOLOGIES.md gets one generator, registered by name in scenarios.cc (and some a second
// generator of benign look-alikes alone, under the same name); a generator plans
// whole instances (new parties, labelled events, one truth record each) before the first
// event is written, so adding a pattern touches its own file and one registry line.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "connectors/synthetic/model.h"

namespace corridor::synthetic {

enum class Variant : uint8_t { fire, near_miss, lookalike };
std::string_view variant_name(Variant v) noexcept;

class ScenarioGenerator {
 public:
  virtual ~ScenarioGenerator() = default;
  // Plans one instance of `variant` with draws from `rng`. Returns false when the world
  // cannot hold it (too few days for the cycles it needs); it then adds nothing.
  virtual bool plan(WorldState& world, Variant variant, Rng& rng) = 0;
  // Whether plan() knows a benign look-alike of the pattern (Variant::lookalike).
  virtual bool has_lookalike() const { return false; }
};

struct ScenarioSpec {
  std::string_view name;  // the pattern id: "R1"
  std::unique_ptr<ScenarioGenerator> (*make)();
};

// Every registered generator, in a fixed order.
const std::vector<ScenarioSpec>& scenario_registry();

}  // namespace corridor::synthetic
