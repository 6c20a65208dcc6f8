// Sliding event-time windows of aggregates for one (rule, key): the state a windowed rule
// keeps per entity. Kept as time buckets (DESIGN §6): exact at bucket granularity, only
// non-empty buckets stored, nothing allocated per event once an entity's state has grown.
//
// No third-party headers; serialisable (the RocksDB issue persists it byte for byte).
//
// Semantics in one place (README.md beside this file has the layout and the reasoning):
// - Bucket of an event: start = floor(ts / bucket_ms) * bucket_ms (also for negative ts).
//   A timestamp within one bucket of INT64_MIN whose bucket start is not representable
//   lands in the lowest representable bucket.
// - Window ending at `now`: the buckets with now - length_ms < start <= now, i.e. the
//   length_ms / bucket_ms buckets ending with the one that holds `now`. Error bound (exact
//   at bucket granularity): no event older than the window is ever counted; events up to
//   bucket_ms - 1 ms younger than now - length_ms (in the bucket that just left) are not
//   counted; events after `now` in now's own bucket are counted (they exist only when
//   results are asked for a time before the newest event). Default buckets: length / 48,
//   so the window is short by less than 2.1 % of its length.
// - Exact integers everywhere except where noted; per bucket the partials are exact (counts
//   and sums never wrap: when one would overflow, the state widens all its counters from
//   32 to 64-bit counts, 64 to 128-bit sums and 128 to 192-bit sums of squares).
//   A window's sum is computed in 128 bits; `exact` is clamped to the int64 range and
//   `number` carries the true sum rounded to double. A counter at 2^64-1 in one bucket
//   saturates (2^64 events in one bucket cannot happen; only a forged state could do it).
// - stddev, cv: population statistics from the exact moments n, Σx, Σx² (no cancellation):
//   stddev = sqrt(nΣx² - (Σx)²) / n, cv = sqrt(nΣx² - (Σx)²) / Σx (0 when Σx = 0; negative
//   when the mean is negative).
// - share = (events with matched && value != 0) / (events with matched). `exact` holds the
//   numerator. (Inputs are meant to be 0 or 1; any non-zero value counts as true.)
// - distinct: per window, a sorted set of (hash, bucket of its last sighting), exact up to
//   exact_bound values; one more distinct value switches the aggregate to a sliding
//   HyperLogLog (precision kDistinctSketchPrecision, Ertl's improved estimator, relative
//   standard error kDistinctSketchRelativeError ≈ 3.25 %), kept as per-register lists of
//   (rank, bucket) maxima that can still matter, so buckets expire out of the sketch too.
//   The sketch switches back to exact only when all its entries have expired. Because only
//   the last sighting of a value is kept, a window ending before the newest bucket counts
//   a value only if its last sighting lies inside that window (a lower bound; exact for
//   every window ending at or after the newest bucket start).
// - max_by_sum, max_by_distinct, mode keep a table of entries beside the buckets:
//   max_by_sum one per (group, bucket) with the group's exact sum in that bucket (128 bits);
//   max_by_distinct one per (group, value) with the bucket of its last sighting (so, like
//   distinct, a lower bound for windows ending before the newest bucket); mode one per
//   (value, bucket) with its count, plus a per-bucket count of its inputs. Results:
//   max_by_*: the largest total over the groups with an entry in the window (defined when
//   there is one; exact 0 otherwise). mode: m is the input value with the most inputs x
//   within |x - m| <= tolerance * |m| (ties: the smallest m), exact = m, number = those
//   inputs / all the window's inputs (defined when there is an input).
//   Bound: a table holds at most exact_bound entries. One more drops the oldest entry (by
//   bucket, then group hash, then value hash for max_by_distinct, or value for mode) and
//   remembers it as the cut; an event whose entry would not be newer than the cut is not
//   added to the table. The table is then exactly the exact_bound newest entries of all the
//   retained events (whatever their order), so it is order-independent too. A window that
//   reaches back to the cut's bucket reads `estimated`: a lower bound for max_by (inputs
//   >= 0) and mode's share (its denominator stays exact); mode's m is then the mode of the
//   kept entries. When expiry passes the cut's bucket the table is exact again.
// - Determinism: every partial is an exact function of the multiset of events in a bucket
//   (`last` ties aside: the later added wins), so results and serialisation do not depend
//   on the order in which events arrived, given the same final expire. The one exception:
//   whether a distinct aggregate is in sketch mode depends on whether its exact set ever
//   overflowed, which can depend on arrival order; results for windows ending at or after
//   the newest bucket are still order-independent within each mode.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rules/window/fetch.h"
#include "rules/window/small_vector.h"

