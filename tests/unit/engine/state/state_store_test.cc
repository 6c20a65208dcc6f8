#include "engine/state/state_store.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "engine/state/encoding.h"

namespace corridor::state {
namespace {

std::vector<std::pair<std::string, std::string>> scan_all(const StateStore& s,
                                                          std::string_view prefix) {
  std::vector<std::pair<std::string, std::string>> out;
  s.scan(prefix, [&](std::string_view k, std::string_view v) {
    out.emplace_back(std::string(k), std::string(v));
  });
  return out;
}

TEST(MemoryStateStore, AppliesABatchInOrderLastOperationWins) {
  MemoryStateStore store;
  WriteBatch b;
  b.put("a", "1");
  b.put("b", "2");
  b.erase("a");
  b.put("b", "3");
  b.erase("never-there");
  EXPECT_EQ(b.size(), 5u);
  EXPECT_EQ(b.bytes(), 1u + 1 + 1 + 1 + 1 + 1 + 1 + 11);
  store.write(b);
  EXPECT_EQ(store.get("a"), std::nullopt);
  EXPECT_EQ(store.get("b"), "3");
  EXPECT_EQ(store.size(), 1u);
  b.clear();
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.bytes(), 0u);
}

TEST(MemoryStateStore, ScansOnePrefixInKeyOrder) {
  MemoryStateStore store;
  WriteBatch b;
  for (const char* k : {"rules/k/b", "rules/k/a", "rules/t/x", "rules/k", "rules/kz", "other"}) {
    b.put(k, std::string(k) + "!");
  }
  b.put(std::string("rules/k/\0c", 10), "nul");  // keys are bytes, NUL included
  store.write(b);
  const auto got = scan_all(store, "rules/k/");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].first, std::string("rules/k/\0c", 10));
  EXPECT_EQ(got[0].second, "nul");
  EXPECT_EQ(got[1].first, "rules/k/a");
  EXPECT_EQ(got[2].first, "rules/k/b");
  EXPECT_EQ(got[2].second, "rules/k/b!");
  EXPECT_EQ(scan_all(store, "").size(), 7u);
  EXPECT_TRUE(scan_all(store, "zzz").empty());
}

TEST(ValueEncoding, RoundTripsEveryType) {
  std::string out;
  ValueWriter w(out);
  w.u8(0xfe);
  w.u32(0xdeadbeef);
  w.u64(0x0123456789abcdefULL);
  w.i64(INT64_MIN);
  w.i64(-1);
  w.bytes("hello");
  w.bytes("");
  EXPECT_EQ(out.size(), 1u + 4 + 8 + 8 + 8 + 4 + 5 + 4);
  EXPECT_EQ(static_cast<unsigned char>(out[1]), 0xefu);  // little-endian
  ValueReader r(out);
  EXPECT_EQ(r.u8(), 0xfe);
  EXPECT_EQ(r.u32(), 0xdeadbeefu);
  EXPECT_EQ(r.u64(), 0x0123456789abcdefULL);
  EXPECT_EQ(r.i64(), INT64_MIN);
  EXPECT_EQ(r.i64(), -1);
  EXPECT_EQ(r.bytes(), "hello");
  EXPECT_EQ(r.bytes(), "");
  EXPECT_TRUE(r.done());
}

TEST(ValueEncoding, TruncatedInputFailsWithoutReadingPastTheEnd) {
  std::string out;
  ValueWriter w(out);
  w.u64(7);
  w.bytes("abcdef");
  for (size_t cut = 0; cut < out.size(); ++cut) {
    ValueReader r(std::string_view(out).substr(0, cut));
    const uint64_t a = r.u64();
    const std::string_view s = r.bytes();
    EXPECT_FALSE(r.ok()) << "cut at " << cut;
    EXPECT_FALSE(r.done());
    EXPECT_TRUE(s.empty());
    if (cut >= 8) {
      EXPECT_EQ(a, 7u);
    }
  }
  // A length larger than what follows.
  std::string lying;
  ValueWriter(lying).u32(1000);
  lying += "short";
  ValueReader r(lying);
  EXPECT_TRUE(r.bytes().empty());
  EXPECT_FALSE(r.ok());
}

TEST(ValueEncoding, LeftoverBytesAreNotDone) {
  std::string out;
  ValueWriter(out).u32(1);
  out.push_back('x');
  ValueReader r(out);
  EXPECT_EQ(r.u32(), 1u);
  EXPECT_TRUE(r.ok());
  EXPECT_FALSE(r.done());
}

}  // namespace
}  // namespace corridor::state
