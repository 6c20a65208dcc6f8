// EventBuilder (engine/event/event_builder.h): field assignment, defaults, validation and
// the dead-letter reasons and details it produces.
#include "engine/event/event_builder.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "engine/event/timestamp.h"

namespace corridor::event {
namespace {

constexpr int64_t kDay = 86'400'000;
const Currency kUsd{{'U', 'S', 'D'}};
const Currency kEur{{'E', 'U', 'R'}};
const Currency kJpy{{'J', 'P', 'Y'}};

FieldRule& rule(Schema& s, Field f) { return s.fields[static_cast<size_t>(f)]; }

class EventBuilderTest : public ::testing::Test {
 protected:
  EventBuilderTest() : schema_(Schema::canonical()) {
    Rate r{};
    EXPECT_EQ(parse_rate("1.1", r), DecimalError::ok);
    currencies_.set_rate(kEur, r);
    EXPECT_EQ(parse_rate("0.0067", r), DecimalError::ok);
    currencies_.set_rate(kJpy, r);
  }

  EventBuilder& builder() {
    if (!builder_) builder_.emplace(schema_, currencies_, limits_);
    return *builder_;
  }

  // Starts an event and assigns every required field of a valid transfer except `skip`.
  void begin_valid(Field skip1 = Field::labels, Field skip2 = Field::labels) {
    builder().begin(event_, 7);
    const std::pair<Field, std::string_view> values[] = {
        {Field::id, "e-1"},          {Field::ts, "2024-05-01T12:00:00Z"},
        {Field::kind, "transfer"},   {Field::amount, "100.50"},
        {Field::currency, "USD"},    {Field::sender_id, "alice"},
        {Field::receiver_id, "bob"},
    };
    for (const auto& [f, v] : values) {
      if (f == skip1 || f == skip2) continue;
      const ValueType t = f == Field::amount ? ValueType::number : ValueType::string;
      ASSERT_TRUE(builder().assign(f, t, v, error_)) << field_name(f) << ": " << error_.detail;
    }
  }

  // Expects assign to fail with exactly this reason and detail.
  void expect_assign_fails(Field f, ValueType t, std::string_view value, Reason reason,
                           std::string_view detail) {
    error_ = {};
    EXPECT_FALSE(builder().assign(f, t, value, error_));
    EXPECT_EQ(reason_name(error_.reason), reason_name(reason));
    EXPECT_EQ(error_.detail, detail);
  }

  void expect_finish_fails(Reason reason, std::string_view detail) {
    error_ = {};
    EXPECT_FALSE(builder().finish(error_));
    EXPECT_EQ(reason_name(error_.reason), reason_name(reason));
    EXPECT_EQ(error_.detail, detail);
  }

  void expect_finish_ok() {
    error_ = {};
    EXPECT_TRUE(builder().finish(error_)) << reason_name(error_.reason) << ": " << error_.detail;
  }

