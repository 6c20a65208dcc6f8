// Canonical JSON output of an event (engine/event/event_json.h) and its round trip through
// the canonical schema.
#include "engine/event/event_json.h"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>

#include "engine/event/decoder.h"
#include "engine/event/timestamp.h"
#include "engine/pipeline/record.h"

namespace corridor::event {
namespace {

constexpr uint32_t bit(Field f) { return 1U << static_cast<unsigned>(f); }

int64_t ts(std::string_view rfc3339) {
  int64_t ms = 0;
  EXPECT_TRUE(parse_rfc3339(rfc3339, ms)) << rfc3339;
  return ms;
}

// The required fields of an event, with their presence bits set.
Event minimal_event() {
  Event e;
  e.id = "e-1";
  e.ts_ms = ts("2024-05-01T12:00:00.250Z");
  e.kind = Kind::cash_out;
  e.amount = Money{12'505'000};
  e.currency = Currency{{'E', 'U', 'R'}};
  e.amount_base = Money{13'755'500};
  e.sender.id = "s-1";
  e.present = bit(Field::id) | bit(Field::ts) | bit(Field::kind) | bit(Field::amount) |
              bit(Field::currency) | bit(Field::sender_id);
  return e;
}

std::string to_json(const Event& e) {
  std::string out;
  append_event_json(out, e);
  return out;
}

void expect_equal_events(const Event& a, const Event& b) {
  EXPECT_EQ(a.present, b.present);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.ts_ms, b.ts_ms);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.amount, b.amount);
  EXPECT_EQ(a.currency, b.currency);
  EXPECT_EQ(a.amount_base, b.amount_base);
  EXPECT_EQ(a.labels, b.labels);
  for (size_t i = 0; i < kFieldCount; ++i) {
    const auto f = static_cast<Field>(i);
    const std::string_view* sa = string_slot(a, f);
    const std::string_view* sb = string_slot(b, f);
    if (sa == nullptr) continue;
    EXPECT_EQ(*sa, *sb) << field_name(f);
  }
}

TEST(EventJson, MinimalEventHasRequiredFieldsOnly) {
  EXPECT_EQ(to_json(minimal_event()),
            R"({"id":"e-1","ts":"2024-05-01T12:00:00.250Z","kind":"cash_out","amount":"1250.5",)"
            R"("currency":"EUR","amount_base":"1375.55","sender":{"id":"s-1"}})");
}

TEST(EventJson, FullEventInCanonicalOrder) {
  Event e = minimal_event();
  e.kind = Kind::remittance;
  e.ts_ms = ts("2024-05-01T12:00:00Z");  // whole seconds still print .000
  e.channel = "mto";
  e.agent = "AG-7";
  e.purpose = "family";
  e.sender.account = "ACC-1";
  e.sender.name = "Ana";
  e.sender.country = "MX";
  e.sender.city = "Tijuana";
  e.sender.phone = "+52";
  e.sender.device = "d1";
  e.sender.ip = "10.0.0.1";
  e.sender.address = "Calle 1";
  e.sender.employer = "Maquila";
  e.receiver.id = "r-1";
  e.receiver.employer = "Finca";
  e.labels = R"({"role": "payer"})";
  for (size_t i = 0; i < kFieldCount; ++i) e.present |= 1U << i;
  // Every receiver field but id and employer is absent despite its bit: clear those bits.
  for (Field f : {Field::receiver_account, Field::receiver_name, Field::receiver_country,
                  Field::receiver_city, Field::receiver_phone, Field::receiver_device,
                  Field::receiver_ip, Field::receiver_address}) {
    e.present &= ~bit(f);
  }
  EXPECT_EQ(to_json(e),
            R"({"id":"e-1","ts":"2024-05-01T12:00:00.000Z","kind":"remittance","amount":"1250.5",)"
            R"("currency":"EUR","amount_base":"1375.55","channel":"mto","agent":"AG-7",)"
            R"("purpose":"family","sender":{"id":"s-1","account":"ACC-1","name":"Ana",)"
            R"("country":"MX","city":"Tijuana","phone":"+52","device":"d1","ip":"10.0.0.1",)"
            R"("address":"Calle 1","employer":"Maquila"},"receiver":{"id":"r-1",)"
            R"("employer":"Finca"},"labels":{"role": "payer"}})");
}