namespace corridor::rules::window {

enum class AggregateKind : uint8_t {
  count,     // events (matching the aggregate's predicate)
  sum,       // exact sum of int64 inputs
  min,       // smallest int64 input
  max,       // largest int64 input
  mean,      // sum / count
  stddev,    // population standard deviation of the inputs
  cv,        // coefficient of variation: stddev / mean (0 when mean is 0)
  distinct,  // distinct 64-bit hashed values: exact up to `exact_bound`, then a sketch
  last,      // the input of the latest event (by event time; ties: the later added)
  share,     // fraction of the window's events whose input flag is true
  // Per-group and per-value aggregates: exact up to `exact_bound` entries, then the newest
  // entries only (see "max_by, mode" below).
  max_by_sum,       // the largest per-group sum of the inputs (a count: inputs of 1)
  max_by_distinct,  // the most distinct hashed values in one group
  mode,             // the modal input within a tolerance, and the share of inputs near it
};

struct AggregateSpec {
  AggregateKind kind = AggregateKind::count;
  // distinct: values counted exactly up to this many per window, then estimated with a
  // HyperLogLog sketch whose relative standard error is documented below.
  // max_by_sum, max_by_distinct, mode: entries kept (>= 1; see "max_by, mode" above).
  uint32_t exact_bound = 64;
  // mode only: the tolerance in 10^-4 of |m| (0 .. 10,000, i.e. 0 .. 100 %).
  uint32_t tolerance = 0;
};

// The engine's default bound on the entries of a max_by or mode aggregate.
inline constexpr uint32_t kDefaultGroupExactBound = 256;
// mode's tolerance is in these units of |m|: 1,000 = 10 %.
inline constexpr uint32_t kToleranceUnit = 10'000;

// The distinct sketch: 2^10 registers; relative standard error 1.04 / sqrt(1024) ≈ 3.25 %
// over the whole range (Ertl's estimator has no bias hump between small and large counts).
// Measured by the unit test at 1,000 / 10,000 / 100,000 distinct values.
inline constexpr int kDistinctSketchPrecision = 10;
inline constexpr double kDistinctSketchRelativeError = 0.0325;

// At most this many aggregates per window state (add/results throw beyond): the state keeps
// its kinds packed in one word, so that it describes itself when serialised.
inline constexpr size_t kMaxAggregates = 16;

struct WindowSpec {
  int64_t length_ms = 0;  // window length, > 0
  int64_t bucket_ms = 0;  // bucket granularity, > 0, divides length_ms (default length / 48)
};

// One event's contribution to one aggregate. The evaluator fills it from the rule's
// expressions; the window state only adds it up.
struct AggregateInput {
  bool matched = true;  // the aggregate's own predicate; false: the event does not count
  int64_t value = 0;    // sum/min/max/mean/stddev/cv/last/max_by_sum/mode: the input (money
                        // in 10^-4 units, integers as is; max_by of a count: 1); share: 1
                        // when the flag is true, else 0
  uint64_t hash = 0;    // distinct, max_by_distinct: a fixed 64-bit hash of the value
  uint64_t group = 0;   // max_by_sum, max_by_distinct: a fixed 64-bit hash of the group
};

// The aggregates of one window at one moment. Doubles only where the statistic is not a
// sum of exact inputs (mean, stddev, cv, share, estimated distinct).
struct AggregateResult {
  bool defined = false;    // false when no matching event is in the window (min, max, mean,
                           // stddev, cv, last, share have no value then; count/sum/distinct are 0)
  int64_t exact = 0;       // count, sum, min, max, last, exact distinct (rounded estimate when
                           // estimated); share: the events with the flag; mean/stddev/cv: 0;
                           // max_by_*: the largest group's total; mode: the modal value m
  double number = 0;       // mean, stddev, cv, share, distinct (also when exact); mode: the
                           // share of inputs near m; for the other kinds the value as a double
                           // (for sum and max_by_sum: the unclamped sum)
  bool estimated = false;  // distinct: computed from the sketch (past its exact bound);
                           // max_by_*, mode: entries of this window were dropped for the bound
};

namespace detail {
// Where each aggregate's partial sits in a bucket record, for one width. Private to
// rules/window; in this header only so that WindowLayout can hold it by value.
struct RecordLayout {
  // Only the first n entries are set.
  std::array<AggregateKind, kMaxAggregates> kind{};
  std::array<uint32_t, kMaxAggregates> offset{};
  std::array<uint8_t, kMaxAggregates> side_index{};  // distinct, max_by_*, mode: their table
  uint64_t kinds = 0;       // packed as in WindowedAggregates (kind + 1 per aggregate, 4 bits)
  uint32_t record = 8;      // bytes per bucket record: the int64 start, then the partials
  uint16_t unbucketed = 0;  // bit i: aggregate i has no per-bucket partial
  uint16_t sided = 0;       // bit i: aggregate i has a table beside the buckets
  uint16_t grouped = 0;     // bit i: ... and it is a max_by_* or mode (a GroupTable)
  uint8_t n = 0;
  uint8_t n_sides = 0;  // aggregates with a table beside the buckets
  bool wide = false;
};
}  // namespace detail

// The specs and window of one rule, validated and laid out once (at load) instead of on
// every call: the fast path of WindowedAggregates takes it in place of (specs, window).
// A default-constructed layout describes nothing; passing it throws std::invalid_argument.
class WindowLayout {
 public:
  WindowLayout() = default;

