// Wall-clock pacing for the synthetic source: at most `rate` events per second, released in
// small, evenly spaced batches rather than one burst a second. Clock and sleep are injected,
// so the pacing is tested without waiting.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/pipeline/clock.h"

namespace corridor::synthetic {

// Waits for wall-clock time to pass.
class Sleeper {
 public:
  virtual ~Sleeper() = default;
  virtual void sleep_ms(int64_t ms) = 0;
};

class ThreadSleeper final : public Sleeper {
 public:
  void sleep_ms(int64_t ms) override;
};

// Monotonic milliseconds (steady_clock): a wall-clock step does not stall or burst the pace.
class SteadyClock final : public pipeline::Clock {
 public:
  int64_t now_ms() const noexcept override;
};

// A token bucket: event i of an evenly paced stream is due `i / rate` seconds after the
// first, and at most burst() events of credit build up while the caller is slow, so a
// stall is never made up for by a burst. Over any interval of t seconds at most
// burst() + rate * (t + 1 ms) events are released (the clock counts whole milliseconds,
// so a batch may leave up to 1 ms after it was due), and the long-run average is `rate`.
class RatePacer {
 public:
  // `rate` > 0 events per second. The clock and sleeper must outlive the pacer.
  RatePacer(double rate, const pipeline::Clock& clock, Sleeper& sleeper);

  // Waits until some of `wanted` (>= 1) events may go and returns how many: from 1 to
  // min(wanted, burst()).
  size_t acquire(size_t wanted);

  // Events released at once at most: 10 ms worth, at least 1.
  size_t burst() const noexcept { return burst_; }

 private:
  double interval_ms_;  // between two events
  size_t burst_;
  const pipeline::Clock& clock_;
  Sleeper& sleeper_;
  bool started_ = false;
  int64_t origin_ms_ = 0;  // the clock at the first acquire(); times below are relative
  double next_ms_ = 0;     // when the bucket was (or will be) empty: the schedule's position
};

}  // namespace corridor::synthetic
