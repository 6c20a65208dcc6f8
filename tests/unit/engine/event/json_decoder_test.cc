// The simdjson decoder (engine/event/decoder.h): canonical feeds, schema mappings onto
// foreign shapes (ISO 20022 pacs.008 as JSON), JSON Pointer details and error recovery.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "engine/event/decoder.h"
#include "engine/event/timestamp.h"
#include "engine/pipeline/record.h"

namespace corridor::event {
namespace {

const Currency kUsd{{'U', 'S', 'D'}};
const Currency kEur{{'E', 'U', 'R'}};

int64_t ts(std::string_view rfc3339) {
  int64_t ms = 0;
  EXPECT_TRUE(parse_rfc3339(rfc3339, ms)) << rfc3339;
  return ms;
}

class JsonDecoderTest : public ::testing::Test {
 protected:
  JsonDecoderTest() : schema_(Schema::canonical()) {
    Rate r{};
    EXPECT_EQ(parse_rate("1.1", r), DecimalError::ok);
    currencies_.set_rate(kEur, r);
  }

  Decoder& decoder() {
    if (!decoder_) decoder_ = make_json_decoder(schema_, currencies_, limits_);
    return *decoder_;
  }

  // Decodes `json` as record `line`; the bytes are kept (with the padding the decoder may
  // read) for as long as the fixture lives, so the event's views stay valid.
  bool decode(std::string_view json, uint64_t line = 1, bool truncated = false) {
    std::string& buffer = buffers_.emplace_back(json);
    buffer.append(pipeline::kRecordPadding, '\0');
    pipeline::Record record;
    record.bytes = std::string_view(buffer.data(), json.size());
    record.line = line;
    record.truncated = truncated;
    error_ = {};
    return decoder().decode(record, event_, error_);
  }

  // As decode, with the padding after the record filled with `padding` (sources leave
  // whatever follows a record there: the next record, the rest of a Kafka buffer).
  bool decode_padded(std::string_view json, char padding) {
    std::string& buffer = buffers_.emplace_back(json);
    buffer.append(pipeline::kRecordPadding, padding);
    pipeline::Record record;
    record.bytes = std::string_view(buffer.data(), json.size());
    record.line = 1;
    error_ = {};
    return decoder().decode(record, event_, error_);
  }

  void expect_ok(std::string_view json) {
    EXPECT_TRUE(decode(json)) << reason_name(error_.reason) << ": " << error_.detail << "\n"
                              << json;
  }

  void expect_error(std::string_view json, Reason reason, std::string_view detail) {
    EXPECT_FALSE(decode(json)) << json;
    EXPECT_EQ(reason_name(error_.reason), reason_name(reason)) << json;
    EXPECT_EQ(error_.detail, detail) << json;
  }

  FieldRule& rule(Field f) { return schema_.fields[static_cast<size_t>(f)]; }

