// The handler of the foundation: writes each decoded event in canonical JSON to a sink.
// The rule engine replaces it as the pipeline's handler; `corridor run` keeps it for the
// `events` sink so an analyst can see exactly what the engine decoded.
#pragma once

#include <string>

#include "engine/pipeline/pipeline.h"
#include "engine/pipeline/sink.h"

namespace corridor::pipeline {

class EventEcho final : public EventHandler {
 public:
  explicit EventEcho(Sink& sink) : sink_(sink) { line_.reserve(1024); }
  void on_event(const event::Event& event, const Record& record) override;
  void on_batch_end() override { sink_.flush(); }

 private:
  Sink& sink_;
  std::string line_;
};

}  // namespace corridor::pipeline
