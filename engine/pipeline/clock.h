// Wall-clock time, injected. Event time never comes from here (DESIGN §6): only
// processing latency, progress and checkpoint pacing do.
#pragma once

#include <chrono>
#include <cstdint>

namespace corridor::pipeline {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now_ms() const noexcept = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t now_ms() const noexcept override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// A clock tests move by hand.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ms = 0) : now_(start_ms) {}
  int64_t now_ms() const noexcept override { return now_; }
  void advance(int64_t ms) noexcept { now_ += ms; }

 private:
  int64_t now_;
};

}  // namespace corridor::pipeline
