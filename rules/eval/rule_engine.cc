#include "rules/eval/rule_engine.h"

#include <absl/container/flat_hash_map.h>
#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <new>
#include <span>
#include <stdexcept>
#include <type_traits>

#include "engine/event/money.h"
#include "engine/event/timestamp.h"
#include "engine/state/encoding.h"
#include "engine/state/state_store.h"
#include "rules/eval/evidence_ring.h"
#include "rules/eval/history.h"
#include "rules/eval/key_index.h"
#include "rules/eval/render.h"
#include "rules/eval/sequence.h"
#include "rules/model/rule_scope.h"

namespace corridor::rules {
namespace {

// Where the enrichment history is saved (see "State in a StateStore" below).
constexpr std::string_view kPairPrefix = "rules/p/";
constexpr std::string_view kSalaryPrefix = "rules/w/";
// sender_salary_age when no salary is known: longer than any window, so `<= 7d` is false.
constexpr int64_t kNoSalary = INT64_MAX;

using lang::Type;
using lang::Value;

constexpr size_t kPartyFields = event::kPartyFieldCount;

std::string hash_id(std::string_view a, std::string_view b, std::string_view c) {
  std::string bytes;
  bytes.reserve(a.size() + b.size() + c.size() + 2);
  bytes.append(a).push_back('\x1f');
  bytes.append(b).push_back('\x1f');
  bytes.append(c);
  const XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
  char out[33];
  std::snprintf(out, sizeof out, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return std::string(out, 32);
}

// Erases the entries of a flat_hash_map for which `pred` holds (iteration order does not
// matter: only what remains does).
template <typename Map, typename Pred>
void erase_where(Map& map, Pred pred) {
  for (auto it = map.begin(); it != map.end();) {
    if (pred(*it)) {
      map.erase(it++);
    } else {
      ++it;
    }
  }
}

// Appends component `i` of the `n` values of a fields key. A one-field key is the value as it
// is; a composite key joins its values with '|', and a '|' or a backslash inside a value is
// escaped with a backslash, so that two tuples never share a key (["A|B", "C"] and
// ["A", "B|C"]).
inline void append_key_part(std::string& key, std::string_view value, size_t i, size_t n) {
  if (n == 1) {
    key.append(value);
    return;
  }
  if (i > 0) key.push_back('|');
  // Two vectorised scans (find_first_of tests the set character by character).
  if (std::memchr(value.data(), '|', value.size()) == nullptr &&
      std::memchr(value.data(), '\\', value.size()) == nullptr) {
    key.append(value);
    return;
  }
  for (const char c : value) {
    if (c == '|' || c == '\\') key.push_back('\\');
    key.push_back(c);
  }
}

// A state store key: prefix, a name (key space, rule or typology id), NUL, the key.
std::string prefixed(std::string_view prefix, std::string_view name, std::string_view key) {
  std::string k(prefix);
  k.append(name).push_back('\0');
  k.append(key);
  return k;
}
constexpr std::string_view kEntityPrefix = "rules/k/";

// One windowed rule's state for one key.
struct RuleState {
  window::WindowedAggregates window;
  int64_t suppressed_until = INT64_MIN;
  EvidenceRing evidence;
  uint32_t slot = 0;  // the rule's index among its key space's rules
};

// Everything the windowed rules of one key space keep for one key: a single lookup per
// (key space, key) and event serves them all. One heap block: these fields, then the rule
// states of the space's rules that counted an event for the key, by slot (most keys see one
// to three of their space's rules), so that reaching a key's rule states costs no second
// block. Adding a rule state moves the entity to a block one state larger (rule()); it does
// not move otherwise (pointers to it stay valid while the table grows).
struct Entity {
  std::string key;
  int64_t last_ts = INT64_MIN;      // newest event time any of its rules counted
  int64_t queued_slot = INT64_MIN;  // expiry slot of its newest entry in the expiry queue
  std::unique_ptr<Entity> next;     // another key with the same 64-bit hash (rare)
  bool dirty = false;               // changed since the last checkpoint
  uint32_t count = 0;               // rule states after these fields

  std::span<RuleState> rules() noexcept { return {states(), count}; }
  std::span<const RuleState> rules() const noexcept { return {states(), count}; }

  // A new entity for `key` with no rule state, or with one, of `slot`.
  static std::unique_ptr<Entity> make(std::string_view key) { return grown(key, nullptr, 0, 0); }
  static std::unique_ptr<Entity> make(std::string_view key, uint32_t slot) {
    return grown(key, nullptr, 1, slot);
  }

  RuleState* find(uint32_t slot) noexcept {
    for (RuleState& r : rules()) {
      if (r.slot == slot) return &r;
    }
    return nullptr;
  }

  // The rule state of `slot` in the entity `link` owns, added when absent: the entity then
  // moves to a new block, which `link` (its table slot, or the previous entity's `next`)
  // owns instead.
  static RuleState& rule(std::unique_ptr<Entity>& link, uint32_t slot) {
    if (RuleState* r = link->find(slot)) return *r;
    std::unique_ptr<Entity> moved = grown(link->key, link.get(), link->count + 1, slot);
    link = std::move(moved);
    return *link->find(slot);
  }

  // Frees the block with its rule states (unique_ptr's delete comes here).
  void operator delete(Entity* x, std::destroying_delete_t) noexcept {
    const size_t bytes = size_of(x->count);
    for (RuleState& r : x->rules()) r.~RuleState();
    x->~Entity();
    ::operator delete(static_cast<void*>(x), bytes);
  }

 private:
  Entity() = default;
  static size_t size_of(size_t states) { return sizeof(Entity) + states * sizeof(RuleState); }
  static void new_state(RuleState* at, uint32_t slot) noexcept {
    (new (at) RuleState())->slot = slot;
  }
  RuleState* states() noexcept { return reinterpret_cast<RuleState*>(this + 1); }
  const RuleState* states() const noexcept { return reinterpret_cast<const RuleState*>(this + 1); }

  // A block of `n` rule states: `from`'s (moved out, its fields too) with a new one of
  // `slot` in order; or, without `from`, none (n == 0) or the new one alone (n == 1).
  static std::unique_ptr<Entity> grown(std::string_view key, Entity* from, uint32_t n,
                                       uint32_t slot) {
    // What may throw comes first and leaves `from` as it was; from the placement on nothing
    // throws (x->count becomes n only once its n states exist, and the block is freed with
    // the size count gives).
    std::string own_key = from == nullptr ? std::string(key) : std::string();
    void* block = ::operator new(size_of(n));
    std::unique_ptr<Entity> x(new (block) Entity());
    x->key = from == nullptr ? std::move(own_key) : std::move(from->key);
    RuleState* out = x->states();
    if (from == nullptr) {
      if (n == 1) new_state(out, slot);
    } else {
      x->last_ts = from->last_ts;
      x->queued_slot = from->queued_slot;
      x->next = std::move(from->next);
      x->dirty = from->dirty;
      bool placed = false;
      for (RuleState& r : from->rules()) {
        if (!placed && r.slot > slot) {
          new_state(out++, slot);
          placed = true;
        }
        new (out++) RuleState(std::move(r));
      }
      if (!placed) new_state(out, slot);
    }
    x->count = n;
    return x;
  }
};
static_assert(sizeof(Entity) % alignof(RuleState) == 0);
static_assert(std::is_nothrow_move_constructible_v<RuleState> &&
              std::is_nothrow_default_constructible_v<RuleState>);

// Expiry slots are this long: a key is queued at most once per slot it is active in.
constexpr int64_t kExpirySlotMs = 3'600'000;

int64_t expiry_slot(int64_t ts_ms) {
  return ts_ms / kExpirySlotMs - (ts_ms % kExpirySlotMs < 0 ? 1 : 0);
}

// A key space: the keys of every rule keyed alike (one field, one composite, or accounts).
// Its table is keyed by the XXH3-64 hash of the key; keys whose hashes collide are chained
// on the entity, so a collision never mixes two keys' state.
struct KeySpace {
  KeySpec::Kind kind = KeySpec::Kind::fields;
  std::vector<event::Field> fields;
  std::vector<size_t> rules;  // indices into Impl::rules of its windowed rules, in order
  int64_t horizon_ms = 0;     // longest window or suppression among them
  KeyIndex<Entity> entities;
  // (expiry slot, key hash) in the order keys were touched. A key is queued again when it is
  // touched in a later slot; expire() pops the slots whose keys may all have gone idle and
  // checks each key against its own newest time. The queue is near-sorted (late events push
  // slightly older slots), which only delays, never advances, an expiry.
  std::deque<std::pair<int64_t, uint64_t>> expiry;
  uint64_t live_rule_states = 0;
  std::string name;  // in the store's keys: "receiver.id", "agent,receiver.id", "account"
  // With change tracking (EngineOptions::track_changes): the hashes of keys changed since
  // the last checkpoint, and the store keys of the keys dropped since.
  bool track = false;
  std::vector<uint64_t> dirty;
  std::vector<std::string> dropped;

  std::string store_key(std::string_view key) const { return prefixed(kEntityPrefix, name, key); }
  __extension__ using Int128 = __int128;

  // The lines expire() reads for the queue entries [from, to).
  void fetch_group(size_t from, size_t to, Int128 idle_before) const {
    for (size_t i = from; i < to; ++i) entities.fetch(expiry[i].second);
    for (size_t i = from; i < to; ++i) {
      if (const auto* at = entities.find(expiry[i].second)) fetch_line(at->chain.get());
    }
    for (size_t i = from; i < to; ++i) {
      const auto* at = entities.find(expiry[i].second);
      if (at == nullptr) continue;
      const Entity& x = *at->chain;
      if (x.queued_slot != expiry[i].first || x.last_ts >= idle_before) continue;
      for (const RuleState& r : x.rules()) {
        if (const void* block = r.window.block()) fetch_line(block);
        if (const void* heap = r.evidence.heap_block()) fetch_line(heap);
      }
    }
  }

  // Drops the keys none of whose rules can be affected any more: the newest event any of
  // them counted is older than the space's longest window and suppression (so every bucket
  // is out of every window ending at or after the watermark, and no suppression is running).
  void expire(int64_t watermark_ms) {
    const Int128 idle_before = Int128{watermark_ms} - horizon_ms;  // last_ts < this: drop
    // The queue's head up to the first slot that may still hold a key touched at or after
    // idle_before (every time in `slot` is < (slot + 1) * kExpirySlotMs).
    size_t due = 0;
    while (due < expiry.size() && (Int128{expiry[due].first} + 1) * kExpirySlotMs <= idle_before) {
      ++due;
    }
    // Keys lie at random in memory: fetch a group of keys' table slots together, then their
    // entities, then the heap blocks that dropping them frees, before checking any, so that
    // the memory latencies overlap.
    constexpr size_t kGroup = 16;
    for (size_t i = 0; i < due; ++i) {
      if (i % kGroup == 0) fetch_group(i, std::min(due, i + kGroup), idle_before);
      const auto [slot, hash] = expiry[i];
      KeyIndex<Entity>::Slot* const at = entities.find(hash);
      if (at == nullptr) continue;
      std::unique_ptr<Entity>* link = &at->chain;
      while (*link != nullptr) {
        Entity& x = **link;
        if (x.queued_slot == slot && x.last_ts < idle_before) {
          live_rule_states -= x.count;
          if (track) dropped.push_back(store_key(x.key));
          *link = std::move(x.next);
        } else {
          link = &x.next;
        }
      }
      if (at->chain == nullptr) entities.erase(at);
    }
    expiry.erase(expiry.begin(), expiry.begin() + static_cast<std::ptrdiff_t>(due));
  }

  // Per event, for each side (0: the fields' key or the sender's account, 1: the receiver's
  // account): the key (has_key false when a component is empty), its hash, the head of its
  // hash's chain found ahead of evaluation (to overlap the memory latencies of the event's
  // keys), and the entity once a rule has counted the event for it.
  bool has_key[2] = {false, false};
  std::string_view key_of[2];
  uint64_t hash_of[2] = {0, 0};
  Entity* head[2] = {nullptr, nullptr};
  Entity* current[2] = {nullptr, nullptr};
  std::string key_buf;         // a fields key, built once per event
  std::string_view entity_of;  // ... and the value of its last field (the entity it names)
};

struct TypologyState {
  std::vector<Contribution> hits;  // latest signal per rule within the horizon, by time
};

struct CompiledRule {
  const Rule* rule = nullptr;
  std::vector<window::AggregateSpec> specs;  // the windowed (non-ratio) aggregates
  window::WindowLayout layout;               // of specs and the rule's window, when any
  std::vector<int> spec_of;                  // aggregate index -> spec index, -1 for ratio
  // What must be computed before each of the rule's `when` terms is tested: of the terms
  // up to and including it, the specs (bit: spec index) and the aggregates whose slots are
  // set (bit: aggregate index), ratios with their operands. Then one more entry: all of them.
  struct Needs {
    uint32_t specs = 0;
    uint64_t aggregates = 0;
  };
  std::vector<Needs> needs;
  int typology = -1;         // index into RuleSet::typologies
  size_t space = 0;          // windowed rules: index into Impl::spaces
  KeySpace* keys = nullptr;  // ... and that space
  uint32_t slot = 0;         // ... and its index among that space's rules
  uint64_t shape = 0;        // what its saved state depends on (window, aggregates): state saved
                             // under another shape is not restored
  // Account rules: bit k set when one of its programs reads counterparty field k (all of
  // them for sequence rules, whose steps may keep what they see).
  uint16_t counterparty_fields = 0;
  std::unique_ptr<SequenceRuleState> sequence;  // sequence rules keep their own state
};

// One view of an event for a rule: the key and, for account rules, which side.
struct Perspective {
  std::string_view direction;  // "", "in", "out", "self"
  const event::Party* counterparty = nullptr;
  std::string_view account;
  int side = 0;  // index into KeySpace::current
};

}  // namespace

struct RuleEngine::Impl {
  const RuleSet& set;
  SignalListener& listener;
  EngineOptions options;
  EngineStats stats;
  std::vector<CompiledRule> rules;
  std::deque<KeySpace> spaces;        // never relocated: a KeySpace is not cheap to move
  std::vector<KeySpace*> space_list;  // the same, for the per-event loops (a deque's are slower)
  std::vector<absl::flat_hash_map<std::string, TypologyState>> typologies;
  History<int64_t> pairs;        // sender|receiver hash -> last transfer time
  History<LastSalary> salaries;  // account id hash -> the latest salary credited to it
  // Some rule reads sender_salary_age or sender_salary_payer: look the sender up per event.
  // (Salaries are remembered either way, so a pack that starts reading them finds them.)
  bool reads_salary = false;
  // With change tracking: typology entities changed or dropped since the last checkpoint
  // (duplicates allowed; what the tables hold at the checkpoint is written).
  std::vector<std::pair<size_t, std::string>> dirty_typologies;
  std::vector<std::string> stale_keys;  // restored keys of gone rules, erased at the checkpoint
  bool format_written = false;          // the store holds rules/format
  std::string scratch;

