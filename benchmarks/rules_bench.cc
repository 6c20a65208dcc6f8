// Rule evaluation throughput: RuleEngine::on_event over a realistic in-memory event stream
// with a pack of 12 windowed rules of mixed kinds over two typologies, on one core.
// Target: >= 1 million events/s per core (stretch: 2 million).
//
// The pack (kPack below, loaded with parse_rule_pack): rules after TYPOLOGIES.md R1-R14 with
// field keys (receiver.id, sender.id, sender.device, sender.phone, agent), a composite key
// ([agent, receiver.id]) and account keys (each transfer seen from both sides); windows of
// 60m to 30d; count, sum, min, max, last, mean, cv, distinct (exact, and sketched on hub
// receivers and busy keys), share and ratio; where-clauses, is_new_pair, in_list,
// near_below, is_round; suppression; two typologies (smuggling_fee, debt_bondage).
//
// The stream (deterministic): remittances 55 %, transfers 15 %, salaries 10 %, cash-ins 8 %,
// cash-outs 7 %, fees 5 % across five corridors (MY->BD, QA->NP, AE->LK, TH->MM, SA->PH);
// 300,000 customers (senders; also the receivers of salaries and cash-ins) and 250,000
// beneficiaries, 2,000 agents, 3,000 employers. Heavy-tailed: customers are drawn as
// n * u^2 (the busiest sends ~0.2 % of all events, the median one a handful over the run),
// 10 % of payments go to hub beneficiaries drawn as n * u^3, the rest to the customer's one
// or two usual beneficiaries; agents likewise. Amounts of 20-5,000 USD (log-normal, median
// 300), in the corridor's currency or USD (15 %), converted exactly into amount_base; a few
// structurers just under 3,000, shared phones and devices. Event time advances 1 s per
// event on average, in order.
//
// Events are generated 8,192 at a time outside the timed region (PauseTiming) into a chunk:
// decoded event::Event objects whose strings all lie in the chunk's arena, one event after
// the other, as a decoder's views point into the record it parsed. The engine sees each
// Event once, in order.
//
//   BM_Rules/expire:0            on_event only
//   BM_Rules/expire:1            plus RuleEngine::expire(max_ts - 1 h) every 65,536 events,
//                                as rules/eval/rule_handler.cc does at batch ends
//   BM_Rules/expire:0/ids:uuid   event ids of 36 characters instead of 13
//
// Each run first feeds 1,209,600 events (14 days of event time, untimed: every window up to
// 7 days is full, the 30-day ones half) to a new engine, then times the next 2,000,000
// (about 23 days). Fixed iteration counts: every repetition times the same events and
// reports the same signal counts.
//
// Counters: items_per_second = events/s; signals_per_M, alerts_per_M, suppressed_per_M (rule
// hits not signalled because of `suppress`) per million timed events; state_keys = (rule,
// key) entries at the end; state_MB = heap bytes in use (jemalloc's stats.allocated when the
// bench links jemalloc, as it does by default like the corridor binary; otherwise glibc
// mallinfo2, small and mapped blocks) grown since
// before the engine was built, measured at the end with the engine alive: its whole state
// (windows, evidence, keys, hash tables, is_new_pair table, typology state);
// state_MB_warm = the same at the end of the warm-up (the state grows through the timed
// region while the 30-day windows fill); page_faults = the process's minor page faults from the
// first timed event to the last, the paused generation between chunks included (first
// touches of memory as the state grows; with huge pages, one per 2 MiB; a benchmark run after
// another in the same process reuses the memory the first freed, and faults less);
// expire_ns_per_event (expire:1) = the timed region's time in
// RuleEngine::expire per event.
//
// Environment: RULES_BENCH_WARM / RULES_BENCH_EVENTS override the warm-up and timed event
// counts (for profiling); RULES_BENCH_SCALE=n divides the customers and beneficiaries by n;
// RULES_BENCH_DETAIL=1 prints each rule's signals per million events. Under callgrind, run
// with --collect-atstart=no: collection is on only in the timed region.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <sys/resource.h>
#if CORRIDOR_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine/event/event.h"
#include "engine/event/money.h"
#include "rules/eval/rule_engine.h"
#include "rules/model/rule.h"

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define CORRIDOR_CALLGRIND_TOGGLE() CALLGRIND_TOGGLE_COLLECT
#else
#define CORRIDOR_CALLGRIND_TOGGLE() \
  do {                              \
  } while (0)
