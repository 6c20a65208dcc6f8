// Internal to connectors/synthetic: the world's state as the population model and the
// scenario generators share it. Not a public header.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/synthetic/world.h"

namespace corridor::synthetic {

// SplitMix64: a fixed, portable generator (std:: distributions are implementation-defined,
// so every draw below is computed here). Streams are derived by hashing (seed, purpose,
// entity, day), so one entity's draws never depend on another's.
inline uint64_t mix64(uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) noexcept : state_(seed) {}
  Rng(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0) noexcept
      : state_(mix64(mix64(mix64(seed ^ 0x9e3779b97f4a7c15ULL) + a) + b) + c) {}
  uint64_t next() noexcept { return mix64(state_ += 0x9e3779b97f4a7c15ULL); }
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform in [lo, hi].
  int64_t between(int64_t lo, int64_t hi) noexcept {
    return lo + static_cast<int64_t>(next() % static_cast<uint64_t>(hi - lo + 1));
  }
  double between(double lo, double hi) noexcept { return lo + (hi - lo) * uniform(); }
  bool chance(double p) noexcept { return uniform() < p; }
  size_t index(size_t n) noexcept { return static_cast<size_t>(next() % n); }

 private:
  uint64_t state_;
};

inline constexpr int64_t kHourMs = 3'600'000;
inline constexpr int64_t kDayMs = 24 * kHourMs;
inline constexpr uint32_t kNone = 0xffffffffU;

enum class Role : uint8_t {
  worker,
  family,
  employer,
  payroll,
  customer,
  merchant,
  agent,
  scenario
};

// Currencies the world uses; index into currency tables.
enum Ccy : uint8_t { USD, MYR, BDT, QAR, NPR, AED, LKR, THB, MMK, SAR, PHP, kCcyCount };
std::string_view ccy_code(uint8_t c) noexcept;
double usd_per_unit(uint8_t c) noexcept;  // the same rates as default_rates(), for planning

struct Corridor {
  std::string_view name;          // "BD-MY"
  std::string_view origin, host;  // ISO 3166 alpha-2
  uint8_t origin_ccy, host_ccy;
  int utc_offset_h;  // the host country's
  int origin_utc_offset_h;
  std::vector<std::string_view> host_cities, origin_cities;
  int64_t wage_lo, wage_hi;  // monthly, whole host-currency units
  std::vector<std::string_view> origin_given, origin_family, host_given, host_family;
};
const std::vector<Corridor>& corridors();

// One party of the world, rendered once; events view these strings.
struct PartyRecord {
  std::string id, account, name, country, city, phone, device, ip, employer;
  std::string json;  // the canonical JSON object, rendered at first use
  Role role = Role::customer;
  uint8_t corridor = 0;
  bool host = true;  // lives in the host country (else at origin)
};

enum class Channel : uint8_t { none, bank, mto, mobile_money, hawala, cash, card };
std::string_view channel_name(Channel c) noexcept;

// An event before it is rendered: indices into the world's tables, no strings.
struct Planned {
  int64_t ts_ms = 0;
  uint64_t order = 0;        // creation order: the tie-break between equal times
  int64_t amount_units = 0;  // Money units (10^-4)
  uint32_t sender = kNone, receiver = kNone, agent = kNone;
  uint32_t label = 0;
  uint8_t kind = 0;  // event::Kind
  Channel channel = Channel::none;
  uint8_t currency = USD;
  uint8_t purpose = 0;  // index into purposes(): 0 none
  // Alternate device for the sender on this event (kNone: the party's own).
  uint32_t sender_device = kNone;
  uint8_t flags = 0;  // kNoReceiverAccount
};
std::string_view purpose_code(uint8_t p) noexcept;
inline constexpr uint8_t kNoReceiverAccount = 1;  // cash salary: no account credited
enum Purpose : uint8_t { kNoPurpose, kSala, kRent, kGdsv, kFami, kLoan };

// What population and scenarios share: tables, the day buckets, truth.
class WorldState {
 public:
  explicit WorldState(const WorldParams& params);

  const WorldParams& params() const noexcept { return params_; }
  int64_t start_ms() const noexcept { return params_.start_ms; }
  int64_t end_ms() const noexcept { return params_.start_ms + int64_t{params_.days} * kDayMs; }