  Schema schema_;
  CurrencyTable currencies_;  // base USD
  DecodeLimits limits_;
  std::optional<EventBuilder> builder_;
  Event event_;
  DecodeError error_;
};

TEST_F(EventBuilderTest, ValidTransferFillsEveryField) {
  begin_valid();
  ASSERT_TRUE(builder().assign(Field::channel, ValueType::string, "mto", error_));
  ASSERT_TRUE(builder().assign(Field::agent, ValueType::string, "AG-1", error_));
  ASSERT_TRUE(builder().assign(Field::purpose, ValueType::string, "family", error_));
  ASSERT_TRUE(builder().assign(Field::sender_country, ValueType::string, "MX", error_));
  ASSERT_TRUE(builder().assign(Field::receiver_city, ValueType::string, "Tijuana", error_));
  ASSERT_TRUE(builder().assign(Field::labels, ValueType::object, R"({"role":"payer"})", error_));
  expect_finish_ok();
  EXPECT_EQ(event_.id, "e-1");
  EXPECT_EQ(event_.ts_ms, days_from_civil(2024, 5, 1) * kDay + 12 * 3'600'000);
  EXPECT_EQ(event_.kind, Kind::transfer);
  EXPECT_EQ(event_.amount, Money{1'005'000});
  EXPECT_EQ(event_.currency, kUsd);
  EXPECT_EQ(event_.amount_base, Money{1'005'000});
  EXPECT_EQ(event_.channel, "mto");
  EXPECT_EQ(event_.agent, "AG-1");
  EXPECT_EQ(event_.purpose, "family");
  EXPECT_EQ(event_.sender.id, "alice");
  EXPECT_EQ(event_.sender.country, "MX");
  EXPECT_EQ(event_.receiver.id, "bob");
  EXPECT_EQ(event_.receiver.city, "Tijuana");
  EXPECT_EQ(event_.labels, R"({"role":"payer"})");
  EXPECT_TRUE(event_.has(Field::channel));
  EXPECT_TRUE(event_.has(Field::labels));
  EXPECT_FALSE(event_.has(Field::sender_name));
  EXPECT_FALSE(event_.has(Field::receiver_country));
}

TEST_F(EventBuilderTest, BeginClearsThePreviousEvent) {
  begin_valid();
  ASSERT_TRUE(builder().assign(Field::channel, ValueType::string, "mto", error_));
  expect_finish_ok();
  builder().begin(event_, 8);
  EXPECT_EQ(event_.present, 0U);
  EXPECT_TRUE(event_.id.empty());
  EXPECT_TRUE(event_.channel.empty());
  EXPECT_EQ(event_.amount, Money{0});
}

// begin() clears by storing zeros: every member must then equal a default Event's.
TEST_F(EventBuilderTest, BeginLeavesEveryMemberAsADefaultEvent) {
  Event e;
  std::memset(static_cast<void*>(&e), 0xAB, sizeof e);
  builder().begin(e, 1);
  const Event d{};
  EXPECT_EQ(e.ts_ms, d.ts_ms);
  EXPECT_EQ(e.kind, d.kind);
  EXPECT_EQ(e.amount, d.amount);
  EXPECT_EQ(e.currency, d.currency);
  EXPECT_EQ(e.amount_base, d.amount_base);
  EXPECT_EQ(e.labels.data(), d.labels.data());
  EXPECT_EQ(e.present, d.present);
  for (size_t i = 0; i < kFieldCount; ++i) {
    const auto f = static_cast<Field>(i);
    if (const std::string_view* slot = string_slot(e, f)) {
      EXPECT_EQ(slot->data(), string_slot(d, f)->data()) << field_name(f);
      EXPECT_EQ(slot->size(), 0U) << field_name(f);
    }
  }
  EXPECT_EQ(e.id.data(), d.id.data());
  EXPECT_EQ(e.id.size(), 0U);
  EXPECT_EQ(e.labels.size(), 0U);
}

// --- missing_field --------------------------------------------------------------------

TEST_F(EventBuilderTest, MissingRequiredFieldsAreNamedInCanonicalOrder) {
  const std::pair<Field, const char*> cases[] = {
      {Field::id, "id: required"},
      {Field::ts, "ts: required"},
      {Field::kind, "kind: required"},
      {Field::amount, "amount: required"},
      {Field::currency, "currency: required"},
  };
  for (const auto& [f, detail] : cases) {
    SCOPED_TRACE(std::string(field_name(f)));
    begin_valid(f);
    expect_finish_fails(Reason::missing_field, detail);
  }
  // Two missing: the first in canonical order is reported.
  begin_valid(Field::currency, Field::ts);
  expect_finish_fails(Reason::missing_field, "ts: required");
}

TEST_F(EventBuilderTest, NullIsAbsence) {
  begin_valid(Field::id);
  ASSERT_TRUE(builder().assign(Field::id, ValueType::null, {}, error_));
  EXPECT_FALSE(event_.has(Field::id));
  expect_finish_fails(Reason::missing_field, "id: required");
}

TEST_F(EventBuilderTest, NullThenValueIsNotADuplicate) {
  begin_valid(Field::channel);
  ASSERT_TRUE(builder().assign(Field::channel, ValueType::null, {}, error_));
  ASSERT_TRUE(builder().assign(Field::channel, ValueType::string, "bank", error_));
  expect_finish_ok();
  EXPECT_EQ(event_.channel, "bank");
}

// --- required parties per kind --------------------------------------------------------

struct PartyCase {
  const char* kind;
  bool needs_sender;
  bool needs_receiver;
};

class RequiredParties : public EventBuilderTest, public ::testing::WithParamInterface<PartyCase> {};

TEST_P(RequiredParties, SenderRule) {
  const PartyCase& c = GetParam();
  begin_valid(Field::kind, Field::sender_id);
  ASSERT_TRUE(builder().assign(Field::kind, ValueType::string, c.kind, error_));
  if (c.needs_sender) {
    expect_finish_fails(Reason::missing_field,
                        std::string("sender.id: required for kind ") + c.kind);
  } else {
    expect_finish_ok();
  }
}

TEST_P(RequiredParties, ReceiverRule) {
  const PartyCase& c = GetParam();
  begin_valid(Field::kind, Field::receiver_id);
  ASSERT_TRUE(builder().assign(Field::kind, ValueType::string, c.kind, error_));
  if (c.needs_receiver) {
    expect_finish_fails(Reason::missing_field,
                        std::string("receiver.id: required for kind ") + c.kind);
  } else {
    expect_finish_ok();
  }
}

TEST_P(RequiredParties, BothPartiesPresentIsAlwaysValid) {
  const PartyCase& c = GetParam();
  begin_valid(Field::kind);
  ASSERT_TRUE(builder().assign(Field::kind, ValueType::string, c.kind, error_));
  expect_finish_ok();
  EXPECT_EQ(kind_name(event_.kind), c.kind);
}

INSTANTIATE_TEST_SUITE_P(
    AllKinds, RequiredParties,
    ::testing::Values(PartyCase{"transfer", true, true}, PartyCase{"remittance", true, true},
                      PartyCase{"cash_in", false, true}, PartyCase{"cash_out", true, false},
                      PartyCase{"salary", true, true}, PartyCase{"fee", true, true},
                      PartyCase{"card", true, true}),
    [](const ::testing::TestParamInfo<PartyCase>& p) { return std::string(p.param.kind); });

TEST_F(EventBuilderTest, CashInWithoutAnyPartyNamesTheReceiver) {
  builder().begin(event_, 1);
  ASSERT_TRUE(builder().assign(Field::id, ValueType::string, "c", error_));
  ASSERT_TRUE(builder().assign(Field::ts, ValueType::number, "1714564800000", error_));
  ASSERT_TRUE(builder().assign(Field::kind, ValueType::string, "cash_in", error_));
  ASSERT_TRUE(builder().assign(Field::amount, ValueType::string, "5", error_));
  ASSERT_TRUE(builder().assign(Field::currency, ValueType::string, "USD", error_));
  expect_finish_fails(Reason::missing_field, "receiver.id: required for kind cash_in");
}

// --- bad_type ---------------------------------------------------------------------------

TEST_F(EventBuilderTest, BadTypeDetails) {
  begin_valid();
  expect_assign_fails(Field::channel, ValueType::number, "5", Reason::bad_type,
                      "channel: expected string, got number");
  expect_assign_fails(Field::sender_name, ValueType::object, {}, Reason::bad_type,
                      "sender.name: expected string, got object");
  expect_assign_fails(Field::receiver_phone, ValueType::array, {}, Reason::bad_type,
                      "receiver.phone: expected string, got array");
  expect_assign_fails(Field::agent, ValueType::boolean, "true", Reason::bad_type,
                      "agent: expected string, got boolean");
  expect_assign_fails(Field::labels, ValueType::string, "x", Reason::bad_type,
                      "labels: expected object, got string");
  expect_assign_fails(Field::labels, ValueType::array, "[]", Reason::bad_type,
                      "labels: expected object, got array");
  builder().begin(event_, 1);
  expect_assign_fails(Field::ts, ValueType::boolean, "true", Reason::bad_type,
                      "ts: expected RFC 3339 string or epoch milliseconds, got boolean");
  expect_assign_fails(Field::amount, ValueType::object, {}, Reason::bad_type,
                      "amount: expected number or decimal string, got object");
  expect_assign_fails(Field::id, ValueType::number, "12", Reason::bad_type,
                      "id: expected string, got number");
  expect_assign_fails(Field::kind, ValueType::array, {}, Reason::bad_type,
                      "kind: expected string, got array");
}

// --- bad_value --------------------------------------------------------------------------

TEST_F(EventBuilderTest, BadValueDetails) {
  builder().begin(event_, 1);
  expect_assign_fails(Field::kind, ValueType::string, "wire", Reason::bad_value,
                      "kind: \"wire\" is not one of transfer, remittance, cash_in, cash_out, "
                      "salary, fee, card");
  expect_assign_fails(Field::currency, ValueType::string, "usd", Reason::bad_value,
                      "currency: \"usd\" is not an ISO 4217 code (three capitals)");
  expect_assign_fails(Field::currency, ValueType::string, "EURO", Reason::bad_value,
                      "currency: \"EURO\" is not an ISO 4217 code (three capitals)");
  expect_assign_fails(Field::sender_country, ValueType::string, "MEX", Reason::bad_value,
                      "sender.country: \"MEX\" is not an ISO 3166 alpha-2 code (two capitals)");
  expect_assign_fails(Field::receiver_country, ValueType::string, "us", Reason::bad_value,
                      "receiver.country: \"us\" is not an ISO 3166 alpha-2 code (two capitals)");
  expect_assign_fails(Field::id, ValueType::string, "", Reason::bad_value, "id: empty");
  expect_assign_fails(Field::amount, ValueType::string, "0", Reason::bad_value,
                      "amount: \"0\" is not greater than 0");
  expect_assign_fails(Field::amount, ValueType::number, "-12.5", Reason::bad_value,
                      "amount: \"-12.5\" is not greater than 0");
  expect_assign_fails(Field::amount, ValueType::string, "12,50", Reason::bad_value,
                      "amount: \"12,50\" is not a decimal number");
  expect_assign_fails(Field::amount, ValueType::number, "1.00001", Reason::bad_value,
                      "amount: \"1.00001\" has more than 4 decimal places");
  expect_assign_fails(Field::amount, ValueType::number, "1e14", Reason::bad_value,
                      "amount: \"1e14\" is out of range (limit 10^14)");
}

TEST_F(EventBuilderTest, EveryKindNameIsAccepted) {
  for (size_t k = 0; k < kKindCount; ++k) {
    const auto kind = static_cast<Kind>(k);
    builder().begin(event_, 1);
    ASSERT_TRUE(builder().assign(Field::kind, ValueType::string, kind_name(kind), error_))
        << kind_name(kind);
    EXPECT_EQ(event_.kind, kind);
  }
  // Near misses of every length a kind has.
  for (const char* near :
       {"fe", "fees", "Fee", "car", "cards", "salarY", "cash_i", "cash_inn", "transfe", "cash_ou",
        "transferr", "remittanc", "remittances", "cash-in"}) {
    builder().begin(event_, 1);
    expect_assign_fails(Field::kind, ValueType::string, near, Reason::bad_value,
                        "kind: \"" + std::string(near) +
                            "\" is not one of transfer, remittance, cash_in, cash_out, salary, "
                            "fee, card");
  }
}

// The common string values take a short path; a string limit below their size still rules.
TEST_F(EventBuilderTest, StringLimitAppliesToCheckedFields) {
  limits_.max_string_bytes = 2;
  builder().begin(event_, 1);
  expect_assign_fails(Field::currency, ValueType::string, "USD", Reason::too_large,
                      "currency: 3 bytes, limit 2");
  expect_assign_fails(Field::kind, ValueType::string, "fee", Reason::too_large,
                      "kind: 3 bytes, limit 2");
  expect_assign_fails(Field::id, ValueType::string, "e-1", Reason::too_large,
                      "id: 3 bytes, limit 2");
  ASSERT_TRUE(builder().assign(Field::sender_country, ValueType::string, "MX", error_));
  limits_.max_string_bytes = 1;
  expect_assign_fails(Field::receiver_country, ValueType::string, "US", Reason::too_large,
                      "receiver.country: 2 bytes, limit 1");
  // ts and amount have their own syntax and no string limit.
  ASSERT_TRUE(builder().assign(Field::ts, ValueType::string, "2024-05-01T12:00:00Z", error_));
  ASSERT_TRUE(builder().assign(Field::amount, ValueType::string, "100.50", error_));
}

// Small tables are scanned, large ones searched: both find every rate and nothing else.
TEST(CurrencyTable, FindsRatesInSmallAndLargeTables) {
  // AAA, ZAB, AAC, ZAD, ...: codes sorted before and after USD.
  const auto code = [](int i) {
    return Currency{
        {i % 2 == 0 ? 'A' : 'Z', static_cast<char>('A' + i / 26), static_cast<char>('A' + i % 26)}};
  };
  for (const int extra : {0, 3, 15, 16, 40}) {
    SCOPED_TRACE(extra);
    CurrencyTable table(kUsd);
    for (int i = 0; i < extra; ++i) table.set_rate(code(i), Rate{i + 1});
    const Rate* usd = table.find(kUsd);
    ASSERT_NE(usd, nullptr);
    EXPECT_EQ(usd->scaled, Rate::kUnit);
    for (int i = 0; i < extra; ++i) {
      const Rate* r = table.find(code(i));
      ASSERT_NE(r, nullptr) << code(i).view();
      EXPECT_EQ(r->scaled, i + 1);
    }
    for (const Currency absent : {Currency{{'A', 'A', '@'}}, Currency{{'U', 'S', 'C'}},
                                  Currency{{'U', 'S', 'E'}}, Currency{{'Z', 'Z', 'Z'}}}) {
      EXPECT_EQ(table.find(absent), nullptr) << absent.view();
    }
  }
}

TEST_F(EventBuilderTest, LongValuesAreShortenedInDetails) {
  builder().begin(event_, 1);
  const std::string kind(100, 'x');
  expect_assign_fails(Field::kind, ValueType::string, kind, Reason::bad_value,
                      "kind: \"" + std::string(64, 'x') +
                          "...\" is not one of transfer, remittance, cash_in, cash_out, salary, "
                          "fee, card");
}

TEST_F(EventBuilderTest, DuplicateFieldIsBadValue) {
  begin_valid();
  expect_assign_fails(Field::id, ValueType::string, "e-2", Reason::bad_value,
                      "id: appears more than once");
  expect_assign_fails(Field::ts, ValueType::number, "1714564800000", Reason::bad_value,
                      "ts: appears more than once");
  expect_assign_fails(Field::amount, ValueType::string, "1", Reason::bad_value,
                      "amount: appears more than once");
  expect_assign_fails(Field::sender_id, ValueType::string, "carol", Reason::bad_value,
                      "sender.id: appears more than once");
  ASSERT_TRUE(builder().assign(Field::labels, ValueType::object, "{}", error_));
  expect_assign_fails(Field::labels, ValueType::object, "{}", Reason::bad_value,
                      "labels: appears more than once");
  EXPECT_EQ(event_.id, "e-1");  // the first value stands
}

TEST_F(EventBuilderTest, CurrencyMissingFromTheTable) {
  begin_valid(Field::currency);
  ASSERT_TRUE(builder().assign(Field::currency, ValueType::string, "GBP", error_));
  expect_finish_fails(Reason::bad_value, "currency: GBP has no rate to USD in the currency table");
}

TEST_F(EventBuilderTest, AmountThatRoundsToZeroInTheBaseCurrency) {
  begin_valid(Field::currency, Field::amount);
  ASSERT_TRUE(builder().assign(Field::currency, ValueType::string, "JPY", error_));
  ASSERT_TRUE(builder().assign(Field::amount, ValueType::string, "0.0074", error_));
  // 0.0074 JPY * 0.0067 = 0.00004958 USD -> 0.0000 after rounding.
  expect_finish_fails(Reason::bad_value, "amount: rounds to 0 USD in the base currency");
}

TEST_F(EventBuilderTest, AmountTooLargeAfterConversion) {
  Rate huge{};
  ASSERT_EQ(parse_rate("1000", huge), DecimalError::ok);
  currencies_.set_rate(Currency{{'X', 'A', 'U'}}, huge);
  begin_valid(Field::currency, Field::amount);
  ASSERT_TRUE(builder().assign(Field::currency, ValueType::string, "XAU", error_));
  ASSERT_TRUE(builder().assign(Field::amount, ValueType::string, "100000000000", error_));
  expect_finish_fails(Reason::bad_value, "amount: too large after conversion to the base currency");
}

// --- currency conversion ----------------------------------------------------------------

TEST_F(EventBuilderTest, ConvertsIntoTheBaseCurrency) {
  begin_valid(Field::currency, Field::amount);
  ASSERT_TRUE(builder().assign(Field::currency, ValueType::string, "EUR", error_));
  ASSERT_TRUE(builder().assign(Field::amount, ValueType::string, "1500.00", error_));
  expect_finish_ok();
  EXPECT_EQ(event_.currency, kEur);
  EXPECT_EQ(event_.amount, Money{15'000'000});       // 1500 EUR
  EXPECT_EQ(event_.amount_base, Money{16'500'000});  // 1650 USD
}

TEST_F(EventBuilderTest, ConversionRoundsHalfToEven) {
  // 0.0005 EUR at 1.1 = 0.00055 USD: between units 5 and 6, exactly half -> 6 (even).
  // 0.0015 EUR at 1.1 = 0.00165: 16.5 units -> 16 (even).
  begin_valid(Field::currency, Field::amount);
  ASSERT_TRUE(builder().assign(Field::currency, ValueType::string, "EUR", error_));
  ASSERT_TRUE(builder().assign(Field::amount, ValueType::string, "0.0015", error_));
  expect_finish_ok();
  EXPECT_EQ(event_.amount_base, Money{16});
  begin_valid(Field::currency, Field::amount);
  ASSERT_TRUE(builder().assign(Field::currency, ValueType::string, "EUR", error_));
  ASSERT_TRUE(builder().assign(Field::amount, ValueType::string, "0.0025", error_));
  expect_finish_ok();
  EXPECT_EQ(event_.amount_base, Money{28});  // 27.5 -> 28 (even)
}

TEST_F(EventBuilderTest, BaseCurrencyOtherThanUsd) {
  CurrencyTable eur_base(kEur);
  Rate r{};
  ASSERT_EQ(parse_rate("0.9", r), DecimalError::ok);
  eur_base.set_rate(kUsd, r);
  EventBuilder b(schema_, eur_base, limits_);
  b.begin(event_, 1);
  for (const auto& [f, v] : {std::pair<Field, std::string_view>{Field::id, "x"},
                             {Field::ts, "2024-05-01T12:00:00Z"},
                             {Field::kind, "transfer"},
                             {Field::amount, "10"},
                             {Field::currency, "USD"},
                             {Field::sender_id, "a"},
                             {Field::receiver_id, "b"}}) {
    ASSERT_TRUE(b.assign(f, ValueType::string, v, error_)) << error_.detail;
  }
  ASSERT_TRUE(b.finish(error_)) << error_.detail;
  EXPECT_EQ(event_.amount_base, Money{90'000});
  b.begin(event_, 2);
  ASSERT_TRUE(b.assign(Field::currency, ValueType::string, "JPY", error_));
  ASSERT_TRUE(b.assign(Field::id, ValueType::string, "y", error_));
  ASSERT_TRUE(b.assign(Field::ts, ValueType::string, "2024-05-01T12:00:00Z", error_));
  ASSERT_TRUE(b.assign(Field::kind, ValueType::string, "cash_in", error_));
  ASSERT_TRUE(b.assign(Field::amount, ValueType::string, "10", error_));
  ASSERT_TRUE(b.assign(Field::receiver_id, ValueType::string, "b", error_));
  EXPECT_FALSE(b.finish(error_));
  EXPECT_EQ(error_.reason, Reason::bad_value);
  EXPECT_EQ(error_.detail, "currency: JPY has no rate to EUR in the currency table");
}

// --- bad_timestamp ----------------------------------------------------------------------

TEST_F(EventBuilderTest, BadTimestampDetails) {
  builder().begin(event_, 1);
  expect_assign_fails(Field::ts, ValueType::string, "2024-05-01T12:00:00", Reason::bad_timestamp,
                      "ts: \"2024-05-01T12:00:00\" is not an RFC 3339 date-time with a zone");
  expect_assign_fails(Field::ts, ValueType::string, "2023-02-29T00:00:00Z", Reason::bad_timestamp,
                      "ts: \"2023-02-29T00:00:00Z\" is not an RFC 3339 date-time with a zone");
  expect_assign_fails(Field::ts, ValueType::string, "1989-12-31T23:59:59Z", Reason::bad_timestamp,
                      "ts: \"1989-12-31T23:59:59Z\" is outside the accepted range");
  expect_assign_fails(Field::ts, ValueType::string, "2100-01-01T00:00:00Z", Reason::bad_timestamp,
                      "ts: \"2100-01-01T00:00:00Z\" is outside the accepted range");
  expect_assign_fails(Field::ts, ValueType::number, "0", Reason::bad_timestamp,
                      "ts: \"0\" is outside the accepted range");
  expect_assign_fails(Field::ts, ValueType::number, "1714564800000.5", Reason::bad_timestamp,
                      "ts: \"1714564800000.5\" is not an integer (epoch milliseconds expected)");
  expect_assign_fails(Field::ts, ValueType::number, "1.7e12", Reason::bad_timestamp,
                      "ts: \"1.7e12\" is not an integer (epoch milliseconds expected)");
  expect_assign_fails(Field::ts, ValueType::number, "1234567890123456", Reason::bad_timestamp,
                      "ts: \"1234567890123456\" is not an integer count of milliseconds in range");
  expect_assign_fails(Field::ts, ValueType::number, "-", Reason::bad_timestamp,
                      "ts: \"-\" is not an integer count of milliseconds in range");
  EXPECT_FALSE(event_.has(Field::ts));
}

TEST_F(EventBuilderTest, TimestampRangeBoundaries) {
  builder().begin(event_, 1);
  ASSERT_TRUE(builder().assign(Field::ts, ValueType::number, "631152000000", error_));
  EXPECT_EQ(event_.ts_ms, limits_.min_ts_ms);
  builder().begin(event_, 1);
  ASSERT_TRUE(builder().assign(Field::ts, ValueType::number, "4102444799999", error_));
  EXPECT_EQ(event_.ts_ms, limits_.max_ts_ms - 1);
  builder().begin(event_, 1);
  expect_assign_fails(Field::ts, ValueType::number, "4102444800000", Reason::bad_timestamp,
                      "ts: \"4102444800000\" is outside the accepted range");
  expect_assign_fails(Field::ts, ValueType::number, "631151999999", Reason::bad_timestamp,
                      "ts: \"631151999999\" is outside the accepted range");
}

TEST_F(EventBuilderTest, TextTimestampMayBeDigitsOrRfc3339) {
  builder().begin(event_, 1);
  ASSERT_TRUE(builder().assign(Field::ts, ValueType::text, "1714564800000", error_));
  EXPECT_EQ(event_.ts_ms, 1'714'564'800'000);
  builder().begin(event_, 1);
  ASSERT_TRUE(builder().assign(Field::ts, ValueType::text, "2024-05-01T12:00:00.250Z", error_));
  EXPECT_EQ(event_.ts_ms, 1'714'564'800'250);
  builder().begin(event_, 1);
  // A number in a JSON string is not epoch millis: strings are RFC 3339.
  expect_assign_fails(Field::ts, ValueType::string, "1714564800000", Reason::bad_timestamp,
                      "ts: \"1714564800000\" is not an RFC 3339 date-time with a zone");
}

// --- too_large --------------------------------------------------------------------------

TEST_F(EventBuilderTest, TooLargeString) {
  limits_.max_string_bytes = 8;
  builder().begin(event_, 1);
  ASSERT_TRUE(builder().assign(Field::sender_name, ValueType::string, "12345678", error_));
  expect_assign_fails(Field::receiver_name, ValueType::string, "123456789", Reason::too_large,
                      "receiver.name: 9 bytes, limit 8");
  expect_assign_fails(Field::id, ValueType::text, "abcdefghij", Reason::too_large,
                      "id: 10 bytes, limit 8");
}

// --- value maps, defaults, generated ids ------------------------------------------------

TEST_F(EventBuilderTest, ValueMapTranslatesStringsAndText) {
  rule(schema_, Field::kind).value_map = {{"SALA", "salary"}, {"CASH", "cash_out"}};
  rule(schema_, Field::channel).value_map = {{"B", "bank"}};
  begin_valid(Field::kind);
  ASSERT_TRUE(builder().assign(Field::kind, ValueType::string, "SALA", error_));
  ASSERT_TRUE(builder().assign(Field::channel, ValueType::text, "B", error_));
  expect_finish_ok();
  EXPECT_EQ(event_.kind, Kind::salary);
  EXPECT_EQ(event_.channel, "bank");
  // Unmapped values pass through unchanged, and are validated as themselves.
  begin_valid(Field::kind);
  ASSERT_TRUE(builder().assign(Field::kind, ValueType::string, "fee", error_));
  ASSERT_TRUE(builder().assign(Field::channel, ValueType::string, "mto", error_));
  expect_finish_ok();
  EXPECT_EQ(event_.kind, Kind::fee);
  EXPECT_EQ(event_.channel, "mto");
  begin_valid(Field::kind);
  expect_assign_fails(Field::kind, ValueType::string, "GDDS", Reason::bad_value,
                      "kind: \"GDDS\" is not one of transfer, remittance, cash_in, cash_out, "
                      "salary, fee, card");
}

TEST_F(EventBuilderTest, ValueMapDoesNotApplyToNumbers) {
  rule(schema_, Field::amount).value_map = {{"1", "1000"}};
  begin_valid(Field::amount);
  ASSERT_TRUE(builder().assign(Field::amount, ValueType::number, "1", error_));
  expect_finish_ok();
  EXPECT_EQ(event_.amount, Money{10'000});
}

TEST_F(EventBuilderTest, DefaultsFillAbsentFields) {
  rule(schema_, Field::kind).default_value = "transfer";
  rule(schema_, Field::currency).default_value = "EUR";
  rule(schema_, Field::channel).default_value = "bank";
  begin_valid(Field::kind, Field::currency);
  expect_finish_ok();
  EXPECT_EQ(event_.kind, Kind::transfer);
  EXPECT_EQ(event_.currency, kEur);
  EXPECT_EQ(event_.channel, "bank");
  EXPECT_TRUE(event_.has(Field::channel));          // defaulted fields count as present
  EXPECT_EQ(event_.amount_base, Money{1'105'500});  // 100.50 EUR * 1.1
}

TEST_F(EventBuilderTest, DefaultDoesNotOverrideAValue) {
  rule(schema_, Field::channel).default_value = "bank";
  begin_valid();
  ASSERT_TRUE(builder().assign(Field::channel, ValueType::string, "hawala", error_));
  expect_finish_ok();
  EXPECT_EQ(event_.channel, "hawala");
}

TEST_F(EventBuilderTest, DefaultAppliesWhenValueIsNull) {
  rule(schema_, Field::channel).default_value = "bank";
  begin_valid();
  ASSERT_TRUE(builder().assign(Field::channel, ValueType::null, {}, error_));
  expect_finish_ok();
  EXPECT_EQ(event_.channel, "bank");
}

TEST_F(EventBuilderTest, DefaultsGoThroughTheValueMapAndValidation) {
  rule(schema_, Field::kind).value_map = {{"SALA", "salary"}};
  rule(schema_, Field::kind).default_value = "SALA";
  begin_valid(Field::kind);
  expect_finish_ok();
  EXPECT_EQ(event_.kind, Kind::salary);
  rule(schema_, Field::kind).default_value = "wire";
  begin_valid(Field::kind);
  expect_finish_fails(Reason::bad_value,
                      "kind: \"wire\" is not one of transfer, remittance, cash_in, cash_out, "
                      "salary, fee, card");
}

TEST_F(EventBuilderTest, LineNumberPrefixGeneratesIds) {
  rule(schema_, Field::id).line_number_prefix = "amlsim-";
  begin_valid(Field::id);  // begins with line 7
  expect_finish_ok();
  EXPECT_EQ(event_.id, "amlsim-7");
  EXPECT_TRUE(event_.has(Field::id));
  builder().begin(event_, 123456789012);
  for (const auto& [f, v] : {std::pair<Field, std::string_view>{Field::ts, "2024-05-01T12:00:00Z"},
                             {Field::kind, "cash_in"},
                             {Field::amount, "1"},
                             {Field::currency, "USD"},
                             {Field::receiver_id, "r"}}) {
    ASSERT_TRUE(builder().assign(f, ValueType::text, v, error_));
  }
  expect_finish_ok();
  EXPECT_EQ(event_.id, "amlsim-123456789012");
}

TEST_F(EventBuilderTest, LineNumberPrefixWinsOverARecordValueOnlyWhenAbsent) {
  rule(schema_, Field::id).line_number_prefix = "row-";
  begin_valid();  // carries id e-1
  expect_finish_ok();
  EXPECT_EQ(event_.id, "e-1");
}

TEST_F(EventBuilderTest, TimeScaleDaysFromAnOrigin) {
  int64_t origin = 0;
  ASSERT_TRUE(parse_rfc3339("2024-01-01T00:00:00Z", origin));
  rule(schema_, Field::ts).time_scale = TimeScale{kDay, origin};
  builder().begin(event_, 1);
  ASSERT_TRUE(builder().assign(Field::ts, ValueType::text, "0", error_));
  EXPECT_EQ(event_.ts_ms, origin);
  builder().begin(event_, 1);
  ASSERT_TRUE(builder().assign(Field::ts, ValueType::text, "31", error_));
  EXPECT_EQ(format_rfc3339(event_.ts_ms), "2024-02-01T00:00:00.000Z");
  builder().begin(event_, 1);
  ASSERT_TRUE(builder().assign(Field::ts, ValueType::number, "366", error_));
  EXPECT_EQ(format_rfc3339(event_.ts_ms), "2025-01-01T00:00:00.000Z");
  builder().begin(event_, 1);
  ASSERT_TRUE(builder().assign(Field::ts, ValueType::text, "-1", error_));
  EXPECT_EQ(format_rfc3339(event_.ts_ms), "2023-12-31T00:00:00.000Z");
  // Steps that land outside the accepted range are bad timestamps.
  builder().begin(event_, 1);
  expect_assign_fails(Field::ts, ValueType::text, "40000", Reason::bad_timestamp,
                      "ts: \"40000\" is outside the accepted range");
  // RFC 3339 strings are not scaled.
  builder().begin(event_, 1);
  ASSERT_TRUE(builder().assign(Field::ts, ValueType::text, "2024-03-01T00:00:00Z", error_));
  EXPECT_EQ(format_rfc3339(event_.ts_ms), "2024-03-01T00:00:00.000Z");
}

TEST_F(EventBuilderTest, ValueTypeNames) {
  EXPECT_EQ(value_type_name(ValueType::string), "string");
  EXPECT_EQ(value_type_name(ValueType::number), "number");
  EXPECT_EQ(value_type_name(ValueType::boolean), "boolean");
  EXPECT_EQ(value_type_name(ValueType::null), "null");
  EXPECT_EQ(value_type_name(ValueType::object), "object");
  EXPECT_EQ(value_type_name(ValueType::array), "array");
  EXPECT_EQ(value_type_name(ValueType::text), "text");
}

}  // namespace
}  // namespace corridor::event
