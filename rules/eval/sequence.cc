#include "rules/eval/sequence.h"

#include <absl/container/flat_hash_map.h>
#include <xxhash.h>

#include <algorithm>

#include "engine/event/money.h"
#include "engine/event/timestamp.h"
#include "rules/eval/render.h"
#include "rules/model/rule_scope.h"

namespace corridor::rules {
namespace {

using lang::Type;
using lang::Value;
__extension__ using Int128 = __int128;

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
  int64_t suppressed_until = INT64_MIN;
  int64_t last_ts = INT64_MIN;
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

  explicit Impl(const Rule& r) : rule(r), q(*r.sequence) {}

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
    if (s != nullptr) set_bindings(*s, slots);
    const lang::EvalContext context{&e, slots.data()};
    if (q.first_match.test(context)) {
      if (s == nullptr) s = &keys.emplace(std::string(key), KeyState{}).first->second;
      s->last_ts = std::max(s->last_ts, e.ts_ms);
      start_episode(*s, e, slots);
      return false;
    }
    if (s == nullptr || !s->open || s->completed || e.ts_ms < s->anchor_ts ||
        e.ts_ms > s->anchor_ts + q.within_ms) {
      return false;
    }
    if (!q.second_match.test(context)) return false;
    s->last_ts = std::max(s->last_ts, e.ts_ms);
    add(*s, context);
    if (rule.evidence > 0 && s->episode_ids.size() + 1 < rule.evidence)
      s->episode_ids.emplace_back(e.id);
    set_results(*s, slots);
    if (!q.when.test(context)) return false;
    // The cycle completes.
    s->completed = true;
    uint32_t cycles = 0;
    if (q.consecutive) {
      cycles = ++s->streak;
    } else {
      s->completions.push_back(e.ts_ms);
      std::erase_if(s->completions, [&](int64_t t) { return t <= e.ts_ms - q.repeat_within_ms; });
      cycles = static_cast<uint32_t>(s->completions.size());
    }
    if (cycles < q.cycles) return false;
    if (e.ts_ms < s->suppressed_until) {
      suppressed = true;
      return false;
    }
    s->suppressed_until = rule.suppress_ms > 0 ? e.ts_ms + rule.suppress_ms : INT64_MIN;
    hit = SequenceHit{};
    hit.cycles = cycles;
    hit.episode_start_ms = s->anchor_ts;
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
    hit.values.emplace_back("cycles", std::to_string(cycles));
    hit.shown.emplace_back("cycles", std::to_string(cycles));
    if (rule.evidence > 0) {
      hit.evidence.push_back(s->anchor_id);
      hit.evidence.insert(hit.evidence.end(), s->episode_ids.begin(), s->episode_ids.end());
    }
    return true;
  }
};

SequenceRuleState::SequenceRuleState(const Rule& rule) : impl_(std::make_unique<Impl>(rule)) {}
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
  // count (a consecutive streak lasts until the next A: keep it), or it is suppressed.
  const int64_t keep = q.consecutive ? INT64_MAX : q.repeat_within_ms;
  auto& keys = impl_->keys;
  for (auto it = keys.begin(); it != keys.end();) {
    const KeyState& s = it->second;
    const bool episode_live = s.open && !s.completed && s.anchor_ts + q.within_ms > watermark_ms;
    const bool cycles_live =
        q.consecutive ? s.streak > 0
                      : !s.completions.empty() && s.completions.back() > watermark_ms - keep;
    if (!episode_live && !cycles_live && s.suppressed_until <= watermark_ms) {
      keys.erase(it++);
    } else {
      ++it;
    }
  }
}

size_t SequenceRuleState::size() const noexcept { return impl_->keys.size(); }

}  // namespace corridor::rules