  Schema schema_;
  CurrencyTable currencies_;  // base USD, EUR at 1.1
  DecodeLimits limits_;
  std::unique_ptr<Decoder> decoder_;
  std::deque<std::string> buffers_;
  Event event_;
  DecodeError error_;
};

constexpr std::string_view kMinimal =
    R"({"id":"e-1","ts":"2024-05-01T12:00:00Z","kind":"transfer","amount":"10","currency":"USD",)"
    R"("sender":{"id":"s"},"receiver":{"id":"r"}})";

TEST_F(JsonDecoderTest, CanonicalFullEvent) {
  const std::string json =
      R"({"id":"evt-0001","ts":"2024-05-01T14:00:00.250+02:00","kind":"remittance",)"
      R"("amount":"250.75","currency":"EUR","channel":"mto","agent":"AG-7","purpose":"family",)"
      R"("sender":{"id":"s-1","account":"ACC-1","name":"Ana Ruiz","country":"MX","city":"Tijuana",)"
      R"("phone":"+52 664 000 0000","device":"dev-1","ip":"10.0.0.1","address":"Calle 1",)"
      R"("employer":"Maquila SA"},)"
      R"("receiver":{"id":"r-1","account":"ACC-2","name":"Luis Ruiz","country":"GT",)"
      R"("city":"Tecun Uman","phone":"+502 0000","device":"dev-2","ip":"10.0.0.2",)"
      R"("address":"Avenida 2","employer":"Finca Verde"},)"
      R"("labels":{"scenario": "smuggling_fee", "role":"payer","steps":[1, {"x":null}]}})";
  expect_ok(json);
  EXPECT_EQ(event_.id, "evt-0001");
  EXPECT_EQ(event_.ts_ms, ts("2024-05-01T12:00:00.250Z"));
  EXPECT_EQ(event_.kind, Kind::remittance);
  EXPECT_EQ(event_.amount, Money{2'507'500});
  EXPECT_EQ(event_.currency, kEur);
  EXPECT_EQ(event_.amount_base, Money{2'758'250});  // 275.825 USD
  EXPECT_EQ(event_.channel, "mto");
  EXPECT_EQ(event_.agent, "AG-7");
  EXPECT_EQ(event_.purpose, "family");
  EXPECT_EQ(event_.sender.id, "s-1");
  EXPECT_EQ(event_.sender.account, "ACC-1");
  EXPECT_EQ(event_.sender.name, "Ana Ruiz");
  EXPECT_EQ(event_.sender.country, "MX");
  EXPECT_EQ(event_.sender.city, "Tijuana");
  EXPECT_EQ(event_.sender.phone, "+52 664 000 0000");
  EXPECT_EQ(event_.sender.device, "dev-1");
  EXPECT_EQ(event_.sender.ip, "10.0.0.1");
  EXPECT_EQ(event_.sender.address, "Calle 1");
  EXPECT_EQ(event_.sender.employer, "Maquila SA");
  EXPECT_EQ(event_.receiver.id, "r-1");
  EXPECT_EQ(event_.receiver.account, "ACC-2");
  EXPECT_EQ(event_.receiver.name, "Luis Ruiz");
  EXPECT_EQ(event_.receiver.country, "GT");
  EXPECT_EQ(event_.receiver.city, "Tecun Uman");
  EXPECT_EQ(event_.receiver.phone, "+502 0000");
  EXPECT_EQ(event_.receiver.device, "dev-2");
  EXPECT_EQ(event_.receiver.ip, "10.0.0.2");
  EXPECT_EQ(event_.receiver.address, "Avenida 2");
  EXPECT_EQ(event_.receiver.employer, "Finca Verde");
  // Labels are kept verbatim, whitespace and all.
  EXPECT_EQ(event_.labels,
            R"({"scenario": "smuggling_fee", "role":"payer","steps":[1, {"x":null}]})");
  for (size_t i = 0; i < kFieldCount; ++i) {
    EXPECT_TRUE(event_.has(static_cast<Field>(i))) << field_name(static_cast<Field>(i));
  }
}

TEST_F(JsonDecoderTest, FieldOrderInTheDocumentDoesNotMatter) {
  expect_ok(R"({"receiver":{"id":"r"},"currency":"USD","labels":{},"amount":"10",)"
            R"("sender":{"city":"X","id":"s"},"kind":"fee","ts":"2024-05-01T12:00:00Z","id":"z"})");
  EXPECT_EQ(event_.id, "z");
  EXPECT_EQ(event_.kind, Kind::fee);
  EXPECT_EQ(event_.sender.id, "s");
  EXPECT_EQ(event_.sender.city, "X");
  EXPECT_EQ(event_.labels, "{}");
}

// The decoder starts each key's search where the key after the previous one was found in
// the last record. Orders that change from record to record, keys that come and go, unknown
// and escaped keys, and repeated keys must decode exactly as a fresh decoder would.
TEST_F(JsonDecoderTest, OrderLearnedFromEarlierRecordsNeverChangesTheResult) {
  const std::vector<std::string> records = {
      R"({"id":"a","ts":"2024-05-01T12:00:00Z","kind":"fee","amount":"1","currency":"USD",)"
      R"("sender":{"id":"s1","country":"MX","city":"c1"},"receiver":{"id":"r1"}})",
      R"({"receiver":{"city":"c2","id":"r2"},"sender":{"city":"c2s","id":"s2"},"x":1,)"
      R"("currency":"EUR","amount":"2","kind":"transfer","ts":"2024-05-02T12:00:00Z","id":"b"})",
      R"({"id":"c","purpose":"p","ts":"2024-05-03T12:00:00Z","kind":"fee","amount":"3",)"
      R"("currency":"USD","sender":{"id":"s3"},"receiver":{"id":"r3","country":"US"}})",
      R"({"id":"d","ts":"2024-05-04T12:00:00Z","kind":"fee","amount":"4","currency":"USD",)"
      R"("sender":{"id":"s4"},"receiver":{"id":"r4"},"purpose":"q","zzz":{"id":"no"}})",
      R"({"\u0069d":"e","ts":"2024-05-05T12:00:00Z","kind":"fee","amount":"5","currency":"USD",)"
      R"("sender":{"id":"s5"},"receiver":{"id":"r5"}})",
      R"({"id":"f","ts":"2024-05-06T12:00:00Z","id":"g","kind":"fee","amount":"6",)"
      R"("currency":"USD","sender":{"id":"s6"},"receiver":{"id":"r6"}})",
  };
  const auto summary = [this](bool ok) {
    if (!ok) return std::string(reason_name(error_.reason)) + ": " + error_.detail;
    return std::string(event_.id) + "|" + std::to_string(event_.ts_ms) + "|" +
           std::string(kind_name(event_.kind)) + "|" + std::to_string(event_.amount.units) + "|" +
           std::string(event_.currency.view()) + "|" + std::string(event_.purpose) + "|" +
           std::string(event_.sender.id) + "|" + std::string(event_.sender.country) + "|" +
           std::string(event_.sender.city) + "|" + std::string(event_.receiver.id) + "|" +
           std::string(event_.receiver.country) + "|" + std::string(event_.receiver.city) + "|" +
           std::to_string(event_.present);
  };
  std::vector<std::string> fresh;
  for (const std::string& r : records) {
    decoder_.reset();  // a new decoder has learned nothing
    fresh.push_back(summary(decode(r)));
  }
  EXPECT_EQ(fresh[5], "bad_value: id: appears more than once");
  decoder_.reset();
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < records.size(); ++i) {
      // Forward, then backward, then every other record.
      const size_t k = round == 1 ? records.size() - 1 - i : round == 2 ? (i * 2) % 7 % 6 : i;
      EXPECT_EQ(summary(decode(records[k])), fresh[k]) << "round " << round << ", record " << k;
    }
  }
}

