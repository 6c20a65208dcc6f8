// Holds the NDJSON decoder to the hostile corpus in tests/data/hostile/: every case, read
// through the file connector and run through the pipeline with the real JSON decoder, must
// become exactly one dead letter with the reason expected.tsv gives it, and the dead letter
// must carry the original bytes back unchanged.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/file/ndjson_source.h"
#include "engine/event/dead_letter.h"
#include "engine/event/decoder.h"
#include "engine/event/json_text.h"
#include "engine/event/money.h"
#include "engine/event/schema.h"
#include "engine/pipeline/clock.h"
#include "engine/pipeline/dead_letter_writer.h"
#include "engine/pipeline/pipeline.h"
#include "engine/pipeline/sink.h"

namespace corridor {
namespace {

namespace fs = std::filesystem;

const fs::path kCorpus = fs::path(CORRIDOR_TEST_DATA) / "hostile";
constexpr std::string_view kGenerated = "generated:";
constexpr size_t kMiB = size_t{1} << 20;
// The file connector's hard line limit as connectors/registry.cc sets it for the default
// limits: max(4 * max_event_bytes, 1 MiB).
constexpr size_t kHardLimit = 4 * kMiB;

struct Case {
  std::string file;  // a file in kCorpus, or "generated:<name>"
  event::Reason reason = event::Reason::malformed_json;
  std::string what;

  bool generated() const { return std::string_view(file).starts_with(kGenerated); }
};

// GoogleTest prints a failing parameter with this instead of its bytes.
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.file << " (" << event::reason_name(c.reason) << ")";
}

bool parse_reason(std::string_view name, event::Reason& out) {
  for (event::Reason r : event::kAllReasons) {
    if (event::reason_name(r) == name) {
      out = r;
      return true;
    }
  }
  return false;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// expected.tsv: file<TAB>reason<TAB>what it tests. A malformed line becomes a case whose
// file names the problem, so the manifest test reports it instead of it vanishing.
std::vector<Case> load_manifest() {
  std::vector<Case> cases;
  std::istringstream in(read_bytes(kCorpus / "expected.tsv"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    Case c;
    const size_t tab1 = line.find('\t');
    const size_t tab2 = tab1 == std::string::npos ? tab1 : line.find('\t', tab1 + 1);
    if (tab2 == std::string::npos ||
        !parse_reason(std::string_view(line).substr(tab1 + 1, tab2 - tab1 - 1), c.reason)) {
      c.file = "bad manifest line: " + line;
      cases.push_back(std::move(c));
      continue;
    }
    c.file = line.substr(0, tab1);
    c.what = line.substr(tab2 + 1);
    cases.push_back(std::move(c));
  }
  return cases;
}

// The bytes of a generated case's file.
std::string generated_input(std::string_view name) {
  if (name == "1mib-string") {
    // A 1 MiB id in an otherwise valid transfer.
    return R"({"id":")" + std::string(kMiB, 'I') +
           R"(","ts":"2024-05-01T12:00:00Z","kind":"transfer","amount":10,"currency":"USD",)"
           R"("sender":{"id":"S1"},"receiver":{"id":"R1"}})"
           "\n";
  }
  if (name == "10mib-line") {
    // A 10 MiB note in an otherwise valid transfer: far past the reader's hard limit.
    return R"({"id":"h-10mib","ts":"2024-05-01T12:00:00Z","kind":"transfer","amount":10,)"
           R"("currency":"USD","sender":{"id":"S1"},"receiver":{"id":"R1"},"note":")" +
           std::string(10 * kMiB, 'n') + "\"}\n";
  }
  ADD_FAILURE() << "unknown generated case " << name;
  return {};
}

// The bytes a case's file holds.
std::string case_input(const Case& c) {
  if (c.generated()) return generated_input(std::string_view(c.file).substr(kGenerated.size()));
  return read_bytes(kCorpus / c.file);
}

// The record the line reader hands on for one line of input: without its line end (LF,
// and a CR before it), cut at the hard limit and flagged when longer.
struct ExpectedRecord {
  std::string bytes;
  bool truncated = false;
};

ExpectedRecord expected_record(std::string line) {
  if (!line.empty() && line.back() == '\n') line.pop_back();
  if (line.size() > kHardLimit) return {line.substr(0, kHardLimit), true};
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return {std::move(line), false};
}