  void encode_entity(const KeySpace& k, const Entity& x, std::string& out);
  void save_changed_entities(KeySpace& k, state::WriteBatch& batch);
  // Reused per event, so evaluation allocates nothing in steady state.
  std::vector<Value> slots;
  std::vector<window::AggregateInput> inputs;
  std::vector<window::AggregateResult> results;
  // The event's sender.id and its hash, which distinct(sender.id) reuses: several rules count
  // it. Matched by the view's address and length: a string an expression yields views the
  // event, a constant, a list or table, or a slot, none of which change during one event.
  std::string_view sender_view;
  uint64_t sender_view_hash = 0;
  // The event's pair's last transfer time and its sender's latest salary, looked up by
  // prepare() (null: none, or not looked up).
  const int64_t* pair_last = nullptr;
  const LastSalary* sender_salary = nullptr;
  std::string key;               // a sequence rule's fields key being built
  std::string_view current_key;  // the key of the rule being evaluated (valid during it)
  // ... and the entity it names: the account, or the value of the key's last field.
  std::string_view current_entity;
  std::string_view key_entity;  // the last value build_key() appended
  SequenceHit sequence_hit;
  std::vector<EvidenceRing::Entry> evidence_scratch;

  Impl(const RuleSet& s, SignalListener& l, EngineOptions o)
      : set(s),
        listener(l),
        options(std::move(o)),
        typologies(s.typologies.size()),
        pairs(kPairPrefix, options.track_changes),
        salaries(kSalaryPrefix, options.track_changes) {
    size_t max_aggregates = 0;
    for (const Rule& r : set.rules) {
      for_each_program(r, [&](const lang::Program& p) {
        reads_salary = reads_salary || p.reads_slot(kSlotSenderSalaryAge) ||
                       p.reads_slot(kSlotSenderSalaryPayer);
      });
      CompiledRule c;
      c.rule = &r;
      for (uint16_t k = 0; k < kPartyFields; ++k) {
        bool reads = r.sequence.has_value();
        for_each_program(r, [&](const lang::Program& p) {
          reads = reads || p.reads_slot(static_cast<uint16_t>(kSlotCounterparty + k));
        });
        if (reads) c.counterparty_fields |= static_cast<uint16_t>(1u << k);
      }
      for (const Aggregate& a : r.aggregates) {
        if (a.is_ratio) {
          c.spec_of.push_back(-1);
        } else {
          c.spec_of.push_back(static_cast<int>(c.specs.size()));
          c.specs.push_back(a.spec);
        }
      }
      // The loader's bound; the masks below hold one bit per aggregate.
      static_assert(kMaxRuleAggregates <= 64);
      if (r.aggregates.size() > kMaxRuleAggregates)
        throw std::invalid_argument("rule " + r.id + ": more than " +
                                    std::to_string(kMaxRuleAggregates) + " aggregates");
      const auto needs_of = [&](uint64_t aggregates) {
        CompiledRule::Needs n;
        const auto add = [&](size_t j) {
          n.aggregates |= uint64_t{1} << j;
          if (c.spec_of[j] >= 0) n.specs |= uint32_t{1} << c.spec_of[j];
        };
        for (size_t i = 0; i < r.aggregates.size(); ++i) {
          if (((aggregates >> i) & 1) == 0) continue;
          add(i);
          if (r.aggregates[i].is_ratio) {
            add(r.aggregates[i].ratio_numerator);
            add(r.aggregates[i].ratio_denominator);
          }
        }
        return n;
      };
      uint64_t named = 0;
      for (const WhenTerm& term : r.when_terms) {
        named |= term.aggregates;
        c.needs.push_back(needs_of(named));
      }
      c.needs.push_back(needs_of(~uint64_t{0}));
      for (size_t t = 0; t < set.typologies.size(); ++t) {
        if (set.typologies[t].id == r.typology) c.typology = static_cast<int>(t);
      }
      if (r.sequence) {
        c.sequence = std::make_unique<SequenceRuleState>(r, options.track_changes);
      } else {
        c.space = space_of(r.key);
        KeySpace& k = spaces[c.space];
        c.keys = &k;
        c.slot = static_cast<uint32_t>(k.rules.size());
        c.shape = shape_of(r);
        if (!c.specs.empty()) c.layout = window::WindowLayout::make(c.specs, r.window);
        k.rules.push_back(rules.size());
        k.horizon_ms = std::max({k.horizon_ms, r.window.length_ms, r.suppress_ms});
      }
      max_aggregates = std::max(max_aggregates, r.aggregates.size());
      rules.push_back(std::move(c));
    }
    for (KeySpace& k : spaces) space_list.push_back(&k);
    const bool any_sequence = std::any_of(set.rules.begin(), set.rules.end(),
                                          [](const Rule& r) { return r.sequence.has_value(); });
    slots.resize(std::max<size_t>(kFirstAggregateSlot + max_aggregates,
                                  any_sequence ? kFirstBindingSlot + kMaxBindings : 0));
    inputs.resize(max_aggregates);
    results.resize(max_aggregates);
    key.reserve(128);
  }