// Keys longer than 16 bytes compare their first 16 bytes as words and the rest byte by byte;
// siblings may share those first 16 bytes.
TEST_F(JsonDecoderTest, LongKeysSharingTheirFirstSixteenBytes) {
  rule(Field::sender_id).pointer = {"counterparty_sender_identifier"};
  rule(Field::receiver_id).pointer = {"counterparty_sender_identifier_2"};
  rule(Field::sender_city).pointer = {"counterparty_sender"};
  const std::string head =
      R"({"id":"e","ts":"2024-05-01T12:00:00Z","kind":"transfer","amount":"1","currency":"USD",)";
  for (int i = 0; i < 2; ++i) {
    expect_ok(head + R"("counterparty_sender_identifier_2":"r","counterparty_sender":"c",)" +
              R"("counterparty_sender_identifier":"s","counterparty_sender_identifie":"no"})");
    EXPECT_EQ(event_.sender.id, "s");
    EXPECT_EQ(event_.receiver.id, "r");
    EXPECT_EQ(event_.sender.city, "c");
    expect_ok(
        head + R"("counterparty_sender":"c2","counterparty_sender_identifier":"s2",)" +
        R"("counterparty_sender_identifier_2":"r2","counterparty_sender_identifier_3":"no"})");
    EXPECT_EQ(event_.sender.id, "s2");
    EXPECT_EQ(event_.receiver.id, "r2");
    EXPECT_EQ(event_.sender.city, "c2");
  }
}

TEST_F(JsonDecoderTest, StringEscapesAreUnescaped) {
  expect_ok(R"({"id":"q\"b\\s\/","ts":"2024-05-01T12:00:00Z","kind":"transfer","amount":"1",)"
            R"("currency":"USD","sender":{"id":"s","name":"Jos\u00e9 \"Pepe\" Ram\u00EDrez",)"
            R"("city":"tab\there\nnew"},"receiver":{"id":"r","name":"smile \ud83d\ude00 ok",)"
            R"("city":"S\u00e3o Paulo"}})");
  EXPECT_EQ(event_.id, "q\"b\\s/");
  EXPECT_EQ(event_.sender.name, "Jos\xC3\xA9 \"Pepe\" Ram\xC3\xADrez");
  EXPECT_EQ(event_.sender.city, "tab\there\nnew");
  EXPECT_EQ(event_.receiver.name, "smile \xF0\x9F\x98\x80 ok");  // U+1F600 from a surrogate pair
  EXPECT_EQ(event_.receiver.city, "S\xC3\xA3o Paulo");
}

TEST_F(JsonDecoderTest, RawUtf8PassesThrough) {
  expect_ok(R"({"id":"e","ts":"2024-05-01T12:00:00Z","kind":"transfer","amount":"1",)"
            R"("currency":"USD","sender":{"id":"Ñandú 😀"},"receiver":{"id":"r"}})");
  EXPECT_EQ(event_.sender.id, "Ñandú 😀");
}

TEST_F(JsonDecoderTest, EscapedKeysMatch) {
  // "\u0069d" is "id" once unescaped.
  expect_ok(R"({"\u0069d":"e","ts":"2024-05-01T12:00:00Z","kind":"transfer","amount":"1",)"
            R"("currency":"USD","sender":{"id":"s"},"receiver":{"id":"r"}})");
  EXPECT_EQ(event_.id, "e");
}

TEST_F(JsonDecoderTest, NumberTsIsEpochMillis) {
  expect_ok(R"({"id":"e","ts":1714564800250,"kind":"transfer","amount":"1","currency":"USD",)"
            R"("sender":{"id":"s"},"receiver":{"id":"r"}})");
  EXPECT_EQ(event_.ts_ms, 1'714'564'800'250);
  expect_ok(R"({"id":"e","ts":1714564800250 ,"kind":"transfer","amount":"1","currency":"USD",)"
            R"("sender":{"id":"s"},"receiver":{"id":"r"}})");
  EXPECT_EQ(event_.ts_ms, 1'714'564'800'250);
  expect_error(R"({"id":"e","ts":1.7145648e12,"kind":"transfer","amount":"1","currency":"USD",)"
               R"("sender":{"id":"s"},"receiver":{"id":"r"}})",
               Reason::bad_timestamp,
               "ts: \"1.7145648e12\" is not an integer (epoch milliseconds expected)");
}

TEST_F(JsonDecoderTest, AmountAsNumberAndAsDecimalString) {
  const std::string head = R"({"id":"e","ts":"2024-05-01T12:00:00Z","kind":"transfer","amount":)";
  const std::string tail = R"(,"currency":"USD","sender":{"id":"s"},"receiver":{"id":"r"}})";
  expect_ok(head + "1250.5" + tail);
  EXPECT_EQ(event_.amount, Money{12'505'000});
  expect_ok(head + "\"1250.5\"" + tail);
  EXPECT_EQ(event_.amount, Money{12'505'000});
  expect_ok(head + "1.25e3" + tail);
  EXPECT_EQ(event_.amount, Money{12'500'000});
  expect_ok(head + "  0.0001\t" + tail);
  EXPECT_EQ(event_.amount, Money{1});
  // A number that binary floating point cannot hold exactly stays exact.
  expect_ok(head + "12345678901.2345" + tail);
  EXPECT_EQ(event_.amount, Money{123'456'789'012'345});
  expect_error(head + "0.00001" + tail, Reason::bad_value,
               "amount: \"0.00001\" has more than 4 decimal places");
  expect_error(head + "-5" + tail, Reason::bad_value, "amount: \"-5\" is not greater than 0");
  expect_error(head + "true" + tail, Reason::bad_type,
               "amount: expected number or decimal string, got boolean");
  expect_error(head + "[1]" + tail, Reason::bad_type,
               "amount: expected number or decimal string, got array");
  expect_error(head + "{\"v\":1}" + tail, Reason::bad_type,
               "amount: expected number or decimal string, got object");
}