// A scratch folder for generated inputs, removed with the object.
class TempDir {
 public:
  TempDir() {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    // The process id keeps concurrent runs (two build trees, ctest -j) apart.
    std::string name = "corridor-hostile-" + std::to_string(::getpid()) + "-";
    name += info != nullptr ? info->name() : "x";
    std::replace(name.begin(), name.end(), '/', '_');
    path_ = fs::temp_directory_path() / name;
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

class CapturingSink final : public pipeline::Sink {
 public:
  void write(std::string_view record, std::string_view /*key*/) override {
    lines.emplace_back(record);
  }
  void flush() override {}
  std::vector<std::string> lines;
};

class CollectingHandler final : public pipeline::EventHandler {
 public:
  void on_event(const event::Event& e, const pipeline::Record& /*record*/) override {
    ids.emplace_back(e.id);
  }
  std::vector<std::string> ids;
};

event::CurrencyTable rate_table() {
  event::CurrencyTable table(event::Currency{{'U', 'S', 'D'}});
  const std::pair<const char*, const char*> rates[] = {
      {"EUR", "1.08"}, {"MYR", "0.2125"}, {"BDT", "0.0091"}};
  for (const auto& [code, text] : rates) {
    event::Rate rate;
    EXPECT_EQ(event::parse_rate(text, rate), event::DecimalError::ok);
    table.set_rate(event::Currency{{code[0], code[1], code[2]}}, rate);
  }
  return table;
}

struct RunResult {
  pipeline::PipelineStats stats;
  std::vector<std::string> dead_letters;
  std::vector<std::string> ids;
};

RunResult run_pipeline(const fs::path& input, size_t batch_size = 4096) {
  const event::Schema schema = event::Schema::canonical();
  const event::CurrencyTable currencies = rate_table();
  const event::DecodeLimits limits;  // defaults: 1 MiB events, 4096-byte strings
  EXPECT_EQ(limits.max_event_bytes, kMiB);
  EXPECT_EQ(limits.max_string_bytes, 4096U);
  auto decoder = event::make_json_decoder(schema, currencies, limits);
  connectors::file::NdjsonSource source("hostile", input.string(), kHardLimit);
  CapturingSink sink;
  pipeline::DeadLetterWriter writer(sink);
  CollectingHandler handler;
  pipeline::ManualClock clock(1'714'564'800'000);
  pipeline::PipelineOptions options;
  options.batch_size = batch_size;
  pipeline::Pipeline p(handler, writer, clock, options);
  EXPECT_TRUE(p.run(source, *decoder));
  return {p.stats(), std::move(sink.lines), std::move(handler.ids)};
}

std::string base64_decode(std::string_view in, bool& ok) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  ok = in.size() % 4 == 0;
  for (size_t i = 0; ok && i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    const int pad = last ? (in[i + 3] == '=') + (in[i + 2] == '=') : 0;
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) {
      const int d = k >= 4 - static_cast<size_t>(pad) ? 0 : value(in[i + k]);
      if (d < 0) ok = false;
      v = v << 6 | static_cast<uint32_t>(std::max(d, 0));
    }
    out.push_back(static_cast<char>(v >> 16));
    if (pad < 2) out.push_back(static_cast<char>(v >> 8 & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(v & 0xFF));
  }
  return out;
}

// Checks one dead-letter line: valid JSON, the expected reason, a detail, and the original
// record recoverable byte for byte.
void check_dead_letter(const std::string& line, event::Reason reason,
                       const ExpectedRecord& expected, uint64_t line_number, uint64_t offset) {
  const std::string& record = expected.bytes;
  SCOPED_TRACE("dead letter: " + line.substr(0, 400));
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS) << "dead letter is not valid JSON";
  simdjson::dom::object obj;
  ASSERT_EQ(doc.get_object().get(obj), simdjson::SUCCESS);

  std::string_view got_reason;
  ASSERT_EQ(obj["reason"].get_string().get(got_reason), simdjson::SUCCESS);
  EXPECT_EQ(got_reason, event::reason_name(reason));
  std::string_view detail;
  ASSERT_EQ(obj["detail"].get_string().get(detail), simdjson::SUCCESS);
  EXPECT_FALSE(detail.empty()) << "a dead letter must say what is wrong";
  testing::Test::RecordProperty("detail", std::string(detail.substr(0, 200)));
  std::string_view source;
  ASSERT_EQ(obj["source"].get_string().get(source), simdjson::SUCCESS);
  EXPECT_EQ(source, "hostile");
  uint64_t got_line = 0;
  ASSERT_EQ(obj["line"].get_uint64().get(got_line), simdjson::SUCCESS);
  EXPECT_EQ(got_line, line_number);
  uint64_t got_offset = 0;
  ASSERT_EQ(obj["offset"].get_uint64().get(got_offset), simdjson::SUCCESS);
  EXPECT_EQ(got_offset, offset);
  bool got_truncated = false;
  if (obj["truncated"].get_bool().get(got_truncated) != simdjson::SUCCESS) got_truncated = false;
  EXPECT_EQ(got_truncated, expected.truncated);