TEST(EventJson, OmitsAbsentOptionalFieldsEvenWhenTheirSlotsHoldText) {
  Event e = minimal_event();
  e.channel = "stale";  // not present: not written
  e.receiver.name = "stale";
  e.labels = "{}";
  const std::string out = to_json(e);
  EXPECT_EQ(out.find("stale"), std::string::npos) << out;
  EXPECT_EQ(out.find("channel"), std::string::npos) << out;
  EXPECT_EQ(out.find("receiver"), std::string::npos) << out;
  EXPECT_EQ(out.find("labels"), std::string::npos) << out;
}

TEST(EventJson, ReceiverOnlyParty) {
  Event e = minimal_event();
  e.kind = Kind::cash_in;
  e.present &= ~bit(Field::sender_id);
  e.receiver.id = "r";
  e.receiver.city = "Oaxaca";
  e.present |= bit(Field::receiver_id) | bit(Field::receiver_city);
  EXPECT_EQ(to_json(e),
            R"({"id":"e-1","ts":"2024-05-01T12:00:00.250Z","kind":"cash_in","amount":"1250.5",)"
            R"("currency":"EUR","amount_base":"1375.55","receiver":{"id":"r","city":"Oaxaca"}})");
}

TEST(EventJson, AmountsAreExactDecimalStrings) {
  Event e = minimal_event();
  e.amount = Money{1};
  e.amount_base = Money{999'999'999'999'999'999};
  const std::string out = to_json(e);
  EXPECT_NE(out.find(R"("amount":"0.0001")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("amount_base":"99999999999999.9999")"), std::string::npos) << out;
}

TEST(EventJson, StringsAreEscaped) {
  Event e = minimal_event();
  e.id = "a\"b\\c\nd\x01";
  e.sender.name = "Jos\xC3\xA9 \xF0\x9F\x98\x80";
  e.sender.city = "bad\xFFutf8";
  e.present |= bit(Field::sender_name) | bit(Field::sender_city);
  const std::string out = to_json(e);
  EXPECT_NE(out.find(R"("id":"a\"b\\c\nd\u0001")"), std::string::npos) << out;
  EXPECT_NE(out.find("\"name\":\"Jos\xC3\xA9 \xF0\x9F\x98\x80\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"city\":\"bad\xEF\xBF\xBDutf8\""), std::string::npos) << out;
}

TEST(EventJson, PreEpochAndMillisecondTimes) {
  Event e = minimal_event();
  e.ts_ms = -1;
  EXPECT_NE(to_json(e).find(R"("ts":"1969-12-31T23:59:59.999Z")"), std::string::npos);
  e.ts_ms = ts("2024-02-29T23:59:59.007Z");
  EXPECT_NE(to_json(e).find(R"("ts":"2024-02-29T23:59:59.007Z")"), std::string::npos);
}

TEST(EventJson, AppendsToExistingText) {
  std::string out = "prefix ";
  append_event_json(out, minimal_event());
  EXPECT_EQ(out.rfind("prefix {\"id\":\"e-1\"", 0), 0U) << out;
}

// --- round trip through the canonical decoder ---------------------------------------------

class EventJsonRoundTrip : public ::testing::Test {
 protected:
  EventJsonRoundTrip() : schema_(Schema::canonical()) {
    Rate r{};
    EXPECT_EQ(parse_rate("1.1", r), DecimalError::ok);
    currencies_.set_rate(Currency{{'E', 'U', 'R'}}, r);
    decoder_ = make_json_decoder(schema_, currencies_, limits_);
  }

  // Each call may use its own decoder: a decoded event views its decoder's buffers until
  // that decoder's next call, so comparing two decoded events needs two decoders.
  bool decode(std::string_view json, Event& out, Decoder* decoder = nullptr) {
    std::string& buffer = buffers_.emplace_back(json);
    buffer.append(pipeline::kRecordPadding, '\0');
    pipeline::Record record;
    record.bytes = std::string_view(buffer.data(), json.size());
    record.line = 1;
    error_ = {};
    return (decoder != nullptr ? decoder : decoder_.get())->decode(record, out, error_);
  }

  Schema schema_;
  CurrencyTable currencies_;
  DecodeLimits limits_;
  std::unique_ptr<Decoder> decoder_;
  std::deque<std::string> buffers_;
  DecodeError error_;
};

TEST_F(EventJsonRoundTrip, DecodedOutputEqualsTheEvent) {
  const std::string input =
      R"({"labels":{"scenario":"debt_bondage","role":"worker"},"receiver":{"id":"r-1",)"
      R"("name":"Recruiter \"Big\" Ltd","country":"AE"},"sender":{"employer":"Farm \u00e9",)"
      R"("id":"s-1","ip":"10.1.2.3"},"purpose":"SALA","channel":"bank",)"
      R"("currency":"EUR","amount":1250.5,"kind":"salary","ts":"2024-05-01T14:00:00.250999+02:00",)"
      R"("id":"evt-\ud83d\ude00"})";
  Event first;
  ASSERT_TRUE(decode(input, first)) << error_.detail;
  const std::string once = to_json(first);
  EXPECT_EQ(once,
            "{\"id\":\"evt-\xF0\x9F\x98\x80\",\"ts\":\"2024-05-01T12:00:00.250Z\","
            "\"kind\":\"salary\",\"amount\":\"1250.5\",\"currency\":\"EUR\","
            "\"amount_base\":\"1375.55\",\"channel\":\"bank\",\"purpose\":\"SALA\","
            "\"sender\":{\"id\":\"s-1\",\"ip\":\"10.1.2.3\",\"employer\":\"Farm \xC3\xA9\"},"
            "\"receiver\":{\"id\":\"r-1\",\"name\":\"Recruiter \\\"Big\\\" Ltd\","
            "\"country\":\"AE\"},\"labels\":{\"scenario\":\"debt_bondage\",\"role\":\"worker\"}}");
  Event second;
  const std::unique_ptr<Decoder> other = make_json_decoder(schema_, currencies_, limits_);
  ASSERT_TRUE(decode(once, second, other.get())) << error_.detail << "\n" << once;
  expect_equal_events(first, second);
  EXPECT_EQ(to_json(second), once);  // a fixed point
}

TEST_F(EventJsonRoundTrip, HandBuiltEventsRoundTrip) {
  Event e = minimal_event();
  e.sender.name = "line\nbreak \"quoted\" back\\slash \t tab";
  e.present |= bit(Field::sender_name);
  Event back;
  const std::string json = to_json(e);
  ASSERT_TRUE(decode(json, back)) << error_.detail << "\n" << json;
  expect_equal_events(e, back);

  Event all = minimal_event();
  all.kind = Kind::card;
  all.ts_ms = ts("1990-01-01T00:00:00Z");
  all.amount = Money{1};
  all.currency = Currency{{'U', 'S', 'D'}};
  all.amount_base = Money{1};
  all.channel = "card";
  all.agent = "A";
  all.purpose = "P";
  all.labels = "{}";
  all.receiver.id = "R";
  all.receiver.country = "DE";
  all.present |= bit(Field::channel) | bit(Field::agent) | bit(Field::purpose) |
                 bit(Field::labels) | bit(Field::receiver_id) | bit(Field::receiver_country);
  const std::string all_json = to_json(all);
  ASSERT_TRUE(decode(all_json, back)) << error_.detail << "\n" << all_json;
  expect_equal_events(all, back);
}

}  // namespace
}  // namespace corridor::event
