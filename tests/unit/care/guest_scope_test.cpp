#include "homeserver/client/guest_scope.h"

#include <boost/test/unit_test.hpp>

using haven::client::guest_may_request;

namespace {
const char* kUser = "@care_guest_a:hs";
const char* kRoom = "!room:hs";
}  // namespace

BOOST_AUTO_TEST_SUITE(guest_scope)

BOOST_AUTO_TEST_CASE(guest_reaches_its_room_and_client_plumbing) {
  BOOST_TEST(guest_may_request("/_matrix/client/v3/rooms/%21room%3Ahs/send/m.room.message/1", kUser, kRoom));
  BOOST_TEST(guest_may_request("/_matrix/client/v3/rooms/!room:hs/messages", kUser, kRoom));
  BOOST_TEST(guest_may_request("/_matrix/client/v3/sync", kUser, kRoom));
  BOOST_TEST(guest_may_request("/_matrix/client/v3/keys/upload", kUser, kRoom));
  BOOST_TEST(guest_may_request("/_matrix/client/v3/sendToDevice/m.room_key/1", kUser, kRoom));
  BOOST_TEST(guest_may_request("/_matrix/client/v3/account/whoami", kUser, kRoom));
  BOOST_TEST(guest_may_request("/_matrix/client/v3/profile/%40care_guest_a%3Ahs", kUser, kRoom));
  BOOST_TEST(guest_may_request("/_matrix/client/v3/user/@care_guest_a:hs/filter", kUser, kRoom));
  BOOST_TEST(guest_may_request("/_matrix/client/v3/voip/turnServer", kUser, kRoom));
  BOOST_TEST(guest_may_request("/_matrix/client/v1/media/download/hs/abc", kUser, kRoom));
}

BOOST_AUTO_TEST_CASE(guest_is_refused_everything_else) {
  BOOST_TEST(!guest_may_request("/_matrix/client/v3/rooms/!other:hs/messages", kUser, kRoom));
  BOOST_TEST(!guest_may_request("/_matrix/client/v3/join/!other:hs", kUser, kRoom));
  BOOST_TEST(!guest_may_request("/_matrix/client/v3/createRoom", kUser, kRoom));
  BOOST_TEST(!guest_may_request("/_matrix/client/v3/profile/@pat:hs", kUser, kRoom));
  BOOST_TEST(!guest_may_request("/_matrix/client/v3/user/@pat:hs/filter", kUser, kRoom));
  BOOST_TEST(!guest_may_request("/_matrix/client/v3/user/@care_guest_a:hs/rooms/!other:hs/tags",
                                kUser, kRoom));
  BOOST_TEST(!guest_may_request("/_matrix/client/v3/user_directory/search", kUser, kRoom));
  BOOST_TEST(!guest_may_request("/_matrix/client/v3/account/password", kUser, kRoom));
  BOOST_TEST(!guest_may_request("/_haven/admin/v1/features", kUser, kRoom));
  BOOST_TEST(!guest_may_request("/_synapse/admin/v1/whois/@care_guest_a:hs", kUser, kRoom));
  BOOST_TEST(!guest_may_request("/_matrix/client/v3/rooms/%zz/messages", kUser, kRoom));
  BOOST_TEST(!guest_may_request("", kUser, kRoom));
}

BOOST_AUTO_TEST_SUITE_END()