  uint32_t add_party(PartyRecord p);
  const PartyRecord& party(uint32_t i) const { return parties_[i]; }
  PartyRecord& party(uint32_t i) { return parties_[i]; }
  size_t party_count() const noexcept { return parties_.size(); }

  // A label object's index, rendered once: background labels by role, scenario labels by
  // (scenario, role).
  uint32_t background_label(Role r);
  uint32_t scenario_label(uint32_t scenario, std::string_view role);
  bool is_background(uint32_t label) const noexcept {
    return label <= 1 + static_cast<uint32_t>(Role::scenario);
  }
  const std::string& label_text(uint32_t i) const { return labels_[i]; }

  // Adds an event to its day's bucket; events outside the world are dropped (false).
  // Events of a day already written are a bug and are dropped too.
  bool add(Planned e);
  std::vector<Planned>& bucket(uint32_t day) { return buckets_[day]; }
  uint32_t emitted_days = 0;  // buckets before this one have been written

  // Scenario instances. With expect_signal, expect_patterns starts as the pattern's parts
  // ("R7+R11": R7, R11); otherwise empty.
  uint32_t new_scenario(std::string_view pattern, std::string_view typology,
                        std::string_view variant, bool expect_signal);
  TruthRecord& truth(uint32_t s) { return truth_[s]; }
  std::vector<TruthRecord>& truth() { return truth_; }
  void add_entity(uint32_t s, std::string_view role, uint32_t party);
  // The events planned so far with a label of scenario `s` (in days not yet written).
  std::vector<Planned> scenario_events(uint32_t s) const;

  // A fresh party for a scenario: named and identified like the population's.
  // Ids are prefix + country + '-' + the party's index, so they never collide.
  uint32_t make_person(Rng& rng, uint8_t corridor, bool host, std::string_view id_prefix,
                       Role role);
  uint32_t make_firm(Rng& rng, uint8_t corridor, bool host, std::string_view id_prefix,
                     std::string_view suffix, Role role);

  // Population lookups for scenarios.
  std::vector<uint32_t> agents_host[8], agents_origin[8];  // by corridor
  std::vector<uint32_t> employers[8];
  std::vector<uint32_t> workers, families, customers, merchants;
  std::vector<uint32_t> worker_family;  // by position in `workers`
  WorldStats stats;

  // A time on day `day` (from start) at a local hour drawn from the daily rhythm.
  int64_t daytime(Rng& rng, int64_t day, int utc_offset_h) const;
  // The start of `local_hour` on day `day`, in UTC milliseconds.
  int64_t at_local(int64_t day, int local_hour, int utc_offset_h) const;
  // Extra devices (a second phone): Planned::sender_device indexes these.
  std::vector<std::string> extra_devices;

 private:
  WorldParams params_;
  std::vector<PartyRecord> parties_;
  std::vector<std::string> labels_;
  std::vector<uint32_t> label_scenario_;  // by label: its scenario, or kNone
  std::vector<std::vector<Planned>> buckets_;
  std::vector<TruthRecord> truth_;
  uint64_t order_ = 0;

  void fill_identifiers(PartyRecord& p, uint32_t index, bool person);
};

// Amount helpers: whole units, and rounding to a step of whole units.
inline int64_t units(int64_t whole) noexcept { return whole * 10'000; }
int64_t round_units(double value, int64_t step_whole) noexcept;
// `usd` expressed in currency c, rounded to `step` whole units (at least one step).
int64_t usd_in(uint8_t c, double usd, int64_t step) noexcept;
// An amount of currency c in USD Money units, exactly as the engine converts it with the
// rates of default_rates().
int64_t base_units(uint8_t c, int64_t amount) noexcept;

// One planned event of a common shape (the other fields stay unset).
Planned transfer(int64_t ts, uint32_t from, uint32_t to, uint8_t ccy, int64_t amount,
                 Channel channel, uint32_t label);
// A cash deposit into `account` (cash_in, the account the receiver), and a cash withdrawal
// from it (cash_out, the account the sender).
Planned cash_in(int64_t ts, uint32_t account, uint8_t ccy, int64_t amount, uint32_t label);
Planned cash_out(int64_t ts, uint32_t account, uint8_t ccy, int64_t amount, uint32_t label);

}  // namespace corridor::synthetic
