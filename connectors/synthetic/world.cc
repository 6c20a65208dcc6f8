// The background population and the event stream. How the population behaves is
// described in connectors/synthetic/README.md; keep the two in step.
#include "connectors/synthetic/world.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "connectors/synthetic/model.h"
#include "connectors/synthetic/scenario.h"
#include "engine/event/event.h"
#include "engine/event/json_text.h"
#include "engine/event/timestamp.h"

namespace corridor::synthetic {
namespace {

using event::Kind;

// Draw tags: one stream per (purpose, entity, day).
enum Tag : uint64_t { kSetup = 1, kEmployerDay, kWorkerDay, kCustomerDay, kPayday, kScenario };

// Corridor shares of the migrant population: BD-MY, NP-QA, LK-AE, MM-TH, PH-SA.
constexpr double kCorridorShare[] = {0.30, 0.20, 0.15, 0.20, 0.15};
constexpr uint8_t kPaydays[] = {25, 26, 27, 28, 1, 5, 7, 10};

uint8_t pick_corridor(Rng& rng) {
  double x = rng.uniform();
  for (uint8_t c = 0; c < 4; ++c) {
    if (x < kCorridorShare[c]) return c;
    x -= kCorridorShare[c];
  }
  return 4;
}

// Heavy tail: Pareto with shape 1.6 and minimum 0.5 (mean about 1.3), capped at 40.
float activity(Rng& rng) {
  const double u = 1.0 - rng.uniform();  // (0, 1]
  return static_cast<float>(std::min(40.0, 0.5 / std::pow(u, 1.0 / 1.6)));
}

// How many events a daily rate gives today: the whole part, and one more with the
// fraction's probability.
int draws(Rng& rng, double rate) {
  const double whole = std::floor(rate);
  return static_cast<int>(whole) + (rng.chance(rate - whole) ? 1 : 0);
}

// Popular first: index into n with a skew towards 0.
size_t skewed(Rng& rng, size_t n) {
  const double u = rng.uniform();
  return std::min(n - 1, static_cast<size_t>(static_cast<double>(n) * u * u));
}

// Day of month (1-31) of a day counted from 1970-01-01 (H. Hinnant's civil_from_days).
unsigned day_of_month(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  return doy - (153 * mp + 2) / 5 + 1;
}

struct Employer {
  uint32_t party = kNone, payer = kNone;  // payer: the employer or its payroll contractor
  uint8_t corridor = 0, payday = 25, pay_hour = 10;
  int64_t base_wage = 0;          // whole host units
  std::vector<uint32_t> workers;  // indices into Impl::workers_
};

struct Worker {
  uint32_t party = kNone, family = kNone, employer = kNone, landlord = kNone;
  uint32_t agent = kNone, family_agent = kNone, second_device = kNone;
  int64_t wage = 0, rent = 0;  // whole host units
  float share = 0.55F, activity = 1.0F;
  uint8_t corridor = 0, rent_day = 1;
  Channel channel = Channel::mto;
  bool cash_salary = false;
  bool shares_device = false;
};

struct Customer {
  uint32_t party = kNone;
  uint32_t position = 0;  // in its corridor's customer list
  float activity = 1.0F;
  uint8_t corridor = 0;
};

}  // namespace

struct World::Impl {
  explicit Impl(const WorldParams& p);

  void build_population();
  void plan_scenarios();
  void generate_local_day(int64_t day);
  void payday(const Employer& e, int64_t day);
  void worker_day(const Worker& w, int64_t day);
  Planned card_payment(Rng& rng, int64_t d, uint8_t corridor, uint32_t party, double lo, double hi,
                       uint32_t label);
  void customer_day(const Customer& c, int64_t day);
  void render(const Planned& e, std::string& out);

  WorldState state;
  std::vector<Employer> employers_;
  std::vector<Worker> workers_;
  std::vector<Customer> customers_;
  std::vector<uint32_t> merchants_by_corridor_[5], customers_by_corridor_[5];

