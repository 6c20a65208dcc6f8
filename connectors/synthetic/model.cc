#include "connectors/synthetic/model.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <stdexcept>

#include "engine/event/event.h"
#include "engine/event/json_text.h"

namespace corridor::synthetic {
namespace {

constexpr std::string_view kCcyCodes[kCcyCount] = {"USD", "MYR", "BDT", "QAR", "NPR", "AED",
                                                   "LKR", "THB", "MMK", "SAR", "PHP"};
// USD per unit; the same figures as config/examples/replay.yaml.
constexpr std::string_view kCcyRates[kCcyCount] = {"1",        "0.2245", "0.0083", "0.2747",
                                                   "0.0075",   "0.2723", "0.0033", "0.0282",
                                                   "0.000476", "0.2666", "0.0175"};
constexpr double kCcyUsd[kCcyCount] = {1,      0.2245, 0.0083,   0.2747, 0.0075, 0.2723,
                                       0.0033, 0.0282, 0.000476, 0.2666, 0.0175};

// Local-hour weights of the daily rhythm: quiet nights, busy late mornings and evenings.
constexpr double kHourWeights[24] = {1.0, 0.5, 0.3, 0.2, 0.2, 0.5, 2, 4, 6, 7, 8, 8,
                                     9,   8,   7,   7,   7,   8,   9, 9, 8, 6, 4, 2};

std::string_view role_name(Role r) noexcept {
  switch (r) {
    case Role::worker:
      return "worker";
    case Role::family:
      return "family";
    case Role::employer:
      return "employer";
    case Role::payroll:
      return "payroll";
    case Role::customer:
      return "customer";
    case Role::merchant:
      return "merchant";
    case Role::agent:
      return "agent";
    case Role::scenario:
      return "scenario";
  }
  return "customer";
}

std::string_view calling_code(std::string_view country) noexcept {
  static constexpr std::pair<std::string_view, std::string_view> kCodes[] = {
      {"MY", "60"}, {"BD", "880"}, {"QA", "974"}, {"NP", "977"}, {"AE", "971"},
      {"LK", "94"}, {"TH", "66"},  {"MM", "95"},  {"SA", "966"}, {"PH", "63"}};
  for (const auto& [c, code] : kCodes) {
    if (c == country) return code;
  }
  return "1";
}

void append_padded(std::string& out, uint64_t v, int width) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && n < 24);
  for (int i = n; i < width; ++i) out.push_back('0');
  while (n > 0) out.push_back(buf[--n]);
}

}  // namespace

std::string_view ccy_code(uint8_t c) noexcept { return kCcyCodes[c]; }
double usd_per_unit(uint8_t c) noexcept { return kCcyUsd[c]; }

const std::vector<std::pair<std::string_view, std::string_view>>& default_rates() {
  static const std::vector<std::pair<std::string_view, std::string_view>> rates = [] {
    std::vector<std::pair<std::string_view, std::string_view>> r;
    for (uint8_t c = 1; c < kCcyCount; ++c) r.emplace_back(kCcyCodes[c], kCcyRates[c]);
    return r;
  }();
  return rates;
}

std::string_view channel_name(Channel c) noexcept {
  switch (c) {
    case Channel::none:
      return "";
    case Channel::bank:
      return "bank";
    case Channel::mto:
      return "mto";
    case Channel::mobile_money:
      return "mobile_money";
    case Channel::hawala:
      return "hawala";
    case Channel::cash:
      return "cash";
    case Channel::card:
      return "card";
  }
  return "";
}

std::string_view purpose_code(uint8_t p) noexcept {
  static constexpr std::string_view kCodes[] = {"", "SALA", "RENT", "GDSV", "FAMI", "LOAN"};
  return p < std::size(kCodes) ? kCodes[p] : "";
}

