#include "engine/event/schema.h"

#include <algorithm>
#include <string_view>

namespace corridor::event {

Schema Schema::canonical() {
  Schema s;
  for (size_t i = 0; i < kFieldCount; ++i) {
    FieldRule& rule = s.fields[i];
    std::string_view name = field_name(static_cast<Field>(i));
    size_t start = 0;
    while (true) {
      const size_t dot = name.find('.', start);
      rule.pointer.emplace_back(name.substr(start, dot - start));
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    rule.column = std::string(name);
    rule.mapped = true;
  }
  return s;
}

std::optional<std::vector<std::string>> parse_json_pointer(std::string_view p) {
  if (p.empty() || p[0] != '/') return std::nullopt;
  std::vector<std::string> tokens;
  std::string token;
  for (size_t i = 1; i <= p.size(); ++i) {
    if (i == p.size() || p[i] == '/') {
      tokens.push_back(token);
      token.clear();
    } else if (p[i] == '~') {
      if (i + 1 >= p.size() || (p[i + 1] != '0' && p[i + 1] != '1')) return std::nullopt;
      token += p[i + 1] == '0' ? '~' : '/';
      ++i;
    } else {
      token += p[i];
    }
  }
  return tokens;
}

std::string format_json_pointer(const std::vector<std::string>& tokens) {
  std::string out;
  for (const std::string& t : tokens) {
    out += '/';
    for (char c : t) {
      if (c == '~') {
        out += "~0";
      } else if (c == '/') {
        out += "~1";
      } else {
        out += c;
      }
    }
  }
  return out;
}

uint32_t pack(Currency c) noexcept {
  return static_cast<uint32_t>(static_cast<unsigned char>(c.code[0])) << 16 |
         static_cast<uint32_t>(static_cast<unsigned char>(c.code[1])) << 8 |
         static_cast<uint32_t>(static_cast<unsigned char>(c.code[2]));
}

CurrencyTable::CurrencyTable() : CurrencyTable(Currency{{'U', 'S', 'D'}}) {}

CurrencyTable::CurrencyTable(Currency base) : base_(base) { set_rate(base, Rate{Rate::kUnit}); }

void CurrencyTable::set_rate(Currency c, Rate r) {
  const uint32_t key = pack(c);
  auto it = std::lower_bound(rates_.begin(), rates_.end(), key,
                             [](const auto& p, uint32_t k) { return p.first < k; });
  if (it != rates_.end() && it->first == key) {
    it->second = r;
  } else {
    rates_.insert(it, {key, r});
  }
}

const Rate* CurrencyTable::find(Currency c) const noexcept {
  const uint32_t key = pack(c);
  // Once per event. Tables hold a handful of currencies: a scan of the sorted keys is
  // cheaper than a binary search until they grow.
  constexpr size_t kScanned = 16;
  if (rates_.size() <= kScanned) {
    for (const auto& [k, rate] : rates_) {
      if (k >= key) return k == key ? &rate : nullptr;
    }
    return nullptr;
  }
  auto it = std::lower_bound(rates_.begin(), rates_.end(), key,
                             [](const auto& p, uint32_t k) { return p.first < k; });
  return it != rates_.end() && it->first == key ? &it->second : nullptr;
}

}  // namespace corridor::event
