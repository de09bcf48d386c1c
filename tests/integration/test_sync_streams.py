"""The streams beside room timelines: account data, filters, receipts and read markers,
typing and presence — their endpoints, their refusals, and how they reach /sync (including
waking a long-polling /sync)."""

import threading
import time
import unittest

from harness import HomeserverTestCase, quote, unique

V3 = "/_matrix/client/v3"


class StreamsTestCase(HomeserverTestCase):
    options = {"rooms.encryption_enabled_by_default": "false"}

    def user(self, prefix="streams"):
        return self.client.register(unique(prefix))

    def sync(self, who, since=None, timeout=0, extra="&set_presence=offline"):
        """GET /sync; by default without marking the user online, whose presence change
        would otherwise wake the very long polls these tests watch."""
        q = f"?timeout={timeout}" + (f"&since={since}" if since else "") + extra
        return self.ok(who, "GET", "/sync" + q, timeout=timeout / 1000 + 30)

    def shared_room(self, alice, bob):
        room = self.ok(alice, "POST", "/createRoom", {"preset": "public_chat"})["room_id"]
        self.ok(bob, "POST", f"/join/{quote(room)}", {})
        return room

    def send(self, who, room, text="hello"):
        return self.ok(who, "PUT", f"/rooms/{quote(room)}/send/m.room.message/{unique('t')}",
                       {"msgtype": "m.text", "body": text})["event_id"]

    def ephemeral(self, sync, room, type_):
        joined = sync["rooms"]["join"].get(room, {})
        return [e for e in joined.get("ephemeral", {}).get("events", []) if e["type"] == type_]

    def wakes(self, who, since, action):
        """Starts a long-polling /sync from `since`, runs `action`, and returns the sync body
        and how long it took; the poll must return well before its 20 s timeout."""
        result = {}

        def poll():
            start = time.monotonic()
            result["body"] = self.sync(who, since, timeout=20000)
            result["took"] = time.monotonic() - start

        t = threading.Thread(target=poll)
        t.start()
        time.sleep(0.3)
        action()
        t.join(40)
        self.assertIn("took", result, "the long poll did not return")
        self.assertLess(result["took"], 10, "the long poll was not woken")
        return result["body"]


