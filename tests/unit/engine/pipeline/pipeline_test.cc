// Pipeline (engine/pipeline/pipeline.h): event-time lateness, the watermark, batching,
// stopping, and the conservation of records, with in-memory sources and sinks.
#include "engine/pipeline/pipeline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "engine/event/decoder.h"
#include "engine/event/timestamp.h"
#include "engine/pipeline/clock.h"
#include "engine/pipeline/dead_letter_writer.h"
#include "engine/pipeline/sink.h"
#include "engine/pipeline/source.h"

namespace corridor::pipeline {
namespace {

constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;

// 2024-05-01T00:00:00Z
constexpr int64_t kT0 = 1'714'521'600'000;

// Records from memory, each followed by the padding decoders rely on.
class MemorySource final : public Source {
 public:
  explicit MemorySource(std::vector<std::string> lines, std::string name = "memory")
      : name_(std::move(name)) {
    uint64_t offset = 0;
    for (std::string& l : lines) {
      const size_t size = l.size();
      l.append(kRecordPadding, '\0');
      storage_.push_back({std::move(l), size, offset});
      offset += size + 1;
    }
  }

  std::string_view name() const noexcept override { return name_; }

  bool next_batch(RecordBatch& batch, size_t max_records) override {
    batch.records.clear();
    ++calls_;
    requested_.push_back(max_records);
    while (batch.records.size() < max_records && next_ < storage_.size()) {
      const Stored& s = storage_[next_];
      Record r;
      r.bytes = std::string_view(s.bytes.data(), s.size);
      r.offset = s.offset;
      r.line = next_ + 1;
      batch.records.push_back(r);
      ++next_;
    }
    batch.end_offset = next_ < storage_.size() ? storage_[next_].offset : end_offset();
    return !batch.records.empty();
  }

  size_t consumed() const { return next_; }
  const std::vector<size_t>& requested() const { return requested_; }

 private:
  struct Stored {
    std::string bytes;
    size_t size;
    uint64_t offset;
  };
  uint64_t end_offset() const {
    return storage_.empty() ? 0 : storage_.back().offset + storage_.back().size + 1;
  }

  std::string name_;
  std::vector<Stored> storage_;
  size_t next_ = 0;
  size_t calls_ = 0;
  std::vector<size_t> requested_;
};

class MemorySink final : public Sink {
 public:
  void write(std::string_view record, std::string_view /*key*/) override {
    lines.emplace_back(record);
  }
  void flush() override { ++flushes; }
  std::vector<std::string> lines;
  int flushes = 0;
};

// What the handler saw, copied (the event's strings die with the batch).
struct Seen {
  std::string id;
  int64_t ts_ms;
  uint64_t line;
  friend bool operator==(const Seen&, const Seen&) = default;
};

void PrintTo(const Seen& s, std::ostream* os) {
  *os << "{" << s.id << " @" << s.ts_ms << " line " << s.line << "}";
}

class RecordingHandler final : public EventHandler {
 public:
  void on_event(const event::Event& e, const Record& record) override {
    seen.push_back({std::string(e.id), e.ts_ms, record.line});
    ++in_batch;
    if (stop_after_id == e.id && pipeline != nullptr) pipeline->request_stop();
  }
  void on_batch_end() override {
    batch_sizes.push_back(in_batch);
    in_batch = 0;
  }
  std::vector<Seen> seen;
  std::vector<size_t> batch_sizes;  // events handed on per batch
  size_t in_batch = 0;
  std::string stop_after_id;
  Pipeline* pipeline = nullptr;
};

// One canonical transfer as an NDJSON line.
std::string event_line(std::string_view id, int64_t ts_ms) {
  return R"({"id":")" + std::string(id) + R"(","ts":)" + std::to_string(ts_ms) +
         R"(,"kind":"transfer","amount":"10","currency":"USD","sender":{"id":"s"},)"
         R"("receiver":{"id":"r"}})";
}

std::vector<std::string> ids(const std::vector<Seen>& seen) {
  std::vector<std::string> out;
  for (const Seen& s : seen) out.push_back(s.id);
  return out;
}

class PipelineTest : public ::testing::Test {
 protected:
  PipelineTest()
      : schema_(event::Schema::canonical()),
        decoder_(event::make_json_decoder(schema_, currencies_, limits_)),
        dead_letter_writer_(dead_letter_sink_) {}

  Pipeline& make(PipelineOptions options) {
    pipeline_ = std::make_unique<Pipeline>(handler_, dead_letter_writer_, clock_, options);
    handler_.pipeline = pipeline_.get();
    return *pipeline_;
  }

