// The transaction body built from queued items.
#include "appservices/sender.h"

#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>

namespace haven::appservice {

BOOST_AUTO_TEST_CASE(events_ephemeral_and_to_device_go_in_their_own_lists) {
  std::vector<QueuedItem> items = {{1, ItemKind::kEvent, R"({"event_id":"$a"})"},
                                   {2, ItemKind::kEphemeral, R"({"type":"m.typing"})"},
                                   {3, ItemKind::kEvent, R"({"event_id":"$b"})"},
                                   {4, ItemKind::kToDevice, R"({"type":"m.test"})"}};
  rapidjson::Document d;
  d.Parse(Sender::transaction_body(items));
  BOOST_REQUIRE(d.IsObject());
  BOOST_REQUIRE_EQUAL(d["events"].Size(), 2u);
  BOOST_CHECK_EQUAL(d["events"][1]["event_id"].GetString(), std::string("$b"));
  BOOST_CHECK_EQUAL(d["ephemeral"].Size(), 1u);
  BOOST_CHECK_EQUAL(d["de.sorunome.msc2409.ephemeral"].Size(), 1u);
  BOOST_CHECK_EQUAL(d["de.sorunome.msc2409.to_device"].Size(), 1u);
}

BOOST_AUTO_TEST_CASE(a_body_without_ephemeral_data_has_only_events) {
  rapidjson::Document d;
  d.Parse(Sender::transaction_body({{1, ItemKind::kEvent, "{}"}}));
  BOOST_REQUIRE(d.IsObject());
  BOOST_CHECK_EQUAL(d.MemberCount(), 1u);
}

BOOST_AUTO_TEST_CASE(items_of_purged_rooms_are_left_out) {
  rapidjson::Document d;
  d.Parse(Sender::transaction_body({{1, ItemKind::kEvent, ""},
                                    {2, ItemKind::kEvent, R"({"event_id":"$b"})"},
                                    {3, ItemKind::kEvent, ""}}));
  BOOST_REQUIRE(d.IsObject());
  BOOST_REQUIRE_EQUAL(d["events"].Size(), 1u);
  BOOST_CHECK_EQUAL(d["events"][0]["event_id"].GetString(), std::string("$b"));
}

}  // namespace haven::appservice