  // Validates like WindowedAggregates::add (std::invalid_argument: more than kMaxAggregates
  // specs, an unknown kind, a window with length_ms or bucket_ms <= 0 or bucket_ms not
  // dividing length_ms, a max_by_* or mode spec with exact_bound 0, a mode tolerance above
  // kToleranceUnit).
  static WindowLayout make(std::span<const AggregateSpec> specs, const WindowSpec& window);

  size_t size() const noexcept { return narrow_.n; }  // aggregates
  const WindowSpec& window() const noexcept { return window_; }

 private:
  friend class WindowedAggregates;
  detail::RecordLayout narrow_;
  detail::RecordLayout wide_;
  std::array<uint32_t, kMaxAggregates> exact_bound_{};
  std::array<uint32_t, kMaxAggregates> tolerance_{};
  WindowSpec window_{};
  bool made_ = false;
};

// The window state of one (rule, key). Events may arrive out of order within the allowed
// lateness: an event older than the window's current end still lands in its own bucket.
//
// The state does not store its specs: every call passes the same `specs` (same kinds in the
// same order) and the same `window`. A state remembers its kinds and throws
// std::invalid_argument when called with different ones (a config change must start new
// state; a changed bucket_ms or exact_bound is not detected and only makes results coarser). Also
// std::invalid_argument: inputs/out sizes differing from specs, more than kMaxAggregates specs, a
// window with length_ms or bucket_ms <= 0 or bucket_ms not dividing length_ms.
class WindowedAggregates {
 public:
  WindowedAggregates() = default;

  // Adds one event at event time `ts_ms` with one input per aggregate of `specs`
  // (inputs.size() == specs.size()). Buckets that fell out of the window relative to the
  // newest event time seen are dropped here: a bucket whose start is <= newest - length_ms.
  // An event whose own bucket is that old is ignored (it could only count in windows ending
  // before the newest event). An event that matches no aggregate changes nothing (no bucket,
  // and it does not advance "newest").
  void add(std::span<const AggregateSpec> specs, const WindowSpec& window, int64_t ts_ms,
           std::span<const AggregateInput> inputs);

  // Results over the window ending at `now_ms` (inclusive) and starting `length_ms` before
  // (exclusive), at bucket granularity: a bucket counts when its start lies after
  // now_ms - length_ms and at or before now_ms. out.size() == specs.size().
  void results(std::span<const AggregateSpec> specs, const WindowSpec& window, int64_t now_ms,
               std::span<AggregateResult> out) const;

  // Drops the buckets that can no longer be inside any window ending at or after
  // `watermark_ms` (start <= watermark_ms - length_ms) and the distinct values last seen in
  // them. Returns true when the state became empty (the caller may delete it).
  bool expire(const WindowSpec& window, int64_t watermark_ms);

