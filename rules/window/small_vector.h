// A vector of trivially copyable elements whose first N live inside the object: a distinct
// set of one value (as every window opened by a key's first event in a while holds) then
// needs no heap block of its own. Beyond N, one heap buffer, grown as std::vector grows.
//
// Private to rules/window. Only what the window state uses: pointers as iterators, insert
// and erase at a position, reserve, shrink_to_fit. No third-party headers.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <stdexcept>
#include <type_traits>

namespace corridor::rules::window::detail {

template <class T, uint32_t N>
class SmallVector {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_default_constructible_v<T>);
  static_assert(N >= 1);

 public:
  using value_type = T;
  using iterator = T*;
  using const_iterator = const T*;

  SmallVector() noexcept = default;
  SmallVector(const SmallVector& o) { assign(o.data(), o.size_); }
  SmallVector(SmallVector&& o) noexcept { take(o); }
  SmallVector& operator=(const SmallVector& o) {
    if (this != &o) {
      clear();
      assign(o.data(), o.size_);
    }
    return *this;
  }
  SmallVector& operator=(SmallVector&& o) noexcept {
    if (this != &o) {
      release();
      take(o);
    }
    return *this;
  }
  ~SmallVector() { release(); }

  size_t size() const noexcept { return size_; }
  size_t capacity() const noexcept { return cap_; }
  bool empty() const noexcept { return size_ == 0; }
  // Bytes held on the heap (0 while the elements fit inside).
  size_t heap_bytes() const noexcept { return on_heap() ? size_t{cap_} * sizeof(T) : 0; }

  T* data() noexcept { return on_heap() ? heap_ : inline_; }
  const T* data() const noexcept { return on_heap() ? heap_ : inline_; }
  T* begin() noexcept { return data(); }
  T* end() noexcept { return data() + size_; }
  const T* begin() const noexcept { return data(); }
  const T* end() const noexcept { return data() + size_; }
  T& operator[](size_t i) noexcept { return data()[i]; }
  const T& operator[](size_t i) const noexcept { return data()[i]; }
  T& back() noexcept { return data()[size_ - 1]; }
  const T& back() const noexcept { return data()[size_ - 1]; }

  void clear() noexcept { size_ = 0; }

  void reserve(size_t n) {
    if (n > cap_) relocate(n);
  }

  // Back inside when the elements fit, else to a heap buffer of exactly their size.
  void shrink_to_fit() {
    if (on_heap() && size_ < cap_) relocate(size_);
  }

  // New elements are zero (value-initialised).
  void resize(size_t n) {
    if (n > size_) {
      grow_to(n);
      std::memset(static_cast<void*>(data() + size_), 0, (n - size_) * sizeof(T));
    }
    size_ = static_cast<uint32_t>(n);
  }

  void push_back(const T& v) {
    if (size_ == cap_) {
      const T copy = v;  // v may lie in the buffer being replaced
      grow_to(size_ + 1);
      data()[size_++] = copy;
      return;
    }
    data()[size_++] = v;
  }

  // Appends n elements copied from p (which must not lie in this vector).
  void append(const T* p, size_t n) {
    grow_to(size_ + n);
    if (n != 0) std::memcpy(static_cast<void*>(data() + size_), p, n * sizeof(T));
    size_ += static_cast<uint32_t>(n);
  }

  // Erases the elements for which pred holds, keeping the others' order.
  template <class Pred>
  void erase_if(Pred pred) {
    erase(std::remove_if(begin(), end(), pred), end());
  }

  T* insert(T* at, const T& v) { return insert(at, 1, v); }

  T* insert(T* at, size_t count, const T& v) {
    const size_t i = static_cast<size_t>(at - data());
    const T copy = v;
    grow_to(size_ + count);
    T* p = data();
    std::memmove(static_cast<void*>(p + i + count), p + i, (size_ - i) * sizeof(T));
    for (size_t k = 0; k < count; ++k) p[i + k] = copy;
    size_ += static_cast<uint32_t>(count);
    return p + i;
  }

  T* erase(T* first, T* last) noexcept {
    T* p = data();
    std::memmove(static_cast<void*>(first), last,
                 static_cast<size_t>(p + size_ - last) * sizeof(T));
    size_ -= static_cast<uint32_t>(last - first);
    return first;
  }
  T* erase(T* at) noexcept { return erase(at, at + 1); }

 private:
  bool on_heap() const noexcept { return cap_ > N; }

  // Room for at least n elements, by doubling (at least n) once past the inline ones.
  void grow_to(size_t n) {
    if (n <= cap_) return;
    relocate(std::max<size_t>(n, size_t{cap_} * 2));
  }

  // Moves the elements to a buffer of capacity max(n, size) (inside when that is <= N).
  void relocate(size_t n) {
    n = std::max<size_t>(n, size_);
    if (n > UINT32_MAX) throw std::length_error("window state: too many elements");
    T* const old = data();
    const bool was_heap = on_heap();
    if (n <= N) {
      if (!was_heap) return;
      T* const heap = heap_;
      std::memcpy(static_cast<void*>(inline_), heap, size_ * sizeof(T));
      ::operator delete(heap);
      cap_ = N;
      return;
    }
    T* fresh = static_cast<T*>(::operator new(n * sizeof(T)));
    if (size_ != 0) std::memcpy(static_cast<void*>(fresh), old, size_ * sizeof(T));
    if (was_heap) ::operator delete(old);
    heap_ = fresh;
    cap_ = static_cast<uint32_t>(n);
  }

  void assign(const T* p, size_t n) {
    reserve(n);
    if (n != 0) std::memcpy(static_cast<void*>(data()), p, n * sizeof(T));
    size_ = static_cast<uint32_t>(n);
  }

  void take(SmallVector& o) noexcept {
    size_ = o.size_;
    cap_ = o.cap_;
    if (o.on_heap()) {
      heap_ = o.heap_;
    } else if (size_ != 0) {
      std::memcpy(static_cast<void*>(inline_), o.inline_, size_ * sizeof(T));
    }
    o.size_ = 0;
    o.cap_ = N;
  }

  void release() noexcept {
    if (on_heap()) ::operator delete(heap_);
    size_ = 0;
    cap_ = N;
  }

  union {
    T inline_[N];
    T* heap_;
  };
  uint32_t size_ = 0;
  uint32_t cap_ = N;
};

}  // namespace corridor::rules::window::detail
