// Bringing a line of memory into the cache ahead of its use.
#pragma once

namespace corridor::rules {

// Loads the byte at `p`, so that its cache line is present when the caller gets to it. A plain
// load, not a prefetch instruction: on this project's benchmark machine (a VM with nested
// paging) prefetches of lines spread at random over gigabytes of state were measured to have
// no effect, while loads make the CPU fetch them. A load does not stop the CPU by itself:
// independent loads issued one after another are in flight together, so callers fetch the
// lines of several keys in a short loop before using any of them (benchmarks/README.md,
// "Ninth round").
inline void fetch_line(const void* p) noexcept {
  const char v = *static_cast<const volatile char*>(p);
  asm volatile("" : : "r"(v));
}

}  // namespace corridor::rules
