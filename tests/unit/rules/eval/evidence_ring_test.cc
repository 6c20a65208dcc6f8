// A rule state's evidence (rules/eval/evidence_ring.h): the last `capacity` (time, id) entries
// in the order added, whatever their lengths, capacity changes, moves and the buffer's growth
// and compaction. Checked against a plain deque of the same entries.
#include "rules/eval/evidence_ring.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace corridor::rules {
namespace {

using Entries = std::vector<std::pair<int64_t, std::string>>;

Entries contents(const EvidenceRing& r) {
  Entries out;
  r.for_each([&](const EvidenceRing::Entry& e) { out.emplace_back(e.ts, std::string(e.id)); });
  return out;
}

// What the ring must hold: the model keeps every entry and drops from the front.
struct Model {
  std::deque<std::pair<int64_t, std::string>> entries;
  void add(int64_t ts, const std::string& id, size_t capacity) {
    if (capacity == 0) return;
    while (entries.size() >= capacity) entries.pop_front();
    entries.emplace_back(ts, id);
  }
  Entries all() const { return Entries(entries.begin(), entries.end()); }
};

TEST(EvidenceRing, KeepsTheLastEntriesOldestFirst) {
  EvidenceRing r;
  for (int64_t t = 1; t <= 5; ++t) r.add(t * 10, "e" + std::to_string(t), 3);
  EXPECT_EQ(contents(r), (Entries{{30, "e3"}, {40, "e4"}, {50, "e5"}}));
  EXPECT_EQ(r.size(), 3u);
}

TEST(EvidenceRing, CapacityZeroKeepsNothing) {
  EvidenceRing r;
  r.add(1, "a", 0);
  EXPECT_EQ(r.size(), 0u);
  EXPECT_TRUE(contents(r).empty());
}

TEST(EvidenceRing, TwoShortIdsStayInline) {
  EvidenceRing r;
  r.add(1, "T000000000001", 10);
  r.add(2, "T000000000002", 10);
  EXPECT_EQ(r.heap_bytes(), 0u);
  r.add(3, "T000000000003", 10);
  EXPECT_GT(r.heap_bytes(), 0u);
  EXPECT_EQ(contents(r).size(), 3u);
}

// A full ring on the heap keeps its buffer: dropping the oldest only moves the live entries'
// start, and they move back when the buffer's end is reached.
TEST(EvidenceRing, AFullRingKeepsItsBufferAsItTurns) {
  EvidenceRing r;
  Model m;
  for (int i = 0; i < 10; ++i) {
    r.add(i, "T00000000000" + std::to_string(i % 10), 10);
    m.add(i, "T00000000000" + std::to_string(i % 10), 10);
  }
  const size_t bytes = r.heap_bytes();
  for (int i = 10; i < 1000; ++i) {
    const std::string id = "T" + std::to_string(100000000000 + i);
    r.add(i, id, 10);
    m.add(i, id, 10);
    ASSERT_EQ(contents(r), m.all()) << "after " << i;
  }
  EXPECT_EQ(r.heap_bytes(), bytes);
}

TEST(EvidenceRing, MatchesTheModelOverRandomLengthsCapacitiesAndMoves) {
  std::mt19937_64 rng(42);
  EvidenceRing r;
  Model m;
  size_t capacity = 4;
  for (int i = 0; i < 20'000; ++i) {
    if (rng() % 500 == 0) capacity = rng() % 20;  // shrinks and grows, sometimes to 0
    const size_t length = rng() % 8 == 0 ? rng() % 200 : rng() % 40;  // empty ids too
    std::string id(length, 'a');
    for (char& c : id) c = static_cast<char>('a' + rng() % 26);
    r.add(i, id, capacity);
    m.add(i, id, capacity);
    if (rng() % 100 == 0) {
      EvidenceRing moved(std::move(r));
      r = std::move(moved);
    }
    ASSERT_EQ(contents(r), m.all()) << "after " << i;
    ASSERT_EQ(r.size(), m.entries.size());
  }
}

// What a caller fetches ahead must be readable: inside the heap buffer while there is one.
TEST(EvidenceRing, FetchedAddressesLieInsideTheBuffer) {
  std::mt19937_64 rng(7);
  EvidenceRing r;
  for (int i = 0; i < 5'000; ++i) {
    r.add(i, std::string(rng() % 30, 'x'), 1 + rng() % 12);
    if (r.heap_bytes() == 0) continue;
    const char* start = static_cast<const char*>(r.heap_block());
    for (const void* p : {r.oldest(), r.next_write()}) {
      const char* at = static_cast<const char*>(p);
      ASSERT_GE(at, start) << "after " << i;
      ASSERT_LT(at, start + r.heap_bytes()) << "after " << i;
    }
  }
}

}  // namespace
}  // namespace corridor::rules
