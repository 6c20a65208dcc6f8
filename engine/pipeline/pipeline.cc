#include "engine/pipeline/pipeline.h"

#include <algorithm>

namespace corridor::pipeline {

Pipeline::Pipeline(EventHandler& handler, DeadLetterWriter& dead_letters, const Clock& clock,
                   PipelineOptions options)
    : handler_(handler), dead_letters_(dead_letters), clock_(clock), options_(options) {
  stats_.started_ms = clock_.now_ms();
  batch_.records.reserve(options_.batch_size);
}

void Pipeline::dead_letter(std::string_view source, const Record& record,
                           const event::DecodeError& e) {
  ++stats_.dead_lettered;
  ++stats_.by_reason[static_cast<size_t>(e.reason)];
  dead_letters_.write(source, record, e);
}

bool Pipeline::run(Source& source, event::Decoder& decoder) {
  // The end is stamped however the run ends: a source that cannot be read throws.
  struct EndStamp {
    Pipeline& p;
    ~EndStamp() { p.stats_.finished_ms = p.clock_.now_ms(); }
  } end_stamp{*this};
  bool finished = true;
  while (true) {
    if (stop_.load(std::memory_order_relaxed)) {
      finished = false;
      break;
    }
    size_t want = options_.batch_size;
    if (options_.max_records != 0) {
      if (stats_.read >= options_.max_records) {
        finished = false;
        break;
      }
      want = static_cast<size_t>(std::min<uint64_t>(want, options_.max_records - stats_.read));
    }
    if (!source.next_batch(batch_, want)) {
      // A stop signal can also end a source's wait for input (line_reader.cc): stopped.
      if (stop_.load(std::memory_order_relaxed)) finished = false;
      break;
    }
    for (const Record& record : batch_.records) {
      ++stats_.read;
      if (!decoder.decode(record, event_, error_)) {
        dead_letter(source.name(), record, error_);
        continue;
      }
      // Event time only moves the watermark forward; it never comes from the clock.
      if (stats_.max_event_time_ms != INT64_MIN &&
          event_.ts_ms < stats_.max_event_time_ms - options_.allowed_lateness_ms) {
        if (options_.late_policy == LatePolicy::dead_letter) {
          error_.reason = event::Reason::late;
          error_.detail = "event time is " +
                          std::to_string(stats_.max_event_time_ms - event_.ts_ms) +
                          " ms behind the newest event; allowed lateness is " +
                          std::to_string(options_.allowed_lateness_ms) + " ms";
          dead_letter(source.name(), record, error_);
          continue;
        }
        ++stats_.late_applied;
      }
      stats_.max_event_time_ms = std::max(stats_.max_event_time_ms, event_.ts_ms);
      ++stats_.decoded;
      handler_.on_event(event_, record);
    }
    handler_.on_batch_end();
  }
  dead_letters_.flush();
  return finished;
}

}  // namespace corridor::pipeline