  std::vector<std::string> dead_letter_reasons() const {
    std::vector<std::string> out;
    for (const std::string& l : dead_letter_sink_.lines) {
      const size_t start = l.find("\"reason\":\"") + 10;
      out.push_back(l.substr(start, l.find('"', start) - start));
    }
    return out;
  }

  event::Schema schema_;
  event::CurrencyTable currencies_;
  event::DecodeLimits limits_;
  std::unique_ptr<event::Decoder> decoder_;
  MemorySink dead_letter_sink_;
  DeadLetterWriter dead_letter_writer_;
  ManualClock clock_{1'000'000};
  RecordingHandler handler_;
  std::unique_ptr<Pipeline> pipeline_;
};

TEST_F(PipelineTest, HandlerSeesEventsInInputOrder) {
  std::vector<std::string> lines;
  std::vector<Seen> expected;
  for (int i = 0; i < 50; ++i) {
    // Event times wander (within the allowed lateness) but input order is what counts.
    const int64_t ts = kT0 + (i * 37 % 11) * kMinute;
    lines.push_back(event_line("e" + std::to_string(i), ts));
    expected.push_back({"e" + std::to_string(i), ts, static_cast<uint64_t>(i + 1)});
  }
  MemorySource source(lines);
  PipelineOptions options;
  options.batch_size = 8;
  EXPECT_TRUE(make(options).run(source, *decoder_));
  EXPECT_EQ(handler_.seen, expected);
  EXPECT_TRUE(dead_letter_sink_.lines.empty());
}

TEST_F(PipelineTest, LateEventsAreDeadLetteredWithReasonLate) {
  MemorySource source({
      event_line("a", kT0), event_line("b", kT0 + 2 * kHour),  // newest: the watermark is kT0 + 1h
      event_line("c", kT0 + kHour),                            // exactly at the watermark: on time
      event_line("d", kT0 + kHour - 1),     // 1 ms past the allowed lateness: late
      event_line("e", kT0 + 90 * kMinute),  // on time
      event_line("f", kT0),                 // late
  });
  PipelineOptions options;
  options.allowed_lateness_ms = kHour;
  Pipeline& p = make(options);
  EXPECT_TRUE(p.run(source, *decoder_));
  EXPECT_THAT(ids(handler_.seen), ::testing::ElementsAre("a", "b", "c", "e"));
  const PipelineStats& s = p.stats();
  EXPECT_EQ(s.read, 6U);
  EXPECT_EQ(s.decoded, 4U);
  EXPECT_EQ(s.dead_lettered, 2U);
  EXPECT_EQ(s.late_applied, 0U);
  EXPECT_EQ(s.by_reason[static_cast<size_t>(event::Reason::late)], 2U);
  EXPECT_TRUE(s.conserved());
  ASSERT_EQ(dead_letter_sink_.lines.size(), 2U);
  EXPECT_THAT(dead_letter_reasons(), ::testing::ElementsAre("late", "late"));
  // The dead letter names the lag, the limit, and carries the original record.
  EXPECT_EQ(dead_letter_sink_.lines[0].rfind(
                R"({"reason":"late","detail":"event time is 3600001 ms behind the newest event; )"
                R"(allowed lateness is 3600000 ms","source":"memory","line":4,)",
                0),
            0U)
      << dead_letter_sink_.lines[0];
  EXPECT_NE(dead_letter_sink_.lines[1].find(R"("detail":"event time is 7200000 ms behind)"),
            std::string::npos);
  EXPECT_NE(dead_letter_sink_.lines[1].find(R"(\"id\":\"f\")"), std::string::npos)
      << dead_letter_sink_.lines[1];
  EXPECT_GE(dead_letter_sink_.flushes, 1);
}

TEST_F(PipelineTest, LatePolicyApplyHandsLateEventsOnAndCountsThem) {
  MemorySource source({
      event_line("a", kT0),
      event_line("b", kT0 + 2 * kHour),
      event_line("c", kT0 + kHour - 1),  // late
      event_line("d", kT0),              // late
      event_line("e", kT0 + 3 * kHour),
  });
  PipelineOptions options;
  options.allowed_lateness_ms = kHour;
  options.late_policy = LatePolicy::apply;
  Pipeline& p = make(options);
  EXPECT_TRUE(p.run(source, *decoder_));
  EXPECT_THAT(ids(handler_.seen), ::testing::ElementsAre("a", "b", "c", "d", "e"));
  EXPECT_EQ(p.stats().late_applied, 2U);
  EXPECT_EQ(p.stats().decoded, 5U);
  EXPECT_EQ(p.stats().dead_lettered, 0U);
  EXPECT_EQ(p.stats().by_reason[static_cast<size_t>(event::Reason::late)], 0U);
  EXPECT_TRUE(dead_letter_sink_.lines.empty());
  // Applied late events do not pull the newest event time back.
  EXPECT_EQ(p.stats().max_event_time_ms, kT0 + 3 * kHour);
}