class AccountDataTest(StreamsTestCase):
    def path(self, who, type_, room=None):
        user = quote(who["user_id"])
        if room:
            return f"/user/{user}/rooms/{quote(room)}/account_data/{quote(type_)}"
        return f"/user/{user}/account_data/{quote(type_)}"

    def test_global_account_data_round_trips_and_overwrites(self):
        alice = self.user()
        self.ok(alice, "PUT", self.path(alice, "org.example.cfg"), {"theme": "dark"})
        self.assertEqual(self.ok(alice, "GET", self.path(alice, "org.example.cfg")),
                         {"theme": "dark"})
        self.ok(alice, "PUT", self.path(alice, "org.example.cfg"), {"theme": "light"})
        self.assertEqual(self.ok(alice, "GET", self.path(alice, "org.example.cfg")),
                         {"theme": "light"})

    def test_room_account_data_is_separate_from_global(self):
        alice = self.user()
        room = self.ok(alice, "POST", "/createRoom", {})["room_id"]
        self.ok(alice, "PUT", self.path(alice, "org.example.note", room), {"n": 1})
        self.assertEqual(self.ok(alice, "GET", self.path(alice, "org.example.note", room)),
                         {"n": 1})
        self.assertError(self.req(alice, "GET", self.path(alice, "org.example.note")), 404,
                         "M_NOT_FOUND")

    def test_unknown_type_is_not_found(self):
        alice = self.user()
        self.assertError(self.req(alice, "GET", self.path(alice, "org.example.none")), 404,
                         "M_NOT_FOUND")

    def test_other_users_account_data_is_forbidden(self):
        alice, bob = self.user(), self.user()
        self.ok(alice, "PUT", self.path(alice, "org.example.secret"), {"s": 1})
        self.assertError(self.req(bob, "GET", self.path(alice, "org.example.secret")), 403,
                         "M_FORBIDDEN")
        self.assertError(self.req(bob, "PUT", self.path(alice, "org.example.secret"), {"s": 2}),
                         403, "M_FORBIDDEN")
        room = self.ok(alice, "POST", "/createRoom", {})["room_id"]
        self.assertError(self.req(bob, "PUT", self.path(alice, "org.example.x", room), {}), 403,
                         "M_FORBIDDEN")
        self.assertEqual(self.ok(alice, "GET", self.path(alice, "org.example.secret")), {"s": 1})

    def test_server_managed_types_are_refused_with_405(self):
        alice = self.user()
        room = self.ok(alice, "POST", "/createRoom", {})["room_id"]
        for type_ in ("m.fully_read", "m.push_rules"):
            self.assertError(self.req(alice, "PUT", self.path(alice, type_), {}), 405,
                             "M_BAD_JSON")
            self.assertError(self.req(alice, "PUT", self.path(alice, type_, room), {}), 405,
                             "M_BAD_JSON")

    def test_bad_bodies_and_ids_are_refused(self):
        alice = self.user()
        self.assertError(self.req(alice, "PUT", self.path(alice, "org.example.a"),
                                  raw_body=b"{not json"), 400, "M_NOT_JSON")
        self.assertError(self.req(alice, "PUT", self.path(alice, "org.example.a"),
                                  raw_body=b"[1, 2]"), 400, "M_BAD_JSON")
        self.assertError(self.req(alice, "PUT", self.path(alice, "org.example.a", "not-a-room"),
                                  {}), 400, "M_INVALID_PARAM")
        self.assertError(self.req(alice, "GET", self.path(alice, "org.example.a", "not-a-room")),
                         400, "M_INVALID_PARAM")
        self.assertError(self.req(alice, "PUT", self.path(alice, "a" * 300), {}), 400,
                         "M_INVALID_PARAM")
        self.assertError(self.req(alice, "PUT", self.path(alice, "org.example.big"),
                                  {"x": "y" * 70000}), 413, "M_TOO_LARGE")

    def test_account_data_reaches_sync_and_wakes_it(self):
        alice = self.user()
        room = self.ok(alice, "POST", "/createRoom", {})["room_id"]
        self.ok(alice, "PUT", self.path(alice, "org.example.g"), {"g": 1})
        self.ok(alice, "PUT", self.path(alice, "org.example.r", room), {"r": 1})
        s = self.sync(alice)
        global_types = {e["type"]: e["content"] for e in s["account_data"]["events"]}
        self.assertEqual(global_types.get("org.example.g"), {"g": 1})
        room_ad = s["rooms"]["join"][room]["account_data"]["events"]
        self.assertIn({"type": "org.example.r", "content": {"r": 1}}, room_ad)

        s2 = self.wakes(alice, s["next_batch"], lambda: self.ok(
            alice, "PUT", self.path(alice, "org.example.g2"), {"g": 2}))
        self.assertEqual([e["type"] for e in s2["account_data"]["events"]], ["org.example.g2"])


