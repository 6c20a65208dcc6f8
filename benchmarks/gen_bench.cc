// Synthetic-world throughput: `World::append_events` writing canonical NDJSON lines (the
// population's day-by-day generation, the day's sort and the rendering), on one core.
// No target yet; issue 5 asks for the figure. Each iteration generates one whole world,
// so the population set-up is included, as `corridor gen` pays it.
#include <benchmark/benchmark.h>

#include <string>

#include "connectors/synthetic/world.h"

namespace {

using namespace corridor;

// Args: entities, days.
void BM_GenerateWorld(benchmark::State& state) {
  synthetic::WorldParams params;
  params.seed = 1;
  params.entities = static_cast<uint32_t>(state.range(0));
  params.days = static_cast<uint32_t>(state.range(1));
  std::string buffer;
  buffer.reserve(4 << 20);
  uint64_t events = 0, bytes = 0;
  for (auto _ : state) {
    synthetic::World world(params);
    size_t n = 0;
    while ((n = world.append_events(buffer, 4096)) > 0) {
      events += n;
      bytes += buffer.size();
      benchmark::DoNotOptimize(buffer.data());
      buffer.clear();
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(events));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["events_per_world"] =
      static_cast<double>(events) / static_cast<double>(state.iterations());
  state.counters["event_bytes"] = static_cast<double>(bytes) / static_cast<double>(events);
}
BENCHMARK(BM_GenerateWorld)
    ->Args({10'000, 60})
    ->Args({100'000, 7})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3.0);

}  // namespace

BENCHMARK_MAIN();