  // A fingerprint of what a windowed rule's saved state means: its window and its
  // aggregates as written (in order). A changed threshold, filter or severity keeps it.
  static uint64_t shape_of(const Rule& r) {
    std::string text =
        std::to_string(r.window.length_ms) + "/" + std::to_string(r.window.bucket_ms);
    for (const Aggregate& a : r.aggregates) {
      if (a.is_ratio) continue;
      text += '\x1f';
      text += a.text;
      text += '/' + std::to_string(static_cast<int>(a.spec.kind)) + '/' +
              std::to_string(a.spec.exact_bound);
      // max_by and mode (appended only for them, so the other rules keep their shapes): what
      // is grouped and how, and the tolerance (in the text too, but spelled there freely).
      if (a.group)
        text += a.spec.kind == window::AggregateKind::max_by_distinct ? "/max_by:distinct"
                : a.argument                                          ? "/max_by:sum"
                                                                      : "/max_by:count";
      if (a.spec.kind == window::AggregateKind::mode)
        text += "/tolerance:" + std::to_string(a.spec.tolerance);
    }
    return XXH3_64bits(text.data(), text.size());
  }

  // max_by's group: its hash, or no input at all when the group is empty (an event without
  // an employer is in no employer's group). A count is a sum of ones.
  static void group_input(const Aggregate& a, const lang::EvalContext& context,
                          window::AggregateInput& in) {
    const Value g = a.group->evaluate(context);
    if (g.s.empty()) {
      in.matched = false;
      return;
    }
    in.group = window::hash64(g.s);
    if (!a.argument) in.value = 1;
  }

  // The key space of rules keyed like `spec` (created on first use).
  size_t space_of(const KeySpec& spec) {
    for (size_t i = 0; i < spaces.size(); ++i) {
      if (spaces[i].kind == spec.kind && spaces[i].fields == spec.fields) return i;
    }
    spaces.emplace_back();
    spaces.back().kind = spec.kind;
    spaces.back().fields = spec.fields;
    spaces.back().track = options.track_changes;
    for (const event::Field f : spec.fields) {
      if (!spaces.back().name.empty()) spaces.back().name += ',';
      spaces.back().name += event::field_name(f);
    }
    if (spec.kind == KeySpec::Kind::account) spaces.back().name = "account";
    return spaces.size() - 1;
  }