#endif

namespace {

using namespace corridor;

constexpr int64_t kT0 = 1'772'323'200'000;  // 2026-03-01T00:00:00Z
constexpr int64_t kHour = 3'600'000;
constexpr uint64_t kExpireEvery = 1 << 16;  // rules/eval/rule_handler.h
constexpr int64_t kLateness = kHour;        // pipeline default allowed lateness

// ---- The pack ----------------------------------------------------------------------------
const char* kPack = R"yaml(pack: bench.mixed
version: 1
doc: Benchmark pack, twelve windowed rules over two typologies.
lists:
  transit_countries: [MM, NP]
  fee_corridors: [BD, NP, MM]
typologies:
  - {id: smuggling_fee, title: Migrant-smuggling fee payments, horizon: 30d, threshold: 80, min_primaries: 1}
  - {id: debt_bondage, title: Debt bondage repayments, horizon: 30d, threshold: 80, min_primaries: 1}
rules:
  - id: sf.fan_in_unrelated_senders
    title: Many unrelated senders pay one beneficiary
    pattern: R1
    typology: smuggling_fee
    key: receiver.id
    filter: kind in ["transfer", "remittance"] and amount_base between 200 and 5000
    window: 7d
    aggregate:
      senders: distinct(sender.id)
      origins: distinct(sender.city)
      new_pairs: count() where is_new_pair
      total: sum(amount_base)
    when: senders >= 8 and origins >= 3 and new_pairs >= 0.8 * senders
    explain: "{senders} senders from {origins} cities paid {key} {total} {base} within {window}"
    severity: medium
    weight: 40
    evidence: 20
    suppress: 24h
  - id: sf.split_below_threshold
    title: Transfers just under the reporting threshold at several agents
    pattern: R2
    typology: smuggling_fee
    key: sender.id
    filter: near_below(amount_base, 3000, 0.2)
    window: 48h
    aggregate:
      transfers: count()
      agents: distinct(agent)
      total: sum(amount_base)
    when: transfers >= 2 and agents >= 2
    severity: high
    weight: 40
    suppress: 24h
  - id: sf.cash_in_then_out
    title: Cash in, then rapid cross-border out
    pattern: R3
    typology: smuggling_fee
    key: account
    filter: >
      kind == "cash_in" and direction == "in"
      or direction == "out" and in_list("transit_countries", counterparty.country)
    window: 48h
    aggregate:
      inflow: sum(amount_base) where direction == "in"
      outflow: sum(amount_base) where direction == "out"
      out_in: ratio(outflow, inflow)
    when: inflow >= 2000 and out_in >= 0.8
    severity: high
    weight: 40
    suppress: 24h
  - id: sf.senders_at_one_agent
    title: Several senders pay one receiver at one agent within the hour
    pattern: R14
    typology: smuggling_fee
    key: [agent, receiver.id]
    filter: kind in ["transfer", "remittance"]
    window: 60m
    aggregate:
      senders: distinct(sender.id)
    when: senders >= 3
    severity: medium
    weight: 40
    suppress: 24h
  - id: sf.fee_in_legs
    title: A sender pays several new beneficiaries
    pattern: R5
    typology: smuggling_fee
    key: sender.id
    filter: kind in ["transfer", "remittance"]
    window: 72h
    aggregate:
      new_payees: count() where is_new_pair
      countries: distinct(receiver.country)
      total: sum(amount_base)
    when: new_payees >= 4 and total >= 5000
    severity: medium
    weight: 40
    suppress: 24h
  - id: sf.shared_device
    title: One device used by several customers
    pattern: R9
    typology: smuggling_fee
    role: contributor
    key: sender.device
    window: 30d
    bucket: 1d
    aggregate:
      customers: distinct(sender.id)
      payees: distinct(receiver.id)
    when: customers >= 4
    severity: low
    weight: 20
    suppress: 7d
  - id: sf.shared_phone
    title: One phone number used by several customers
    pattern: R9
    typology: smuggling_fee
    role: contributor
    key: sender.phone
    window: 30d
    bucket: 1d
    aggregate:
      customers: distinct(sender.id)
    when: customers >= 3
    severity: low
    weight: 20
    suppress: 7d
  - id: sf.round_fee_band
    title: Round payments in a corridor's fee band
    pattern: R6
    typology: smuggling_fee
    role: contributor
    key: receiver.id
    filter: is_round(amount_base, 100) and amount_base between 1000 and 5000 and in_list("fee_corridors", receiver.country)
    window: 14d
    aggregate:
      payments: count()
      payers: distinct(sender.id)
      smallest: min(amount_base)
      largest: max(amount_base)
      latest: last(amount_base)
    when: payments >= 3 and payers >= 2 and largest - smallest <= 500
    severity: low
    weight: 20
    suppress: 24h
  - id: sf.collector_agent
    title: Cash-outs concentrated at one agent
    pattern: R8
    typology: smuggling_fee
    role: contributor
    key: agent
    filter: kind == "cash_out"
    window: 24h
    aggregate:
      payouts: count()
      customers: distinct(sender.id)
      total: sum(amount_base)
    when: payouts >= 150 and total >= 150000
    severity: low
    weight: 20
    suppress: 24h
  - id: db.salary_sweep
    title: Salary swept to one party within a day
    pattern: R7
    typology: debt_bondage
    key: account
    filter: kind in ["salary", "remittance", "transfer"]
    window: 24h
    aggregate:
      salary_in: sum(amount_base) where kind == "salary" and direction == "in"
      sent_out: sum(amount_base) where direction == "out"
      sweep: ratio(sent_out, salary_in)
      payments: count() where direction == "out"
      payees: distinct(counterparty.id) where direction == "out"
    when: salary_in >= 800 and sweep between 0.9 and 1.0 and payments == 1 and payees == 1
    severity: high
    weight: 50
    suppress: 7d
  - id: db.fixed_instalments
    title: Fixed instalments from several payers
    pattern: R13
    typology: debt_bondage
    key: receiver.id
    filter: kind in ["transfer", "remittance"]
    window: 30d
    bucket: 12h
    aggregate:
      payments: count()
      payers: distinct(sender.id)
      spread: cv(amount_base)
      average: mean(amount_base)
    when: payments >= 8 and payers >= 3 and spread < 0.15 and average >= 100
    severity: medium
    weight: 40
    suppress: 7d
  - id: db.broker_workers
    title: Workers of one or two employers pay a new beneficiary
    pattern: R12
    typology: debt_bondage
    role: contributor
    key: receiver.id
    filter: sender.employer != "" and kind in ["transfer", "remittance"]
    window: 30d
    bucket: 12h
    aggregate:
      workers: distinct(sender.id)
      employers: distinct(sender.employer)
      first_time: share(is_new_pair)
    when: workers >= 6 and employers <= 2 and first_time >= 0.5
    severity: medium
    weight: 30
    suppress: 7d
)yaml";

