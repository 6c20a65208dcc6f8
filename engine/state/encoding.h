// Little-endian, length-prefixed encodings for state values: what components use to write
// their state into a StateStore and read it back. Readers never trust their input: every
// read is bounds-checked and a short or malformed value makes ok() false (the caller then
// reports the store as corrupt) instead of reading past the end.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace corridor::state {

class ValueWriter {
 public:
  explicit ValueWriter(std::string& out) : out_(out) {}

  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) { fixed(v); }
  void u64(uint64_t v) { fixed(v); }
  void i64(int64_t v) { fixed(static_cast<uint64_t>(v)); }
  // A length (u32) then the bytes.
  void bytes(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }

 private:
  template <typename T>
  void fixed(T v) {
    char b[sizeof(T)];
    for (size_t i = 0; i < sizeof(T); ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    out_.append(b, sizeof(T));
  }
  std::string& out_;
};

class ValueReader {
 public:
  explicit ValueReader(std::string_view in) : in_(in) {}

  uint8_t u8() { return static_cast<uint8_t>(fixed<uint8_t>()); }
  uint32_t u32() { return fixed<uint32_t>(); }
  uint64_t u64() { return fixed<uint64_t>(); }
  int64_t i64() { return static_cast<int64_t>(fixed<uint64_t>()); }
  // A view into the input (valid as long as the input is).
  std::string_view bytes() {
    const uint32_t n = u32();
    if (!ok_ || in_.size() - at_ < n) return fail();
    const std::string_view s = in_.substr(at_, n);
    at_ += n;
    return s;
  }

  bool ok() const noexcept { return ok_; }
  bool at_end() const noexcept { return at_ == in_.size(); }
  // ok() and nothing left over.
  bool done() const noexcept { return ok_ && at_end(); }

 private:
  template <typename T>
  T fixed() {
    if (!ok_ || in_.size() - at_ < sizeof(T)) {
      fail();
      return T{};
    }
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      v |= static_cast<T>(static_cast<T>(static_cast<unsigned char>(in_[at_ + i])) << (8 * i));
    }
    at_ += sizeof(T);
    return v;
  }
  std::string_view fail() {
    ok_ = false;
    at_ = in_.size();
    return {};
  }

  std::string_view in_;
  size_t at_ = 0;
  bool ok_ = true;
};

}  // namespace corridor::state
