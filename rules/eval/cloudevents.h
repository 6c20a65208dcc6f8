// Signals and alerts as CloudEvents 1.0 structured JSON, one per line (DESIGN §8), described
// by config/schemas/alert.v1.schema.json.
#pragma once

#include <string>
#include <string_view>

#include "engine/pipeline/record.h"
#include "engine/pipeline/sink.h"
#include "rules/eval/signal.h"

namespace corridor::rules {

inline constexpr std::string_view kSignalType = "org.corridor.signal.v1";
inline constexpr std::string_view kAlertType = "org.corridor.alert.v1";
inline constexpr std::string_view kDataSchema = "urn:corridor:schema:alert.v1";

struct OutputContext {
  std::string config_hash;  // the engine config's outputs hash (EngineConfig::outputs_hash)
  std::string rules_hash;   // the rule packs' hash
};

// Where the event that triggered an output came from.
struct Origin {
  std::string_view source;
  uint64_t line = 0;
  uint64_t offset = 0;
};

void append_signal_json(std::string& out, const Signal& s, const OutputContext& context,
                        const Origin& origin);
void append_alert_json(std::string& out, const Alert& a, const OutputContext& context,
                       const Origin& origin);

// Writes signals and alerts to their sinks (either may be null: not written), keyed by
// entity. set_origin() names the record being evaluated.
class CloudEventWriter final : public SignalListener {
 public:
  CloudEventWriter(pipeline::Sink* signals, pipeline::Sink* alerts, OutputContext context)
      : signals_(signals), alerts_(alerts), context_(std::move(context)) {}
  void set_origin(const Origin& origin) noexcept { origin_ = origin; }
  void on_signal(const Signal& s) override;
  void on_alert(const Alert& a) override;

 private:
  pipeline::Sink* signals_;
  pipeline::Sink* alerts_;
  OutputContext context_;
  Origin origin_;
  std::string line_;
};

}  // namespace corridor::rules