const rules::RuleSet& rule_set() {
  static const rules::RuleSet set = [] {
    rules::RuleLoadResult r = rules::parse_rule_pack("bench.pack.yaml", kPack);
    if (!r.rules) {
      std::fprintf(stderr, "%s\n", config::format_all(r.errors).c_str());
      std::abort();
    }
    return std::move(*r.rules);
  }();
  return set;
}

// ---- The stream ---------------------------------------------------------------------------

struct Corridor {
  const char* from;
  const char* to;
  const char* currency;
  const char* rate;  // USD per unit
  double share;
  const char* from_cities[4];
  const char* to_cities[4];
};
// clang-format off
const Corridor kCorridors[5] = {
    {"MY", "BD", "MYR", "0.2245", 0.35, {"Kuala Lumpur", "Johor Bahru", "Penang", "Ipoh"},
     {"Dhaka", "Chittagong", "Sylhet", "Comilla"}},
    {"QA", "NP", "QAR", "0.2747", 0.15, {"Doha", "Al Rayyan", "Al Wakrah", "Al Khor"},
     {"Kathmandu", "Pokhara", "Biratnagar", "Birgunj"}},
    {"AE", "LK", "AED", "0.2723", 0.15, {"Dubai", "Abu Dhabi", "Sharjah", "Ajman"},
     {"Colombo", "Kandy", "Galle", "Jaffna"}},
    {"TH", "MM", "THB", "0.0282", 0.15, {"Bangkok", "Mae Sot", "Samut Sakhon", "Chiang Mai"},
     {"Yangon", "Mandalay", "Mawlamyine", "Myawaddy"}},
    {"SA", "PH", "SAR", "0.2666", 0.20, {"Riyadh", "Jeddah", "Dammam", "Mecca"},
     {"Manila", "Cebu", "Davao", "Iloilo"}},
};
// clang-format on