  // The entity of side `side`'s key in space `k` (prepared for this event), created with the
  // rule state of `rule_slot` when absent, and marked as counting an event at ts_ms.
  Entity& find_or_add(KeySpace& k, int side, int64_t ts_ms, uint32_t rule_slot) {
    const std::string_view key_text = k.key_of[side];
    const uint64_t h = k.hash_of[side];
    Entity* found = nullptr;
    for (Entity* x = k.head[side]; x != nullptr; x = x->next.get()) {
      if (x->key == key_text) {
        found = x;
        break;
      }
    }
    if (found == nullptr) {
      auto fresh = Entity::make(key_text, rule_slot);
      ++k.live_rule_states;
      found = fresh.get();
      if (KeyIndex<Entity>::Slot* const at = k.entities.find(h)) {
        fresh->next = std::move(at->chain);
        at->chain = std::move(fresh);
      } else {
        k.entities.insert(h, std::move(fresh));
      }
    }
    if (k.track && !found->dirty) {
      found->dirty = true;
      k.dirty.push_back(h);
    }
    if (ts_ms > found->last_ts) {
      found->last_ts = ts_ms;
      const int64_t slot = expiry_slot(ts_ms);
      if (slot > found->queued_slot) {
        found->queued_slot = slot;
        k.expiry.emplace_back(slot, h);
      }
    }
    return *found;
  }

  // The rule state of `slot` for side `side`'s key in space `k`, added when absent. Adding
  // one to an existing entity moves it (Entity::rule): the pointers this event holds to it
  // follow.
  RuleState& state_of(KeySpace& k, int side, uint32_t slot, int64_t ts_ms) {
    Entity*& x = k.current[side];
    if (x == nullptr) x = &find_or_add(k, side, ts_ms, slot);
    if (RuleState* s = x->find(slot)) return *s;
    std::unique_ptr<Entity>* link = &k.entities.find(k.hash_of[side])->chain;
    while (link->get() != x) link = &(*link)->next;
    const Entity* const old = x;
    RuleState& s = Entity::rule(*link, slot);
    for (int i = 0; i < 2; ++i) {
      if (k.current[i] == old) k.current[i] = link->get();
      if (k.head[i] == old) k.head[i] = link->get();
    }
    ++k.live_rule_states;
    return s;
  }

  uint64_t hash_key(std::string_view key_text) const {
    if (options.key_hash_for_tests != nullptr) return options.key_hash_for_tests(key_text);
    return XXH3_64bits(key_text.data(), key_text.size());
  }

  // Each key space's keys for this event, hashed, and their tables' slots, entities and rule
  // states fetched ahead (and the pair's and the sender's history entries looked up, when
  // given: pair_last, sender_salary): an
  // event's keys lie at random in memory, and fetching them one after the other as the rules
  // ask would add up their latencies. All keys are hashed first, then each level is fetched
  // for all of them in a short loop, so that their loads are in flight together.
  void prepare(const event::Event& e, const uint64_t* pair, const uint64_t* sender_hash) {
    for (KeySpace* const space : space_list) {
      KeySpace& k = *space;
      k.current[0] = k.current[1] = nullptr;
      k.head[0] = k.head[1] = nullptr;
      if (k.kind == KeySpec::Kind::account) {
        // A self-transfer is seen once, from side 0.
        k.has_key[0] = !e.sender.id.empty();
        k.key_of[0] = e.sender.id;
        k.has_key[1] = !e.receiver.id.empty() && e.receiver.id != e.sender.id;
        k.key_of[1] = e.receiver.id;
        if (e.sender.id.empty() && !e.receiver.id.empty()) k.has_key[1] = true;
      } else {
        k.has_key[1] = false;
        k.has_key[0] = true;
        k.key_buf.clear();
        for (size_t i = 0; i < k.fields.size(); ++i) {
          const std::string_view* v = event::string_slot(e, k.fields[i]);
          if (v == nullptr || v->empty()) {
            k.has_key[0] = false;
            break;
          }
          append_key_part(k.key_buf, *v, i, k.fields.size());
          k.entity_of = *v;  // the last value names the entity
        }
        k.key_of[0] = k.key_buf;
      }
      for (int side = 0; side < 2; ++side) {
        if (k.has_key[side]) k.hash_of[side] = hash_key(k.key_of[side]);
      }
    }
    for (KeySpace* const space : space_list) {
      KeySpace& k = *space;
      for (int side = 0; side < 2; ++side) {
        if (k.has_key[side]) k.entities.fetch(k.hash_of[side]);
      }
    }
    // The history lookups themselves, among the slot loads: on_event reads their answers.
    pair_last = pair != nullptr ? pairs.find(*pair) : nullptr;
    sender_salary = sender_hash != nullptr ? salaries.find(*sender_hash) : nullptr;
    for (KeySpace* const space : space_list) {
      KeySpace& k = *space;
      for (int side = 0; side < 2; ++side) {
        if (!k.has_key[side]) continue;
        const auto* at = k.entities.find(k.hash_of[side]);
        if (at == nullptr) continue;
        k.head[side] = at->chain.get();
        fetch_line(k.head[side]);
      }
    }
    // Then the heap blocks of the entities' rule states (their windows and evidence).
    for (KeySpace* const space : space_list) {
      KeySpace& k = *space;
      for (int side = 0; side < 2; ++side) {
        if (k.head[side] == nullptr) continue;
        for (const RuleState& r : k.head[side]->rules()) {
          r.window.fetch();
          fetch_line(r.evidence.oldest());
          fetch_line(r.evidence.next_write());
        }
      }
    }
  }

  bool is_new_pair(const int64_t* last, int64_t ts_ms) const {
    return last == nullptr || *last < ts_ms - options.new_pair_lookback_ms || *last > ts_ms;
  }

  // sender_salary_age and sender_salary_payer: the latest salary credited to the sender's
  // account at or before the event, within the salary lookback.
  void set_salary_slots(const event::Event& e, const LastSalary* s) {
    const bool known =
        s != nullptr && s->ts <= e.ts_ms && s->ts >= e.ts_ms - options.salary_lookback_ms;
    slots[kSlotSenderSalaryAge].i = known ? e.ts_ms - s->ts : kNoSalary;
    slots[kSlotSenderSalaryPayer].s = known ? std::string_view(s->payer) : std::string_view();
  }

  static uint64_t pair_hash(const event::Event& e, uint64_t sender_hash) {
    return XXH3_64bits_withSeed(e.receiver.id.data(), e.receiver.id.size(), sender_hash);
  }

  // The direction and the counterparty fields in `fields` (bit k: field k, in the order of
  // the counterparty slots and of a party's fields in event::Field) for the rule about to be
  // evaluated. Each rule sets the fields its programs read, so none reads a field another
  // rule set.
  void set_perspective(const event::Event& e, const Perspective& p, uint16_t fields) {
    slots[kSlotDirection].s = p.direction;
    // Account perspectives always name the other party of the event (on_event).
    const auto first = static_cast<size_t>(p.counterparty == &e.sender ? event::Field::sender_id
                                                                       : event::Field::receiver_id);
    for (unsigned m = fields; m != 0; m &= m - 1) {
      const auto k = static_cast<size_t>(std::countr_zero(m));
      slots[kSlotCounterparty + k].s = *event::string_slot(e, static_cast<event::Field>(first + k));
    }
  }

  // Builds the state key of a fields-keyed rule; false when a component is empty.
  bool build_key(const Rule& r, const event::Event& e) {
    key.clear();
    for (size_t i = 0; i < r.key.fields.size(); ++i) {
      const std::string_view* v = event::string_slot(e, r.key.fields[i]);
      const std::string_view value = v != nullptr ? *v : std::string_view{};
      if (value.empty()) return false;
      append_key_part(key, value, i, r.key.fields.size());
      key_entity = value;
    }
    return true;
  }

  uint64_t hash_of_view(std::string_view v) const {
    if (v.data() == sender_view.data() && v.size() == sender_view.size()) return sender_view_hash;
    return window::hash64(v);
  }