  std::string_view original;
  std::string_view original_base64;
  const bool has_text = obj["original"].get_string().get(original) == simdjson::SUCCESS;
  const bool has_base64 =
      obj["original_base64"].get_string().get(original_base64) == simdjson::SUCCESS;
  ASSERT_NE(has_text, has_base64) << "exactly one of original and original_base64";
  if (has_text) {
    EXPECT_TRUE(original == record) << "\"original\" does not give back the input bytes";
  } else {
    EXPECT_FALSE(event::is_valid_utf8(record)) << "valid UTF-8 should go in \"original\"";
    bool ok = false;
    const std::string decoded = base64_decode(original_base64, ok);
    EXPECT_TRUE(ok) << "original_base64 is not base64";
    EXPECT_TRUE(decoded == record) << "\"original_base64\" does not give back the input bytes";
  }
}

// ---- one test per case ----

class HostileCase : public testing::TestWithParam<Case> {};

TEST_P(HostileCase, DeadLettersWithExpectedReasonAndOriginalBytes) {
  const Case& c = GetParam();
  SCOPED_TRACE(c.file + ": " + c.what);
  ASSERT_FALSE(std::string_view(c.file).starts_with("bad manifest line")) << c.file;
  TempDir tmp;
  fs::path path = kCorpus / c.file;
  const std::string input = case_input(c);
  if (c.generated()) {
    path = tmp.path() / "input.ndjson";
    write_bytes(path, input);
  }
  const RunResult run = run_pipeline(path);
  EXPECT_EQ(run.stats.read, 1U) << "one record per case file";
  EXPECT_EQ(run.stats.decoded, 0U) << "a hostile record was accepted as an event";
  EXPECT_EQ(run.stats.dead_lettered, 1U);
  EXPECT_TRUE(run.stats.conserved());
  for (event::Reason r : event::kAllReasons) {
    EXPECT_EQ(run.stats.by_reason[static_cast<size_t>(r)], r == c.reason ? 1U : 0U)
        << "count for " << event::reason_name(r);
  }
  ASSERT_EQ(run.dead_letters.size(), 1U);
  check_dead_letter(run.dead_letters[0], c.reason, expected_record(input), 1, 0);
}

std::string case_name(const testing::TestParamInfo<Case>& info) {
  std::string name = info.param.file;
  if (name.ends_with(".ndjson")) name.resize(name.size() - 7);
  for (char& ch : name) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))) {
      ch = '_';
    }
  }
  return name;  // file names are unique: the manifest test checks
}

// Suite names start with "hostile" so `ctest -R hostile` selects them all.
INSTANTIATE_TEST_SUITE_P(hostile_corpus, HostileCase, testing::ValuesIn(load_manifest()),
                         case_name);

// ---- the manifest and the folder agree ----

TEST(hostile_corpus, ManifestListsEveryFileAndEnoughCases) {
  const std::vector<Case> cases = load_manifest();
  EXPECT_GE(cases.size(), 45U);
  std::set<std::string> listed;
  bool with_newline = false;
  bool without_newline = false;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    EXPECT_TRUE(listed.insert(c.file).second) << "listed twice";
    EXPECT_FALSE(c.what.empty()) << "say what the case tests";
    EXPECT_NE(c.reason, event::Reason::late) << "late is not a decode reason";
    if (c.generated()) continue;
    const std::string_view f = c.file;
    EXPECT_TRUE(f.size() > 10 && f[0] >= '0' && f[0] <= '9' && f[1] >= '0' && f[1] <= '9' &&
                f[2] == '-' && f.ends_with(".ndjson"))
        << "expected NN-short-name.ndjson";
    ASSERT_TRUE(fs::is_regular_file(kCorpus / c.file)) << "listed but missing";
    const std::string bytes = read_bytes(kCorpus / c.file);
    const size_t newline = bytes.find('\n');
    EXPECT_TRUE(newline == std::string::npos || newline + 1 == bytes.size())
        << "a case file holds exactly one line";
    (bytes.ends_with('\n') ? with_newline : without_newline) = true;
  }
  EXPECT_TRUE(with_newline && without_newline) << "cover files with and without a final newline";
  EXPECT_TRUE(listed.contains("generated:1mib-string"));
  EXPECT_TRUE(listed.contains("generated:10mib-line"));
  for (const auto& entry : fs::directory_iterator(kCorpus)) {
    const std::string name = entry.path().filename().string();
    if (name == "expected.tsv") continue;
    EXPECT_TRUE(listed.contains(name))
        << name << " is in the corpus folder but not in expected.tsv";
  }
}

// ---- every case and 20 valid events in one input: nothing is lost ----