// RULES_BENCH_SCALE=n divides these two by n (to see how the speed depends on the state size).
uint32_t kCustomers = 300'000;       // senders (migrant workers); also salary receivers
uint32_t kReceivers = 250'000;       // beneficiaries at home
constexpr uint32_t kAgents = 2'000;  // 400 per corridor
constexpr uint32_t kEmployers = 3'000;
constexpr uint32_t kSharedPhones = 500;
constexpr uint32_t kKiosks = 300;  // devices several customers use (agent kiosks, brokers)
constexpr uint32_t kNone = UINT32_MAX;
constexpr size_t kChunk = 8192;  // events generated at a time, outside the timed region

// floor(n * u^a): index 0 is the most active; the larger `a`, the heavier the head.
uint32_t heavy(std::mt19937_64& rng, uint32_t n, double a) {
  const double u = std::uniform_real_distribution<double>(0, 1)(rng);
  return std::min(n - 1, static_cast<uint32_t>(n * std::pow(u, a)));
}

// Events by the chunk, as a decoder would hand them over: every string of an event (its id,
// the parties' fields, the agent) lives in the chunk's arena, one event after the other, as
// the decoder's views point into the record it just parsed. Deterministic.
class Generator {
 public:
  struct Chunk {
    std::vector<event::Event> events;
    std::string arena;
  };

  // uuid_ids: event ids of 36 characters (UUID-shaped, as many feeds and CloudEvents carry)
  // instead of 13 ("tx-0000000042"): longer than std::string's in-place capacity.
  explicit Generator(bool uuid_ids = false) : rng_(42), uuid_ids_(uuid_ids) {
    for (int c = 0; c < 5; ++c) event::parse_rate(kCorridors[c].rate, rates_[c]);
    event::parse_rate("1", rates_[5]);
    customers_.resize(kCustomers);
    for (uint32_t c = 0; c < kCustomers; ++c) {
      Customer& u = customers_[c];
      double x = uniform();
      uint8_t k = 0;
      while (k < 4 && x >= kCorridors[k].share) x -= kCorridors[k++].share;
      u.corridor = k;
      u.city = static_cast<uint8_t>(heavy(rng_, 4, 1.5));
      // 0.5 % share one of 500 phone numbers (brokers' phones), the rest have their own.
      u.phone = chance(0.005) ? heavy(rng_, kSharedPhones, 1.5) : kNone;
      u.employer = chance(0.6) ? heavy(rng_, kEmployers, 2.0) : kNone;
      // Home receiver and agent in the customer's corridor; one in five has a second payee.
      u.home = static_cast<uint32_t>(rng_() % (kReceivers / 5)) * 5 + k;
      u.second = chance(0.2) ? static_cast<uint32_t>(rng_() % (kReceivers / 5)) * 5 + k : u.home;
      u.agent = static_cast<uint32_t>(rng_() % (kAgents / 5)) * 5 + k;
      u.kiosk = chance(0.02) ? heavy(rng_, kKiosks, 2.0) : kNone;
      u.structurer = chance(0.002);
    }
    receiver_city_.resize(kReceivers);
    for (auto& c : receiver_city_) c = static_cast<uint8_t>(heavy(rng_, 4, 1.5));
  }

