// The window state's small vector (rules/window/small_vector.h): every operation against
// std::vector over random sequences that cross the inline/heap boundary both ways, elements
// that alias the vector itself, and where the elements live.
#include "rules/window/small_vector.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <random>
#include <utility>
#include <vector>

namespace corridor::rules::window::detail {
namespace {

struct Pair {
  uint64_t key;
  int64_t bucket;
  bool operator==(const Pair&) const = default;
};

uint64_t key_of(uint64_t x) { return x; }
uint64_t key_of(const Pair& p) { return p.key; }
uint64_t key_of(unsigned char c) { return c; }

template <class T, uint32_t N>
void expect_same(const SmallVector<T, N>& v, const std::vector<T>& ref) {
  ASSERT_EQ(v.size(), ref.size());
  ASSERT_EQ(v.empty(), ref.empty());
  for (size_t i = 0; i < ref.size(); ++i) ASSERT_EQ(v[i], ref[i]) << "at " << i;
  ASSERT_EQ(v.end() - v.begin(), static_cast<ptrdiff_t>(ref.size()));
  ASSERT_GE(v.capacity(), v.size());
  // Inside while the capacity is the inline one; on the heap exactly beyond it.
  ASSERT_EQ(v.heap_bytes(), v.capacity() > N ? v.capacity() * sizeof(T) : 0u);
  const auto* self = reinterpret_cast<const unsigned char*>(&v);
  const auto* at = reinterpret_cast<const unsigned char*>(v.data());
  ASSERT_EQ(at >= self && at < self + sizeof v, v.capacity() == N);
}

template <class T, uint32_t N, class Make>
void random_operations(uint32_t seed, Make make) {
  std::mt19937_64 rng(seed);
  SmallVector<T, N> v;
  std::vector<T> ref;
  const auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  for (int step = 0; step < 4000; ++step) {
    const T x = make(rng());
    switch (pick(13)) {
      case 0:
      case 1:
        v.push_back(x);
        ref.push_back(x);
        break;
      case 2: {
        const size_t at = pick(ref.size() + 1);
        v.insert(v.begin() + at, x);
        ref.insert(ref.begin() + static_cast<ptrdiff_t>(at), x);
        break;
      }
      case 3: {
        const size_t at = pick(ref.size() + 1), count = pick(5);
        v.insert(v.begin() + at, count, x);
        ref.insert(ref.begin() + static_cast<ptrdiff_t>(at), count, x);
        break;
      }
      case 4:
        if (!ref.empty()) {  // an element of the vector itself, inserted at its front
          const size_t from = pick(ref.size());
          const T y = ref[from];
          v.insert(v.begin(), v[from]);
          ref.insert(ref.begin(), y);
        }
        break;
      case 5:
        if (!ref.empty()) {  // the same, appended when the vector is full
          const size_t from = pick(ref.size());
          const T y = ref[from];
          v.push_back(v[from]);
          ref.push_back(y);
        }
        break;
      case 6: {
        const size_t a = pick(ref.size() + 1), b = a + pick(ref.size() - a + 1);
        v.erase(v.begin() + a, v.begin() + b);
        ref.erase(ref.begin() + static_cast<ptrdiff_t>(a), ref.begin() + static_cast<ptrdiff_t>(b));
        break;
      }
      case 7: {
        const uint64_t m = rng() % 4 + 2;
        const auto drop = [&](const T& e) { return std::hash<uint64_t>{}(key_of(e)) % m == 0; };
        v.erase_if(drop);
        std::erase_if(ref, drop);
        break;
      }
      case 8: {
        const size_t n = pick(2 * N + 6);
        v.resize(n);
        ref.resize(n);
        break;
      }
      case 9:
        v.reserve(pick(4 * N + 8));
        break;
      case 10:
        v.shrink_to_fit();
        if (v.size() <= N) {
          ASSERT_EQ(v.capacity(), N);
        } else {
          ASSERT_EQ(v.capacity(), v.size());
        }
        break;
      case 11: {
        std::vector<T> more;
        for (size_t k = pick(2 * N + 2); k > 0; --k) more.push_back(make(rng()));
        v.append(more.data(), more.size());
        ref.insert(ref.end(), more.begin(), more.end());
        break;
      }
      case 12:
        if (pick(8) == 0) {
          v.clear();
          ref.clear();
        }
        break;
    }
    ASSERT_NO_FATAL_FAILURE(expect_same(v, ref)) << "step " << step;
    if (step % 97 == 0) {  // copies and moves, inside and on the heap
      SmallVector<T, N> copy(v);
      ASSERT_NO_FATAL_FAILURE(expect_same(copy, ref));
      SmallVector<T, N> moved(std::move(copy));
      ASSERT_NO_FATAL_FAILURE(expect_same(moved, ref));
      ASSERT_TRUE(copy.empty());
      ASSERT_EQ(copy.heap_bytes(), 0u);
      SmallVector<T, N> assigned;
      assigned.push_back(make(rng()));
      assigned = moved;
      ASSERT_NO_FATAL_FAILURE(expect_same(assigned, ref));
      v = std::move(assigned);
      ASSERT_NO_FATAL_FAILURE(expect_same(v, ref));
    }
  }
}

TEST(SmallVector, BehavesAsStdVectorAcrossTheInlineBoundary) {
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    random_operations<Pair, 1>(seed, [](uint64_t r) {
      return Pair{r % 50, static_cast<int64_t>(r >> 40)};
    });
    random_operations<uint64_t, 3>(seed, [](uint64_t r) { return r % 1000; });
    random_operations<unsigned char, 40>(seed,
                                         [](uint64_t r) { return static_cast<unsigned char>(r); });
  }
}

TEST(SmallVector, ElementsLiveInsideUntilTheyOutgrowIt) {
  SmallVector<Pair, 1> v;
  EXPECT_EQ(sizeof v, 24u);  // the size of a std::vector
  v.push_back({7, 1});
  EXPECT_EQ(v.heap_bytes(), 0u);
  EXPECT_EQ(static_cast<const void*>(v.data()), static_cast<const void*>(&v));
  v.push_back({8, 2});
  EXPECT_EQ(v.heap_bytes(), 2 * sizeof(Pair));
  v.erase(v.begin());
  v.shrink_to_fit();  // back inside
  EXPECT_EQ(v.heap_bytes(), 0u);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0], (Pair{8, 2}));
}

}  // namespace
}  // namespace corridor::rules::window::detail
