// Private to rules/window: the canonical little-endian encodings of the window state's
// serialisation. Unsigned integers are LEB128 (7 bits per byte, least significant first,
// high bit = more follows), minimal: the reader rejects a redundant trailing zero group and
// any bit beyond the integer's width, so each value has exactly one encoding. Signed
// integers are zigzag-mapped first (0, -1, 1, -2, ... -> 0, 1, 2, 3, ...).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "rules/window/wide_int.h"

namespace corridor::rules::window::detail {

inline uint64_t zigzag(int64_t v) noexcept {
  const uint64_t u = static_cast<uint64_t>(v);
  return (u << 1) ^ (v < 0 ? ~uint64_t{0} : 0);
}
inline int64_t unzigzag(uint64_t z) noexcept {
  return static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1));
}
inline u128 zigzag(i128 v) noexcept {
  const u128 u = static_cast<u128>(v);
  return (u << 1) ^ (v < 0 ? ~u128{0} : 0);
}
inline i128 unzigzag(u128 z) noexcept { return static_cast<i128>((z >> 1) ^ (~(z & 1) + 1)); }

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void byte(uint8_t b) { out_.push_back(static_cast<char>(b)); }
  void u64(uint64_t v) {
    while (v >= 0x80) {
      byte(static_cast<uint8_t>(v) | 0x80);
      v >>= 7;
    }
    byte(static_cast<uint8_t>(v));
  }
  void s64(int64_t v) { u64(zigzag(v)); }
  template <size_t N>
  void uint(UInt<N> v) {
    for (;;) {
      const uint8_t low = static_cast<uint8_t>(v.w[0] & 0x7f);
      for (size_t i = 0; i < N; ++i) {  // v >>= 7
        v.w[i] >>= 7;
        if (i + 1 < N) v.w[i] |= v.w[i + 1] << 57;
      }
      if (v.is_zero()) {
        byte(low);
        return;
      }
      byte(low | 0x80);
    }
  }
  void s128(i128 v) { uint(UInt<2>::from(zigzag(v))); }
  void fixed64(uint64_t v) {
    for (int i = 0; i < 8; ++i) byte(static_cast<uint8_t>(v >> (8 * i)));
  }

 private:
  std::string& out_;
};

// Every read returns false on truncated or non-canonical input; the reader is then spent.
class Reader {
 public:
  explicit Reader(std::string_view in) : p_(in.data()), end_(in.data() + in.size()) {}

  size_t remaining() const noexcept { return static_cast<size_t>(end_ - p_); }
  bool at_end() const noexcept { return p_ == end_; }

  bool byte(uint8_t& b) noexcept {
    if (p_ == end_) return false;
    b = static_cast<uint8_t>(*p_++);
    return true;
  }
  bool u64(uint64_t& v) noexcept {
    UInt<1> x;
    if (!uint<1>(x, 64)) return false;
    v = x.w[0];
    return true;
  }
  bool s64(int64_t& v) noexcept {
    uint64_t z;
    if (!u64(z)) return false;
    v = unzigzag(z);
    return true;
  }
  bool s128(i128& v) noexcept {
    UInt<2> x;
    if (!uint<2>(x, 128)) return false;
    v = unzigzag(x.low128());
    return true;
  }
  // An unsigned integer of at most `bits` bits (bits <= 64 * N).
  template <size_t N>
  bool uint(UInt<N>& v, unsigned bits) noexcept {
    v = UInt<N>{};
    for (unsigned shift = 0;; shift += 7) {
      if (shift >= bits) return false;  // too many bytes
      uint8_t b;
      if (!byte(b)) return false;
      const uint64_t group = b & 0x7f;
      if (bits - shift < 7 && (group >> (bits - shift)) != 0) return false;  // beyond width
      if (shift > 0 && b == 0) return false;  // redundant trailing zero group
      const unsigned limb = shift / 64, off = shift % 64;
      v.w[limb] |= group << off;
      if (off > 57 && limb + 1 < N) v.w[limb + 1] |= group >> (64 - off);
      if ((b & 0x80) == 0) return true;
    }
  }
  bool fixed64(uint64_t& v) noexcept {
    if (remaining() < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p_[i])) << (8 * i);
    p_ += 8;
    return true;
  }

 private:
  const char* p_;
  const char* end_;
};

}  // namespace corridor::rules::window::detail