  // Replaces `out` with the next `n` events.
  void next(size_t n, Chunk& out) {
    out.events.resize(n);
    out.arena.clear();
    out.arena.reserve(n * 192);
    const char* const base = out.arena.data();
    for (size_t i = 0; i < n; ++i) make(out.events[i], out.arena);
    if (out.arena.data() != base) std::abort();  // the views would dangle
  }

 private:
  struct Customer {
    uint32_t home, second, agent, phone, employer, kiosk;
    uint8_t corridor, city;
    bool structurer;
  };

  double uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  bool chance(double p) { return uniform() < p; }

  static std::string_view put(std::string& arena, std::string_view s) {
    const size_t at = arena.size();
    arena.append(s);
    return std::string_view(arena.data() + at, s.size());
  }
  template <typename... A>
  static std::string_view putf(std::string& arena, const char* fmt, A... args) {
    char b[32];
    const int len = std::snprintf(b, sizeof b, fmt, args...);
    return put(arena, std::string_view(b, static_cast<size_t>(len)));
  }

  void customer_party(std::string& a, uint32_t c, event::Party& p) {
    const Customer& u = customers_[c];
    const Corridor& co = kCorridors[u.corridor];
    p.id = putf(a, "C-%07u", c);
    p.country = put(a, co.from);
    p.city = put(a, co.from_cities[u.city]);
    p.phone = u.phone != kNone ? putf(a, "+60-19%07u", u.phone)
                               : putf(a, "+%u-1%08u", 60u + u.corridor, c);
    if (u.employer != kNone) p.employer = putf(a, "E-%05u", u.employer);
  }