TEST_F(JsonDecoderTest, UnknownFieldsAreSkipped) {
  expect_ok(R"({"version":3,"id":"e","meta":{"deep":[1,{"id":"not me"},[[]]],"s":"}"},)"
            R"("ts":"2024-05-01T12:00:00Z","kind":"transfer","flag":true,"nothing":null,)"
            R"("amount":"1","currency":"USD","sender":{"id":"s","bank":{"bic":"X"}},)"
            R"("receiver":{"extra":[1,2,3],"id":"r"},"amount_base":"999"})");
  EXPECT_EQ(event_.id, "e");
  EXPECT_EQ(event_.sender.id, "s");
  EXPECT_EQ(event_.receiver.id, "r");
  EXPECT_EQ(event_.amount_base, Money{10'000});  // computed, never read from the input
}

TEST_F(JsonDecoderTest, NullIsAbsent) {
  expect_ok(R"({"id":"e","ts":"2024-05-01T12:00:00Z","kind":"cash_in","amount":"1",)"
            R"("currency":"USD","channel":null,"sender":null,"receiver":{"id":"r","name":null},)"
            R"("labels":null})");
  EXPECT_FALSE(event_.has(Field::channel));
  EXPECT_FALSE(event_.has(Field::sender_id));
  EXPECT_FALSE(event_.has(Field::receiver_name));
  EXPECT_FALSE(event_.has(Field::labels));
  expect_error(R"({"id":null,"ts":"2024-05-01T12:00:00Z","kind":"transfer","amount":"1",)"
               R"("currency":"USD","sender":{"id":"s"},"receiver":{"id":"r"}})",
               Reason::missing_field, "id: required");
  expect_error(R"({"id":"e","ts":"2024-05-01T12:00:00Z","kind":"transfer","amount":"1",)"
               R"("currency":"USD","sender":null,"receiver":{"id":"r"}})",
               Reason::missing_field, "sender.id: required for kind transfer");
  rule(Field::channel).default_value = "bank";
  decoder_.reset();
  expect_ok(R"({"id":"e","ts":"2024-05-01T12:00:00Z","kind":"transfer","amount":"1",)"
            R"("currency":"USD","channel":null,"sender":{"id":"s"},"receiver":{"id":"r"}})");
  EXPECT_EQ(event_.channel, "bank");
}

TEST_F(JsonDecoderTest, DuplicateKeysAreBadValue) {
  expect_error(R"({"id":"a","id":"b","ts":"2024-05-01T12:00:00Z","kind":"transfer","amount":"1",)"
               R"("currency":"USD","sender":{"id":"s"},"receiver":{"id":"r"}})",
               Reason::bad_value, "id: appears more than once");
  expect_error(R"({"id":"a","ts":"2024-05-01T12:00:00Z","kind":"transfer","amount":"1",)"
               R"("currency":"USD","sender":{"id":"s"},"sender":{"id":"t"},"receiver":{"id":"r"}})",
               Reason::bad_value, "sender.id: appears more than once");
}

TEST_F(JsonDecoderTest, WrongTypesOfLeafValues) {
  expect_error(R"({"id":7,"ts":"2024-05-01T12:00:00Z"})", Reason::bad_type,
               "id: expected string, got number");
  expect_error(R"({"id":"e","sender":{"name":["a"]}})", Reason::bad_type,
               "sender.name: expected string, got array");
  expect_error(R"({"id":"e","channel":{"a":1}})", Reason::bad_type,
               "channel: expected string, got object");
  expect_error(R"({"id":"e","ts":false})", Reason::bad_type,
               "ts: expected RFC 3339 string or epoch milliseconds, got boolean");
  expect_error(R"({"id":"e","labels":"role=x"})", Reason::bad_type,
               "labels: expected object, got string");
  expect_error(R"({"id":"e","labels":[]})", Reason::bad_type, "labels: expected object, got array");
}

TEST_F(JsonDecoderTest, InteriorValueOfTheWrongTypeNamesThePointer) {
  expect_error(R"({"id":"e","sender":"alice"})", Reason::bad_type,
               "/sender: expected object, got string");
  expect_error(R"({"id":"e","receiver":42})", Reason::bad_type,
               "/receiver: expected object, got number");
  expect_error(R"({"id":"e","receiver":true})", Reason::bad_type,
               "/receiver: expected object, got boolean");
}

TEST_F(JsonDecoderTest, RecordsThatAreNotJsonObjects) {
  expect_error("[1,2]", Reason::bad_type, "expected a JSON object, got array");
  expect_error("\"text\"", Reason::bad_type, "expected a JSON object, got string");
  expect_error("42", Reason::bad_type, "expected a JSON object, got number");
  expect_error("null", Reason::bad_type, "expected a JSON object, got null");
  for (const char* bad : {"", "   ", "{", "{\"id\":}", "{\"id\":\"e\",}", "{\"id\" \"e\"}",
                          "{\"id\":\"unterminated}", "not json"}) {
    EXPECT_FALSE(decode(bad)) << bad;
    EXPECT_EQ(reason_name(error_.reason), "malformed_json") << bad;
    EXPECT_FALSE(error_.detail.empty()) << bad;
  }
}

TEST_F(JsonDecoderTest, ContentAfterTheObjectIsMalformed) {
  expect_error(std::string(kMinimal) + " {}", Reason::malformed_json,
               "content after the JSON object");
  EXPECT_FALSE(decode(std::string(kMinimal) + "x"));
  EXPECT_EQ(error_.reason, Reason::malformed_json);
  // Trailing whitespace is fine.
  expect_ok(std::string(kMinimal) + "  \t");
}

TEST_F(JsonDecoderTest, UnclosedRecordsAreMalformedWhateverFollowsThem) {
  // The decoder never reads structure from the padding, even where it would close the record.
  const std::string full(kMinimal);
  for (const char padding : {'}', ',', ']', '"', ':', '{', '0', 'n', ' ', '\0'}) {
    for (const std::string& record :
         {full.substr(0, full.size() - 1), full.substr(0, full.size() - 2),
          full.substr(0, full.find(R"("receiver")") - 1), std::string(R"({"id":"e")"),
          std::string(R"({"id":)"), std::string(R"({"id":1)"), std::string(R"({"x":[1,2)")}) {
      EXPECT_FALSE(decode_padded(record, padding)) << record << " + " << padding;
      EXPECT_EQ(error_.reason, Reason::malformed_json) << record << " + " << padding;
    }
    EXPECT_TRUE(decode_padded(full, padding)) << error_.detail;
    EXPECT_EQ(event_.receiver.id, "r");
  }
}

// The common record takes a fast walk over stage 1's structural indexes; whatever it declines
// goes through the general walk. Both must reach the same result: these records are accepted
// but take the general walk.
TEST_F(JsonDecoderTest, RecordsOutsideTheFastWalkDecodeTheSame) {
  const std::string head = R"({"id":"e","ts":"2024-05-01T12:00:00Z","kind":"transfer",)";
  const std::string tail =
      R"("amount":"1","currency":"USD","sender":{"id":"s"},"receiver":{"id":"r"}})";
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "[";
  for (int i = 0; i < 100; ++i) deep += "]";
  for (const std::string& middle : {
           std::string(R"("note":"a\"b\u00e9",)"),          // escapes in an unmapped string
           std::string(R"("n\u006fte":1,)"),                // an escaped unmapped key
           std::string(R"("meta":{"k\"":[{"v":"\n"}]},)"),  // escapes deep in unmapped values
           std::string(R"("deep":)") + deep + ",",          // deeper than the fast walk goes
           std::string(R"("labels":{"tier":"gold","n":[1,2]},)"),  // labels keep their JSON text
       }) {
    expect_ok(head + middle + tail);
    EXPECT_EQ(event_.id, "e") << middle;
    EXPECT_EQ(event_.amount, Money{10'000}) << middle;
    EXPECT_EQ(event_.sender.id, "s") << middle;
    EXPECT_EQ(event_.receiver.id, "r") << middle;
  }
  EXPECT_EQ(event_.labels, R"({"tier":"gold","n":[1,2]})");
  // And the values the fast walk reads itself, next to them, come out the same.
  expect_ok(R"({"id":"e\"1","ts":1714564800250,"kind":"transfer","amount":12.5,"currency":"USD",)"
            R"("channel":null,"flag":false,"x":[true,{"a":null},-0.5e3,""],"sender":{"id":"s"},)"
            R"("receiver":{"id":"r","city":"S\u00e3o"}})");
  EXPECT_EQ(event_.id, "e\"1");
  EXPECT_EQ(event_.ts_ms, 1'714'564'800'250);
  EXPECT_EQ(event_.amount, Money{125'000});
  EXPECT_FALSE(event_.has(Field::channel));
  EXPECT_EQ(event_.receiver.city, "S\xC3\xA3o");
}

TEST_F(JsonDecoderTest, InvalidUtf8IsMalformed) {
  EXPECT_FALSE(decode("{\"id\":\"\xC3\x28\",\"ts\":\"2024-05-01T12:00:00Z\"}"));
  EXPECT_EQ(error_.reason, Reason::malformed_json);
}

TEST_F(JsonDecoderTest, RecordsBeyondTheLimitsAreTooLarge) {
  limits_.max_event_bytes = 64;
  std::string big = std::string(kMinimal);
  ASSERT_GT(big.size(), 64U);
  expect_error(big, Reason::too_large,
               "record of " + std::to_string(big.size()) + " bytes exceeds the limit of 64");
  EXPECT_FALSE(decode(std::string_view(big).substr(0, 40), 1, /*truncated=*/true));
  EXPECT_EQ(error_.reason, Reason::too_large);
  EXPECT_EQ(error_.detail, "record of more than 40 bytes exceeds the limit of 64");
  limits_.max_event_bytes = 1 << 20;
  limits_.max_string_bytes = 3;
  // ts is parsed, not stored as text; the first string over the limit is kind.
  expect_error(kMinimal, Reason::too_large, "kind: 8 bytes, limit 3");
}

// --- JSON Pointer details -----------------------------------------------------------------

TEST_F(JsonDecoderTest, PointerTokensWithEscapedSlashAndTilde) {
  // RFC 6901: "/a~1b/c~0d" addresses key "a/b", then key "c~d". Schemas hold unescaped tokens.
  rule(Field::sender_id).pointer = {"a/b", "c~d"};
  expect_ok(R"({"id":"e","ts":"2024-05-01T12:00:00Z","kind":"transfer","amount":"1",)"
            R"("currency":"USD","a/b":{"c~d":"slash-tilde","c":"no"},"a":{"b":"no"},)"
            R"("receiver":{"id":"r"}})");
  EXPECT_EQ(event_.sender.id, "slash-tilde");
  // Messages print the pointer escaped again.
  expect_error(R"({"id":"e","a/b":"flat"})", Reason::bad_type,
               "/a~1b: expected object, got string");
  // The original /sender/id is no longer mapped.
  expect_error(R"({"id":"e","ts":"2024-05-01T12:00:00Z","kind":"transfer","amount":"1",)"
               R"("currency":"USD","sender":{"id":"s"},"receiver":{"id":"r"}})",
               Reason::missing_field, "sender.id: required for kind transfer");
}

TEST_F(JsonDecoderTest, ArrayIndexPointer) {
  rule(Field::sender_id).pointer = {"parties", "0", "id"};
  rule(Field::receiver_id).pointer = {"parties", "2", "id"};
  const std::string head =
      R"({"id":"e","ts":"2024-05-01T12:00:00Z","kind":"transfer","amount":"1","currency":"USD",)";
  expect_ok(head + R"("parties":[{"id":"first"},{"id":"second"},{"id":"third"},{"id":"fourth"}]})");
  EXPECT_EQ(event_.sender.id, "first");
  EXPECT_EQ(event_.receiver.id, "third");
  // An index past the end is absent.
  expect_error(head + R"("parties":[{"id":"first"},{"id":"second"}]})", Reason::missing_field,
               "receiver.id: required for kind transfer");
  // Elements of other shapes before the wanted ones are skipped.
  expect_ok(head + R"("parties":[{"id":"a"},"junk",{"id":"c"}]})");
  EXPECT_EQ(event_.receiver.id, "c");
  // A wrong-type element on the path names the pointer up to it.
  expect_error(head + R"("parties":[{"id":"a"},{},"x"]})", Reason::bad_type,
               "/parties/2: expected object, got string");
}

TEST_F(JsonDecoderTest, ArrayIndexTokenOnAnObjectIsAKey) {
  rule(Field::sender_id).pointer = {"parties", "0", "id"};
  expect_ok(R"({"id":"e","ts":"2024-05-01T12:00:00Z","kind":"transfer","amount":"1",)"
            R"("currency":"USD","parties":{"1":{"id":"no"},"0":{"id":"key-zero"}},)"
            R"("receiver":{"id":"r"}})");
  EXPECT_EQ(event_.sender.id, "key-zero");
}

TEST_F(JsonDecoderTest, IndexTokensWithLeadingZerosAreNotIndices) {
  rule(Field::sender_id).pointer = {"parties", "01"};
  expect_error(R"({"id":"e","ts":"2024-05-01T12:00:00Z","kind":"transfer","amount":"1",)"
               R"("currency":"USD","parties":["a","b"],"receiver":{"id":"r"}})",
               Reason::bad_type, "/parties: expected object, got array");
}

// --- decoder reuse ------------------------------------------------------------------------

TEST_F(JsonDecoderTest, ManyEventsInARowWithOneDecoder) {
  Decoder& d = decoder();
  for (int i = 0; i < 2000; ++i) {
    const std::string json =
        R"({"id":"evt-)" + std::to_string(i) + R"(","ts":)" +
        std::to_string(1'714'564'800'000 + i) + R"(,"kind":")" + (i % 2 == 0 ? "transfer" : "fee") +
        R"(","amount":")" + std::to_string(i + 1) + R"(.5","currency":")" +
        (i % 3 == 0 ? "EUR" : "USD") + R"(","sender":{"id":"s)" + std::to_string(i % 17) +
        R"(","name":"N\u00e9)" + std::to_string(i) + R"("},"receiver":{"id":"r"}})";
    ASSERT_TRUE(decode(json, static_cast<uint64_t>(i + 1))) << i << ": " << error_.detail;
    ASSERT_EQ(&decoder(), &d);
    EXPECT_EQ(event_.id, "evt-" + std::to_string(i));
    EXPECT_EQ(event_.ts_ms, 1'714'564'800'000 + i);
    EXPECT_EQ(event_.kind, i % 2 == 0 ? Kind::transfer : Kind::fee);
    EXPECT_EQ(event_.amount.units, (static_cast<int64_t>(i) + 1) * 10'000 + 5'000);
    EXPECT_EQ(event_.currency, i % 3 == 0 ? kEur : kUsd);
    EXPECT_EQ(event_.sender.id, "s" + std::to_string(i % 17));
    EXPECT_EQ(event_.sender.name, "N\xC3\xA9" + std::to_string(i));
  }
}

