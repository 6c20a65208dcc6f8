// Private to rules/window: the HyperLogLog pieces of the distinct sketch. The sketch's
// registers are never stored as an array: the window state keeps, per register, the
// (rank, bucket) pairs that can still be a window's maximum (windowed_aggregates.cc), and
// builds the register histogram below for each query.
#pragma once

#include <bit>
#include <cstdint>

#include "rules/window/windowed_aggregates.h"

namespace corridor::rules::window::detail {

inline constexpr int kHllP = kDistinctSketchPrecision;   // register index bits
inline constexpr uint32_t kHllM = uint32_t{1} << kHllP;  // registers
inline constexpr int kHllQ = 64 - kHllP;                 // rank bits; ranks 1..kHllQ + 1

// The register of a hash: its top p bits.
inline uint32_t hll_register(uint64_t hash) noexcept {
  return static_cast<uint32_t>(hash >> (64 - kHllP));
}
// The rank of a hash: 1 + leading zeros of the remaining 64 - p bits (kHllQ + 1 when all
// are zero).
inline uint8_t hll_rank(uint64_t hash) noexcept {
  const uint64_t w = hash << kHllP;
  return static_cast<uint8_t>(w == 0 ? kHllQ + 1 : std::countl_zero(w) + 1);
}

// Ertl's improved raw estimator ("New cardinality estimation algorithms for HyperLogLog
// sketches", 2017, algorithm 6) over the register histogram: histogram[k] = number of
// registers holding k, for k = 0 .. kHllQ + 1 (they sum to kHllM). Unbiased across the
// whole range without empirical bias tables; relative standard error ≈ 1.04 / sqrt(m).
double hll_estimate(const uint32_t (&histogram)[kHllQ + 2]) noexcept;

}  // namespace corridor::rules::window::detail