TEST_F(PipelineTest, WatermarkOnlyMovesForward) {
  // After "new" at +2h, an on-time older event at +1h30 must not lower the watermark:
  // "x" at +1h - 1 ms is late against +2h, though it would be on time against +1h30.
  MemorySource source({
      event_line("old", kT0),
      event_line("new", kT0 + 2 * kHour),
      event_line("older", kT0 + 90 * kMinute),
      event_line("x", kT0 + kHour - 1),
      event_line("y", kT0 + kHour),
  });
  PipelineOptions options;
  options.allowed_lateness_ms = kHour;
  options.batch_size = 2;
  Pipeline& p = make(options);
  EXPECT_TRUE(p.run(source, *decoder_));
  EXPECT_THAT(ids(handler_.seen), ::testing::ElementsAre("old", "new", "older", "y"));
  EXPECT_EQ(p.stats().max_event_time_ms, kT0 + 2 * kHour);
  EXPECT_THAT(dead_letter_reasons(), ::testing::ElementsAre("late"));
}

TEST_F(PipelineTest, FirstEventIsNeverLateAndZeroLatenessAllowsTies) {
  MemorySource source({
      event_line("a", kT0 + kHour),
      event_line("b", kT0 + kHour),  // same time: not behind
      event_line("c", kT0 + kHour - 1),
  });
  PipelineOptions options;
  options.allowed_lateness_ms = 0;
  Pipeline& p = make(options);
  EXPECT_TRUE(p.run(source, *decoder_));
  EXPECT_THAT(ids(handler_.seen), ::testing::ElementsAre("a", "b"));
  EXPECT_EQ(p.stats().by_reason[static_cast<size_t>(event::Reason::late)], 1U);
}

TEST_F(PipelineTest, WatermarkAndStatsCarryAcrossSources) {
  MemorySource first({event_line("a", kT0 + 5 * kHour)}, "first");
  MemorySource second({event_line("b", kT0), event_line("c", kT0 + 5 * kHour)}, "second");
  PipelineOptions options;
  options.allowed_lateness_ms = kHour;
  Pipeline& p = make(options);
  EXPECT_TRUE(p.run(first, *decoder_));
  EXPECT_TRUE(p.run(second, *decoder_));
  EXPECT_THAT(ids(handler_.seen), ::testing::ElementsAre("a", "c"));
  EXPECT_EQ(p.stats().read, 3U);
  EXPECT_EQ(p.stats().decoded, 2U);
  EXPECT_EQ(p.stats().dead_lettered, 1U);
  ASSERT_EQ(dead_letter_sink_.lines.size(), 1U);
  EXPECT_NE(dead_letter_sink_.lines[0].find(R"("source":"second","line":1,)"), std::string::npos)
      << dead_letter_sink_.lines[0];
}

TEST_F(PipelineTest, MaxRecordsStopsEarly) {
  std::vector<std::string> lines;
  for (int i = 0; i < 10; ++i) lines.push_back(event_line("e" + std::to_string(i), kT0 + i));
  MemorySource source(lines);
  PipelineOptions options;
  options.batch_size = 3;
  options.max_records = 4;
  Pipeline& p = make(options);
  EXPECT_FALSE(p.run(source, *decoder_));
  EXPECT_THAT(ids(handler_.seen), ::testing::ElementsAre("e0", "e1", "e2", "e3"));
  EXPECT_EQ(p.stats().read, 4U);
  EXPECT_EQ(source.consumed(), 4U);  // never asked for more than it could use
  EXPECT_THAT(source.requested(), ::testing::ElementsAre(3U, 1U));
}

TEST_F(PipelineTest, MaxRecordsCountsDeadLettersToo) {
  MemorySource source({"not json", event_line("a", kT0), "{}", event_line("b", kT0)});
  PipelineOptions options;
  options.max_records = 3;
  Pipeline& p = make(options);
  EXPECT_FALSE(p.run(source, *decoder_));
  EXPECT_EQ(p.stats().read, 3U);
  EXPECT_EQ(p.stats().decoded, 1U);
  EXPECT_EQ(p.stats().dead_lettered, 2U);
}

