#include "rules/eval/sequence.h"

#include <absl/container/flat_hash_map.h>
#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "engine/event/money.h"
#include "engine/event/timestamp.h"
#include "engine/state/encoding.h"
#include "engine/state/state_store.h"
#include "rules/eval/render.h"
#include "rules/model/rule_scope.h"

namespace corridor::rules {
namespace {

using lang::Type;
using lang::Value;
__extension__ using Int128 = __int128;
__extension__ using UInt128 = unsigned __int128;

int64_t saturate(Int128 v) {
  if (v > INT64_MAX) return INT64_MAX;
  if (v < INT64_MIN) return INT64_MIN;
  return static_cast<int64_t>(v);
}

// The running totals of one aggregate over one episode.
struct EpisodeTotals {
  int64_t count = 0;
  Int128 sum = 0;
  int64_t min = INT64_MAX;
  int64_t max = INT64_MIN;
  std::vector<uint64_t> distinct;                   // sorted hashes
  std::vector<std::pair<uint64_t, Int128>> groups;  // sorted by group hash
};

struct KeyState {
  bool open = false;       // an episode has started
  bool completed = false;  // ... and its cycle completed
  int64_t anchor_ts = 0;
  std::string anchor_id;
  std::vector<Value> bound;  // binding values (strings point into bound_text)
  std::vector<std::string> bound_text;
  std::vector<EpisodeTotals> totals;
  std::vector<std::string> episode_ids;  // B events of the open episode
  uint32_t streak = 0;                   // consecutive completed cycles
  std::vector<int64_t> completions;      // completion times (non-consecutive repeat)
  // The run of completed cycles (Sequence::escalate_after_ms): since when, how many cycles,
  // and the total of Sequence::run_total over them.
  int64_t run_since = 0;
  uint32_t run_cycles = 0;
  Int128 run_total = 0;
  int64_t suppressed_until = INT64_MIN;
  int64_t last_ts = INT64_MIN;
  bool dirty = false;  // changed since the last checkpoint
};

uint64_t hash_value(const Value& v, Type t) {
  if (t == Type::string) return XXH3_64bits(v.s.data(), v.s.size());
  return XXH3_64bits(&v.i, sizeof v.i);
}

}  // namespace

struct SequenceRuleState::Impl {
  const Rule& rule;
  const Sequence& q;
  absl::flat_hash_map<std::string, KeyState> keys;
  bool track = false;
  std::vector<std::string> changed;  // keys changed or dropped since the last checkpoint
  uint64_t shape = 0;                // what a saved state means (see shape_of)

  Impl(const Rule& r, bool track_changes) : rule(r), q(*r.sequence), track(track_changes) {
    shape = shape_of(q);
  }

  // The steps, window, repetition, bindings and episode aggregates, as written: a state
  // saved under other ones would mean something else. `when` may change.
  static uint64_t shape_of(const Sequence& q) {
    std::string t = q.first_as + '\x1f' + q.second_as + '\x1f' + std::to_string(q.within_ms) + '/' +
                    std::to_string(q.consecutive) + '/' + std::to_string(q.repeat_within_ms) +
                    '/' + std::to_string(q.escalate_after_ms > 0) + '/' +
                    std::to_string(q.run_total);
    for (const Binding& b : q.bindings) {
      t += '\x1f' + b.name + '/' + std::to_string(static_cast<int>(b.type));
    }
    for (const EpisodeAggregate& a : q.aggregates) {
      t += '\x1f' + a.text + '/' + std::to_string(static_cast<int>(a.kind));
    }
    return XXH3_64bits(t.data(), t.size());
  }

  void touch(std::string_view key, KeyState& s) {
    if (!track || s.dirty) return;
    s.dirty = true;
    changed.emplace_back(key);
  }

