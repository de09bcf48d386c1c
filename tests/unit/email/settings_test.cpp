// The frequency setting: names, what clients may store, what is read back.
#include "homeserver/email/settings.h"

#include <boost/test/unit_test.hpp>
#include <optional>
#include <ostream>

#include "homeserver/sync/streams.h"
#include "tests/unit/support/test_store.h"

namespace haven::email {

std::ostream& operator<<(std::ostream& out, Frequency f) { return out << frequency_name(f); }
std::ostream& operator<<(std::ostream& out, const std::optional<Frequency>& f) {
  return f ? out << *f : out << "nullopt";
}

BOOST_AUTO_TEST_SUITE(settings)

BOOST_AUTO_TEST_CASE(names_round_trip) {
  for (Frequency f :
       {Frequency::kImmediate, Frequency::kHourly, Frequency::kDaily, Frequency::kOff}) {
    BOOST_TEST(parse_frequency(frequency_name(f)) == f);
  }
  BOOST_TEST(!parse_frequency("weekly").has_value());
  BOOST_TEST(!parse_frequency("").has_value());
  BOOST_TEST(!parse_frequency("Immediate").has_value());
}

BOOST_AUTO_TEST_CASE(content_is_checked) {
  auto check_text = [](const char* text) { return check_settings(json::parse_trusted(text)); };
  BOOST_TEST(check_text(R"({"email_frequency":"daily"})").ok());
  BOOST_TEST(check_text(R"({"other":1})").ok());
  BOOST_TEST(check_text(R"({"email_frequency":"weekly"})").error().errcode == "M_INVALID_PARAM");
  BOOST_TEST(check_text(R"({"email_frequency":3})").error().errcode == "M_BAD_JSON");
  BOOST_TEST(check_text(R"({"email_frequency":["off"]})").error().errcode == "M_BAD_JSON");
}

BOOST_AUTO_TEST_CASE(stored_frequency_or_the_default) {
  test::TestStore ts;
  BOOST_TEST(frequency_of(*ts.read(), "@a:x") == Frequency::kImmediate);
  ts.write([](storage::WriteTxn& txn) {
    return streams::put_account_data(txn, "@a:x", "", kSettingsType,
                                     R"({"email_frequency":"off"})");
  });
  BOOST_TEST(frequency_of(*ts.read(), "@a:x") == Frequency::kOff);
  BOOST_TEST(frequency_of(*ts.read(), "@b:x") == Frequency::kImmediate);
  // Per-room account data of the same type is not the setting.
  ts.write([](storage::WriteTxn& txn) {
    return streams::put_account_data(txn, "@b:x", "!r:x", kSettingsType,
                                     R"({"email_frequency":"off"})");
  });
  BOOST_TEST(frequency_of(*ts.read(), "@b:x") == Frequency::kImmediate);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::email
