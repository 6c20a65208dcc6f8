// The engine's per-party history (rules/eval/history.h): entries dropped once older than the
// cut-off, with the table walked only once the cut-off has moved by the given step.
#include "rules/eval/history.h"

#include <gtest/gtest.h>

namespace corridor::rules {
namespace {

TEST(History, ExpiryWalksTheTableOncePerStepOfTheCutOff) {
  History<int64_t> h("t/", /*track_changes=*/false);
  for (uint64_t k = 1; k <= 5; ++k) h.at(k) = static_cast<int64_t>(k) * 100;  // 100 .. 500
  h.expire(250, 100);  // the first call walks: 100 and 200 go
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(h.find(2), nullptr);
  ASSERT_NE(h.find(3), nullptr);
  h.expire(349, 100);  // 99 past the last walk: no walk, 300 stays though older
  EXPECT_EQ(h.size(), 3u);
  EXPECT_NE(h.find(3), nullptr);
  h.expire(350, 100);  // a whole step: 300 goes
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h.find(3), nullptr);
  h.expire(1'000, 0);  // a step of 0 walks on every call
  EXPECT_EQ(h.size(), 0u);
}

TEST(History, AnEntryUpdatedSinceStaysWhateverTheWalk) {
  History<int64_t> h("t/", false);
  h.at(7) = 100;
  h.at(7) = 900;  // the same party again, later
  h.expire(500, 1);
  ASSERT_NE(h.find(7), nullptr);
  EXPECT_EQ(*h.find(7), 900);
}

}  // namespace
}  // namespace corridor::rules