class FilterTest(StreamsTestCase):
    def test_uploaded_filter_reads_back(self):
        alice = self.user()
        definition = {"room": {"timeline": {"limit": 3, "types": ["m.room.*"]}},
                      "presence": {"not_senders": ["@spam:example.com"]}}
        fid = self.ok(alice, "POST", f"/user/{quote(alice['user_id'])}/filter",
                      definition)["filter_id"]
        self.assertIsInstance(fid, str)
        self.assertFalse(fid.startswith("{"))
        got = self.ok(alice, "GET", f"/user/{quote(alice['user_id'])}/filter/{quote(fid)}")
        self.assertEqual(got, definition)

    def test_unknown_filter_is_not_found(self):
        alice = self.user()
        user = quote(alice["user_id"])
        self.assertError(self.req(alice, "GET", f"/user/{user}/filter/424242"), 404,
                         "M_NOT_FOUND")
        self.assertError(self.req(alice, "GET", f"/user/{user}/filter/nonsense"), 404,
                         "M_NOT_FOUND")
        self.assertError(self.req(alice, "GET", "/sync?filter=424242"), 404, "M_NOT_FOUND")

    def test_other_users_filters_are_forbidden(self):
        alice, bob = self.user(), self.user()
        fid = self.ok(alice, "POST", f"/user/{quote(alice['user_id'])}/filter", {})["filter_id"]
        self.assertError(self.req(bob, "GET", f"/user/{quote(alice['user_id'])}/filter/{fid}"),
                         403, "M_FORBIDDEN")
        self.assertError(self.req(bob, "POST", f"/user/{quote(alice['user_id'])}/filter", {}),
                         403, "M_FORBIDDEN")
        # Bob's own id space does not hold Alice's filter.
        self.assertError(self.req(bob, "GET", f"/sync?filter={fid}"), 404, "M_NOT_FOUND")

    def test_bad_filters_are_refused(self):
        alice = self.user()
        path = f"/user/{quote(alice['user_id'])}/filter"
        self.assertError(self.req(alice, "POST", path, raw_body=b"{nope"), 400, "M_NOT_JSON")
        for bad in ({"room": {"timeline": {"limit": "ten"}}},
                    {"room": {"timeline": {"types": "m.room.message"}}},
                    {"room": {"rooms": ["not-a-room-id"]}},
                    {"presence": {"senders": ["alice"]}},
                    {"event_format": "raw"},
                    {"room": []}):
            self.assertError(self.req(alice, "POST", path, bad), 400, "M_BAD_JSON")
        self.assertError(self.req(alice, "GET", "/sync?filter=" + quote('{"room":{"timeline":'
                                                                         '{"limit":"x"}}}')),
                         400, "M_BAD_JSON")
        self.assertError(self.req(alice, "GET", "/sync?filter=" + quote("{bad")), 400,
                         "M_NOT_JSON")

    def test_stored_filter_narrows_the_timeline(self):
        alice = self.user()
        room = self.ok(alice, "POST", "/createRoom", {})["room_id"]
        self.send(alice, room, "visible?")
        fid = self.ok(alice, "POST", f"/user/{quote(alice['user_id'])}/filter",
                      {"room": {"timeline": {"not_types": ["m.room.message"]}}})["filter_id"]
        s = self.sync(alice, extra=f"&filter={fid}&set_presence=offline")
        types = [e["type"] for e in s["rooms"]["join"][room]["timeline"]["events"]]
        self.assertNotIn("m.room.message", types)
        self.assertTrue(types, "other events remain")


