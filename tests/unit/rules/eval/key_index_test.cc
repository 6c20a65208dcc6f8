// The key spaces' table (rules/eval/key_index.h): random inserts, chain pushes, lookups and
// erases (with chains emptied first, as expiry does) against std::unordered_map, over hashes
// drawn from small ranges so that probe runs grow long, wrap around the table's end and
// are cut by erases in their middle.
#include "rules/eval/key_index.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <unordered_map>
#include <vector>

namespace corridor::rules {
namespace {

struct Node {
  uint64_t id = 0;
  std::unique_ptr<Node> next;
};

using Index = KeyIndex<Node>;
using Reference = std::unordered_map<uint64_t, std::vector<uint64_t>>;  // chain, head first

std::vector<uint64_t> chain_of(const Index::Slot& s) {
  std::vector<uint64_t> ids;
  for (const Node* x = s.chain.get(); x != nullptr; x = x->next.get()) ids.push_back(x->id);
  return ids;
}

void expect_same(Index& index, const Reference& ref, const std::vector<uint64_t>& hashes) {
  ASSERT_EQ(index.size(), ref.size());
  ASSERT_EQ(index.empty(), ref.empty());
  for (const uint64_t h : hashes) {
    const auto it = ref.find(h);
    Index::Slot* s = index.find(h);
    if (it == ref.end()) {
      ASSERT_EQ(s, nullptr) << "hash " << h;
      continue;
    }
    ASSERT_NE(s, nullptr) << "hash " << h;
    ASSERT_EQ(s->hash, h);
    ASSERT_EQ(chain_of(*s), it->second) << "hash " << h;
  }
  size_t visited = 0;
  index.for_each([&](uint64_t h, const std::unique_ptr<Node>& head) {
    ++visited;
    const auto it = ref.find(h);
    ASSERT_NE(it, ref.end()) << "hash " << h;
    ASSERT_NE(head, nullptr);
    ASSERT_EQ(head->id, it->second.front());
  });
  ASSERT_EQ(visited, ref.size());
}

void run(uint64_t seed, uint64_t range, uint64_t high_bits) {
  std::mt19937_64 rng(seed);
  Index index;
  Reference ref;
  std::vector<uint64_t> hashes;
  for (uint64_t i = 0; i < range; ++i) hashes.push_back(i * high_bits);
  uint64_t next_id = 1;
  for (int step = 0; step < 20'000; ++step) {
    const uint64_t h = hashes[rng() % hashes.size()];
    const auto op = rng() % 10;
    if (op < 5) {  // add an object to h's chain, as find_or_add does
      auto fresh = std::make_unique<Node>();
      fresh->id = next_id;
      if (Index::Slot* s = index.find(h)) {
        fresh->next = std::move(s->chain);
        s->chain = std::move(fresh);
      } else {
        index.insert(h, std::move(fresh));
      }
      auto& chain = ref[h];
      chain.insert(chain.begin(), next_id++);
    } else if (op < 8) {  // drop h's chain, emptied first, as expiry does
      Index::Slot* s = index.find(h);
      ASSERT_EQ(s != nullptr, ref.count(h) == 1);
      if (s == nullptr) continue;
      while (s->chain) s->chain = std::move(s->chain->next);
      index.erase(s);
      ref.erase(h);
    } else if (op < 9) {  // drop h's chain still full
      if (Index::Slot* s = index.find(h)) {
        index.erase(s);
        ref.erase(h);
      }
    } else {
      const auto it = ref.find(h);
      const Index& view = index;
      ASSERT_EQ(view.find(h) != nullptr, it != ref.end());
      index.fetch(h);
    }
    if (step % 500 == 0) expect_same(index, ref, hashes);
  }
  expect_same(index, ref, hashes);
  // Emptied completely, then used again.
  for (const uint64_t h : hashes) {
    if (Index::Slot* s = index.find(h)) index.erase(s);
  }
  ref.clear();
  expect_same(index, ref, hashes);
  index.insert(hashes[0], std::make_unique<Node>());
  ASSERT_NE(index.find(hashes[0]), nullptr);
  ASSERT_EQ(index.size(), 1u);
}

TEST(KeyIndex, AnswersAsAMapOverRandomInsertsAndErases) {
  // Few hashes (a table of 16-64 slots, long runs, wrap-around), more, and hashes that differ
  // only in their high bits (home slots from the top bits) or only in their low bits.
  run(1, 12, 1);
  run(2, 40, 1);
  run(3, 3'000, 1);
  run(4, 300, uint64_t{1} << 40);
  run(5, 300, 0x9E3779B97F4A7C15ULL);
}

TEST(KeyIndex, IsAtMostThreeQuartersFull) {
  Index index;
  EXPECT_EQ(index.memory_bytes(), 0u);
  EXPECT_EQ(index.find(7), nullptr);
  index.fetch(7);  // on an empty table: nothing to fetch
  for (uint64_t h = 0; h < 12; ++h) index.insert(h, std::make_unique<Node>());
  EXPECT_EQ(index.memory_bytes(), 16 * sizeof(Index::Slot));
  index.insert(12, std::make_unique<Node>());
  EXPECT_EQ(index.memory_bytes(), 32 * sizeof(Index::Slot));
  EXPECT_EQ(sizeof(Index::Slot), 16u);
  for (uint64_t h = 0; h < 13; ++h) ASSERT_NE(index.find(h), nullptr) << h;
}

}  // namespace
}  // namespace corridor::rules
