#include "homeserver/rooms/room_version.h"

#include <boost/test/unit_test.hpp>

namespace haven::rooms {

BOOST_AUTO_TEST_SUITE(room_version)

BOOST_AUTO_TEST_CASE(supports_10_11_12_and_nothing_else) {
  BOOST_TEST(find_room_version("10") != nullptr);
  BOOST_TEST(find_room_version("11") != nullptr);
  BOOST_TEST(find_room_version("12") != nullptr);
  BOOST_TEST(find_room_version("9") == nullptr);
  BOOST_TEST(find_room_version("13") == nullptr);
  BOOST_TEST(find_room_version("") == nullptr);
  BOOST_TEST(supported_room_versions().size() == 3u);
}

BOOST_AUTO_TEST_CASE(default_version_is_supported) {
  BOOST_TEST(find_room_version(kDefaultRoomVersion) != nullptr);
}

BOOST_AUTO_TEST_CASE(v10_has_creator_field_and_top_level_redacts) {
  const RoomVersion& v = *find_room_version("10");
  BOOST_TEST(v.create_has_creator_field);
  BOOST_TEST(!v.redacts_in_content);
  BOOST_TEST((v.redaction == RedactionRules::kV9));
  BOOST_TEST(!v.creators_privileged);
}

BOOST_AUTO_TEST_CASE(v11_uses_sender_as_creator_and_content_redacts) {
  const RoomVersion& v = *find_room_version("11");
  BOOST_TEST(!v.create_has_creator_field);
  BOOST_TEST(v.redacts_in_content);
  BOOST_TEST((v.redaction == RedactionRules::kV11));
  BOOST_TEST(!v.room_id_from_create_event);
}

BOOST_AUTO_TEST_CASE(v12_derives_room_id_and_privileges_creators) {
  const RoomVersion& v = *find_room_version("12");
  BOOST_TEST(v.room_id_from_create_event);
  BOOST_TEST(v.creators_privileged);
  BOOST_TEST((v.state_res == StateResAlgorithm::kV2Empty));
  BOOST_TEST((v.redaction == RedactionRules::kV11));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::rooms