  // The same with a layout made once per rule (WindowLayout::make with the same specs and
  // window): identical results and state, without re-validating and re-laying out on every
  // call. Throws std::invalid_argument like the calls above (kinds differing from the
  // state's, sizes differing from the layout's, a default-constructed layout).
  void add(const WindowLayout& layout, int64_t ts_ms, std::span<const AggregateInput> inputs);
  void results(const WindowLayout& layout, int64_t now_ms, std::span<AggregateResult> out) const;
  bool expire(const WindowLayout& layout, int64_t watermark_ms);
  // One event: exactly add(layout, ts_ms, inputs) followed by results(layout, ts_ms, out),
  // in one call (the evaluator's per-event path).
  void add_and_results(const WindowLayout& layout, int64_t ts_ms,
                       std::span<const AggregateInput> inputs, std::span<AggregateResult> out);
  // The same two calls computing only the results of the aggregates in `mask` (bit i: the
  // i-th spec); the other entries of `out` are left as they are. For an evaluator that needs
  // a rule's other aggregates only once a first condition on some of them holds.
  void add_and_results(const WindowLayout& layout, int64_t ts_ms,
                       std::span<const AggregateInput> inputs, std::span<AggregateResult> out,
                       uint32_t mask);
  void results(const WindowLayout& layout, int64_t now_ms, std::span<AggregateResult> out,
               uint32_t mask) const;

  bool empty() const noexcept;
  // Loads the lines of its heap block that an add reads first (the tables' headers, the
  // oldest bucket, which says whether any bucket expires, and the newest) with fetch_line, so
  // that a caller about to use several states can fetch them together. Changes nothing.
  void fetch() const noexcept {
    if (block_.empty()) return;
    const unsigned char* records = block_.data();
    fetch_line(block_.sides().data());
    fetch_line(records);
    fetch_line(records + block_.size() - record_size_);
    fetch_line(records + block_.size() - 1);
  }
  // The start of the state's heap block (nullptr without one): what dropping the state
  // reads first.
  const void* block() const noexcept { return block_.sides().data(); }
  // Heap bytes held: the capacity of the state's own allocations (allocator headers not
  // counted). For the state-size budget and metrics.
  size_t memory_bytes() const noexcept;

  // Byte-exact serialisation: replaces `out` with a versioned, little-endian, canonical
  // encoding (equal states give equal bytes). deserialize returns false on malformed,
  // truncated or non-canonical input and then leaves the state unchanged; every input it
  // accepts serialises back to the same bytes.
  void serialize(std::string& out) const;
  bool deserialize(std::string_view in);

 private:
  // Budget: an entity with 3 events in its window and 4 aggregates (count, sum, distinct,
  // share) holds at most ~200 heap bytes (176 in the layout below).
  //
  // Buckets: fixed-size records back to back, sorted by start: an int64 start, then each
  // aggregate's partials at an offset computed from the kinds. Counters and sums are
  // "narrow" (32-bit counts, 64-bit sums, 128-bit sums of squares) until one would overflow;
  // then the whole state turns "wide" (64 / 128 / 192 bits). distinct has no per-bucket
  // partial (its values live in `sides_`); max_by_* have none either (their tables do).
  struct Entry {
    uint64_t key;    // exact: the hash; sketch: register << 8 | rank
    int64_t bucket;  // exact: start of the bucket of the last sighting; sketch: its bucket
  };
  // max_by_sum, max_by_distinct, mode: one entry of their table (32 bytes).
  struct GroupEntry {
    uint64_t group;  // max_by_*: the group's hash; mode: the value + 2^63 (unsigned order is
                     // numeric order)
    int64_t bucket;  // bucket start (max_by_distinct: of the value's last sighting)
    uint64_t low;    // max_by_distinct: the value's hash; max_by_sum: the sum's low 64 bits;
                     // mode: the count
    int64_t high;    // max_by_sum: the sum's high 64 bits; otherwise 0
  };
  struct GroupTable {
    // Sorted by (group, bucket); max_by_distinct by (group, low).
    std::vector<GroupEntry> entries;
    GroupEntry cut{};  // while truncated: the newest entry dropped for the bound (no total)
    bool truncated = false;
  };
  // A distinct set's entries: the first lives inside its Side (no heap block for a set of
  // one, the common case of a window opened by a key's first event in a while).
  using Entries = detail::SmallVector<Entry, 1>;
  // The table of one aggregate that keeps one beside the buckets, in spec order.
  struct Side {
    Entries entries;                     // distinct: sorted by key
    std::unique_ptr<GroupTable> groups;  // max_by_*, mode (a distinct aggregate has none)
    bool sketch = false;                 // distinct

