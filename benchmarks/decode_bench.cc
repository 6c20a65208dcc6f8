// Decode throughput: canonical NDJSON events of 250-400 bytes through the simdjson
// decoder into the reused event, on one core. Target: >= 2 million events/s.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "engine/event/decoder.h"
#include "engine/event/schema.h"
#include "engine/pipeline/record.h"

namespace {

using namespace corridor;

struct Corpus {
  std::string buffer;  // all lines, then padding
  std::vector<pipeline::Record> records;
  double mean_bytes = 0;
};

// Events shaped like the synthetic world's remittances: varied ids, amounts, corridors.
Corpus make_corpus(size_t n) {
  std::mt19937_64 rng(42);
  const char* kinds[] = {"remittance", "transfer", "salary", "cash_in", "fee"};
  const char* corridors[][4] = {{"MY", "BD", "Kuala Lumpur", "Dhaka"},
                                {"QA", "NP", "Doha", "Kathmandu"},
                                {"AE", "LK", "Dubai", "Colombo"},
                                {"TH", "MM", "Bangkok", "Yangon"},
                                {"SA", "PH", "Riyadh", "Manila"}};
  const char* currencies[] = {"USD", "MYR", "QAR", "AED", "THB"};
  Corpus c;
  std::vector<std::pair<size_t, size_t>> spans;
  char line[1024];
  for (size_t i = 0; i < n; ++i) {
    const auto* k = corridors[rng() % 5];
    const char* kind = kinds[rng() % 5];
    const bool cash_in = kind[0] == 'c';
    const int len = std::snprintf(
        line, sizeof line,
        "{\"id\":\"tx-%010zu\",\"ts\":\"2026-03-%02dT%02d:%02d:%02d.%03dZ\",\"kind\":\"%s\","
        "\"amount\":\"%llu.%02llu\",\"currency\":\"%s\",\"channel\":\"mto\",\"agent\":\"AG-%"
        "04llu\","
        "\"sender\":{\"id\":\"C-%07llu\",\"country\":\"%s\",\"city\":\"%s\",\"phone\":\"+60-1%"
        "llu\"},"
        "\"receiver\":{\"id\":\"R-%06llu\",\"country\":\"%s\",\"city\":\"%s\"}%s}",
        i, static_cast<int>(1 + rng() % 28), static_cast<int>(rng() % 24),
        static_cast<int>(rng() % 60), static_cast<int>(rng() % 60), static_cast<int>(rng() % 1000),
        cash_in ? "cash_in" : kind, static_cast<unsigned long long>(20 + rng() % 4000),
        static_cast<unsigned long long>(rng() % 100), currencies[rng() % 5],
        static_cast<unsigned long long>(rng() % 2000),
        static_cast<unsigned long long>(rng() % 9999999), k[0], k[2],
        static_cast<unsigned long long>(rng() % 99999999),
        static_cast<unsigned long long>(rng() % 999999), k[1], k[3],
        rng() % 4 == 0 ? ",\"purpose\":\"family_support\"" : "");
    std::string s(line, static_cast<size_t>(len));
    spans.emplace_back(c.buffer.size(), s.size());
    c.buffer += s;
    c.buffer += '\n';
  }
  c.buffer.append(pipeline::kRecordPadding, ' ');
  size_t total = 0;
  for (const auto& [off, len] : spans) {
    pipeline::Record r;
    r.bytes = std::string_view(c.buffer.data() + off, len);
    r.offset = off;
    c.records.push_back(r);
    total += len;
  }
  c.mean_bytes = static_cast<double>(total) / static_cast<double>(n);
  return c;
}

event::CurrencyTable rates() {
  event::CurrencyTable t(event::Currency{{'U', 'S', 'D'}});
  const std::pair<const char*, const char*> kRates[] = {
      {"MYR", "0.2245"}, {"QAR", "0.2747"}, {"AED", "0.2723"}, {"THB", "0.0282"}};
  for (const auto& [code, rate] : kRates) {
    event::Rate r;
    event::parse_rate(rate, r);
    t.set_rate(event::Currency{{code[0], code[1], code[2]}}, r);
  }
  return t;
}

void BM_DecodeCanonical(benchmark::State& state) {
  static const Corpus corpus = make_corpus(20'000);
  const event::Schema schema = event::Schema::canonical();
  const event::CurrencyTable table = rates();
  const event::DecodeLimits limits;
  auto decoder = event::make_json_decoder(schema, table, limits);
  event::Event ev;
  event::DecodeError err;
  size_t i = 0;
  size_t failures = 0;
  for (auto _ : state) {
    if (!decoder->decode(corpus.records[i], ev, err)) ++failures;
    benchmark::DoNotOptimize(ev.amount_base.units);
    if (++i == corpus.records.size()) i = 0;
  }
  if (failures != 0) state.SkipWithError("corpus events failed to decode");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * corpus.mean_bytes));
  state.counters["event_bytes"] = corpus.mean_bytes;
}
BENCHMARK(BM_DecodeCanonical)->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
