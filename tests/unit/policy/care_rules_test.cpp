// Unit tests of homeserver/policy/care_rules: who is whose contact (R2) and the nickname
// marker a local member event gets.
#include "homeserver/policy/care_rules.h"

#include <boost/test/unit_test.hpp>

#include "homeserver/accounts/account_store.h"
#include "homeserver/base/json.h"
#include "tests/unit/support/test_store.h"

namespace haven::policy {
namespace {

using test::TestStore;

struct Org {
  TestStore db;
  CarePolicy rules{conf::Care{}, "x"};
  Org() {
    db.write([](storage::WriteTxn& txn) {
      for (const char* pro : {"@p1:x", "@p2:x"}) {
        if (auto s = set_role(txn, pro, Role::kProfessional); !s.ok()) return s;
      }
      if (auto s = set_role(txn, "@c1:x", Role::kClient); !s.ok()) return s;
      if (auto s = link(txn, "@c1:x", "@p1:x"); !s.ok()) return s;
      return link(txn, "@c1:x", "@dr:other");
    });
  }
};

BOOST_AUTO_TEST_CASE(professionals_are_each_others_contacts_clients_only_through_links) {
  Org org;
  auto txn = org.db.read();
  BOOST_TEST(org.rules.are_contacts(*txn, "@p1:x", "@p2:x"));
  BOOST_TEST(org.rules.are_contacts(*txn, "@c1:x", "@p1:x"));
  BOOST_TEST(!org.rules.are_contacts(*txn, "@c1:x", "@p2:x"));
  BOOST_TEST(org.rules.are_contacts(*txn, "@c1:x", "@dr:other"));
  // Users without a role count as clients; everyone is their own contact.
  BOOST_TEST(!org.rules.are_contacts(*txn, "@new:x", "@p1:x"));
  BOOST_TEST(org.rules.are_contacts(*txn, "@new:x", "@new:x"));
  BOOST_TEST((org.rules.role_of(*txn, "@new:x") == Role::kClient));
}

BOOST_AUTO_TEST_CASE(a_remote_user_with_a_professional_role_record_is_not_a_professional) {
  Org org;
  org.db.write(
      [](storage::WriteTxn& txn) { return set_role(txn, "@p9:other", Role::kProfessional); });
  auto txn = org.db.read();
  BOOST_TEST(!org.rules.are_contacts(*txn, "@p1:x", "@p9:other"));
}

BOOST_AUTO_TEST_CASE(contacts_of_lists_links_and_fellow_professionals_sorted) {
  Org org;
  auto txn = org.db.read();
  BOOST_TEST(org.rules.contacts_of(*txn, "@p1:x") == (std::vector<std::string>{"@c1:x", "@p2:x"}));
  BOOST_TEST(org.rules.contacts_of(*txn, "@c1:x") ==
             (std::vector<std::string>{"@dr:other", "@p1:x"}));
}

rooms::EventDraft join_draft(const std::string& user, const char* displayname, bool marker) {
  rooms::EventDraft d;
  d.room_id = "!r:x";
  d.sender = user;
  d.type = "m.room.member";
  d.state_key = user;
  auto& a = d.content.GetAllocator();
  json::set(d.content, "membership", "join", a);
  if (displayname) json::set(d.content, "displayname", displayname, a);
  if (marker) json::set(d.content, kNicknameMarker, true, a);
  return d;
}

BOOST_AUTO_TEST_CASE(a_displayname_other_than_the_profile_is_marked_as_a_nickname) {
  Org org;
  org.db.write([](storage::WriteTxn& txn) {
    accounts::User u;
    u.user_id = "@c1:x";
    u.displayname = "Carla";
    return accounts::put_user(txn, u);
  });
  auto check = [&](const char* name, bool client_marker) {
    auto d = join_draft("@c1:x", name, client_marker);
    org.db.write([&](storage::WriteTxn& txn) {
      BOOST_REQUIRE(org.rules.prepare(txn, d).ok());
      return storage::Status::ok_status();
    });
    return json::get_bool(d.content, std::string(kNicknameMarker).c_str());
  };
  BOOST_TEST(check("Sunflower", false));
  BOOST_TEST(!check("Carla", true));  // a client cannot mark the real name as a nickname
  BOOST_TEST(!check(nullptr, true));
}

}  // namespace
}  // namespace haven::policy
