// The golden-test runner on files written to a scratch folder: malformed tests give located
// errors (never a crash, never a silent pass), and a failing case says what differed.
#include "rules/golden/golden.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace corridor::rules {
namespace {

namespace fs = std::filesystem;
using Lines = std::vector<std::string>;

const fs::path kPack = fs::path(CORRIDOR_SOURCE_DIR) / "tests/golden/fan_in.pack.yaml";

// Five new senders from three cities pay R1: the fan-in rule fires on e5.
const std::string kEvents = R"(    events:
      - {id: e1, ts: "2026-03-01T10:00:00Z", kind: remittance, amount: "450", currency: USD, sender: {id: S1, city: Dhaka}, receiver: {id: R1}}
      - {id: e2, ts: "2026-03-01T11:00:00Z", kind: remittance, amount: "500", currency: USD, sender: {id: S2, city: Sylhet}, receiver: {id: R1}}
      - {id: e3, ts: "2026-03-02T09:00:00Z", kind: transfer, amount: "700.50", currency: USD, sender: {id: S3, city: Khulna}, receiver: {id: R1}}
      - {id: e4, ts: "2026-03-03T09:00:00Z", kind: remittance, amount: "450", currency: USD, sender: {id: S4, city: Dhaka}, receiver: {id: R1}}
      - {id: e5, ts: "2026-03-04T09:00:00Z", kind: remittance, amount: "450", currency: USD, sender: {id: S5, city: Dhaka}, receiver: {id: R1}}
      - {id: e6, ts: "2026-03-10T09:00:00Z", kind: remittance, amount: "4200", currency: USD, sender: {id: S9, city: Dhaka}, receiver: {id: R1}}
)";

class GoldenTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / ("corridor-golden-" + std::to_string(::getpid()) + "-" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes t.test.yaml (packs: the fan-in pack, then `body`) and runs it.
  GoldenReport run(const std::string& body) {
    path_ = (dir_ / "t.test.yaml").string();
    std::ofstream(path_) << "packs: [" << kPack.string() << "]\n" << body;
    return run_golden_file(path_);
  }
  // The report's errors, without the file's path.
  Lines errors(const GoldenReport& r) const {
    Lines out;
    for (const auto& d : r.errors) {
      std::string line = d.format();
      if (line.starts_with(path_)) line = "t" + line.substr(path_.size());
      out.push_back(line);
    }
    return out;
  }
  Lines failures(const GoldenReport& r) const {
    Lines out;
    for (const std::string& f : r.failures) out.push_back(f.substr(path_.size() + 2));
    return out;
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(GoldenTest, ThePassingCasePasses) {
  const GoldenReport r = run("cases:\n  - name: c\n" + kEvents + R"(    signals:
      - {rule: sf.fan_in_unrelated_senders, entity: R1, trigger: e5, evidence: [e1, e2, e3, e4, e5]}
      - {rule: sf.one_big_payment, entity: R1, trigger: e6}
    alerts:
      - {typology: smuggling_fee, entity: R1, trigger: e6, rules: [sf.fan_in_unrelated_senders, sf.one_big_payment]}
)");
  EXPECT_TRUE(r.errors.empty()) << errors(r)[0];
  EXPECT_EQ(failures(r), Lines{});
  EXPECT_EQ(r.passed, 1u);
}

// Expected outputs of the wrong shape used to abort the runner, and unknown or missing keys
// used to pass silently.
TEST_F(GoldenTest, MalformedExpectationsAreLocatedErrors) {
  const GoldenReport r = run("cases:\n  - name: c\n" + kEvents + R"(    signals:
      - {rule: sf.fan_in_unrelated_senders, entity: R1, trigger: e5, valuez: {senders: "5"}}
      - sf.one_big_payment
      - {values: [senders, 5], evidence: {a: b}}
      - {rule: sf.no_such_rule, entity: [R1], trigger: e6}
    alerts: {typology: smuggling_fee}
)");
  EXPECT_EQ(errors(r),
            (Lines{
                "t:12:70: error: cases[0].signals[0]: unknown key 'valuez'; allowed: rule, "
                "entity, trigger, values, explanation, evidence, key, direction, severity",
                "t:13:9: error: cases[0].signals[1]: expected a mapping with keys rule, entity, "
                "trigger, values, explanation, evidence, key, direction, severity, got a scalar",
                "t:14:9: error: cases[0].signals[2]: missing required key 'rule'",
                "t:14:9: error: cases[0].signals[2]: missing required key 'entity'",
                "t:14:9: error: cases[0].signals[2]: missing required key 'trigger'",
                "t:14:18: error: cases[0].signals[2].values: expected a mapping, got a sequence",
                "t:14:42: error: cases[0].signals[2].evidence: expected a sequence, got a mapping",
                "t:15:16: error: cases[0].signals[3].rule: no rule 'sf.no_such_rule' in the packs",
                "t:15:41: error: cases[0].signals[3].entity: expected text, got a sequence",
                "t:16:13: error: cases[0].alerts: expected a sequence, got a mapping",
            }));
}

TEST_F(GoldenTest, EventsAreCheckedKeyByKeyAndEveryBadOneIsReported) {
  const GoldenReport r = run(R"(cases:
  - name: c
    events:
      - {id: e1, ts: "2026-03-01T10:00:00Z", kind: remittance, amount: "12,5", currency: USD, sender: {id: S1}, receiver: {id: R1}}
      - {id: e1, ts: "2026-03-01T11:00:00Z", kind: remittance, amout: "5", currency: USD, sender: {id: S2, town: X}, receiver: {id: R1}}
      - {id: e3, ts: "2026-02-30T09:00:00Z", kind: transfer, amount: "7", currency: USD, sender: {id: S3}, receiver: {id: R1}}
  - name: c
    events: []
)");
  EXPECT_EQ(errors(r),
            (Lines{
                // At the field the decoder rejects, not at the event.
                "t:5:72: error: cases[0].events[0]: not a valid event (bad_value: amount: "
                "\"12,5\" is not a decimal number)",
                "t:6:14: error: cases[0].events[1].id: 'e1' is also the id of events[0]; "
                "evidence and triggers name events by id, so each needs its own",
                "t:6:64: error: cases[0].events[1]: unknown key 'amout'; allowed: id, ts, kind, "
                "amount, currency, channel, agent, purpose, labels, sender, receiver",
                "t:6:108: error: cases[0].events[1].sender: unknown key 'town'; allowed: id, "
                "account, name, country, city, phone, device, ip, address, employer",
                "t:7:22: error: cases[0].events[2]: not a valid event (bad_timestamp: ts: "
                "\"2026-02-30T09:00:00Z\" is not an RFC 3339 date-time with a zone)",
                "t:8:11: error: cases[1].name: 'c' is also the name of cases[0]; a failure names "
                "its case",
                "t:9:13: error: cases[1].events: expected at least one event",
            }));
}

TEST_F(GoldenTest, EmptyTestsAndMissingPacksAreErrors) {
  EXPECT_EQ(errors(run("cases: []\n")), Lines{"t:2:8: error: cases: expected at least one case"});
  path_ = (dir_ / "u.test.yaml").string();
  std::ofstream(path_) << "packs: [nope.yaml, " << kPack.string() << "]\ncases: []\n";
  const GoldenReport r = run_golden_file(path_);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].format(), path_ + ":1:9: error: packs[0]: cannot read the rule pack " +
                                      (dir_ / "nope.yaml").string() +
                                      ": No such file or directory");
}

