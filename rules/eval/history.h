// Per-party history the rule engine keeps for its enrichments, by 64-bit hash of the ids:
// when a sender last paid a receiver (is_new_pair), when and from whom an account last
// received a salary (sender_salary_age, sender_salary_payer). Internal to rules/eval.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/state/encoding.h"
#include "engine/state/state_store.h"

namespace corridor::rules {

// The latest salary credited to an account.
struct LastSalary {
  int64_t ts = INT64_MIN;
  std::string payer;  // the salary's sender id
};

inline int64_t time_of(int64_t ts) { return ts; }
inline int64_t time_of(const LastSalary& s) { return s.ts; }
inline void encode(state::ValueWriter& w, int64_t ts) { w.i64(ts); }
inline void encode(state::ValueWriter& w, const LastSalary& s) {
  w.i64(s.ts);
  w.bytes(s.payer);
}
inline void decode(state::ValueReader& r, int64_t& ts) { ts = r.i64(); }
inline void decode(state::ValueReader& r, LastSalary& s) {
  s.ts = r.i64();
  s.payer = r.bytes();
}

// Entries by hash, each with a time; saved one value per hash under `prefix` followed by
// the hash's 8 bytes, big-endian, and dropped once older than the caller's cut-off.
template <typename V>
class History {
 public:
  History(std::string_view prefix, bool track_changes) : prefix_(prefix), track_(track_changes) {}

  const V* find(uint64_t h) const {
    auto it = entries_.find(h);
    return it == entries_.end() ? nullptr : &it->second;
  }
  // The entry to update; it is saved at the next checkpoint.
  V& at(uint64_t h) {
    if (track_) dirty_.push_back(h);
    return entries_[h];
  }
  // Drops entries whose time is before `cut_off`. That walks the whole table, so it is done
  // only once `cut_off` has moved by `step` or more since the last walk: an entry then stays
  // up to `step` past the cut-off, which nothing observes (readers compare an entry's time
  // with their own lookback), and the walks cost a table per `step` of event time instead of
  // a table per call. Callers pass a small part of their lookback.
  void expire(int64_t cut_off, int64_t step) {
    __extension__ using Int128 = __int128;
    if (Int128{cut_off} - last_walk_ < step) return;
    last_walk_ = cut_off;
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (time_of(it->second) < cut_off) {
        if (track_) dirty_.push_back(it->first);
        entries_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  size_t size() const noexcept { return entries_.size(); }

  // The entries changed or dropped since the last checkpoint.
  void checkpoint(state::WriteBatch& batch) {
    std::sort(dirty_.begin(), dirty_.end());
    dirty_.erase(std::unique(dirty_.begin(), dirty_.end()), dirty_.end());
    std::string value;
    for (const uint64_t h : dirty_) {
      auto it = entries_.find(h);
      if (it == entries_.end()) {
        batch.erase(key(h));
      } else {
        save(it->second, value);
        batch.put(key(h), value);
      }
    }
    dirty_.clear();
  }
  void snapshot(state::WriteBatch& batch) const {
    std::string value;
    for (const auto& [h, v] : entries_) {
      save(v, value);
      batch.put(key(h), value);
    }
  }
  // Reads every saved entry; false (after reading the good ones) when a key or value does
  // not decode. Returns the entries read in `count`.
  bool restore(const state::StateStore& store, uint64_t& count) {
    bool ok = true;
    store.scan(prefix_, [&](std::string_view k, std::string_view value) {
      if (k.size() != prefix_.size() + 8) {
        ok = false;
        return;
      }
      uint64_t h = 0;
      for (size_t i = prefix_.size(); i < k.size(); ++i) {
        h = h << 8 | static_cast<unsigned char>(k[i]);
      }
      state::ValueReader r(value);
      V v;
      decode(r, v);
      if (!r.done()) {
        ok = false;
        return;
      }
      entries_[h] = std::move(v);
      ++count;
    });
    return ok;
  }

 private:
  std::string key(uint64_t h) const {
    std::string k(prefix_);
    for (int i = 7; i >= 0; --i) k.push_back(static_cast<char>((h >> (8 * i)) & 0xff));
    return k;
  }
  static void save(const V& v, std::string& out) {
    out.clear();
    state::ValueWriter w(out);
    encode(w, v);
  }

  std::string prefix_;
  bool track_ = false;
  absl::flat_hash_map<uint64_t, V> entries_;
  int64_t last_walk_ = INT64_MIN;  // the cut-off of the last walk
  std::vector<uint64_t> dirty_;    // duplicates allowed; the table at the checkpoint is written
};

}  // namespace corridor::rules