  void encode(const KeyState& s, std::string& out) const {
    out.clear();
    state::ValueWriter w(out);
    w.u64(shape);
    w.u8(static_cast<uint8_t>((s.open ? 1 : 0) | (s.completed ? 2 : 0)));
    w.i64(s.anchor_ts);
    w.bytes(s.anchor_id);
    w.u32(static_cast<uint32_t>(s.bound.size()));
    for (size_t k = 0; k < s.bound.size(); ++k) {
      w.i64(s.bound[k].i);
      uint64_t bits = 0;
      std::memcpy(&bits, &s.bound[k].d, sizeof bits);
      w.u64(bits);
      w.bytes(s.bound_text[k]);
    }
    w.u32(static_cast<uint32_t>(s.totals.size()));
    for (const EpisodeTotals& t : s.totals) {
      w.i64(t.count);
      w.u64(static_cast<uint64_t>(static_cast<UInt128>(t.sum)));
      w.u64(static_cast<uint64_t>(static_cast<UInt128>(t.sum) >> 64));
      w.i64(t.min);
      w.i64(t.max);
      w.u32(static_cast<uint32_t>(t.distinct.size()));
      for (const uint64_t h : t.distinct) w.u64(h);
      w.u32(static_cast<uint32_t>(t.groups.size()));
      for (const auto& [h, v] : t.groups) {
        w.u64(h);
        w.u64(static_cast<uint64_t>(static_cast<UInt128>(v)));
        w.u64(static_cast<uint64_t>(static_cast<UInt128>(v) >> 64));
      }
    }
    w.u32(static_cast<uint32_t>(s.episode_ids.size()));
    for (const std::string& id : s.episode_ids) w.bytes(id);
    w.u32(s.streak);
    w.u32(static_cast<uint32_t>(s.completions.size()));
    for (const int64_t t : s.completions) w.i64(t);
    w.i64(s.run_since);
    w.u32(s.run_cycles);
    w.u64(static_cast<uint64_t>(static_cast<UInt128>(s.run_total)));
    w.u64(static_cast<uint64_t>(static_cast<UInt128>(s.run_total) >> 64));
    w.i64(s.suppressed_until);
    w.i64(s.last_ts);
  }

  Restored decode(std::string_view in, KeyState& s) const {
    state::ValueReader r(in);
    const uint64_t saved_shape = r.u64();
    if (!r.ok()) return Restored::corrupt;
    if (saved_shape != shape) return Restored::changed_rule;
    const uint8_t flags = r.u8();
    if (flags > 3) return Restored::corrupt;
    s.open = (flags & 1) != 0;
    s.completed = (flags & 2) != 0;
    s.anchor_ts = r.i64();
    s.anchor_id = r.bytes();
    const uint32_t nb = r.u32();
    if (!r.ok() || nb != q.bindings.size()) return Restored::corrupt;
    s.bound.resize(nb);
    s.bound_text.resize(nb);
    for (uint32_t k = 0; k < nb; ++k) {
      s.bound[k].i = r.i64();
      const uint64_t bits = r.u64();
      std::memcpy(&s.bound[k].d, &bits, sizeof bits);
      s.bound_text[k] = r.bytes();
    }
    const uint32_t nt = r.u32();
    if (!r.ok() || nt > q.aggregates.size()) return Restored::corrupt;
    s.totals.resize(nt);
    const auto i128 = [&r] {
      const uint64_t lo = r.u64();
      const uint64_t hi = r.u64();
      return static_cast<Int128>(static_cast<UInt128>(hi) << 64 | lo);
    };
    for (EpisodeTotals& t : s.totals) {
      t.count = r.i64();
      t.sum = i128();
      t.min = r.i64();
      t.max = r.i64();
      const uint32_t nd = r.u32();
      for (uint32_t i = 0; i < nd && r.ok(); ++i) t.distinct.push_back(r.u64());
      const uint32_t ng = r.u32();
      for (uint32_t i = 0; i < ng && r.ok(); ++i) {
        const uint64_t h = r.u64();
        t.groups.emplace_back(h, i128());
      }
      if (!std::is_sorted(t.distinct.begin(), t.distinct.end()) ||
          !std::is_sorted(t.groups.begin(), t.groups.end())) {
        return Restored::corrupt;
      }
    }
    const uint32_t ne = r.u32();
    for (uint32_t i = 0; i < ne && r.ok(); ++i) s.episode_ids.emplace_back(r.bytes());
    s.streak = r.u32();
    const uint32_t nc = r.u32();
    for (uint32_t i = 0; i < nc && r.ok(); ++i) s.completions.push_back(r.i64());
    s.run_since = r.i64();
    s.run_cycles = r.u32();
    s.run_total = i128();
    s.suppressed_until = r.i64();
    s.last_ts = r.i64();
    return r.done() ? Restored::yes : Restored::corrupt;
  }

