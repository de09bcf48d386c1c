"""The published room directory over the Client-Server API: publishing through createRoom's
visibility and PUT /directory/list/room/{roomId}, who may change a listing, GET and POST
/publicRooms with filters and pagination, rooms leaving the list when emptied or purged, the
care rule for temporary conversations, and the refusals of bad input."""

import time
import unittest

from harness import HomeserverTestCase, quote, unique

V2_ADMIN = "/_synapse/admin/v2"


class DirectoryTestCase(HomeserverTestCase):
    options = {"rooms.encryption_enabled_by_default": "false"}

    def create_room(self, who, **body):
        return self.ok(who, "POST", "/createRoom", body)["room_id"]

    def visibility(self, room, who=None):
        return self.ok(who, "GET", f"/directory/list/room/{quote(room)}")["visibility"]

    def set_visibility(self, who, room, visibility):
        return self.req(who, "PUT", f"/directory/list/room/{quote(room)}",
                        {"visibility": visibility})

    def search(self, who, term, **body):
        body["filter"] = dict(body.get("filter", {}), generic_search_term=term)
        return self.ok(who, "POST", "/publicRooms", body)

    def listed_ids(self, who, term):
        return [r["room_id"] for r in self.search(who, term)["chunk"]]


class PublishingTest(DirectoryTestCase):
    def test_create_room_with_public_visibility_publishes_it(self):
        alice = self.user()
        term = unique("garden")
        room = self.create_room(alice, visibility="public", name=f"The {term} club")
        self.assertEqual(self.visibility(room), "public")
        self.assertEqual(self.listed_ids(alice, term), [room])

    def test_create_room_without_visibility_stays_unlisted(self):
        alice = self.user()
        term = unique("quiet")
        room = self.create_room(alice, preset="public_chat", name=term)
        self.assertEqual(self.visibility(room), "private")
        self.assertEqual(self.listed_ids(alice, term), [])

    def test_put_publishes_and_unpublishes(self):
        alice = self.user()
        term = unique("choir")
        room = self.create_room(alice, preset="public_chat", name=term)
        self.ok(alice, "PUT", f"/directory/list/room/{quote(room)}", {"visibility": "public"})
        self.assertEqual(self.visibility(room), "public")
        self.assertEqual(self.listed_ids(alice, term), [room])
        # Publishing twice is no change.
        self.ok(alice, "PUT", f"/directory/list/room/{quote(room)}", {"visibility": "public"})
        self.ok(alice, "PUT", f"/directory/list/room/{quote(room)}", {"visibility": "private"})
        self.assertEqual(self.visibility(room), "private")
        self.assertEqual(self.listed_ids(alice, term), [])

    def test_put_without_visibility_means_public(self):
        alice = self.user()
        room = self.create_room(alice, preset="public_chat")
        self.ok(alice, "PUT", f"/directory/list/room/{quote(room)}", {})
        self.assertEqual(self.visibility(room), "public")

    def test_member_without_power_cannot_change_the_listing(self):
        alice, bob = self.user(), self.user()
        room = self.create_room(alice, preset="public_chat")
        self.ok(bob, "POST", f"/join/{quote(room)}", {})
        self.assertError(self.set_visibility(bob, room, "public"), 403, "M_FORBIDDEN")
        self.assertEqual(self.visibility(room), "private")

    def test_non_member_cannot_change_the_listing(self):
        alice, mallory = self.user(), self.user()
        room = self.create_room(alice, visibility="public")
        self.assertError(self.set_visibility(mallory, room, "private"), 403, "M_FORBIDDEN")
        self.assertEqual(self.visibility(room), "public")

    def test_server_admin_may_change_any_listing(self):
        alice = self.user()
        status, admin = self.client.shared_secret_register(unique("admin"), admin=True)
        self.assertEqual(status, 200, admin)
        room = self.create_room(alice, preset="public_chat")
        self.ok(admin, "PUT", f"/directory/list/room/{quote(room)}", {"visibility": "public"})
        self.assertEqual(self.visibility(room), "public")
        # The admin API's room details say so too.
        details = self.ok(admin, "GET", f"/_synapse/admin/v1/rooms/{quote(room)}")
        self.assertIs(details["public"], True)

    def test_moderator_with_canonical_alias_power_may_publish(self):
        alice, bob = self.user(), self.user()
        room = self.create_room(alice, preset="public_chat", room_version="11",
                                power_level_content_override={"users": {
                                    alice["user_id"]: 100, bob["user_id"]: 50}})
        self.ok(bob, "POST", f"/join/{quote(room)}", {})
        self.ok(bob, "PUT", f"/directory/list/room/{quote(room)}", {"visibility": "public"})
        self.assertEqual(self.visibility(room), "public")

    def test_visibility_of_unknown_room_is_not_found(self):
        alice = self.user()
        missing = f"!{unique('nope')}:{self.server.server_name}"
        self.assertError(self.req(None, "GET", f"/directory/list/room/{quote(missing)}"),
                         404, "M_NOT_FOUND")
        self.assertError(self.set_visibility(alice, missing, "public"), 404, "M_NOT_FOUND")

    def test_bad_visibility_values_are_refused(self):
        alice = self.user()
        room = self.create_room(alice)
        self.assertError(self.set_visibility(alice, room, "everyone"), 400, "M_INVALID_PARAM")
        self.assertError(self.set_visibility(alice, room, 7), 400, "M_BAD_JSON")
        self.assertError(self.req(alice, "PUT", f"/directory/list/room/{quote(room)}",
                                  raw_body=b"{nope"), 400, "M_NOT_JSON")
        self.assertError(self.req(alice, "PUT", "/directory/list/room/not-a-room",
                                  {"visibility": "public"}), 400, "M_INVALID_PARAM")
        self.assertError(self.req(None, "PUT", f"/directory/list/room/{quote(room)}",
                                  {"visibility": "public"}), 401, "M_MISSING_TOKEN")
        self.assertEqual(self.visibility(room), "private")

    def test_temporary_conversation_cannot_be_published(self):
        alice = self.user()
        marker = {"org.haven.temporary": True}
        self.assertError(self.req(alice, "POST", "/createRoom",
                                  {"visibility": "public", "creation_content": marker}),
                         403, "M_FORBIDDEN")
        room = self.create_room(alice, preset="public_chat", creation_content=marker)
        status, body = self.set_visibility(alice, room, "public")
        self.assertError((status, body), 403, "M_FORBIDDEN")
        self.assertIn("temporary", body["error"])
        self.assertEqual(self.visibility(room), "private")
        self.ok(alice, "PUT", f"/directory/list/room/{quote(room)}", {"visibility": "private"})