TEST_F(JsonDecoderTest, StaysUsableAfterErrors) {
  const std::vector<std::pair<std::string, bool>> inputs = {
      {std::string(kMinimal), true},
      {"{\"id\":", false},
      {std::string(kMinimal), true},
      {R"({"id":"e","sender":"flat","receiver":{"id":"r"}})", false},
      {std::string(kMinimal), true},
      {R"({"id":"e","sender":{"id":"s","name":{"deep":[1,2,{"x":3}]}},"more":1})", false},
      {std::string(kMinimal), true},
      {"\xFF\xFE", false},
      {std::string(kMinimal), true},
      {R"({"id":"e","ts":"2024-05-01T12:00:00Z","kind":"transfer","amount":"1","currency":"USD"} [)",
       false},
      {std::string(kMinimal), true},
      {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", false},
      {std::string(kMinimal), true},
  };
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto& [json, ok] = inputs[i];
    EXPECT_EQ(decode(json, i + 1), ok) << i << ": " << json << " -> " << error_.detail;
    if (ok) {
      EXPECT_EQ(event_.id, "e-1");
      EXPECT_EQ(event_.sender.id, "s");
      EXPECT_EQ(event_.amount, Money{100'000});
    }
  }
}

// --- a foreign feed: ISO 20022 pacs.008 rendered as JSON -----------------------------------

class Pacs008Test : public JsonDecoderTest {
 protected:
  Pacs008Test() {
    schema_ = Schema{};
    schema_.name = "pacs008";
    const std::vector<std::string> tx = {"FIToFICstmrCdtTrf", "CdtTrfTxInf", "0"};
    auto at = [&](Field f, std::vector<std::string> rest, bool from_tx = true) {
      std::vector<std::string> p = from_tx ? tx : std::vector<std::string>{"FIToFICstmrCdtTrf"};
      p.insert(p.end(), rest.begin(), rest.end());
      rule(f).pointer = std::move(p);
      rule(f).mapped = true;
    };
    at(Field::ts, {"GrpHdr", "CreDtTm"}, false);
    at(Field::id, {"PmtId", "EndToEndId"});
    at(Field::amount, {"IntrBkSttlmAmt", "value"});
    at(Field::currency, {"IntrBkSttlmAmt", "Ccy"});
    at(Field::sender_name, {"Dbtr", "Nm"});
    at(Field::sender_country, {"Dbtr", "PstlAdr", "Ctry"});
    at(Field::sender_id, {"DbtrAcct", "Id", "IBAN"});
    at(Field::agent, {"DbtrAgt", "FinInstnId", "BICFI"});
    at(Field::receiver_name, {"Cdtr", "Nm"});
    at(Field::receiver_country, {"Cdtr", "PstlAdr", "Ctry"});
    at(Field::receiver_id, {"CdtrAcct", "Id", "IBAN"});
    at(Field::kind, {"Purp", "Cd"});
    rule(Field::kind).value_map = {{"SALA", "salary"}};
    rule(Field::kind).default_value = "transfer";
    rule(Field::channel).default_value = "bank";
  }

  static std::vector<std::string> sample_lines() {
    std::ifstream in(std::string(CORRIDOR_TEST_DATA) + "/pacs008/sample.ndjson");
    EXPECT_TRUE(in.good()) << "cannot open tests/data/pacs008/sample.ndjson";
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
};

constexpr std::string_view kPacs008 = R"({"FIToFICstmrCdtTrf":{
  "GrpHdr":{"MsgId":"M-1","CreDtTm":"2024-05-01T09:30:00+02:00","NbOfTxs":"1"},
  "CdtTrfTxInf":[{
    "PmtId":{"InstrId":"I-1","EndToEndId":"E2E-1"},
    "IntrBkSttlmAmt":{"Ccy":"EUR","value":"1500.00"},
    "Dbtr":{"Nm":"Agropecuaria del Sur SL","PstlAdr":{"TwnNm":"Almeria","Ctry":"ES"}},
    "DbtrAcct":{"Id":{"IBAN":"ES9121000418450200051332"}},
    "DbtrAgt":{"FinInstnId":{"BICFI":"CAIXESBBXXX"}},
    "Cdtr":{"Nm":"Ion Popescu","PstlAdr":{"Ctry":"RO"}},
    "CdtrAcct":{"Id":{"IBAN":"RO49AAAA1B31007593840000"}},
    "Purp":{"Cd":"SALA"}}]}})";

