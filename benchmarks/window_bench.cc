// Windowed aggregates: add() then results() per event for 4 aggregates (count, sum,
// distinct, cv) over a 7-day window with the default 48 buckets (3.5 h each).
// The *Layout variants do the same through the evaluator's path: a WindowLayout made once,
// then add_and_results() per event (same results, no per-call validation and layout).
//   BM_WindowHotKey/<senders>: one key, events 1 s apart in time order (the window holds
//     604,800 events once full); distinct over `senders` values (50: exact set; 5000: sketch).
//   BM_WindowRoundRobin/<ms>: 100,000 keys in turn, events <ms> apart overall (1000 ms: about
//     6 events per key per window, the common entity; 100 ms: about 60), 8 senders per key.
// items_per_second = events/s; state_bytes = heap bytes per key at the end.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "rules/window/windowed_aggregates.h"

namespace {

using namespace corridor::rules::window;

constexpr int64_t kDay = 86'400'000;
const std::vector<AggregateSpec> kSpecs = {{AggregateKind::count, 64},
                                           {AggregateKind::sum, 64},
                                           {AggregateKind::distinct, 64},
                                           {AggregateKind::cv, 64}};
constexpr WindowSpec kWindow{7 * kDay, 7 * kDay / 48};

std::vector<int64_t> amounts() {
  std::mt19937_64 rng(42);
  std::vector<int64_t> a(4096);
  for (auto& x : a) x = static_cast<int64_t>(200 + rng() % 4800) * 10'000;  // 200-5000.0000
  return a;
}

// One event into `s` and its results into `out`, through either API. Not inlined, so that
// callgrind can count it alone: --toggle-collect='*add_and_results<*'.
template <bool kLayout>
[[gnu::noinline]] void add_and_results(WindowedAggregates& s,
                                       [[maybe_unused]] const WindowLayout& layout, int64_t ts,
                                       const std::vector<AggregateInput>& in,
                                       std::vector<AggregateResult>& out) {
  if constexpr (kLayout) {
    s.add_and_results(layout, ts, in, out);
  } else {
    s.add(kSpecs, kWindow, ts, in);
    s.results(kSpecs, kWindow, ts, out);
  }
}

template <bool kLayout>
void BM_WindowHotKey(benchmark::State& state) {
  const auto pool = static_cast<size_t>(state.range(0));
  std::vector<uint64_t> senders(pool);
  for (size_t i = 0; i < pool; ++i) senders[i] = hash64("C-" + std::to_string(i));
  const std::vector<int64_t> amount = amounts();
  const WindowLayout layout = WindowLayout::make(kSpecs, kWindow);
  std::vector<AggregateInput> in(4);
  std::vector<AggregateResult> out(4);
  WindowedAggregates s;
  int64_t ts = 1'700'000'000'000;
  size_t i = 0;
  const auto event = [&] {
    const int64_t a = amount[i & 4095];
    in[1].value = a;
    in[2].hash = senders[(i * 7919) % pool];
    in[3].value = a;
    add_and_results<kLayout>(s, layout, ts, in, out);
    benchmark::DoNotOptimize(out.data());
    ts += 1'000;
    ++i;
  };
  for (int w = 0; w < 7 * 86'400; ++w) event();  // fill the window first
  for (auto _ : state) event();
  state.SetItemsProcessed(state.iterations());
  state.counters["state_bytes"] = static_cast<double>(s.memory_bytes());
  state.counters["distinct"] = out[2].number;
}
BENCHMARK(BM_WindowHotKey<false>)->Name("BM_WindowHotKey")->Arg(50)->Arg(5000);
BENCHMARK(BM_WindowHotKey<true>)->Name("BM_WindowHotKeyLayout")->Arg(50)->Arg(5000);

template <bool kLayout>
void BM_WindowRoundRobin(benchmark::State& state) {
  constexpr size_t kKeys = 100'000;
  const int64_t step = state.range(0);
  const std::vector<int64_t> amount = amounts();
  std::vector<uint64_t> senders(kKeys * 8);
  for (size_t i = 0; i < senders.size(); ++i) senders[i] = hash64("C-" + std::to_string(i));
  std::vector<WindowedAggregates> keys(kKeys);
  const WindowLayout layout = WindowLayout::make(kSpecs, kWindow);
  std::vector<AggregateInput> in(4);
  std::vector<AggregateResult> out(4);
  int64_t ts = 1'700'000'000'000;
  size_t i = 0;
  const auto event = [&] {
    const size_t k = i % kKeys;
    const int64_t a = amount[i & 4095];
    in[1].value = a;
    in[2].hash = senders[k * 8 + (i / kKeys) % 8];
    in[3].value = a;
    add_and_results<kLayout>(keys[k], layout, ts, in, out);
    benchmark::DoNotOptimize(out.data());
    ts += step;
    ++i;
  };
  const int64_t warm = 7 * kDay / step;  // one window's worth of events first
  for (int64_t w = 0; w < warm; ++w) event();
  for (auto _ : state) event();
  state.SetItemsProcessed(state.iterations());
  size_t bytes = 0;
  for (const auto& s : keys) bytes += s.memory_bytes();
  state.counters["state_bytes"] = static_cast<double>(bytes) / kKeys;
}
BENCHMARK(BM_WindowRoundRobin<false>)->Name("BM_WindowRoundRobin")->Arg(1000)->Arg(100);
BENCHMARK(BM_WindowRoundRobin<true>)->Name("BM_WindowRoundRobinLayout")->Arg(1000)->Arg(100);

}  // namespace
BENCHMARK_MAIN();