  void set_bindings(KeyState& s, std::vector<Value>& slots) const {
    for (size_t k = 0; k < q.bindings.size(); ++k) {
      Value v = s.bound[k];
      if (q.bindings[k].type == Type::string) v.s = s.bound_text[k];
      slots[kFirstBindingSlot + k] = v;
    }
  }

  void set_results(const KeyState& s, std::vector<Value>& slots) const {
    using K = EpisodeAggregate::Kind;
    for (size_t i = 0; i < q.aggregates.size(); ++i) {
      const EpisodeAggregate& a = q.aggregates[i];
      const EpisodeTotals& t = s.totals[i];
      Value& v = slots[kFirstAggregateSlot + i];
      v = Value{};
      switch (a.kind) {
        case K::count:
          v.i = t.count;
          break;
        case K::sum:
          v.i = saturate(t.sum);
          break;
        case K::min:
          v.i = t.count > 0 ? t.min : 0;
          break;
        case K::max:
          v.i = t.count > 0 ? t.max : 0;
          break;
        case K::distinct:
          v.i = static_cast<int64_t>(t.distinct.size());
          break;
        case K::max_by_sum:
        case K::max_by_count: {
          Int128 best = 0;
          for (const auto& g : t.groups) best = std::max(best, g.second);
          v.i = saturate(best);
          break;
        }
      }
    }
  }

  void start_episode(KeyState& s, const event::Event& e, std::vector<Value>& slots) {
    const lang::EvalContext context{&e, slots.data()};
    if (s.open && !s.completed) s.streak = 0;  // the previous cycle failed
    s.open = true;
    s.completed = false;
    s.anchor_ts = e.ts_ms;
    s.anchor_id.assign(e.id);
    s.bound.resize(q.bindings.size());
    s.bound_text.resize(q.bindings.size());
    for (size_t k = 0; k < q.bindings.size(); ++k) {
      s.bound[k] = q.bindings[k].value.evaluate(context);
      if (q.bindings[k].type == Type::string) s.bound_text[k].assign(s.bound[k].s);
    }
    s.totals.assign(q.aggregates.size(), EpisodeTotals{});
    s.episode_ids.clear();
  }

  void add(KeyState& s, const lang::EvalContext& context) {
    using K = EpisodeAggregate::Kind;
    for (size_t i = 0; i < q.aggregates.size(); ++i) {
      const EpisodeAggregate& a = q.aggregates[i];
      if (a.predicate && !a.predicate->test(context)) continue;
      EpisodeTotals& t = s.totals[i];
      ++t.count;
      Value v;
      if (a.argument) v = a.argument->evaluate(context);
      switch (a.kind) {
        case K::count:
          break;
        case K::sum:
          t.sum += v.i;
          break;
        case K::min:
          t.min = std::min(t.min, v.i);
          break;
        case K::max:
          t.max = std::max(t.max, v.i);
          break;
        case K::distinct: {
          const uint64_t h = hash_value(v, a.argument->type());
          auto it = std::lower_bound(t.distinct.begin(), t.distinct.end(), h);
          if (it == t.distinct.end() || *it != h) t.distinct.insert(it, h);
          break;
        }
        case K::max_by_sum:
        case K::max_by_count: {
          const Value g = a.group->evaluate(context);
          if (g.s.empty()) break;  // in no group, as in windowed rules
          const uint64_t h = XXH3_64bits(g.s.data(), g.s.size());
          auto it = std::lower_bound(t.groups.begin(), t.groups.end(), h,
                                     [](const auto& p, uint64_t x) { return p.first < x; });
          if (it == t.groups.end() || it->first != h) it = t.groups.insert(it, {h, 0});
          it->second += a.kind == K::max_by_sum ? Int128{v.i} : Int128{1};
          break;
        }
      }
    }
  }

