// Unit tests of homeserver/rooms/room_directory: parsing the /publicRooms query, which published
// rooms are listed (to clients and to other servers), their order and stable paging tokens.
#include "homeserver/rooms/room_directory.h"

#include <algorithm>
#include <boost/test/unit_test.hpp>

#include "homeserver/rooms/create_room.h"
#include "homeserver/rooms/room_service.h"
#include "tests/unit/rooms/test_room.h"
#include "tests/unit/support/test_store.h"

namespace haven::rooms {
namespace {

const std::string kAlice = "@alice:x";

struct Directory {
  haven::test::TestStore db;
  LocalServer server{"x", &test::test_key(), nullptr};

  std::string create(const std::string& body, bool publish = true) {
    std::string id;
    db.write([&](storage::WriteTxn& txn) {
      auto req = parse_create_room_request(test::parse(body));
      BOOST_REQUIRE(req.ok());
      auto sent = create_room(txn, server, *req, kAlice, *find_room_version("11"), {});
      BOOST_REQUIRE_MESSAGE(sent.ok(), (sent.ok() ? "" : sent.error().message));
      id = sent->front().event->room_id();
      if (publish) BOOST_REQUIRE(set_published(txn, id, true).ok());
      return storage::Status::ok_status();
    });
    return id;
  }

  void join(const std::string& room_id, const std::string& user) {
    db.write([&](storage::WriteTxn& txn) {
      EventDraft d;
      d.room_id = room_id;
      d.sender = user;
      d.type = "m.room.member";
      d.state_key = user;
      d.content.CopyFrom(test::parse(R"({"membership":"join"})"), d.content.GetAllocator());
      d.origin_server_ts = 1000;
      auto sent = send_event(txn, server, std::move(d));
      BOOST_REQUIRE_MESSAGE(sent.ok(), (sent.ok() ? "" : sent.error().message));
      return storage::Status::ok_status();
    });
  }

  json::Document list(const PublicRoomsQuery& query, bool for_federation = false) {
    auto txn = db.read();
    auto page = list_public_rooms(*txn, "x", query, for_federation);
    BOOST_REQUIRE_MESSAGE(page.ok(), (page.ok() ? "" : page.error().message));
    return std::move(*page);
  }
};

std::vector<std::string> ids(const json::Document& page) {
  std::vector<std::string> out;
  for (const auto& r : page["chunk"].GetArray()) out.push_back(json::get_string(r, "room_id"));
  return out;
}

PublicRoomsQuery query_from(const std::string& body) {
  auto q = parse_public_rooms_body(test::parse(body));
  BOOST_REQUIRE_MESSAGE(q.ok(), (q.ok() ? "" : q.error().message));
  return std::move(*q);
}

BOOST_AUTO_TEST_SUITE(room_directory)

BOOST_AUTO_TEST_CASE(body_is_parsed_and_bounded) {
  auto q = query_from(R"({"limit":9999,"filter":{"generic_search_term":"MiXed",
                          "room_types":[null,"m.space"]}})");
  BOOST_TEST(q.limit == kMaxPublicRoomsLimit);
  BOOST_TEST(q.search_term == "mixed");
  BOOST_REQUIRE(q.room_types.has_value());
  BOOST_TEST(q.room_types->size() == 2u);
  BOOST_TEST(!(*q.room_types)[0].has_value());
  BOOST_TEST(query_from("{}").limit == kMaxPublicRoomsLimit);
  for (const char* bad : {R"({"limit":-1})", R"({"limit":1.5})", R"({"filter":[]})",
                          R"({"filter":{"room_types":[3]}})", R"({"since":""})",
                          R"({"include_all_networks":true,"third_party_instance_id":"a"})"}) {
    BOOST_TEST_CONTEXT(bad) { BOOST_TEST(!parse_public_rooms_body(test::parse(bad)).ok()); }
  }
  BOOST_TEST(!parse_public_rooms_params(std::string("1x"), {}, {}, {}).ok());
  BOOST_TEST(!parse_public_rooms_params({}, {}, std::string("yes"), {}).ok());
  BOOST_TEST(parse_public_rooms_params(std::string("7"), {}, {}, {})->limit == 7);
}

BOOST_AUTO_TEST_CASE(lists_published_rooms_by_members_then_id) {
  Directory d;
  std::string a = d.create(R"({"preset":"public_chat","name":"Alpha"})");
  std::string b = d.create(R"({"preset":"public_chat","name":"Beta"})");
  std::string c = d.create(R"({"preset":"public_chat","name":"Gamma"})");
  d.create(R"({"preset":"public_chat","name":"Unlisted"})", /*publish=*/false);
  d.join(c, "@bob:x");
  auto page = d.list(query_from("{}"));
  std::vector<std::string> rest = {std::min(a, b), std::max(a, b)};
  BOOST_TEST(ids(page) == (std::vector<std::string>{c, rest[0], rest[1]}));
  BOOST_TEST(json::get_int(page, "total_room_count_estimate") == 3);
  BOOST_TEST(ids(d.list(query_from(R"({"filter":{"generic_search_term":"GAM"}})"))) ==
             std::vector<std::string>{c});
}

BOOST_AUTO_TEST_CASE(unfederated_rooms_are_not_listed_to_other_servers) {
  Directory d;
  std::string open = d.create(R"({"preset":"public_chat"})");
  std::string local =
      d.create(R"({"preset":"public_chat","creation_content":{"m.federate":false}})");
  BOOST_TEST(ids(d.list(query_from("{}"), true)) == std::vector<std::string>{open});
  auto to_clients = ids(d.list(query_from("{}"), false));
  BOOST_TEST(to_clients.size() == 2u);
  BOOST_TEST((std::find(to_clients.begin(), to_clients.end(), local) != to_clients.end()));
}

BOOST_AUTO_TEST_CASE(tokens_page_forward_and_back_and_reject_garbage) {
  Directory d;
  for (int i = 0; i < 5; ++i) d.create(R"({"preset":"public_chat"})");
  auto all = ids(d.list(query_from("{}")));
  auto first = d.list(query_from(R"({"limit":2})"));
  BOOST_TEST(!first.HasMember("prev_batch"));
  std::string next = json::get_string(first, "next_batch");
  auto second = d.list(query_from(R"({"limit":2,"since":")" + next + R"("})"));
  BOOST_TEST(ids(second) == (std::vector<std::string>{all[2], all[3]}));
  std::string prev = json::get_string(second, "prev_batch");
  BOOST_TEST(ids(d.list(query_from(R"({"limit":2,"since":")" + prev + R"("})"))) == ids(first));
  auto txn = d.db.read();
  for (const char* bad : {"abc", "n", "bjE6", "!!!!"}) {
    BOOST_TEST_CONTEXT(bad) {
      PublicRoomsQuery q;
      q.since = bad;
      auto r = list_public_rooms(*txn, "x", q, false);
      BOOST_TEST(!r.ok());
      if (!r.ok()) BOOST_TEST(r.error().errcode == "M_INVALID_PARAM");
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace haven::rooms