TEST_F(Pacs008Test, DecodesAPacs008CreditTransfer) {
  expect_ok(kPacs008);
  EXPECT_EQ(event_.id, "E2E-1");
  EXPECT_EQ(event_.ts_ms, ts("2024-05-01T07:30:00Z"));
  EXPECT_EQ(event_.kind, Kind::salary);
  EXPECT_EQ(event_.amount, Money{15'000'000});
  EXPECT_EQ(event_.currency, kEur);
  EXPECT_EQ(event_.amount_base, Money{16'500'000});
  EXPECT_EQ(event_.channel, "bank");
  EXPECT_EQ(event_.agent, "CAIXESBBXXX");
  EXPECT_EQ(event_.sender.id, "ES9121000418450200051332");
  EXPECT_EQ(event_.sender.name, "Agropecuaria del Sur SL");
  EXPECT_EQ(event_.sender.country, "ES");
  EXPECT_EQ(event_.receiver.id, "RO49AAAA1B31007593840000");
  EXPECT_EQ(event_.receiver.name, "Ion Popescu");
  EXPECT_EQ(event_.receiver.country, "RO");
  EXPECT_FALSE(event_.has(Field::sender_city));
  EXPECT_FALSE(event_.has(Field::purpose));
  EXPECT_FALSE(event_.has(Field::labels));
}

