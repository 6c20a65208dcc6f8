#include "rules/eval/rule_handler.h"

#include <algorithm>

namespace corridor::rules {

void RuleHandler::on_event(const event::Event& event, const pipeline::Record& record) {
  writer_.set_origin(Origin{source_, record.line, record.offset});
  engine_.on_event(event);
  if (also_ != nullptr) also_->on_event(event, record);
  max_ts_ = std::max(max_ts_, event.ts_ms);
  ++since_expire_;
}

void RuleHandler::on_batch_end() {
  if (also_ != nullptr) also_->on_batch_end();
  for (pipeline::Sink* s : sinks_) s->flush();
  if (since_expire_ >= kExpireEvery) {
    // Idle state goes once nothing on time can reach it: outputs never depend on when.
    engine_.expire(max_ts_ - lateness_ms_);
    since_expire_ = 0;
  }
}

}  // namespace corridor::rules
