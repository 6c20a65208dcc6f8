// Plugs rule evaluation into the pipeline: each decoded event goes through the RuleEngine,
// whose signals and alerts the CloudEventWriter sends to their sinks.
#pragma once

#include <vector>

#include "engine/pipeline/pipeline.h"
#include "rules/eval/cloudevents.h"
#include "rules/eval/rule_engine.h"

namespace corridor::rules {

class RuleHandler final : public pipeline::EventHandler {
 public:
  // `also` (may be null) sees every event after the rules (the decoded-events sink).
  // `sinks` are flushed at each batch end. `allowed_lateness_ms` bounds state expiry: state
  // is dropped only once the watermark makes it irrelevant.
  RuleHandler(RuleEngine& engine, CloudEventWriter& writer, pipeline::EventHandler* also,
              std::vector<pipeline::Sink*> sinks, int64_t allowed_lateness_ms)
      : engine_(engine),
        writer_(writer),
        also_(also),
        sinks_(std::move(sinks)),
        lateness_ms_(allowed_lateness_ms) {}

  // The source whose records follow (for the trigger position in outputs).
  void set_source(std::string_view name) noexcept { source_ = name; }

  void on_event(const event::Event& event, const pipeline::Record& record) override;
  void on_batch_end() override;

 private:
  static constexpr uint64_t kExpireEvery = 1 << 16;

  RuleEngine& engine_;
  CloudEventWriter& writer_;
  pipeline::EventHandler* also_;
  std::vector<pipeline::Sink*> sinks_;
  int64_t lateness_ms_;
  std::string_view source_;
  int64_t max_ts_ = INT64_MIN;
  uint64_t since_expire_ = 0;
};

}  // namespace corridor::rules
