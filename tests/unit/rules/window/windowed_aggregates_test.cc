// Windowed aggregates (rules/window/windowed_aggregates.h): every aggregate kind against
// hand-computed values, predicates, window boundaries, out-of-order and late events, expiry,
// the int64 limits, the distinct sketch's error, determinism under reordering, the
// serialisation (round trip, every prefix, corruption) and the memory budget.
#include "rules/window/windowed_aggregates.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/unit/rules/window/serialization_checks.h"

namespace corridor::rules::window {
namespace {

using K = AggregateKind;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

AggregateInput val(int64_t v) { return {true, v, 0}; }
AggregateInput hashed(uint64_t h) { return {true, 0, h}; }
AggregateInput skip() { return {false, 0, 0}; }

// One state with its specs and window; inputs given per aggregate.
struct Window {
  std::vector<AggregateSpec> specs;
  WindowSpec win;
  WindowedAggregates state;

  Window(std::vector<K> kinds, int64_t length_ms, int64_t bucket_ms, uint32_t exact_bound = 64)
      : win{length_ms, bucket_ms} {
    for (K k : kinds) specs.push_back({k, exact_bound});
  }
  void add(int64_t ts, std::vector<AggregateInput> in) { state.add(specs, win, ts, in); }
  // The same input for every aggregate.
  void add_all(int64_t ts, AggregateInput in) {
    add(ts, std::vector<AggregateInput>(specs.size(), in));
  }
  std::vector<AggregateResult> at(int64_t now) const {
    std::vector<AggregateResult> out(specs.size());
    state.results(specs, win, now, out);
    return out;
  }
  std::string bytes() const {
    std::string s;
    state.serialize(s);
    return s;
  }
};

void expect_same(const std::vector<AggregateResult>& a, const std::vector<AggregateResult>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].defined, b[i].defined) << i;
    EXPECT_EQ(a[i].exact, b[i].exact) << i;
    // Bit-identical, not merely close.
    EXPECT_EQ(std::memcmp(&a[i].number, &b[i].number, sizeof(double)), 0)
        << i << ": " << a[i].number << " vs " << b[i].number;
    EXPECT_EQ(a[i].estimated, b[i].estimated) << i;
  }
}

const std::vector<K> kAllKinds = {K::count,  K::sum, K::min,      K::max,  K::mean,
                                  K::stddev, K::cv,  K::distinct, K::last, K::share};

// ---------------------------------------------------------------------------------------

TEST(WindowedHash64, IsXxh3WithSeedZero) {
  EXPECT_EQ(hash64(""), 0x2D06800538D394C2ULL);  // the XXH3-64 reference value for ""
  EXPECT_EQ(hash64("abc"), 0x78AF5F94892F3950ULL);
  EXPECT_NE(hash64("sender-1"), hash64("sender-2"));
}

