// Moves batches of records from a source through decode to the event handler, sending
// what cannot be decoded to the dead-letter sink. The rule engine plugs in as the
// EventHandler; the state store and checkpoints hook in at batch boundaries.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "engine/event/dead_letter.h"
#include "engine/event/decoder.h"
#include "engine/event/event.h"
#include "engine/pipeline/clock.h"
#include "engine/pipeline/dead_letter_writer.h"
#include "engine/pipeline/source.h"

namespace corridor::pipeline {

// Receives every decoded, on-time event in input order.
class EventHandler {
 public:
  virtual ~EventHandler() = default;
  virtual void on_event(const event::Event& event, const Record& record) = 0;
  // After each batch: where buffered output is flushed and, later, state checkpointed.
  virtual void on_batch_end() {}
};

enum class LatePolicy { dead_letter, apply };

struct PipelineOptions {
  size_t batch_size = 4096;
  // The watermark trails the highest event time seen by this much; older events are late.
  int64_t allowed_lateness_ms = 3'600'000;
  LatePolicy late_policy = LatePolicy::dead_letter;
  // Stop after this many records (0: no limit). For sampling a large input.
  uint64_t max_records = 0;
};

struct PipelineStats {
  uint64_t read = 0;           // records taken from sources
  uint64_t decoded = 0;        // records handed to the handler
  uint64_t dead_lettered = 0;  // records sent to the dead-letter sink
  uint64_t late_applied = 0;   // late events processed anyway (LatePolicy::apply)
  std::array<uint64_t, event::kReasonCount> by_reason{};
  int64_t max_event_time_ms = INT64_MIN;
  int64_t started_ms = 0;
  int64_t finished_ms = 0;

  // The invariant every run keeps: nothing read is lost.
  bool conserved() const noexcept { return read == decoded + dead_lettered; }
};

class Pipeline {
 public:
  Pipeline(EventHandler& handler, DeadLetterWriter& dead_letters, const Clock& clock,
           PipelineOptions options);

  // Drains `source` through `decoder`. Statistics and the watermark carry across calls, so
  // several sources run one after another form one input. Returns false when stopped early
  // (request_stop or max_records), true when the source reached its end.
  bool run(Source& source, event::Decoder& decoder);

  // Safe to call from a signal handler or another thread: the current batch completes.
  void request_stop() noexcept { stop_.store(true, std::memory_order_relaxed); }

  const PipelineStats& stats() const noexcept { return stats_; }

 private:
  void dead_letter(std::string_view source, const Record& record, const event::DecodeError& e);

  EventHandler& handler_;
  DeadLetterWriter& dead_letters_;
  const Clock& clock_;
  PipelineOptions options_;
  PipelineStats stats_;
  std::atomic<bool> stop_{false};
  RecordBatch batch_;
  event::Event event_;
  event::DecodeError error_;
};

}  // namespace corridor::pipeline