  void make(event::Event& e, std::string& a) {
    e = event::Event{};
    const uint64_t id = next_id_++;
    if (uuid_ids_) {
      uint64_t h = id * 0x9E3779B97F4A7C15ULL;  // splitmix64 of the counter: stable, distinct
      h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ULL;
      h = (h ^ (h >> 27)) * 0x94D049BB133111EBULL;
      h ^= h >> 31;
      char b[40];
      std::snprintf(b, sizeof b, "%08llx-%04llx-4%03llx-a%03llx-%012llx",
                    static_cast<unsigned long long>(h >> 32),
                    static_cast<unsigned long long>((h >> 16) & 0xffff),
                    static_cast<unsigned long long>(h & 0xfff),
                    static_cast<unsigned long long>((id >> 48) & 0xfff),
                    static_cast<unsigned long long>(id & 0xffffffffffffULL));
      e.id = put(a, std::string_view(b, 36));
    } else {
      e.id = putf(a, "tx-%010llu", static_cast<unsigned long long>(id));
    }
    ts_ += static_cast<int64_t>(rng_() % 2000);  // 1 s apart on average
    e.ts_ms = ts_;
    const uint32_t c = heavy(rng_, kCustomers, 2.0);
    const Customer& u = customers_[c];
    const uint8_t k = u.corridor;
    const Corridor& co = kCorridors[k];
    const double x = uniform();
    e.kind = x < 0.55   ? event::Kind::remittance
             : x < 0.70 ? event::Kind::transfer
             : x < 0.80 ? event::Kind::salary
             : x < 0.88 ? event::Kind::cash_in
             : x < 0.95 ? event::Kind::cash_out
                        : event::Kind::fee;
    const double y = uniform();
    enum { mto, mobile, bank } channel = y < 0.6 ? mto : y < 0.9 ? mobile : bank;
    double usd = 0;
    switch (e.kind) {
      case event::Kind::remittance:
      case event::Kind::transfer: {
        customer_party(a, c, e.sender);
        uint32_t r = 0;
        if (chance(0.1)) {  // a hub: collectors, brokers, family businesses
          r = heavy(rng_, kReceivers / 5, 3.0) * 5 + k;
        } else {
          r = chance(0.8) ? u.home : u.second;
        }
        e.receiver.id = putf(a, "R-%06u", r);
        e.receiver.country = put(a, co.to);
        e.receiver.city = put(a, co.to_cities[receiver_city_[r]]);
        usd = u.structurer && chance(0.6) ? 2400 + static_cast<double>(rng_() % 59'999) / 100
                                          : std::clamp(remit_(rng_), 20.0, 5000.0);
        if (chance(0.25)) e.purpose = put(a, "family_support");
        break;
      }
      case event::Kind::salary: {
        const uint32_t m = u.employer != kNone ? u.employer : heavy(rng_, kEmployers, 2.0);
        e.sender.id = putf(a, "E-%05u", m);
        e.sender.country = put(a, co.from);
        customer_party(a, c, e.receiver);
        channel = bank;
        usd = 300 + static_cast<double>(rng_() % 1200);
        break;
      }
      case event::Kind::cash_in:
        customer_party(a, c, e.receiver);
        channel = mto;
        usd = std::clamp(remit_(rng_) * 1.5, 20.0, 5000.0);
        break;
      case event::Kind::cash_out:
        customer_party(a, c, e.sender);
        channel = mto;
        usd = std::clamp(remit_(rng_), 20.0, 5000.0);
        break;
      default:  // fee, to the operator's account in the sending country
        customer_party(a, c, e.sender);
        e.receiver.id = putf(a, "MTO-FEES-%s", co.from);
        e.receiver.country = put(a, co.from);
        usd = 2 + static_cast<double>(rng_() % 2800) / 100;
        break;
    }
    e.channel = put(a, channel == mto ? "mto" : channel == mobile ? "mobile" : "bank");
    if (channel == mto) {
      uint32_t ag = chance(0.6) ? u.agent : heavy(rng_, kAgents / 5, 2.5) * 5 + k;
      if (u.structurer && chance(0.5)) ag = static_cast<uint32_t>(rng_() % (kAgents / 5)) * 5 + k;
      e.agent = putf(a, "AG-%04u", ag);
    } else if (channel == mobile && e.sender.id.starts_with("C-")) {
      e.sender.device = u.kiosk != kNone ? putf(a, "K-%05u", u.kiosk) : putf(a, "D-%07u", c);
    }
    // 15 % in USD (a third of the larger ones round hundreds), else the corridor's currency.
    int cur = k;
    int64_t units = 0;
    if (chance(0.15)) {
      cur = 5;
      if (usd >= 1000 && chance(0.33)) usd = std::round(usd / 100) * 100;
      units = std::llround(usd * 100) * 100;
    } else {
      const double local = usd / (static_cast<double>(rates_[k].scaled) / event::Rate::kUnit);
      units = std::llround(local * 100) * 100;
    }
    e.amount.units = std::max<int64_t>(units, 100);
    const char* code = cur == 5 ? "USD" : co.currency;
    e.currency.code = {code[0], code[1], code[2]};
    e.amount_base = *event::convert(e.amount, rates_[cur]);
  }

  std::mt19937_64 rng_;
  bool uuid_ids_;
  std::lognormal_distribution<double> remit_{std::log(300.0), 0.9};
  event::Rate rates_[6];
  std::vector<Customer> customers_;
  std::vector<uint8_t> receiver_city_;
  int64_t ts_ = kT0;
  uint64_t next_id_ = 0;
};

// ---- The benchmarks -----------------------------------------------------------------------

size_t g_warm_events = 1'209'600;  // 14 days at 1 event/s
size_t g_timed_events = 2'000'000;
bool g_detail = false;

struct CountingListener final : rules::SignalListener {
  uint64_t signals = 0, alerts = 0;
  // With RULES_BENCH_DETAIL only: signals per rule, and an FNV-1a digest of everything the
  // engine emitted, in order (to check that a change to the engine changed no output).
  std::map<std::string, uint64_t> by_rule;
  uint64_t digest = 0xcbf29ce484222325ULL;
  void mix(std::string_view s) {
    for (const char ch : s) digest = (digest ^ static_cast<unsigned char>(ch)) * 0x100000001b3ULL;
    digest = (digest ^ 0xff) * 0x100000001b3ULL;
  }
  void mix(int64_t v) { mix(std::to_string(v)); }
  void on_signal(const rules::Signal& s) override {
    ++signals;
    if (!g_detail) return;
    ++by_rule[s.rule->id];
    for (std::string_view f :
         {std::string_view(s.id), std::string_view(s.rule->id), std::string_view(s.key),
          std::string_view(s.entity), std::string_view(s.direction),
          std::string_view(s.trigger_event_id), std::string_view(s.explanation)}) {
      mix(f);
    }
    mix(s.ts_ms), mix(s.window_start_ms), mix(s.window_end_ms);
    for (const auto& [name, value] : s.values) mix(name), mix(value);
    for (const auto& id : s.evidence) mix(id);
  }
  void on_alert(const rules::Alert& a) override {
    ++alerts;
    if (!g_detail) return;
    ++by_rule["alert " + a.typology->id];
    mix(a.id), mix(a.typology->id), mix(a.entity), mix(a.trigger_event_id), mix(a.explanation);
    mix(a.ts_ms), mix(static_cast<int64_t>(a.score)), mix(static_cast<int64_t>(a.severity));
    for (const auto& c : a.contributions) {
      mix(c.signal_id), mix(c.rule_id), mix(c.pattern), mix(static_cast<int64_t>(c.weight));
      mix(c.ts_ms), mix(static_cast<int64_t>(c.role));
      for (const auto& id : c.evidence) mix(id);
    }
    for (const auto& id : a.evidence) mix(id);
  }
};

#if CORRIDOR_JEMALLOC
// Heap bytes in use: what jemalloc has handed out (stats.allocated, refreshed by "epoch").
size_t heap_in_use() {
  uint64_t epoch = 1;
  size_t size = sizeof epoch;
  mallctl("epoch", &epoch, &size, &epoch, size);
  size_t allocated = 0;
  size = sizeof allocated;
  if (mallctl("stats.allocated", &allocated, &size, nullptr, 0) != 0) return 0;
  return allocated;
}
#else
// Heap bytes in use: small blocks (uordblks) and large ones, which glibc maps separately
// (hblkhd: hash tables' slot arrays, for one).
size_t heap_in_use() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}
#endif