class ReceiptTest(StreamsTestCase):
    def receipt(self, who, room, type_, event, body=None):
        return self.req(who, "POST",
                        f"/rooms/{quote(room)}/receipt/{quote(type_)}/{quote(event)}",
                        {} if body is None else body)

    def test_read_receipt_reaches_other_members(self):
        alice, bob = self.user(), self.user()
        room = self.shared_room(alice, bob)
        event = self.send(alice, room)
        since = self.sync(alice)["next_batch"]
        s = self.wakes(alice, since, lambda: self.assertEqual(
            self.receipt(bob, room, "m.read", event)[0], 200))
        receipts = self.ephemeral(s, room, "m.receipt")
        self.assertEqual(len(receipts), 1)
        entry = receipts[0]["content"][event]["m.read"][bob["user_id"]]
        self.assertIsInstance(entry["ts"], int)

    def test_private_receipt_is_seen_only_by_its_owner(self):
        alice, bob = self.user(), self.user()
        room = self.shared_room(alice, bob)
        event = self.send(alice, room)
        self.assertEqual(self.receipt(bob, room, "m.read.private", event)[0], 200)
        mine = self.ephemeral(self.sync(bob), room, "m.receipt")
        self.assertIn(bob["user_id"], mine[0]["content"][event]["m.read.private"])
        theirs = self.ephemeral(self.sync(alice), room, "m.receipt")
        for r in theirs:
            for by_type in r["content"].values():
                self.assertNotIn("m.read.private", by_type)

    def test_threaded_receipt_keeps_its_thread_id(self):
        alice = self.user()
        room = self.ok(alice, "POST", "/createRoom", {})["room_id"]
        event = self.send(alice, room)
        self.assertEqual(self.receipt(alice, room, "m.read", event, {"thread_id": "main"})[0], 200)
        r = self.ephemeral(self.sync(alice), room, "m.receipt")[0]
        self.assertEqual(r["content"][event]["m.read"][alice["user_id"]]["thread_id"], "main")

    def test_bad_receipts_are_refused(self):
        alice, mallory = self.user(), self.user()
        room = self.ok(alice, "POST", "/createRoom", {"preset": "public_chat"})["room_id"]
        other = self.ok(alice, "POST", "/createRoom", {})["room_id"]
        event = self.send(alice, room)
        other_event = self.send(alice, other)
        self.assertError(self.receipt(alice, room, "m.seen", event), 400, "M_INVALID_PARAM")
        self.assertError(self.receipt(alice, room, "m.read", "not-an-event"), 400,
                         "M_INVALID_PARAM")
        self.assertError(self.receipt(alice, "not-a-room", "m.read", event), 400,
                         "M_INVALID_PARAM")
        self.assertError(self.receipt(alice, room, "m.read", "$doesnotexist"), 404,
                         "M_NOT_FOUND")
        self.assertError(self.receipt(alice, room, "m.read", other_event), 404, "M_NOT_FOUND")
        self.assertError(self.receipt(mallory, room, "m.read", event), 403, "M_FORBIDDEN")
        self.assertError(self.receipt(alice, room, "m.read", event, {"thread_id": ""}), 400,
                         "M_INVALID_PARAM")
        self.assertError(self.receipt(alice, room, "m.read", event, {"thread_id": 5}), 400,
                         "M_INVALID_PARAM")
        self.assertError(self.receipt(alice, room, "m.read", event, {"thread_id": "nope"}), 400,
                         "M_INVALID_PARAM")
        self.assertError(self.receipt(alice, room, "m.fully_read", event, {"thread_id": "main"}),
                         400, "M_INVALID_PARAM")
        self.assertError(self.req(alice, "POST",
                                  f"/rooms/{quote(room)}/receipt/m.read/{quote(event)}",
                                  raw_body=b"{bad"), 400, "M_NOT_JSON")

    def test_fully_read_receipt_sets_the_read_marker(self):
        alice = self.user()
        room = self.ok(alice, "POST", "/createRoom", {})["room_id"]
        event = self.send(alice, room)
        self.assertEqual(self.receipt(alice, room, "m.fully_read", event)[0], 200)
        marker = self.ok(alice, "GET", f"/user/{quote(alice['user_id'])}/rooms/{quote(room)}"
                                       "/account_data/m.fully_read")
        self.assertEqual(marker, {"event_id": event})
        # Not a receipt.
        self.assertEqual(self.ephemeral(self.sync(alice), room, "m.receipt"), [])

    def test_read_markers_move_marker_and_receipts_forward_only(self):
        alice, bob = self.user(), self.user()
        room = self.shared_room(alice, bob)
        first = self.send(alice, room, "one")
        second = self.send(alice, room, "two")
        self.ok(bob, "POST", f"/rooms/{quote(room)}/read_markers",
                {"m.fully_read": second, "m.read": second, "m.read.private": first})
        self.ok(bob, "POST", f"/rooms/{quote(room)}/read_markers",
                {"m.fully_read": first, "m.read": first})
        path = (f"/user/{quote(bob['user_id'])}/rooms/{quote(room)}/account_data/m.fully_read")
        self.assertEqual(self.ok(bob, "GET", path), {"event_id": second})
        receipts = self.ephemeral(self.sync(alice), room, "m.receipt")[0]["content"]
        self.assertIn(bob["user_id"], receipts[second]["m.read"])
        self.assertNotIn(first, receipts)

    def test_bad_read_markers_are_refused(self):
        alice, mallory = self.user(), self.user()
        room = self.ok(alice, "POST", "/createRoom", {})["room_id"]
        event = self.send(alice, room)
        path = f"/rooms/{quote(room)}/read_markers"
        self.assertError(self.req(alice, "POST", path, {"m.fully_read": 7}), 400, "M_BAD_JSON")
        self.assertError(self.req(alice, "POST", path, {"m.read": "x"}), 400, "M_INVALID_PARAM")
        self.assertError(self.req(alice, "POST", path, {"m.read": "$missing"}), 404,
                         "M_NOT_FOUND")
        self.assertError(self.req(mallory, "POST", path, {"m.read": event}), 403, "M_FORBIDDEN")