TEST_F(PipelineTest, MaxRecordsAtTheInputSizeStillReportsAnEarlyStop) {
  MemorySource source({event_line("a", kT0), event_line("b", kT0)});
  PipelineOptions options;
  options.max_records = 5;
  Pipeline& p = make(options);
  EXPECT_TRUE(p.run(source, *decoder_));  // the source ended before the limit
  EXPECT_EQ(p.stats().read, 2U);
}

TEST_F(PipelineTest, StatsConserveEveryRecord) {
  std::vector<std::string> lines;
  for (int i = 0; i < 40; ++i) {
    switch (i % 5) {
      case 0:
        lines.push_back(event_line("ok" + std::to_string(i), kT0 + i * kMinute));
        break;
      case 1:
        lines.push_back("{\"id\":");
        break;  // malformed
      case 2:
        lines.push_back(R"({"id":"m","ts":1714521600000})");
        break;  // missing
      case 3:
        lines.push_back(event_line("late" + std::to_string(i), kT0 - 2 * kHour));
        break;
      case 4:
        lines.push_back(R"({"id":"v","amount":"-1"})");
        break;  // bad_value
    }
  }
  MemorySource source(lines);
  PipelineOptions options;
  options.batch_size = 6;
  Pipeline& p = make(options);
  EXPECT_TRUE(p.run(source, *decoder_));
  const PipelineStats& s = p.stats();
  EXPECT_EQ(s.read, 40U);
  EXPECT_EQ(s.decoded, 8U);
  EXPECT_EQ(s.dead_lettered, 32U);
  EXPECT_TRUE(s.conserved());
  EXPECT_EQ(s.read, s.decoded + s.dead_lettered);
  uint64_t by_reason_total = 0;
  for (uint64_t n : s.by_reason) by_reason_total += n;
  EXPECT_EQ(by_reason_total, s.dead_lettered);
  using event::Reason;
  EXPECT_EQ(s.by_reason[static_cast<size_t>(Reason::malformed_json)], 8U);
  EXPECT_EQ(s.by_reason[static_cast<size_t>(Reason::missing_field)], 8U);
  EXPECT_EQ(s.by_reason[static_cast<size_t>(Reason::late)], 8U);
  EXPECT_EQ(s.by_reason[static_cast<size_t>(Reason::bad_value)], 8U);
  EXPECT_EQ(handler_.seen.size() + dead_letter_sink_.lines.size(), 40U);
}

TEST_F(PipelineTest, ConservedIsFalseWhenCountsDisagree) {
  PipelineStats s;
  s.read = 3;
  s.decoded = 1;
  s.dead_lettered = 1;
  EXPECT_FALSE(s.conserved());
  s.dead_lettered = 2;
  EXPECT_TRUE(s.conserved());
}

// The same mixed input through batch sizes 1, 7 and 4096 gives the handler the same events
// and the dead-letter sink the same lines.
TEST_F(PipelineTest, BatchSizeDoesNotChangeWhatTheHandlerSees) {
  std::vector<std::string> lines;
  for (int i = 0; i < 300; ++i) {
    const int64_t jitter = (i * 7919 % 13) * 10 * kMinute;  // up to 2h back: some late
    if (i % 17 == 5) {
      lines.push_back("garbage " + std::to_string(i));
    } else {
      lines.push_back(event_line("e" + std::to_string(i), kT0 + i * kMinute - jitter));
    }
  }
  struct Outcome {
    std::vector<Seen> seen;
    std::vector<std::string> dead_letters;
    PipelineStats stats;
    std::vector<size_t> batch_sizes;
  };
  auto run = [&](size_t batch_size) {
    event::Schema schema = event::Schema::canonical();
    auto decoder = event::make_json_decoder(schema, currencies_, limits_);
    MemorySource source(lines);
    MemorySink dead;
    DeadLetterWriter writer(dead);
    RecordingHandler handler;
    ManualClock clock;
    PipelineOptions options;
    options.batch_size = batch_size;
    options.allowed_lateness_ms = kHour;
    Pipeline p(handler, writer, clock, options);
    EXPECT_TRUE(p.run(source, *decoder));
    return Outcome{handler.seen, dead.lines, p.stats(), handler.batch_sizes};
  };
  const Outcome one = run(1);
  const Outcome seven = run(7);
  const Outcome all = run(4096);
  ASSERT_GT(one.seen.size(), 100U);
  ASSERT_GT(one.stats.by_reason[static_cast<size_t>(event::Reason::late)], 10U);
  EXPECT_EQ(seven.seen, one.seen);
  EXPECT_EQ(all.seen, one.seen);
  EXPECT_EQ(seven.dead_letters, one.dead_letters);
  EXPECT_EQ(all.dead_letters, one.dead_letters);
  EXPECT_EQ(seven.stats.by_reason, one.stats.by_reason);
  EXPECT_EQ(all.stats.by_reason, one.stats.by_reason);
  EXPECT_EQ(all.stats.max_event_time_ms, one.stats.max_event_time_ms);
  // The handler is told about every batch boundary.
  EXPECT_EQ(one.batch_sizes.size(), 300U);
  EXPECT_EQ(seven.batch_sizes.size(), 43U);  // ceil(300 / 7)
  EXPECT_EQ(all.batch_sizes.size(), 1U);
}

