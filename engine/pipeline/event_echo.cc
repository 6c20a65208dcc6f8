#include "engine/pipeline/event_echo.h"

#include "engine/event/event_json.h"

namespace corridor::pipeline {

void EventEcho::on_event(const event::Event& event, const Record& /*record*/) {
  line_.clear();
  event::append_event_json(line_, event);
  sink_.write(line_, event.id);
}

}  // namespace corridor::pipeline