class ListingTest(DirectoryTestCase):
    def test_entry_shows_the_rooms_current_state(self):
        alice, bob = self.user(), self.user()
        term = unique("Library")
        alias_name = unique("lib")
        room = self.create_room(alice, visibility="public", preset="public_chat",
                                name=f"{term} corner", topic="Books and tea",
                                room_alias_name=alias_name,
                                initial_state=[
                                    {"type": "m.room.history_visibility", "state_key": "",
                                     "content": {"history_visibility": "world_readable"}},
                                    {"type": "m.room.guest_access", "state_key": "",
                                     "content": {"guest_access": "can_join"}},
                                    {"type": "m.room.avatar", "state_key": "",
                                     "content": {"url": "mxc://example.org/abc"}}])
        self.ok(bob, "POST", f"/join/{quote(room)}", {})
        self.ok(alice, "PUT", f"/rooms/{quote(room)}/state/m.room.topic/", {"topic": "Now: poems"})
        [entry] = self.search(alice, term.lower())["chunk"]
        self.assertEqual(entry["room_id"], room)
        self.assertEqual(entry["name"], f"{term} corner")
        self.assertEqual(entry["topic"], "Now: poems")
        self.assertEqual(entry["canonical_alias"], f"#{alias_name}:{self.server.server_name}")
        self.assertEqual(entry["num_joined_members"], 2)
        self.assertTrue(entry["world_readable"])
        self.assertTrue(entry["guest_can_join"])
        self.assertEqual(entry["join_rule"], "public")
        self.assertEqual(entry["avatar_url"], "mxc://example.org/abc")
        self.assertNotIn("room_type", entry)

    def test_search_is_case_insensitive_on_name_topic_and_alias(self):
        alice = self.user()
        term = unique("zebra")
        by_name = self.create_room(alice, visibility="public", name=f"{term.upper()} room")
        by_topic = self.create_room(alice, visibility="public", topic=f"about {term}")
        by_alias = self.create_room(alice, visibility="public", room_alias_name=f"x{term}")
        self.create_room(alice, visibility="public", name="unrelated")
        self.assertEqual(set(self.listed_ids(alice, term.capitalize())),
                         {by_name, by_topic, by_alias})

    def test_room_types_filter(self):
        alice = self.user()
        term = unique("typed")
        space = self.create_room(alice, visibility="public", name=term,
                                 creation_content={"type": "m.space"})
        plain = self.create_room(alice, visibility="public", name=term)
        self.assertEqual(set(self.listed_ids(alice, term)), {space, plain})
        only_spaces = self.search(alice, term, filter={"room_types": ["m.space"]})["chunk"]
        self.assertEqual([r["room_id"] for r in only_spaces], [space])
        self.assertEqual(only_spaces[0]["room_type"], "m.space")
        untyped = self.search(alice, term, filter={"room_types": [None]})["chunk"]
        self.assertEqual([r["room_id"] for r in untyped], [plain])
        both = self.search(alice, term, filter={"room_types": [None, "m.space"]})["chunk"]
        self.assertEqual({r["room_id"] for r in both}, {space, plain})

    def test_ordered_by_joined_members_then_room_id(self):
        alice = self.user()
        term = unique("order")
        rooms = [self.create_room(alice, visibility="public", preset="public_chat", name=term)
                 for _ in range(4)]
        for _ in range(2):
            joiner = self.user()
            self.ok(joiner, "POST", f"/join/{quote(rooms[3])}", {})
        self.ok(self.user(), "POST", f"/join/{quote(rooms[1])}", {})
        chunk = self.search(alice, term)["chunk"]
        expected = [rooms[3], rooms[1]] + sorted([rooms[0], rooms[2]])
        self.assertEqual([r["room_id"] for r in chunk], expected)
        self.assertEqual([r["num_joined_members"] for r in chunk], [3, 2, 1, 1])

    def test_room_left_by_everyone_disappears(self):
        alice = self.user()
        term = unique("empty")
        room = self.create_room(alice, visibility="public", name=term)
        self.assertEqual(self.listed_ids(alice, term), [room])
        self.ok(alice, "POST", f"/rooms/{quote(room)}/leave", {})
        self.assertEqual(self.listed_ids(alice, term), [])

    def test_purged_room_disappears(self):
        alice = self.user()
        status, admin = self.client.shared_secret_register(unique("admin"), admin=True)
        self.assertEqual(status, 200, admin)
        term = unique("purged")
        room = self.create_room(alice, visibility="public", name=term)
        delete_id = self.ok(admin, "DELETE", V2_ADMIN + f"/rooms/{quote(room)}",
                            {"purge": True})["delete_id"]
        deadline = time.monotonic() + 30
        state = None
        while time.monotonic() < deadline:
            state = self.ok(admin, "GET", V2_ADMIN + f"/rooms/delete_status/{delete_id}")
            if state["status"] in ("complete", "failed"):
                break
            time.sleep(0.1)
        self.assertEqual(state["status"], "complete", state)
        self.assertEqual(self.listed_ids(alice, term), [])
        self.assertError(self.req(None, "GET", f"/directory/list/room/{quote(room)}"),
                         404, "M_NOT_FOUND")

    def test_get_needs_no_token_but_a_bad_token_is_refused(self):
        alice = self.user()
        term = unique("open")
        room = self.create_room(alice, visibility="public", name=term)
        status, reply = self.req(None, "GET", "/publicRooms")
        self.assertEqual(status, 200, reply)
        self.assertIn(room, [r["room_id"] for r in reply["chunk"]])
        self.assertIsInstance(reply["total_room_count_estimate"], int)
        self.assertError(self.client.request("GET", "/_matrix/client/v3/publicRooms",
                                             token="not-a-token"), 401, "M_UNKNOWN_TOKEN")
        self.assertError(self.req(None, "POST", "/publicRooms", {}), 401, "M_MISSING_TOKEN")

    def test_third_party_networks_are_accepted(self):
        alice = self.user()
        term = unique("network")
        room = self.create_room(alice, visibility="public", name=term)
        reply = self.search(alice, term, include_all_networks=True)
        self.assertEqual([r["room_id"] for r in reply["chunk"]], [room])
        # Haven bridges no third-party network: no room is published for one.
        reply = self.search(alice, term, third_party_instance_id="irc-example")
        self.assertEqual(reply["chunk"], [])
        self.assertError(self.req(alice, "POST", "/publicRooms", {
            "include_all_networks": True, "third_party_instance_id": "irc"}),
            400, "M_INVALID_PARAM")

    def test_limit_is_capped(self):
        alice = self.user()
        self.create_room(alice, visibility="public")
        reply = self.ok(alice, "POST", "/publicRooms", {"limit": 10 ** 9})
        self.assertGreaterEqual(len(reply["chunk"]), 1)
        reply = self.ok(None, "GET", "/publicRooms?limit=0")
        self.assertGreaterEqual(len(reply["chunk"]), 1)

    def test_bad_inputs_are_refused(self):
        alice = self.user()
        cases = [
            ({"limit": "ten"}, 400, "M_BAD_JSON"),
            ({"limit": -1}, 400, "M_INVALID_PARAM"),
            ({"since": "garbage!"}, 400, "M_INVALID_PARAM"),
            ({"since": 5}, 400, "M_BAD_JSON"),
            ({"filter": "x"}, 400, "M_BAD_JSON"),
            ({"filter": {"generic_search_term": 3}}, 400, "M_BAD_JSON"),
            ({"filter": {"generic_search_term": "x" * 1000}}, 400, "M_INVALID_PARAM"),
            ({"filter": {"room_types": "m.space"}}, 400, "M_BAD_JSON"),
            ({"filter": {"room_types": [1]}}, 400, "M_BAD_JSON"),
            ({"filter": {"room_types": ["t"] * 100}}, 400, "M_INVALID_PARAM"),
            ({"include_all_networks": "yes"}, 400, "M_BAD_JSON"),
        ]
        for body, status, errcode in cases:
            with self.subTest(body=str(body)[:80]):
                self.assertError(self.req(alice, "POST", "/publicRooms", body), status, errcode)
        self.assertError(self.req(alice, "POST", "/publicRooms", raw_body=b"[1,"), 400,
                         "M_NOT_JSON")
        self.assertError(self.req(alice, "POST", "/publicRooms", raw_body=b"[]"), 400,
                         "M_BAD_JSON")
        for query in ("limit=abc", "limit=-3", "since=%00%01", "since=bm90LWEtdG9rZW4",
                      "include_all_networks=maybe", "server=bad%20name"):
            with self.subTest(query=query):
                self.assertError(self.req(None, "GET", f"/publicRooms?{query}"), 400,
                                 "M_INVALID_PARAM")
        # Another server's directory is asked only for a user; this one does not federate.
        self.assertError(self.req(None, "GET", "/publicRooms?server=other.example"), 401,
                         "M_MISSING_TOKEN")
        self.assertError(self.req(alice, "GET", "/publicRooms?server=other.example"), 403,
                         "M_FORBIDDEN")
        self.assertServerAlive()


