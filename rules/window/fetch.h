// Bringing a line of memory into the cache ahead of its use.
#pragma once

namespace corridor::rules {

// Loads the byte at `p`, so that its cache line is present when the caller gets to it. A plain
// load, not a prefetch instruction: on the benchmark machine (a VM) prefetch hints for the
// lines of an event's state, spread at random over gigabytes, were measured to do nothing,
// while loads of the same lines in the same loops made the engine 10-20 % faster
// (benchmarks/README.md, "Ninth round"; why the hints fail there is not established). A load
// does not stop the CPU by itself: independent loads issued one after another are in flight
// together, so callers fetch the lines of several keys in a short loop before using any.
inline void fetch_line(const void* p) noexcept {
  const char v = *static_cast<const volatile char*>(p);
  asm volatile("" : : "r"(v));
}

}  // namespace corridor::rules