  int64_t generated_days = 0;  // local days generated so far
  uint32_t day = 0;            // next UTC day to write
  std::vector<Planned> current;
  size_t cursor = 0;
  uint64_t next_id = 1;
  event::Rate usd_rates[kCcyCount] = {};
  int64_t date_day = -1;
  std::string date_prefix;
};

World::Impl::Impl(const WorldParams& p) : state(p) {
  for (uint8_t c = 0; c < kCcyCount; ++c) {
    event::parse_rate(c == USD ? std::string_view("1") : default_rates()[c - 1].second,
                      usd_rates[c]);
  }
  build_population();
  if (!p.no_scenarios) plan_scenarios();
}

void World::Impl::build_population() {
  const WorldParams& p = state.params();
  Rng rng(p.seed, kSetup);
  const double n = p.entities;
  const auto count = [&](double share, uint32_t at_least) {
    return std::max<uint32_t>(at_least, static_cast<uint32_t>(n * share));
  };
  const uint32_t n_workers = count(0.35, 5);
  const uint32_t n_employers = count(0.35 / 40, 5);
  const uint32_t n_agents = count(0.005, 40);  // at least 4 per corridor and side
  const uint32_t n_merchants = count(0.03, 5);
  const uint32_t used = 2 * n_workers + n_employers + n_agents + n_merchants;
  const uint32_t n_customers = p.entities > used + 5 ? p.entities - used : 5;

  // MTO agents and branches: half in host cities, half at origin, every corridor served.
  for (uint32_t i = 0; i < n_agents; ++i) {
    const auto c = static_cast<uint8_t>(i % 5);
    const bool host = (i / 5) % 2 == 0;
    const uint32_t a = state.make_firm(rng, c, host, "agt-", "Remit Agent", Role::agent);
    (host ? state.agents_host : state.agents_origin)[c].push_back(a);
  }
  // Employers, each corridor at least one; a few pay through a payroll contractor.
  for (uint32_t i = 0; i < n_employers; ++i) {
    Employer e;
    e.corridor = i < 5 ? static_cast<uint8_t>(i) : pick_corridor(rng);
    const Corridor& c = corridors()[e.corridor];
    e.party = state.make_firm(rng, e.corridor, true, "emp-", "Industries", Role::employer);
    e.payer = e.party;
    if (rng.chance(0.12)) {
      e.payer = state.make_firm(rng, e.corridor, true, "pay-", "Payroll Services", Role::payroll);
      state.party(e.payer).employer = state.party(e.party).id;
    }
    e.payday = kPaydays[rng.index(std::size(kPaydays))];
    e.pay_hour = static_cast<uint8_t>(rng.between(int64_t{9}, int64_t{15}));
    e.base_wage = rng.between(c.wage_lo, c.wage_lo + (c.wage_hi - c.wage_lo) * 8 / 10);
    state.employers[e.corridor].push_back(e.party);
    employers_.push_back(std::move(e));
    ++state.stats.employers;
  }
  std::vector<uint32_t> employers_of[5];
  for (uint32_t i = 0; i < employers_.size(); ++i)
    employers_of[employers_[i].corridor].push_back(i);

  for (uint32_t i = 0; i < n_merchants; ++i) {
    const auto c = static_cast<uint8_t>(i % 5);
    const uint32_t m = state.make_firm(rng, c, true, "mer-", "Mart", Role::merchant);
    merchants_by_corridor_[c].push_back(m);
    state.merchants.push_back(m);
    ++state.stats.merchants;
  }
  for (uint32_t i = 0; i < n_customers; ++i) {
    Customer cu;
    cu.corridor = pick_corridor(rng);
    cu.party = state.make_person(rng, cu.corridor, true, "cus-", Role::customer);
    cu.activity = activity(rng);
    cu.position = static_cast<uint32_t>(customers_by_corridor_[cu.corridor].size());
    customers_by_corridor_[cu.corridor].push_back(static_cast<uint32_t>(customers_.size()));
    state.customers.push_back(cu.party);
    customers_.push_back(cu);
    ++state.stats.customers;
  }

  uint32_t tenants[5] = {};
  std::vector<bool> shares_device;  // by worker
  for (uint32_t i = 0; i < n_workers; ++i) {
    Worker w;
    w.corridor = pick_corridor(rng);
    const Corridor& c = corridors()[w.corridor];
    const auto& mine = employers_of[w.corridor];
    w.employer = mine[skewed(rng, mine.size())];  // a few large employers, many small
    Employer& e = employers_[w.employer];
    w.party = state.make_person(rng, w.corridor, true, "wrk-", Role::worker);
    PartyRecord& wp = state.party(w.party);
    wp.employer = state.party(e.party).id;
    if (rng.chance(0.9)) wp.city = state.party(e.party).city;  // live where they work
    const std::string surname = wp.name.substr(wp.name.find(' ') + 1);
    // (make_person may move the party table: `wp` is not used after this.)
    w.family = state.make_person(rng, w.corridor, false, "fam-", Role::family);
    state.party(w.family).name =
        std::string(c.origin_given[rng.index(c.origin_given.size())]) + " " + surname;
    w.wage = e.base_wage * rng.between(int64_t{90}, int64_t{120}) / 100;
    const double r = rng.uniform();
    w.share = static_cast<float>(r < 0.85   ? rng.between(0.50, 0.60)
                                 : r < 0.95 ? rng.between(0.30, 0.50)
                                            : rng.between(0.60, 0.70));
    w.activity = activity(rng);
    const double ch = rng.uniform();
    w.channel = ch < 0.55   ? Channel::mto
                : ch < 0.75 ? Channel::mobile_money
                : ch < 0.95 ? Channel::bank
                            : Channel::hawala;
    w.agent = state.agents_host[w.corridor][rng.index(state.agents_host[w.corridor].size())];
    w.family_agent =
        state.agents_origin[w.corridor][rng.index(state.agents_origin[w.corridor].size())];
    w.cash_salary = rng.chance(0.03);
    const auto& pool = customers_by_corridor_[w.corridor];
    if (rng.chance(0.7) && tenants[w.corridor] < pool.size()) {
      // Landlords in turn, one tenant each, so nobody is paid by more than four people
      // (three contacts and a tenant): many payers of one landlord is a look-alike
      // scenario, not background.
      w.landlord = customers_[pool[tenants[w.corridor]++]].party;
      w.rent =
          std::max<int64_t>(10, w.wage * rng.between(int64_t{10}, int64_t{20}) / 100 / 10 * 10);
      w.rent_day = static_cast<uint8_t>(rng.between(int64_t{1}, int64_t{5}));
    }
    // Devices: mostly one per person; a few share a roommate's phone, a few have two.
    // A phone is shared by two roommates at most (R9 starts at four people).
    if (!e.workers.empty() && rng.chance(0.03) && !shares_device[e.workers.back()]) {
      const Worker& mate = workers_[e.workers.back()];
      state.party(w.party).device = state.party(mate.party).device;
      shares_device[e.workers.back()] = true;
      w.shares_device = true;
    } else if (rng.chance(0.02)) {
      w.second_device = static_cast<uint32_t>(state.extra_devices.size());
      state.extra_devices.push_back(state.party(w.party).device + "-2");
    }
    shares_device.push_back(w.shares_device);
    e.workers.push_back(static_cast<uint32_t>(workers_.size()));
    state.workers.push_back(w.party);
    state.families.push_back(w.family);
    state.worker_family.push_back(w.family);
    workers_.push_back(w);
    ++state.stats.workers;
    ++state.stats.families;
  }
  state.stats.agents = n_agents;
}

void World::Impl::plan_scenarios() {
  const WorldParams& p = state.params();
  const auto per_variant = std::max<uint32_t>(
      1, static_cast<uint32_t>(std::lround(p.entities / 10'000.0 * p.instances_per_10k)));
  const auto& registry = scenario_registry();
  for (size_t g = 0; g < registry.size(); ++g) {
    const ScenarioSpec& spec = registry[g];
    if (!p.scenarios.empty() &&
        std::find(p.scenarios.begin(), p.scenarios.end(), spec.name) == p.scenarios.end()) {
      continue;
    }
    const std::unique_ptr<ScenarioGenerator> gen = spec.make();
    for (uint32_t i = 0; i < per_variant; ++i) {
      for (Variant v : {Variant::fire, Variant::near_miss, Variant::lookalike}) {
        if (v == Variant::lookalike && !gen->has_lookalike()) continue;
        Rng rng(p.seed, kScenario, g, i * 4 + static_cast<uint64_t>(v));
        gen->plan(state, v, rng);
      }
    }
  }
}

void World::Impl::payday(const Employer& e, int64_t d) {
  const Corridor& c = corridors()[e.corridor];
  const uint32_t salary_label = state.background_label(Role::employer);
  const uint32_t worker_label = state.background_label(Role::worker);
  const uint32_t family_label = state.background_label(Role::family);
  const int64_t run_start = state.at_local(d, e.pay_hour, c.utc_offset_h);
  int64_t k = 0;
  for (uint32_t wi : e.workers) {
    const Worker& w = workers_[wi];
    Rng rng(state.params().seed, kPayday, w.party, static_cast<uint64_t>(d));
    int64_t pay = w.wage;
    if (rng.chance(0.3)) pay = pay * rng.between(int64_t{100}, int64_t{115}) / 100;  // overtime
    Planned s;
    s.ts_ms = run_start + (k++) * 2000;  // one payroll run, a credit every two seconds
    s.kind = static_cast<uint8_t>(Kind::salary);
    s.channel = w.cash_salary ? Channel::cash : Channel::bank;
    if (w.cash_salary) s.flags = kNoReceiverAccount;
    s.currency = c.host_ccy;
    s.amount_units = units(pay);
    s.sender = e.payer;
    s.receiver = w.party;
    s.purpose = kSala;
    s.label = salary_label;
    state.add(s);

    // Home: 50-60 % of the wage for most, in one or two transfers over the next days.
    const double share = std::clamp(w.share + rng.between(-0.02, 0.02), 0.05, 0.95);
    const int parts = rng.chance(0.3) ? 2 : 1;
    int64_t at = s.ts_ms + rng.between(2 * kHourMs, 72 * kHourMs);
    for (int part = 0; part < parts; ++part) {
      Planned r;
      r.ts_ms = at;
      r.kind = static_cast<uint8_t>(Kind::remittance);
      r.channel = w.channel;
      r.currency = c.host_ccy;
      r.amount_units = round_units(static_cast<double>(pay) * share / parts, 10);
      r.sender = w.party;
      r.receiver = w.family;
      r.agent = w.channel == Channel::mto ? w.agent : kNone;
      r.purpose = kFami;
      r.label = worker_label;
      if (w.second_device != kNone && rng.chance(0.3)) r.sender_device = w.second_device;
      state.add(r);
      // The family collects part of it in cash at an agent at origin.
      if (rng.chance(0.6)) {
        Planned o;
        o.ts_ms = at + rng.between(kHourMs, 48 * kHourMs);
        o.kind = static_cast<uint8_t>(Kind::cash_out);
        o.channel = Channel::cash;
        o.currency = c.origin_ccy;
        const double usd = static_cast<double>(r.amount_units) / 10'000.0 *
                           usd_per_unit(c.host_ccy) * rng.between(0.5, 1.0);
        o.amount_units = usd_in(c.origin_ccy, usd, units(100));
        o.sender = w.family;
        o.agent = w.family_agent;
        o.label = family_label;
        state.add(o);
      }
      at += rng.between(3 * kDayMs, 10 * kDayMs);
    }
  }
}

// A card payment by `party` on day `d` at one of the corridor's shops (busier shops more
// often), of `lo` to `hi` USD in the host currency.
Planned World::Impl::card_payment(Rng& rng, int64_t d, uint8_t corridor, uint32_t party, double lo,
                                  double hi, uint32_t label) {
  const Corridor& c = corridors()[corridor];
  const auto& shops = merchants_by_corridor_[corridor];
  Planned e;
  e.ts_ms = state.daytime(rng, d, c.utc_offset_h);
  e.kind = static_cast<uint8_t>(Kind::card);
  e.channel = Channel::card;
  e.currency = c.host_ccy;
  e.amount_units = usd_in(c.host_ccy, rng.between(lo, hi), 100);
  e.sender = party;
  e.receiver = shops[skewed(rng, shops.size())];
  e.purpose = kGdsv;
  e.label = label;
  return e;
}

void World::Impl::worker_day(const Worker& w, int64_t d) {
  const Corridor& c = corridors()[w.corridor];
  Rng rng(state.params().seed, kWorkerDay, w.party, static_cast<uint64_t>(d));
  const uint32_t label = state.background_label(Role::worker);
  for (int i = draws(rng, 0.3 * w.activity); i > 0; --i) {
    Planned e = card_payment(rng, d, w.corridor, w.party, 1.5, 40.0, label);
    if (w.second_device != kNone && rng.chance(0.3)) e.sender_device = w.second_device;
    state.add(e);
  }
  if (rng.chance(0.04)) {
    const int64_t ts = state.daytime(rng, d, c.utc_offset_h);
    const int64_t amount = usd_in(c.host_ccy, rng.between(20.0, 150.0), units(10));
    state.add(cash_out(ts, w.party, c.host_ccy, amount, label));
  }
  if (w.landlord != kNone && day_of_month(state.start_ms() / kDayMs + d) == w.rent_day) {
    const int64_t ts = state.daytime(rng, d, c.utc_offset_h);
    const Channel channel = rng.chance(0.5) ? Channel::bank : Channel::mobile_money;
    Planned e = transfer(ts, w.party, w.landlord, c.host_ccy, units(w.rent), channel, label);
    e.purpose = kRent;
    state.add(e);
  }
}

void World::Impl::customer_day(const Customer& cu, int64_t d) {
  const Corridor& c = corridors()[cu.corridor];
  Rng rng(state.params().seed, kCustomerDay, cu.party, static_cast<uint64_t>(d));
  const uint32_t label = state.background_label(Role::customer);
  for (int i = draws(rng, 0.5 * cu.activity); i > 0; --i) {
    state.add(card_payment(rng, d, cu.corridor, cu.party, 2.0, 80.0, label));
  }
  const auto& pool = customers_by_corridor_[cu.corridor];
  for (int i = draws(rng, 0.03 * cu.activity); i > 0 && pool.size() > 1; --i) {
    // Friends and relatives: three fixed contacts each (the next three customers of the
    // corridor), so pairs repeat and nobody is paid by more than three of them.
    const uint32_t to = customers_[pool[(cu.position + 1 + rng.index(3)) % pool.size()]].party;
    if (to == cu.party) continue;
    const int64_t ts = state.daytime(rng, d, c.utc_offset_h);
    const Channel channel = rng.chance(0.6) ? Channel::bank : Channel::mobile_money;
    const int64_t amount = usd_in(c.host_ccy, rng.between(10.0, 500.0), units(1));
    state.add(transfer(ts, cu.party, to, c.host_ccy, amount, channel, label));
  }
  if (rng.chance(0.015)) {
    const int64_t ts = state.daytime(rng, d, c.utc_offset_h);
    const int64_t amount = usd_in(c.host_ccy, rng.between(50.0, 1000.0), units(10));
    Planned e = cash_in(ts, cu.party, c.host_ccy, amount, label);
    const auto& agents = state.agents_host[cu.corridor];
    e.agent = agents[rng.index(agents.size())];
    state.add(e);
  }
}

void World::Impl::generate_local_day(int64_t d) {
  const int64_t dom = day_of_month(state.start_ms() / kDayMs + d);
  for (const Employer& e : employers_) {
    if (e.payday == dom) payday(e, d);
  }
  for (const Worker& w : workers_) worker_day(w, d);
  for (const Customer& cu : customers_) customer_day(cu, d);
}

// A party as its canonical JSON object, fields in canonical order. Parties never change
// once the world is built, so each is rendered once and the object reused per event.
void append_party_object(std::string& out, const PartyRecord& r, const std::string* device,
                         bool with_account) {
  const std::string* values[] = {&r.id,    &r.account, &r.name, &r.country, &r.city,
                                 &r.phone, device,     &r.ip,   &r.employer};
  static constexpr std::string_view kKeys[] = {
      "\"id\":",    "\"account\":", "\"name\":", "\"country\":", "\"city\":",
      "\"phone\":", "\"device\":",  "\"ip\":",   "\"employer\":"};
  out.push_back('{');
  bool first = true;
  for (size_t k = 0; k < std::size(kKeys); ++k) {
    if (values[k]->empty() || (k == 1 && !with_account)) continue;
    if (!first) out.push_back(',');
    first = false;
    out += kKeys[k];
    event::append_json_string(out, *values[k]);
  }
  out.push_back('}');
}

void append_2(std::string& out, int64_t v) {
  out.push_back(static_cast<char>('0' + v / 10));
  out.push_back(static_cast<char>('0' + v % 10));
}

// The canonical form of event_json.cc's append_event_json, written from the world's own
// tables: party objects cached, the date of the day cached. The unit tests check that it
// is byte for byte what append_event_json writes for the decoded event.
void World::Impl::render(const Planned& p, std::string& out) {
  out += "{\"id\":\"ev-";
  char digits[20];
  int n = 0;
  for (uint64_t v = next_id++; v != 0 || n == 0; v /= 10)
    digits[n++] = static_cast<char>('0' + v % 10);
  for (int i = n; i < 10; ++i) out.push_back('0');
  while (n > 0) out.push_back(digits[--n]);

  out += "\",\"ts\":\"";
  const int64_t day_index = p.ts_ms / kDayMs;  // worlds start after 1990: no negative times
  if (day_index != date_day) {
    date_day = day_index;
    date_prefix.clear();
    event::append_rfc3339(date_prefix, day_index * kDayMs);
    date_prefix.resize(11);  // "2026-01-01T"
  }
  out += date_prefix;
  const int64_t in_day = p.ts_ms - day_index * kDayMs;
  append_2(out, in_day / kHourMs);
  out.push_back(':');
  append_2(out, in_day / 60'000 % 60);
  out.push_back(':');
  append_2(out, in_day / 1000 % 60);
  out.push_back('.');
  const int64_t ms = in_day % 1000;
  out.push_back(static_cast<char>('0' + ms / 100));
  append_2(out, ms % 100);
  out += "Z\",\"kind\":\"";
  out += event::kind_name(static_cast<Kind>(p.kind));
  out += "\",\"amount\":\"";
  const event::Money amount{p.amount_units};
  event::append_money(out, amount);
  out += "\",\"currency\":\"";
  out += ccy_code(p.currency);
  out += "\",\"amount_base\":\"";
  event::append_money(out, event::convert(amount, usd_rates[p.currency]).value_or(event::Money{}));
  out.push_back('"');
  if (p.channel != Channel::none) {
    out += ",\"channel\":\"";
    out += channel_name(p.channel);
    out.push_back('"');
  }
  if (p.agent != kNone) {
    out += ",\"agent\":";
    event::append_json_string(out, state.party(p.agent).id);
  }
  if (p.purpose != kNoPurpose) {
    out += ",\"purpose\":\"";
    out += purpose_code(p.purpose);
    out.push_back('"');
  }
  if (p.sender != kNone) {
    out += ",\"sender\":";
    PartyRecord& r = state.party(p.sender);
    if (p.sender_device != kNone) {
      append_party_object(out, r, &state.extra_devices[p.sender_device], true);
    } else {
      if (r.json.empty()) append_party_object(r.json, r, &r.device, true);
      out += r.json;
    }
  }
  if (p.receiver != kNone) {
    out += ",\"receiver\":";
    PartyRecord& r = state.party(p.receiver);
    if (p.flags & kNoReceiverAccount) {
      append_party_object(out, r, &r.device, false);
    } else {
      if (r.json.empty()) append_party_object(r.json, r, &r.device, true);
      out += r.json;
    }
  }
  out += ",\"labels\":";
  out += state.label_text(p.label);
  out += "}\n";
}

World::World(const WorldParams& params) {
  if (params.entities == 0) throw std::invalid_argument("entities must be at least 1");
  if (params.days == 0 || params.days > 3660) {
    throw std::invalid_argument("days must be between 1 and 3660");
  }
  for (const std::string& name : params.scenarios) {
    const auto names = scenario_names();
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      std::string allowed;
      for (std::string_view n : names) allowed += (allowed.empty() ? "" : ", ") + std::string(n);
      throw std::invalid_argument("unknown scenario '" + name + "' (registered: " + allowed + ")");
    }
  }
  impl_ = std::make_unique<Impl>(params);
}

World::~World() = default;

size_t World::append_events(std::string& out, size_t max_events) {
  Impl& m = *impl_;
  size_t written = 0;
  while (written < max_events) {
    if (m.cursor < m.current.size()) {
      const Planned& p = m.current[m.cursor++];
      m.render(p, out);
      ++m.state.stats.events;
      if (!m.state.is_background(p.label)) ++m.state.stats.scenario_events;
      ++written;
      continue;
    }
    const uint32_t days = m.state.params().days;
    if (m.day >= days) break;
    // Local days start up to 8 hours before their UTC day (every host is east of UTC), so
    // the next local day is generated before this UTC day is written.
    while (m.generated_days < std::min<int64_t>(m.day + 2, days)) {
      m.generate_local_day(m.generated_days++);
    }
    m.current = std::move(m.state.bucket(m.day));
    m.state.bucket(m.day) = {};
    std::sort(m.current.begin(), m.current.end(), [](const Planned& a, const Planned& b) {
      return a.ts_ms != b.ts_ms ? a.ts_ms < b.ts_ms : a.order < b.order;
    });
    m.cursor = 0;
    m.state.emitted_days = ++m.day;
  }
  return written;
}

const std::vector<TruthRecord>& World::truth() const noexcept { return impl_->state.truth(); }
const WorldStats& World::stats() const noexcept { return impl_->state.stats; }

std::vector<std::string_view> scenario_names() {
  std::vector<std::string_view> names;
  for (const ScenarioSpec& s : scenario_registry()) {
    // Look-alike generators share their pattern's name: list each name once.
    if (std::find(names.begin(), names.end(), s.name) == names.end()) names.push_back(s.name);
  }
  return names;
}

void append_truth_json(std::string& out, const TruthRecord& t) {
  using event::append_json_string;
  out += "{\"scenario\":";
  append_json_string(out, t.scenario);
  out += ",\"pattern\":";
  append_json_string(out, t.pattern);
  out += ",\"typology\":";
  append_json_string(out, t.typology);
  out += ",\"variant\":";
  append_json_string(out, t.variant);
  out += ",\"expect_signal\":";
  out += t.expect_signal ? "true" : "false";
  out += ",\"expect_alert\":";
  out += t.expect_alert ? "true" : "false";
  out += ",\"expect_patterns\":[";
  for (size_t i = 0; i < t.expect_patterns.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, t.expect_patterns[i]);
  }
  out += "],\"subject\":";
  append_json_string(out, t.subject);
  out += ",\"entities\":[";
  for (size_t i = 0; i < t.entities.size(); ++i) {
    out += i ? ",{\"role\":" : "{\"role\":";
    append_json_string(out, t.entities[i].first);
    out += ",\"id\":";
    append_json_string(out, t.entities[i].second);
    out += '}';
  }
  out += "],\"params\":{";
  for (size_t i = 0; i < t.params.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, t.params[i].first);
    char buf[32];
    std::snprintf(buf, sizeof buf, ":%.6g", t.params[i].second);
    out += buf;
  }
  out += "},\"note\":";
  append_json_string(out, t.note);
  out += ",\"first_ts\":\"";
  event::append_rfc3339(out, t.first_ms);
  out += "\",\"last_ts\":\"";
  event::append_rfc3339(out, t.last_ms);
  out += "\",\"events\":";
  out += std::to_string(t.events);
  out += '}';
}

}  // namespace corridor::synthetic