    Side() = default;
    Side(Side&&) noexcept = default;
    Side& operator=(Side&&) noexcept = default;
    Side(const Side& o)
        : entries(o.entries),
          groups(o.groups ? std::make_unique<GroupTable>(*o.groups) : nullptr),
          sketch(o.sketch) {}
    Side& operator=(const Side& o) {
      if (this != &o) *this = Side(o);
      return *this;
    }
  };
  // The state's one heap block: the tables (Side) beside the buckets, then the bucket
  // records. One block, so that an event's add and results reach one allocation rather than
  // two at random places in memory (each costs a cache miss and a page walk on a large
  // state). None while the state is empty and holds no spare room.
  class Block {
   public:
    Block() noexcept = default;
    Block(const Block& o);
    Block(Block&& o) noexcept;
    Block& operator=(const Block& o);
    Block& operator=(Block&& o) noexcept;
    ~Block();

    // Destroys the tables and records, then holds `n_sides` empty tables, no records and
    // room for at least `record_room` record bytes, reusing the block when it is large enough.
    void assign(size_t n_sides, size_t record_room);
    // Destroys the tables and records; with `free`, the block too.
    void clear(bool free) noexcept;

    std::span<Side> sides() noexcept { return {side_data(), n_sides_}; }
    std::span<const Side> sides() const noexcept { return {side_data(), n_sides_}; }

    // The records' bytes, as a vector of unsigned char would hold them.
    unsigned char* data() noexcept { return records(); }
    const unsigned char* data() const noexcept { return records(); }
    size_t size() const noexcept { return size_; }
    size_t capacity() const noexcept { return cap_; }
    bool empty() const noexcept { return size_ == 0; }
    void reserve(size_t bytes);  // room for this many record bytes
    void shrink_to_fit();
    // Inserts `n` zero bytes at byte `at` (<= size()), growing to exactly what is needed
    // when there is no room (callers reserve ahead with their own policy).
    void insert_zeros(size_t at, size_t n);
    void append(const unsigned char* p, size_t n);
    void erase_front(size_t n) noexcept;  // n <= size()
    // Replaces the records with the `n` bytes at `p`, in a block with room for exactly them.
    void replace_records(const unsigned char* p, size_t n);
    // Heap bytes of the block itself (0 without one).
    size_t block_bytes() const noexcept;

   private:
    Side* side_data() const noexcept { return reinterpret_cast<Side*>(p_); }
    unsigned char* records() const noexcept {
      return p_ == nullptr ? nullptr : p_ + n_sides_ * sizeof(Side);
    }
    // Moves the tables and records to a new block with room for `cap` record bytes.
    void relocate(size_t cap);

    unsigned char* p_ = nullptr;
    uint32_t size_ = 0;    // record bytes in use
    uint32_t cap_ = 0;     // record bytes the block has room for
    uint8_t n_sides_ = 0;  // tables at the block's start
  };
  struct Impl;  // the implementation's helpers (windowed_aggregates.cc)

  Block block_;               // the tables (one per distinct, max_by_* or mode aggregate), then the
                              // bucket records, sorted by start, no two equal
  uint64_t kinds_ = 0;        // kind + 1 per aggregate, 4 bits each, first lowest; 0 while empty
  uint32_t record_size_ = 0;  // bytes per bucket record (0 while empty)
  uint8_t n_aggs_ = 0;        // aggregates (0 while empty)
  bool wide_ = false;
};

// The fixed 64-bit hash every distinct input uses: XXH3-64 with seed 0 (libxxhash). Never
// std::hash: it must be the same on every build and machine, since state is persisted and
// ids derive from it.
uint64_t hash64(std::string_view bytes) noexcept;

}  // namespace corridor::rules::window
