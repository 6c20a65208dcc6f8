// A key space's table: each key's 64-bit hash -> the chain of the objects whose keys have
// that hash (the caller links the rest of a chain through the objects; collisions are rare).
//
// Open addressing with linear probing over 16-byte slots that hold the hash beside the owning
// pointer, so that a lookup usually reads one cache line, where a table with a separate
// control array reads two (and an event looks up seven to nine keys at random in a state of
// gigabytes). An empty slot is one without a chain. At most 3/4 full; erasing shifts the
// following slots back, so no tombstones accumulate as keys come and go.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "rules/window/fetch.h"

namespace corridor::rules {

template <typename T>
class KeyIndex {
 public:
  struct Slot {
    uint64_t hash = 0;
    std::unique_ptr<T> chain;  // never null while the slot is in use (see erase)
  };

  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  // The slot of hash h, or nullptr. Valid until the next insert or erase.
  Slot* find(uint64_t h) noexcept {
    if (size_ == 0) return nullptr;
    for (size_t i = home(h);; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (!s.chain) return nullptr;
      if (s.hash == h) return &s;
    }
  }
  const Slot* find(uint64_t h) const noexcept { return const_cast<KeyIndex*>(this)->find(h); }

  // Loads the line where a lookup of h begins (fetch_line), so that several keys' lookups
  // can be fetched together. Changes nothing.
  void fetch(uint64_t h) const noexcept {
    if (!slots_.empty()) fetch_line(&slots_[home(h)]);
  }

  // Makes `chain` (not null) the chain of h, which must have none. Returns its slot.
  Slot& insert(uint64_t h, std::unique_ptr<T> chain) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    Slot& s = free_slot(h);
    s.hash = h;
    s.chain = std::move(chain);
    ++size_;
    return s;
  }

  // Removes slot s (from find), whatever its chain holds by now (the caller may have
  // emptied it: until this call, lookups of other hashes must not run).
  void erase(Slot* s) noexcept {
    size_t hole = static_cast<size_t>(s - slots_.data());
    slots_[hole].chain.reset();
    --size_;
    // Backward shift: a later slot of the same run moves into the hole when the hole lies on
    // its probe path (between its home and where it is).
    for (size_t j = (hole + 1) & mask_; slots_[j].chain; j = (j + 1) & mask_) {
      const size_t from_home = (j - home(slots_[j].hash)) & mask_;
      if (from_home >= ((j - hole) & mask_)) {
        slots_[hole].hash = slots_[j].hash;
        slots_[hole].chain = std::move(slots_[j].chain);
        hole = j;
      }
    }
  }

  // Calls f(hash, chain) for every slot in use, in no particular order.
  template <typename F>
  void for_each(F f) const {
    for (const Slot& s : slots_) {
      if (s.chain) f(s.hash, s.chain);
    }
  }

  // Bytes of the slot array (the chains' objects not counted).
  size_t memory_bytes() const noexcept { return slots_.capacity() * sizeof(Slot); }

 private:
  // Fibonacci hashing: the top bits of h times 2^64/phi, so that hashes differing only in
  // high bits (test hashes) spread too.
  size_t home(uint64_t h) const noexcept {
    return static_cast<size_t>((h * 0x9E3779B97F4A7C15ULL) >> shift_);
  }
  Slot& free_slot(uint64_t h) noexcept {
    size_t i = home(h);
    while (slots_[i].chain) i = (i + 1) & mask_;
    return slots_[i];
  }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    const size_t capacity = old.empty() ? 16 : old.size() * 2;
    slots_ = std::vector<Slot>(capacity);
    mask_ = capacity - 1;
    shift_ = 64 - std::countr_zero(capacity);
    for (Slot& s : old) {
      if (!s.chain) continue;
      Slot& to = free_slot(s.hash);
      to.hash = s.hash;
      to.chain = std::move(s.chain);
    }
  }

  std::vector<Slot> slots_;  // a power of two of them, or none
  size_t size_ = 0;
  size_t mask_ = 0;
  int shift_ = 63;  // 64 - log2(slots); unused while empty
};

}  // namespace corridor::rules