// Minor page faults of the process so far: first touches of memory the kernel maps in,
// which the state's growth in the timed region costs.
long minor_faults() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

void BM_Rules(benchmark::State& state, const char* name, bool expire, bool uuid_ids) {
  const rules::RuleSet& set = rule_set();
  Generator gen(uuid_ids);
  Generator::Chunk chunk;
  CountingListener listener;
  const size_t heap0 = heap_in_use();
  size_t heap_warm = 0, heap_end = 0;
  long faults_timed = 0;  // minor page faults from the first timed event to the last
  rules::EngineStats warm_stats, end_stats;
  std::chrono::steady_clock::duration expire_time{};  // in RuleEngine::expire, timed events
  {
    rules::RuleEngine engine(set, listener);
    int64_t max_ts = INT64_MIN;
    uint64_t since_expire = 0;
    size_t j = 0;
    // The heap in use without the generator's chunk (its arena and events).
    const auto engine_heap = [&] {
      return heap_in_use() - chunk.arena.capacity() -
             chunk.events.capacity() * sizeof(event::Event);
    };
    const auto step = [&] {
      const event::Event& ev = chunk.events[j++];
      engine.on_event(ev);
      if (expire) {
        max_ts = std::max(max_ts, ev.ts_ms);
        if (++since_expire == kExpireEvery) {
          const auto t0 = std::chrono::steady_clock::now();
          engine.expire(max_ts - kLateness);
          expire_time += std::chrono::steady_clock::now() - t0;
          since_expire = 0;
        }
      }
    };
    for (size_t done = 0; done < g_warm_events; done += kChunk) {
      gen.next(std::min(kChunk, g_warm_events - done), chunk);
      j = 0;
      while (j < chunk.events.size()) step();
    }
    warm_stats = engine.stats();
    heap_warm = engine_heap();
    expire_time = {};
    if (g_detail) listener.by_rule.clear();  // the digest covers warm-up and timed outputs
    gen.next(kChunk, chunk);
    j = 0;
    faults_timed = -minor_faults();
    CORRIDOR_CALLGRIND_TOGGLE();
    for (auto _ : state) {
      if (j == kChunk) {
        CORRIDOR_CALLGRIND_TOGGLE();
        state.PauseTiming();
        gen.next(kChunk, chunk);
        j = 0;
        state.ResumeTiming();
        CORRIDOR_CALLGRIND_TOGGLE();
      }
      step();
    }
    CORRIDOR_CALLGRIND_TOGGLE();
    faults_timed += minor_faults();
    end_stats = engine.stats();
    heap_end = engine_heap();
  }
  const double per_m = 1e6 / static_cast<double>(state.iterations());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["signals_per_M"] =
      static_cast<double>(end_stats.signals - warm_stats.signals) * per_m;
  state.counters["alerts_per_M"] =
      static_cast<double>(end_stats.alerts - warm_stats.alerts) * per_m;
  state.counters["suppressed_per_M"] =
      static_cast<double>(end_stats.suppressed - warm_stats.suppressed) * per_m;
  state.counters["state_keys"] = static_cast<double>(end_stats.state_keys);
  state.counters["state_MB"] = static_cast<double>(heap_end - heap0) / 1e6;
  state.counters["state_MB_warm"] = static_cast<double>(heap_warm - heap0) / 1e6;
  state.counters["page_faults"] = static_cast<double>(faults_timed);
  // expire:1: the share of the timed region spent dropping idle state.
  if (expire) {
    state.counters["expire_ns_per_event"] =
        std::chrono::duration<double, std::nano>(expire_time).count() /
        static_cast<double>(state.iterations());
  }
  if (g_detail) {
    std::fprintf(stderr, "%s: %llu signals, %llu alerts in all, digest %016llx\n", name,
                 static_cast<unsigned long long>(listener.signals),
                 static_cast<unsigned long long>(listener.alerts),
                 static_cast<unsigned long long>(listener.digest));
    for (const auto& [id, n] : listener.by_rule) {
      std::fprintf(stderr, "  %-32s %8.1f per M events\n", id.c_str(),
                   static_cast<double>(n) * per_m);
    }
  }
}

