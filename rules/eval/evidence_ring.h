// The (event time, id) of the last `capacity` events a key's rule counted, oldest first: what
// a signal names as its evidence. Private to rules/eval (rule_engine.cc); a header of its own
// so that its tests can reach it.
//
// Entries are packed as [time: 8 bytes][id length: 4 bytes][id], about 25 bytes for a
// 13-character id. The first kInline bytes live in the ring itself (two such entries, or one
// 36-character id): most keys' rules count only an event or two, and then the ring costs no
// heap block of its own. Beyond, one heap buffer that doubles as it grows.
//
// On the heap, dropping the oldest entry only moves the start of the live entries forward
// (an offset kept beside the buffer's address); the live entries are moved back to the
// buffer's start only when an entry does not fit after them. A full ring whose buffer has room for
// k more entries thus moves its entries once per k adds, where moving them on every add cost a
// memmove of the whole ring.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string_view>

namespace corridor::rules {

class EvidenceRing {
 public:
  struct Entry {
    int64_t ts;
    std::string_view id;
  };

  EvidenceRing() noexcept = default;
  EvidenceRing(EvidenceRing&& o) noexcept : size_(o.size_), cap_(o.cap_), count_(o.count_) {
    std::memcpy(bytes_, o.bytes_, on_heap() ? kHeapHeader : size_);
    o.cap_ = kInline;  // a heap buffer now belongs to this ring
    o.size_ = o.count_ = 0;
  }
  EvidenceRing& operator=(EvidenceRing&& o) noexcept {
    if (this != &o) {
      this->~EvidenceRing();
      new (this) EvidenceRing(std::move(o));
    }
    return *this;
  }
  EvidenceRing(const EvidenceRing&) = delete;
  EvidenceRing& operator=(const EvidenceRing&) = delete;
  ~EvidenceRing() {
    if (on_heap()) ::operator delete(heap());
  }

  // Appends (ts, id), first dropping the oldest entries beyond capacity - 1 (several, when
  // the capacity shrank since they were added). Capacity 0 keeps nothing.
  void add(int64_t ts, std::string_view id, size_t capacity) {
    if (capacity == 0) return;
    char* buf = entries();
    uint32_t begin = this->begin();
    if (count_ >= capacity) {
      size_t drop = 0;
      for (size_t k = count_ - capacity + 1; k > 0; --k) drop += kHeader + id_length(begin + drop);
      begin += static_cast<uint32_t>(drop);
      count_ = static_cast<uint32_t>(capacity - 1);
    }
    const auto length = static_cast<uint32_t>(id.size());
    const size_t entry = kHeader + length;
    if (begin > 0 && (!on_heap() || size_ + entry > cap_)) {
      // Inline, the few bytes left move at once; on the heap, only once the entry would not
      // fit after them.
      std::memmove(buf, buf + begin, size_ - begin);
      size_ -= begin;
      begin = 0;
    }
    set_begin(begin);  // the ring is whole again before anything may throw
    // Growing, the entries start at 0 (moved just above when they did not).
    if (size_ + entry > cap_) buf = grow(size_ + entry);
    char* at = buf + size_;
    std::memcpy(at, &ts, sizeof ts);
    std::memcpy(at + sizeof ts, &length, sizeof length);
    if (length != 0) std::memcpy(at + kHeader, id.data(), length);
    size_ += static_cast<uint32_t>(entry);
    ++count_;
  }

  // Calls f(Entry) oldest first (in the order added).
  template <typename F>
  void for_each(F f) const {
    const char* buf = entries();
    for (size_t at = begin(); at < size_;) {
      Entry e;
      std::memcpy(&e.ts, buf + at, sizeof e.ts);
      const uint32_t n = id_length(at);
      e.id = std::string_view(buf + at + kHeader, n);
      f(e);
      at += kHeader + n;
    }
  }

  size_t size() const noexcept { return count_; }
  // Bytes of the heap buffer (0 while inline), and where it starts (nullptr while inline).
  size_t heap_bytes() const noexcept { return on_heap() ? cap_ : 0; }
  const void* heap_block() const noexcept { return on_heap() ? heap() : nullptr; }
  // Two bytes of the lines an add reads or writes, for callers that fetch a key's state ahead
  // of its use: the oldest entry's first (dropped when the ring is full), and the byte after
  // the newest entry (the last byte of a full buffer). Both lie inside the ring's buffer.
  const void* oldest() const noexcept { return entries() + (count_ == 0 ? 0 : begin()); }
  const void* next_write() const noexcept { return entries() + (size_ < cap_ ? size_ : size_ - 1); }

 private:
  static constexpr size_t kHeader = sizeof(int64_t) + sizeof(uint32_t);
  static constexpr uint32_t kInline = 52;  // the ring is 64 bytes in all
  // While on the heap, the inline bytes hold the buffer's address and the offset of the
  // oldest live entry in it (inline, the oldest entry is always at 0).
  static constexpr size_t kHeapHeader = sizeof(char*) + sizeof(uint32_t);

  bool on_heap() const noexcept { return cap_ > kInline; }
  // While on the heap, the inline bytes hold the buffer's address.
  char* heap() const noexcept {
    char* p;
    std::memcpy(&p, bytes_, sizeof p);
    return p;
  }
  char* entries() noexcept { return on_heap() ? heap() : bytes_; }
  const char* entries() const noexcept { return on_heap() ? heap() : bytes_; }
  uint32_t begin() const noexcept {
    uint32_t b = 0;
    if (on_heap()) std::memcpy(&b, bytes_ + sizeof(char*), sizeof b);
    return b;
  }
  void set_begin(uint32_t b) noexcept {
    if (on_heap()) std::memcpy(bytes_ + sizeof(char*), &b, sizeof b);
  }
  uint32_t id_length(size_t at) const {
    uint32_t n = 0;
    std::memcpy(&n, entries() + at + sizeof(int64_t), sizeof n);
    return n;
  }
  // Moves the entries (which start at 0) to a new heap buffer with room for at least `need`
  // bytes (and at least twice the old room), frees the old. On a throw nothing changed.
  char* grow(size_t need) {
    if (need > UINT32_MAX) throw std::length_error("evidence ring: entry too large");
    const size_t cap = std::max<size_t>(need, std::min<size_t>(size_t{cap_} * 2, UINT32_MAX));
    char* fresh = static_cast<char*>(::operator new(cap));
    std::memcpy(fresh, entries(), size_);
    if (on_heap()) ::operator delete(heap());
    std::memcpy(bytes_, &fresh, sizeof fresh);
    cap_ = static_cast<uint32_t>(cap);
    set_begin(0);
    return fresh;
  }

  alignas(8) char bytes_[kInline];  // the entries, or the heap buffer's address
  uint32_t size_ = 0;               // offset after the newest entry
  uint32_t cap_ = kInline;          // bytes of entries available: kInline while inline
  uint32_t count_ = 0;              // entries
};
static_assert(sizeof(EvidenceRing) == 64);

}  // namespace corridor::rules