  bool on_event(std::string_view key, const event::Event& e, std::vector<Value>& slots,
                SequenceHit& hit, bool& suppressed) {
    suppressed = false;
    auto it = keys.find(absl::string_view(key.data(), key.size()));
    KeyState* s = it == keys.end() ? nullptr : &it->second;
    if (s != nullptr && q.consecutive && s->streak > 0 &&
        e.ts_ms - s->last_ts > q.streak_lapse_ms) {
      // No event of the rule for longer than the state limit: the streak has lapsed (as if
      // expiry had dropped it; the same whether or not it already has).
      touch(key, *s);
      s->streak = 0;
    }
    if (s != nullptr) set_bindings(*s, slots);
    const lang::EvalContext context{&e, slots.data()};
    // An event may match both steps (a payment on one leg of a route is the second step of
    // the previous leg's episode and the first step of its own): it counts in the open
    // episode first, then opens the next one.
    const bool opens = q.first_match.test(context);
    bool hit_now = s != nullptr && second_step(key, *s, e, context, slots, hit, suppressed);
    if (opens && q.when_at_cycle_end && s != nullptr && s->open && !s->completed) {
      // The cycle ends here: judge it on everything it collected.
      touch(key, *s);
      set_results(*s, slots);
      if (q.when.test(context)) hit_now = complete(*s, e, slots, hit, suppressed);
    }
    if (opens) {
      if (s == nullptr) s = &keys.emplace(std::string(key), KeyState{}).first->second;
      touch(key, *s);
      s->last_ts = std::max(s->last_ts, e.ts_ms);
      start_episode(*s, e, slots);
    }
    return hit_now;
  }

  // The event as a second-step event of the key's open episode, if it is one. True, with
  // `hit` filled, when it completes the cycles a signal needs and the key is not suppressed.
  bool second_step(std::string_view key, KeyState& s, const event::Event& e,
                   const lang::EvalContext& context, std::vector<Value>& slots, SequenceHit& hit,
                   bool& suppressed) {
    if (!s.open || s.completed || e.ts_ms < s.anchor_ts || e.ts_ms > s.anchor_ts + q.within_ms) {
      return false;
    }
    if (!q.second_match.test(context)) return false;
    touch(key, s);
    s.last_ts = std::max(s.last_ts, e.ts_ms);
    add(s, context);
    if (rule.evidence > 0 && s.episode_ids.size() + 1 < rule.evidence)
      s.episode_ids.emplace_back(e.id);
    if (q.when_at_cycle_end) return false;  // judged when the next first step ends the cycle
    set_results(s, slots);
    if (!q.when.test(context)) return false;
    return complete(s, e, slots, hit, suppressed);
  }

