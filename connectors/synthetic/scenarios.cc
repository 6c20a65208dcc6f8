// Injected scenarios, one generator per pattern of TYPOLOGIES.md. Each plans whole
// instances with new parties (so the background population never dilutes or completes
// them), labels every event with the instance id and the party's role, and fills one
// truth record. A fire instance sits clearly past every threshold of its pattern's
// defaults; a near miss misses exactly one of them, chosen at random, and says which in
// its note. Registered by name at the bottom of this file.
#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include "connectors/synthetic/scenario.h"
#include "engine/event/event.h"

namespace corridor::synthetic {
namespace {

using event::Kind;

uint8_t pick_corridor(Rng& rng) { return static_cast<uint8_t>(rng.index(corridors().size())); }

// R6 (round amounts in a corridor's fee band from >= 3 first-time senders within 30 days)
// also holds on collectors of other patterns: a smuggling fee's instalments and a
// recruitment fee are round sums, and often inside a band. Adds "R6" to the instance's
// expect_patterns when its own events meet R6 on the subject. The bands are those of
// rules/packs/lists/fee_band_low.csv and fee_band_high.csv: BD->MY 3,333.33-4,166.67 USD;
// every other corridor, and payments inside one country, IOM's 1,000-5,000 USD (the
// pack's default). Round: a whole multiple of 100 in the payer's currency. Scenario payers
// are new parties, so each one's first payment to the subject is a first-seen pair.
void expect_r6_if_met(WorldState& w, uint32_t s) {
  std::vector<Planned> events = w.scenario_events(s);
  std::sort(events.begin(), events.end(),
            [](const Planned& a, const Planned& b) { return a.ts_ms < b.ts_ms; });
  TruthRecord& t = w.truth(s);
  std::vector<std::pair<int64_t, uint32_t>> hits;  // (time, sender) of a first payment
  std::set<uint32_t> seen;
  for (const Planned& e : events) {
    const auto kind = static_cast<Kind>(e.kind);
    if (e.sender == kNone || e.receiver == kNone) continue;
    if (kind != Kind::transfer && kind != Kind::remittance) continue;
    if (w.party(e.receiver).id != t.subject || !seen.insert(e.sender).second) continue;
    const PartyRecord& from = w.party(e.sender);
    const PartyRecord& to = w.party(e.receiver);
    const bool bd_my = from.country == "BD" && to.country == "MY";
    const int64_t lo = bd_my ? 33'333'300 : 10'000'000, hi = bd_my ? 41'666'700 : 50'000'000;
    const int64_t base = base_units(e.currency, e.amount_units);
    if (e.amount_units % units(100) == 0 && base >= lo && base <= hi) {
      hits.emplace_back(e.ts_ms, e.sender);
    }
  }
  size_t most = 0;
  for (size_t i = 0; i < hits.size(); ++i) {
    size_t n = 0;
    for (size_t j = i; j < hits.size() && hits[j].first < hits[i].first + 29 * kDayMs; ++j) ++n;
    most = std::max(most, n);
  }
  if (most >= 3 && std::find(t.expect_patterns.begin(), t.expect_patterns.end(), "R6") ==
                       t.expect_patterns.end()) {
    t.expect_patterns.emplace_back("R6");
  }
}

// ---------------------------------------------------------------- R1
// Many unrelated senders pay one beneficiary: families in several origin districts pay a
// smuggler's collector, each for the first time, within a week. Thresholds (7 days):
// >= 5 senders, >= 3 sender cities, >= 80 % first-seen pairs.
class FanInUnrelatedSenders final : public ScenarioGenerator {
 public:
  bool has_lookalike() const override { return true; }

  bool plan(WorldState& w, Variant variant, Rng& rng) override {
    if (variant == Variant::lookalike) return cousins(w, rng);
    if (w.params().days < 10) return false;
    const uint8_t corridor = pick_corridor(rng);
    const Corridor& c = corridors()[corridor];
    int senders = static_cast<int>(rng.between(int64_t{5}, int64_t{9}));
    int cities = static_cast<int>(rng.between(int64_t{3}, int64_t{std::min(senders, 6)}));
    double gap_days = rng.between(0.1, 4.0 / senders);  // all inside about four days
    std::string note = "clearly above every threshold";
    if (variant == Variant::near_miss) {
      switch (rng.index(3)) {
        case 0:
          senders = 4;
          cities = static_cast<int>(rng.between(int64_t{3}, int64_t{4}));
          note = "4 senders (threshold 5)";
          break;
        case 1:
          cities = 2;
          note = "senders from 2 cities (threshold 3)";
          break;
        default:
          gap_days = 2.5;  // at most 3 senders in any 7 days
          note = "senders 2.5 days apart: at most 3 in any 7 days (threshold 5)";
          break;
      }
    }
    const double span_days = gap_days * (senders - 1);
    const int64_t last_start = w.params().days - static_cast<int64_t>(span_days) - 2;
    if (last_start < 1) return false;
    const int64_t day0 = rng.between(int64_t{1}, last_start);

    const uint32_t s =
        w.new_scenario("R1", "smuggling_fee", variant_name(variant), variant == Variant::fire);
    TruthRecord& t = w.truth(s);
    t.note = note;
    const uint32_t collector = w.make_person(rng, corridor, false, "col-", Role::scenario);
    w.add_entity(s, "collector", collector);
    const uint32_t payer_label = w.scenario_label(s, "payer");
    std::vector<std::string_view> city_pool(c.origin_cities.begin(), c.origin_cities.end());
    for (size_t i = city_pool.size(); i > 1; --i)
      std::swap(city_pool[i - 1], city_pool[rng.index(i)]);
    const int64_t fee_usd = rng.between(int64_t{1000}, int64_t{4000});  // IOM: 1,000-5,000
    const int64_t t0 = w.daytime(rng, day0, c.origin_utc_offset_h);
    for (int i = 0; i < senders; ++i) {
      const uint32_t payer = w.make_person(rng, corridor, false, "pyr-", Role::scenario);
      PartyRecord& pp = w.party(payer);
      pp.city = city_pool[static_cast<size_t>(i % cities)];
      w.add_entity(s, "payer", payer);
      const double ch = rng.uniform();
      const Channel channel = ch < 0.5    ? Channel::mobile_money
                              : ch < 0.85 ? Channel::mto
                                          : Channel::hawala;
      const int64_t at = t0 + static_cast<int64_t>(gap_days * i * static_cast<double>(kDayMs)) +
                         rng.between(int64_t{0}, kHourMs);
      // An instalment of the fee: a third to a half of it, in round thousands.
      const double usd = static_cast<double>(fee_usd) * rng.between(0.33, 0.5);
      Planned e = transfer(at, payer, collector, c.origin_ccy,
                           usd_in(c.origin_ccy, usd, units(1000)), channel, payer_label);
      if (channel == Channel::mto) {
        e.agent = w.agents_origin[corridor][rng.index(w.agents_origin[corridor].size())];
      }
      w.add(e);
    }
    t.params = {{"senders", senders},
                {"cities", cities},
                {"span_days", span_days},
                {"max_senders_in_7d", std::min<double>(senders, 1 + std::floor(7.0 / gap_days))}};
    expect_r6_if_met(w, s);  // instalments of 1,000 USD or more are round sums in the band
    return true;
  }