class TypingTest(StreamsTestCase):
    def typing(self, who, room, user_id, body):
        return self.req(who, "PUT", f"/rooms/{quote(room)}/typing/{quote(user_id)}", body)

    def test_typing_reaches_other_members_and_stops(self):
        alice, bob = self.user(), self.user()
        room = self.shared_room(alice, bob)
        since = self.sync(alice)["next_batch"]
        s = self.wakes(alice, since, lambda: self.assertEqual(
            self.typing(bob, room, bob["user_id"], {"typing": True, "timeout": 30000})[0], 200))
        typing = self.ephemeral(s, room, "m.typing")
        self.assertEqual(typing[0]["content"]["user_ids"], [bob["user_id"]])
        s2 = self.wakes(alice, s["next_batch"], lambda: self.assertEqual(
            self.typing(bob, room, bob["user_id"], {"typing": False})[0], 200))
        self.assertEqual(self.ephemeral(s2, room, "m.typing")[0]["content"]["user_ids"], [])

    def test_typing_expires_after_its_timeout(self):
        alice, bob = self.user(), self.user()
        room = self.shared_room(alice, bob)
        self.assertEqual(self.typing(bob, room, bob["user_id"],
                                     {"typing": True, "timeout": 500})[0], 200)
        s = self.sync(alice)
        self.assertEqual(self.ephemeral(s, room, "m.typing")[0]["content"]["user_ids"],
                         [bob["user_id"]])
        s2 = self.sync(alice, s["next_batch"], timeout=10000)
        self.assertEqual(self.ephemeral(s2, room, "m.typing")[0]["content"]["user_ids"], [])

    def test_bad_typing_requests_are_refused(self):
        alice, bob, mallory = self.user(), self.user(), self.user()
        room = self.shared_room(alice, bob)
        self.assertError(self.typing(alice, room, bob["user_id"], {"typing": True}), 403,
                         "M_FORBIDDEN")
        self.assertError(self.typing(mallory, room, mallory["user_id"], {"typing": True}), 403,
                         "M_FORBIDDEN")
        self.assertError(self.typing(alice, room, alice["user_id"], {}), 400, "M_MISSING_PARAM")
        self.assertError(self.typing(alice, room, alice["user_id"], {"typing": "yes"}), 400,
                         "M_BAD_JSON")
        self.assertError(self.typing(alice, room, alice["user_id"],
                                     {"typing": True, "timeout": "soon"}), 400, "M_BAD_JSON")
        self.assertError(self.typing(alice, room, alice["user_id"],
                                     {"typing": True, "timeout": -1}), 400, "M_INVALID_PARAM")
        self.assertError(self.typing(alice, "not-a-room", alice["user_id"], {"typing": True}),
                         400, "M_INVALID_PARAM")