TEST(WindowedAggregates, EmptyStateHasNoValues) {
  Window w(kAllKinds, 10'000, 1'000);
  EXPECT_TRUE(w.state.empty());
  EXPECT_EQ(w.state.memory_bytes(), 0u);
  for (const AggregateResult& r : w.at(5'000)) {
    EXPECT_FALSE(r.defined);
    EXPECT_EQ(r.exact, 0);
    EXPECT_EQ(r.number, 0.0);
    EXPECT_FALSE(r.estimated);
  }
  EXPECT_TRUE(w.state.expire(w.win, 0));
  EXPECT_EQ(w.bytes(), std::string("\x01\x00", 2));
}

TEST(WindowedAggregates, EveryKindOverBuckets) {
  // Window 10 s, buckets of 1 s; events in three buckets, one of them out of order.
  Window w(kAllKinds, 10'000, 1'000);
  const auto ev = [&](int64_t ts, int64_t v, const char* who, bool flag) {
    std::vector<AggregateInput> in(w.specs.size(), val(v));
    in[7] = hashed(hash64(who));
    in[9] = val(flag ? 1 : 0);
    w.add(ts, in);
  };
  ev(1'000, 30, "a", true);
  ev(5'500, -10, "b", false);
  ev(5'999, 70, "a", true);
  ev(3'200, 10, "c", false);  // late, its own bucket
  const auto r = w.at(9'999);
  for (const auto& x : r) EXPECT_TRUE(x.defined);
  EXPECT_EQ(r[0].exact, 4);
  EXPECT_EQ(r[1].exact, 100);
  EXPECT_EQ(r[1].number, 100.0);
  EXPECT_EQ(r[2].exact, -10);
  EXPECT_EQ(r[3].exact, 70);
  EXPECT_DOUBLE_EQ(r[4].number, 25.0);
  // Population: deviations 5, -35, 45, -15 -> squares 25 + 1225 + 2025 + 225 = 3500.
  EXPECT_DOUBLE_EQ(r[5].number, std::sqrt(3500.0 / 4));
  EXPECT_DOUBLE_EQ(r[6].number, std::sqrt(3500.0 / 4) / 25.0);
  EXPECT_EQ(r[7].exact, 3);
  EXPECT_EQ(r[7].number, 3.0);
  EXPECT_FALSE(r[7].estimated);
  EXPECT_EQ(r[8].exact, 70);  // latest event time, not the last arrival
  EXPECT_DOUBLE_EQ(r[9].number, 0.5);
  EXPECT_EQ(r[9].exact, 2);

  // Window (1 s, 11 s]: the bucket at 1 s is out.
  const auto later = w.at(11'000);
  EXPECT_EQ(later[0].exact, 3);
  EXPECT_EQ(later[1].exact, 70);
  EXPECT_EQ(later[2].exact, -10);
  EXPECT_DOUBLE_EQ(later[4].number, 70.0 / 3);
  EXPECT_EQ(later[7].exact, 3);  // "a" was seen again at 5.999 s
  EXPECT_DOUBLE_EQ(later[9].number, 1.0 / 3);
}

TEST(WindowedAggregates, StddevAndCvHandComputed) {
  // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, population stddev 2, cv 0.4.
  Window w({K::mean, K::stddev, K::cv}, 48 * 3'600'000LL, 3'600'000LL);
  const int64_t xs[] = {2, 4, 4, 4, 5, 5, 7, 9};
  for (int i = 0; i < 8; ++i) w.add_all(i * 1'800'000LL, val(xs[i]));
  const auto r = w.at(8 * 1'800'000LL);
  EXPECT_DOUBLE_EQ(r[0].number, 5.0);
  EXPECT_DOUBLE_EQ(r[1].number, 2.0);
  EXPECT_DOUBLE_EQ(r[2].number, 0.4);
  EXPECT_EQ(r[1].exact, 0);
}

TEST(WindowedAggregates, StddevHasNoCancellationForLargeMeans) {
  // Amounts of 10^11 units (10 million in 10^-4 units) varying by 1, 2, 3 units: the naive
  // E[x²] − E[x]² in double would lose every digit.
  Window w({K::stddev, K::cv}, 10'000, 1'000);
  const int64_t base = 100'000'000'000LL;
  for (int64_t d : {1, 2, 3}) w.add_all(d * 1'000, val(base + d));
  const auto r = w.at(9'000);
  EXPECT_DOUBLE_EQ(r[0].number, std::sqrt(2.0 / 3.0));
  EXPECT_DOUBLE_EQ(r[1].number, std::sqrt(2.0 / 3.0) / static_cast<double>(base + 2));
}

TEST(WindowedAggregates, CvEdgeCases) {
  Window w({K::stddev, K::cv}, 10'000, 1'000);
  w.add_all(0, val(-3));
  w.add_all(1'000, val(3));
  auto r = w.at(1'000);
  EXPECT_DOUBLE_EQ(r[0].number, 3.0);
  EXPECT_EQ(r[1].number, 0.0);  // mean 0
  EXPECT_TRUE(r[1].defined);

  Window neg({K::stddev, K::cv}, 10'000, 1'000);
  neg.add_all(0, val(-2));
  neg.add_all(0, val(-4));
  r = neg.at(0);
  EXPECT_DOUBLE_EQ(r[0].number, 1.0);
  EXPECT_DOUBLE_EQ(r[1].number, -1.0 / 3);  // stddev / mean, sign kept

  Window one({K::stddev, K::cv}, 10'000, 1'000);
  one.add_all(0, val(42));
  r = one.at(0);
  EXPECT_EQ(r[0].number, 0.0);
  EXPECT_EQ(r[1].number, 0.0);
  EXPECT_TRUE(r[0].defined);
}

TEST(WindowedAggregates, PredicatesExcludeUnmatchedEvents) {
  Window w({K::count, K::sum, K::min, K::share, K::distinct}, 10'000, 1'000);
  w.add(0, {val(1), val(5), val(5), val(1), hashed(1)});
  w.add(0, {skip(), val(7), skip(), skip(), hashed(2)});
  w.add(0, {val(1), skip(), val(-1), val(0), skip()});
  const auto r = w.at(0);
  EXPECT_EQ(r[0].exact, 2);
  EXPECT_EQ(r[1].exact, 12);
  EXPECT_EQ(r[2].exact, -1);
  EXPECT_DOUBLE_EQ(r[3].number, 0.5);  // 1 flagged of 2 matched; the unmatched one not counted
  EXPECT_EQ(r[4].exact, 2);

  // An aggregate that matched nothing has no value; the others still do.
  Window v({K::min, K::count}, 10'000, 1'000);
  v.add(0, {skip(), val(0)});
  const auto s = v.at(0);
  EXPECT_FALSE(s[0].defined);
  EXPECT_TRUE(s[1].defined);
  EXPECT_EQ(s[1].exact, 1);
}

TEST(WindowedAggregates, EventMatchingNothingLeavesNoState) {
  Window w({K::count, K::distinct}, 10'000, 1'000);
  w.add(0, {skip(), skip()});
  EXPECT_TRUE(w.state.empty());
  EXPECT_EQ(w.state.memory_bytes(), 0u);
  w.add(0, {val(1), skip()});
  const std::string before = w.bytes();
  w.add(50'000, {skip(), skip()});  // does not advance "newest" either
  EXPECT_EQ(w.bytes(), before);
  EXPECT_EQ(w.at(0)[0].exact, 1);
}

TEST(WindowedAggregates, ShareTreatsAnyNonZeroFlagAsTrue) {
  Window w({K::share}, 10'000, 1'000);
  w.add(0, {val(1)});
  w.add(0, {val(2)});
  w.add(0, {val(0)});
  w.add(0, {val(0)});
  const auto r = w.at(0);
  EXPECT_DOUBLE_EQ(r[0].number, 0.5);
  EXPECT_EQ(r[0].exact, 2);
}

TEST(WindowedAggregates, LastIsByEventTimeThenArrival) {
  Window w({K::last}, 10'000, 1'000);
  w.add(5'000, {val(1)});
  w.add(3'000, {val(2)});  // older: not the last
  w.add(5'400, {val(3)});
  w.add(5'100, {val(4)});  // same bucket, older than 5.4 s
  EXPECT_EQ(w.at(9'000)[0].exact, 3);
  w.add(5'400, {val(5)});  // tie on event time: the later added wins
  EXPECT_EQ(w.at(9'000)[0].exact, 5);
  // A window ending before the newest bucket sees the last event inside it.
  EXPECT_EQ(w.at(4'999)[0].exact, 2);
  EXPECT_FALSE(w.at(2'999)[0].defined);
}

TEST(WindowedAggregates, BucketBoundariesInAndOut) {
  // length 10 s, bucket 1 s: the window ending at `now` holds buckets with
  // now - 10 s < start <= now.
  Window w({K::count}, 10'000, 1'000);
  w.add(5'000, {val(0)});                 // bucket [5 s, 6 s)
  w.add(5'999, {val(0)});                 // same bucket
  EXPECT_FALSE(w.at(4'999)[0].defined);   // bucket starts after now
  EXPECT_EQ(w.at(5'000)[0].exact, 2);     // now on the bucket start: in
  EXPECT_EQ(w.at(14'999)[0].exact, 2);    // start 5 s > 4.999 s: in
  EXPECT_FALSE(w.at(15'000)[0].defined);  // start 5 s = now - length: out
  EXPECT_EQ(w.at(15'000)[0].exact, 0);
}

TEST(WindowedAggregates, NegativeTimesFloorToTheirBucket) {
  Window w({K::count, K::sum}, 2'000, 1'000);
  w.add(-1, {val(0), val(7)});        // bucket [-1 s, 0)
  w.add(-1'000, {val(0), val(1)});    // same bucket
  w.add(-1'001, {val(0), val(100)});  // bucket [-2 s, -1 s)
  EXPECT_EQ(w.at(-1'001)[1].exact, 100);
  EXPECT_EQ(w.at(-1'000)[1].exact, 108);
  EXPECT_EQ(w.at(-1)[1].exact, 108);
  EXPECT_EQ(w.at(0)[1].exact, 8);  // window (-2 s, 0]: the [-2 s, -1 s) bucket is out
  EXPECT_EQ(w.at(999)[1].exact, 8);
  EXPECT_FALSE(w.at(1'000)[1].defined);
}

TEST(WindowedAggregates, ExtremeTimestampsDoNotOverflow) {
  Window w({K::count, K::last}, 10'000, 1'000);
  w.add(kMin, {val(0), val(1)});
  w.add(kMin + 1, {val(0), val(2)});
  // floor(INT64_MIN / 1000) * 1000 is below INT64_MIN: the lowest representable bucket.
  const int64_t lowest = -9'223'372'036'854'775'000LL;
  EXPECT_EQ(w.at(lowest)[0].exact, 2);
  EXPECT_EQ(w.at(lowest)[1].exact, 2);
  EXPECT_FALSE(w.at(kMin)[0].defined);
  EXPECT_FALSE(w.at(kMax)[0].defined);
  w.add(kMax, {val(0), val(3)});  // drops the old ones
  EXPECT_EQ(w.at(kMax)[0].exact, 1);
  EXPECT_EQ(w.at(kMax)[1].exact, 3);
  EXPECT_FALSE(w.state.expire(w.win, kMax));  // kMax's bucket start > kMax - length
  std::string bytes = w.bytes();
  WindowedAggregates copy;
  ASSERT_TRUE(copy.deserialize(bytes));
}

TEST(WindowedAggregates, OutOfOrderEventsLandInTheirOwnBucket) {
  Window w({K::count, K::sum}, 10'000, 1'000);
  w.add(9'000, {val(0), val(1)});
  w.add(2'500, {val(0), val(10)});
  w.add(6'000, {val(0), val(100)});
  w.add(2'999, {val(0), val(1000)});
  EXPECT_EQ(w.at(9'999)[1].exact, 1111);
  EXPECT_EQ(w.at(8'999)[1].exact, 1110);  // before the newest bucket
  EXPECT_EQ(w.at(5'999)[1].exact, 1010);
  EXPECT_EQ(w.at(12'000)[1].exact, 101);  // (2 s, 12 s]: the 2 s bucket is out
  EXPECT_EQ(w.at(12'000)[0].exact, 2);
}

TEST(WindowedAggregates, AddDropsBucketsThatLeftTheWindowOfTheNewestEvent) {
  Window w({K::count}, 10'000, 1'000);
  w.add(0, {val(0)});
  w.add(5'000, {val(0)});
  const size_t two_buckets = w.state.memory_bytes();
  w.add(10'000, {val(0)});             // bucket 0 <= 10 s - 10 s: dropped
  EXPECT_EQ(w.at(5'000)[0].exact, 1);  // the 0 s bucket is gone even for earlier windows
  w.add(10'500, {val(0)});
  EXPECT_LE(w.state.memory_bytes(), two_buckets + 16);
  // An event whose bucket is already that old is ignored.
  const std::string before = w.bytes();
  w.add(0, {val(0)});
  w.add(-5'000, {val(0)});
  EXPECT_EQ(w.bytes(), before);
  // One bucket younger than that is still accepted (allowed lateness).
  w.add(1'000, {val(0)});
  EXPECT_EQ(w.at(10'999)[0].exact, 4);
}

TEST(WindowedAggregates, ExpireDropsWhatNoWindowCanHoldAndReportsEmpty) {
  Window w({K::count, K::distinct}, 10'000, 1'000);
  w.add(0, {val(0), hashed(1)});
  w.add(3'000, {val(0), hashed(2)});
  w.add(3'000, {val(0), hashed(1)});
  // Watermark 10 s: windows end at >= 10 s, so bucket 0 (<= 0) is dropped, 3 s kept.
  EXPECT_FALSE(w.state.expire(w.win, 10'000));
  EXPECT_EQ(w.at(3'000)[0].exact, 2);
  EXPECT_EQ(w.at(3'000)[1].exact, 2);
  // Watermark 12.999 s: 3 s bucket still in the window ending at 12.999 s.
  EXPECT_FALSE(w.state.expire(w.win, 12'999));
  EXPECT_EQ(w.at(12'999)[0].exact, 2);
  EXPECT_TRUE(w.state.expire(w.win, 13'000));
  EXPECT_TRUE(w.state.empty());
  EXPECT_EQ(w.state.memory_bytes(), 0u);
  EXPECT_FALSE(w.at(13'000)[0].defined);
  EXPECT_EQ(w.bytes(), std::string("\x01\x00", 2));
  // An empty state takes other kinds afterwards.
  std::vector<AggregateSpec> other = {{K::max, 64}};
  std::vector<AggregateInput> in = {val(9)};
  w.state.add(other, w.win, 20'000, in);
  std::vector<AggregateResult> out(1);
  w.state.results(other, w.win, 20'000, out);
  EXPECT_EQ(out[0].exact, 9);
}

TEST(WindowedAggregates, SumsAtTheInt64Limit) {
  Window w({K::sum, K::mean, K::count}, 10'000, 1'000);
  w.add_all(0, val(kMax));
  EXPECT_EQ(w.at(0)[0].exact, kMax);
  w.add_all(0, val(kMax));  // the bucket's sum passes 2^63: the state widens
  auto r = w.at(0);
  EXPECT_EQ(r[0].exact, kMax);  // clamped
  EXPECT_DOUBLE_EQ(r[0].number, 2.0 * static_cast<double>(kMax));
  EXPECT_DOUBLE_EQ(r[1].number, static_cast<double>(kMax));
  w.add_all(0, val(kMin));
  w.add_all(0, val(kMin));
  w.add_all(0, val(5));
  r = w.at(0);
  EXPECT_EQ(r[0].exact, 3);  // 2·(2^63 − 1) − 2·2^63 + 5, exact through the overflow
  EXPECT_EQ(r[2].exact, 5);

  // Across buckets and in the negative direction.
  Window v({K::sum}, 10'000, 1'000);
  v.add(0, {val(kMin)});
  v.add(1'000, {val(kMin)});
  v.add(2'000, {val(-1)});
  EXPECT_EQ(v.at(2'000)[0].exact, kMin);  // clamped
  EXPECT_DOUBLE_EQ(v.at(2'000)[0].number, 2.0 * static_cast<double>(kMin));
  v.add(3'000, {val(kMax)});
  v.add(3'000, {val(kMax)});
  v.add(3'000, {val(3)});
  EXPECT_EQ(v.at(3'000)[0].exact, 0);  // −2^64 − 1 + 2^64 − 2 + 3

  Window exact_limit({K::sum}, 10'000, 1'000);
  exact_limit.add(0, {val(kMax - 1)});
  exact_limit.add(1'000, {val(1)});
  EXPECT_EQ(exact_limit.at(1'000)[0].exact, kMax);
}

TEST(WindowedAggregates, MinMaxStddevAtTheInt64Limits) {
  Window w({K::min, K::max, K::mean, K::stddev, K::cv}, 10'000, 1'000);
  w.add_all(0, val(kMin));
  w.add_all(1'000, val(kMax));
  const auto r = w.at(1'000);
  EXPECT_EQ(r[0].exact, kMin);
  EXPECT_EQ(r[1].exact, kMax);
  EXPECT_DOUBLE_EQ(r[2].number, -0.5);
  // Population stddev of {−2^63, 2^63 − 1} = (2^64 − 1) / 2.
  EXPECT_DOUBLE_EQ(r[3].number, 9223372036854775807.5);
  EXPECT_DOUBLE_EQ(r[4].number, 9223372036854775807.5 / -0.5);
}

// A serialised state with one aggregate of `kind` and a single bucket at 0 holding `n`
// events (count, share: all flagged), hand-encoded per the format in windowed_aggregates.cc.
std::string one_bucket(K kind, uint64_t n) {
  std::string s = {'\x01', '\x01', static_cast<char>(kind), '\x01', '\x00'};
  auto varint = [&s](uint64_t v) {
    while (v >= 0x80) {
      s.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    s.push_back(static_cast<char>(v));
  };
  varint(n);
  if (kind == K::share) varint(n);
  return s;
}

TEST(WindowedAggregates, CountersWidenPast32BitsAndSaturateAt64) {
  const std::vector<AggregateSpec> count = {{K::count, 64}}, share = {{K::share, 64}};
  const WindowSpec win{10'000, 1'000};
  const std::vector<AggregateInput> one = {val(1)};
  std::vector<AggregateResult> out(1);

  WindowedAggregates c;
  ASSERT_TRUE(c.deserialize(one_bucket(K::count, 0xffffffffULL)));
  c.add(count, win, 0, one);
  c.results(count, win, 0, out);
  EXPECT_EQ(out[0].exact, 0x100000000LL);
  std::string bytes;
  c.serialize(bytes);
  EXPECT_EQ(bytes, one_bucket(K::count, 0x100000000ULL));

  WindowedAggregates sh;
  ASSERT_TRUE(sh.deserialize(one_bucket(K::share, 0xffffffffULL)));
  sh.add(share, win, 0, std::vector<AggregateInput>{val(0)});
  sh.results(share, win, 0, out);
  EXPECT_EQ(out[0].exact, 0xffffffffLL);
  EXPECT_DOUBLE_EQ(out[0].number, 4294967295.0 / 4294967296.0);

  // 2^64 − 1 events in one bucket cannot happen by adding; a forged state saturates.
  WindowedAggregates full;
  ASSERT_TRUE(full.deserialize(one_bucket(K::count, ~uint64_t{0})));
  full.add(count, win, 500, one);
  full.results(count, win, 0, out);
  EXPECT_EQ(out[0].exact, kMax);
  EXPECT_DOUBLE_EQ(out[0].number, 18446744073709551615.0);
}

TEST(WindowedAggregates, WidthFollowsTheValuesNotTheHistory) {
  Window w({K::count, K::sum}, 10'000, 1'000);
  w.add(0, {val(0), val(1)});
  const size_t narrow = w.state.memory_bytes();
  EXPECT_EQ(narrow, 8u + 4 + 4 + 8);  // start, count, sum's count, int64 sum
  w.add(0, {val(0), val(kMax)});      // the bucket's sum needs 128 bits now
  EXPECT_EQ(w.state.memory_bytes(), 8u + 8 + 8 + 16);
  EXPECT_EQ(w.at(0)[1].number, static_cast<double>(kMax) + 1);
  // The bytes do not show the width; a state loaded from them is narrow when it can be.
  Window small({K::count, K::sum}, 10'000, 1'000);
  small.add(0, {val(0), val(1)});
  small.add(0, {val(0), val(2)});
  WindowedAggregates loaded;
  ASSERT_TRUE(loaded.deserialize(small.bytes()));
  EXPECT_EQ(loaded.memory_bytes(), narrow);
  // Emptied, the state starts narrow again.
  EXPECT_TRUE(w.state.expire(w.win, 10'000));
  w.add(20'000, {val(0), val(1)});
  EXPECT_EQ(w.state.memory_bytes(), narrow);
}

TEST(WindowedAggregates, DistinctIsExactUpToItsBound) {
  for (uint32_t bound : {1u, 3u, 64u}) {
    for (uint32_t n : {bound - 1, bound, bound + 1}) {
      if (n == 0) continue;
      Window w({K::distinct}, 10'000, 1'000, bound);
      for (uint32_t i = 0; i < n; ++i) {
        w.add(i % 10 * 1'000, {hashed(hash64("v" + std::to_string(i)))});
        w.add(i % 7 * 1'000, {hashed(hash64("v" + std::to_string(i)))});  // seen again
      }
      const auto r = w.at(9'999)[0];
      EXPECT_TRUE(r.defined);
      if (n <= bound) {
        EXPECT_FALSE(r.estimated) << bound << " " << n;
        EXPECT_EQ(r.exact, n) << bound << " " << n;
        EXPECT_EQ(r.number, n);
      } else {
        EXPECT_TRUE(r.estimated) << bound << " " << n;
        EXPECT_NEAR(r.number, n, std::max(0.5, 4 * kDistinctSketchRelativeError * n))
            << bound << " " << n;
        EXPECT_EQ(r.exact, std::llround(r.number));
      }
    }
  }
}

TEST(WindowedAggregates, DistinctValuesExpireWithTheirLastSighting) {
  Window w({K::distinct}, 10'000, 1'000);
  w.add(0, {hashed(1)});
  w.add(0, {hashed(2)});
  w.add(4'000, {hashed(1)});
  w.add(6'000, {hashed(3)});
  EXPECT_EQ(w.at(9'999)[0].exact, 3);
  EXPECT_EQ(w.at(10'000)[0].exact, 2);  // 2 was seen only at 0 s
  EXPECT_EQ(w.at(14'000)[0].exact, 1);  // 1 last seen at 4 s
  EXPECT_FALSE(w.at(16'000)[0].defined);
  // Before the newest bucket a value counts only if its last sighting is inside the window:
  // 1 was also seen at 0 s, but its last sighting (4 s) is after now.
  EXPECT_EQ(w.at(3'999)[0].exact, 1);  // only 2
  EXPECT_FALSE(w.state.expire(w.win, 10'000));
  EXPECT_EQ(w.at(10'000)[0].exact, 2);
}

// Exact distinct counts against a brute-force model, at every event's own time (the window
// then usually holds every stored bucket, which has a shortcut) and at earlier times (a
// window holding only some of them): the values whose last sighting among the stored
// buckets lies inside the window.
TEST(WindowedAggregates, DistinctMatchesBruteForceOverWholeAndPartialWindows) {
  const int64_t length = 10'000, bucket = 1'000;
  Window w({K::distinct, K::count}, length, bucket);
  std::mt19937_64 rng(5);
  std::vector<std::pair<int64_t, uint64_t>> seen;  // (bucket start, value) of each kept event
  int64_t newest = kMin;
  int whole = 0, partial = 0;
  for (int i = 0; i < 3'000; ++i) {
    // Mostly forward in time, sometimes late by up to two buckets, in bursts and gaps.
    int64_t ts = std::max<int64_t>(0, newest) + static_cast<int64_t>(rng() % 700);
    if (rng() % 50 == 0) ts += 15'000;
    if (i > 0 && rng() % 6 == 0) ts = newest - static_cast<int64_t>(rng() % 2'500);
    const uint64_t value = rng() % 30;
    const int64_t b = ts / bucket * bucket;
    const int64_t newest_b = newest == kMin ? kMin : newest / bucket * bucket;
    w.add(ts, {hashed(value), val(1)});
    if (newest != kMin && b <= newest_b - length) continue;  // too old: ignored
    newest = std::max(newest, ts);
    seen.emplace_back(b, value);
    const int64_t cutoff = newest / bucket * bucket - length;  // stored: bucket > cutoff
    std::erase_if(seen, [&](const auto& s) { return s.first <= cutoff; });
    for (const int64_t now : {ts, ts - static_cast<int64_t>(rng() % 12'000)}) {
      std::vector<int64_t> last(30, kMin);
      for (const auto& [sb, v] : seen) last[v] = std::max(last[v], sb);
      int64_t expected = 0;
      for (const int64_t l : last) expected += l != kMin && l > now - length && l <= now;
      const auto r = w.at(now)[0];
      ASSERT_FALSE(r.estimated);
      ASSERT_EQ(r.exact, expected) << "event " << i << " now " << now;
      const bool all_stored = std::all_of(seen.begin(), seen.end(), [&](const auto& s) {
        return s.first > now - length && s.first <= now;
      });
      (all_stored ? whole : partial) += 1;
    }
  }
  // Both paths were taken, many times.
  EXPECT_GT(whole, 1'000);
  EXPECT_GT(partial, 1'000);
}
// The distinct sketch's error: N distinct values spread over a window's buckets.
TEST(WindowedDistinctSketch, EstimateWithinFourStandardErrors) {
  for (int n : {1'000, 10'000, 100'000}) {
    Window w({K::distinct, K::count}, 48 * 3'600'000LL, 3'600'000LL);
    for (int i = 0; i < n; ++i) {
      const int64_t ts = static_cast<int64_t>(i) * 47 * 3'600'000LL / n;
      w.add(ts, {hashed(hash64("customer-" + std::to_string(i))), val(0)});
    }
    const auto r = w.at(47 * 3'600'000LL);
    EXPECT_TRUE(r[0].estimated);
    EXPECT_EQ(r[1].exact, n);
    const double error = (r[0].number - n) / n;
    std::cout << "distinct sketch: n=" << n << " estimate=" << r[0].number
              << " relative error=" << error * 100 << " %"
              << " (standard error " << kDistinctSketchRelativeError * 100 << " %), state "
              << w.state.memory_bytes() << " bytes\n";
    EXPECT_LE(std::abs(error), 4 * kDistinctSketchRelativeError) << n;
    EXPECT_EQ(r[0].exact, std::llround(r[0].number));
  }
}

TEST(WindowedDistinctSketch, SlidesWithTheWindowAndReturnsToExactWhenEmptied) {
  Window w({K::distinct}, 10'000, 1'000, 64);
  for (int i = 0; i < 5'000; ++i) w.add(0, {hashed(hash64("early-" + std::to_string(i)))});
  for (int i = 0; i < 20; ++i) w.add(5'000, {hashed(hash64("late-" + std::to_string(i)))});
  auto r = w.at(9'999)[0];
  EXPECT_TRUE(r.estimated);
  EXPECT_NEAR(r.number, 5'020, 4 * kDistinctSketchRelativeError * 5'020);
  r = w.at(10'000)[0];  // the 0 s bucket left the window
  EXPECT_TRUE(r.estimated);
  EXPECT_NEAR(r.number, 20, 4 * kDistinctSketchRelativeError * 20);
  const size_t big = w.state.memory_bytes();
  EXPECT_FALSE(w.state.expire(w.win, 10'000));
  EXPECT_LT(w.state.memory_bytes(), big);
  EXPECT_NEAR(w.at(10'000)[0].number, 20, 4 * kDistinctSketchRelativeError * 20);
  // Values seen again later stay in the sketch.
  w.add(12'000, {hashed(hash64("late-1"))});
  EXPECT_NEAR(w.at(15'000)[0].number, 1, 0.5);
  EXPECT_TRUE(w.at(15'000)[0].estimated);
  EXPECT_FALSE(w.at(22'000)[0].defined);
  EXPECT_FALSE(w.at(22'000)[0].estimated);
  EXPECT_TRUE(w.state.expire(w.win, 22'000));
  // Fresh state: exact again.
  w.add(30'000, {hashed(7)});
  EXPECT_FALSE(w.at(30'000)[0].estimated);
  EXPECT_EQ(w.at(30'000)[0].exact, 1);
}

// Events over several windows, in time order, reversed and shuffled: the same final state.
struct Ev {
  int64_t ts;
  std::vector<AggregateInput> in;
};

std::vector<Ev> random_events(const std::vector<AggregateSpec>& specs, int n, int pool,
                              uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Ev> evs;
  std::vector<int64_t> used;
  for (int i = 0; i < n; ++i) {
    Ev e;
    e.ts = static_cast<int64_t>(rng() % 40'000) - 5'000;  // four window lengths, some negative
    for (int64_t u : used)
      if (u == e.ts) e.ts = -1;  // keep event times unique (no `last` ties)
    if (e.ts == -1) continue;
    used.push_back(e.ts);
    for (const AggregateSpec& s : specs) {
      AggregateInput in;
      in.matched = rng() % 5 != 0;
      if (s.kind == K::share) {
        in.value = static_cast<int64_t>(rng() % 2);
      } else if (rng() % 16 == 0) {
        in.value = rng() % 2 ? kMax - static_cast<int64_t>(rng() % 3)
                             : kMin + static_cast<int64_t>(rng() % 3);
      } else {
        in.value = static_cast<int64_t>(rng() % 2'000'000) - 500'000;
      }
      in.hash = hash64("p" + std::to_string(rng() % static_cast<uint64_t>(pool)));
      e.in.push_back(in);
    }
    evs.push_back(std::move(e));
  }
  return evs;
}

void expect_order_independent(const std::vector<AggregateSpec>& specs, int n, int pool,
                              bool expect_sketch) {
  const WindowSpec win{10'000, 1'000};
  const std::vector<Ev> evs = random_events(specs, n, pool, 7);
  const auto run = [&](std::vector<Ev> order) {
    WindowedAggregates s;
    for (const Ev& e : order) s.add(specs, win, e.ts, e.in);
    s.expire(win, 33'500);
    std::string bytes;
    s.serialize(bytes);
    std::vector<std::vector<AggregateResult>> res;
    for (int64_t now : {33'500, 34'000, 36'999, 40'000, 42'999}) {
      std::vector<AggregateResult> out(specs.size());
      s.results(specs, win, now, out);
      res.push_back(out);
    }
    return std::pair{bytes, res};
  };
  std::vector<Ev> sorted = evs;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Ev& a, const Ev& b) { return a.ts < b.ts; });
  const auto reference = run(sorted);
  ASSERT_GT(reference.first.size(), 2u);
  bool any_defined = false;
  for (const auto& r : reference.second[0]) any_defined |= r.defined;
  EXPECT_TRUE(any_defined);
  for (size_t a = 0; a < specs.size(); ++a) {
    if (specs[a].kind == K::distinct) {
      EXPECT_EQ(reference.second[0][a].estimated, expect_sketch);
    }
  }
  std::vector<std::vector<Ev>> orders = {evs, {sorted.rbegin(), sorted.rend()}};
  std::mt19937_64 rng(11);
  for (int i = 0; i < 12; ++i) {
    std::vector<Ev> shuffled = evs;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    orders.push_back(std::move(shuffled));
  }
  for (const auto& order : orders) {
    const auto got = run(order);
    EXPECT_EQ(got.first, reference.first);
    for (size_t i = 0; i < got.second.size(); ++i) expect_same(got.second[i], reference.second[i]);
  }
}

TEST(WindowedDeterminism, ArrivalOrderDoesNotChangeResultsOrBytes) {
  std::vector<AggregateSpec> specs;
  for (K k : kAllKinds) specs.push_back({k, 64});
  specs.push_back({K::sum, 64});
  specs.push_back({K::distinct, 64});
  expect_order_independent(specs, 400, 40, /*expect_sketch=*/false);
}

TEST(WindowedDeterminism, SketchModeIsOrderIndependentToo) {
  // Every order overflows the exact set (300 values in the final window alone), so every
  // order ends in sketch mode, and the sliding sketch keeps only each value's last sighting.
  std::vector<AggregateSpec> specs = {{K::distinct, 16}, {K::count, 16}};
  expect_order_independent(specs, 3'000, 100'000, /*expect_sketch=*/true);
}

// ---------------------------------------------------------------------------------------
// Serialisation

std::vector<std::string> sample_states() {
  std::vector<std::string> out;
  const auto keep = [&out](const Window& w) { out.push_back(w.bytes()); };
  {
    Window w({K::count}, 10'000, 1'000);
    keep(w);  // empty
    w.add(-123'456, {val(0)});
    keep(w);
  }
  {
    Window w(kAllKinds, 10'000, 1'000, 8);
    for (const Ev& e : random_events(w.specs, 60, 6, 3)) w.add(e.ts, e.in);
    keep(w);  // narrow or wide depending on the big values drawn
  }
  {
    Window w({K::sum, K::stddev, K::distinct, K::share, K::distinct}, 10'000, 1'000, 4);
    w.add(0, {val(kMax), val(kMax), hashed(1), val(1), hashed(5)});
    w.add(0, {val(kMax), val(kMin), hashed(2), val(0), hashed(5)});
    w.add(2'000, {val(-7), val(kMin), hashed(1), skip(), skip()});
    keep(w);  // wide
    for (int i = 0; i < 40; ++i)
      w.add(3'000 + i * 100,
            {val(i), val(i), hashed(hash64(std::to_string(i))), val(i % 2), hashed(9)});
    keep(w);  // the first distinct aggregate in sketch mode, the second exact
  }
  return out;
}

TEST(WindowedSerialization, RoundTripIsByteExact) {
  for (const std::string& bytes : sample_states()) {
    WindowedAggregates s;
    ASSERT_TRUE(s.deserialize(bytes));
    std::string again;
    s.serialize(again);
    EXPECT_EQ(again, bytes);
    EXPECT_EQ(s.empty(), bytes.size() == 2);
  }
  // Results survive the round trip, and so does further adding.
  Window w(kAllKinds, 10'000, 1'000, 8);
  const auto evs = random_events(w.specs, 80, 12, 5);
  for (size_t i = 0; i < 40; ++i) w.add(evs[i].ts, evs[i].in);
  Window copy(kAllKinds, 10'000, 1'000, 8);
  ASSERT_TRUE(copy.state.deserialize(w.bytes()));
  for (size_t i = 40; i < evs.size(); ++i) {
    w.add(evs[i].ts, evs[i].in);
    copy.add(evs[i].ts, evs[i].in);
  }
  EXPECT_EQ(copy.bytes(), w.bytes());
  for (int64_t now : {20'000, 25'000, 34'999}) expect_same(copy.at(now), w.at(now));
}

TEST(WindowedSerialization, EveryPrefixIsRejected) {
  testing::expect_prefixes_rejected(sample_states());
}

TEST(WindowedSerialization, CorruptInputIsRejectedOrCanonical) {
  testing::expect_corruptions_rejected_or_canonical(sample_states());
}

TEST(WindowedSerialization, RandomBytesAreRejectedOrCanonical) {
  std::mt19937_64 rng(99);
  size_t accepted = 0;
  for (int i = 0; i < 20'000; ++i) {
    std::string bytes = {'\x01', static_cast<char>(1 + rng() % 3)};
    for (uint64_t k = rng() % 3 + 1; k-- > 0;) bytes.push_back(static_cast<char>(rng() % 10));
    for (uint64_t n = rng() % 40; n-- > 0;)
      bytes.push_back(static_cast<char>(rng() % 4 == 0 ? rng() : rng() % 4));
    WindowedAggregates s;
    if (!s.deserialize(bytes)) continue;
    ++accepted;
    std::string again;
    s.serialize(again);
    ASSERT_EQ(again, bytes);
    std::vector<AggregateSpec> specs;  // the kinds the bytes named
    for (size_t a = 0; a < static_cast<size_t>(bytes[1]); ++a)
      specs.push_back({static_cast<K>(bytes[2 + a]), 4});
    std::vector<AggregateResult> out(specs.size());
    s.results(specs, WindowSpec{10'000, 1'000}, 5'000, out);
    std::vector<AggregateInput> in(specs.size(), val(3));
    s.add(specs, WindowSpec{10'000, 1'000}, 5'000, in);
  }
  EXPECT_GT(accepted, 0u);
}

TEST(WindowedSerialization, RejectsNonCanonicalEncodings) {
  WindowedAggregates s;
  EXPECT_FALSE(s.deserialize(""));
  EXPECT_FALSE(s.deserialize(std::string("\x02\x00", 2)));                      // unknown version
  EXPECT_FALSE(s.deserialize(std::string("\x01\x80\x00", 3)));                  // 0 in two bytes
  EXPECT_FALSE(s.deserialize(std::string("\x01\x01\x0a\x01\x00\x00", 6)));      // kind 10
  EXPECT_FALSE(s.deserialize(std::string("\x01\x01\x00\x00", 4)));              // no buckets
  EXPECT_TRUE(s.deserialize(std::string("\x01\x01\x00\x01\x00\x05", 6)));       // count 5 at 0
  EXPECT_FALSE(s.deserialize(std::string("\x01\x01\x00\x01\x00\x85\x00", 7)));  // 5, padded
  // Two buckets: the second start must be later (delta >= 1).
  EXPECT_TRUE(s.deserialize(std::string("\x01\x01\x00\x02\x00\x05\x01\x01", 8)));
  EXPECT_FALSE(s.deserialize(std::string("\x01\x01\x00\x02\x00\x05\x00\x01", 8)));
  // Share: flagged <= n.
  EXPECT_TRUE(s.deserialize(std::string("\x01\x01\x09\x01\x00\x02\x02", 7)));
  EXPECT_FALSE(s.deserialize(std::string("\x01\x01\x09\x01\x00\x02\x03", 7)));
  // Distinct: hashes ascending, bucket index in range, exact mode 0 / sketch 1 only.
  const std::string head("\x01\x01\x07\x01\x00", 5);
  const std::string h1("\x01\x00\x00\x00\x00\x00\x00\x00", 8),
      h2("\x02\x00\x00\x00\x00\x00\x00\x00", 8);
  EXPECT_TRUE(s.deserialize(head + '\x00' + '\x02' + h1 + '\x00' + h2 + '\x00'));
  EXPECT_FALSE(s.deserialize(head + '\x00' + '\x02' + h2 + '\x00' + h1 + '\x00'));
  EXPECT_FALSE(s.deserialize(head + '\x00' + '\x02' + h1 + '\x00' + h1 + '\x00'));
  EXPECT_FALSE(s.deserialize(head + '\x00' + '\x01' + h1 + '\x01'));
  EXPECT_FALSE(s.deserialize(head + '\x02' + '\x00'));
  EXPECT_FALSE(s.deserialize(head + '\x01' + '\x00'));                             // empty sketch
  EXPECT_TRUE(s.deserialize(head + '\x01' + '\x01' + '\x05' + '\x03' + '\x00'));   // reg 5 rank 3
  EXPECT_FALSE(s.deserialize(head + '\x01' + '\x01' + '\x05' + '\x00' + '\x00'));  // rank 0
  EXPECT_FALSE(s.deserialize(head + '\x01' + '\x01' + '\x05' + '\x38' + '\x00'));  // rank 56
  EXPECT_FALSE(s.deserialize(head + '\x01' + '\x01' + "\x80\x08" + '\x01' + '\x00'));  // reg 1024
}

// ---------------------------------------------------------------------------------------

TEST(WindowedAggregates, MemoryBudgetForASmallEntity) {
  // 3 events in 3 buckets, 4 aggregates (count, sum, distinct, share): <= ~200 heap bytes.
  Window w({K::count, K::sum, K::distinct, K::share}, 7 * 86'400'000LL, 7 * 1'800'000LL);
  const int64_t day = 86'400'000LL;
  w.add(0, {val(0), val(1'500'0000), hashed(hash64("s1")), val(1)});
  w.add(2 * day, {val(0), val(2'000'0000), hashed(hash64("s2")), val(0)});
  w.add(4 * day, {val(0), val(900'0000), hashed(hash64("s3")), val(1)});
  std::cout << "3 events, 4 aggregates: " << w.state.memory_bytes() << " heap bytes, "
            << sizeof(WindowedAggregates) << " bytes inline\n";
  EXPECT_LE(w.state.memory_bytes(), 200u);
  EXPECT_EQ(w.at(5 * day)[0].exact, 3);

  // Adding to existing buckets and known values allocates nothing.
  const size_t before = w.state.memory_bytes();
  for (int i = 0; i < 1'000; ++i)
    w.add(4 * day + i, {val(0), val(i), hashed(hash64("s1")), val(i % 2)});
  EXPECT_EQ(w.state.memory_bytes(), before);
  EXPECT_EQ(w.at(5 * day)[0].exact, 1'003);
}

TEST(WindowedAggregates, MemoryOfAHotKeyStaysBounded) {
  Window w({K::count, K::sum, K::distinct, K::cv}, 7 * 86'400'000LL, 7 * 1'800'000LL);
  for (int64_t i = 0; i < 200'000; ++i)
    w.add(i * 10'000, {val(0), val(i), hashed(hash64(std::to_string(i % 50))), val(i % 1000)});
  // 48 buckets of 8 + 4 + 12 + 28 bytes (narrow), 50 exact values of 16 bytes, vector slack.
  std::cout << "hot key, 48 buckets, 50 values: " << w.state.memory_bytes() << " heap bytes\n";
  EXPECT_LE(w.state.memory_bytes(), 6'000u);
  EXPECT_EQ(w.at(199'999 * 10'000LL)[2].exact, 50);
}

TEST(WindowedAggregates, InvalidArgumentsThrow) {
  Window w({K::count, K::sum}, 10'000, 1'000);
  const std::vector<AggregateInput> one = {val(1)}, two = {val(1), val(1)};
  EXPECT_THROW(w.state.add(w.specs, w.win, 0, one), std::invalid_argument);
  EXPECT_THROW(w.state.add(w.specs, WindowSpec{0, 1'000}, 0, two), std::invalid_argument);
  EXPECT_THROW(w.state.add(w.specs, WindowSpec{10'000, 0}, 0, two), std::invalid_argument);
  EXPECT_THROW(w.state.add(w.specs, WindowSpec{10'000, 3'000}, 0, two), std::invalid_argument);
  EXPECT_THROW(w.state.add(w.specs, WindowSpec{-10'000, -1'000}, 0, two), std::invalid_argument);
  w.add(0, {val(1), val(1)});
  std::vector<AggregateSpec> other = {{K::count, 64}, {K::max, 64}};
  std::vector<AggregateResult> out(2);
  EXPECT_THROW(w.state.results(other, w.win, 0, out), std::invalid_argument);
  EXPECT_THROW(w.state.add(other, w.win, 0, two), std::invalid_argument);
  EXPECT_THROW(w.state.expire(WindowSpec{10'000, 0}, 0), std::invalid_argument);
  std::vector<AggregateResult> short_out(1);
  EXPECT_THROW(w.state.results(w.specs, w.win, 0, short_out), std::invalid_argument);
  std::vector<AggregateSpec> many(kMaxAggregates + 1);
  std::vector<AggregateInput> many_in(kMaxAggregates + 1);
  WindowedAggregates fresh;
  EXPECT_THROW(fresh.add(many, w.win, 0, many_in), std::invalid_argument);
  EXPECT_EQ(w.at(0)[1].exact, 1);  // unchanged by the failed calls
}

// The per-rule fast path: one layout made at load, add_and_results per event, expire by
// layout. Same results and the same bytes as add + results with specs, through out-of-order
// and too-old events, the narrow -> wide switch, the exact -> sketch switch and expiry.
TEST(WindowedAggregates, LayoutCallsMatchTheSpecCalls) {
  Window slow(kAllKinds, 60'000, 1'000, 8);
  const WindowLayout layout = WindowLayout::make(slow.specs, slow.win);
  EXPECT_EQ(layout.size(), kAllKinds.size());
  EXPECT_EQ(layout.window().length_ms, 60'000);
  WindowedAggregates fast;
  std::mt19937_64 rng(7);
  std::vector<AggregateResult> out(kAllKinds.size());
  int64_t ts = -30'000;
  for (int i = 0; i < 4'000; ++i) {
    ts += static_cast<int64_t>(rng() % 700);
    const int64_t at = ts - static_cast<int64_t>(rng() % 90'000 < 85'000 ? 0 : rng() % 90'000);
    std::vector<AggregateInput> in(kAllKinds.size());
    for (size_t a = 0; a < in.size(); ++a) {
      in[a].matched = rng() % 5 != 0;
      in[a].value = static_cast<int64_t>(rng() % 2'000) - 500;
      if (kAllKinds[a] == K::share) in[a].value = static_cast<int64_t>(rng() % 2);
      in[a].hash = hash64(std::to_string(rng() % (i < 2'000 ? 6 : 40)));
    }
    if (i == 3'000) in[1].value = kMax;  // turns the state wide
    slow.add(at, in);
    fast.add_and_results(layout, at, in, out);
    SCOPED_TRACE(i);
    expect_same(out, slow.at(at));
    std::vector<AggregateResult> later(kAllKinds.size());
    fast.results(layout, ts + 5'000, later);
    expect_same(later, slow.at(ts + 5'000));
    if (i % 500 == 499) {
      EXPECT_EQ(fast.expire(layout, ts - 20'000), slow.state.expire(slow.win, ts - 20'000));
    }
    if (i % 97 == 0) {
      std::string bytes;
      fast.serialize(bytes);
      ASSERT_EQ(bytes, slow.bytes());
    }
  }
  // add(layout, ...) alone is add(specs, window, ...).
  slow.add(ts + 1, std::vector<AggregateInput>(kAllKinds.size(), val(3)));
  fast.add(layout, ts + 1, std::vector<AggregateInput>(kAllKinds.size(), val(3)));
  std::string bytes;
  fast.serialize(bytes);
  EXPECT_EQ(bytes, slow.bytes());
  EXPECT_TRUE(fast.expire(layout, ts + 61'001));
  EXPECT_TRUE(fast.empty());
}

// A mask computes only its aggregates' results and leaves the other entries as they were;
// the rest asked for afterwards complete exactly what one unmasked call gives.
TEST(WindowedAggregates, MaskedResultsAreTheUnmaskedOnesInParts) {
  Window spec(kAllKinds, 60'000, 1'000, 8);
  const WindowLayout layout = WindowLayout::make(spec.specs, spec.win);
  const size_t n = kAllKinds.size();
  const AggregateResult sentinel{true, 777, 7.5, true};
  WindowedAggregates whole, parts;
  std::vector<AggregateResult> empty(n, sentinel);
  parts.results(layout, 0, empty, 0b101);  // an empty state: defaults, in the mask only
  for (size_t a = 0; a < n; ++a) EXPECT_EQ(empty[a].exact, a == 0 || a == 2 ? 0 : 777) << a;
  std::mt19937_64 rng(11);
  int64_t ts = 0;
  for (int i = 0; i < 2'000; ++i) {
    ts += static_cast<int64_t>(rng() % 700);
    const int64_t at = ts - static_cast<int64_t>(rng() % 10 == 0 ? rng() % 90'000 : 0);
    std::vector<AggregateInput> in(n);
    for (size_t a = 0; a < n; ++a) {
      in[a].matched = rng() % 4 != 0;
      in[a].value = static_cast<int64_t>(rng() % 2'000) - 500;
      if (kAllKinds[a] == K::share) in[a].value = static_cast<int64_t>(rng() % 2);
      in[a].hash = hash64(std::to_string(rng() % 30));
    }
    std::vector<AggregateResult> expected(n);
    whole.add_and_results(layout, at, in, expected);
    const auto mask = static_cast<uint32_t>(rng() & ((1u << n) - 1));
    std::vector<AggregateResult> out(n, sentinel);
    parts.add_and_results(layout, at, in, out, mask);
    SCOPED_TRACE(i);
    for (size_t a = 0; a < n; ++a) {
      if ((mask >> a) & 1) continue;
      EXPECT_EQ(out[a].exact, 777) << a;
      EXPECT_EQ(out[a].number, 7.5) << a;
    }
    parts.results(layout, at, out, ~mask);
    expect_same(out, expected);
  }
}

TEST(WindowedAggregates, InvalidLayoutsThrow) {
  const std::vector<AggregateSpec> specs = {{K::count, 64}, {K::sum, 64}};
  EXPECT_THROW(WindowLayout::make(specs, WindowSpec{0, 1'000}), std::invalid_argument);
  EXPECT_THROW(WindowLayout::make(specs, WindowSpec{10'000, 0}), std::invalid_argument);
  EXPECT_THROW(WindowLayout::make(specs, WindowSpec{10'000, 3'000}), std::invalid_argument);
  EXPECT_THROW(
      WindowLayout::make(std::vector<AggregateSpec>(kMaxAggregates + 1), WindowSpec{10'000, 1'000}),
      std::invalid_argument);
  const std::vector<AggregateSpec> unknown = {{static_cast<K>(42), 64}};
  EXPECT_THROW(WindowLayout::make(unknown, WindowSpec{10'000, 1'000}), std::invalid_argument);

  const WindowLayout layout = WindowLayout::make(specs, WindowSpec{10'000, 1'000});
  const std::vector<AggregateInput> one = {val(1)}, two = {val(1), val(1)};
  std::vector<AggregateResult> out(2), short_out(1);
  WindowedAggregates s;
  EXPECT_THROW(s.add(layout, 0, one), std::invalid_argument);
  EXPECT_THROW(s.add_and_results(layout, 0, one, out), std::invalid_argument);
  EXPECT_THROW(s.add_and_results(layout, 0, two, short_out), std::invalid_argument);
  EXPECT_THROW(s.results(layout, 0, short_out), std::invalid_argument);
  const WindowLayout never_made;
  EXPECT_THROW(s.add(never_made, 0, {}), std::invalid_argument);
  EXPECT_THROW(s.results(never_made, 0, {}), std::invalid_argument);
  EXPECT_THROW(s.expire(never_made, 0), std::invalid_argument);
  s.add_and_results(layout, 0, two, out);
  EXPECT_EQ(out[1].exact, 1);
  // A layout of other kinds does not fit this state.
  const std::vector<AggregateSpec> other = {{K::count, 64}, {K::max, 64}};
  const WindowLayout other_layout = WindowLayout::make(other, WindowSpec{10'000, 1'000});
  EXPECT_THROW(s.add_and_results(other_layout, 0, two, out), std::invalid_argument);
  EXPECT_THROW(s.results(other_layout, 0, out), std::invalid_argument);
  s.results(layout, 0, out);
  EXPECT_EQ(out[1].exact, 1);  // unchanged by the failed calls
}

// Repeated expiry passes over a small state that lost a bucket keep its buffers: no
// reallocation per pass (the memory stays within a small slack of what is used).
TEST(WindowedAggregates, ExpiryKeepsSlackForSmallStates) {
  Window w({K::count, K::distinct}, 10'000, 1'000);
  for (int64_t t = 0; t < 4'000; t += 1'000) w.add(t, {val(1), hashed(static_cast<uint64_t>(t))});
  const size_t before = w.state.memory_bytes();
  EXPECT_FALSE(w.state.expire(w.win, 12'500));  // drops the 0, 1 s and 2 s buckets
  EXPECT_EQ(w.state.memory_bytes(), before);
  EXPECT_EQ(w.at(12'500)[0].exact, 1);
  EXPECT_EQ(w.at(12'500)[1].exact, 1);
  w.add(12'900, {val(1), hashed(99)});
  EXPECT_EQ(w.state.memory_bytes(), before);
}

}  // namespace
}  // namespace corridor::rules::window
