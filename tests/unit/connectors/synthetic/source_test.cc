// The synthetic world as a source (connectors/synthetic/source.h, pacer.h): the bytes of
// World::append_events whatever the batch size, record positions, the end of input and the
// truth file, the config-to-source path through the registry, and the pacing, run against
// a hand-moved clock (nothing here waits or measures wall time).
#include "connectors/synthetic/source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "connectors/registry.h"
#include "connectors/synthetic/pacer.h"
#include "connectors/synthetic/world.h"
#include "engine/config/engine_config.h"
#include "engine/event/decoder.h"
#include "engine/pipeline/clock.h"
#include "engine/pipeline/record.h"

namespace corridor::synthetic {
namespace {

namespace fs = std::filesystem;

WorldParams small(uint64_t seed) {
  WorldParams p;
  p.seed = seed;
  p.entities = 1500;
  p.days = 35;
  return p;
}

std::string world_bytes(const WorldParams& p) {
  World world(p);
  std::string out;
  while (world.append_events(out, 4096) > 0) {
  }
  return out;
}

std::string truth_bytes(const WorldParams& p) {
  World world(p);
  std::string events;
  while (world.append_events(events, 4096) > 0) {
  }
  std::string out;
  for (const TruthRecord& t : world.truth()) {
    append_truth_json(out, t);
    out.push_back('\n');
  }
  return out;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A sleeper that moves a manual clock instead of waiting, and remembers each sleep.
class ClockSleeper final : public Sleeper {
 public:
  explicit ClockSleeper(pipeline::ManualClock& clock) : clock_(clock) {}
  void sleep_ms(int64_t ms) override {
    sleeps.push_back(ms);
    clock_.advance(ms);
  }
  std::vector<int64_t> sleeps;

 private:
  pipeline::ManualClock& clock_;
};

// A clock that counts how often it is read.
class CountingClock final : public pipeline::Clock {
 public:
  int64_t now_ms() const noexcept override {
    ++reads;
    return 0;
  }
  mutable int reads = 0;
};

class WorldSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("synthetic_source_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
};

TEST_F(WorldSourceTest, SameBytesAndPositionsAsTheWorldWhateverTheBatchSize) {
  const WorldParams p = small(5);
  const std::string expected = world_bytes(p);
  ASSERT_GT(expected.size(), 100'000U);
  for (size_t batch_size : {size_t{1}, size_t{7}, size_t{4096}, size_t{1'000'000}}) {
    SCOPED_TRACE("batch size " + std::to_string(batch_size));
    WorldSource source("world", p);
    EXPECT_EQ(source.name(), "world");
    pipeline::RecordBatch batch;
    std::string got;
    uint64_t line = 0;
    size_t batches = 0;
    while (source.next_batch(batch, batch_size)) {
      ++batches;
      ASSERT_FALSE(batch.records.empty());
      ASSERT_LE(batch.records.size(), batch_size);
      for (const pipeline::Record& r : batch.records) {
        // Where `corridor gen` would have written this line in its file.
        ASSERT_EQ(r.offset, got.size());
        ASSERT_EQ(r.line, ++line);
        ASSERT_FALSE(r.truncated);
        ASSERT_FALSE(r.bytes.empty());
        ASSERT_EQ(r.bytes.find('\n'), std::string_view::npos);
        got.append(r.bytes);
        got.push_back('\n');
      }
      ASSERT_EQ(batch.end_offset, got.size());
    }
    EXPECT_EQ(got, expected);
    EXPECT_EQ(source.world().stats().events, line);
    if (batch_size == 1) {
      EXPECT_EQ(batches, line);
    }
    // The end of input stays the end, with an empty batch at the final position.
    EXPECT_TRUE(batch.records.empty());
    EXPECT_EQ(batch.end_offset, expected.size());
    EXPECT_TRUE(source.ended());
    EXPECT_FALSE(source.next_batch(batch, batch_size));
    EXPECT_TRUE(batch.records.empty());
    EXPECT_EQ(batch.end_offset, expected.size());
  }
}

TEST_F(WorldSourceTest, RecordsAreFollowedByReadablePaddingAndDecodeWithoutDeadLetters) {
  const WorldParams p = small(9);
  WorldSource source("world", p);
  event::CurrencyTable rates;
  for (const auto& [code, text] : default_rates()) {
    event::Rate r{};
    ASSERT_EQ(event::parse_rate(text, r), event::DecimalError::ok);
    rates.set_rate(event::Currency{{code[0], code[1], code[2]}}, r);
  }
  const event::DecodeLimits limits;
  const event::Schema schema = event::Schema::canonical();
  auto decoder = event::make_json_decoder(schema, rates, limits);
  pipeline::RecordBatch batch;
  event::Event e;
  size_t decoded = 0;
  while (source.next_batch(batch, 333)) {
    for (const pipeline::Record& r : batch.records) {
      // The padding the JSON parser may read (ASan checks the reads themselves).
      ASSERT_EQ(r.bytes.data()[r.bytes.size()], '\n');
      event::DecodeError error;
      ASSERT_TRUE(decoder->decode(r, e, error)) << error.detail << ": " << r.bytes;
      ++decoded;
    }
  }
  EXPECT_EQ(decoded, source.world().stats().events);
}

TEST_F(WorldSourceTest, WritesTheTruthFileWhenTheWorldEnds) {
  const WorldParams p = small(3);
  const fs::path truth = dir_ / "world.truth.ndjson";
  WorldSourceOptions options;
  options.truth_path = truth.string();
  WorldSource source("world", p, options);
  // Created at once, so a path that cannot be written fails before anything is read.
  ASSERT_TRUE(fs::exists(truth));
  EXPECT_EQ(read_file(truth), "");
  pipeline::RecordBatch batch;
  size_t batches = 0;
  while (source.next_batch(batch, 4096)) {
    if (++batches == 1) {
      EXPECT_EQ(read_file(truth), "") << "written at the end only";
    }
  }
  const std::string expected = truth_bytes(p);
  EXPECT_FALSE(expected.empty());
  EXPECT_EQ(read_file(truth), expected);  // the bytes of `corridor gen --truth`
  EXPECT_EQ(std::count(expected.begin(), expected.end(), '\n'),
            static_cast<long>(source.world().truth().size()));
  EXPECT_FALSE(source.next_batch(batch, 4096));
  EXPECT_EQ(read_file(truth), expected);
}

TEST_F(WorldSourceTest, TruthOfAWorldNotReadToItsEndIsRemoved) {
  const fs::path truth = dir_ / "partial.truth.ndjson";
  {
    WorldSourceOptions options;
    options.truth_path = truth.string();
    WorldSource source("world", small(3), options);
    pipeline::RecordBatch batch;
    ASSERT_TRUE(source.next_batch(batch, 100));
    EXPECT_FALSE(source.ended());
  }
  EXPECT_FALSE(fs::exists(truth));
}

TEST_F(WorldSourceTest, BadParametersAndTruthPathsFailAtConstruction) {
  WorldParams p = small(1);
  p.entities = 0;
  EXPECT_THROW(WorldSource("world", p), std::invalid_argument);
  p = small(1);
  p.scenarios = {"R99"};
  EXPECT_THROW(WorldSource("world", p), std::invalid_argument);
  WorldSourceOptions options;
  options.truth_path = (dir_ / "missing" / "truth.ndjson").string();
  try {
    WorldSource source("world", small(1), options);
    ADD_FAILURE() << "expected a SourceError";
  } catch (const pipeline::SourceError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create the truth file"), std::string::npos)
        << e.what();
  }
}

TEST_F(WorldSourceTest, RateZeroNeverReadsTheClockNorSleeps) {
  CountingClock clock;
  pipeline::ManualClock manual;
  ClockSleeper sleeper(manual);
  WorldSourceOptions options;
  options.rate = 0;
  options.clock = &clock;
  options.sleeper = &sleeper;
  WorldSource source("world", small(2), options);
  pipeline::RecordBatch batch;
  size_t records = 0;
  while (source.next_batch(batch, 4096)) records += batch.records.size();
  EXPECT_GT(records, 0U);
  EXPECT_EQ(clock.reads, 0);
  EXPECT_TRUE(sleeper.sleeps.empty());
}

// At a rate, small batches leave evenly: never ahead of rate * t + burst, and the whole
// world takes (events - burst) / rate seconds of the manual clock.
TEST_F(WorldSourceTest, PacesTheWorldToTheRateInSmallBatches) {
  const WorldParams p = small(4);
  const double rate = 5000;
  pipeline::ManualClock clock(1'000'000);
  ClockSleeper sleeper(clock);
  WorldSourceOptions options;
  options.rate = rate;
  options.clock = &clock;
  options.sleeper = &sleeper;
  WorldSource source("world", p, options);
  pipeline::RecordBatch batch;
  uint64_t events = 0;
  std::string got;
  while (source.next_batch(batch, 4096)) {
    ASSERT_LE(batch.records.size(), 50U) << "10 ms worth at 5,000 a second";
    events += batch.records.size();
    const double elapsed_s = static_cast<double>(clock.now_ms() - 1'000'000) / 1000.0;
    ASSERT_LE(static_cast<double>(events), rate * elapsed_s + 50 + 1e-6) << "ahead of the rate";
    for (const pipeline::Record& r : batch.records) {
      got.append(r.bytes);
      got.push_back('\n');
    }
  }
  EXPECT_EQ(got, world_bytes(p)) << "pacing changes when, never what";
  ASSERT_GT(events, 10'000U);
  // The sleeps add up to the schedule: (events - burst) / rate, plus up to two batches'
  // worth (the last batch may be short, and the call that finds the end waits too).
  const int64_t elapsed = clock.now_ms() - 1'000'000;
  const auto ideal = static_cast<int64_t>(static_cast<double>(events - 50) * 1000.0 / rate);
  EXPECT_GE(elapsed, ideal);
  EXPECT_LE(elapsed, ideal + 20);
  for (int64_t ms : sleeper.sleeps) ASSERT_LE(ms, 11) << "small steps, not one per second";
}

// The pacer alone: a clock that moves only when the pacer sleeps, or when the caller is slow.
TEST(RatePacerTest, BurstIsTenMillisecondsWorthAndAtLeastOne) {
  pipeline::ManualClock clock;
  ClockSleeper sleeper(clock);
  EXPECT_EQ(RatePacer(5000, clock, sleeper).burst(), 50U);
  EXPECT_EQ(RatePacer(1'000'000, clock, sleeper).burst(), 10'000U);
  EXPECT_EQ(RatePacer(150, clock, sleeper).burst(), 1U);
  EXPECT_EQ(RatePacer(0.5, clock, sleeper).burst(), 1U);
}

TEST(RatePacerTest, ReleasesEvenlyAndStartsWithAFullBucket) {
  pipeline::ManualClock clock(500);
  ClockSleeper sleeper(clock);
  RatePacer pacer(1000, clock, sleeper);  // 1 event per ms, bursts of 10
  EXPECT_EQ(pacer.acquire(4096), 10U);
  EXPECT_TRUE(sleeper.sleeps.empty()) << "the first batch goes at once";
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(pacer.acquire(4096), 10U);
    ASSERT_EQ(sleeper.sleeps.size(), static_cast<size_t>(i + 1));
    EXPECT_EQ(sleeper.sleeps.back(), 10);
  }
  EXPECT_EQ(clock.now_ms(), 500 + 1000);  // 1,010 events: 1,000 of them paced at 1 per ms
  EXPECT_EQ(pacer.acquire(3), 3U) << "fewer than a burst when fewer are wanted";
  EXPECT_EQ(clock.now_ms(), 500 + 1003);
  EXPECT_EQ(pacer.acquire(0), 1U) << "at least one";
}

TEST(RatePacerTest, ASlowCallerIsNotMadeUpForWithABurst) {
  pipeline::ManualClock clock;
  ClockSleeper sleeper(clock);
  RatePacer pacer(1000, clock, sleeper);
  for (int i = 0; i < 10; ++i) pacer.acquire(100);
  const size_t sleeps = sleeper.sleeps.size();
  clock.advance(5000);                  // the pipeline took five seconds over one batch
  EXPECT_EQ(pacer.acquire(4096), 10U);  // one bucket's worth of credit, at once
  EXPECT_EQ(sleeper.sleeps.size(), sleeps);
  EXPECT_EQ(pacer.acquire(4096), 10U);  // then the pace again
  EXPECT_EQ(sleeper.sleeps.back(), 10);
}

TEST(RatePacerTest, SlowRatesKeepTheirAverageDespiteWholeMillisecondSleeps) {
  for (double rate : {150.0, 7.0, 0.5}) {
    SCOPED_TRACE("rate " + std::to_string(rate));
    pipeline::ManualClock clock;
    ClockSleeper sleeper(clock);
    RatePacer pacer(rate, clock, sleeper);
    const int n = rate >= 100 ? 1501 : 15;
    for (int i = 0; i < n; ++i) ASSERT_EQ(pacer.acquire(64), 1U);
    // n events, the first at once: (n - 1) / rate seconds, rounded up by at most 1 ms.
    const double ideal_ms = (n - 1) * 1000.0 / rate;
    EXPECT_GE(static_cast<double>(clock.now_ms()), ideal_ms - 1e-6);
    EXPECT_LE(static_cast<double>(clock.now_ms()), ideal_ms + 1);
  }
}

TEST(RatePacerTest, NeverAheadOfTheRateOverAnyInterval) {
  pipeline::ManualClock clock;
  ClockSleeper sleeper(clock);
  const double rate = 2500;
  RatePacer pacer(rate, clock, sleeper);
  std::vector<std::pair<int64_t, size_t>> released;  // (time, events)
  const size_t wants[] = {1, 4096, 7, 25, 3, 100};
  for (int i = 0; i < 600; ++i) {
    if (i % 97 == 0) clock.advance(i % 3 == 0 ? 1 : 250);  // a caller slow now and then
    released.emplace_back(clock.now_ms(), pacer.acquire(wants[i % 6]));
  }
  // For every pair of releases a <= b: events in [a, b] <= burst + rate * (b - a + 1 ms).
  for (size_t a = 0; a < released.size(); ++a) {
    size_t sum = 0;
    for (size_t b = a; b < released.size(); ++b) {
      sum += released[b].second;
      const double span_s = static_cast<double>(released[b].first - released[a].first) / 1000.0;
      // 1 ms: a batch may leave up to a clock tick after it was due.
      ASSERT_LE(static_cast<double>(sum),
                static_cast<double>(pacer.burst()) + rate * (span_s + 0.001) + 1e-6)
          << "events " << a << " to " << b;
    }
  }
}

// The registry builds the source from an engine config: defaults from WorldParams, the
// config's rates, and the decoder for canonical JSON.
TEST_F(WorldSourceTest, RegistryOpensASyntheticSourceFromTheConfig) {
  const config::SourceCatalog catalog = connectors::source_catalog();
  EXPECT_NE(
      std::find(catalog.synthetic_scenarios.begin(), catalog.synthetic_scenarios.end(), "R7+R11"),
      catalog.synthetic_scenarios.end());
  EXPECT_EQ(catalog.synthetic_currencies.size(), default_rates().size());
  std::string rates;
  for (const auto& [code, text] : default_rates()) {
    rates += "    " + std::string(code) + ": \"" + std::string(text) + "\"\n";
  }
  const std::string yaml =
      "version: 1\n"
      "sources:\n"
      "  - {name: world, type: synthetic, seed: 6, entities: 1500, days: 35, scenarios: [R1, "
      "R7+R11], truth: world.truth.ndjson}\n"
      "sinks:\n"
      "  dead_letter: {type: discard}\n"
      "currency:\n"
      "  base: USD\n"
      "  rates:\n" +
      rates;
  const config::LoadResult loaded =
      config::parse_engine_config((dir_ / "engine.yaml").string(), yaml,
                                  [](const std::string&) { return std::nullopt; }, catalog);
  ASSERT_TRUE(loaded.config) << (loaded.errors.empty() ? "" : loaded.errors[0].message);
  connectors::OpenedSource opened =
      connectors::open_source(loaded.config->sources[0], *loaded.config);
  WorldParams p = small(6);
  p.scenarios = {"R1", "R7+R11"};
  const std::string expected = world_bytes(p);
  pipeline::RecordBatch batch;
  event::Event e;
  std::string got;
  while (opened.source->next_batch(batch, 4096)) {
    for (const pipeline::Record& r : batch.records) {
      event::DecodeError error;
      ASSERT_TRUE(opened.decoder->decode(r, e, error)) << error.detail;
      got.append(r.bytes);
      got.push_back('\n');
    }
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(read_file(dir_ / "world.truth.ndjson"), truth_bytes(p));

  // Unset keys take the world's defaults: the default world, from WorldParams.
  config::SourceConfig plain;
  plain.name = "plain";
  plain.type = "synthetic";
  plain.synthetic.entities = 300;  // small, so the test stays quick; the rest default
  plain.synthetic.days = 3;
  opened = connectors::open_source(plain, *loaded.config);
  WorldParams d;
  d.entities = 300;
  d.days = 3;
  got.clear();
  while (opened.source->next_batch(batch, 4096)) {
    for (const pipeline::Record& r : batch.records) got.append(r.bytes).push_back('\n');
  }
  EXPECT_EQ(got, world_bytes(d));
  EXPECT_EQ(WorldParams{}.entities, 100'000U) << "the default world";
  EXPECT_EQ(WorldParams{}.days, 60U);

  plain.synthetic.scenarios = {"R99"};  // a catalog-less loader let it through
  EXPECT_THROW(connectors::open_source(plain, *loaded.config), pipeline::SourceError);
}

}  // namespace
}  // namespace corridor::synthetic