TEST_F(Pacs008Test, ReorderedKeysDecodeTheSame) {
  // Amount before currency, creditor before debtor, transactions before the group header.
  expect_ok(R"({"FIToFICstmrCdtTrf":{"CdtTrfTxInf":[{"Purp":{"Cd":"SALA"},)"
            R"("CdtrAcct":{"Id":{"IBAN":"RO49"}},"Cdtr":{"PstlAdr":{"Ctry":"RO"},"Nm":"Ion"},)"
            R"("IntrBkSttlmAmt":{"value":"1500.00","Ccy":"EUR"},"DbtrAcct":{"Id":{"IBAN":"ES91"}},)"
            R"("PmtId":{"EndToEndId":"E2E-1"}}],"GrpHdr":{"CreDtTm":"2024-05-01T07:30:00Z"}}})");
  EXPECT_EQ(event_.id, "E2E-1");
  EXPECT_EQ(event_.amount, Money{15'000'000});
  EXPECT_EQ(event_.currency, kEur);
  EXPECT_EQ(event_.receiver.name, "Ion");
  EXPECT_EQ(event_.receiver.country, "RO");
  EXPECT_EQ(event_.kind, Kind::salary);
}

TEST_F(Pacs008Test, MissingPurposeDefaultsToTransfer) {
  std::string json(kPacs008);
  const std::string purp = R"(,
    "Purp":{"Cd":"SALA"})";
  ASSERT_NE(json.find(purp), std::string::npos);
  json.erase(json.find(purp), purp.size());
  expect_ok(json);
  EXPECT_EQ(event_.kind, Kind::transfer);
}

