// Checks every serialised-state test of rules/window runs on its sample states: malformed
// input is rejected without touching the state, and anything accepted is canonical.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "rules/window/windowed_aggregates.h"

namespace corridor::rules::window::testing {

// Every proper prefix and the state with a trailing byte are rejected, and a rejected
// input leaves the state as it was.
inline void expect_prefixes_rejected(const std::vector<std::string>& states) {
  for (const std::string& bytes : states) {
    WindowedAggregates s;
    ASSERT_TRUE(s.deserialize(bytes));
    for (size_t len = 0; len < bytes.size(); ++len) {
      EXPECT_FALSE(s.deserialize(std::string_view(bytes).substr(0, len))) << len;
      std::string now;
      s.serialize(now);
      ASSERT_EQ(now, bytes) << "a failed deserialize changed the state";
    }
    EXPECT_FALSE(s.deserialize(bytes + '\0'));  // trailing bytes
  }
}

// Any single-byte change is either rejected or decodes to a state that serialises to
// exactly the changed bytes (never a crash, never a silent rewrite).
inline void expect_corruptions_rejected_or_canonical(const std::vector<std::string>& states) {
  size_t rejected = 0, accepted = 0;
  for (const std::string& bytes : states) {
    for (size_t i = 0; i < bytes.size(); ++i) {
      for (uint8_t mask : {0x01, 0x02, 0x40, 0x80, 0xff}) {
        std::string bad = bytes;
        bad[i] = static_cast<char>(bad[i] ^ mask);
        WindowedAggregates s;
        if (!s.deserialize(bad)) {
          ++rejected;
          continue;
        }
        ++accepted;
        std::string again;
        s.serialize(again);
        ASSERT_EQ(again, bad) << "byte " << i << " mask " << int{mask};
      }
    }
  }
  EXPECT_GT(rejected, 0u);
  std::cout << "corruptions: " << rejected << " rejected, " << accepted
            << " accepted as other canonical states\n";
}

}  // namespace corridor::rules::window::testing