const std::vector<Corridor>& corridors() {
  static const std::vector<Corridor> all = {
      {"BD-MY",
       "BD",
       "MY",
       BDT,
       MYR,
       8,
       6,
       {"Kuala Lumpur", "Shah Alam", "Johor Bahru", "Klang", "George Town", "Seremban"},
       {"Dhaka", "Chattogram", "Sylhet", "Cumilla", "Khulna", "Noakhali"},
       1500,
       2400,
       {"Mohammad", "Abdul", "Rahim", "Karim", "Hasan", "Rafiq", "Jamal", "Shahid"},
       {"Hossain", "Rahman", "Islam", "Ahmed", "Uddin", "Miah", "Sarker", "Khan"},
       {"Ahmad", "Siti", "Nurul", "Wei Ming", "Mei Ling", "Rajesh", "Farah", "Hafiz"},
       {"bin Ismail", "binti Ahmad", "Tan", "Lee", "Lim", "Kumar", "Wong", "bin Yusof"}},
      {"NP-QA",
       "NP",
       "QA",
       NPR,
       QAR,
       3,
       6,  // Nepal is +5:45; whole hours are enough here
       {"Doha", "Al Rayyan", "Al Wakrah", "Umm Salal", "Al Khor"},
       {"Kathmandu", "Pokhara", "Biratnagar", "Birgunj", "Dharan", "Butwal"},
       1000,
       1800,
       {"Ram", "Sita", "Bishnu", "Krishna", "Hari", "Suman", "Bikash", "Prakash"},
       {"Thapa", "Gurung", "Shrestha", "Tamang", "Rai", "Magar", "Karki", "Adhikari"},
       {"Hamad", "Mariam", "Khalid", "Noora", "Abdulla", "Fatima", "Jassim", "Aisha"},
       {"Al-Thani", "Al-Kuwari", "Al-Marri", "Al-Sulaiti", "Al-Mannai", "Al-Naimi", "Al-Emadi",
        "Al-Hajri"}},
      {"LK-AE",
       "LK",
       "AE",
       LKR,
       AED,
       4,
       5,
       {"Dubai", "Abu Dhabi", "Sharjah", "Ajman", "Al Ain"},
       {"Colombo", "Kandy", "Galle", "Jaffna", "Kurunegala", "Negombo"},
       1500,
       2800,
       {"Nimal", "Kamal", "Sunil", "Chaminda", "Dilani", "Priyanka", "Ruwan", "Lakmal"},
       {"Perera", "Fernando", "Silva", "Jayasinghe", "Bandara", "Wickramasinghe", "Dissanayake",
        "Kumara"},
       {"Mohammed", "Ahmed", "Fatima", "Omar", "Layla", "Saeed", "Maryam", "Rashid"},
       {"Al Mansoori", "Al Hammadi", "Al Shamsi", "Al Zaabi", "Al Ketbi", "Al Nuaimi", "Al Falasi",
        "Al Suwaidi"}},
      {"MM-TH",
       "MM",
       "TH",
       MMK,
       THB,
       7,
       7,
       {"Bangkok", "Samut Sakhon", "Chiang Mai", "Mae Sot", "Chon Buri", "Ranong"},
       {"Yangon", "Mandalay", "Mawlamyine", "Bago", "Dawei", "Hpa-An"},
       9000,
       13000,
       {"Aung", "Kyaw", "Zaw", "Htun", "Moe", "Thiri", "Nilar", "Min"},
       {"Win", "Oo", "Naing", "Lwin", "Aye", "Myint", "Soe", "Thant"},
       {"Somchai", "Suda", "Prasert", "Malee", "Anan", "Kanya", "Wichai", "Ratana"},
       {"Srisuk", "Chaiyaporn", "Boonmee", "Wongsa", "Saetang", "Thongdee", "Rattanakul",
        "Kaewkla"}},
      {"PH-SA",
       "PH",
       "SA",
       PHP,
       SAR,
       3,
       8,
       {"Riyadh", "Jeddah", "Dammam", "Mecca", "Medina", "Khobar"},
       {"Manila", "Quezon City", "Cebu City", "Davao City", "Iloilo City", "Bacolod"},
       1500,
       3000,
       {"Maria", "Jose", "Juan", "Rosa", "Mark", "Liza", "Jerome", "Grace"},
       {"Santos", "Reyes", "Cruz", "Bautista", "Garcia", "Mendoza", "Ramos", "Dela Cruz"},
       {"Abdullah", "Noura", "Faisal", "Reem", "Sultan", "Hessa", "Turki", "Lama"},
       {"Al-Otaibi", "Al-Qahtani", "Al-Ghamdi", "Al-Harbi", "Al-Shahrani", "Al-Dosari",
        "Al-Zahrani", "Al-Mutairi"}},
  };
  return all;
}

int64_t round_units(double value, int64_t step_whole) noexcept {
  const double steps = std::floor(value / static_cast<double>(step_whole) + 0.5);
  const int64_t n = steps < 1 ? 1 : static_cast<int64_t>(steps);
  return units(n * step_whole);
}

Planned transfer(int64_t ts, uint32_t from, uint32_t to, uint8_t ccy, int64_t amount,
                 Channel channel, uint32_t label) {
  Planned e;
  e.ts_ms = ts;
  e.kind = static_cast<uint8_t>(event::Kind::transfer);
  e.channel = channel;
  e.currency = ccy;
  e.amount_units = amount;
  e.sender = from;
  e.receiver = to;
  e.label = label;
  return e;
}