TEST_F(PipelineTest, RequestStopFinishesTheCurrentBatchThenStops) {
  std::vector<std::string> lines;
  for (int i = 0; i < 20; ++i) lines.push_back(event_line("e" + std::to_string(i), kT0 + i));
  MemorySource source(lines);
  PipelineOptions options;
  options.batch_size = 5;
  Pipeline& p = make(options);
  handler_.stop_after_id = "e6";  // in the second batch (e5..e9)
  EXPECT_FALSE(p.run(source, *decoder_));
  EXPECT_EQ(handler_.seen.size(), 10U);
  EXPECT_EQ(handler_.seen.back().id, "e9");
  EXPECT_EQ(p.stats().read, 10U);
  EXPECT_EQ(source.consumed(), 10U);
  EXPECT_THAT(handler_.batch_sizes, ::testing::ElementsAre(5U, 5U));
  EXPECT_TRUE(p.stats().conserved());
}

TEST_F(PipelineTest, RequestStopBeforeRunReadsNothing) {
  MemorySource source({event_line("a", kT0)});
  Pipeline& p = make(PipelineOptions{});
  p.request_stop();
  EXPECT_FALSE(p.run(source, *decoder_));
  EXPECT_TRUE(handler_.seen.empty());
  EXPECT_EQ(source.consumed(), 0U);
}

TEST_F(PipelineTest, ClockTimesTheRunButNeverEventTime) {
  MemorySource source({event_line("a", kT0)});
  Pipeline& p = make(PipelineOptions{});
  EXPECT_EQ(p.stats().started_ms, 1'000'000);
  clock_.advance(2'500);
  EXPECT_TRUE(p.run(source, *decoder_));
  EXPECT_EQ(p.stats().finished_ms, 1'002'500);
  EXPECT_EQ(p.stats().max_event_time_ms, kT0);
  EXPECT_EQ(handler_.seen.at(0).ts_ms, kT0);
}

// A source that fails mid-run (a truncated gzip file) throws; the run's end is stamped all
// the same, so the summary's duration is not the clock's start negated.
TEST_F(PipelineTest, ARunEndedByAFailingSourceIsTimedToo) {
  class FailingSource final : public Source {
   public:
    std::string_view name() const noexcept override { return "failing"; }
    bool next_batch(RecordBatch&, size_t) override { throw SourceError("gzip stream ends early"); }
  } source;
  Pipeline& p = make(PipelineOptions{});
  clock_.advance(700);
  EXPECT_THROW(p.run(source, *decoder_), SourceError);
  EXPECT_EQ(p.stats().finished_ms, 1'000'700);
}

TEST_F(PipelineTest, DeadLettersCarrySourceLineOffsetAndOriginal) {
  MemorySource source({event_line("a", kT0), "{\"id\":\"b\" oops"}, "feed-1");
  Pipeline& p = make(PipelineOptions{});
  EXPECT_TRUE(p.run(source, *decoder_));
  ASSERT_EQ(dead_letter_sink_.lines.size(), 1U);
  const std::string& dl = dead_letter_sink_.lines[0];
  EXPECT_EQ(dl.rfind(R"({"reason":"malformed_json","detail":")", 0), 0U) << dl;
  const std::string offset = std::to_string(event_line("a", kT0).size() + 1);
  EXPECT_NE(dl.find(R"("source":"feed-1","line":2,"offset":)" + offset +
                    R"(,"original":"{\"id\":\"b\" oops"})"),
            std::string::npos)
      << dl;
}

TEST_F(PipelineTest, EmptySourceFinishesWithNothing) {
  MemorySource source({});
  Pipeline& p = make(PipelineOptions{});
  EXPECT_TRUE(p.run(source, *decoder_));
  EXPECT_EQ(p.stats().read, 0U);
  EXPECT_TRUE(p.stats().conserved());
  EXPECT_TRUE(handler_.seen.empty());
  EXPECT_EQ(p.stats().max_event_time_ms, INT64_MIN);
}

}  // namespace
}  // namespace corridor::pipeline
