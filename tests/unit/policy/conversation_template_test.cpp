// Unit tests of homeserver/policy/conversation_template: the power levels of R7 and how a
// createRoom request is rewritten to them.
#include "homeserver/policy/conversation_template.h"

#include <boost/test/unit_test.hpp>

namespace haven::policy {
namespace {

BOOST_AUTO_TEST_CASE(template_gives_the_creator_100_and_owner_only_events_100) {
  conf::Care config;
  auto pl = template_power_levels(config, "@owner:x");
  BOOST_TEST(pl["users"]["@owner:x"].GetInt() == 100);
  BOOST_TEST(pl["users"].MemberCount() == 1u);
  BOOST_TEST(pl["invite"].GetInt() == 100);
  BOOST_TEST(pl["events_default"].GetInt() == 0);
  BOOST_TEST(pl["events"]["m.call.member"].GetInt() == 100);
  BOOST_TEST(pl["notifications"]["room"].GetInt() == 100);
}

BOOST_AUTO_TEST_CASE(config_overrides_the_template) {
  conf::Care config;
  config.invite = 50;
  config.owner_only_events = {"m.room.name"};
  auto pl = template_power_levels(config, "@owner:x");
  BOOST_TEST(pl["invite"].GetInt() == 50);
  BOOST_TEST(pl["events"].MemberCount() == 1u);
}

BOOST_AUTO_TEST_CASE(request_is_rewritten_to_the_template) {
  conf::Care config;
  rooms::CreateRoomRequest request;
  request.preset = rooms::RoomPreset::kTrustedPrivateChat;
  rooms::InitialStateEvent pl_state;
  pl_state.type = "m.room.power_levels";
  request.initial_state.push_back(std::move(pl_state));
  rooms::InitialStateEvent name_state;
  name_state.type = "m.room.name";
  request.initial_state.push_back(std::move(name_state));
  BOOST_REQUIRE(apply_conversation_template(config, request, "@owner:x").ok());
  BOOST_TEST(request.room_version.value_or("") == "11");
  BOOST_TEST((request.preset == rooms::RoomPreset::kPrivateChat));
  BOOST_TEST(request.initial_state.size() == 1u);
  BOOST_TEST(request.power_level_content_override["users"]["@owner:x"].GetInt() == 100);
}

BOOST_AUTO_TEST_CASE(version_12_is_refused) {
  rooms::CreateRoomRequest request;
  request.room_version = "12";
  auto s = apply_conversation_template(conf::Care{}, request, "@owner:x");
  BOOST_REQUIRE(!s.ok());
  BOOST_TEST(s.error().errcode == "M_UNSUPPORTED_ROOM_VERSION");
}

}  // namespace
}  // namespace haven::policy
