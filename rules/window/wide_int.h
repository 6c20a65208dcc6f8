// Private to rules/window: fixed-width unsigned integers wider than 128 bits (little-endian
// 64-bit limbs) and saturating 128-bit helpers, for exact sums of squares and the exact
// variance numerator n·Σx² − (Σx)². No allocation, no UB: every operation is defined for
// every input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

namespace corridor::rules::window::detail {

__extension__ typedef __int128 i128;  // __extension__: no -Wpedantic noise
__extension__ typedef unsigned __int128 u128;

inline constexpr i128 kI128Max = static_cast<i128>(~static_cast<u128>(0) >> 1);
inline constexpr i128 kI128Min = -kI128Max - 1;

// a + b, saturated to the int128 range.
inline i128 sat_add(i128 a, i128 b) noexcept {
  i128 r;
  if (__builtin_add_overflow(a, b, &r)) return b < 0 ? kI128Min : kI128Max;
  return r;
}

// |v| as an unsigned 128-bit value (defined for kI128Min too).
inline u128 magnitude(i128 v) noexcept {
  const u128 u = static_cast<u128>(v);
  return v < 0 ? ~u + 1 : u;
}

template <size_t N>
struct UInt {
  uint64_t w[N] = {};  // w[0] least significant

  static UInt from(u128 v) noexcept {
    UInt r;
    r.w[0] = static_cast<uint64_t>(v);
    if constexpr (N > 1) r.w[1] = static_cast<uint64_t>(v >> 64);
    return r;
  }
  bool operator==(const UInt&) const = default;
  bool is_zero() const noexcept {
    for (size_t i = 0; i < N; ++i)
      if (w[i] != 0) return false;
    return true;
  }
  // True when the value fits in 128 bits.
  bool fits_u128() const noexcept {
    for (size_t i = 2; i < N; ++i)
      if (w[i] != 0) return false;
    return true;
  }
  u128 low128() const noexcept {
    u128 r = w[0];
    if constexpr (N > 1) r |= static_cast<u128>(w[1]) << 64;
    return r;
  }
  // The value rounded to long double (64-bit mantissa on x86-64).
  long double to_long_double() const noexcept {
    long double r = 0;
    for (size_t i = N; i-- > 0;) r = r * 18446744073709551616.0L + static_cast<long double>(w[i]);
    return r;
  }
};

using U192 = UInt<3>;

// a + b; returns false (and leaves `a` at the maximum) on overflow.
template <size_t N>
inline bool add_sat(UInt<N>& a, const UInt<N>& b) noexcept {
  unsigned carry = 0;
  UInt<N> r;
  for (size_t i = 0; i < N; ++i) {
    const u128 s = static_cast<u128>(a.w[i]) + b.w[i] + carry;
    r.w[i] = static_cast<uint64_t>(s);
    carry = static_cast<unsigned>(s >> 64);
  }
  if (carry != 0) {
    for (size_t i = 0; i < N; ++i) a.w[i] = std::numeric_limits<uint64_t>::max();
    return false;
  }
  a = r;
  return true;
}

// a · b, exact.
template <size_t A, size_t B>
inline UInt<A + B> mul(const UInt<A>& a, const UInt<B>& b) noexcept {
  UInt<A + B> r;
  for (size_t i = 0; i < A; ++i) {
    uint64_t carry = 0;
    for (size_t j = 0; j < B; ++j) {
      const u128 t = static_cast<u128>(a.w[i]) * b.w[j] + r.w[i + j] + carry;
      r.w[i + j] = static_cast<uint64_t>(t);
      carry = static_cast<uint64_t>(t >> 64);
    }
    r.w[i + B] = carry;
  }
  return r;
}

// a − b when a >= b, else 0.
template <size_t N>
inline UInt<N> sub_or_zero(const UInt<N>& a, const UInt<N>& b) noexcept {
  UInt<N> r;
  unsigned borrow = 0;
  for (size_t i = 0; i < N; ++i) {
    const u128 d = static_cast<u128>(a.w[i]) - b.w[i] - borrow;
    r.w[i] = static_cast<uint64_t>(d);
    borrow = static_cast<unsigned>((d >> 64) != 0);
  }
  return borrow != 0 ? UInt<N>{} : r;
}

template <size_t To, size_t From>
inline UInt<To> widen(const UInt<From>& a) noexcept {
  static_assert(To >= From);
  UInt<To> r;
  for (size_t i = 0; i < From; ++i) r.w[i] = a.w[i];
  return r;
}

}  // namespace corridor::rules::window::detail