  void on_event(const event::Event& e) {
    ++stats.events;
    const uint64_t sender_hash = XXH3_64bits(e.sender.id.data(), e.sender.id.size());
    // window::hash64 is XXH3-64 with seed 0: the sender's hash serves distinct(sender.id).
    sender_view = e.sender.id;
    sender_view_hash = sender_hash;
    const bool has_pair = !e.sender.id.empty() && !e.receiver.id.empty();
    const uint64_t pair = has_pair ? pair_hash(e, sender_hash) : 0;
    prepare(e, has_pair ? &pair : nullptr,
            reads_salary && !e.sender.id.empty() ? &sender_hash : nullptr);
    slots[kSlotIsNewPair].i = has_pair && is_new_pair(pair_last, e.ts_ms) ? 1 : 0;
    if (reads_salary) set_salary_slots(e, sender_salary);
    const lang::EvalContext context{&e, slots.data()};
    for (CompiledRule& c : rules) {
      const Rule& r = *c.rule;
      if (r.key.kind == KeySpec::Kind::account) {
        const bool has_sender = !e.sender.id.empty();
        const bool has_receiver = !e.receiver.id.empty();
        if (has_sender && has_receiver && e.sender.id == e.receiver.id) {
          evaluate(c, e, context, Perspective{"self", &e.receiver, e.sender.id, 0});
          continue;
        }
        if (has_sender) evaluate(c, e, context, Perspective{"out", &e.receiver, e.sender.id, 0});
        if (has_receiver) evaluate(c, e, context, Perspective{"in", &e.sender, e.receiver.id, 1});
      } else {
        evaluate(c, e, context, Perspective{});
      }
    }
    // pair_last is still valid: nothing is added to `pairs` between prepare() and here.
    if (has_pair && (pair_last == nullptr || e.ts_ms > *pair_last)) pairs.at(pair) = e.ts_ms;
    if (e.kind == event::Kind::salary && !e.receiver.id.empty()) {
      const uint64_t h = XXH3_64bits(e.receiver.id.data(), e.receiver.id.size());
      const LastSalary* last = salaries.find(h);
      // The latest salary wins; of two at the same time, the smaller payer id (so that the
      // order of arrival does not decide).
      if (last == nullptr || e.ts_ms > last->ts ||
          (e.ts_ms == last->ts && e.sender.id < last->payer)) {
        LastSalary& s = salaries.at(h);
        s.ts = e.ts_ms;
        s.payer.assign(e.sender.id);
      }
    }
  }

  void evaluate(CompiledRule& c, const event::Event& e, const lang::EvalContext& context,
                const Perspective& p) {
    const Rule& r = *c.rule;
    const bool by_account = r.key.kind == KeySpec::Kind::account;
    if (by_account) set_perspective(e, p, c.counterparty_fields);
    if (r.filter && !r.filter->test(context)) return;
    // The key: the account, or the fields' values (built once per event and key space, in
    // prepare(); sequence rules keep their own state and build theirs).
    if (by_account) {
      current_key = current_entity = p.account;
    } else if (c.sequence) {
      if (!build_key(r, e)) return;
      current_key = key;
      current_entity = key_entity;
    } else {
      const KeySpace& k = *c.keys;
      if (!k.has_key[0]) return;
      current_key = k.key_of[0];
      current_entity = k.entity_of;
    }
    if (c.sequence) {
      bool suppressed = false;
      if (c.sequence->on_event(current_key, e, slots, sequence_hit, suppressed)) {
        emit_sequence_signal(c, e, p);
      } else if (suppressed) {
        ++stats.suppressed;
      }
      return;
    }

    RuleState& s = state_of(*c.keys, p.side, c.slot, e.ts_ms);
    // The window the rule reads ends at the event; for an event that arrives after newer ones
    // of its key (out of order, within the allowed lateness), at the newest: the key's current
    // window, so that a pattern a late event completes is seen.
    const int64_t now =
        r.window.length_ms > 0 ? std::max(e.ts_ms, c.keys->current[p.side]->last_ts) : e.ts_ms;

    const size_t n = r.aggregates.size();
    if (!c.specs.empty()) {
      size_t k = 0;
      for (size_t i = 0; i < n; ++i) {
        const Aggregate& a = r.aggregates[i];
        if (a.is_ratio) continue;
        window::AggregateInput& in = inputs[k++];
        in = window::AggregateInput{};
        in.matched = !a.predicate || a.predicate->test(context);
        if (in.matched && a.argument) {
          const Value v = a.argument->evaluate(context);
          if (a.argument_type == Type::string) {
            in.hash = hash_of_view(v.s);
          } else {
            in.value = v.i;
            in.hash = XXH3_64bits(&v.i, sizeof v.i);  // little-endian hosts only, like the state
          }
        }
        if (in.matched && a.group) group_input(a, context, in);
      }
      // The first `when` term's aggregates now; the others' once the terms before them held.
      const auto out = std::span(results.data(), c.specs.size());
      s.window.add_and_results(c.layout, e.ts_ms, std::span(inputs.data(), c.specs.size()), out,
                               c.needs.front().specs);
      if (now != e.ts_ms) s.window.results(c.layout, now, out, c.needs.front().specs);
      set_aggregate_slots(c, c.needs.front().aggregates);
    }
    if (r.evidence > 0 && r.window.length_ms > 0) {  // a windowless rule's evidence is its trigger
      s.evidence.add(e.ts_ms, e.id, r.evidence);
    }
    // Without terms (`when` did not split), `when` whole is the one term, and needs has only
    // its "all" entry.
    const size_t terms = std::max<size_t>(r.when_terms.size(), 1);
    for (size_t t = 0; t < terms; ++t) {
      if (t > 0) compute(c, s, now, c.needs[t - 1], c.needs[t]);
      if (!(r.when_terms.empty() ? r.when : r.when_terms[t].test).test(context)) return;
    }
    if (e.ts_ms < s.suppressed_until) {
      ++stats.suppressed;
      return;
    }
    s.suppressed_until = r.suppress_ms > 0 ? e.ts_ms + r.suppress_ms : INT64_MIN;
    compute(c, s, now, c.needs[terms - 1], c.needs.back());  // a signal carries them all
    emit_signal(c, e, p, s, now);
  }

  // The results and slots `to` needs beyond what `done` had, for the window ending at ts_ms
  // (c's window state `s` has the event already).
  void compute(const CompiledRule& c, const RuleState& s, int64_t ts_ms,
               const CompiledRule::Needs& done, const CompiledRule::Needs& to) {
    if (c.specs.empty()) return;
    if (const uint32_t specs = to.specs & ~done.specs; specs != 0)
      s.window.results(c.layout, ts_ms, std::span(results.data(), c.specs.size()), specs);
    if (const uint64_t aggregates = to.aggregates & ~done.aggregates; aggregates != 0)
      set_aggregate_slots(c, aggregates);
  }

  // The slots of the aggregates in `mask` (bit i: aggregate i) from `results`; a ratio's
  // operands are in the mask with it, or were set before.
  void set_aggregate_slots(const CompiledRule& c, uint64_t mask) {
    const Rule& r = *c.rule;
    for (uint64_t m = mask; m != 0; m &= m - 1) {
      const auto i = static_cast<size_t>(std::countr_zero(m));
      const Aggregate& a = r.aggregates[i];
      Value& v = slots[kFirstAggregateSlot + i];
      v = Value{};
      if (a.is_ratio) continue;
      const window::AggregateResult& res = results[static_cast<size_t>(c.spec_of[i])];
      if (a.result_type == Type::number) {
        // An undefined statistic (no matching event) is NaN: no comparison with it holds.
        v.d = res.defined ? res.number : std::nan("");
        // Means and deviations of money come out in its 10^-4 units: report currency units.
        // (cv and share are ratios, free of the scale.)
        const bool scaled = a.spec.kind == window::AggregateKind::mean ||
                            a.spec.kind == window::AggregateKind::stddev;
        if (scaled && a.argument_type == Type::decimal) v.d /= lang::kDecimalUnit;
      } else if (a.spec.kind == window::AggregateKind::distinct && res.estimated) {
        v.i = static_cast<int64_t>(std::llround(res.number));
      } else {
        v.i = res.exact;
      }
    }
    for (uint64_t m = mask; m != 0; m &= m - 1) {
      const auto i = static_cast<size_t>(std::countr_zero(m));
      const Aggregate& a = r.aggregates[i];
      if (!a.is_ratio) continue;
      const int64_t num = slots[kFirstAggregateSlot + a.ratio_numerator].i;
      const int64_t den = slots[kFirstAggregateSlot + a.ratio_denominator].i;
      slots[kFirstAggregateSlot + i].d =
          den == 0 ? std::nan("") : static_cast<double>(num) / static_cast<double>(den);
    }
  }