TEST_F(Pacs008Test, UnmappedPurposeCodeIsBadValue) {
  std::string json(kPacs008);
  json.replace(json.find("\"SALA\""), 6, "\"GDDS\"");
  expect_error(json, Reason::bad_value,
               "kind: \"GDDS\" is not one of transfer, remittance, cash_in, cash_out, salary, "
               "fee, card");
}

TEST_F(Pacs008Test, OnlyTheFirstTransactionIsRead) {
  expect_ok(R"({"FIToFICstmrCdtTrf":{"GrpHdr":{"CreDtTm":"2024-05-01T07:30:00Z"},"CdtTrfTxInf":[)"
            R"({"PmtId":{"EndToEndId":"first"},"IntrBkSttlmAmt":{"Ccy":"USD","value":"1"},)"
            R"("DbtrAcct":{"Id":{"IBAN":"A"}},"CdtrAcct":{"Id":{"IBAN":"B"}}},)"
            R"({"PmtId":{"EndToEndId":"second"},"IntrBkSttlmAmt":{"Ccy":"USD","value":"2"}}]}})");
  EXPECT_EQ(event_.id, "first");
  EXPECT_EQ(event_.amount, Money{10'000});
}

TEST_F(Pacs008Test, PointerThroughAValueOfTheWrongType) {
  std::string json(kPacs008);
  const std::string dbtr =
      R"("Dbtr":{"Nm":"Agropecuaria del Sur SL","PstlAdr":{"TwnNm":"Almeria","Ctry":"ES"}})";
  ASSERT_NE(json.find(dbtr), std::string::npos);
  json.replace(json.find(dbtr), dbtr.size(), R"("Dbtr":"Agropecuaria del Sur SL")");
  expect_error(json, Reason::bad_type,
               "/FIToFICstmrCdtTrf/CdtTrfTxInf/0/Dbtr: expected object, got string");
  // CdtTrfTxInf given as one object instead of an array: "0" is then a key it lacks, so the
  // transaction's fields are absent.
  expect_error(R"({"FIToFICstmrCdtTrf":{"GrpHdr":{"CreDtTm":"2024-05-01T07:30:00Z"},)"
               R"("CdtTrfTxInf":{"PmtId":{"EndToEndId":"x"}}}})",
               Reason::missing_field, "id: required");
  expect_error(R"({"FIToFICstmrCdtTrf":{"GrpHdr":"2024-05-01T07:30:00Z"}})", Reason::bad_type,
               "/FIToFICstmrCdtTrf/GrpHdr: expected object, got string");
  // An array where the pointers name keys is the wrong type, not an absent branch.
  expect_error(R"({"FIToFICstmrCdtTrf":[]})", Reason::bad_type,
               "/FIToFICstmrCdtTrf: expected object, got array");
}

TEST_F(Pacs008Test, CanonicalFieldsAreNotReadUnderThisSchema) {
  expect_error(kMinimal, Reason::missing_field, "id: required");
}

TEST_F(Pacs008Test, SampleFileDecodes) {
  const std::vector<std::string> lines = sample_lines();
  ASSERT_EQ(lines.size(), 3U);
  std::vector<std::string> ids, kinds, senders, receivers, amounts, currencies, times, countries;
  for (size_t i = 0; i < lines.size(); ++i) {
    ASSERT_TRUE(decode(lines[i], i + 1)) << i << ": " << error_.detail;
    ids.emplace_back(event_.id);
    kinds.emplace_back(kind_name(event_.kind));
    senders.emplace_back(event_.sender.name);
    receivers.emplace_back(event_.receiver.id);
    amounts.push_back(format_money(event_.amount) + " -> " + format_money(event_.amount_base));
    currencies.emplace_back(event_.currency.view());
    times.push_back(format_rfc3339(event_.ts_ms));
    countries.push_back(std::string(event_.sender.country) + ">" +
                        std::string(event_.receiver.country));
    EXPECT_EQ(event_.channel, "bank");
  }
  using ::testing::ElementsAre;
  EXPECT_THAT(ids, ElementsAre("E2E-20240501-0001", "E2E-20240501-0002", "E2E-20240502-0007"));
  EXPECT_THAT(kinds, ElementsAre("salary", "transfer", "transfer"));
  EXPECT_THAT(senders, ElementsAre("Agropecuaria del Sur SL", "Ion Popescu",
                                   "Jos\xC3\xA9 \"Pepe\" Ram\xC3\xADrez"));
  EXPECT_THAT(receivers, ElementsAre("RO49AAAA1B31007593840000", "RO09BCYP0000001234567890",
                                     "MX21BNMX0000000000000001"));
  EXPECT_THAT(amounts, ElementsAre("1500 -> 1650", "1420 -> 1562", "980.5 -> 980.5"));
  EXPECT_THAT(currencies, ElementsAre("EUR", "EUR", "USD"));
  EXPECT_THAT(times, ElementsAre("2024-05-01T07:30:00.000Z", "2024-05-01T07:31:12.500Z",
                                 "2024-05-02T14:00:00.000Z"));
  EXPECT_THAT(countries, ElementsAre("ES>RO", "RO>RO", "US>MX"));
}

}  // namespace
}  // namespace corridor::event
