#include "connectors/synthetic/pacer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

namespace corridor::synthetic {

void ThreadSleeper::sleep_ms(int64_t ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

int64_t SteadyClock::now_ms() const noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

RatePacer::RatePacer(double rate, const pipeline::Clock& clock, Sleeper& sleeper)
    : interval_ms_(1000.0 / rate),
      burst_(static_cast<size_t>(std::max(1.0, std::floor(rate / 100.0)))),
      clock_(clock),
      sleeper_(sleeper) {}

size_t RatePacer::acquire(size_t wanted) {
  const size_t k = std::clamp<size_t>(wanted, 1, burst_);
  const double full = static_cast<double>(burst_) * interval_ms_;  // a full bucket's time
  const int64_t now = clock_.now_ms();
  if (!started_) {
    origin_ms_ = now;
    next_ms_ = -full;  // starts full: the first batch goes at once
    started_ = true;
  }
  // Credit is what built up before this call, at most a full bucket; what the sleeps below
  // overshoot by (whole milliseconds) is kept, so slow rates keep their average.
  const double base = std::max(next_ms_, static_cast<double>(now - origin_ms_) - full);
  const double due = base + static_cast<double>(k) * interval_ms_;
  for (double t = static_cast<double>(now - origin_ms_); t < due;
       t = static_cast<double>(clock_.now_ms() - origin_ms_)) {
    sleeper_.sleep_ms(static_cast<int64_t>(std::ceil(due - t)));
  }
  next_ms_ = due;
  return k;
}

}  // namespace corridor::synthetic