  // The parts every signal has: rule, key and entity, trigger, deterministic id.
  Signal new_signal(const Rule& r, const event::Event& e, const Perspective& p) const {
    Signal sig;
    sig.rule = &r;
    sig.key = current_key;
    sig.entity = current_entity;
    sig.direction = std::string(p.direction);
    sig.trigger_event_id = std::string(e.id);
    sig.severity = r.severity;
    sig.ts_ms = e.ts_ms;
    sig.window_end_ms = e.ts_ms;
    sig.id = hash_id(r.id, current_key, e.id);
    return sig;
  }

  // A rule's signal: its window ends at `now` (the event's time, or its key's newest for an
  // event that arrived after newer ones).
  void emit_signal(CompiledRule& c, const event::Event& e, const Perspective& p, const RuleState& s,
                   int64_t now) {
    const Rule& r = *c.rule;
    Signal sig = new_signal(r, e, p);
    sig.window_end_ms = now;
    sig.window_start_ms = r.window.length_ms > 0 ? now - r.window.length_ms : now;
    for (size_t i = 0; i < r.aggregates.size(); ++i) {
      const Aggregate& a = r.aggregates[i];
      sig.values.emplace_back(a.name, render(slots[kFirstAggregateSlot + i], a.result_type, false));
    }
    if (r.window.length_ms == 0) {
      if (r.evidence > 0) sig.evidence.emplace_back(e.id);
    } else {
      // Inside the window, up to its end, oldest first (events may arrive late).
      evidence_scratch.clear();
      s.evidence.for_each([&](const EvidenceRing::Entry& entry) {
        if (entry.ts > sig.window_start_ms && entry.ts <= now) evidence_scratch.push_back(entry);
      });
      std::stable_sort(evidence_scratch.begin(), evidence_scratch.end(),
                       [](const auto& a, const auto& b) { return a.ts < b.ts; });
      for (const auto& entry : evidence_scratch) sig.evidence.emplace_back(entry.id);
    }
    sig.explanation = explain(r, sig);
    publish(c, sig);
  }

  // Hands a signal to the listener and to its rule's typology.
  void publish(const CompiledRule& c, const Signal& sig) {
    ++stats.signals;
    listener.on_signal(sig);
    if (c.typology >= 0) score(static_cast<size_t>(c.typology), sig);
  }

  void emit_sequence_signal(CompiledRule& c, const event::Event& e, const Perspective& p) {
    const Rule& r = *c.rule;
    Signal sig = new_signal(r, e, p);
    sig.window_start_ms = sequence_hit.episode_start_ms;  // the completing episode
    if (sequence_hit.escalated) sig.severity = r.sequence->escalate_severity;
    sig.values = sequence_hit.values;
    sig.evidence = sequence_hit.evidence;
    if (r.explain.empty()) {
      sig.explanation = r.title + " (" + sig.key + ")";
      for (size_t i = 0; i < sequence_hit.shown.size(); ++i) {
        sig.explanation += (i == 0 ? ": " : ", ") + sequence_hit.shown[i].first + " " +
                           sequence_hit.shown[i].second;
      }
    } else {
      sig.explanation = fill_template(r.explain, [&](const std::string& name) {
        if (name == "key") return sig.entity;
        if (name == "window") return format_duration(r.sequence->within_ms);
        if (name == "base") return options.base_currency;
        for (const auto& [n, v] : sequence_hit.shown) {
          if (n == name) return v;
        }
        return std::string();
      });
    }
    publish(c, sig);
  }

  template <typename Lookup>
  static std::string fill_template(const std::string& t, Lookup lookup) {
    std::string out;
    size_t i = 0;
    while (i < t.size()) {
      const size_t open = t.find('{', i);
      if (open == std::string::npos) {
        out.append(t, i, std::string::npos);
        break;
      }
      out.append(t, i, open - i);
      const size_t close = t.find('}', open);
      out += lookup(t.substr(open + 1, close - open - 1));
      i = close + 1;
    }
    return out;
  }

  std::string explain(const Rule& r, const Signal& sig) {
    if (r.explain.empty()) {
      std::string out = r.title + " (" + sig.key + ")";
      for (size_t i = 0; i < r.aggregates.size(); ++i) {
        out += i == 0 ? ": " : ", ";
        out += r.aggregates[i].name + " " +
               render(slots[kFirstAggregateSlot + i], r.aggregates[i].result_type, true);
      }
      return out;
    }
    return fill_template(r.explain, [&](const std::string& name) {
      if (name == "key") return sig.entity;
      if (name == "window") return format_duration(r.window.length_ms);
      if (name == "base") return options.base_currency;
      for (size_t k = 0; k < r.aggregates.size(); ++k) {
        if (r.aggregates[k].name == name) {
          return render(slots[kFirstAggregateSlot + k], r.aggregates[k].result_type, true);
        }
      }
      return std::string();
    });
  }

  // Weighted distinct rules within the horizon. An alert is raised when this signal takes
  // the entity from below the threshold to at or above it: a function of the hits in the
  // horizon alone, so when expired state is dropped cannot change what is emitted.
  static bool over(const Typology& typ, const std::vector<Contribution>& hits, uint32_t& total) {
    total = 0;
    uint32_t primaries = 0;
    for (const Contribution& h : hits) {
      total += h.weight;
      primaries += h.role == Role::primary ? 1 : 0;
    }
    return total >= typ.threshold && primaries >= typ.min_primaries;
  }

