#include "rules/window/windowed_aggregates.h"

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "rules/window/hyperloglog.h"
#include "rules/window/varint.h"
#include "rules/window/wide_int.h"

namespace corridor::rules::window {

using detail::i128;
using detail::u128;
using detail::U192;
using detail::UInt;

namespace {

// Serialisation format (all integers little-endian; "varint" is canonical LEB128, "zz" a
// zigzag varint; see varint.h):
//   u8 version: 2 when a kind is max_by_sum, max_by_distinct or mode, else 1 (so version 1
//     is the format before those kinds, and a reader that does not know them rejects them)
//   varint A: aggregates; 0 = empty state, nothing follows
//   A × u8: the kinds (AggregateKind values)
//   varint B >= 1: buckets, then per bucket in ascending start order:
//     zz start (first bucket) or varint start - previous start (>= 1, later buckets)
//     per aggregate except distinct and max_by_*: varint n, and when n > 0:
//       sum/mean: zz128 Σx; min/max: zz x; stddev/cv: zz128 Σx, varint192 Σx²;
//       last: zz ts, zz x; share: varint flagged (<= n); count, mode: nothing
//   per distinct, max_by_* or mode aggregate, in spec order:
//     distinct: u8 mode (0 exact, 1 sketch), varint E (sketch: E >= 1), then E entries:
//       exact: u64 hash (8 bytes), varint bucket index; hashes strictly ascending
//       sketch: varint register (< 2^p), u8 rank (1 .. 65 - p), varint bucket index;
//               (register, rank) strictly ascending, bucket index strictly descending
//               within a register
//     max_by_*, mode: u8 truncated (0, 1); when 1 the cut's key; varint E (truncated:
//       E >= 1), then E entries, each newer than the cut (by bucket, then key):
//       max_by_sum: u64 group, varint bucket index, zz128 sum; (group, bucket) strictly
//         ascending; the cut: u64 group, varint bucket index
//       max_by_distinct: u64 group, u64 value hash, varint bucket index; (group, value)
//         strictly ascending; the cut: the same three
//       mode: zz value, varint bucket index, varint count >= 1; (value, bucket) strictly
//         ascending; per bucket the counts add up to the aggregate's n there (at most n in
//         the cut's bucket, 0 before it); the cut: zz value, varint bucket index
// The reader rejects anything else, so accepted input re-serialises byte for byte.
constexpr uint8_t kFormatVersion = 1;
constexpr uint8_t kFormatVersionGroups = 2;
constexpr uint32_t kStartBytes = 8;
constexpr uint8_t kKinds = 13;

// Kinds with a table beside the buckets (Side::groups): the last ones, so one comparison on
// the paths every other kind takes.
constexpr bool is_group_kind(AggregateKind k) noexcept { return k >= AggregateKind::max_by_sum; }
static_assert(static_cast<uint8_t>(AggregateKind::mode) + 1 == kKinds &&
              AggregateKind::max_by_distinct > AggregateKind::max_by_sum &&
              AggregateKind::mode > AggregateKind::max_by_distinct);
// Kinds without a per-bucket partial.
constexpr bool has_no_partial(AggregateKind k) noexcept {
  return k == AggregateKind::distinct || k == AggregateKind::max_by_sum ||
         k == AggregateKind::max_by_distinct;
}

template <class T>
T load(const unsigned char* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class T>
void store(unsigned char* p, const T& v) noexcept {
  std::memcpy(p, &v, sizeof v);
}

constexpr uint32_t count_bytes(bool wide) { return wide ? 8 : 4; }
constexpr uint32_t sum_bytes(bool wide) { return wide ? 16 : 8; }
constexpr uint32_t squares_bytes(bool wide) { return wide ? 24 : 16; }

uint32_t partial_bytes(AggregateKind k, bool wide) {
  const uint32_t c = count_bytes(wide), s = sum_bytes(wide), q = squares_bytes(wide);
  switch (k) {
    case AggregateKind::count:
    case AggregateKind::mode:
      return c;
    case AggregateKind::sum:
    case AggregateKind::mean:
      return c + s;
    case AggregateKind::min:
    case AggregateKind::max:
      return c + 8;
    case AggregateKind::stddev:
    case AggregateKind::cv:
      return c + s + q;
    case AggregateKind::distinct:
    case AggregateKind::max_by_sum:
    case AggregateKind::max_by_distinct:
      return 0;
    case AggregateKind::last:
      return c + 16;
    case AggregateKind::share:
      return 2 * c;
  }
  return 0;
}

// The largest narrow record: the start, then the largest narrow partial (stddev's) per
// aggregate.
constexpr size_t kMaxNarrowRecord = 8 + kMaxAggregates * (4 + 8 + 16);

// Where each aggregate's partial sits in a bucket record (windowed_aggregates.h).
using Layout = detail::RecordLayout;

Layout make_layout(std::span<const AggregateKind> kinds, bool wide) {
  if (kinds.size() > kMaxAggregates)
    throw std::invalid_argument("window state: more than 16 aggregates");
  Layout l;
  l.wide = wide;
  l.n = static_cast<uint8_t>(kinds.size());
  for (size_t i = 0; i < kinds.size(); ++i) {
    const auto k = kinds[i];
    if (static_cast<uint8_t>(k) >= kKinds)
      throw std::invalid_argument("window state: unknown aggregate kind");
    l.kind[i] = k;
    l.offset[i] = l.record;
    l.record += partial_bytes(k, wide);
    const auto bit = static_cast<uint16_t>(1u << i);
    if (k == AggregateKind::distinct || is_group_kind(k)) {
      l.side_index[i] = l.n_sides++;
      l.sided |= bit;
    }
    if (is_group_kind(k)) l.grouped |= bit;
    if (has_no_partial(k)) l.unbucketed |= bit;
    l.kinds |= (static_cast<uint64_t>(k) + 1) << (4 * i);
  }
  return l;
}

Layout layout_of_packed(uint64_t packed, uint8_t n, bool wide) {
  std::array<AggregateKind, kMaxAggregates> kinds;
  for (uint8_t i = 0; i < n; ++i)
    kinds[i] = static_cast<AggregateKind>(((packed >> (4 * i)) & 0xf) - 1);
  return make_layout(std::span(kinds.data(), n), wide);
}

void check_window(const WindowSpec& w) {
  if (w.length_ms <= 0 || w.bucket_ms <= 0 || w.length_ms % w.bucket_ms != 0)
    throw std::invalid_argument(
        "window state: window length and bucket must be > 0 and the bucket must divide the "
        "length");
}

// floor(ts / bucket) * bucket, or the lowest representable multiple when that underflows.
int64_t bucket_start(int64_t ts, int64_t bucket_ms) noexcept {
  int64_t q = ts / bucket_ms;
  if (ts % bucket_ms < 0) --q;
  i128 s = static_cast<i128>(q) * bucket_ms;
  if (s < std::numeric_limits<int64_t>::min()) s += bucket_ms;
  return static_cast<int64_t>(s);
}

uint64_t get_count(const unsigned char* p, bool wide) noexcept {
  return wide ? load<uint64_t>(p) : load<uint32_t>(p);
}
void put_count(unsigned char* p, bool wide, uint64_t v) noexcept {
  if (wide)
    store<uint64_t>(p, v);
  else
    store<uint32_t>(p, static_cast<uint32_t>(v));
}
i128 get_sum(const unsigned char* p, bool wide) noexcept {
  return wide ? load<i128>(p) : static_cast<i128>(load<int64_t>(p));
}
void put_sum(unsigned char* p, bool wide, i128 v) noexcept {
  if (wide)
    store<i128>(p, v);
  else
    store<int64_t>(p, static_cast<int64_t>(v));
}
U192 get_squares(const unsigned char* p, bool wide) noexcept {
  return wide ? load<U192>(p) : U192::from(load<u128>(p));
}
void put_squares(unsigned char* p, bool wide, const U192& v) noexcept {
  if (wide)
    store<U192>(p, v);
  else
    store<u128>(p, v.low128());
}

// One aggregate's partial in one bucket, at full width (for conversion and serialisation).
struct Partial {
  uint64_t n = 0;        // matching events
  uint64_t flagged = 0;  // share: events with the flag
  i128 sum = 0;          // sum, mean, stddev, cv
  U192 squares;          // stddev, cv
  int64_t a = 0;         // min/max: the value; last: the event time
  int64_t b = 0;         // last: the value
};

Partial read_partial(const unsigned char* p, AggregateKind k, bool wide) noexcept {
  Partial r;
  if (has_no_partial(k)) return r;
  const uint32_t c = count_bytes(wide);
  r.n = get_count(p, wide);
  switch (k) {
    case AggregateKind::count:
    case AggregateKind::distinct:
    case AggregateKind::max_by_sum:
    case AggregateKind::max_by_distinct:
    case AggregateKind::mode:
      break;
    case AggregateKind::sum:
    case AggregateKind::mean:
      r.sum = get_sum(p + c, wide);
      break;
    case AggregateKind::stddev:
    case AggregateKind::cv:
      r.sum = get_sum(p + c, wide);
      r.squares = get_squares(p + c + sum_bytes(wide), wide);
      break;
    case AggregateKind::min:
    case AggregateKind::max:
      r.a = load<int64_t>(p + c);
      break;
    case AggregateKind::last:
      r.a = load<int64_t>(p + c);
      r.b = load<int64_t>(p + c + 8);
      break;
    case AggregateKind::share:
      r.flagged = get_count(p + c, wide);
      break;
  }
  return r;
}

void write_partial(unsigned char* p, AggregateKind k, bool wide, const Partial& r) noexcept {
  if (has_no_partial(k)) return;
  const uint32_t c = count_bytes(wide);
  put_count(p, wide, r.n);
  switch (k) {
    case AggregateKind::count:
    case AggregateKind::distinct:
    case AggregateKind::max_by_sum:
    case AggregateKind::max_by_distinct:
    case AggregateKind::mode:
      break;
    case AggregateKind::sum:
    case AggregateKind::mean:
      put_sum(p + c, wide, r.sum);
      break;
    case AggregateKind::stddev:
    case AggregateKind::cv:
      put_sum(p + c, wide, r.sum);
      put_squares(p + c + sum_bytes(wide), wide, r.squares);
      break;
    case AggregateKind::min:
    case AggregateKind::max:
      store<int64_t>(p + c, r.a);
      break;
    case AggregateKind::last:
      store<int64_t>(p + c, r.a);
      store<int64_t>(p + c + 8, r.b);
      break;
    case AggregateKind::share:
      put_count(p + c, wide, r.flagged);
      break;
  }
}

bool fits_narrow(const Partial& r) noexcept {
  return r.n <= std::numeric_limits<uint32_t>::max() &&
         r.flagged <= std::numeric_limits<uint32_t>::max() &&
         r.sum >= std::numeric_limits<int64_t>::min() &&
         r.sum <= std::numeric_limits<int64_t>::max() && r.squares.fits_u128();
}

// Applies one event to one bucket record. A narrow record returns false when a counter or sum
// would overflow, having written the partials of the aggregates before that one (callers
// apply to a copy).
bool apply(unsigned char* rec, const Layout& l, std::span<const AggregateInput> inputs,
           int64_t ts) noexcept {
  const bool w = l.wide;
  const uint32_t c = count_bytes(w);
  for (size_t i = 0; i < l.n; ++i) {
    const AggregateInput& in = inputs[i];
    const AggregateKind k = l.kind[i];
    if (!in.matched || ((l.unbucketed >> i) & 1) != 0) continue;
    unsigned char* p = rec + l.offset[i];
    const uint64_t n = get_count(p, w);
    if (!w && n == std::numeric_limits<uint32_t>::max()) return false;
    switch (k) {
      case AggregateKind::count:
      case AggregateKind::distinct:
      case AggregateKind::max_by_sum:
      case AggregateKind::max_by_distinct:
      case AggregateKind::mode:
        break;
      case AggregateKind::sum:
      case AggregateKind::mean:
      case AggregateKind::stddev:
      case AggregateKind::cv: {
        i128 sum;
        if (w) {
          sum = detail::sat_add(get_sum(p + c, w), in.value);
        } else {
          int64_t r;
          if (__builtin_add_overflow(load<int64_t>(p + c), in.value, &r)) return false;
          sum = r;
        }
        if (k == AggregateKind::stddev || k == AggregateKind::cv) {
          const u128 mag = detail::magnitude(in.value);
          const u128 square = mag * mag;  // <= 2^126
          unsigned char* q = p + c + sum_bytes(w);
          if (w) {
            U192 squares = load<U192>(q);
            detail::add_sat(squares, U192::from(square));
            store(q, squares);
          } else {
            const u128 before = load<u128>(q), after = before + square;
            if (after < before) return false;
            store(q, after);
          }
        }
        put_sum(p + c, w, sum);
        break;
      }
      case AggregateKind::min:
        if (n == 0 || in.value < load<int64_t>(p + c)) store(p + c, in.value);
        break;
      case AggregateKind::max:
        if (n == 0 || in.value > load<int64_t>(p + c)) store(p + c, in.value);
        break;
      case AggregateKind::last:
        if (n == 0 || ts >= load<int64_t>(p + c)) {
          store(p + c, ts);
          store(p + c + 8, in.value);
        }
        break;
      case AggregateKind::share:
        // flagged <= n, so it cannot overflow where n did not.
        if (in.value != 0) {
          const uint64_t f = get_count(p + c, w);
          put_count(p + c, w, f == std::numeric_limits<uint64_t>::max() ? f : f + 1);
        }
        break;
    }
    put_count(p, w, n == std::numeric_limits<uint64_t>::max() ? n : n + 1);
  }
  return true;
}

// Reserves room for `extra` more elements: exactly while the vector is small (the common
// entity holds a handful), by half its size beyond, in whole units.
template <class V>
void reserve_for(V& v, size_t extra, size_t unit, size_t small_units) {
  const size_t need = v.size() + extra;
  if (need <= v.capacity()) return;
  size_t cap = need;
  if (v.size() >= small_units * unit) cap = std::max(need, v.size() + (v.size() / unit / 2) * unit);
  v.reserve(cap);
}

int64_t clamp64(i128 v) noexcept {
  if (v > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
  if (v < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

}  // namespace

struct WindowedAggregates::Impl {
  using Self = WindowedAggregates;

  static size_t bucket_count(const Self& s) noexcept {
    return s.record_size_ == 0 ? 0 : s.block_.size() / s.record_size_;
  }
  static int64_t start(const Self& s, size_t i) noexcept {
    return load<int64_t>(s.block_.data() + i * s.record_size_);
  }
  // The oldest and the newest bucket's start (the state is not empty). No division: the
  // records are read at their byte offsets.
  static int64_t oldest_start(const Self& s) noexcept { return load<int64_t>(s.block_.data()); }
  static int64_t newest_start(const Self& s) noexcept {
    return load<int64_t>(s.block_.data() + s.block_.size() - s.record_size_);
  }
  // First bucket whose start is > t.
  static size_t upper(const Self& s, i128 t) noexcept {
    size_t lo = 0, hi = bucket_count(s);
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      if (start(s, mid) <= t)
        lo = mid + 1;
      else
        hi = mid;
    }
    return lo;
  }
  // First bucket whose start is >= t.
  static size_t lower(const Self& s, i128 t) noexcept { return upper(s, t - 1); }

  static Layout layout(const Self& s) { return layout_of_packed(s.kinds_, s.n_aggs_, s.wide_); }

  static void check_made(const WindowLayout& layout) {
    if (!layout.made_) throw std::invalid_argument("window state: a layout that was never made");
  }

  static void check_kinds(const Self& s, const Layout& l) {
    if (s.n_aggs_ != 0 && (l.kinds != s.kinds_ || l.n != s.n_aggs_))
      throw std::invalid_argument("window state: aggregate kinds differ from the state's");
  }

  static void reset(Self& s, bool release) noexcept {
    s.block_.clear(release);
    s.kinds_ = 0;
    s.record_size_ = 0;
    s.n_aggs_ = 0;
    s.wide_ = false;
  }

  static void adopt(Self& s, const Layout& l) {
    s.kinds_ = l.kinds;
    s.record_size_ = l.record;
    s.n_aggs_ = l.n;
    s.wide_ = l.wide;
    s.block_.assign(l.n_sides, l.record);  // room for the first bucket
    for (unsigned m = l.grouped; m != 0; m &= m - 1)
      s.block_.sides()[l.side_index[std::countr_zero(m)]].groups = std::make_unique<GroupTable>();
  }

  // Drops every bucket starting at or before `cutoff` and the distinct values last seen there,
  // and the table entries of those buckets.
  static void drop_through(Self& s, i128 cutoff) noexcept {
    if (s.block_.empty() || oldest_start(s) > cutoff) return;  // the common case: none
    const size_t k = upper(s, cutoff);
    s.block_.erase_front(k * s.record_size_);
    for (Side& d : s.block_.sides()) {
      if (d.groups) {
        GroupTable& t = *d.groups;
        std::erase_if(t.entries, [cutoff](const GroupEntry& e) { return e.bucket <= cutoff; });
        if (t.truncated && t.cut.bucket <= cutoff) {
          t.truncated = false;  // every entry the bound dropped has expired
          t.cut = GroupEntry{};
        }
        continue;
      }
      d.entries.erase_if([cutoff](const Entry& e) { return e.bucket <= cutoff; });
      if (d.entries.empty()) d.sketch = false;
    }
    if (s.block_.empty()) reset(s, false);
  }

  // The byte offset of bucket b's record, inserted (zero partials) when absent.
  static size_t find_or_insert(Self& s, int64_t b) {
    const size_t r = s.record_size_;
    size_t at;
    if (s.block_.empty() || newest_start(s) < b) {
      at = s.block_.size();  // the common case: a new newest bucket
    } else if (newest_start(s) == b) {
      return s.block_.size() - r;  // or the newest itself
    } else {
      const size_t idx = lower(s, b);
      if (idx < bucket_count(s) && start(s, idx) == b) return idx * r;
      at = idx * r;
    }
    reserve_for(s.block_, r, r, 4);
    s.block_.insert_zeros(at, r);
    store(s.block_.data() + at, b);
    return at;
  }

  // Re-lays every record out from layout `from` to layout `to` (narrow <-> wide).
  static void convert(Self& s, const Layout& from, const Layout& to) {
    const size_t nb = bucket_count(s);
    std::vector<unsigned char> out;
    out.reserve(nb * to.record);
    out.resize(nb * to.record);
    for (size_t i = 0; i < nb; ++i) {
      const unsigned char* src = s.block_.data() + i * from.record;
      unsigned char* dst = out.data() + i * to.record;
      std::memcpy(dst, src, kStartBytes);
      for (size_t a = 0; a < from.n; ++a)
        write_partial(dst + to.offset[a], from.kind[a], to.wide,
                      read_partial(src + from.offset[a], from.kind[a], from.wide));
    }
    s.block_.replace_records(out.data(), out.size());
    s.record_size_ = to.record;
    s.wide_ = to.wide;
  }

  static bool all_fit_narrow(const Self& s, const Layout& l) noexcept {
    const size_t nb = bucket_count(s);
    for (size_t i = 0; i < nb; ++i)
      for (size_t a = 0; a < l.n; ++a)
        if (!fits_narrow(
                read_partial(s.block_.data() + i * l.record + l.offset[a], l.kind[a], l.wide)))
          return false;
    return true;
  }

  // --- distinct ---------------------------------------------------------------------------

  static void grow_entries(Entries& v) { reserve_for(v, 1, 1, 8); }

  // Sliding HyperLogLog: per register, the (rank, bucket) pairs not dominated by a pair with a
  // rank at least as high in a bucket at least as new. Within a register, keyed by rank
  // ascending, buckets are then strictly descending. The result is a function of each
  // value's latest sighting only, whatever the order of insertion.
  static void sketch_insert(Entries& v, uint64_t hash, int64_t b) {
    sketch_insert(v, detail::hll_register(hash), detail::hll_rank(hash), b);
  }
  static void sketch_insert(Entries& v, uint32_t reg, uint8_t rank, int64_t b) {
    const uint64_t base = static_cast<uint64_t>(reg) << 8, key = base | rank;
    const auto by_key = [](const Entry& e, uint64_t k) { return e.key < k; };
    const auto first = std::lower_bound(v.begin(), v.end(), base, by_key);
    const auto last = std::lower_bound(first, v.end(), base + 256, by_key);
    const auto ge = std::lower_bound(first, last, key, by_key);  // first with rank' >= rank
    if (ge != last && ge->bucket >= b) return;                   // dominated
    const auto gt = (ge != last && ge->key == key) ? ge + 1 : ge;
    // [first, gt) has rank' <= rank, buckets descending: the ones with bucket' <= b are a
    // suffix, all dominated by the new pair.
    const auto x = std::partition_point(first, gt, [b](const Entry& e) { return e.bucket > b; });
    if (x != gt) {
      *x = Entry{key, b};
      v.erase(x + 1, gt);
      return;
    }
    const ptrdiff_t at = x - v.begin();
    grow_entries(v);
    v.insert(v.begin() + at, Entry{key, b});
  }

  static void distinct_add(Side& d, uint64_t hash, int64_t b, uint32_t bound) {
    Entries& v = d.entries;
    if (d.sketch) {
      sketch_insert(v, hash, b);
      return;
    }
    const auto it = std::lower_bound(v.begin(), v.end(), hash,
                                     [](const Entry& e, uint64_t h) { return e.key < h; });
    if (it != v.end() && it->key == hash) {
      it->bucket = std::max(it->bucket, b);
      return;
    }
    if (v.size() < bound) {
      const ptrdiff_t at = it - v.begin();
      grow_entries(v);
      v.insert(v.begin() + at, Entry{hash, b});
      return;
    }
    Entries sketch;
    for (const Entry& e : v) sketch_insert(sketch, e.key, e.bucket);
    sketch_insert(sketch, hash, b);
    v = std::move(sketch);
    d.sketch = true;
  }

  // `whole`: the window holds every stored bucket, so every entry (each names a stored
  // bucket) is inside it: an exact set's count is its size (the common case of an event
  // in the newest bucket).
  static AggregateResult distinct_result(const Side& d, i128 lo, int64_t now, bool whole) noexcept {
    AggregateResult r;
    // Inside the window: from <= bucket <= now (int64 compares in the loops below).
    const int64_t from =
        static_cast<int64_t>(std::max<i128>(lo + 1, std::numeric_limits<int64_t>::min()));
    if (!d.sketch) {
      int64_t n = 0;
      if (whole)
        n = static_cast<int64_t>(d.entries.size());
      else
        for (const Entry& e : d.entries) n += (e.bucket >= from) & (e.bucket <= now);
      r.defined = n > 0;
      r.exact = n;
      r.number = static_cast<double>(n);
      return r;
    }
    // Per register (entries grouped by register, ranks ascending), the highest rank inside
    // the window; registers without one stay 0.
    uint32_t histogram[detail::kHllQ + 2] = {};
    uint32_t occupied = 0;
    uint64_t reg = ~uint64_t{0};
    uint8_t best = 0;
    for (const Entry& e : d.entries) {
      if ((e.key >> 8) != reg) {
        occupied += best != 0;
        ++histogram[best];
        reg = e.key >> 8;
        best = 0;
      }
      if (e.bucket >= from && e.bucket <= now) best = static_cast<uint8_t>(e.key & 0xff);
    }
    occupied += best != 0;
    ++histogram[best];
    histogram[0] = detail::kHllM - occupied;
    if (histogram[0] == detail::kHllM) return r;  // nothing in the window: exactly 0
    const double estimate = detail::hll_estimate(histogram);
    r.defined = true;
    r.estimated = true;
    r.number = estimate;
    r.exact = estimate < 9.2e18 ? static_cast<int64_t>(std::llround(estimate))
                                : std::numeric_limits<int64_t>::max();
    return r;
  }

  // --- max_by_sum, max_by_distinct, mode ---------------------------------------------------

  static i128 total_of(const GroupEntry& e) noexcept {
    return static_cast<i128>(static_cast<u128>(static_cast<uint64_t>(e.high)) << 64 | e.low);
  }
  static void set_total(GroupEntry& e, i128 v) noexcept {
    e.low = static_cast<uint64_t>(v);
    e.high = static_cast<int64_t>(static_cast<uint64_t>(static_cast<u128>(v) >> 64));
  }
  // mode's key: the value + 2^63, so that unsigned order is numeric order.
  static uint64_t value_key(int64_t v) noexcept {
    return static_cast<uint64_t>(v) ^ (uint64_t{1} << 63);
  }
  static int64_t key_value(uint64_t k) noexcept {
    return static_cast<int64_t>(k ^ (uint64_t{1} << 63));
  }

  // The order in which the bound drops entries: the oldest bucket first, then by key.
  static bool older(AggregateKind k, const GroupEntry& a, const GroupEntry& b) noexcept {
    if (a.bucket != b.bucket) return a.bucket < b.bucket;
    if (a.group != b.group) return a.group < b.group;
    return k == AggregateKind::max_by_distinct && a.low < b.low;
  }
  // The table's order: (group, value hash) for max_by_distinct, (group, bucket) otherwise.
  static bool before(AggregateKind k, const GroupEntry& a, const GroupEntry& b) noexcept {
    if (a.group != b.group) return a.group < b.group;
    if (k == AggregateKind::max_by_distinct) return a.low < b.low;
    return a.bucket < b.bucket;
  }

  // One event's input into the table of a max_by_* or mode aggregate, in bucket b. Past the
  // bound the table keeps the `bound` newest entries (by `older`) of everything it was given
  // and remembers the newest one it dropped: an entry not newer than that is not added, since
  // it would be dropped again at once. Which entries survive does not depend on the order of
  // the calls.
  static void group_add(GroupTable& t, AggregateKind k, const AggregateInput& in, int64_t b,
                        uint32_t bound) {
    std::vector<GroupEntry>& v = t.entries;
    GroupEntry e{};
    e.bucket = b;
    if (k == AggregateKind::max_by_distinct) {
      e.group = in.group;
      e.low = in.hash;
    } else {
      e.group = k == AggregateKind::mode ? value_key(in.value) : in.group;
    }
    const auto by_order = [k](const GroupEntry& x, const GroupEntry& y) { return before(k, x, y); };
    const auto it = std::lower_bound(v.begin(), v.end(), e, by_order);
    if (it != v.end() && !before(k, e, *it)) {  // the entry exists: newer than any cut
      if (k == AggregateKind::max_by_distinct)
        it->bucket = std::max(it->bucket, b);
      else if (k == AggregateKind::mode)
        it->low += it->low != std::numeric_limits<uint64_t>::max();
      else
        set_total(*it, detail::sat_add(total_of(*it), in.value));
      return;
    }
    if (t.truncated && !older(k, t.cut, e)) return;
    if (k == AggregateKind::mode)
      e.low = 1;
    else if (k == AggregateKind::max_by_sum)
      set_total(e, in.value);
    const ptrdiff_t at = it - v.begin();
    reserve_for(v, 1, 1, 8);
    v.insert(v.begin() + at, e);
    if (v.size() <= bound) return;
    const auto oldest =
        std::min_element(v.begin(), v.end(),
                         [k](const GroupEntry& x, const GroupEntry& y) { return older(k, x, y); });
    t.cut = GroupEntry{oldest->group, oldest->bucket,
                       k == AggregateKind::max_by_distinct ? oldest->low : 0, 0};
    t.truncated = true;
    v.erase(oldest);
  }

  // The result of a max_by_* or mode aggregate over the window (lo, now]; n: mode's inputs
  // in the window (from its bucket partials, exact whatever the table dropped).
  static AggregateResult group_result(const GroupTable& t, AggregateKind k, i128 lo, int64_t now,
                                      uint64_t n, uint32_t tolerance) noexcept {
    AggregateResult r;
    const int64_t from =
        static_cast<int64_t>(std::max<i128>(lo + 1, std::numeric_limits<int64_t>::min()));
    const auto inside = [from, now](const GroupEntry& e) {
      return e.bucket >= from && e.bucket <= now;
    };
    // Dropped entries lie in the cut's bucket or before it.
    r.estimated = t.truncated && t.cut.bucket >= from;
    const std::vector<GroupEntry>& v = t.entries;
    if (k == AggregateKind::mode) {
      // Candidates m are the window's values, ascending (entries are sorted by value, then
      // bucket). Both ends of m's interval, m·U ∓ tolerance·|m| (U = kToleranceUnit), never
      // decrease as m grows (tolerance <= U), so two cursors sweep the entries once:
      // [lo_i, hi_i) are the entries whose values lie in the current m's interval.
      constexpr i128 kUnit = kToleranceUnit;
      const auto scaled = [&v](size_t i) {
        return static_cast<i128>(key_value(v[i].group)) * kUnit;
      };
      const auto in_window = [&inside](const GroupEntry& e) { return inside(e) ? e.low : 0; };
      size_t lo_i = 0, hi_i = 0;
      u128 near = 0, best = 0;
      int64_t mode = 0;
      for (size_t i = 0; i < v.size();) {
        const uint64_t key = v[i].group;
        u128 c = 0;
        for (; i < v.size() && v[i].group == key; ++i) c += in_window(v[i]);
        if (c == 0) continue;
        const int64_t m = key_value(key);
        const i128 slack = static_cast<i128>(tolerance) * (m < 0 ? -static_cast<i128>(m) : m);
        const i128 low_end = static_cast<i128>(m) * kUnit - slack;
        const i128 high_end = static_cast<i128>(m) * kUnit + slack;
        for (; hi_i < v.size() && scaled(hi_i) <= high_end; ++hi_i) near += in_window(v[hi_i]);
        for (; lo_i < hi_i && scaled(lo_i) < low_end; ++lo_i) near -= in_window(v[lo_i]);
        if (near > best) {  // ties keep the smaller m
          best = near;
          mode = m;
        }
      }
      if (n == 0) return r;
      r.defined = true;
      r.exact = mode;
      r.number = static_cast<double>(static_cast<long double>(best) / static_cast<long double>(n));
      return r;
    }
    i128 best = 0;
    for (size_t i = 0; i < v.size();) {
      const uint64_t g = v[i].group;
      i128 total = 0;
      bool any = false;
      for (; i < v.size() && v[i].group == g; ++i) {
        if (!inside(v[i])) continue;
        any = true;
        total = k == AggregateKind::max_by_sum ? detail::sat_add(total, total_of(v[i])) : total + 1;
      }
      if (any && (!r.defined || total > best)) best = total;
      r.defined |= any;
    }
    r.exact = clamp64(best);
    r.number = static_cast<double>(best);
    return r;
  }

  // --- one aggregate over buckets [i0, i1) -------------------------------------------------
  // Templated on the width so the loops are plain loads and adds. Window accumulators are
  // wide enough never to overflow for real states: Σ of bucket counts in 128 bits, Σx in
  // 128 bits (saturating only for forged wide states), Σx² in 256 bits.

  // Acc: the type that sums bucket counts; 64 bits suffice for narrow counts (< 2^32 each)
  // over fewer than 2^32 buckets, and cost one add per bucket instead of two.
  template <bool W, class Acc = u128>
  static AggregateResult result(const Self& s, const Layout& l, size_t a, size_t i0, size_t i1) {
    using Count = std::conditional_t<W, uint64_t, uint32_t>;
    constexpr uint32_t c = count_bytes(W), sb = sum_bytes(W);
    AggregateResult r;
    const AggregateKind k = l.kind[a];
    const unsigned char* base = s.block_.data() + l.offset[a];
    const size_t rs = l.record;
    const unsigned char* const first = base + i0 * rs;
    const unsigned char* const last = base + i1 * rs;
    Acc n = 0;
    switch (k) {
      case AggregateKind::distinct:
      case AggregateKind::max_by_sum:
      case AggregateKind::max_by_distinct:
        break;  // handled by the caller
      case AggregateKind::count:
      case AggregateKind::mode: {  // mode: its inputs (the rest is the caller's)
        for (const unsigned char* p = first; p != last; p += rs) n += load<Count>(p);
        r.defined = n > 0;
        r.exact = clamp64(static_cast<i128>(n));
        r.number = static_cast<double>(n);
        break;
      }
      case AggregateKind::sum:
      case AggregateKind::mean: {
        i128 sum = 0;
        for (const unsigned char* p = first; p != last; p += rs) {
          n += load<Count>(p);
          if constexpr (W)
            sum = detail::sat_add(sum, load<i128>(p + c));
          else
            sum += load<int64_t>(p + c);  // < 2^63 per bucket: cannot overflow
        }
        if (n == 0) break;
        r.defined = true;
        if (k == AggregateKind::sum) {
          r.exact = clamp64(sum);
          r.number = static_cast<double>(sum);
        } else {
          r.number =
              static_cast<double>(static_cast<long double>(sum) / static_cast<long double>(n));
        }
        break;
      }
      case AggregateKind::stddev:
      case AggregateKind::cv: {
        i128 sum = 0;
        // Σx² in 256 bits (low, high): at most 2^64 buckets of < 2^192 each, no overflow.
        u128 low = 0, high = 0;
        for (const unsigned char* p = first; p != last; p += rs) {
          const Count bn = load<Count>(p);
          if (bn == 0) continue;
          n += bn;
          if constexpr (W) {
            sum = detail::sat_add(sum, load<i128>(p + c));
            const U192 q = load<U192>(p + c + sb);
            const u128 q_low = q.low128();
            low += q_low;
            high += q.w[2] + static_cast<u128>(low < q_low);
          } else {
            sum += load<int64_t>(p + c);
            const u128 q = load<u128>(p + c + sb);
            low += q;
            high += low < q;
          }
        }
        if (n == 0) break;
        UInt<4> squares;
        squares.w[0] = static_cast<uint64_t>(low);
        squares.w[1] = static_cast<uint64_t>(low >> 64);
        squares.w[2] = static_cast<uint64_t>(high);
        squares.w[3] = static_cast<uint64_t>(high >> 64);
        r.defined = true;
        // n·Σx² − (Σx)² exactly (>= 0 by Cauchy-Schwarz; clamped for forged states).
        const auto n_squares = detail::mul(UInt<2>::from(n), squares);
        const u128 m = detail::magnitude(sum);
        const auto sum_squared = detail::widen<6>(detail::mul(UInt<2>::from(m), UInt<2>::from(m)));
        const long double root =
            std::sqrt(detail::sub_or_zero(n_squares, sum_squared).to_long_double());
        if (k == AggregateKind::stddev)
          r.number = static_cast<double>(root / static_cast<long double>(n));
        else
          r.number = sum == 0 ? 0.0 : static_cast<double>(root / static_cast<long double>(sum));
        break;
      }
      case AggregateKind::min:
      case AggregateKind::max: {
        int64_t best = 0;
        for (const unsigned char* p = first; p != last; p += rs) {
          if (load<Count>(p) == 0) continue;
          const int64_t v = load<int64_t>(p + c);
          if (!r.defined || (k == AggregateKind::min ? v < best : v > best)) best = v;
          r.defined = true;
        }
        r.exact = best;
        r.number = static_cast<double>(best);
        break;
      }
      case AggregateKind::last: {
        for (const unsigned char* p = last; p != first;) {
          p -= rs;
          if (load<Count>(p) == 0) continue;
          r.defined = true;
          r.exact = load<int64_t>(p + c + 8);
          r.number = static_cast<double>(r.exact);
          break;
        }
        break;
      }
      case AggregateKind::share: {
        Acc flagged = 0;
        for (const unsigned char* p = first; p != last; p += rs) {
          n += load<Count>(p);
          flagged += load<Count>(p + c);
        }
        if (n == 0) break;
        r.defined = true;
        r.exact = clamp64(static_cast<i128>(flagged));
        r.number =
            static_cast<double>(static_cast<long double>(flagged) / static_cast<long double>(n));
        break;
      }
    }
    return r;
  }

  // --- add and results, after validation ----------------------------------------------------

  static void add(Self& s, const WindowLayout& layout, int64_t ts_ms,
                  std::span<const AggregateInput> inputs) {
    if (std::none_of(inputs.begin(), inputs.end(), [](const auto& in) { return in.matched; }))
      return;
    const WindowSpec& window = layout.window_;
    const int64_t b = bucket_start(ts_ms, window.bucket_ms);
    if (!s.empty()) {
      const int64_t newest = newest_start(s);
      if (static_cast<i128>(b) <= static_cast<i128>(newest) - window.length_ms) return;  // too old
      if (b > newest) drop_through(s, static_cast<i128>(b) - window.length_ms);
    }
    if (s.empty()) adopt(s, layout.narrow_);
    const size_t at = find_or_insert(s, b);
    unsigned char* rec = s.block_.data() + at;
    if (!s.wide_) {
      // Applied to a copy of the record, kept only when nothing overflowed (apply stops at
      // the first overflow, leaving what it wrote before); otherwise the state widens.
      alignas(16) unsigned char copy[kMaxNarrowRecord];
      std::memcpy(copy, rec, s.record_size_);
      if (apply(copy, layout.narrow_, inputs, ts_ms)) {
        std::memcpy(rec, copy, s.record_size_);
      } else {
        const size_t idx = at / s.record_size_;
        convert(s, layout.narrow_, layout.wide_);
        rec = s.block_.data() + idx * s.record_size_;
        apply(rec, layout.wide_, inputs, ts_ms);
      }
    } else {
      apply(rec, layout.wide_, inputs, ts_ms);
    }
    const Layout& l = s.wide_ ? layout.wide_ : layout.narrow_;
    if (l.n_sides == 0) return;
    for (size_t i = 0; i < l.n; ++i) {
      if (!inputs[i].matched) continue;
      const AggregateKind k = l.kind[i];
      if (k == AggregateKind::distinct)
        distinct_add(s.block_.sides()[l.side_index[i]], inputs[i].hash, b, layout.exact_bound_[i]);
      else if (is_group_kind(k))
        group_add(*s.block_.sides()[l.side_index[i]].groups, k, inputs[i], b,
                  layout.exact_bound_[i]);
    }
  }

  static void results(const Self& s, const WindowLayout& layout, int64_t now_ms,
                      std::span<AggregateResult> out, uint32_t mask = ~uint32_t{0}) {
    if (s.empty()) {
      for (size_t a = 0; a < out.size(); ++a)
        if ((mask >> a) & 1) out[a] = AggregateResult{};
      return;
    }
    const Layout& l = s.wide_ ? layout.wide_ : layout.narrow_;
    const i128 lo = static_cast<i128>(now_ms) - layout.window_.length_ms;
    const size_t nb = bucket_count(s);
    // The common case, an event in the newest bucket: every stored bucket is in the window.
    const bool whole = oldest_start(s) > lo && newest_start(s) <= now_ms;
    const size_t i0 = whole ? 0 : upper(s, lo);
    const size_t i1 = whole ? nb : std::max(i0, upper(s, now_ms));
    const auto bucketed = [&](size_t a) {
      return s.wide_                 ? result<true>(s, l, a, i0, i1)
             : i1 - i0 <= UINT32_MAX ? result<false, uint64_t>(s, l, a, i0, i1)
                                     : result<false>(s, l, a, i0, i1);
    };
    for (unsigned m = mask & ((uint32_t{1} << l.n) - 1); m != 0; m &= m - 1) {
      const auto a = static_cast<size_t>(std::countr_zero(m));
      const AggregateKind k = l.kind[a];
      if (((l.sided >> a) & 1) == 0) {
        out[a] = bucketed(a);
      } else if (k == AggregateKind::distinct) {
        out[a] =
            distinct_result(s.block_.sides()[l.side_index[a]], lo, now_ms, i0 == 0 && i1 == nb);
      } else {
        const uint64_t n = k == AggregateKind::mode ? static_cast<uint64_t>(bucketed(a).exact) : 0;
        out[a] = group_result(*s.block_.sides()[l.side_index[a]].groups, k, lo, now_ms, n,
                              layout.tolerance_[a]);
      }
    }
  }

  // --- serialisation -----------------------------------------------------------------------

  static bool any_group_kind(const Layout& l) noexcept {
    for (size_t a = 0; a < l.n; ++a)
      if (is_group_kind(l.kind[a])) return true;
    return false;
  }

  static void write_group_key(detail::Writer& w, const Self& s, AggregateKind k,
                              const GroupEntry& e) {
    if (k == AggregateKind::mode) {
      w.s64(key_value(e.group));
    } else {
      w.fixed64(e.group);
      if (k == AggregateKind::max_by_distinct) w.fixed64(e.low);
    }
    w.u64(lower(s, e.bucket));  // always a stored bucket
  }

  static bool read_group_key(detail::Reader& r, AggregateKind k, const std::vector<int64_t>& starts,
                             GroupEntry& e, size_t& index) {
    e = GroupEntry{};
    if (k == AggregateKind::mode) {
      int64_t v;
      if (!r.s64(v)) return false;
      e.group = value_key(v);
    } else {
      if (!r.fixed64(e.group)) return false;
      if (k == AggregateKind::max_by_distinct && !r.fixed64(e.low)) return false;
    }
    uint64_t i;
    if (!r.u64(i) || i >= starts.size()) return false;
    index = static_cast<size_t>(i);
    e.bucket = starts[index];
    return true;
  }

  static void write(const Self& s, std::string& out) {
    out.clear();
    detail::Writer w(out);
    if (s.n_aggs_ == 0) {
      w.byte(kFormatVersion);
      w.u64(0);
      return;
    }
    const Layout l = layout(s);
    w.byte(any_group_kind(l) ? kFormatVersionGroups : kFormatVersion);
    w.u64(l.n);
    for (size_t a = 0; a < l.n; ++a) w.byte(static_cast<uint8_t>(l.kind[a]));
    const size_t nb = bucket_count(s);
    w.u64(nb);
    for (size_t i = 0; i < nb; ++i) {
      const unsigned char* rec = s.block_.data() + i * l.record;
      const int64_t st = load<int64_t>(rec);
      if (i == 0)
        w.s64(st);
      else
        w.u64(static_cast<uint64_t>(st) - static_cast<uint64_t>(start(s, i - 1)));
      for (size_t a = 0; a < l.n; ++a) {
        const AggregateKind k = l.kind[a];
        if (has_no_partial(k)) continue;
        const Partial p = read_partial(rec + l.offset[a], k, l.wide);
        w.u64(p.n);
        if (p.n == 0) continue;
        switch (k) {
          case AggregateKind::count:
          case AggregateKind::distinct:
          case AggregateKind::max_by_sum:
          case AggregateKind::max_by_distinct:
          case AggregateKind::mode:
            break;
          case AggregateKind::sum:
          case AggregateKind::mean:
            w.s128(p.sum);
            break;
          case AggregateKind::min:
          case AggregateKind::max:
            w.s64(p.a);
            break;
          case AggregateKind::stddev:
          case AggregateKind::cv:
            w.s128(p.sum);
            w.uint(p.squares);
            break;
          case AggregateKind::last:
            w.s64(p.a);
            w.s64(p.b);
            break;
          case AggregateKind::share:
            w.u64(p.flagged);
            break;
        }
      }
    }
    for (size_t a = 0; a < l.n; ++a) {
      const AggregateKind k = l.kind[a];
      if (k != AggregateKind::distinct && !is_group_kind(k)) continue;
      const Side& d = s.block_.sides()[l.side_index[a]];
      if (d.groups) {
        const GroupTable& t = *d.groups;
        w.byte(t.truncated ? 1 : 0);
        if (t.truncated) write_group_key(w, s, k, t.cut);
        w.u64(t.entries.size());
        for (const GroupEntry& e : t.entries) {
          write_group_key(w, s, k, e);
          if (k == AggregateKind::max_by_sum) w.s128(total_of(e));
          if (k == AggregateKind::mode) w.u64(e.low);
        }
        continue;
      }
      w.byte(d.sketch ? 1 : 0);
      w.u64(d.entries.size());
      for (const Entry& e : d.entries) {
        if (d.sketch) {
          w.u64(e.key >> 8);
          w.byte(static_cast<uint8_t>(e.key & 0xff));
        } else {
          w.fixed64(e.key);
        }
        w.u64(lower(s, e.bucket));  // always a stored bucket
      }
    }
  }

  static bool read_group_table(detail::Reader& r, AggregateKind k,
                               const std::vector<int64_t>& starts, GroupTable& t) {
    uint8_t truncated;
    size_t index;
    if (!r.byte(truncated) || truncated > 1) return false;
    t.truncated = truncated == 1;
    if (t.truncated && !read_group_key(r, k, starts, t.cut, index)) return false;
    uint64_t count;
    if (!r.u64(count) || count > r.remaining() || (t.truncated && count == 0)) return false;
    t.entries.reserve(count);
    for (uint64_t j = 0; j < count; ++j) {
      GroupEntry e;
      if (!read_group_key(r, k, starts, e, index)) return false;
      if (k == AggregateKind::max_by_sum) {
        i128 total;
        if (!r.s128(total)) return false;
        set_total(e, total);
      } else if (k == AggregateKind::mode) {
        if (!r.u64(e.low) || e.low == 0) return false;
      }
      if (!t.entries.empty() && !before(k, t.entries.back(), e)) return false;
      if (t.truncated && !older(k, t.cut, e)) return false;
      t.entries.push_back(e);
    }
    return true;
  }

  // mode's entries count exactly the aggregate's inputs of each bucket, except where the
  // bound dropped some: at most that many in the cut's bucket, none before it.
  static bool mode_counts_match(const Self& s, const Layout& l, size_t a,
                                const std::vector<int64_t>& starts, const GroupTable& t) {
    std::vector<u128> counts(starts.size(), 0);
    for (const GroupEntry& e : t.entries) counts[lower(s, e.bucket)] += e.low;
    for (size_t i = 0; i < starts.size(); ++i) {
      const uint64_t n = get_count(s.block_.data() + i * l.record + l.offset[a], l.wide);
      if (counts[i] > n) return false;
      const bool complete = !t.truncated || starts[i] > t.cut.bucket;
      if (complete ? counts[i] != n : (starts[i] < t.cut.bucket && counts[i] != 0)) return false;
    }
    return true;
  }

  static bool read(Self& s, std::string_view in) {
    detail::Reader r(in);
    uint8_t version;
    uint64_t n_aggs;
    if (!r.byte(version) || (version != kFormatVersion && version != kFormatVersionGroups) ||
        !r.u64(n_aggs))
      return false;
    if (n_aggs == 0) return version == kFormatVersion && r.at_end();  // s is empty
    if (n_aggs > kMaxAggregates) return false;
    std::array<AggregateKind, kMaxAggregates> kinds;
    for (size_t a = 0; a < n_aggs; ++a) {
      uint8_t k;
      if (!r.byte(k) || k >= kKinds) return false;
      kinds[a] = static_cast<AggregateKind>(k);
    }
    const Layout l = make_layout(std::span(kinds.data(), n_aggs), /*wide=*/true);
    if (any_group_kind(l) != (version == kFormatVersionGroups)) return false;
    adopt(s, l);
    uint64_t nb;
    if (!r.u64(nb) || nb == 0 || nb > r.remaining()) return false;
    std::vector<int64_t> starts;  // for the distinct entries' bucket indices
    starts.reserve(nb);
    s.block_.reserve(nb * l.record);  // nb <= input bytes, a record <= 48 bytes per input byte
    std::vector<unsigned char> rec(l.record);
    for (uint64_t i = 0; i < nb; ++i) {
      std::fill(rec.begin(), rec.end(), 0);
      int64_t st;
      if (i == 0) {
        if (!r.s64(st)) return false;
      } else {
        uint64_t delta;
        if (!r.u64(delta) || delta == 0) return false;
        const i128 next = static_cast<i128>(starts.back()) + delta;
        if (next > std::numeric_limits<int64_t>::max()) return false;
        st = static_cast<int64_t>(next);
      }
      starts.push_back(st);
      store(rec.data(), st);
      for (size_t a = 0; a < l.n; ++a) {
        const AggregateKind k = l.kind[a];
        if (has_no_partial(k)) continue;
        Partial p;
        if (!r.u64(p.n)) return false;
        if (p.n > 0) {
          bool ok = true;
          switch (k) {
            case AggregateKind::count:
            case AggregateKind::distinct:
            case AggregateKind::max_by_sum:
            case AggregateKind::max_by_distinct:
            case AggregateKind::mode:
              break;
            case AggregateKind::sum:
            case AggregateKind::mean:
              ok = r.s128(p.sum);
              break;
            case AggregateKind::min:
            case AggregateKind::max:
              ok = r.s64(p.a);
              break;
            case AggregateKind::stddev:
            case AggregateKind::cv:
              ok = r.s128(p.sum) && r.uint(p.squares, 192);
              break;
            case AggregateKind::last:
              ok = r.s64(p.a) && r.s64(p.b);
              break;
            case AggregateKind::share:
              ok = r.u64(p.flagged) && p.flagged <= p.n;
              break;
          }
          if (!ok) return false;
        }
        write_partial(rec.data() + l.offset[a], k, true, p);
      }
      s.block_.append(rec.data(), rec.size());
    }
    for (size_t a = 0; a < l.n; ++a) {
      const AggregateKind k = l.kind[a];
      if (k != AggregateKind::distinct && !is_group_kind(k)) continue;
      Side& d = s.block_.sides()[l.side_index[a]];
      if (d.groups) {
        if (!read_group_table(r, k, starts, *d.groups)) return false;
        if (k == AggregateKind::mode && !mode_counts_match(s, l, a, starts, *d.groups))
          return false;
        continue;
      }
      uint8_t mode;
      uint64_t count;
      if (!r.byte(mode) || mode > 1 || !r.u64(count) || count > r.remaining()) return false;
      d.sketch = mode == 1;
      if (d.sketch && count == 0) return false;
      d.entries.reserve(count);
      for (uint64_t j = 0; j < count; ++j) {
        uint64_t key, index;
        if (d.sketch) {
          uint64_t reg;
          uint8_t rank;
          if (!r.u64(reg) || reg >= detail::kHllM || !r.byte(rank) || rank == 0 ||
              rank > detail::kHllQ + 1)
            return false;
          key = reg << 8 | rank;
        } else if (!r.fixed64(key)) {
          return false;
        }
        if (!r.u64(index) || index >= nb) return false;
        const int64_t bucket = starts[index];
        if (!d.entries.empty()) {
          const Entry& prev = d.entries.back();
          if (prev.key >= key) return false;
          if (d.sketch && (prev.key >> 8) == (key >> 8) && prev.bucket <= bucket) return false;
        }
        d.entries.push_back(Entry{key, bucket});
      }
    }
    if (!r.at_end()) return false;
    if (all_fit_narrow(s, l)) convert(s, l, layout_of_packed(l.kinds, l.n, false));
    return true;
  }
};

// --- the state's block --------------------------------------------------------------------

WindowedAggregates::Block::Block(const Block& o) {
  if (o.n_sides_ == 0 && o.size_ == 0) return;  // spare room is not copied
  const size_t sides = o.n_sides_ * sizeof(Side);
  p_ = static_cast<unsigned char*>(::operator new(sides + o.size_));
  size_t made = 0;
  try {
    for (; made < o.n_sides_; ++made) new (side_data() + made) Side(o.side_data()[made]);
  } catch (...) {
    for (size_t i = 0; i < made; ++i) side_data()[i].~Side();
    ::operator delete(p_, sides + o.size_);
    p_ = nullptr;
    throw;
  }
  n_sides_ = o.n_sides_;
  size_ = cap_ = o.size_;
  if (size_ != 0) std::memcpy(records(), o.records(), size_);
}

WindowedAggregates::Block::Block(Block&& o) noexcept
    : p_(std::exchange(o.p_, nullptr)),
      size_(std::exchange(o.size_, 0)),
      cap_(std::exchange(o.cap_, 0)),
      n_sides_(std::exchange(o.n_sides_, 0)) {}

WindowedAggregates::Block& WindowedAggregates::Block::operator=(const Block& o) {
  if (this != &o) *this = Block(o);
  return *this;
}

WindowedAggregates::Block& WindowedAggregates::Block::operator=(Block&& o) noexcept {
  if (this != &o) {
    clear(true);
    p_ = std::exchange(o.p_, nullptr);
    size_ = std::exchange(o.size_, 0);
    cap_ = std::exchange(o.cap_, 0);
    n_sides_ = std::exchange(o.n_sides_, 0);
  }
  return *this;
}

WindowedAggregates::Block::~Block() { clear(true); }

size_t WindowedAggregates::Block::block_bytes() const noexcept {
  return p_ == nullptr ? 0 : n_sides_ * sizeof(Side) + cap_;
}

void WindowedAggregates::Block::clear(bool free) noexcept {
  if (p_ == nullptr) return;
  for (Side& d : sides()) d.~Side();
  const size_t bytes = block_bytes();
  n_sides_ = 0;
  size_ = 0;
  if (free) {
    ::operator delete(p_, bytes);
    p_ = nullptr;
    cap_ = 0;
  } else {
    cap_ = static_cast<uint32_t>(bytes);  // the tables' bytes are room for records now
  }
}

void WindowedAggregates::Block::assign(size_t n_sides, size_t record_room) {
  clear(false);
  const size_t need = n_sides * sizeof(Side) + record_room;
  if (p_ != nullptr && cap_ < need) clear(true);
  if (p_ == nullptr) {
    if (need > UINT32_MAX) throw std::length_error("window state: buckets beyond 4 GiB");
    p_ = static_cast<unsigned char*>(::operator new(need));
    cap_ = static_cast<uint32_t>(need);
  }
  // Nothing below throws: the tables are default-constructed in place.
  static_assert(std::is_nothrow_default_constructible_v<Side>);
  for (size_t i = 0; i < n_sides; ++i) new (side_data() + i) Side();
  n_sides_ = static_cast<uint8_t>(n_sides);
  cap_ -= static_cast<uint32_t>(n_sides * sizeof(Side));
}

void WindowedAggregates::Block::relocate(size_t cap) {
  if (cap > UINT32_MAX) throw std::length_error("window state: buckets beyond 4 GiB");
  const size_t sides = n_sides_ * sizeof(Side);
  auto* fresh = static_cast<unsigned char*>(::operator new(sides + cap));
  if (p_ != nullptr) {
    static_assert(std::is_nothrow_move_constructible_v<Side>);
    auto* to = reinterpret_cast<Side*>(fresh);
    for (size_t i = 0; i < n_sides_; ++i) {
      new (to + i) Side(std::move(side_data()[i]));
      side_data()[i].~Side();
    }
    if (size_ != 0) std::memcpy(fresh + sides, records(), size_);
    ::operator delete(p_, sides + cap_);
  }
  p_ = fresh;
  cap_ = static_cast<uint32_t>(cap);
}

void WindowedAggregates::Block::reserve(size_t bytes) {
  if (bytes > cap_) relocate(bytes);
}

void WindowedAggregates::Block::shrink_to_fit() {
  if (cap_ == size_) return;
  if (size_ == 0 && n_sides_ == 0) {
    clear(true);
    return;
  }
  relocate(size_);
}

void WindowedAggregates::Block::insert_zeros(size_t at, size_t n) {
  if (size_ + n > cap_) relocate(size_ + n);
  unsigned char* r = records();
  std::memmove(r + at + n, r + at, size_ - at);
  std::memset(r + at, 0, n);
  size_ += static_cast<uint32_t>(n);
}

void WindowedAggregates::Block::append(const unsigned char* p, size_t n) {
  if (n == 0) return;
  if (size_ + n > cap_) relocate(size_ + n);
  std::memcpy(records() + size_, p, n);
  size_ += static_cast<uint32_t>(n);
}

void WindowedAggregates::Block::replace_records(const unsigned char* p, size_t n) {
  size_ = 0;
  if (cap_ != n) relocate(n);
  if (n != 0) std::memcpy(records(), p, n);
  size_ = static_cast<uint32_t>(n);
}

void WindowedAggregates::Block::erase_front(size_t n) noexcept {
  if (n == 0) return;
  unsigned char* r = records();
  std::memmove(r, r + n, size_ - n);
  size_ -= static_cast<uint32_t>(n);
}

WindowLayout WindowLayout::make(std::span<const AggregateSpec> specs, const WindowSpec& window) {
  check_window(window);
  if (specs.size() > kMaxAggregates)
    throw std::invalid_argument("window state: more than 16 aggregates");
  WindowLayout w;
  Layout& narrow = w.narrow_;
  Layout& wide = w.wide_;
  wide.wide = true;
  narrow.n = wide.n = static_cast<uint8_t>(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    const AggregateKind k = specs[i].kind;
    if (static_cast<uint8_t>(k) >= kKinds)
      throw std::invalid_argument("window state: unknown aggregate kind");
    narrow.kind[i] = wide.kind[i] = k;
    narrow.offset[i] = narrow.record;
    wide.offset[i] = wide.record;
    narrow.record += partial_bytes(k, false);
    wide.record += partial_bytes(k, true);
    const auto bit = static_cast<uint16_t>(1u << i);
    if (k == AggregateKind::distinct || is_group_kind(k)) {
      narrow.side_index[i] = wide.side_index[i] = narrow.n_sides++;
      wide.n_sides = narrow.n_sides;
      narrow.sided |= bit;
    }
    if (is_group_kind(k)) narrow.grouped |= bit;
    if (has_no_partial(k)) narrow.unbucketed |= bit;
    if (is_group_kind(k) && specs[i].exact_bound == 0)
      throw std::invalid_argument("window state: a max_by or mode aggregate keeps >= 1 entry");
    if (k == AggregateKind::mode && specs[i].tolerance > kToleranceUnit)
      throw std::invalid_argument("window state: a mode tolerance above 100 %");
    narrow.kinds |= (static_cast<uint64_t>(k) + 1) << (4 * i);
    w.exact_bound_[i] = specs[i].exact_bound;
    w.tolerance_[i] = specs[i].tolerance;
  }
  wide.kinds = narrow.kinds;
  wide.sided = narrow.sided;
  wide.grouped = narrow.grouped;
  wide.unbucketed = narrow.unbucketed;
  w.window_ = window;
  w.made_ = true;
  return w;
}

void WindowedAggregates::add(std::span<const AggregateSpec> specs, const WindowSpec& window,
                             int64_t ts_ms, std::span<const AggregateInput> inputs) {
  check_window(window);
  if (inputs.size() != specs.size())
    throw std::invalid_argument("window state: one input per aggregate");
  add(WindowLayout::make(specs, window), ts_ms, inputs);
}

void WindowedAggregates::results(std::span<const AggregateSpec> specs, const WindowSpec& window,
                                 int64_t now_ms, std::span<AggregateResult> out) const {
  check_window(window);
  if (out.size() != specs.size())
    throw std::invalid_argument("window state: one result per aggregate");
  results(WindowLayout::make(specs, window), now_ms, out);
}

bool WindowedAggregates::expire(const WindowSpec& window, int64_t watermark_ms) {
  check_window(window);
  Impl::drop_through(*this, static_cast<i128>(watermark_ms) - window.length_ms);
  if (empty()) {
    Impl::reset(*this, true);
    return true;
  }
  // Give memory back after a burst, with slack: a small state that shrank by a bucket or
  // two keeps its capacity, so that the next event does not reallocate it and every expiry
  // pass does not shrink it again.
  constexpr size_t kSlackBytes = 256;
  const auto oversized = [](size_t capacity_bytes, size_t size_bytes) {
    return capacity_bytes > 2 * size_bytes && capacity_bytes - size_bytes > kSlackBytes;
  };
  if (oversized(block_.capacity(), block_.size())) block_.shrink_to_fit();
  for (Side& d : block_.sides()) {
    if (oversized(d.entries.capacity() * sizeof(Entry), d.entries.size() * sizeof(Entry)))
      d.entries.shrink_to_fit();
    if (d.groups && oversized(d.groups->entries.capacity() * sizeof(GroupEntry),
                              d.groups->entries.size() * sizeof(GroupEntry)))
      d.groups->entries.shrink_to_fit();
  }
  return false;
}

void WindowedAggregates::add(const WindowLayout& layout, int64_t ts_ms,
                             std::span<const AggregateInput> inputs) {
  Impl::check_made(layout);
  if (inputs.size() != layout.size())
    throw std::invalid_argument("window state: one input per aggregate");
  Impl::check_kinds(*this, layout.narrow_);
  Impl::add(*this, layout, ts_ms, inputs);
}

void WindowedAggregates::results(const WindowLayout& layout, int64_t now_ms,
                                 std::span<AggregateResult> out) const {
  results(layout, now_ms, out, ~uint32_t{0});
}

bool WindowedAggregates::expire(const WindowLayout& layout, int64_t watermark_ms) {
  Impl::check_made(layout);
  return expire(layout.window_, watermark_ms);
}

void WindowedAggregates::add_and_results(const WindowLayout& layout, int64_t ts_ms,
                                         std::span<const AggregateInput> inputs,
                                         std::span<AggregateResult> out) {
  add_and_results(layout, ts_ms, inputs, out, ~uint32_t{0});
}

void WindowedAggregates::add_and_results(const WindowLayout& layout, int64_t ts_ms,
                                         std::span<const AggregateInput> inputs,
                                         std::span<AggregateResult> out, uint32_t mask) {
  Impl::check_made(layout);
  if (inputs.size() != layout.size())
    throw std::invalid_argument("window state: one input per aggregate");
  if (out.size() != layout.size())
    throw std::invalid_argument("window state: one result per aggregate");
  Impl::check_kinds(*this, layout.narrow_);
  Impl::add(*this, layout, ts_ms, inputs);
  Impl::results(*this, layout, ts_ms, out, mask);
}

void WindowedAggregates::results(const WindowLayout& layout, int64_t now_ms,
                                 std::span<AggregateResult> out, uint32_t mask) const {
  Impl::check_made(layout);
  if (out.size() != layout.size())
    throw std::invalid_argument("window state: one result per aggregate");
  Impl::check_kinds(*this, layout.narrow_);
  Impl::results(*this, layout, now_ms, out, mask);
}

bool WindowedAggregates::empty() const noexcept { return block_.empty(); }

size_t WindowedAggregates::memory_bytes() const noexcept {
  size_t bytes = block_.block_bytes();
  for (const Side& d : block_.sides()) {
    bytes += d.entries.heap_bytes();
    if (d.groups) bytes += sizeof(GroupTable) + d.groups->entries.capacity() * sizeof(GroupEntry);
  }
  return bytes;
}

void WindowedAggregates::serialize(std::string& out) const { Impl::write(*this, out); }

bool WindowedAggregates::deserialize(std::string_view in) {
  WindowedAggregates fresh;
  if (!Impl::read(fresh, in)) return false;
  *this = std::move(fresh);
  return true;
}

uint64_t hash64(std::string_view bytes) noexcept { return XXH3_64bits(bytes.data(), bytes.size()); }

}  // namespace corridor::rules::window