class PresenceTest(StreamsTestCase):
    def status_path(self, user_id):
        return f"/presence/{quote(user_id)}/status"

    def test_own_presence_round_trips(self):
        alice = self.user()
        self.ok(alice, "PUT", self.status_path(alice["user_id"]),
                {"presence": "online", "status_msg": "At the desk"})
        got = self.ok(alice, "GET", self.status_path(alice["user_id"]))
        self.assertEqual(got["presence"], "online")
        self.assertEqual(got["status_msg"], "At the desk")
        self.assertTrue(got["currently_active"])
        self.assertLess(got["last_active_ago"], 60000)
        self.ok(alice, "PUT", self.status_path(alice["user_id"]), {"presence": "unavailable"})
        got = self.ok(alice, "GET", self.status_path(alice["user_id"]))
        self.assertEqual(got["presence"], "unavailable")
        self.assertNotIn("status_msg", got)

    def test_presence_of_strangers_is_forbidden_and_of_room_mates_allowed(self):
        alice, bob, carol = self.user(), self.user(), self.user()
        self.shared_room(alice, bob)
        self.ok(bob, "PUT", self.status_path(bob["user_id"]), {"presence": "online"})
        self.assertEqual(self.ok(alice, "GET", self.status_path(bob["user_id"]))["presence"],
                         "online")
        self.assertError(self.req(carol, "GET", self.status_path(bob["user_id"])), 403,
                         "M_FORBIDDEN")

    def test_bad_presence_requests_are_refused(self):
        alice, bob = self.user(), self.user()
        self.assertError(self.req(bob, "PUT", self.status_path(alice["user_id"]),
                                  {"presence": "online"}), 403, "M_FORBIDDEN")
        self.assertError(self.req(alice, "PUT", self.status_path(alice["user_id"]),
                                  {"presence": "dancing"}), 400, "M_INVALID_PARAM")
        self.assertError(self.req(alice, "PUT", self.status_path(alice["user_id"]), {}), 400,
                         "M_MISSING_PARAM")
        self.assertError(self.req(alice, "PUT", self.status_path(alice["user_id"]),
                                  {"presence": "online", "status_msg": 5}), 400, "M_BAD_JSON")
        self.assertError(self.req(alice, "PUT", self.status_path(alice["user_id"]),
                                  {"presence": "online", "status_msg": "x" * 2000}), 400,
                         "M_INVALID_PARAM")
        self.assertError(self.req(alice, "GET", self.status_path("not-a-user")), 400,
                         "M_INVALID_PARAM")

    def test_presence_changes_reach_room_mates_through_sync(self):
        alice, bob = self.user(), self.user()
        self.shared_room(alice, bob)
        since = self.sync(alice)["next_batch"]
        s = self.wakes(alice, since, lambda: self.ok(
            bob, "PUT", self.status_path(bob["user_id"]),
            {"presence": "unavailable", "status_msg": "Out"}))
        events = [e for e in s["presence"]["events"] if e["sender"] == bob["user_id"]]
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["type"], "m.presence")
        self.assertEqual(events[0]["content"]["presence"], "unavailable")
        self.assertEqual(events[0]["content"]["status_msg"], "Out")

    def test_sync_sets_presence_unless_offline(self):
        alice = self.user()
        self.ok(alice, "PUT", self.status_path(alice["user_id"]), {"presence": "unavailable"})
        self.sync(alice)
        self.assertEqual(self.ok(alice, "GET", self.status_path(alice["user_id"]))["presence"],
                         "unavailable")
        self.sync(alice, extra="")
        # The sync does not wait for its presence write: give it a moment.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            got = self.ok(alice, "GET", self.status_path(alice["user_id"]))["presence"]
            if got == "online":
                break
            time.sleep(0.05)
        self.assertEqual(got, "online")


class PresenceOfflineTest(StreamsTestCase):
    options = {"rooms.encryption_enabled_by_default": "false",
               "presence.offline_after_seconds": "10"}

    def test_inactive_users_go_offline_and_room_mates_hear_it(self):
        alice, bob = self.user(), self.user()
        self.shared_room(alice, bob)
        path = f"/presence/{quote(bob['user_id'])}/status"
        self.ok(bob, "PUT", path, {"presence": "online"})
        since = self.sync(alice)["next_batch"]
        self.assertEqual(self.ok(alice, "GET", path)["presence"], "online")
        # No activity from bob: within offline_after_seconds plus a sweep he is offline, and
        # alice's long poll is woken with the change.
        deadline = time.monotonic() + 30
        offline = None
        while time.monotonic() < deadline and offline is None:
            body = self.sync(alice, since, timeout=15000)
            since = body["next_batch"]
            for e in body["presence"]["events"]:
                if e["sender"] == bob["user_id"] and e["content"]["presence"] == "offline":
                    offline = e
        self.assertIsNotNone(offline, "bob never went offline")
        self.assertGreaterEqual(offline["content"]["last_active_ago"], 10000)
        self.assertEqual(self.ok(alice, "GET", path)["presence"], "offline")

    def test_a_syncing_user_stays_online(self):
        carol = self.user()
        path = f"/presence/{quote(carol['user_id'])}/status"
        end = time.monotonic() + 14
        while time.monotonic() < end:
            self.sync(carol, extra="")
            time.sleep(1)
        self.assertEqual(self.ok(carol, "GET", path)["presence"], "online")


if __name__ == "__main__":
    unittest.main()