  void score(size_t t, const Signal& sig) {
    const Typology& typ = set.typologies[t];
    TypologyState& st = typologies[t][sig.entity];
    if (options.track_changes) dirty_typologies.emplace_back(t, sig.entity);
    const int64_t horizon_start = sig.ts_ms - typ.horizon_ms;
    std::erase_if(st.hits, [&](const Contribution& h) { return h.ts_ms <= horizon_start; });
    uint32_t total = 0;
    const bool was_over = over(typ, st.hits, total);
    std::erase_if(st.hits, [&](const Contribution& h) { return h.rule_id == sig.rule->id; });
    st.hits.push_back(Contribution{sig.id, sig.rule->id, sig.rule->pattern, sig.rule->role,
                                   sig.rule->weight, sig.severity, sig.ts_ms, sig.evidence});
    std::stable_sort(
        st.hits.begin(), st.hits.end(),
        [](const Contribution& a, const Contribution& b) { return a.ts_ms < b.ts_ms; });
    const bool now_over = over(typ, st.hits, total);
    listener.on_score(typ, sig.entity, total, sig.ts_ms);
    if (was_over || !now_over) return;
    Alert alert;
    alert.typology = &typ;
    alert.entity = sig.entity;
    alert.trigger_event_id = sig.trigger_event_id;
    alert.ts_ms = sig.ts_ms;
    alert.score = total;
    alert.contributions = st.hits;
    alert.id = hash_id(typ.id, sig.entity, sig.trigger_event_id);
    std::string parts;
    for (const Contribution& h : st.hits) {
      alert.severity = std::max(alert.severity, h.severity);
      if (!parts.empty()) parts += " + ";
      parts += (h.pattern.empty() ? h.rule_id : h.pattern + " " + h.rule_id) + " (" +
               std::to_string(h.weight) + ")";
    }
    alert.explanation = typ.title + ": score " + std::to_string(total) + " (threshold " +
                        std::to_string(typ.threshold) + ") for " + sig.entity + " from " + parts +
                        " within " + format_duration(typ.horizon_ms);
    for (const Contribution& h : st.hits) {
      for (const std::string& id : h.evidence) {
        if (std::find(alert.evidence.begin(), alert.evidence.end(), id) == alert.evidence.end()) {
          alert.evidence.push_back(id);
        }
      }
    }
    ++stats.alerts;
    listener.on_alert(alert);
  }
};

RuleEngine::RuleEngine(const RuleSet& rules, SignalListener& listener, EngineOptions options)
    : impl_(std::make_unique<Impl>(rules, listener, std::move(options))) {}

RuleEngine::~RuleEngine() = default;

void RuleEngine::on_event(const event::Event& event) { impl_->on_event(event); }

// Walks of a history table per lookback (History::expire): an entry outlives its lookback by
// at most 1/16 of it.
constexpr int64_t kHistoryWalks = 16;

void RuleEngine::expire(int64_t watermark_ms) {
  for (CompiledRule& c : impl_->rules) {
    if (c.sequence) c.sequence->expire(watermark_ms);
  }
  for (KeySpace& k : impl_->spaces) k.expire(watermark_ms);
  for (size_t t = 0; t < impl_->typologies.size(); ++t) {
    const int64_t horizon = impl_->set.typologies[t].horizon_ms;
    erase_where(impl_->typologies[t], [&](auto& entry) {
      const size_t erased = std::erase_if(entry.second.hits, [&](const Contribution& h) {
        return h.ts_ms <= watermark_ms - horizon;
      });
      if (erased > 0 && impl_->options.track_changes) {
        impl_->dirty_typologies.emplace_back(t, entry.first);
      }
      return entry.second.hits.empty();
    });
  }
  // A walk of each history table per sixteenth of its lookback, not per call.
  impl_->pairs.expire(watermark_ms - impl_->options.new_pair_lookback_ms,
                      impl_->options.new_pair_lookback_ms / kHistoryWalks);
  impl_->salaries.expire(watermark_ms - impl_->options.salary_lookback_ms,
                         impl_->options.salary_lookback_ms / kHistoryWalks);
}

// ---- State in a StateStore -------------------------------------------------------------
//
// Keys (all under "rules/"):
//   rules/format                       u32 format of everything below (1)
//   rules/k/<key space>\0<key>         a key's windowed-rule states (encode_entity)
//   rules/s/<rule id>\0<key>           a sequence rule's state for one key (sequence.cc)
//   rules/t/<typology id>\0<entity>    an entity's typology hits within the horizon
//   rules/p/<8 bytes, big-endian>      the sender|receiver hash of a pair -> last transfer
//   rules/w/<8 bytes, big-endian>      an account id's hash -> its latest salary (history.h)

namespace {

constexpr uint32_t kStateFormat = 1;
constexpr std::string_view kFormatKey = "rules/format";
constexpr std::string_view kSequencePrefix = "rules/s/";
constexpr std::string_view kTypologyPrefix = "rules/t/";

[[noreturn]] void corrupt(std::string_view what) {
  // The key is not named: it may hold an entity identifier.
  throw state::StateStoreError("state store: a saved " + std::string(what) +
                               " does not decode (corrupt store, or written by an "
                               "incompatible corridor)");
}

void encode_hits(const TypologyState& st, std::string& out) {
  out.clear();
  state::ValueWriter w(out);
  w.u32(static_cast<uint32_t>(st.hits.size()));
  for (const Contribution& h : st.hits) {
    w.bytes(h.signal_id);
    w.bytes(h.rule_id);
    w.bytes(h.pattern);
    w.u8(static_cast<uint8_t>(h.role));
    w.u32(h.weight);
    w.u8(static_cast<uint8_t>(h.severity));
    w.i64(h.ts_ms);
    w.u32(static_cast<uint32_t>(h.evidence.size()));
    for (const std::string& id : h.evidence) w.bytes(id);
  }
}

bool decode_hits(std::string_view in, TypologyState& st) {
  state::ValueReader r(in);
  const uint32_t n = r.u32();
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    Contribution h;
    h.signal_id = r.bytes();
    h.rule_id = r.bytes();
    h.pattern = r.bytes();
    const uint8_t role = r.u8();
    if (role > static_cast<uint8_t>(Role::contributor)) return false;
    h.role = static_cast<Role>(role);
    h.weight = r.u32();
    const uint8_t severity = r.u8();
    if (severity > static_cast<uint8_t>(Severity::critical)) return false;
    h.severity = static_cast<Severity>(severity);
    h.ts_ms = r.i64();
    const uint32_t m = r.u32();
    for (uint32_t j = 0; j < m && r.ok(); ++j) h.evidence.emplace_back(r.bytes());
    st.hits.push_back(std::move(h));
  }
  return r.done();
}

}  // namespace

void RuleEngine::Impl::encode_entity(const KeySpace& k, const Entity& x, std::string& out) {
  out.clear();
  state::ValueWriter w(out);
  w.i64(x.last_ts);
  w.u32(x.count);
  for (const RuleState& rs : x.rules()) {
    const CompiledRule& c = rules[k.rules[rs.slot]];
    w.bytes(c.rule->id);
    w.u64(c.shape);
    w.i64(rs.suppressed_until);
    w.u32(static_cast<uint32_t>(rs.evidence.size()));
    rs.evidence.for_each([&](const EvidenceRing::Entry& e) {
      w.i64(e.ts);
      w.bytes(e.id);
    });
    rs.window.serialize(scratch);
    w.bytes(scratch);
  }
}

// Erases of the keys dropped since the last checkpoint first, then puts of the changed ones
// (a key dropped and then seen again is put: the last operation wins).
void RuleEngine::Impl::save_changed_entities(KeySpace& k, state::WriteBatch& batch) {
  for (const std::string& gone : k.dropped) batch.erase(gone);
  k.dropped.clear();
  std::string value;
  for (const uint64_t h : k.dirty) {
    const auto* at = k.entities.find(h);
    if (at == nullptr) continue;
    for (Entity* x = at->chain.get(); x != nullptr; x = x->next.get()) {
      if (!x->dirty) continue;
      encode_entity(k, *x, value);
      batch.put(k.store_key(x->key), value);
      x->dirty = false;
    }
  }
  k.dirty.clear();
}

void RuleEngine::checkpoint(state::WriteBatch& batch) {
  Impl& m = *impl_;
  if (!m.options.track_changes) {
    throw std::logic_error("RuleEngine::checkpoint needs EngineOptions::track_changes");
  }
  if (!m.format_written) {
    std::string v;
    state::ValueWriter(v).u32(kStateFormat);
    batch.put(kFormatKey, v);
    m.format_written = true;
  }
  for (const std::string& key : m.stale_keys) batch.erase(key);
  m.stale_keys.clear();
  for (KeySpace& k : m.spaces) m.save_changed_entities(k, batch);
  for (CompiledRule& c : m.rules) {
    if (c.sequence) c.sequence->checkpoint(prefixed(kSequencePrefix, c.rule->id, ""), batch);
  }
  std::sort(m.dirty_typologies.begin(), m.dirty_typologies.end());
  m.dirty_typologies.erase(std::unique(m.dirty_typologies.begin(), m.dirty_typologies.end()),
                           m.dirty_typologies.end());
  std::string value;
  for (const auto& [t, entity] : m.dirty_typologies) {
    const std::string key = prefixed(kTypologyPrefix, m.set.typologies[t].id, entity);
    auto it = m.typologies[t].find(entity);
    if (it == m.typologies[t].end()) {
      batch.erase(key);
    } else {
      encode_hits(it->second, value);
      batch.put(key, value);
    }
  }
  m.dirty_typologies.clear();
  m.pairs.checkpoint(batch);
  m.salaries.checkpoint(batch);
}

void RuleEngine::snapshot(state::WriteBatch& batch) const {
  Impl& m = *impl_;
  std::string value;
  state::ValueWriter(value).u32(kStateFormat);
  batch.put(kFormatKey, value);
  std::string entity_value;
  for (const KeySpace& k : m.spaces) {
    k.entities.for_each([&](uint64_t, const std::unique_ptr<Entity>& head) {
      for (const Entity* x = head.get(); x != nullptr; x = x->next.get()) {
        m.encode_entity(k, *x, entity_value);
        batch.put(k.store_key(x->key), entity_value);
      }
    });
  }
  for (const CompiledRule& c : m.rules) {
    if (c.sequence) c.sequence->snapshot(prefixed(kSequencePrefix, c.rule->id, ""), batch);
  }
  for (size_t t = 0; t < m.typologies.size(); ++t) {
    for (const auto& [entity, st] : m.typologies[t]) {
      encode_hits(st, value);
      batch.put(prefixed(kTypologyPrefix, m.set.typologies[t].id, entity), value);
    }
  }
  m.pairs.snapshot(batch);
  m.salaries.snapshot(batch);
}

RestoreStats RuleEngine::restore(const state::StateStore& store) {
  Impl& m = *impl_;
  if (m.stats.events > 0) throw std::logic_error("RuleEngine::restore after events");
  RestoreStats out;
  if (const auto format = store.get(kFormatKey)) {
    state::ValueReader r(*format);
    const uint32_t f = r.u32();
    if (!r.done()) corrupt("format marker");
    if (f != kStateFormat) {
      throw state::StateStoreError("state store: rule state format " + std::to_string(f) +
                                   " is not one this corridor reads (" +
                                   std::to_string(kStateFormat) + ")");
    }
    m.format_written = true;
  }

  store.scan(kEntityPrefix, [&](std::string_view key, std::string_view value) {
    const std::string_view rest = key.substr(kEntityPrefix.size());
    const size_t nul = rest.find('\0');
    if (nul == std::string_view::npos) corrupt("key of a rule state");
    const std::string_view space_name = rest.substr(0, nul);
    const std::string_view entity_key = rest.substr(nul + 1);
    KeySpace* k = nullptr;
    for (KeySpace& s : m.spaces) {
      if (s.name == space_name) k = &s;
    }
    state::ValueReader r(value);
    const int64_t last_ts = r.i64();
    const uint32_t n = r.u32();
    if (!r.ok()) corrupt("rule state");
    std::unique_ptr<Entity> x = Entity::make(entity_key);
    x->last_ts = last_ts;
    bool dropped_any = false;
    for (uint32_t i = 0; i < n; ++i) {
      const std::string_view rule_id = r.bytes();
      const uint64_t shape = r.u64();
      const int64_t suppressed_until = r.i64();
      const uint32_t evidence = r.u32();
      if (!r.ok()) corrupt("rule state");
      const CompiledRule* c = nullptr;
      if (k != nullptr) {
        for (const size_t ri : k->rules) {
          if (m.rules[ri].rule->id == rule_id && m.rules[ri].shape == shape) c = &m.rules[ri];
        }
      }
      RuleState* rs = c != nullptr ? &Entity::rule(x, c->slot) : nullptr;
      for (uint32_t j = 0; j < evidence; ++j) {
        const int64_t ts = r.i64();
        const std::string_view id = r.bytes();
        if (!r.ok()) corrupt("rule state");
        if (rs != nullptr && c->rule->evidence > 0) rs->evidence.add(ts, id, c->rule->evidence);
      }
      const std::string_view window = r.bytes();
      if (!r.ok()) corrupt("rule state");
      if (rs == nullptr) {
        ++out.dropped_states;
        dropped_any = true;
        continue;
      }
      rs->suppressed_until = suppressed_until;
      if (!window.empty() && !rs->window.deserialize(window)) corrupt("window");
      ++out.rule_states;
    }
    if (!r.done()) corrupt("rule state");
    if (x->count == 0) {
      if (m.options.track_changes) m.stale_keys.emplace_back(key);
      return;
    }
    const uint64_t h = m.hash_key(entity_key);
    KeyIndex<Entity>::Slot* const at = k->entities.find(h);
    for (const Entity* y = at ? at->chain.get() : nullptr; y != nullptr; y = y->next.get()) {
      if (y->key == entity_key) corrupt("rule state (key saved twice)");
    }
    k->live_rule_states += x->count;
    x->queued_slot = expiry_slot(last_ts);
    k->expiry.emplace_back(x->queued_slot, h);
    if (dropped_any && k->track) {
      x->dirty = true;
      k->dirty.push_back(h);
    }
    if (at != nullptr) {
      x->next = std::move(at->chain);
      at->chain = std::move(x);
    } else {
      k->entities.insert(h, std::move(x));
    }
    ++out.keys;
  });

  store.scan(kSequencePrefix, [&](std::string_view key, std::string_view value) {
    const std::string_view rest = key.substr(kSequencePrefix.size());
    const size_t nul = rest.find('\0');
    if (nul == std::string_view::npos) corrupt("key of a sequence state");
    const std::string_view rule_id = rest.substr(0, nul);
    for (CompiledRule& c : m.rules) {
      if (c.sequence && c.rule->id == rule_id) {
        switch (c.sequence->restore(rest.substr(nul + 1), value)) {
          case SequenceRuleState::Restored::yes:
            ++out.sequence_keys;
            return;
          case SequenceRuleState::Restored::changed_rule:
            ++out.dropped_states;
            if (m.options.track_changes) m.stale_keys.emplace_back(key);
            return;
          case SequenceRuleState::Restored::corrupt:
            corrupt("sequence state");
        }
      }
    }
    ++out.dropped_states;  // the rule is gone
    if (m.options.track_changes) m.stale_keys.emplace_back(key);
  });

  store.scan(kTypologyPrefix, [&](std::string_view key, std::string_view value) {
    const std::string_view rest = key.substr(kTypologyPrefix.size());
    const size_t nul = rest.find('\0');
    if (nul == std::string_view::npos) corrupt("key of a typology state");
    const std::string_view id = rest.substr(0, nul);
    for (size_t t = 0; t < m.set.typologies.size(); ++t) {
      if (m.set.typologies[t].id != id) continue;
      TypologyState st;
      if (!decode_hits(value, st)) corrupt("typology state");
      m.typologies[t][std::string(rest.substr(nul + 1))] = std::move(st);
      ++out.typology_entities;
      return;
    }
    if (m.options.track_changes) m.stale_keys.emplace_back(key);  // the typology is gone
  });

  if (!m.pairs.restore(store, out.pairs)) corrupt("pair");
  if (!m.salaries.restore(store, out.salaries)) corrupt("salary");
  return out;
}

EngineStats RuleEngine::stats() const {
  EngineStats s = impl_->stats;
  s.state_keys = 0;
  for (const CompiledRule& c : impl_->rules) {
    if (c.sequence) s.state_keys += c.sequence->size();
  }
  for (const KeySpace& k : impl_->spaces) s.state_keys += k.live_rule_states;
  return s;
}

}  // namespace corridor::rules