size_t env_size(const char* name, size_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? static_cast<size_t>(std::strtoull(v, nullptr, 10)) : fallback;
}

}  // namespace

// RULES_BENCH_WARM / RULES_BENCH_EVENTS override the warm-up and timed event counts (for
// profiling); RULES_BENCH_DETAIL=1 prints the signals of each rule per million events.
int main(int argc, char** argv) {
  g_warm_events = env_size("RULES_BENCH_WARM", g_warm_events);
  g_timed_events = env_size("RULES_BENCH_EVENTS", g_timed_events);
  g_detail = env_size("RULES_BENCH_DETAIL", 0) != 0;
  const size_t scale = std::max<size_t>(1, env_size("RULES_BENCH_SCALE", 1));
  kCustomers = static_cast<uint32_t>(kCustomers / scale);
  kReceivers = static_cast<uint32_t>(kReceivers / scale / 5 * 5);
  const struct {
    const char* name;
    bool expire, uuid_ids;
  } variants[] = {{"BM_Rules/expire:0", false, false},
                  {"BM_Rules/expire:1", true, false},
                  {"BM_Rules/expire:0/ids:uuid", false, true}};
  for (const auto& v : variants) {
    benchmark::RegisterBenchmark(
        v.name, [v](benchmark::State& s) { BM_Rules(s, v.name, v.expire, v.uuid_ids); })
        ->Iterations(static_cast<benchmark::IterationCount>(g_timed_events))
        ->Unit(benchmark::kNanosecond);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