namespace {
Planned cash(event::Kind kind, int64_t ts, uint8_t ccy, int64_t amount, uint32_t label) {
  Planned e;
  e.ts_ms = ts;
  e.kind = static_cast<uint8_t>(kind);
  e.channel = Channel::cash;
  e.currency = ccy;
  e.amount_units = amount;
  e.label = label;
  return e;
}
}  // namespace

Planned cash_in(int64_t ts, uint32_t account, uint8_t ccy, int64_t amount, uint32_t label) {
  Planned e = cash(event::Kind::cash_in, ts, ccy, amount, label);
  e.receiver = account;
  return e;
}

Planned cash_out(int64_t ts, uint32_t account, uint8_t ccy, int64_t amount, uint32_t label) {
  Planned e = cash(event::Kind::cash_out, ts, ccy, amount, label);
  e.sender = account;
  return e;
}

int64_t usd_in(uint8_t c, double usd, int64_t step) noexcept {
  const double value = usd / kCcyUsd[c];
  const double steps = std::floor(value * 10'000.0 / static_cast<double>(step) + 0.5);
  return (steps < 1 ? 1 : static_cast<int64_t>(steps)) * step;
}

int64_t base_units(uint8_t c, int64_t amount) noexcept {
  static const auto rates = [] {
    std::vector<event::Rate> r(kCcyCount);
    for (uint8_t i = 0; i < kCcyCount; ++i) event::parse_rate(kCcyRates[i], r[i]);
    return r;
  }();
  return event::convert(event::Money{amount}, rates[c]).value_or(event::Money{}).units;
}

WorldState::WorldState(const WorldParams& params) : params_(params) {
  buckets_.resize(params.days);
  labels_.emplace_back();  // index 0 unused: every event names a real label
  label_scenario_.push_back(kNone);
  for (uint8_t r = 0; r <= static_cast<uint8_t>(Role::scenario); ++r) {
    std::string text = "{\"scenario\":\"background\",\"role\":\"";
    text += role_name(static_cast<Role>(r));
    text += "\"}";
    labels_.push_back(std::move(text));
    label_scenario_.push_back(kNone);
  }
}

uint32_t WorldState::add_party(PartyRecord p) {
  parties_.push_back(std::move(p));
  return static_cast<uint32_t>(parties_.size() - 1);
}

uint32_t WorldState::background_label(Role r) { return 1 + static_cast<uint32_t>(r); }

uint32_t WorldState::scenario_label(uint32_t scenario, std::string_view role) {
  std::string text = "{\"scenario\":";
  event::append_json_string(text, truth_[scenario].scenario);
  text += ",\"pattern\":";
  event::append_json_string(text, truth_[scenario].pattern);
  text += ",\"role\":";
  event::append_json_string(text, role);
  text += '}';
  for (size_t i = labels_.size(); i-- > 1;) {  // scenarios reuse a handful of labels each
    if (label_scenario_[i] != scenario) break;
    if (labels_[i] == text) return static_cast<uint32_t>(i);
  }
  labels_.push_back(std::move(text));
  label_scenario_.push_back(scenario);
  return static_cast<uint32_t>(labels_.size() - 1);
}

bool WorldState::add(Planned e) {
  if (e.ts_ms < start_ms() || e.ts_ms >= end_ms()) return false;
  const auto day = static_cast<uint32_t>((e.ts_ms - start_ms()) / kDayMs);
  if (day < emitted_days) return false;
  e.order = order_++;
  const uint32_t s = label_scenario_[e.label];
  if (s != kNone) {
    TruthRecord& t = truth_[s];
    if (t.events == 0 || e.ts_ms < t.first_ms) t.first_ms = e.ts_ms;
    if (t.events == 0 || e.ts_ms > t.last_ms) t.last_ms = e.ts_ms;
    ++t.events;
  }
  buckets_[day].push_back(e);
  return true;
}

uint32_t WorldState::new_scenario(std::string_view pattern, std::string_view typology,
                                  std::string_view variant, bool expect_signal) {
  uint32_t n = 1;
  for (const TruthRecord& t : truth_) n += t.pattern == pattern ? 1 : 0;
  TruthRecord t;
  t.scenario = std::string(pattern) + "-";
  append_padded(t.scenario, n, 4);
  t.pattern = pattern;
  t.typology = typology;
  t.variant = variant;
  t.expect_signal = expect_signal;
  for (size_t from = 0; expect_signal && from <= pattern.size();) {
    const size_t plus = std::min(pattern.find('+', from), pattern.size());
    t.expect_patterns.emplace_back(pattern.substr(from, plus - from));
    from = plus + 1;
  }
  truth_.push_back(std::move(t));
  return static_cast<uint32_t>(truth_.size() - 1);
}

void WorldState::add_entity(uint32_t s, std::string_view role, uint32_t party) {
  TruthRecord& t = truth_[s];
  if (t.entities.empty()) t.subject = parties_[party].id;
  t.entities.emplace_back(std::string(role), parties_[party].id);
}

std::vector<Planned> WorldState::scenario_events(uint32_t s) const {
  std::vector<Planned> out;
  for (size_t day = emitted_days; day < buckets_.size(); ++day) {
    for (const Planned& e : buckets_[day]) {
      if (label_scenario_[e.label] == s) out.push_back(e);
    }
  }
  return out;
}

void WorldState::fill_identifiers(PartyRecord& p, uint32_t index, bool person) {
  const uint64_t h = mix64(params_.seed * 0x9e3779b97f4a7c15ULL + index);
  p.account = p.country;
  append_padded(p.account, index, 10);
  if (!person) return;
  p.phone = "+";
  p.phone += calling_code(p.country);
  append_padded(p.phone, 10 + h % 90, 2);
  append_padded(p.phone, index, 7);
  static constexpr char kHex[] = "0123456789abcdef";
  p.device = "dev-";
  for (int i = 0; i < 12; ++i) p.device.push_back(kHex[(h >> (4 * i)) & 15]);
  p.ip = "10." + std::to_string((h >> 20) & 255) + "." + std::to_string((h >> 28) & 255) + "." +
         std::to_string(1 + ((h >> 36) % 254));
}

uint32_t WorldState::make_person(Rng& rng, uint8_t corridor, bool host, std::string_view id_prefix,
                                 Role role) {
  const Corridor& c = corridors()[corridor];
  PartyRecord p;
  p.role = role;
  p.corridor = corridor;
  p.host = host;
  const uint32_t index = static_cast<uint32_t>(parties_.size());
  p.id = id_prefix;
  p.id += host ? c.host : c.origin;
  p.id += '-';
  append_padded(p.id, index, 7);
  const bool migrant = role != Role::customer;  // local names for local customers only
  const auto& given = migrant ? c.origin_given : c.host_given;
  const auto& family = migrant ? c.origin_family : c.host_family;
  p.name = std::string(given[rng.index(given.size())]) + " " +
           std::string(family[rng.index(family.size())]);
  p.country = host ? c.host : c.origin;
  const auto& cities = host ? c.host_cities : c.origin_cities;
  p.city = cities[rng.index(cities.size())];
  fill_identifiers(p, index, true);
  return add_party(std::move(p));
}

uint32_t WorldState::make_firm(Rng& rng, uint8_t corridor, bool host, std::string_view id_prefix,
                               std::string_view suffix, Role role) {
  const Corridor& c = corridors()[corridor];
  PartyRecord p;
  p.role = role;
  p.corridor = corridor;
  p.host = host;
  const uint32_t index = static_cast<uint32_t>(parties_.size());
  p.id = id_prefix;
  p.id += host ? c.host : c.origin;
  p.id += '-';
  append_padded(p.id, index, 7);
  const auto& family = host ? c.host_family : c.origin_family;
  p.name = std::string(family[rng.index(family.size())]) + " " + std::string(suffix);
  p.country = host ? c.host : c.origin;
  const auto& cities = host ? c.host_cities : c.origin_cities;
  p.city = cities[rng.index(cities.size())];
  fill_identifiers(p, index, false);
  return add_party(std::move(p));
}

int64_t WorldState::daytime(Rng& rng, int64_t day, int utc_offset_h) const {
  static const double kTotal = [] {
    double t = 0;
    for (double w : kHourWeights) t += w;
    return t;
  }();
  double x = rng.uniform() * kTotal;
  int hour = 0;
  while (hour < 23 && x >= kHourWeights[hour]) x -= kHourWeights[hour++];
  const int64_t within = static_cast<int64_t>(rng.next() % kHourMs) / 1000 * 1000;
  return start_ms() + day * kDayMs + (hour - utc_offset_h) * kHourMs + within;
}

int64_t WorldState::at_local(int64_t day, int local_hour, int utc_offset_h) const {
  return start_ms() + day * kDayMs + (local_hour - utc_offset_h) * kHourMs;
}

}  // namespace corridor::synthetic