std::vector<std::string> valid_events() {
  static constexpr std::array<const char*, 7> kKinds{
      "transfer", "remittance", "cash_in", "cash_out", "salary", "fee", "card"};
  static constexpr std::array<const char*, 4> kCurrencies{"USD", "EUR", "MYR", "BDT"};
  static constexpr std::array<const char*, 4> kAmounts{"1250.5", "\"99.99\"", "1.5e3", "7"};
  std::vector<std::string> out;
  for (int i = 0; i < 20; ++i) {
    const std::string kind = kKinds[static_cast<size_t>(i) % kKinds.size()];
    const int64_t ts = 1'714'564'800'000 + int64_t{i} * 60'000;
    std::string e = "{\"id\":\"valid-" + std::to_string(i) + "\",\"ts\":";
    e += i % 2 == 0
             ? std::to_string(ts)
             : "\"2024-05-01T12:" + std::string(i < 10 ? "0" : "") + std::to_string(i) + ":00Z\"";
    e += ",\"kind\":\"" + kind + "\",\"amount\":" + kAmounts[static_cast<size_t>(i) % 4];
    e += ",\"currency\":\"" + std::string(kCurrencies[static_cast<size_t>(i) % 4]) + "\"";
    if (kind != "cash_in")
      e += ",\"sender\":{\"id\":\"S" + std::to_string(i) + "\",\"country\":\"MY\"}";
    if (kind != "cash_out") e += ",\"receiver\":{\"id\":\"R" + std::to_string(i) + "\"}";
    e += ",\"labels\":{\"scenario\":\"none\"}}";
    out.push_back(std::move(e));
  }
  return out;
}

TEST(hostile_corpus, ConservationWithAllCasesAndValidEventsInOneFile) {
  const std::vector<Case> cases = load_manifest();
  struct Item {
    std::string bytes;  // one line, newline-terminated
    bool valid = false;
    event::Reason reason = event::Reason::malformed_json;
    std::string label;
    uint64_t offset = 0;  // where the line starts in the combined file
  };
  std::vector<Item> items;
  std::array<uint64_t, event::kReasonCount> expected{};
  for (const Case& c : cases) {
    std::string bytes = case_input(c);
    if (!bytes.ends_with('\n')) bytes.push_back('\n');
    items.push_back({std::move(bytes), false, c.reason, c.file});
    ++expected[static_cast<size_t>(c.reason)];
  }
  std::set<std::string> valid_ids;
  for (std::string& e : valid_events()) {
    valid_ids.insert(e.substr(7, e.find('"', 7) - 7));
    items.push_back({e + "\n", true, event::Reason::malformed_json, e.substr(0, 20)});
  }
  // Fisher-Yates with a fixed linear congruential generator: the same order everywhere.
  uint64_t state = 0x5eed'c0ff'ee00'0001;
  for (size_t i = items.size() - 1; i > 0; --i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    std::swap(items[i], items[(state >> 33) % (i + 1)]);
  }
  TempDir tmp;
  const fs::path path = tmp.path() / "all.ndjson";
  {
    std::ofstream out(path, std::ios::binary);
    uint64_t offset = 0;
    for (Item& item : items) {
      item.offset = offset;
      offset += item.bytes.size();
      out.write(item.bytes.data(), static_cast<std::streamsize>(item.bytes.size()));
    }
  }
  // Small batches so records cross batch boundaries, the 10 MiB line among them.
  const RunResult run = run_pipeline(path, 7);
  EXPECT_EQ(run.stats.read, items.size());
  EXPECT_EQ(run.stats.read, run.stats.decoded + run.stats.dead_lettered);
  EXPECT_TRUE(run.stats.conserved());
  EXPECT_EQ(run.stats.decoded, 20U);
  EXPECT_EQ(run.stats.dead_lettered, cases.size());
  for (event::Reason r : event::kAllReasons) {
    EXPECT_EQ(run.stats.by_reason[static_cast<size_t>(r)], expected[static_cast<size_t>(r)])
        << "count for " << event::reason_name(r);
  }
  EXPECT_EQ(std::set<std::string>(run.ids.begin(), run.ids.end()), valid_ids);
  // Each dead letter names its line, and that line holds a case with the same reason and
  // the same bytes.
  ASSERT_EQ(run.dead_letters.size(), cases.size());
  std::set<uint64_t> lines;
  for (const std::string& dl : run.dead_letters) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(dl).get(doc), simdjson::SUCCESS);
    uint64_t line = 0;
    ASSERT_EQ(doc["line"].get_uint64().get(line), simdjson::SUCCESS);
    ASSERT_TRUE(line >= 1 && line <= items.size()) << line;
    EXPECT_TRUE(lines.insert(line).second) << "line " << line << " dead-lettered twice";
    const Item& item = items[line - 1];
    SCOPED_TRACE(item.label + " on line " + std::to_string(line));
    EXPECT_FALSE(item.valid) << "a valid event was dead-lettered";
    check_dead_letter(dl, item.reason, expected_record(item.bytes), line, item.offset);
  }
}

}  // namespace
}  // namespace corridor