  // The open cycle of `s` completes at event `e` (its aggregates are in `slots`). True, with
  // `hit` filled, when that makes the cycles a signal needs and the key is not suppressed.
  bool complete(KeyState& s, const event::Event& e, std::vector<Value>& slots, SequenceHit& hit,
                bool& suppressed) {
    s.completed = true;
    uint32_t cycles = 0;
    bool new_run = false;  // no completed cycle of the key's run is still counting
    if (q.consecutive) {
      cycles = ++s.streak;
      new_run = cycles == 1;
    } else {
      std::erase_if(s.completions, [&](int64_t t) { return t <= e.ts_ms - q.repeat_within_ms; });
      new_run = s.completions.empty();
      s.completions.push_back(e.ts_ms);
      cycles = static_cast<uint32_t>(s.completions.size());
    }
    if (q.escalate_after_ms > 0) {
      if (new_run) {
        s.run_since = s.anchor_ts;
        s.run_cycles = 0;
        s.run_total = 0;
      }
      ++s.run_cycles;
      if (q.run_total >= 0) s.run_total += slots[kFirstAggregateSlot + q.run_total].i;
    }
    if (cycles < q.cycles) return false;
    if (e.ts_ms < s.suppressed_until) {
      suppressed = true;
      return false;
    }
    s.suppressed_until = rule.suppress_ms > 0 ? e.ts_ms + rule.suppress_ms : INT64_MIN;
    hit = SequenceHit{};
    hit.cycles = cycles;
    hit.episode_start_ms = s.anchor_ts;
    for (size_t i = 0; i < q.aggregates.size(); ++i) {
      const Value& v = slots[kFirstAggregateSlot + i];
      hit.values.emplace_back(q.aggregates[i].name, render(v, q.aggregates[i].result_type, false));
      hit.shown.emplace_back(q.aggregates[i].name, render(v, q.aggregates[i].result_type, true));
    }
    for (size_t k = 0; k < q.bindings.size(); ++k) {
      const Value& v = slots[kFirstBindingSlot + k];
      hit.values.emplace_back(q.bindings[k].name, render(v, q.bindings[k].type, false));
      hit.shown.emplace_back(q.bindings[k].name, render(v, q.bindings[k].type, true));
    }
    const auto report = [&hit](const char* name, int64_t i, Type t) {
      Value v;
      v.i = i;
      hit.values.emplace_back(name, render(v, t, false));
      hit.shown.emplace_back(name, render(v, t, true));
    };
    report("cycles", cycles, Type::integer);
    if (q.escalate_after_ms > 0) {
      hit.escalated = e.ts_ms - s.run_since >= q.escalate_after_ms;
      report("run_since", s.run_since, Type::time);
      report("run_cycles", s.run_cycles, Type::integer);
      if (q.run_total >= 0) report("run_total", saturate(s.run_total), Type::decimal);
      report("escalated", hit.escalated, Type::boolean);
    }
    if (rule.evidence > 0) {
      hit.evidence.push_back(s.anchor_id);
      hit.evidence.insert(hit.evidence.end(), s.episode_ids.begin(), s.episode_ids.end());
    }
    return true;
  }
};

SequenceRuleState::SequenceRuleState(const Rule& rule, bool track_changes)
    : impl_(std::make_unique<Impl>(rule, track_changes)) {}
SequenceRuleState::~SequenceRuleState() = default;
SequenceRuleState::SequenceRuleState(SequenceRuleState&&) noexcept = default;
SequenceRuleState& SequenceRuleState::operator=(SequenceRuleState&&) noexcept = default;

bool SequenceRuleState::on_event(std::string_view key, const event::Event& e,
                                 std::vector<Value>& slots, SequenceHit& hit, bool& suppressed) {
  return impl_->on_event(key, e, slots, hit, suppressed);
}

void SequenceRuleState::expire(int64_t watermark_ms) {
  const Sequence& q = impl_->q;
  // A key matters while its open episode can still take B events, its cycles can still
  // count (a consecutive streak lasts until the next A, or until it lapses), or it is
  // suppressed.
  const int64_t keep = q.consecutive ? q.streak_lapse_ms : q.repeat_within_ms;
  auto& keys = impl_->keys;
  for (auto it = keys.begin(); it != keys.end();) {
    const KeyState& s = it->second;
    const bool episode_live = s.open && !s.completed && s.anchor_ts + q.within_ms > watermark_ms;
    const bool cycles_live =
        q.consecutive ? s.streak > 0 && s.last_ts >= watermark_ms - keep
                      : !s.completions.empty() && s.completions.back() > watermark_ms - keep;
    if (!episode_live && !cycles_live && s.suppressed_until <= watermark_ms) {
      if (impl_->track) impl_->changed.push_back(it->first);
      keys.erase(it++);
    } else {
      ++it;
    }
  }
}

size_t SequenceRuleState::size() const noexcept { return impl_->keys.size(); }

void SequenceRuleState::checkpoint(const std::string& prefix, state::WriteBatch& batch) {
  Impl& m = *impl_;
  std::sort(m.changed.begin(), m.changed.end());
  m.changed.erase(std::unique(m.changed.begin(), m.changed.end()), m.changed.end());
  std::string value;
  for (const std::string& key : m.changed) {
    auto it = m.keys.find(key);
    if (it == m.keys.end()) {
      batch.erase(prefix + key);
    } else {
      m.encode(it->second, value);
      batch.put(prefix + key, value);
      it->second.dirty = false;
    }
  }
  m.changed.clear();
}

void SequenceRuleState::snapshot(const std::string& prefix, state::WriteBatch& batch) const {
  std::string value;
  for (const auto& [key, s] : impl_->keys) {
    impl_->encode(s, value);
    batch.put(prefix + key, value);
  }
}

SequenceRuleState::Restored SequenceRuleState::restore(std::string_view key,
                                                       std::string_view value) {
  KeyState s;
  const Restored r = impl_->decode(value, s);
  if (r != Restored::yes) return r;
  auto [it, inserted] = impl_->keys.try_emplace(std::string(key), std::move(s));
  return inserted ? Restored::yes : Restored::corrupt;
}

}  // namespace corridor::rules