// One output too many is reported as that alone, not as a difference in every output after it.
// A replacing table is reported where the test names it: a table no pack declares, and a
// file that cannot be read, with the reason. A folder given as the test file is not read as
// an empty test.
TEST_F(GoldenTest, TableReplacementsAndUnreadableFilesAreReportedWhereNamed) {
  const GoldenReport r = run("tables:\n  fee_bands: bands.csv\ncases:\n  - name: c\n" + kEvents);
  EXPECT_EQ(errors(r), Lines{"t:3:14: error: tables.fee_bands: replaces table 'fee_bands', "
                             "which no pack of the load declares"});

  fs::create_directories(dir_ / "folder.test.yaml");
  const std::string folder = (dir_ / "folder.test.yaml").string();
  const GoldenReport f = run_golden_file(folder);
  ASSERT_EQ(f.errors.size(), 1u);
  EXPECT_EQ(f.errors[0].format(),
            folder + ":1:1: error: cannot read the test file: it is a directory");
}

TEST_F(GoldenTest, OutputsAreMatchedByIdentity) {
  const GoldenReport r = run("cases:\n  - name: c\n" + kEvents + R"(    signals:
      - {rule: sf.one_big_payment, entity: R1, trigger: e6}
    alerts:
      - {typology: smuggling_fee, entity: R1, trigger: e6, score: "90"}
      - {typology: smuggling_fee, entity: R2, trigger: e6}
)");
  EXPECT_EQ(failures(r),
            (Lines{
                "case 'c': unexpected signal 1 {rule: sf.fan_in_unrelated_senders, entity: R1, "
                "trigger: e5}",
                "case 'c': alert 1 {typology: smuggling_fee, entity: R1, trigger: e6, score: "
                "100}: score is '100', expected '90'",
                "case 'c': missing alert 2 {typology: smuggling_fee, entity: R2, trigger: e6}",
            }));
}

TEST_F(GoldenTest, ADifferentOrderAndWrongListsSayWhatWasExpected) {
  const GoldenReport r = run("cases:\n  - name: c\n" + kEvents + R"(    signals:
      - {rule: sf.one_big_payment, entity: R1, trigger: e6}
      - {rule: sf.fan_in_unrelated_senders, entity: R1, trigger: e5, evidence: [e1, e5]}
    alerts:
      - {typology: smuggling_fee, entity: R1, trigger: e6, rules: [sf.one_big_payment]}
)");
  EXPECT_EQ(failures(r),
            (Lines{
                "case 'c': signals in another order: produced [sf.fan_in_unrelated_senders@e5, "
                "sf.one_big_payment@e6], expected [sf.one_big_payment@e6, "
                "sf.fan_in_unrelated_senders@e5]",
                "case 'c': signal 1 {rule: sf.fan_in_unrelated_senders, entity: R1, trigger: "
                "e5}: evidence is [e1, e2, e3, e4, e5], expected [e1, e5]",
                "case 'c': alert 1 {typology: smuggling_fee, entity: R1, trigger: e6, score: "
                "100}: contributing rules are [sf.fan_in_unrelated_senders, sf.one_big_payment], "
                "expected [sf.one_big_payment]",
            }));
}

}  // namespace
}  // namespace corridor::rules