class PaginationTest(DirectoryTestCase):
    """A server of its own, so the pages hold only this test's rooms."""

    def test_pages_forward_and_back_without_duplicates_or_misses(self):
        alice = self.user()
        rooms = [self.create_room(alice, visibility="public", preset="public_chat",
                                  name=unique("page")) for _ in range(7)]
        for i, room in enumerate(rooms[:3]):
            for _ in range(i + 1):
                self.ok(self.user(), "POST", f"/join/{quote(room)}", {})
        everything = self.ok(None, "GET", "/publicRooms")
        self.assertEqual(everything["total_room_count_estimate"], 7)
        self.assertNotIn("next_batch", everything)
        order = [r["room_id"] for r in everything["chunk"]]
        self.assertEqual(sorted(order), sorted(rooms))
        self.assertEqual(order[:3], [rooms[2], rooms[1], rooms[0]])

        pages, token = [], None
        while True:
            query = "limit=3" + (f"&since={quote(token)}" if token else "")
            page = self.ok(None, "GET", f"/publicRooms?{query}")
            pages.append(page)
            self.assertLessEqual(len(page["chunk"]), 3)
            self.assertEqual("prev_batch" in page, len(pages) > 1)
            token = page.get("next_batch")
            if not token:
                break
            self.assertLess(len(pages), 5, "pagination does not end")
        self.assertEqual([len(p["chunk"]) for p in pages], [3, 3, 1])
        self.assertEqual([r["room_id"] for p in pages for r in p["chunk"]], order)

        # Back from the last page through prev_batch, with POST this time.
        back = self.ok(alice, "POST", "/publicRooms",
                       {"limit": 3, "since": pages[2]["prev_batch"]})
        self.assertEqual(back["chunk"], pages[1]["chunk"])
        back = self.ok(alice, "POST", "/publicRooms", {"limit": 3, "since": back["prev_batch"]})
        self.assertEqual(back["chunk"], pages[0]["chunk"])
        self.assertNotIn("prev_batch", back)

        # A token stays good while rooms come and go: a room unpublished before the page
        # is asked for is not shown, and the rest is not shifted.
        self.ok(alice, "PUT", f"/directory/list/room/{quote(order[4])}", {"visibility": "private"})
        page = self.ok(None, "GET", f"/publicRooms?limit=3&since={quote(pages[0]['next_batch'])}")
        self.assertEqual([r["room_id"] for r in page["chunk"]], [order[3], order[5], order[6]])


if __name__ == "__main__":
    unittest.main()
