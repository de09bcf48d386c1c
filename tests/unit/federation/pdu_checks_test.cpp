// The pure PDU checks shared by the intake and the membership handshakes: which signatures an
// event must carry, their verification with fetched keys, and the rules on a pushed event.
#include "federation/pdu_checks.h"

#include <boost/test/unit_test.hpp>

#include "homeserver/rooms/redaction.h"
#include "tests/unit/rooms/test_room.h"

namespace haven::federation {
namespace {

using rooms::test::EventSpec;
using rooms::test::TestRoom;

const std::string kAlice = "@alice:hs1.test";
const std::string kBob = "@bob:hs2.test";

std::vector<SigningKey> with_key(std::vector<SigningKey> wanted, const std::string& public_key) {
  for (SigningKey& k : wanted) k.key = KnownKey{public_key, int64_t{1} << 50, 0};
  return wanted;
}

struct Joined {
  TestRoom room{rooms::test::v12(), kAlice};
  rooms::EventPtr bob_join;
  Joined() {
    room.join(kAlice);
    bob_join = room.make({kBob, "m.room.member", kBob, R"({"membership":"join"})"});
  }
  rapidjson::Document redacted() const {
    return rooms::redact(bob_join->json(), bob_join->version());
  }
};

BOOST_AUTO_TEST_CASE(a_signed_event_verifies_with_its_servers_key) {
  Joined j;
  auto wanted = signing_keys_wanted(*j.bob_join, {"hs2.test"});
  BOOST_REQUIRE(wanted.ok());
  BOOST_REQUIRE_EQUAL(wanted->size(), 1u);
  BOOST_TEST((*wanted)[0].key_id == rooms::test::test_key().key_id());
  auto keys = with_key(*wanted, rooms::test::test_key().public_key());
  BOOST_TEST(verify_signatures(j.redacted(), keys).ok());
}

BOOST_AUTO_TEST_CASE(a_wrong_or_missing_key_fails_naming_the_server) {
  Joined j;
  auto wanted = signing_keys_wanted(*j.bob_join, {"hs2.test"});
  BOOST_REQUIRE(wanted.ok());
  auto other = crypto::SigningKey::generate("other");
  Status wrong = verify_signatures(j.redacted(), with_key(*wanted, other.public_key()));
  BOOST_REQUIRE(!wrong.ok());
  BOOST_TEST(wrong.error().errcode == "M_FORBIDDEN");
  BOOST_TEST(wrong.error().message.find("hs2.test") != std::string::npos);
  BOOST_TEST(!verify_signatures(j.redacted(), *wanted).ok());  // keys never fetched
}

BOOST_AUTO_TEST_CASE(a_server_that_did_not_sign_is_refused_before_any_key_is_fetched) {
  Joined j;
  auto wanted = signing_keys_wanted(*j.bob_join, {"hs2.test", "hs3.test"});
  BOOST_REQUIRE(!wanted.ok());
  BOOST_TEST(wanted.error().message == "The event is not signed by hs3.test");
}

BOOST_AUTO_TEST_CASE(a_pushed_event_must_match_its_path_and_origin) {
  Joined j;
  const auto& ev = *j.bob_join;
  BOOST_TEST(check_pushed_event(ev, "hs2.test", j.room.room_id, ev.event_id()).ok());
  auto message = [&](const std::string& origin, const std::string& room, const std::string& id) {
    Status s = check_pushed_event(ev, origin, room, id);
    BOOST_REQUIRE(!s.ok());
    BOOST_TEST(s.error().errcode == "M_INVALID_PARAM");
    return s.error().message;
  };
  BOOST_TEST(message("hs2.test", j.room.room_id, "$other") ==
             "The event id in the path is not the event's id");
  BOOST_TEST(message("hs2.test", "!other:hs1.test", ev.event_id()) ==
             "The event is for another room");
  BOOST_TEST(message("hs3.test", j.room.room_id, ev.event_id()) ==
             "The sender is not a user of the origin server");
}

BOOST_AUTO_TEST_CASE(a_pushed_event_with_a_changed_content_is_refused) {
  Joined j;
  rapidjson::Document changed;
  changed.CopyFrom(j.bob_join->json(), changed.GetAllocator());
  changed["content"].AddMember("displayname", "Mallory", changed.GetAllocator());
  auto ev = rooms::Event::from_json(std::move(changed), j.bob_join->version());
  BOOST_REQUIRE(ev.ok());
  BOOST_TEST(!content_hash_matches(**ev));
  BOOST_TEST(content_hash_matches(*j.bob_join));
  Status s = check_pushed_event(**ev, "hs2.test", j.room.room_id, (*ev)->event_id());
  BOOST_REQUIRE(!s.ok());
  BOOST_TEST(s.error().message == "The event's content hash is wrong");
}

}  // namespace
}  // namespace haven::federation