 private:
  // The benign look-alike: 6-10 cousins working in several host cities each send their
  // grandmother a little every month; for a festival they all send within three days.
  // A naive rule sees many senders from many cities in a week; every pair has paid
  // before, so the first-seen condition keeps R1 quiet.
  static bool cousins(WorldState& w, Rng& rng) {
    const int64_t days = w.params().days;
    if (days < 40) return false;
    const uint8_t corridor = pick_corridor(rng);
    const Corridor& c = corridors()[corridor];
    const int64_t festival = rng.between(int64_t{31}, days - 5);
    const int n = static_cast<int>(rng.between(int64_t{6}, int64_t{10}));
    const uint32_t s =
        w.new_scenario("R1", "smuggling_fee", variant_name(Variant::lookalike), false);
    w.truth(s).note = "cousins who paid their grandmother before: no first-seen pair";
    const uint32_t grandmother = w.make_person(rng, corridor, false, "fam-", Role::scenario);
    w.add_entity(s, "grandmother", grandmother);
    const std::string& name = w.party(grandmother).name;
    const std::string surname = name.substr(name.find(' ') + 1);
    const uint32_t label = w.scenario_label(s, "cousin");
    std::set<std::string_view> cities;
    for (int i = 0; i < n; ++i) {
      const uint32_t cousin = w.make_person(rng, corridor, true, "wrk-", Role::scenario);
      PartyRecord& cp = w.party(cousin);
      cp.name = cp.name.substr(0, cp.name.find(' ')) + " " + surname;
      cp.city = c.host_cities[static_cast<size_t>(i) % c.host_cities.size()];
      cities.insert(c.host_cities[static_cast<size_t>(i) % c.host_cities.size()]);
      w.add_entity(s, "cousin", cousin);
      const auto send = [&](int64_t day, double usd) {
        Planned e = transfer(w.daytime(rng, day, c.utc_offset_h), cousin, grandmother, c.host_ccy,
                             usd_in(c.host_ccy, usd, units(10)),
                             rng.chance(0.6) ? Channel::mto : Channel::mobile_money, label);
        e.kind = static_cast<uint8_t>(Kind::remittance);
        e.purpose = kFami;
        if (e.channel == Channel::mto) {
          e.agent = w.agents_host[corridor][rng.index(w.agents_host[corridor].size())];
        }
        w.add(e);
      };
      // First payments three days apart (at most three first-seen pairs in any week),
      // then monthly.
      for (int64_t day = 3 * i; day < days; day += 30) {
        if (day < festival - 3 || day > festival + 3) send(day, rng.between(50.0, 150.0));
      }
      send(festival + rng.between(int64_t{0}, int64_t{2}), rng.between(100.0, 300.0));
    }
    w.truth(s).params = {{"cousins", n},
                         {"cities", static_cast<double>(cities.size())},
                         {"festival_day", static_cast<double>(festival)}};
    return true;
  }
};

// ---------------------------------------------------------------- R2
// Transfers split just under a reporting threshold, across agents: a migrant sends a fee
// home in transfers of 82-98 % of 3,000 USD (the default threshold) at different agents
// within 48 h. Thresholds: >= 2 transfers in [0.8 T, T) at >= 2 agents within 48 h.
class SplitBelowThreshold final : public ScenarioGenerator {
 public:
  bool plan(WorldState& w, Variant variant, Rng& rng) override {
    if (w.params().days < 5) return false;
    int transfers = static_cast<int>(rng.between(int64_t{2}, int64_t{4}));
    double lo = 0.82, hi = 0.98;
    bool one_agent = false;
    int64_t gap_lo = 2 * kHourMs, gap_hi = 40 * kHourMs / (transfers - 1);
    std::string note = "clearly above every threshold";
    if (variant == Variant::near_miss) {
      switch (rng.index(3)) {
        case 0:
          one_agent = true;
          note = "every transfer at one agent (threshold 2 agents)";
          break;
        case 1:
          lo = 0.65, hi = 0.77;
          note = "65-77 % of the threshold (band 80-100 %)";
          break;
        default:
          transfers = 2;
          gap_lo = 52 * kHourMs, gap_hi = 60 * kHourMs;
          note = "two transfers 52-60 h apart (window 48 h)";
          break;
      }
    }
    const uint8_t corridor = pick_corridor(rng);
    const Corridor& c = corridors()[corridor];
    const auto& agents = w.agents_host[corridor];
    if (agents.size() < 2) return false;
    const int64_t day0 = rng.between(int64_t{0}, w.params().days - 4);
    const uint32_t s =
        w.new_scenario("R2", "smuggling_fee", variant_name(variant), variant == Variant::fire);
    w.truth(s).note = note;
    const uint32_t sender = w.make_person(rng, corridor, true, "snd-", Role::scenario);
    const uint32_t receiver = w.make_person(rng, corridor, false, "col-", Role::scenario);
    w.add_entity(s, "sender", sender);
    // R2 is also keyed on the phone: its signal names the phone number.
    w.truth(s).entities.emplace_back("sender_phone", w.party(sender).phone);
    w.add_entity(s, "receiver", receiver);
    const uint32_t label = w.scenario_label(s, "sender");
    const size_t first_agent = rng.index(agents.size());
    int64_t at = w.daytime(rng, day0, c.utc_offset_h);
    double min_share = 1, max_share = 0;
    std::set<uint32_t> used;
    for (int i = 0; i < transfers; ++i) {
      const double share = rng.between(lo, hi);
      Planned e = transfer(at, sender, receiver, c.host_ccy,
                           usd_in(c.host_ccy, 3000 * share, units(1)), Channel::mto, label);
      e.kind = static_cast<uint8_t>(Kind::remittance);
      e.agent =
          agents[one_agent ? first_agent : (first_agent + static_cast<size_t>(i)) % agents.size()];
      used.insert(e.agent);
      w.add(e);
      min_share = std::min(min_share, share);
      max_share = std::max(max_share, share);
      at += rng.between(gap_lo, gap_hi);
    }
    for (uint32_t a : used) w.add_entity(s, "agent", a);
    w.truth(s).params = {{"transfers", transfers},
                         {"agents", static_cast<double>(used.size())},
                         {"min_share_of_threshold", min_share},
                         {"max_share_of_threshold", max_share},
                         {"threshold_usd", 3000}};
    return true;
  }
};

// ---------------------------------------------------------------- R14
// Several senders pay one receiver at one agent within the hour: an escort brings payers
// to an agent at origin to pay the collector. Threshold: >= 3 senders within 60 min.
class SendersAtOneAgent final : public ScenarioGenerator {
 public:
  bool plan(WorldState& w, Variant variant, Rng& rng) override {
    if (w.params().days < 2) return false;
    int senders = static_cast<int>(rng.between(int64_t{3}, int64_t{5}));
    int64_t gap_lo = 2 * 60'000, gap_hi = 45 * 60'000 / (senders - 1);
    bool many_agents = false;
    std::string note = "clearly above every threshold";
    if (variant == Variant::near_miss) {
      switch (rng.index(3)) {
        case 0:
          senders = 2;
          note = "2 senders (threshold 3)";
          break;
        case 1:
          senders = 3;
          gap_lo = 38 * 60'000, gap_hi = 45 * 60'000;
          note = "3 senders over 76-90 min: at most 2 in any hour (threshold 3)";
          break;
        default:
          many_agents = true;
          note = "senders at different agents (threshold 3 at one agent)";
          break;
      }
    }
    const uint8_t corridor = pick_corridor(rng);
    const Corridor& c = corridors()[corridor];
    const auto& agents = w.agents_origin[corridor];
    if (many_agents && agents.size() < static_cast<size_t>(senders)) return false;
    const int64_t day0 = rng.between(int64_t{0}, w.params().days - 2);
    const uint32_t s =
        w.new_scenario("R14", "smuggling_fee", variant_name(variant), variant == Variant::fire);
    w.truth(s).note = note;
    const uint32_t collector = w.make_person(rng, corridor, false, "col-", Role::scenario);
    w.add_entity(s, "collector", collector);
    const uint32_t label = w.scenario_label(s, "payer");
    const size_t first_agent = rng.index(agents.size());
    const std::string city = w.party(agents[first_agent]).city;
    int64_t at = w.at_local(day0, static_cast<int>(rng.between(int64_t{10}, int64_t{16})),
                            c.origin_utc_offset_h) +
                 rng.between(int64_t{0}, kHourMs);
    const int64_t first = at;
    std::set<uint32_t> used;
    for (int i = 0; i < senders; ++i) {
      const uint32_t payer = w.make_person(rng, corridor, false, "pyr-", Role::scenario);
      w.party(payer).city = city;  // brought to one agent: they come from around it
      w.add_entity(s, "payer", payer);
      Planned e = transfer(at, payer, collector, c.origin_ccy,
                           usd_in(c.origin_ccy, rng.between(300.0, 1200.0), units(100)),
                           Channel::mto, label);
      e.agent = agents[many_agents ? (first_agent + static_cast<size_t>(i)) % agents.size()
                                   : first_agent];
      used.insert(e.agent);
      w.add(e);
      if (i + 1 < senders) at += rng.between(gap_lo, gap_hi);
    }
    for (uint32_t a : used) w.add_entity(s, "agent", a);
    w.truth(s).params = {{"senders", senders},
                         {"agents", static_cast<double>(used.size())},
                         {"span_min", static_cast<double>(at - first) / 60'000.0}};
    expect_r6_if_met(w, s);
    return true;
  }
};

// ---------------------------------------------------------------- R3
// Cash in, then rapid cross-border out: an account in a host country takes in collected
// fees as cash at agents and within hours sends most of it by bank to the origin country.
// Thresholds (48 h): inflow >= 1,000 USD and outflow >= 0.8 x inflow.
class CashInThenOut final : public ScenarioGenerator {
 public:
  bool plan(WorldState& w, Variant variant, Rng& rng) override {
    if (w.params().days < 5) return false;
    double in_lo = 1500, in_hi = 4000, out_lo = 0.85, out_hi = 0.98;
    int64_t delay_lo = 2 * kHourMs, delay_hi = 30 * kHourMs;  // after the last deposit
    std::string note = "clearly above every threshold";
    if (variant == Variant::near_miss) {
      switch (rng.index(3)) {
        case 0:
          in_lo = 650, in_hi = 900;
          note = "650-900 USD of cash in (threshold 1,000)";
          break;
        case 1:
          out_lo = 0.55, out_hi = 0.72;
          note = "55-72 % of the cash sent on (threshold 80 %)";
          break;
        default:
          delay_lo = 52 * kHourMs, delay_hi = 70 * kHourMs;
          note = "sent on 52-70 h after the cash came in (window 48 h)";
          break;
      }
    }
    const uint8_t corridor = pick_corridor(rng);
    const Corridor& c = corridors()[corridor];
    const auto& agents = w.agents_host[corridor];
    const int64_t day0 = rng.between(int64_t{0}, w.params().days - 5);
    const uint32_t s =
        w.new_scenario("R3", "smuggling_fee", variant_name(variant), variant == Variant::fire);
    w.truth(s).note = note;
    const uint32_t account = w.make_person(rng, corridor, true, "pas-", Role::scenario);
    const uint32_t organiser = w.make_person(rng, corridor, false, "org-", Role::scenario);
    w.add_entity(s, "account", account);
    w.add_entity(s, "organiser", organiser);
    const uint32_t label = w.scenario_label(s, "account");
    const double total_usd = rng.between(in_lo, in_hi);
    const int deposits = static_cast<int>(rng.between(int64_t{2}, int64_t{4}));
    int64_t at = w.daytime(rng, day0, c.utc_offset_h);
    int64_t inflow = 0;  // Money units of the host currency
    for (int i = 0; i < deposits; ++i) {
      Planned e = cash_in(at, account, c.host_ccy,
                          usd_in(c.host_ccy, total_usd / deposits, units(10)), label);
      e.agent = agents[rng.index(agents.size())];
      w.add(e);
      inflow += e.amount_units;
      if (i + 1 < deposits) at += rng.between(kHourMs / 2, 4 * kHourMs);
    }
    const double share = rng.between(out_lo, out_hi);
    // One bank transfer or two, without an agent: no structuring signal on the way out.
    const int parts = rng.chance(0.3) ? 2 : 1;
    const int64_t first_out = at + rng.between(delay_lo, delay_hi);
    int64_t out_at = first_out;
    const int64_t out_total =
        units(static_cast<int64_t>(static_cast<double>(inflow) * share / 10'000));
    const int64_t half = units(out_total / 20'000);
    for (int i = 0; i < parts; ++i) {
      const int64_t amount = parts == 1 ? out_total : i == 0 ? half : out_total - half;
      Planned e = transfer(out_at, account, organiser, c.host_ccy, amount, Channel::bank, label);
      e.kind = static_cast<uint8_t>(Kind::remittance);
      w.add(e);
      out_at += rng.between(int64_t{60'000}, kHourMs);
    }
    w.truth(s).params = {
        {"inflow_usd", static_cast<double>(inflow) / 10'000 * usd_per_unit(c.host_ccy)},
        {"deposits", deposits},
        {"out_share", share},
        {"delay_h", static_cast<double>(first_out - at) / kHourMs}};
    return true;
  }
};

// ---------------------------------------------------------------- R9
// Identifiers shared across customers: one phone (device) used by several otherwise
// unrelated customers to send money, within weeks. Threshold (30 d): >= 4 customers.
class SharedDevice final : public ScenarioGenerator {
 public:
  bool plan(WorldState& w, Variant variant, Rng& rng) override {
    if (w.params().days < 21) return false;
    int customers = static_cast<int>(rng.between(int64_t{4}, int64_t{7}));
    std::string note = "clearly above every threshold";
    if (variant == Variant::near_miss) {
      customers = 3;
      note = "3 customers on the device (threshold 4)";
    }
    const uint8_t corridor = pick_corridor(rng);
    const Corridor& c = corridors()[corridor];
    const int64_t day0 = rng.between(int64_t{0}, w.params().days - 21);
    const uint32_t s =
        w.new_scenario("R9", "smuggling_fee", variant_name(variant), variant == Variant::fire);
    w.truth(s).note = note;
    // The device of a handler who does not send himself: the signal's entity.
    const uint32_t handler = w.make_person(rng, corridor, true, "hdl-", Role::scenario);
    const std::string device = w.party(handler).device;
    w.truth(s).subject = device;
    w.truth(s).entities.emplace_back("device", device);
    const uint32_t label = w.scenario_label(s, "customer");
    for (int i = 0; i < customers; ++i) {
      const uint32_t customer = w.make_person(rng, corridor, true, "wrk-", Role::scenario);
      w.party(customer).device = device;
      w.add_entity(s, "customer", customer);
      const uint32_t family = w.make_person(rng, corridor, false, "fam-", Role::scenario);
      const int payments = static_cast<int>(rng.between(int64_t{1}, int64_t{3}));
      for (int k = 0; k < payments; ++k) {
        const int64_t day = day0 + rng.between(int64_t{0}, int64_t{20});
        Planned e = transfer(w.daytime(rng, day, c.utc_offset_h), customer, family, c.host_ccy,
                             usd_in(c.host_ccy, rng.between(100.0, 400.0), units(10)),
                             Channel::mobile_money, label);
        e.kind = static_cast<uint8_t>(Kind::remittance);
        w.add(e);
      }
    }
    w.truth(s).params = {{"customers", customers}};
    return true;
  }
};

// Pay cycles that fit: `needed` paydays `cycle_days` apart, plus `tail_days` after the last.
struct Cycles {
  int64_t first_day = 0, cycle_days = 30;
  int count = 0;
};
bool fit_cycles(const WorldState& w, Rng& rng, int needed, int most, int64_t tail_days,
                Cycles& out) {
  const int64_t days = w.params().days;
  for (int64_t cycle : {int64_t{30}, int64_t{14}}) {
    const int64_t span = (needed - 1) * cycle + tail_days + 1;
    if (span > days) continue;
    out.cycle_days = cycle;
    out.first_day = rng.between(int64_t{0}, std::min<int64_t>(cycle - 1, days - span));
    out.count = static_cast<int>(
        std::min<int64_t>(most, (days - tail_days - 1 - out.first_day) / cycle + 1));
    return true;
  }
  return false;
}

// A migrant worker of a scenario employer (created for the scenario, so its payroll and
// its worker stay together in the truth record).
struct ScenarioWorker {
  uint32_t worker, employer;
  uint8_t corridor;
  int64_t wage;  // whole host units
};
ScenarioWorker make_worker(WorldState& w, Rng& rng) {
  ScenarioWorker sw;
  sw.corridor = pick_corridor(rng);
  const Corridor& c = corridors()[sw.corridor];
  sw.employer = w.make_firm(rng, sw.corridor, true, "emp-", "Contractors", Role::scenario);
  sw.worker = w.make_person(rng, sw.corridor, true, "wrk-", Role::scenario);
  w.party(sw.worker).employer = w.party(sw.employer).id;
  w.party(sw.worker).city = w.party(sw.employer).city;
  sw.wage = rng.between(c.wage_lo, c.wage_hi);
  return sw;
}

Planned salary(WorldState& w, const ScenarioWorker& sw, int64_t day, uint32_t label) {
  const Corridor& c = corridors()[sw.corridor];
  Planned e;
  e.ts_ms = w.at_local(day, 10, c.utc_offset_h);
  e.kind = static_cast<uint8_t>(Kind::salary);
  e.channel = Channel::bank;
  e.currency = c.host_ccy;
  e.amount_units = units(sw.wage);
  e.sender = sw.employer;
  e.receiver = sw.worker;
  e.purpose = kSala;
  e.label = label;
  return e;
}

// The normal part of a wage: 50-60 % home to the family.
void send_home(WorldState& w, Rng& rng, const ScenarioWorker& sw, uint32_t family, int64_t after,
               double share, uint32_t label) {
  const Corridor& c = corridors()[sw.corridor];
  Planned e =
      transfer(after + rng.between(2 * kHourMs, 48 * kHourMs), sw.worker, family, c.host_ccy,
               round_units(static_cast<double>(sw.wage) * share, 10), Channel::mto, label);
  e.kind = static_cast<uint8_t>(Kind::remittance);
  e.agent = w.agents_host[sw.corridor][rng.index(w.agents_host[sw.corridor].size())];
  e.purpose = kFami;
  w.add(e);
}

// ---------------------------------------------------------------- R7
// Salary swept to one third party: within 24 h of payday >= 70 % of the pay goes to one
// domestic party (the recruiter's controller), in >= 2 consecutive cycles.
class SalarySweep final : public ScenarioGenerator {
 public:
  bool plan(WorldState& w, Variant variant, Rng& rng) override {
    Cycles cy;
    if (!fit_cycles(w, rng, 2, 4, 3, cy)) return false;
    double share_lo = 0.75, share_hi = 0.92;
    int64_t delay_lo = 1, delay_hi = 20;  // hours after the salary
    bool alternate = false;               // sweep every other cycle only
    std::string note = "clearly above every threshold";
    if (variant == Variant::near_miss) {
      switch (rng.index(3)) {
        case 0:
          share_lo = 0.55, share_hi = 0.66;
          note = "55-66 % of the pay swept (threshold 70 %)";
          break;
        case 1:
          delay_lo = 28, delay_hi = 40;
          note = "swept 28-40 h after payday (threshold 24 h)";
          break;
        default:
          alternate = true;
          note = "swept in every other cycle only (threshold 2 consecutive)";
          break;
      }
    }
    const ScenarioWorker sw = make_worker(w, rng);
    const uint32_t s =
        w.new_scenario("R7", "debt_bondage", variant_name(variant), variant == Variant::fire);
    w.truth(s).note = note;
    const uint32_t controller = w.make_person(rng, sw.corridor, true, "ctl-", Role::scenario);
    w.add_entity(s, "worker", sw.worker);
    w.add_entity(s, "controller", controller);
    w.add_entity(s, "employer", sw.employer);
    uint32_t family = kNone;  // only where the worker keeps enough to send home
    if (alternate) {
      family = w.make_person(rng, sw.corridor, false, "fam-", Role::scenario);
      w.add_entity(s, "family", family);
    }
    const uint32_t pay_label = w.scenario_label(s, "employer");
    const uint32_t worker_label = w.scenario_label(s, "worker");
    const Corridor& c = corridors()[sw.corridor];
    int swept = 0;
    double min_share = 1;
    int64_t max_delay = 0;
    for (int k = 0; k < cy.count; ++k) {
      const Planned pay = salary(w, sw, cy.first_day + k * cy.cycle_days, pay_label);
      w.add(pay);
      if (alternate && k % 2 == 1) {
        send_home(w, rng, sw, family, pay.ts_ms, rng.between(0.5, 0.6), worker_label);
        continue;
      }
      const double share = rng.between(share_lo, share_hi);
      const int64_t delay = rng.between(delay_lo * kHourMs, delay_hi * kHourMs);
      const int parts = rng.chance(0.3) ? 2 : 1;
      const int64_t total = round_units(static_cast<double>(sw.wage) * share, 10);
      for (int part = 0; part < parts; ++part) {
        const int64_t amount = parts == 1  ? total
                               : part == 0 ? total / 20000 * 10000
                                           : total - total / 20000 * 10000;
        const int64_t at =
            pay.ts_ms + (part == 0 ? delay : delay + rng.between(int64_t{60'000}, kHourMs * 3));
        // A split sweep still lands inside the window it is meant to hit or miss.
        const int64_t capped = delay_hi <= 24 ? std::min(at, pay.ts_ms + 23 * kHourMs) : at;
        w.add(transfer(capped, sw.worker, controller, c.host_ccy, amount,
                       rng.chance(0.5) ? Channel::bank : Channel::mobile_money, worker_label));
        max_delay = std::max(max_delay, capped - pay.ts_ms);
      }
      min_share =
          std::min(min_share, static_cast<double>(total) / static_cast<double>(units(sw.wage)));
      ++swept;
    }
    w.truth(s).params = {{"cycles", cy.count},
                         {"cycle_days", static_cast<double>(cy.cycle_days)},
                         {"swept_cycles", swept},
                         {"min_share_swept", min_share},
                         {"max_delay_h", static_cast<double>(max_delay) / kHourMs}};
    return true;
  }
};

// ---------------------------------------------------------------- R11
// Wage paid back to the employer: >= 20 % of the pay returned within 72 h, in >= 3 cycles.
class WagePaidBack final : public ScenarioGenerator {
 public:
  bool plan(WorldState& w, Variant variant, Rng& rng) override {
    Cycles cy;
    if (!fit_cycles(w, rng, 3, 5, 5, cy)) return false;
    double share_lo = 0.25, share_hi = 0.40;
    int64_t delay_lo = 2, delay_hi = 60;
    int returning = cy.count;
    std::string note = "clearly above every threshold";
    if (variant == Variant::near_miss) {
      switch (rng.index(3)) {
        case 0:
          share_lo = 0.12, share_hi = 0.18;
          note = "12-18 % of the pay returned (threshold 20 %)";
          break;
        case 1:
          delay_lo = 80, delay_hi = 110;
          note = "returned 80-110 h after payday (threshold 72 h)";
          break;
        default:
          returning = 2;
          note = "returned in 2 cycles only (threshold 3)";
          break;
      }
    }
    const ScenarioWorker sw = make_worker(w, rng);
    const uint32_t s =
        w.new_scenario("R11", "debt_bondage", variant_name(variant), variant == Variant::fire);
    w.truth(s).note = note;
    const uint32_t family = w.make_person(rng, sw.corridor, false, "fam-", Role::scenario);
    w.add_entity(s, "worker", sw.worker);
    w.add_entity(s, "employer", sw.employer);
    w.add_entity(s, "family", family);
    const uint32_t pay_label = w.scenario_label(s, "employer");
    const uint32_t worker_label = w.scenario_label(s, "worker");
    const Corridor& c = corridors()[sw.corridor];
    double min_share = 1;
    int64_t max_delay = 0;
    for (int k = 0; k < cy.count; ++k) {
      const Planned pay = salary(w, sw, cy.first_day + k * cy.cycle_days, pay_label);
      w.add(pay);
      send_home(w, rng, sw, family, pay.ts_ms, rng.between(0.4, 0.5), worker_label);
      if (k >= returning) continue;
      const double share = rng.between(share_lo, share_hi);
      const int64_t delay = rng.between(delay_lo * kHourMs, delay_hi * kHourMs);
      const int64_t amount = round_units(static_cast<double>(sw.wage) * share, 10);
      w.add(transfer(pay.ts_ms + delay, sw.worker, sw.employer, c.host_ccy, amount, Channel::bank,
                     worker_label));
      min_share =
          std::min(min_share, static_cast<double>(amount) / static_cast<double>(units(sw.wage)));
      max_delay = std::max(max_delay, delay);
    }
    w.truth(s).params = {{"cycles", cy.count},
                         {"cycle_days", static_cast<double>(cy.cycle_days)},
                         {"returning_cycles", std::min(returning, cy.count)},
                         {"min_share_returned", min_share},
                         {"max_delay_h", static_cast<double>(max_delay) / kHourMs}};
    return true;
  }
};

// ---------------------------------------------------------------- R8
// Collector hub: workers of one employer each send one account a similar amount in the
// days after payday. Thresholds (7 days after paydays): >= 5 salaried senders, >= 60 %
// of them of one employer, coefficient of variation of the amounts < 0.2.
class CollectorHub final : public ScenarioGenerator {
 public:
  bool plan(WorldState& w, Variant variant, Rng& rng) override {
    if (w.params().days < 10) return false;
    int workers = static_cast<int>(rng.between(int64_t{6}, int64_t{10}));
    int employers = 1;
    double spread = 0.0;  // amounts within +-5 % of the standard deduction
    std::string note = "clearly above every threshold";
    if (variant == Variant::near_miss) {
      switch (rng.index(3)) {
        case 0:
          workers = 4;
          note = "4 workers (threshold 5)";
          break;
        case 1:
          spread = 0.7;
          note = "amounts vary widely (CV threshold 0.2)";
          break;
        default:
          workers = 6;
          employers = 3;
          note = "workers of 3 employers, 2 each (threshold 60 % of one employer)";
          break;
      }
    }
    const uint8_t corridor = pick_corridor(rng);
    const Corridor& c = corridors()[corridor];
    const int64_t payday = rng.between(int64_t{0}, w.params().days - 9);
    const uint32_t s =
        w.new_scenario("R8", "debt_bondage", variant_name(variant), variant == Variant::fire);
    w.truth(s).note = note;
    const uint32_t hub = w.make_person(rng, corridor, true, "hub-", Role::scenario);
    w.add_entity(s, "hub", hub);
    std::vector<uint32_t> firms;
    for (int i = 0; i < employers; ++i) {
      firms.push_back(w.make_firm(rng, corridor, true, "emp-", "Contractors", Role::scenario));
      w.party(firms.back()).city = w.party(hub).city;  // one town: no fan-in from many cities
      w.add_entity(s, "employer", firms.back());
    }
    const uint32_t pay_label = w.scenario_label(s, "employer");
    const uint32_t worker_label = w.scenario_label(s, "worker");
    const int64_t standard = c.wage_lo * rng.between(int64_t{20}, int64_t{30}) / 100;
    for (int i = 0; i < workers; ++i) {
      const uint32_t firm = firms[static_cast<size_t>(i) % firms.size()];
      const uint32_t worker = w.make_person(rng, corridor, true, "wrk-", Role::scenario);
      w.party(worker).employer = w.party(firm).id;
      w.party(worker).city = w.party(firm).city;
      w.add_entity(s, "worker", worker);
      Planned pay;
      pay.ts_ms = w.at_local(payday, 10, c.utc_offset_h) + i * 2000;
      pay.kind = static_cast<uint8_t>(Kind::salary);
      pay.channel = Channel::bank;
      pay.currency = c.host_ccy;
      pay.amount_units = units(rng.between(c.wage_lo, c.wage_hi));
      pay.sender = firm;
      pay.receiver = worker;
      pay.purpose = kSala;
      pay.label = pay_label;
      w.add(pay);
      // Near miss: three levels in turn (about 0.5, 1 and 1.5 times the standard), so
      // any five of the payments vary by a CV of at least 0.3.
      const double level = spread > 0.1 ? 1.0 + spread * 0.7 * ((i % 3) - 1) : 1.0;
      const double factor = level * (1.0 + rng.between(-0.05, 0.05));
      w.add(transfer(pay.ts_ms + rng.between(2 * kHourMs, 5 * kDayMs), worker, hub, c.host_ccy,
                     round_units(static_cast<double>(standard) * factor, 1),
                     rng.chance(0.5) ? Channel::bank : Channel::mobile_money, worker_label));
    }
    w.truth(s).params = {{"workers", workers},
                         {"employers", employers},
                         {"amount_spread", spread},
                         {"standard_amount", static_cast<double>(standard)}};
    return true;
  }
};

// ---------------------------------------------------------------- R12
// Recruitment fees: a broker takes payments from many would-be migrants or their families,
// each far above the official migration cost, at one price. Thresholds (30 days): >= 10
// payers, each payment >= 3x the corridor's official cost (lists/official_migration_cost.csv:
// BD->MY and BD->BD, 658.25 USD), >= 70 % of them within +-10 % of the modal amount. Only
// BD->MY has an official cost, so the payers are at origin in BD and the broker in BD (a
// sub-agent) or in MY. Brokers recruit locally, through sub-agents (dalals) in their home
// district (the usual account of the chain; TYPOLOGIES.md's sources give no figure), so
// the payers come from one or two home towns: many first-time payers, but not from the
// several cities of R1's fan-in. The price is quoted in round thousands of taka, as the
// reports give it (400,000-500,000 BDT), so BD->MY's fee band for R6 (derived from the
// same reports) holds it too: R6 signals on the broker, and expect_patterns says so.
class RecruitmentFee final : public ScenarioGenerator {
 public:
  static constexpr double kOfficialUsd = 658.25;

  bool plan(WorldState& w, Variant variant, Rng& rng) override {
    if (w.params().days < 25) return false;
    int payers = static_cast<int>(rng.between(int64_t{10}, int64_t{15}));
    // The price: 400,000-500,000 BDT reported paid against the official 78,990 BDT.
    double price_usd = rng.between(3300.0, 4100.0);
    int levels = 1;  // distinct prices, spread 30 % apart
    std::string note = "clearly above every threshold";
    if (variant == Variant::near_miss) {
      switch (rng.index(3)) {
        case 0:
          payers = 9;
          note = "9 payers (threshold 10)";
          break;
        case 1:
          price_usd = kOfficialUsd * rng.between(2.3, 2.8);
          note = "price 2.3-2.8 times the official cost (threshold 3 times)";
          break;
        default:
          levels = 4;
          note = "payments at 4 prices 30 % apart: at most a third at one price (threshold 70 %)";
          break;
      }
    }
    const uint8_t corridor = 0;  // BD-MY: the only corridor with an official cost
    const Corridor& c = corridors()[corridor];
    const bool broker_at_host = rng.chance(0.5);
    const int64_t day0 = rng.between(int64_t{0}, w.params().days - 23);
    const uint32_t s =
        w.new_scenario("R12", "debt_bondage", variant_name(variant), variant == Variant::fire);
    w.truth(s).note = note;
    const uint32_t broker = w.make_person(rng, corridor, broker_at_host, "brk-", Role::scenario);
    w.add_entity(s, "broker", broker);
    const uint32_t label = w.scenario_label(s, "payer");
    std::vector<std::string_view> towns(c.origin_cities.begin(), c.origin_cities.end());
    for (size_t i = towns.size(); i > 1; --i) std::swap(towns[i - 1], towns[rng.index(i)]);
    towns.resize(rng.chance(0.5) ? 1 : 2);
    double lo = 1e18, hi = 0;
    for (int i = 0; i < payers; ++i) {
      const uint32_t payer = w.make_person(rng, corridor, false, "pyr-", Role::scenario);
      w.party(payer).city = towns[static_cast<size_t>(i) % towns.size()];
      w.add_entity(s, "payer", payer);
      const double level = 1.0 + 0.3 * (i % levels);
      const double usd = price_usd * level * rng.between(0.98, 1.02);
      const int64_t day = day0 + rng.between(int64_t{0}, int64_t{20});
      const int64_t amount = usd_in(c.origin_ccy, usd, units(1000));
      const double ch = rng.uniform();
      Planned e = transfer(w.daytime(rng, day, c.origin_utc_offset_h), payer, broker, c.origin_ccy,
                           amount, ch < 0.5 ? Channel::bank : Channel::mobile_money, label);
      if (broker_at_host) e.kind = static_cast<uint8_t>(Kind::remittance);
      w.add(e);
      const double paid = static_cast<double>(amount) / 10'000.0 * usd_per_unit(c.origin_ccy);
      lo = std::min(lo, paid);
      hi = std::max(hi, paid);
    }
    w.truth(s).params = {{"payers", payers},
                         {"price_levels", levels},
                         {"broker_at_host", broker_at_host ? 1 : 0},
                         {"min_usd", lo},
                         {"max_usd", hi},
                         {"min_times_official", lo / kOfficialUsd},
                         {"home_towns", static_cast<double>(towns.size())}};
    expect_r6_if_met(w, s);
    return true;
  }
};

// ---------------------------------------------------------------- R10
// An employer's payroll run lands in few accounts: many workers, each named on a salary,
// paid into a handful of accounts a controller holds. Threshold (one run, 24 h): receiving
// accounts < 0.5 x headcount (the pay test is off: minimum_wage.csv ships empty).
class PayrollFewAccounts final : public ScenarioGenerator {
 public:
  bool has_lookalike() const override { return true; }

  bool plan(WorldState& w, Variant variant, Rng& rng) override {
    if (w.params().days < 3) return false;
    if (variant == Variant::lookalike) return payroll_agent(w, rng);
    const int workers = static_cast<int>(rng.between(int64_t{10}, int64_t{20}));
    int per_account = static_cast<int>(rng.between(int64_t{3}, int64_t{6}));
    std::string note = "clearly above every threshold";
    if (variant == Variant::near_miss) {
      per_account = 2;
      note = "two workers per account: accounts = 0.5 x headcount (threshold below 0.5)";
    }
    const uint8_t corridor = pick_corridor(rng);
    const Corridor& c = corridors()[corridor];
    const int64_t payday = rng.between(int64_t{0}, w.params().days - 2);
    const uint32_t s =
        w.new_scenario("R10", "debt_bondage", variant_name(variant), variant == Variant::fire);
    w.truth(s).note = note;
    const uint32_t firm = w.make_firm(rng, corridor, true, "emp-", "Contractors", Role::scenario);
    w.add_entity(s, "employer", firm);
    const uint32_t label = w.scenario_label(s, "employer");
    const int n_accounts = (workers + per_account - 1) / per_account;
    std::vector<uint32_t> holders;
    for (int a = 0; a < n_accounts; ++a) {
      // The holders appear on no event (only their accounts do), so they are not entities.
      holders.push_back(w.make_person(rng, corridor, true, "ctl-", Role::scenario));
    }
    const int64_t run = w.at_local(payday, 10, c.utc_offset_h);
    for (int i = 0; i < workers; ++i) {
      const uint32_t worker = w.make_person(rng, corridor, true, "wrk-", Role::scenario);
      w.party(worker).employer = w.party(firm).id;
      w.party(worker).city = w.party(firm).city;
      // The salary names the worker but credits the holder's account.
      w.party(worker).account = w.party(holders[static_cast<size_t>(i / per_account)]).account;
      w.add_entity(s, "worker", worker);
      Planned pay;
      pay.ts_ms = run + i * 2000;
      pay.kind = static_cast<uint8_t>(Kind::salary);
      pay.channel = Channel::bank;
      pay.currency = c.host_ccy;
      pay.amount_units = units(rng.between(c.wage_lo, c.wage_hi));
      pay.sender = firm;
      pay.receiver = worker;
      pay.purpose = kSala;
      pay.label = label;
      w.add(pay);
    }
    w.truth(s).params = {
        {"headcount", workers},
        {"accounts", n_accounts},
        {"accounts_per_worker", static_cast<double>(n_accounts) / static_cast<double>(workers)}};
    return true;
  }

 private:
  // The benign look-alike: a payroll agent pays the workers of 2-4 client employers in one
  // large run, each worker into an account of their own. Many workers from one payer in a
  // day, as in R10, but one account per worker.
  static bool payroll_agent(WorldState& w, Rng& rng) {
    const uint8_t corridor = pick_corridor(rng);
    const Corridor& c = corridors()[corridor];
    const int64_t payday = rng.between(int64_t{0}, w.params().days - 2);
    const uint32_t s = w.new_scenario("R10", "debt_bondage", "lookalike", false);
    w.truth(s).note = "a payroll agent: every worker paid into an account of their own";
    const uint32_t agent =
        w.make_firm(rng, corridor, true, "pay-", "Payroll Services", Role::scenario);
    w.add_entity(s, "payroll_agent", agent);
    const uint32_t label = w.scenario_label(s, "payroll_agent");
    const int clients = static_cast<int>(rng.between(int64_t{2}, int64_t{4}));
    std::vector<uint32_t> firms;
    for (int i = 0; i < clients; ++i) {
      firms.push_back(w.make_firm(rng, corridor, true, "emp-", "Industries", Role::scenario));
    }
    const int workers = static_cast<int>(rng.between(int64_t{20}, int64_t{40}));
    const int64_t run = w.at_local(payday, 9, c.utc_offset_h);
    for (int i = 0; i < workers; ++i) {
      const uint32_t firm = firms[static_cast<size_t>(i % clients)];
      const uint32_t worker = w.make_person(rng, corridor, true, "wrk-", Role::scenario);
      w.party(worker).employer = w.party(firm).id;
      w.party(worker).city = w.party(firm).city;
      w.add_entity(s, "worker", worker);
      Planned pay;
      pay.ts_ms = run + i * 2000;
      pay.kind = static_cast<uint8_t>(Kind::salary);
      pay.channel = Channel::bank;
      pay.currency = c.host_ccy;
      pay.amount_units = units(rng.between(c.wage_lo, c.wage_hi));
      pay.sender = agent;
      pay.receiver = worker;
      pay.purpose = kSala;
      pay.label = label;
      w.add(pay);
    }
    w.truth(s).params = {{"headcount", workers}, {"accounts", workers}, {"clients", clients}};
    return true;
  }
};

// ---------------------------------------------------------------- R13
// Nothing kept: cycle after cycle the worker sends most of the wage home and withdraws the
// rest in cash, with no card payment or other living spending. Thresholds (per pay cycle,
// judged at the next salary): < 10 % of the salary retained and no living-expense
// spending, 2 consecutive cycles (so 3 salaries at least).
class NothingKept final : public ScenarioGenerator {
 public:
  bool plan(WorldState& w, Variant variant, Rng& rng) override {
    Cycles cy;
    if (!fit_cycles(w, rng, 3, 4, 1, cy)) return false;
    double out_lo = 0.92, out_hi = 0.97;  // share of the salary that leaves the account
    bool card = false;                    // a small card payment each cycle
    bool alternate = false;               // keeps a third in every other cycle
    std::string note = "clearly above every threshold";
    if (variant == Variant::near_miss) {
      switch (rng.index(3)) {
        case 0:
          out_lo = 0.80, out_hi = 0.88;
          note = "keeps 12-20 % of the salary (threshold under 10 %)";
          break;
        case 1:
          card = true;
          note = "one small card payment a cycle: living spending (threshold none)";
          break;
        default:
          alternate = true;
          note = "keeps a third in every other cycle (threshold 2 consecutive)";
          break;
      }
    }
    const ScenarioWorker sw = make_worker(w, rng);
    const uint32_t s =
        w.new_scenario("R13", "debt_bondage", variant_name(variant), variant == Variant::fire);
    w.truth(s).note = note;
    const uint32_t family = w.make_person(rng, sw.corridor, false, "fam-", Role::scenario);
    w.add_entity(s, "worker", sw.worker);
    w.add_entity(s, "employer", sw.employer);
    w.add_entity(s, "family", family);
    uint32_t shop = kNone;
    if (card) {
      shop = w.make_firm(rng, sw.corridor, true, "mer-", "Mart", Role::scenario);
      w.add_entity(s, "merchant", shop);
    }
    const uint32_t pay_label = w.scenario_label(s, "employer");
    const uint32_t worker_label = w.scenario_label(s, "worker");
    const Corridor& c = corridors()[sw.corridor];
    const auto& agents = w.agents_host[sw.corridor];
    double max_out = 0;
    for (int k = 0; k < cy.count; ++k) {
      const Planned pay = salary(w, sw, cy.first_day + k * cy.cycle_days, pay_label);
      w.add(pay);
      const double share =
          alternate && k % 2 == 1 ? rng.between(0.6, 0.7) : rng.between(out_lo, out_hi);
      const int64_t total = round_units(static_cast<double>(sw.wage) * share, 10);
      const int64_t home = round_units(static_cast<double>(sw.wage) * rng.between(0.5, 0.58), 10);
      // Money home, then the rest in cash, both within the cycle's first days.
      Planned r = transfer(pay.ts_ms + rng.between(2 * kHourMs, 48 * kHourMs), sw.worker, family,
                           c.host_ccy, home, Channel::mto, worker_label);
      r.kind = static_cast<uint8_t>(Kind::remittance);
      r.agent = agents[rng.index(agents.size())];
      r.purpose = kFami;
      w.add(r);
      int64_t rest = total - home;
      if (card) {
        const int64_t spent = usd_in(c.host_ccy, rng.between(5.0, 15.0), units(1));
        Planned e = transfer(pay.ts_ms + rng.between(3 * kDayMs, 9 * kDayMs), sw.worker, shop,
                             c.host_ccy, spent, Channel::card, worker_label);
        e.kind = static_cast<uint8_t>(Kind::card);
        w.add(e);
        rest -= spent;
      }
      Planned o;
      o.ts_ms = pay.ts_ms + rng.between(50 * kHourMs, 5 * kDayMs);
      o.kind = static_cast<uint8_t>(Kind::cash_out);
      o.channel = Channel::cash;
      o.currency = c.host_ccy;
      o.amount_units = rest;
      o.sender = sw.worker;
      o.agent = agents[rng.index(agents.size())];
      o.label = worker_label;
      w.add(o);
      max_out = std::max(max_out, static_cast<double>(total) / static_cast<double>(units(sw.wage)));
    }
    w.truth(s).params = {{"cycles", cy.count},
                         {"cycle_days", static_cast<double>(cy.cycle_days)},
                         {"max_share_out", max_out},
                         {"card_payments", card ? 1 : 0},
                         {"alternate", alternate ? 1 : 0}};
    return true;
  }
};

// ---------------------------------------------------------------- R4
// Funnel account: couriers deposit cash into one account in several Malaysian cities far
// from the holder's home (Klang Valley), and the holder withdraws it within the day.
// Thresholds (7 days): >= 3 deposit cities, >= 70 % of deposits outside the home region
// (lists/city_regions.csv), withdrawn < 24 h after the last deposit. agent_cities.csv
// ships empty, so a deposit's place is the courier's own city.
class FunnelAccount final : public ScenarioGenerator {
 public:
  bool plan(WorldState& w, Variant variant, Rng& rng) override {
    if (w.params().days < 8) return false;
    // One city per region outside the Klang Valley, and two inside it.
    std::vector<std::string_view> away = {"Johor Bahru", "George Town", "Seremban",
                                          "Ipoh",        "Melaka",      "Kuantan"};
    static constexpr std::string_view kHome[] = {"Petaling Jaya", "Shah Alam"};
    for (size_t i = away.size(); i > 1; --i) std::swap(away[i - 1], away[rng.index(i)]);
    int cities = static_cast<int>(rng.between(int64_t{3}, int64_t{5}));
    int home_deposits = 0;
    int64_t wait_lo = 2, wait_hi = 20;  // hours from the last deposit to the withdrawal
    std::string note = "clearly above every threshold";
    if (variant == Variant::near_miss) {
      switch (rng.index(3)) {
        case 0:
          cities = 2;
          note = "deposits in 2 cities (threshold 3)";
          break;
        case 1:
          cities = 3;
          home_deposits = 2;
          note = "3 of 5 deposits outside the home region (threshold 70 %)";
          break;
        default:
          wait_lo = 30, wait_hi = 40;
          note = "withdrawn 30-40 h after the last deposit (threshold 24 h)";
          break;
      }
    }
    const uint8_t corridor = 0;  // BD-MY: city_regions.csv has Malaysia's cities
    const Corridor& c = corridors()[corridor];
    const int64_t day0 = rng.between(int64_t{0}, w.params().days - 6);
    const uint32_t s =
        w.new_scenario("R4", "debt_bondage", variant_name(variant), variant == Variant::fire);
    w.truth(s).note = note;
    const uint32_t holder = w.make_person(rng, corridor, true, "fnl-", Role::scenario);
    w.party(holder).city = "Kuala Lumpur";
    w.add_entity(s, "holder", holder);
    const uint32_t courier_label = w.scenario_label(s, "courier");
    const uint32_t holder_label = w.scenario_label(s, "holder");
    const auto& agents = w.agents_host[corridor];
    // Deposits: one or two per away city (two in the 2-city near miss), then the home ones.
    std::vector<std::string_view> places;
    for (int i = 0; i < cities; ++i) {
      places.push_back(away[static_cast<size_t>(i)]);
      if (cities == 2) places.push_back(away[static_cast<size_t>(i)]);
    }
    for (int i = 0; i < home_deposits; ++i) places.push_back(kHome[i]);
    int64_t t = w.daytime(rng, day0, c.utc_offset_h);
    int64_t last_deposit = t, deposited = 0;
    for (std::string_view city : places) {
      const uint32_t courier = w.make_person(rng, corridor, true, "cur-", Role::scenario);
      w.party(courier).city = std::string(city);
      w.add_entity(s, "courier", courier);
      Planned e = cash_in(t, holder, c.host_ccy,
                          usd_in(c.host_ccy, rng.between(300.0, 900.0), units(10)), courier_label);
      e.sender = courier;
      e.agent = agents[rng.index(agents.size())];
      w.add(e);
      deposited += e.amount_units;
      last_deposit = t;
      t += rng.between(2 * kHourMs, 14 * kHourMs);
    }
    const int64_t wait = rng.between(wait_lo * kHourMs, wait_hi * kHourMs);
    Planned o;
    o.ts_ms = last_deposit + wait;
    o.kind = static_cast<uint8_t>(Kind::cash_out);
    o.channel = Channel::cash;
    o.currency = c.host_ccy;
    o.amount_units =
        round_units(static_cast<double>(deposited) / 10'000.0 * rng.between(0.85, 0.95), 10);
    o.sender = holder;
    o.agent = agents[rng.index(agents.size())];
    o.label = holder_label;
    w.add(o);
    w.truth(s).params = {{"deposits", static_cast<double>(places.size())},
                         {"cities", static_cast<double>(cities + home_deposits)},
                         {"outside_home_share", static_cast<double>(places.size() - home_deposits) /
                                                    static_cast<double>(places.size())},
                         {"withdrawn_after_h", static_cast<double>(wait) / kHourMs}};
    return true;
  }
};

// ---------------------------------------------------------------- R5
// Fee paid in legs: a family in BD pays a smuggler's agent in each transit country of a
// listed route (lists/route_legs.csv: BD -> AE -> LY, bd_central_med) as the migrant
// moves on. Thresholds: payments of 300-5,000 USD to >= 2 transit countries of one route,
// the second 2-30 days after the first.
class FeeInLegs final : public ScenarioGenerator {
 public:
  bool plan(WorldState& w, Variant variant, Rng& rng) override {
    if (w.params().days < 16) return false;
    double usd_lo = 800, usd_hi = 2500;
    int64_t gap_lo = 3 * 24, gap_hi = 12 * 24;  // hours between the legs
    bool one_country = false;
    std::string note = "clearly above every threshold";
    if (variant == Variant::near_miss) {
      switch (rng.index(3)) {
        case 0:
          usd_lo = 150, usd_hi = 280;
          note = "legs of 150-280 USD (threshold 300)";
          break;
        case 1:
          gap_lo = 20, gap_hi = 40;
          note = "second leg 20-40 h after the first (threshold 2 days)";
          break;
        default:
          one_country = true;
          note = "both legs to the same transit country (threshold 2 countries)";
          break;
      }
    }
    const uint8_t origin = 0;  // BD-MY's origin: BD
    const uint8_t gulf = 2;    // LK-AE's host: AE
    const Corridor& c = corridors()[origin];
    const int64_t day0 = rng.between(int64_t{0}, w.params().days - 14);
    const uint32_t s =
        w.new_scenario("R5", "smuggling_fee", variant_name(variant), variant == Variant::fire);
    w.truth(s).note = note;
    const uint32_t payer = w.make_person(rng, origin, false, "pyr-", Role::scenario);
    w.add_entity(s, "payer", payer);
    const uint32_t first = w.make_person(rng, gulf, true, "agt-", Role::scenario);
    w.add_entity(s, "leg_agent", first);
    uint32_t second = first;
    if (!one_country) {
      // An agent in Libya: a Gulf-named party moved there (no corridor of the world ends
      // in LY).
      second = w.make_person(rng, gulf, true, "agt-", Role::scenario);
      PartyRecord& p = w.party(second);
      p.country = "LY";
      p.city = "Tripoli";
      p.id.replace(4, 2, "LY");
      p.account.replace(0, 2, "LY");
      p.phone = "+218" + p.phone.substr(4);
      w.add_entity(s, "leg_agent", second);
    }
    const uint32_t label = w.scenario_label(s, "payer");
    const int64_t t0 = w.daytime(rng, day0, c.origin_utc_offset_h);
    const int64_t gap = rng.between(gap_lo * kHourMs, gap_hi * kHourMs);
    double min_usd = 1e18;
    int64_t at = t0;
    for (const uint32_t leg : {first, second}) {
      const double usd = rng.between(usd_lo, usd_hi);
      Planned e = transfer(at, payer, leg, c.origin_ccy, usd_in(c.origin_ccy, usd, units(10)),
                           rng.chance(0.5) ? Channel::hawala : Channel::mto, label);
      e.kind = static_cast<uint8_t>(Kind::remittance);
      if (e.channel == Channel::mto) {
        e.agent = w.agents_origin[origin][rng.index(w.agents_origin[origin].size())];
      }
      w.add(e);
      min_usd = std::min(min_usd, usd);
      at = t0 + gap;
    }
    w.truth(s).params = {{"legs", 2},
                         {"countries", one_country ? 1 : 2},
                         {"gap_h", static_cast<double>(gap) / kHourMs},
                         {"min_usd", min_usd}};
    return true;
  }
};

// ---------------------------------------------------------------- R6
// Round amounts in the corridor's fee band: families in BD, each paying for the first
// time, send a collector in MY round sums inside BD->MY's band (lists/fee_band_low.csv and
// fee_band_high.csv: 3,333.33-4,166.67 USD, 400,000-500,000 BDT). Thresholds (30 days):
// >= 3 first-time senders, amounts a whole multiple of 100 in the sender's currency. The
// families pay 2-6 days apart, so R1 (5 senders in a week) stays quiet.
class RoundFeeBand final : public ScenarioGenerator {
 public:
  bool has_lookalike() const override { return true; }

  bool plan(WorldState& w, Variant variant, Rng& rng) override {
    if (w.params().days < 22) return false;
    if (variant == Variant::lookalike) return shop(w, rng);
    int senders = static_cast<int>(rng.between(int64_t{3}, int64_t{5}));
    bool round = true;
    int64_t bdt_lo = 81, bdt_hi = 99;  // in steps of 5,000 BDT: 405,000-495,000
    std::string note = "clearly above every threshold";
    if (variant == Variant::near_miss) {
      switch (rng.index(3)) {
        case 0:
          senders = 2;
          note = "2 first-time senders (threshold 3)";
          break;
        case 1:
          round = false;
          note = "amounts not a multiple of 100 BDT (threshold round)";
          break;
        default:
          bdt_lo = 50, bdt_hi = 64;  // 250,000-320,000 BDT: about 2,075-2,656 USD
          note = "amounts below the BD->MY fee band (3,333.33 USD)";
          break;
      }
    }
    const uint8_t corridor = 0;  // BD-MY
    const Corridor& c = corridors()[corridor];
    const int64_t day0 = rng.between(int64_t{0}, w.params().days - 21);
    const uint32_t s =
        w.new_scenario("R6", "smuggling_fee", variant_name(variant), variant == Variant::fire);
    w.truth(s).note = note;
    const uint32_t collector = w.make_person(rng, corridor, true, "col-", Role::scenario);
    w.add_entity(s, "collector", collector);
    const uint32_t label = w.scenario_label(s, "payer");
    for (int i = 0; i < senders; ++i) {
      const uint32_t payer = w.make_person(rng, corridor, false, "pyr-", Role::scenario);
      w.add_entity(s, "payer", payer);
      int64_t amount = units(rng.between(bdt_lo, bdt_hi) * 5000);
      if (!round) amount += units(rng.between(int64_t{1}, int64_t{99}));
      // Families pay as their migrant sets off, days apart: at most three in any 7 days, so
      // R1 (>= 5 senders in 7 days) stays quiet on the collector.
      const int64_t day = day0 + 4 * i + rng.between(int64_t{0}, int64_t{2});
      Planned e =
          transfer(w.daytime(rng, day, c.origin_utc_offset_h), payer, collector, c.origin_ccy,
                   amount, rng.chance(0.5) ? Channel::mto : Channel::mobile_money, label);
      e.kind = static_cast<uint8_t>(Kind::remittance);
      if (e.channel == Channel::mto) {
        e.agent = w.agents_origin[corridor][rng.index(w.agents_origin[corridor].size())];
      }
      w.add(e);
    }
    w.truth(s).params = {{"senders", senders}, {"round", round ? 1 : 0}};
    expect_r6_if_met(w, s);  // adds nothing: a fire has R6 already, a near miss misses it
    return true;
  }

 private:
  // The benign look-alike: a busy shop in a host city takes many small payments from
  // people of its own town over three weeks, most of them first-time payers, by card or
  // by mobile transfer in round sums (10 to 100 in the host currency). Many new senders
  // and round amounts, as in R6 (and R1), but far below any fee band, from one city.
  static bool shop(WorldState& w, Rng& rng) {
    const uint8_t corridor = pick_corridor(rng);
    const Corridor& c = corridors()[corridor];
    const int64_t day0 = rng.between(int64_t{0}, w.params().days - 21);
    const uint32_t s = w.new_scenario("R6", "smuggling_fee", "lookalike", false);
    w.truth(s).note = "a busy shop: many first-time payers, small round sums, one town";
    const uint32_t shop = w.make_firm(rng, corridor, true, "mer-", "Mart", Role::scenario);
    w.add_entity(s, "shop", shop);
    const uint32_t label = w.scenario_label(s, "customer");
    const int customers = static_cast<int>(rng.between(int64_t{25}, int64_t{45}));
    int transfers = 0;
    for (int i = 0; i < customers; ++i) {
      const uint32_t customer = w.make_person(rng, corridor, true, "cus-", Role::scenario);
      w.party(customer).city = w.party(shop).city;
      w.add_entity(s, "customer", customer);
      const int visits = static_cast<int>(rng.between(int64_t{1}, int64_t{3}));
      for (int k = 0; k < visits; ++k) {
        const int64_t day = day0 + rng.between(int64_t{0}, int64_t{20});
        const bool card = rng.chance(0.6);
        Planned e = transfer(w.daytime(rng, day, c.utc_offset_h), customer, shop, c.host_ccy,
                             card ? usd_in(c.host_ccy, rng.between(3.0, 40.0), units(1))
                                  : units(10 * rng.between(int64_t{1}, int64_t{10})),
                             card ? Channel::card : Channel::mobile_money, label);
        if (card) e.kind = static_cast<uint8_t>(Kind::card);
        transfers += card ? 0 : 1;
        w.add(e);
      }
    }
    w.truth(s).params = {{"customers", customers}, {"transfers", transfers}};
    return true;
  }
};

// ---------------------------------------------------------------- R7+R11 (combined)
// A worker whose employer takes the wage back: fortnightly, within 2-20 h of payday, the
// worker returns most of the salary to the employer. Two primaries of debt_bondage on one
// worker: R7 (>= 70 % to one employer-linked party within 24 h, 2 consecutive cycles,
// signals at the second payday) and R11 (>= 20 % back to the employer within 72 h, 3
// cycles, signals at the third), 14 days apart: inside the typology's 30-day horizon, so
// the worker is alerted. Near miss: 30-45 % returned, so R11 signals and R7 does not, and
// one primary alone raises no alert.
class WageTakenBack final : public ScenarioGenerator {
 public:
  bool plan(WorldState& w, Variant variant, Rng& rng) override {
    const int64_t cycle = 14, cycles = 3, tail = 5;
    const int64_t span = (cycles - 1) * cycle + tail + 1;
    if (w.params().days < span) return false;
    double share_lo = 0.75, share_hi = 0.85;  // keeps >= 15 %: R13 stays quiet
    std::string note = "R7 and R11 both clearly above their thresholds, 14 days apart";
    if (variant == Variant::near_miss) {
      share_lo = 0.30, share_hi = 0.45;
      note = "30-45 % returned: R11 signals, R7 does not (threshold 70 %): one primary, no alert";
    }
    const ScenarioWorker sw = make_worker(w, rng);
    const uint32_t s =
        w.new_scenario("R7+R11", "debt_bondage", variant_name(variant), variant == Variant::fire);
    w.truth(s).expect_alert = variant == Variant::fire;
    if (variant == Variant::near_miss) w.truth(s).expect_patterns = {"R11"};
    w.truth(s).note = note;
    w.add_entity(s, "worker", sw.worker);
    w.add_entity(s, "employer", sw.employer);
    const uint32_t pay_label = w.scenario_label(s, "employer");
    const uint32_t worker_label = w.scenario_label(s, "worker");
    const Corridor& c = corridors()[sw.corridor];
    const int64_t first_day = rng.between(int64_t{0}, w.params().days - span);
    double min_share = 1, max_share = 0;
    for (int64_t k = 0; k < cycles; ++k) {
      const Planned pay = salary(w, sw, first_day + k * cycle, pay_label);
      w.add(pay);
      const double share = rng.between(share_lo, share_hi);
      const int64_t amount = round_units(static_cast<double>(sw.wage) * share, 10);
      w.add(transfer(pay.ts_ms + rng.between(2 * kHourMs, 20 * kHourMs), sw.worker, sw.employer,
                     c.host_ccy, amount, Channel::bank, worker_label));
      const double got = static_cast<double>(amount) / static_cast<double>(units(sw.wage));
      min_share = std::min(min_share, got);
      max_share = std::max(max_share, got);
    }
    w.truth(s).params = {{"cycles", static_cast<double>(cycles)},
                         {"cycle_days", static_cast<double>(cycle)},
                         {"min_share_returned", min_share},
                         {"max_share_returned", max_share}};
    return true;
  }
};

// ---------------------------------------------------------------- R1+R14 (combined)
// A collector at origin paid by 6-8 families from 3-4 cities within three days, the first
// 3-4 of them brought to one agent within 40 minutes. Two primaries of smuggling_fee on
// the collector: R1 (>= 5 first-time senders from >= 3 cities in 7 days) and R14 (>= 3
// senders at one agent within the hour), the same day: the collector is alerted. Near
// miss: the agent group spread over 76-90 minutes (at most 2 in any hour), so R14 stays
// quiet and R1 alone raises no alert.
class CollectorAtOneAgent final : public ScenarioGenerator {
 public:
  bool plan(WorldState& w, Variant variant, Rng& rng) override {
    if (w.params().days < 6) return false;
    const int group = static_cast<int>(rng.between(int64_t{3}, int64_t{4}));
    const int others = static_cast<int>(rng.between(int64_t{3}, int64_t{4}));
    int64_t gap_lo = 2 * 60'000, gap_hi = 40 * 60'000 / (group - 1);
    int in_group = group;
    std::string note = "R1 and R14 both clearly above their thresholds, the same day";
    if (variant == Variant::near_miss) {
      in_group = 3;
      gap_lo = 38 * 60'000, gap_hi = 45 * 60'000;
      note =
          "the agent group spread over 76-90 min: R1 signals, R14 does not (threshold 3 in "
          "an hour): one primary, no alert";
    }
    const uint8_t corridor = pick_corridor(rng);
    const Corridor& c = corridors()[corridor];
    const auto& agents = w.agents_origin[corridor];
    const int64_t day0 = rng.between(int64_t{0}, w.params().days - 5);
    const uint32_t s =
        w.new_scenario("R1+R14", "smuggling_fee", variant_name(variant), variant == Variant::fire);
    w.truth(s).expect_alert = variant == Variant::fire;
    if (variant == Variant::near_miss) w.truth(s).expect_patterns = {"R1"};
    w.truth(s).note = note;
    const uint32_t collector = w.make_person(rng, corridor, false, "col-", Role::scenario);
    w.add_entity(s, "collector", collector);
    const uint32_t label = w.scenario_label(s, "payer");
    const uint32_t agent = agents[rng.index(agents.size())];
    // The group comes from around the agent; the others from three other cities.
    std::vector<std::string_view> cities(c.origin_cities.begin(), c.origin_cities.end());
    const std::string home = w.party(agent).city;
    cities.erase(std::remove(cities.begin(), cities.end(), std::string_view(home)), cities.end());
    for (size_t i = cities.size(); i > 1; --i) std::swap(cities[i - 1], cities[rng.index(i)]);
    int64_t at = w.at_local(day0, static_cast<int>(rng.between(int64_t{10}, int64_t{14})),
                            c.origin_utc_offset_h);
    const int64_t first = at;
    int64_t group_end = at;
    for (int i = 0; i < in_group + others; ++i) {
      const bool grouped = i < in_group;
      const uint32_t payer = w.make_person(rng, corridor, false, "pyr-", Role::scenario);
      w.party(payer).city = grouped ? home : std::string(cities[static_cast<size_t>(i) % 3]);
      w.add_entity(s, "payer", payer);
      Planned e = transfer(at, payer, collector, c.origin_ccy,
                           usd_in(c.origin_ccy, rng.between(400.0, 1500.0), units(100)),
                           grouped ? Channel::mto : Channel::mobile_money, label);
      if (grouped) e.agent = agent;
      w.add(e);
      if (grouped) group_end = at;
      at += grouped && i + 1 < in_group ? rng.between(gap_lo, gap_hi)
                                        : rng.between(4 * kHourMs, 20 * kHourMs);
    }
    w.add_entity(s, "agent", agent);
    w.truth(s).params = {{"senders", in_group + others},
                         {"at_the_agent", in_group},
                         {"group_span_min", static_cast<double>(group_end - first) / 60'000.0}};
    expect_r6_if_met(w, s);
    return true;
  }
};

// Cash deposits into `account` by `depositors` (one each, in their own cities), 2-5 h
// apart from `at` on, at agents of the corridor's host side; returns the time of the last
// and adds the amounts (Money units of the host currency) to `deposited`.
int64_t deposit_cash(WorldState& w, Rng& rng, uint8_t corridor, uint32_t account,
                     const std::vector<std::pair<uint32_t, int64_t>>& depositors, int64_t at,
                     uint32_t label, int64_t& deposited) {
  const Corridor& c = corridors()[corridor];
  const auto& agents = w.agents_host[corridor];
  int64_t last = at;
  for (const auto& [depositor, amount] : depositors) {
    Planned e = cash_in(at, account, c.host_ccy, amount, label);
    e.sender = depositor;
    e.agent = agents[rng.index(agents.size())];
    w.add(e);
    deposited += amount;
    last = at;
    at += rng.between(2 * kHourMs, 5 * kHourMs);
  }
  return last;
}

// Towns of Malaysia outside the Klang Valley, one per region of
// rules/packs/lists/city_regions.csv, shuffled: where R4's deposits come from.
std::vector<std::string_view> away_towns(Rng& rng) {
  std::vector<std::string_view> away = {"Johor Bahru", "George Town", "Seremban",
                                        "Ipoh",        "Melaka",      "Kuantan"};
  for (size_t i = away.size(); i > 1; --i) std::swap(away[i - 1], away[rng.index(i)]);
  return away;
}

// ---------------------------------------------------------------- R3+R4+R6 (combined)
// A smuggler's collector in Kuala Lumpur. 3-4 families in BD, each paying for the first
// time, send the fee as a round sum inside BD->MY's band, 2-4 days apart (R6: >= 3
// first-time senders of round amounts in the band within 30 days); couriers in 3-4
// Malaysian towns of other regions deposit instalments collected there in cash, 2-5 h
// apart, 400-900 USD each (R4: >= 3 deposit cities, >= 70 % of the deposits outside the
// home region); 2-20 h after the last deposit the collector sends 85-95 % of the cash by
// bank to the organiser in BD (R3: >= 1,000 USD of cash in and >= 80 % of it out to a
// listed country within 48 h; it is also R4's withdrawal within 24 h). One primary and two
// contributors of smuggling_fee on the collector within 12 days: an alert. Near miss: one
// contributor misses by a little, so the score stays at 75 (R3 and the other contributor
// still signal): the cash sent on 26-30 h after the last deposit, or deposits in 2 towns
// (R4); 2 families, or fees of 380,000-400,000 BDT, just below the band (R6). R1 stays
// quiet (at most 4 senders), and so does R12 (at most 4 payers).
class CollectorFunnel final : public ScenarioGenerator {
 public:
  bool plan(WorldState& w, Variant variant, Rng& rng) override {
    if (w.params().days < 16) return false;
    int families = static_cast<int>(rng.between(int64_t{3}, int64_t{4}));
    int64_t bdt_lo = 81, bdt_hi = 99;  // in steps of 5,000 BDT: 405,000-495,000
    int cities = static_cast<int>(rng.between(int64_t{3}, int64_t{4}));
    int64_t wait_lo = 2, wait_hi = 20;  // hours from the last deposit to the transfer out
    std::string note = "R3, R4 and R6 all clearly above their thresholds, within 12 days";
    bool r4 = true;
    if (variant == Variant::near_miss) {
      switch (rng.index(4)) {
        case 0:
          wait_lo = 26, wait_hi = 30;
          r4 = false;
          note =
              "cash sent on 26-30 h after the last deposit: R4 misses (threshold 24 h), R3 "
              "and R6 signal: 75, no alert";
          break;
        case 1:
          cities = 2;
          r4 = false;
          note =
              "3 deposits in 2 towns: R4 misses (threshold 3 cities), R3 and R6 signal: 75, "
              "no alert";
          break;
        case 2:
          families = 2;
          note =
              "2 first-time senders of round fees: R6 misses (threshold 3), R3 and R4 "
              "signal: 75, no alert";
          break;
        default:
          bdt_lo = 76, bdt_hi = 80;  // 380,000-400,000 BDT: 3,154-3,320 USD
          note =
              "fees of 380,000-400,000 BDT, just below BD->MY's band (3,333.33 USD): R6 "
              "misses, R3 and R4 signal: 75, no alert";
          break;
      }
    }
    const uint8_t corridor = 0;  // BD-MY: city_regions.csv has Malaysia's cities
    const Corridor& c = corridors()[corridor];
    const int64_t day0 = rng.between(int64_t{0}, w.params().days - 14);
    const uint32_t s = w.new_scenario("R3+R4+R6", "smuggling_fee", variant_name(variant),
                                      variant == Variant::fire);
    TruthRecord& t = w.truth(s);
    t.expect_alert = variant == Variant::fire;
    if (variant == Variant::near_miss) {
      t.expect_patterns = {"R3"};
      if (r4) t.expect_patterns.emplace_back("R4");
    }
    t.note = note;
    const uint32_t collector = w.make_person(rng, corridor, true, "col-", Role::scenario);
    w.party(collector).city = "Kuala Lumpur";
    w.add_entity(s, "collector", collector);
    const uint32_t payer_label = w.scenario_label(s, "payer");
    const uint32_t courier_label = w.scenario_label(s, "courier");
    const uint32_t collector_label = w.scenario_label(s, "collector");
    // The families: several districts, one fee each.
    for (int i = 0; i < families; ++i) {
      const uint32_t payer = w.make_person(rng, corridor, false, "pyr-", Role::scenario);
      w.add_entity(s, "payer", payer);
      const int64_t day = day0 + 3 * i + rng.between(int64_t{0}, int64_t{1});
      Planned e = transfer(w.daytime(rng, day, c.origin_utc_offset_h), payer, collector,
                           c.origin_ccy, units(rng.between(bdt_lo, bdt_hi) * 5000),
                           rng.chance(0.5) ? Channel::mto : Channel::mobile_money, payer_label);
      e.kind = static_cast<uint8_t>(Kind::remittance);
      if (e.channel == Channel::mto) {
        e.agent = w.agents_origin[corridor][rng.index(w.agents_origin[corridor].size())];
      }
      w.add(e);
    }
    // The couriers: one deposit per town (three in two towns for that near miss).
    const std::vector<std::string_view> away = away_towns(rng);
    std::vector<std::pair<uint32_t, int64_t>> deposits;
    for (int i = 0; i < std::max(cities, 3); ++i) {
      const uint32_t courier = w.make_person(rng, corridor, true, "cur-", Role::scenario);
      w.party(courier).city = std::string(away[static_cast<size_t>(i % cities)]);
      w.add_entity(s, "courier", courier);
      deposits.emplace_back(courier, usd_in(c.host_ccy, rng.between(400.0, 900.0), units(10)));
    }
    int64_t deposited = 0;
    const int64_t cash_day = day0 + rng.between(int64_t{2}, int64_t{9});
    const int64_t first = w.daytime(rng, cash_day, c.utc_offset_h);
    const int64_t last =
        deposit_cash(w, rng, corridor, collector, deposits, first, courier_label, deposited);
    // Sent on to the organiser at home, by bank: R3's outflow and R4's withdrawal.
    const uint32_t organiser = w.make_person(rng, corridor, false, "org-", Role::scenario);
    w.add_entity(s, "organiser", organiser);
    const double share = rng.between(0.85, 0.95);
    const int64_t wait = rng.between(wait_lo * kHourMs, wait_hi * kHourMs);
    Planned out = transfer(last + wait, collector, organiser, c.host_ccy,
                           round_units(static_cast<double>(deposited) / 10'000.0 * share, 10),
                           Channel::bank, collector_label);
    out.kind = static_cast<uint8_t>(Kind::remittance);
    w.add(out);
    t.params = {{"families", families},
                {"deposit_cities", cities},
                {"deposits", static_cast<double>(deposits.size())},
                {"cash_in_usd", static_cast<double>(base_units(c.host_ccy, deposited)) / 10'000},
                {"out_share", share},
                {"deposits_span_h", static_cast<double>(last - first) / kHourMs},
                {"sent_after_h", static_cast<double>(wait) / kHourMs}};
    expect_r6_if_met(w, s);
    return true;
  }
};

// ---------------------------------------------------------------- R8+R4+R14 (combined)
// A recruiter's collector (a hub) in Kuala Lumpur takes a fixed cut of the wages of one
// employer's workers after payday. The 5-8 workers of the employer's hostel in Kuala
// Lumpur each send the hub the cut (20-30 % of the corridor's lowest wage, +-5 %) within 5
// days, the first 3-4 of them taken together to one agent the evening after payday, within
// 40 minutes (R8: >= 5 salaried senders, >= 60 % of one employer, CV < 0.2, within 7 days
// of payday; R14: >= 3 senders at one agent within the hour). The workers at the
// employer's sites in 3-4 towns of other regions pay theirs in cash at an agent there, 2-5
// h apart, and the hub takes the cash out 2-20 h after the last deposit (R4: >= 3 deposit
// cities, >= 70 % outside the home region, withdrawn within 24 h). One primary and two
// contributors of debt_bondage on the hub: an alert. Near miss: one contributor misses by
// a little, so the score stays at 75: the agent group of 3 spread over 64-74 minutes (R14),
// or the cash taken out 26-32 h after the last deposit, or deposits in 2 towns (R4). The
// smuggling-fee pack's R14 and R4 signal on the hub too (50 + 25: no alert there); its R1
// stays quiet, as the hostel workers all live in one city.
class HubTakingCuts final : public ScenarioGenerator {
 public:
  bool plan(WorldState& w, Variant variant, Rng& rng) override {
    if (w.params().days < 12) return false;
    const int hostel = static_cast<int>(rng.between(int64_t{5}, int64_t{8}));
    int group = static_cast<int>(rng.between(int64_t{3}, int64_t{4}));
    int64_t gap_lo = 2 * 60'000, gap_hi = 12 * 60'000;  // between the group's transfers
    int cities = static_cast<int>(rng.between(int64_t{3}, int64_t{4}));
    int64_t wait_lo = 2, wait_hi = 20;  // hours from the last deposit to the withdrawal
    std::string note = "R8, R4 and R14 all clearly above their thresholds, within 5 days";
    bool r4 = true, r14 = true;
    if (variant == Variant::near_miss) {
      switch (rng.index(3)) {
        case 0:
          group = 3;
          gap_lo = 32 * 60'000, gap_hi = 37 * 60'000;
          r14 = false;
          note =
              "the agent group of 3 spread over 64-74 min: R14 misses (threshold 3 in an "
              "hour), R8 and R4 signal: 75, no alert";
          break;
        case 1:
          wait_lo = 26, wait_hi = 32;
          r4 = false;
          note =
              "cash taken out 26-32 h after the last deposit: R4 misses (threshold 24 h), "
              "R8 and R14 signal: 75, no alert";
          break;
        default:
          cities = 2;
          r4 = false;
          note =
              "3 deposits in 2 towns: R4 misses (threshold 3 cities), R8 and R14 signal: 75, "
              "no alert";
          break;
      }
    }
    const uint8_t corridor = 0;  // BD-MY: city_regions.csv has Malaysia's cities
    const Corridor& c = corridors()[corridor];
    const int64_t payday = rng.between(int64_t{0}, w.params().days - 10);
    const uint32_t s = w.new_scenario("R8+R4+R14", "debt_bondage", variant_name(variant),
                                      variant == Variant::fire);
    TruthRecord& t = w.truth(s);
    t.expect_alert = variant == Variant::fire;
    if (variant == Variant::near_miss) {
      t.expect_patterns = {"R8"};
      if (r4) t.expect_patterns.emplace_back("R4");
      if (r14) t.expect_patterns.emplace_back("R14");
    }
    t.note = note;
    const uint32_t hub = w.make_person(rng, corridor, true, "hub-", Role::scenario);
    w.party(hub).city = "Kuala Lumpur";
    w.add_entity(s, "hub", hub);
    const uint32_t firm = w.make_firm(rng, corridor, true, "emp-", "Contractors", Role::scenario);
    w.party(firm).city = "Kuala Lumpur";
    w.add_entity(s, "employer", firm);
    const uint32_t pay_label = w.scenario_label(s, "employer");
    const uint32_t worker_label = w.scenario_label(s, "worker");
    const uint32_t hub_label = w.scenario_label(s, "hub");
    const std::vector<std::string_view> away = away_towns(rng);
    const int remote = std::max(cities, 3);
    const int64_t standard = c.wage_lo * rng.between(int64_t{20}, int64_t{30}) / 100;
    const int64_t run = w.at_local(payday, 10, c.utc_offset_h);
    const auto agent_pick = rng.index(w.agents_host[corridor].size());
    const uint32_t agent = w.agents_host[corridor][agent_pick];
    int64_t at = w.at_local(payday + 1, static_cast<int>(rng.between(int64_t{18}, int64_t{19})),
                            c.utc_offset_h) +
                 rng.between(int64_t{0}, kHourMs / 2);
    const int64_t group_first = at;
    int64_t group_last = at;
    std::vector<std::pair<uint32_t, int64_t>> deposits;
    for (int i = 0; i < hostel + remote; ++i) {
      const bool in_hostel = i < hostel;
      const uint32_t worker = w.make_person(rng, corridor, true, "wrk-", Role::scenario);
      w.party(worker).employer = w.party(firm).id;
      w.party(worker).city = in_hostel
                                 ? std::string("Kuala Lumpur")
                                 : std::string(away[static_cast<size_t>((i - hostel) % cities)]);
      w.add_entity(s, "worker", worker);
      Planned pay;
      pay.ts_ms = run + i * 2000;
      pay.kind = static_cast<uint8_t>(Kind::salary);
      pay.channel = Channel::bank;
      pay.currency = c.host_ccy;
      pay.amount_units = units(rng.between(c.wage_lo, c.wage_hi));
      pay.sender = firm;
      pay.receiver = worker;
      pay.purpose = kSala;
      pay.label = pay_label;
      w.add(pay);
      const int64_t cut =
          round_units(static_cast<double>(standard) * (1.0 + rng.between(-0.05, 0.05)), 1);
      if (!in_hostel) {
        deposits.emplace_back(worker, cut);
        continue;
      }
      if (i < group) {  // taken to the agent together
        Planned e = transfer(at, worker, hub, c.host_ccy, cut, Channel::mto, worker_label);
        e.agent = agent;
        w.add(e);
        group_last = at;
        at += rng.between(gap_lo, gap_hi);
      } else {
        w.add(transfer(pay.ts_ms + rng.between(2 * kHourMs, 5 * kDayMs), worker, hub, c.host_ccy,
                       cut, rng.chance(0.5) ? Channel::bank : Channel::mobile_money, worker_label));
      }
    }
    w.add_entity(s, "agent", agent);
    int64_t deposited = 0;
    const int64_t first =
        w.daytime(rng, payday + rng.between(int64_t{1}, int64_t{2}), c.utc_offset_h);
    const int64_t last =
        deposit_cash(w, rng, corridor, hub, deposits, first, worker_label, deposited);
    const int64_t wait = rng.between(wait_lo * kHourMs, wait_hi * kHourMs);
    Planned o = cash_out(
        last + wait, hub, c.host_ccy,
        round_units(static_cast<double>(deposited) / 10'000.0 * rng.between(0.85, 0.95), 10),
        hub_label);
    o.agent = w.agents_host[corridor][rng.index(w.agents_host[corridor].size())];
    w.add(o);
    t.params = {{"hostel_workers", hostel},
                {"at_the_agent", group},
                {"group_span_min", static_cast<double>(group_last - group_first) / 60'000.0},
                {"deposit_cities", cities},
                {"deposits", static_cast<double>(deposits.size())},
                {"withdrawn_after_h", static_cast<double>(wait) / kHourMs},
                {"standard_cut", static_cast<double>(standard)}};
    return true;
  }
};

// ---------------------------------------------------------------- benign look-alikes
// Generators of look-alikes alone (plan() adds nothing for a fire or a near miss), appended
// to the registry under the pattern they resemble, so every generator above keeps its
// random streams and its parties (and the world its bytes, but for the lines these add).
// Each is an innocent shape that a naive reading of its pattern would flag. Where the
// shipped packs' defaults legitimately hold on the subject (a hostel's equal rents after
// payday are R8's condition), expect_receiver_rules_if_met says so in expect_patterns,
// computed from the instance's own events: the look-alike is not bent to stay quiet.

void expect_pattern(TruthRecord& t, std::string_view pattern) {
  if (std::find(t.expect_patterns.begin(), t.expect_patterns.end(), pattern) ==
      t.expect_patterns.end()) {
    t.expect_patterns.emplace_back(pattern);
  }
}

// What the receiver-keyed rules of the shipped packs see on an instance's subject, from its
// own events (its parties are new, so nothing else pays them), with their defaults:
// R1 (7 days: >= 5 senders, >= 3 sender cities, >= 80 % of them paying for the first
// time), R8 (7 days: >= 5 senders paid a salary at most 7 days before, >= 60 % of them by
// one employer, amounts with a coefficient of variation below 0.2), R12 (30 days: >= 10
// payers of amounts >= 3 x 658.25 USD from BD to BD or MY, >= 70 % within +-10 % of one
// of them) and R14 (>= 3 senders at one agent within 60 minutes); then R6
// (expect_r6_if_met). Each pattern met is added to expect_patterns.
void expect_receiver_rules_if_met(WorldState& w, uint32_t s) {
  std::vector<Planned> events = w.scenario_events(s);
  std::stable_sort(events.begin(), events.end(),
                   [](const Planned& a, const Planned& b) { return a.ts_ms < b.ts_ms; });
  TruthRecord& t = w.truth(s);
  struct In {
    int64_t ts, base;
    uint32_t sender, agent, payer;  // payer: of a salary at most 7 days before, or kNone
    bool first, fee;                // the pair's first payment; at R12's price floor
  };
  std::vector<In> in;
  std::vector<std::pair<uint32_t, std::pair<int64_t, uint32_t>>> salaries;  // (worker, (ts, payer))
  std::set<uint32_t> seen;
  for (const Planned& e : events) {
    const auto kind = static_cast<Kind>(e.kind);
    if (kind == Kind::salary && e.receiver != kNone) {
      salaries.push_back({e.receiver, {e.ts_ms, e.sender}});
      continue;
    }
    if (kind != Kind::transfer && kind != Kind::remittance) continue;
    if (e.sender == kNone || e.receiver == kNone || w.party(e.receiver).id != t.subject) continue;
    In x{e.ts_ms, base_units(e.currency, e.amount_units), e.sender, e.agent,
         kNone,   seen.insert(e.sender).second,           false};
    for (auto it = salaries.rbegin(); it != salaries.rend(); ++it) {
      if (it->first != e.sender) continue;
      if (e.ts_ms - it->second.first <= 7 * kDayMs && it->second.second != e.receiver) {
        x.payer = it->second.second;
      }
      break;
    }
    const PartyRecord& from = w.party(e.sender);
    const PartyRecord& to = w.party(e.receiver);
    x.fee = from.country == "BD" && (to.country == "BD" || to.country == "MY") &&
            x.base >= 3 * 6'582'500;
    in.push_back(x);
  }
  bool r1 = false, r8 = false, r12 = false, r14 = false;
  for (size_t i = 0; i < in.size(); ++i) {
    std::set<uint32_t> senders, fresh, workers, at_agent, payers;
    std::set<std::string_view> cities;
    std::vector<std::pair<uint32_t, uint32_t>> by_payer;  // (payer, worker), distinct
    std::vector<int64_t> cuts, fees;
    for (size_t j = 0; j <= i; ++j) {
      const In& x = in[j];
      if (x.ts > in[i].ts - 7 * kDayMs) {
        senders.insert(x.sender);
        if (x.first) fresh.insert(x.sender);
        if (!w.party(x.sender).city.empty()) cities.insert(w.party(x.sender).city);
        if (x.payer != kNone) {
          workers.insert(x.sender);
          if (std::find(by_payer.begin(), by_payer.end(), std::make_pair(x.payer, x.sender)) ==
              by_payer.end()) {
            by_payer.emplace_back(x.payer, x.sender);
          }
          cuts.push_back(x.base);
        }
      }
      if (x.agent != kNone && x.agent == in[i].agent && x.ts > in[i].ts - kHourMs) {
        at_agent.insert(x.sender);
      }
      if (x.fee && x.ts > in[i].ts - 30 * kDayMs) {
        payers.insert(x.sender);
        fees.push_back(x.base);
      }
    }
    r1 =
        r1 || (senders.size() >= 5 && cities.size() >= 3 && fresh.size() * 5 >= senders.size() * 4);
    r14 = r14 || at_agent.size() >= 3;
    size_t top = 0;
    for (const auto& [payer, worker] : by_payer) {
      top = std::max<size_t>(top, std::count_if(by_payer.begin(), by_payer.end(),
                                                [&](const auto& p) { return p.first == payer; }));
    }
    double sum = 0, squares = 0;
    for (int64_t a : cuts) sum += static_cast<double>(a), squares += static_cast<double>(a) * a;
    const double n = static_cast<double>(cuts.size());
    const double cv = sum > 0 ? std::sqrt(std::max(0.0, n * squares - sum * sum)) / sum : 0;
    r8 = r8 || (workers.size() >= 5 && top * 5 >= workers.size() * 3 && cv < 0.2);
    size_t at_price = 0;
    for (int64_t p : fees) {
      at_price = std::max<size_t>(at_price, std::count_if(fees.begin(), fees.end(), [&](int64_t a) {
                                    return std::abs(a - p) * 10 <= p;
                                  }));
    }
    r12 = r12 || (payers.size() >= 10 && at_price * 10 >= fees.size() * 7);
  }
  if (r1) expect_pattern(t, "R1");
  if (r8) expect_pattern(t, "R8");
  if (r12) expect_pattern(t, "R12");
  if (r14) expect_pattern(t, "R14");
  expect_r6_if_met(w, s);
}

bool expects_pattern(const TruthRecord& t, std::string_view pattern) {
  return std::find(t.expect_patterns.begin(), t.expect_patterns.end(), pattern) !=
         t.expect_patterns.end();
}

template <class T>
void shuffle(std::vector<T>& v, Rng& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.index(i)]);
}

Planned salary_of(uint32_t employer, uint32_t worker, uint8_t corridor, int64_t wage, int64_t at,
                  uint32_t label) {
  const Corridor& c = corridors()[corridor];
  Planned pay;
  pay.ts_ms = at;
  pay.kind = static_cast<uint8_t>(Kind::salary);
  pay.channel = Channel::bank;
  pay.currency = c.host_ccy;
  pay.amount_units = units(wage);
  pay.sender = employer;
  pay.receiver = worker;
  pay.purpose = kSala;
  pay.label = label;
  return pay;
}

// R12 (and R1, R6) look-alike: a rotating savings committee ("committee", "chit", "samity").
// 10-20 members, all but 0-2 of them from the organiser's town (the others from one
// neighbouring town), each pay the organiser the same round contribution every month, and
// a few days later the organiser pays the month's pot to the member whose turn it is.
// Half are at origin in Bangladesh (neighbours, 2,000-20,000 BDT a month: R12 applies to
// BD->BD payments, and these are far below its 3 x 658.25 USD floor), half among migrant
// workers in a host city (10-25 % of the corridor's lowest wage, paid within days of
// payday by workers of 2-4 employers). Many payers at one price, round sums, all of them
// first-seen in the first month (the committee began before the world did): R12 without
// the price, R6 without the band, R1 without the cities. Among workers, R8 (>= 5 salaried
// payers within 7 days of payday, >= 60 % of them of one employer, equal amounts) holds
// whenever the payers of some week lean to one employer, which R8 judges on the week's
// payers, not the committee's; expect_patterns says so (a single primary, no alert).
class SavingsCommittee final : public ScenarioGenerator {
 public:
  bool has_lookalike() const override { return true; }

  bool plan(WorldState& w, Variant variant, Rng& rng) override {
    const int64_t days = w.params().days;
    if (variant != Variant::lookalike || days < 16) return false;
    const bool at_origin = rng.chance(0.5);
    const uint8_t corridor = at_origin ? 0 : pick_corridor(rng);  // BD-MY: origin BD
    const Corridor& c = corridors()[corridor];
    std::vector<std::string_view> towns(at_origin ? c.origin_cities.begin() : c.host_cities.begin(),
                                        at_origin ? c.origin_cities.end() : c.host_cities.end());
    shuffle(towns, rng);
    const int members = static_cast<int>(rng.between(int64_t{10}, int64_t{20}));
    const int from_next_town = static_cast<int>(rng.between(int64_t{0}, int64_t{2}));
    const uint8_t ccy = at_origin ? c.origin_ccy : c.host_ccy;
    const int64_t contribution =
        at_origin ? units(1000 * rng.between(int64_t{2}, int64_t{20}))
                  : round_units(static_cast<double>(c.wage_lo) * rng.between(0.10, 0.25), 50);
    const int employers = at_origin ? 0 : static_cast<int>(rng.between(int64_t{2}, int64_t{4}));
    const uint32_t s = w.new_scenario("R12", "debt_bondage", "lookalike", false);
    const uint32_t organiser =
        w.make_person(rng, corridor, !at_origin, at_origin ? "fam-" : "wrk-", Role::scenario);
    w.party(organiser).city = std::string(towns[0]);
    w.add_entity(s, "organiser", organiser);
    const uint32_t member_label = w.scenario_label(s, "member");
    const uint32_t organiser_label = w.scenario_label(s, "organiser");
    const uint32_t employer_label = w.scenario_label(s, "employer");
    const int utc = at_origin ? c.origin_utc_offset_h : c.utc_offset_h;
    std::vector<uint32_t> firms;
    std::vector<int64_t> paydays;  // day of month offset before the collection
    for (int i = 0; i < employers; ++i) {
      firms.push_back(w.make_firm(rng, corridor, true, "emp-", "Industries", Role::scenario));
      w.party(firms.back()).city = std::string(towns[0]);
      w.add_entity(s, "employer", firms.back());
      paydays.push_back(rng.between(int64_t{1}, int64_t{4}));
    }
    std::vector<uint32_t> people;
    std::vector<int64_t> wages;
    for (int i = 0; i < members; ++i) {
      const uint32_t m =
          w.make_person(rng, corridor, !at_origin, at_origin ? "fam-" : "wrk-", Role::scenario);
      w.party(m).city = std::string(towns[i < members - from_next_town ? 0 : 1]);
      if (!firms.empty())
        w.party(m).employer = w.party(firms[static_cast<size_t>(i) % firms.size()]).id;
      w.add_entity(s, "member", m);
      people.push_back(m);
      wages.push_back(rng.between(c.wage_lo, c.wage_hi));
    }
    std::vector<size_t> turns(people.size());
    for (size_t i = 0; i < turns.size(); ++i) turns[i] = i;
    shuffle(turns, rng);
    // Monthly collections; the first 5-10 days in, so that payday comes before it.
    int months = 0;
    for (int64_t day = rng.between(int64_t{5}, int64_t{10}); day + 6 < days; day += 30, ++months) {
      for (size_t i = 0; i < firms.size(); ++i) {  // each employer's payroll run
        const int64_t run = w.at_local(day - paydays[i], 10, c.utc_offset_h);
        int64_t k = 0;
        for (size_t m = i; m < people.size(); m += firms.size()) {
          w.add(salary_of(firms[i], people[m], corridor, wages[m], run + (k++) * 2000,
                          employer_label));
        }
      }
      for (const uint32_t m : people) {
        Planned e = transfer(w.daytime(rng, day + rng.between(int64_t{0}, int64_t{3}), utc), m,
                             organiser, ccy, contribution,
                             rng.chance(0.6) ? Channel::mobile_money : Channel::bank, member_label);
        w.add(e);
      }
      const uint32_t taker = people[turns[static_cast<size_t>(months) % turns.size()]];
      w.add(transfer(w.daytime(rng, day + 5, utc), organiser, taker, ccy, contribution * members,
                     Channel::bank, organiser_label));
    }
    w.truth(s).params = {
        {"members", members},
        {"towns", from_next_town > 0 ? 2 : 1},
        {"at_origin", at_origin ? 1 : 0},
        {"employers", employers},
        {"contribution_usd", static_cast<double>(base_units(ccy, contribution)) / 10'000.0},
        {"months", months}};
    expect_receiver_rules_if_met(w, s);
    w.truth(s).note =
        std::string(
            "a savings committee: one round contribution from every member each month, "
            "from one town, far below any fee band and R12's price floor") +
        (expects_pattern(w.truth(s), "R8")
             ? "; workers paying alike within a week of payday, 60 % of some week's payers of "
               "one employer: R8 signals (one primary, no alert)"
             : "");
    return true;
  }
};

// R8 look-alike: a hostel near a factory lets beds to the factory's workers (60-100 % of
// its 8-24 tenants; the others work for one or two firms in town) and collects the rent by
// transfer 1-5 days after each payday (85 % of tenants; the others pay cash at the office,
// which the feed does not show). Six hostels in ten charge one bed rate (10-18 % of the
// corridor's lowest wage), the others also let rooms at 1.5-2 times it. Many workers of
// one employer paying one receiver alike within a week of payday is R8's condition, so R8
// signals on most of them and expect_patterns says so: a single primary, no alert. That is
// what docs/typologies/debt-bondage.md warns about; what tells a hostel from a collector
// hub is the service behind the payment, which the transfers do not show.
class WorkersHostel final : public ScenarioGenerator {
 public:
  bool has_lookalike() const override { return true; }

  bool plan(WorldState& w, Variant variant, Rng& rng) override {
    const int64_t days = w.params().days;
    if (variant != Variant::lookalike || days < 12) return false;
    const uint8_t corridor = pick_corridor(rng);
    const Corridor& c = corridors()[corridor];
    const int tenants = static_cast<int>(rng.between(int64_t{8}, int64_t{24}));
    const int main_workers =
        std::max(1, static_cast<int>(std::lround(tenants * rng.between(0.6, 1.0))));
    const int others =
        std::min(static_cast<int>(rng.between(int64_t{1}, int64_t{2})), tenants - main_workers);
    const int64_t bed = round_units(static_cast<double>(c.wage_lo) * rng.between(0.10, 0.18), 10);
    const bool rooms = rng.chance(0.4);
    const int64_t room = round_units(static_cast<double>(bed) / 10'000 * rng.between(1.5, 2.0), 10);
    const double room_share = rooms ? rng.between(0.2, 0.4) : 0.0;
    const uint32_t s = w.new_scenario("R8", "debt_bondage", "lookalike", false);
    const uint32_t hostel = w.make_firm(rng, corridor, true, "hst-", "Hostel", Role::scenario);
    w.add_entity(s, "hostel", hostel);
    const std::string town = w.party(hostel).city;
    std::vector<uint32_t> firms;
    std::vector<int64_t> payday;  // first payday of each employer
    const int64_t first_payday = rng.between(int64_t{0}, std::min<int64_t>(20, days - 8));
    for (int i = 0; i <= others; ++i) {
      firms.push_back(w.make_firm(rng, corridor, true, "emp-",
                                  i == 0 ? "Manufacturing" : "Services", Role::scenario));
      w.party(firms.back()).city = town;
      w.add_entity(s, "employer", firms.back());
      payday.push_back(i == 0 ? first_payday
                              : rng.between(int64_t{0}, std::min<int64_t>(29, days - 8)));
    }
    const uint32_t pay_label = w.scenario_label(s, "employer");
    const uint32_t tenant_label = w.scenario_label(s, "tenant");
    int paying = 0, in_rooms = 0;
    for (int i = 0; i < tenants; ++i) {
      const size_t f =
          i < main_workers ? 0 : 1 + static_cast<size_t>(i - main_workers) % (firms.size() - 1);
      const uint32_t tenant = w.make_person(rng, corridor, true, "wrk-", Role::scenario);
      w.party(tenant).city = town;
      w.party(tenant).employer = w.party(firms[f]).id;
      w.add_entity(s, "tenant", tenant);
      const int64_t wage = rng.between(c.wage_lo, c.wage_hi);
      const bool by_transfer = rng.chance(0.85);
      const bool in_room = rng.chance(room_share);
      paying += by_transfer ? 1 : 0;
      in_rooms += in_room ? 1 : 0;
      for (int64_t day = payday[f]; day < days; day += 30) {
        w.add(salary_of(firms[f], tenant, corridor, wage,
                        w.at_local(day, 10, c.utc_offset_h) + i * 2000, pay_label));
        if (!by_transfer) continue;
        Planned e =
            transfer(w.daytime(rng, day + rng.between(int64_t{1}, int64_t{5}), c.utc_offset_h),
                     tenant, hostel, c.host_ccy, in_room ? room : bed,
                     rng.chance(0.6) ? Channel::bank : Channel::mobile_money, tenant_label);
        e.purpose = kRent;
        w.add(e);
      }
    }
    w.truth(s).params = {
        {"tenants", tenants},
        {"of_one_employer", main_workers},
        {"paying_by_transfer", paying},
        {"rates", rooms ? 2 : 1},
        {"in_rooms", in_rooms},
        {"bed_rent_usd", static_cast<double>(base_units(c.host_ccy, bed)) / 10'000.0}};
    expect_receiver_rules_if_met(w, s);
    w.truth(s).note =
        expects_pattern(w.truth(s), "R8")
            ? "a hostel letting beds to one employer's workers, rent paid after payday: R8 "
              "signals (one primary, no alert)"
            : "a hostel letting beds to one employer's workers, rent paid after payday; rents "
              "at two rates or too few paying by transfer: R8 stays quiet";
    return true;
  }
};

// R12 look-alike: a licensed agency in Bangladesh takes one price from many customers within
// three weeks. Half are recruitment agencies charging the official BD->MY migration cost
// (78,990 BDT, 2022), a third of their customers in two instalments; half are travel
// agencies selling one Dhaka-Kuala Lumpur package (40,000-70,000 BDT). Many payers at one
// price (R12's shape), but at or below the official cost, not 3 times it. Half sit in
// Dhaka and take customers from 4-6 districts: 5 or more new payers from 3 cities in a
// week is R1's condition, which has no amount band, so R1 signals on them and
// expect_patterns says so (R1 alone: no alert; docs/typologies/smuggling-fee.md names "a
// small trader ... receiving first payments from new customers"). The others are district
// offices whose customers come from their own town and one neighbour.
class LicensedAgency final : public ScenarioGenerator {
 public:
  bool has_lookalike() const override { return true; }

  bool plan(WorldState& w, Variant variant, Rng& rng) override {
    const int64_t days = w.params().days;
    if (variant != Variant::lookalike || days < 25) return false;
    const uint8_t corridor = 0;  // BD-MY: R12 has an official cost for BD->MY and BD->BD
    const Corridor& c = corridors()[corridor];
    const bool recruitment = rng.chance(0.5);
    const bool head_office = rng.chance(0.5);
    std::vector<std::string_view> towns(c.origin_cities.begin() + 1, c.origin_cities.end());
    shuffle(towns, rng);
    if (head_office) {
      towns.resize(static_cast<size_t>(rng.between(int64_t{3}, int64_t{5})));
      towns.insert(towns.begin(), c.origin_cities[0]);  // Dhaka
    } else {
      towns.resize(2);
    }
    const int customers = static_cast<int>(rng.between(int64_t{12}, int64_t{30}));
    const int64_t price =
        recruitment ? units(78'990) : units(1000 * rng.between(int64_t{40}, int64_t{70}));
    const int64_t day0 = rng.between(int64_t{0}, days - 22);
    const uint32_t s = w.new_scenario("R12", "debt_bondage", "lookalike", false);
    const uint32_t agency =
        w.make_firm(rng, corridor, false, "agy-",
                    recruitment ? "Overseas Ltd" : "Tours and Travels", Role::scenario);
    w.party(agency).city = std::string(towns[0]);
    w.add_entity(s, "agency", agency);
    const uint32_t label = w.scenario_label(s, "customer");
    int split = 0;
    std::set<std::string_view> cities;
    for (int i = 0; i < customers; ++i) {
      const uint32_t customer = w.make_person(rng, corridor, false, "cus-", Role::scenario);
      // A district office's customers: its town, one in four from the neighbouring one.
      const std::string_view town =
          head_office ? towns[rng.index(towns.size())] : towns[rng.chance(0.25) ? 1 : 0];
      w.party(customer).city = std::string(town);
      cities.insert(town);
      w.add_entity(s, "customer", customer);
      const int64_t day = day0 + rng.between(int64_t{0}, int64_t{20});
      const Channel channel = rng.chance(0.6) ? Channel::bank : Channel::mobile_money;
      const bool two = recruitment && rng.chance(0.33);
      const int64_t first = two ? units(40'000) : price;
      w.add(transfer(w.daytime(rng, day, c.origin_utc_offset_h), customer, agency, c.origin_ccy,
                     first, channel, label));
      if (two) {
        ++split;
        w.add(transfer(
            w.daytime(rng, day + rng.between(int64_t{5}, int64_t{15}), c.origin_utc_offset_h),
            customer, agency, c.origin_ccy, price - first, channel, label));
      }
    }
    w.truth(s).params = {
        {"customers", customers},
        {"recruitment", recruitment ? 1 : 0},
        {"price_usd", static_cast<double>(base_units(c.origin_ccy, price)) / 10'000.0},
        {"times_official",
         static_cast<double>(base_units(c.origin_ccy, price)) / 10'000.0 / 658.25},
        {"in_instalments", split},
        {"cities", static_cast<double>(cities.size())}};
    expect_receiver_rules_if_met(w, s);
    w.truth(s).note =
        std::string(recruitment ? "a licensed recruitment agency charging the official cost"
                                : "a travel agency selling one package") +
        " to many customers: one price, below R12's 3 x official cost" +
        (expects_pattern(w.truth(s), "R1")
             ? "; new customers from several districts in a week: R1 signals (one "
               "primary, no alert)"
             : "");
    return true;
  }
};

// R1 look-alike: a migrant in a host city is taken to hospital, and 5-9 relatives at home in
// 3-5 towns pool the bill within a few days. Most of them (all but 0-2) sent the migrant
// money before, in the weeks after the migrant arrived (reverse remittances while the
// first wage was due, one relative every 4-5 days), so the senders of the week are
// mostly known pairs; the migrant then pays the hospital. Many senders, many cities, one
// week, larger sums, but under R1's 80 % of first-seen pairs. Needs 45 days.
class FamilyEmergency final : public ScenarioGenerator {
 public:
  bool has_lookalike() const override { return true; }

  bool plan(WorldState& w, Variant variant, Rng& rng) override {
    const int64_t days = w.params().days;
    if (variant != Variant::lookalike || days < 45) return false;
    const uint8_t corridor = pick_corridor(rng);
    const Corridor& c = corridors()[corridor];
    const int relatives = static_cast<int>(rng.between(int64_t{5}, int64_t{9}));
    const int strangers =
        static_cast<int>(rng.between(int64_t{0}, relatives >= 7 ? int64_t{2} : int64_t{1}));
    const int known = relatives - strangers;
    const int n_towns = static_cast<int>(rng.between(int64_t{3}, int64_t{std::min(relatives, 5)}));
    std::vector<std::string_view> towns(c.origin_cities.begin(), c.origin_cities.end());
    shuffle(towns, rng);
    const int64_t earliest = std::min<int64_t>(days - 6, 5 * known + 3);
    const int64_t emergency = rng.between(earliest, days - 6);
    const uint32_t s = w.new_scenario("R1", "smuggling_fee", "lookalike", false);
    const uint32_t patient = w.make_person(rng, corridor, true, "wrk-", Role::scenario);
    w.add_entity(s, "patient", patient);
    const std::string& name = w.party(patient).name;
    const std::string surname = name.substr(name.find(' ') + 1);
    const uint32_t hospital = w.make_firm(rng, corridor, true, "mer-", "Hospital", Role::scenario);
    w.party(hospital).city = w.party(patient).city;
    const uint32_t label = w.scenario_label(s, "relative");
    const uint32_t patient_label = w.scenario_label(s, "patient");
    const auto remit = [&](int64_t at, uint32_t from, double usd, int64_t step) {
      Planned e = transfer(at, from, patient, c.origin_ccy, usd_in(c.origin_ccy, usd, step),
                           rng.chance(0.5)   ? Channel::mto
                           : rng.chance(0.5) ? Channel::mobile_money
                                             : Channel::bank,
                           label);
      e.kind = static_cast<uint8_t>(Kind::remittance);
      e.purpose = kFami;
      if (e.channel == Channel::mto) {
        e.agent = w.agents_origin[corridor][rng.index(w.agents_origin[corridor].size())];
      }
      w.add(e);
      return e.amount_units;
    };
    int64_t pooled = 0, last = 0;
    const int64_t start = emergency - 5 * known;
    for (int i = 0; i < relatives; ++i) {
      const uint32_t relative = w.make_person(rng, corridor, false, "fam-", Role::scenario);
      PartyRecord& rp = w.party(relative);
      if (i < known || rng.chance(0.5))
        rp.name = rp.name.substr(0, rp.name.find(' ')) + " " + surname;
      rp.city = std::string(towns[static_cast<size_t>(i % n_towns)]);
      w.add_entity(s, "relative", relative);
      if (i < known) {  // settling-in help, one relative every 4.5-5 days
        const int64_t at = w.start_ms() + std::max<int64_t>(0, start) * kDayMs +
                           i * (9 * kDayMs / 2) + rng.between(int64_t{0}, kDayMs / 2);
        remit(std::max(at, w.start_ms()), relative, rng.between(40.0, 150.0), units(10));
      }
      const int64_t at =
          w.daytime(rng, emergency + rng.between(int64_t{0}, int64_t{3}), c.origin_utc_offset_h);
      pooled += remit(at, relative, rng.between(150.0, 800.0), units(100));
      last = std::max(last, at);
    }
    w.add_entity(s, "hospital", hospital);
    const int64_t bill =
        round_units(static_cast<double>(base_units(c.origin_ccy, pooled)) / 10'000.0 /
                        usd_per_unit(c.host_ccy) * rng.between(0.85, 1.0),
                    10);
    w.add(transfer(last + rng.between(6 * kHourMs, 48 * kHourMs), patient, hospital, c.host_ccy,
                   bill, Channel::bank, patient_label));
    w.truth(s).params = {
        {"relatives", relatives},
        {"paid_before", known},
        {"towns", n_towns},
        {"emergency_day", static_cast<double>(emergency)},
        {"pooled_usd", static_cast<double>(base_units(c.origin_ccy, pooled)) / 10'000.0}};
    expect_receiver_rules_if_met(w, s);
    w.truth(s).note =
        "relatives in several towns pool a hospital bill within days; most of them "
        "sent the patient money before: few first-seen pairs";
    return true;
  }
};

// R7 (and R13) look-alike: a worker housed and fed by the employer sends 70-85 % of each
// salary home to the family the day after payday (14-30 h), in one remittance or two, and
// lives on the rest: card payments at a shop and a cash withdrawal. Most of the wage
// leaves within a day, but abroad to the family, not to a domestic or employer-linked
// party (R7), and the worker keeps and spends part of it (R13).
class WageSentHome final : public ScenarioGenerator {
 public:
  bool has_lookalike() const override { return true; }

  bool plan(WorldState& w, Variant variant, Rng& rng) override {
    Cycles cy;
    if (variant != Variant::lookalike || !fit_cycles(w, rng, 2, 4, 3, cy)) return false;
    const ScenarioWorker sw = make_worker(w, rng);
    const Corridor& c = corridors()[sw.corridor];
    const uint32_t s = w.new_scenario("R7", "debt_bondage", "lookalike", false);
    w.truth(s).note =
        "most of the wage home to the family abroad the day after payday: "
        "cross-border, and the worker keeps and spends the rest";
    const uint32_t family = w.make_person(rng, sw.corridor, false, "fam-", Role::scenario);
    {
      const std::string& name = w.party(sw.worker).name;
      PartyRecord& fp = w.party(family);
      fp.name = fp.name.substr(0, fp.name.find(' ')) + " " + name.substr(name.find(' ') + 1);
    }
    const uint32_t shop =
        w.make_firm(rng, sw.corridor, true, "mer-", "Mini Market", Role::scenario);
    w.party(shop).city = w.party(sw.worker).city;
    w.add_entity(s, "worker", sw.worker);
    w.add_entity(s, "employer", sw.employer);
    w.add_entity(s, "family", family);
    w.add_entity(s, "shop", shop);
    const uint32_t pay_label = w.scenario_label(s, "employer");
    const uint32_t worker_label = w.scenario_label(s, "worker");
    const auto& agents = w.agents_host[sw.corridor];
    double max_share = 0;
    for (int k = 0; k < cy.count; ++k) {
      const Planned pay = salary(w, sw, cy.first_day + k * cy.cycle_days, pay_label);
      w.add(pay);
      const double share = rng.between(0.70, 0.85);
      const int64_t home = round_units(static_cast<double>(sw.wage) * share, 10);
      const int parts = rng.chance(0.3) ? 2 : 1;
      const int64_t at = pay.ts_ms + rng.between(14 * kHourMs, 30 * kHourMs);
      const Channel channel = rng.chance(0.6)   ? Channel::mto
                              : rng.chance(0.5) ? Channel::bank
                                                : Channel::mobile_money;
      for (int part = 0; part < parts; ++part) {
        const int64_t first = parts == 1 ? home : home / 20'000 * 10'000;
        Planned r = transfer(at + part * rng.between(kHourMs, 3 * kDayMs), sw.worker, family,
                             c.host_ccy, part == 0 ? first : home - first, channel, worker_label);
        r.kind = static_cast<uint8_t>(Kind::remittance);
        r.purpose = kFami;
        if (channel == Channel::mto) r.agent = agents[rng.index(agents.size())];
        w.add(r);
      }
      int64_t left = units(sw.wage) - home;
      const int cards = static_cast<int>(rng.between(int64_t{2}, int64_t{5}));
      for (int i = 0; i < cards; ++i) {
        const int64_t spent = usd_in(c.host_ccy, rng.between(3.0, 20.0), units(1));
        Planned e = transfer(pay.ts_ms + rng.between(2 * kDayMs, 25 * kDayMs), sw.worker, shop,
                             c.host_ccy, spent, Channel::card, worker_label);
        e.kind = static_cast<uint8_t>(Kind::card);
        w.add(e);
        left -= spent;
      }
      Planned o =
          cash_out(pay.ts_ms + rng.between(3 * kDayMs, 12 * kDayMs), sw.worker, c.host_ccy,
                   round_units(static_cast<double>(left) / 10'000 * rng.between(0.3, 0.6), 10),
                   worker_label);
      o.agent = agents[rng.index(agents.size())];
      w.add(o);
      max_share = std::max(max_share, share);
    }
    w.truth(s).params = {{"cycles", cy.count},
                         {"cycle_days", static_cast<double>(cy.cycle_days)},
                         {"max_share_home", max_share}};
    expect_receiver_rules_if_met(w, s);  // adds nothing: the worker receives only salaries
    return true;
  }
};

template <class T>
std::unique_ptr<ScenarioGenerator> make() {
  return std::make_unique<T>();
}

}  // namespace

std::string_view variant_name(Variant v) noexcept {
  switch (v) {
    case Variant::fire:
      return "fire";
    case Variant::near_miss:
      return "near_miss";
    case Variant::lookalike:
      return "lookalike";
  }
  return "fire";
}

const std::vector<ScenarioSpec>& scenario_registry() {
  static const std::vector<ScenarioSpec> registry = {
      {"R1", &make<FanInUnrelatedSenders>},
      {"R2", &make<SplitBelowThreshold>},
      {"R3", &make<CashInThenOut>},
      {"R7", &make<SalarySweep>},
      {"R8", &make<CollectorHub>},
      {"R9", &make<SharedDevice>},
      {"R11", &make<WagePaidBack>},
      {"R14", &make<SendersAtOneAgent>},
      // Appended, so the generators above keep their streams and their bytes.
      {"R12", &make<RecruitmentFee>},
      {"R10", &make<PayrollFewAccounts>},
      {"R13", &make<NothingKept>},
      {"R4", &make<FunnelAccount>},
      {"R5", &make<FeeInLegs>},
      {"R6", &make<RoundFeeBand>},
      // Combined instances: two rules on one entity, labelled expect_alert.
      {"R7+R11", &make<WageTakenBack>},
      {"R1+R14", &make<CollectorAtOneAgent>},
      // One primary and two contributors on one entity.
      {"R3+R4+R6", &make<CollectorFunnel>},
      {"R8+R4+R14", &make<HubTakingCuts>},
      // Benign look-alikes alone, under the name of the pattern each resembles (a name may
      // repeat: --scenarios R8 runs both R8 generators).
      {"R12", &make<SavingsCommittee>},
      {"R8", &make<WorkersHostel>},
      {"R12", &make<LicensedAgency>},
      {"R1", &make<FamilyEmergency>},
      {"R7", &make<WageSentHome>},
  };
  return registry;
}

}  // namespace corridor::synthetic
