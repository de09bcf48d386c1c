"""Simplified sliding sync (MSC4186): lists sorted by recency with ranges, room subscriptions,
required_state ($ME, $LAZY, changes between requests), timelines (limited, num_live, prev_batch,
expanded), invites, leaves and kicks, the per-connection state behind `pos` (retries, resuming,
M_UNKNOWN_POS), long-polling, the extensions (to_device, e2ee, account_data, receipts, typing),
the care rules' anonymity in heroes, and the refusals for bad input."""

import threading
import time
import unittest

from harness import HomeserverTestCase, quote, unique
from test_care_policy import CareTestCase
from test_keys import SigningKey, device_keys, one_time_keys

SS = "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync"


def room_list(ranges=((0, 19),), limit=1, state=(("m.room.name", ""),), **extra):
    body = {"ranges": [list(r) for r in ranges], "timeline_limit": limit,
            "required_state": [list(s) for s in state]}
    body.update(extra)
    return body


class SlidingTestCase(HomeserverTestCase):
    options = {"rooms.encryption_enabled_by_default": "false"}

    def sliding(self, who, body, pos=None, timeout=None, conn_id="main", **kw):
        query = []
        if pos is not None:
            query.append("pos=" + quote(pos))
        if timeout is not None:
            query.append(f"timeout={timeout}")
        body = dict(body)
        if conn_id is not None:
            body.setdefault("conn_id", conn_id)
        return self.req(who, "POST", SS + ("?" + "&".join(query) if query else ""), body, **kw)

    def sliding_ok(self, who, body, pos=None, timeout=None, conn_id="main"):
        status, reply = self.sliding(who, body, pos, timeout, conn_id)
        self.assertEqual(status, 200, reply)
        self.assertIsInstance(reply.get("pos"), str)
        return reply

    def room(self, who, **body):
        return self.ok(who, "POST", "/createRoom", body)["room_id"]

    def send(self, who, room, text):
        return self.ok(who, "PUT", f"/rooms/{quote(room)}/send/m.room.message/{unique('t')}",
                       {"msgtype": "m.text", "body": text})["event_id"]

    def join(self, who, room):
        self.ok(who, "POST", f"/join/{quote(room)}", {})

    def invite(self, who, room, target):
        self.ok(who, "POST", f"/rooms/{quote(room)}/invite", {"user_id": target["user_id"]})

    @staticmethod
    def window(reply, name="all"):
        return reply["lists"][name]["ops"][0]["room_ids"]

    @staticmethod
    def timeline_ids(room):
        return [e["event_id"] for e in room.get("timeline", [])]


class AdvertisingTest(SlidingTestCase):
    def test_versions_advertises_native_sliding_sync(self):
        status, body = self.client.request("GET", "/_matrix/client/versions")
        self.assertEqual(status, 200)
        self.assertIs(body["unstable_features"].get("org.matrix.simplified_msc3575"), True)

    def test_well_known_names_no_separate_proxy(self):
        status, body = self.client.request("GET", "/.well-known/matrix/client")
        self.assertEqual(status, 200)
        self.assertIn("m.homeserver", body)
        self.assertNotIn("org.matrix.msc3575.proxy", body)

    def test_needs_an_access_token(self):
        self.assertError(self.client.request("POST", SS, {}), 401, "M_MISSING_TOKEN")


class RoomListTest(SlidingTestCase):
    def test_first_window_has_the_newest_rooms_with_their_data(self):
        alice = self.user()
        rooms = [self.room(alice, name=f"room {i}") for i in range(4)]
        last = self.send(alice, rooms[1], "newest")
        reply = self.sliding_ok(alice, {"lists": {"all": room_list(ranges=[(0, 2)])}})
        self.assertEqual(reply["lists"]["all"]["count"], 4)
        self.assertEqual(self.window(reply), [rooms[1], rooms[3], rooms[2]])
        self.assertEqual(set(reply["rooms"]), {rooms[1], rooms[3], rooms[2]})
        data = reply["rooms"][rooms[1]]
        self.assertTrue(data["initial"])
        self.assertEqual(data["membership"], "join")
        self.assertEqual(data["name"], "room 1")
        self.assertEqual(data["lists"], ["all"])
        self.assertEqual(self.timeline_ids(data), [last])
        self.assertTrue(data["limited"])
        self.assertEqual(data["num_live"], 0)
        self.assertEqual(data["joined_count"], 1)
        self.assertIsInstance(data["bump_stamp"], int)
        self.assertGreater(data["bump_stamp"], reply["rooms"][rooms[3]]["bump_stamp"])
        self.assertEqual([(e["type"], e["state_key"]) for e in data["required_state"]],
                         [("m.room.name", "")])
        self.assertNotIn("room_id", data["timeline"][0])
        # prev_batch pages back from before the timeline.
        older = self.ok(alice, "GET", f"/rooms/{quote(rooms[1])}/messages?dir=b&limit=50&from="
                        + quote(data["prev_batch"]))
        self.assertNotIn(last, [e["event_id"] for e in older["chunk"]])
        self.assertIn("m.room.name", [e["type"] for e in older["chunk"]])

    def test_rooms_move_in_the_list_as_messages_arrive(self):
        alice = self.user()
        a, b, c = (self.room(alice, name=n) for n in "abc")
        lists = {"all": room_list(ranges=[(0, 1)])}
        first = self.sliding_ok(alice, {"lists": lists})
        self.assertEqual(self.window(first), [c, b])
        # A message to the room outside the window brings it in, as new to the connection.
        msg = self.send(alice, a, "wake up")
        second = self.sliding_ok(alice, {"lists": lists}, pos=first["pos"])
        self.assertEqual(self.window(second), [a, c])
        self.assertEqual(list(second["rooms"]), [a])
        self.assertTrue(second["rooms"][a]["initial"])
        self.assertEqual(self.timeline_ids(second["rooms"][a]), [msg])
        self.assertEqual(second["rooms"][a]["num_live"], 1)
        # A room already sent gets only what is new.
        msg2 = self.send(alice, c, "and you")
        third = self.sliding_ok(alice, {"lists": lists}, pos=second["pos"])
        self.assertEqual(self.window(third), [c, a])
        self.assertEqual(list(third["rooms"]), [c])
        data = third["rooms"][c]
        self.assertNotIn("initial", data)
        self.assertEqual(self.timeline_ids(data), [msg2])
        self.assertFalse(data["limited"])
        self.assertEqual(data["num_live"], 1)
        self.assertNotIn("name", data)  # unchanged
        # b fell out of the window; when it comes back it carries what it missed.
        m1, m2 = self.send(alice, b, "one"), self.send(alice, b, "two")
        back = self.sliding_ok(alice, {"lists": {"all": room_list(ranges=[(0, 1)], limit=5)}},
                               pos=third["pos"])
        self.assertEqual(self.timeline_ids(back["rooms"][b])[-2:], [m1, m2])
        # Nothing new: nothing sent.
        quiet = self.sliding_ok(alice, {"lists": {"all": room_list(ranges=[(0, 1)], limit=5)}},
                                pos=back["pos"])
        self.assertEqual(quiet["rooms"], {})

    def test_growing_the_range_sends_only_the_rooms_not_yet_sent(self):
        alice = self.user()
        rooms = [self.room(alice) for _ in range(5)]
        first = self.sliding_ok(alice, {"lists": {"all": room_list(ranges=[(0, 1)])}})
        self.assertEqual(len(first["rooms"]), 2)
        grown = self.sliding_ok(alice, {"lists": {"all": room_list(ranges=[(0, 4)])}},
                                pos=first["pos"])
        self.assertEqual(set(grown["rooms"]), set(rooms) - set(first["rooms"]))
        self.assertEqual(grown["lists"]["all"]["count"], 5)

    def test_lists_without_ranges_cover_every_room_and_filters_apply(self):
        alice, bob = self.user(), self.user()
        plain = self.room(alice)
        encrypted = self.room(alice, initial_state=[
            {"type": "m.room.encryption", "state_key": "",
             "content": {"algorithm": "m.megolm.v1.aes-sha2"}}])
        space = self.room(alice, creation_content={"type": "m.space"})
        invite_room = self.room(bob, invite=[alice["user_id"]])
        self.ok(alice, "PUT", f"/user/{quote(alice['user_id'])}/account_data/m.direct",
                {bob["user_id"]: [plain]})
        # Tags are room account data of type m.tag (what /tags would write).
        self.ok(alice, "PUT", f"/user/{quote(alice['user_id'])}/rooms/{quote(encrypted)}/"
                "account_data/m.tag", {"tags": {"m.favourite": {"order": 0.5}}})
        reply = self.sliding_ok(alice, {"lists": {
            "everything": {"timeline_limit": 0, "required_state": []},
            "dms": room_list(filters={"is_dm": True}),
            "encrypted": room_list(filters={"is_encrypted": True}),
            "invites": room_list(filters={"is_invite": True}),
            "spaces": room_list(filters={"room_types": ["m.space"]}),
            "not_spaces": room_list(filters={"not_room_types": ["m.space"]}),
            "favourites": room_list(filters={"tags": ["m.favourite"]}),
            "others": room_list(filters={"not_tags": ["m.favourite"], "is_invite": False}),
        }})
        counts = {name: data["count"] for name, data in reply["lists"].items()}
        self.assertEqual(counts, {"everything": 4, "dms": 1, "encrypted": 1, "invites": 1,
                                  "spaces": 1, "not_spaces": 3, "favourites": 1, "others": 2})
        self.assertEqual(self.window(reply, "dms"), [plain])
        self.assertEqual(self.window(reply, "invites"), [invite_room])
        self.assertEqual(self.window(reply, "spaces"), [space])
        self.assertTrue(reply["rooms"][plain]["is_dm"])

    def test_space_filter_takes_the_children_of_joined_spaces(self):
        alice = self.user()
        space = self.room(alice, creation_content={"type": "m.space"})
        child, other = self.room(alice), self.room(alice)
        self.ok(alice, "PUT", f"/rooms/{quote(space)}/state/m.space.child/{quote(child)}",
                {"via": [self.server.server_name]})
        self.ok(alice, "PUT", f"/rooms/{quote(space)}/state/m.space.child/{quote(other)}", {})
        reply = self.sliding_ok(alice, {"lists": {"s": room_list(filters={"spaces": [space]})}})
        self.assertEqual(self.window(reply, "s"), [child])


class MembershipTest(SlidingTestCase):
    def test_invite_then_join(self):
        alice, bob = self.user(), self.user()
        room = self.room(alice, name="party")
        lists = {"all": room_list(limit=5)}
        first = self.sliding_ok(bob, {"lists": lists})
        self.assertEqual(first["rooms"], {})
        self.invite(alice, room, bob)
        invited = self.sliding_ok(bob, {"lists": lists}, pos=first["pos"])
        data = invited["rooms"][room]
        self.assertEqual(data["membership"], "invite")
        self.assertTrue(data["initial"])
        stripped = {(e["type"], e["state_key"]) for e in data["invite_state"]}
        self.assertIn(("m.room.name", ""), stripped)
        self.assertIn(("m.room.member", bob["user_id"]), stripped)
        self.assertEqual(data["stripped_state"], data["invite_state"])
        self.assertNotIn("timeline", data)
        self.join(bob, room)
        joined = self.sliding_ok(bob, {"lists": lists}, pos=invited["pos"])
        data = joined["rooms"][room]
        self.assertTrue(data["initial"])
        self.assertEqual(data["membership"], "join")
        self.assertEqual(data["name"], "party")
        self.assertEqual(data["timeline"][-1]["state_key"], bob["user_id"])
        self.assertEqual(data["joined_count"], 2)

    def test_rejected_invite_is_reported_once_as_stripped_state(self):
        alice, bob = self.user(), self.user()
        room = self.room(alice, invite=[bob["user_id"]])
        lists = {"all": room_list()}
        first = self.sliding_ok(bob, {"lists": lists})
        self.assertEqual(first["rooms"][room]["membership"], "invite")
        self.ok(bob, "POST", f"/rooms/{quote(room)}/leave", {})
        after = self.sliding_ok(bob, {"lists": lists}, pos=first["pos"])
        self.assertEqual(after["rooms"][room]["membership"], "leave")
        self.assertNotIn("timeline", after["rooms"][room])
        again = self.sliding_ok(bob, {"lists": lists}, pos=after["pos"])
        self.assertEqual(again["rooms"], {})

    def test_kicked_room_shows_up_to_the_kick_and_stays_listed(self):
        alice, bob = self.user(), self.user()
        room = self.room(alice, preset="public_chat")
        self.join(bob, room)
        lists = {"all": room_list(limit=10)}
        first = self.sliding_ok(bob, {"lists": lists})
        self.ok(alice, "POST", f"/rooms/{quote(room)}/kick",
                {"user_id": bob["user_id"], "reason": "bye"})
        secret = self.send(alice, room, "after the kick")
        after = self.sliding_ok(bob, {"lists": lists}, pos=first["pos"])
        data = after["rooms"][room]
        self.assertEqual(data["membership"], "leave")
        self.assertEqual(data["timeline"][-1]["content"]["membership"], "leave")
        self.assertNotIn(secret, self.timeline_ids(data))
        self.assertNotIn("after the kick", str(after))
        # A fresh connection lists the kicked room (the user may not know), without the message.
        fresh = self.sliding_ok(bob, {"lists": lists}, conn_id="other")
        self.assertIn(room, fresh["rooms"])
        self.assertEqual(fresh["rooms"][room]["membership"], "leave")
        self.assertNotIn("after the kick", str(fresh))

    def test_own_leave_is_sent_to_connections_that_had_the_room_only(self):
        alice, bob = self.user(), self.user()
        room = self.room(alice, preset="public_chat")
        self.join(bob, room)
        lists = {"all": room_list()}
        first = self.sliding_ok(bob, {"lists": lists})
        self.ok(bob, "POST", f"/rooms/{quote(room)}/leave", {})
        after = self.sliding_ok(bob, {"lists": lists}, pos=first["pos"])
        self.assertEqual(after["rooms"][room]["membership"], "leave")
        self.assertEqual(after["lists"]["all"]["count"], 1)
        fresh = self.sliding_ok(bob, {"lists": lists}, conn_id="fresh")
        self.assertEqual(fresh["lists"]["all"]["count"], 0)
        self.assertEqual(fresh["rooms"], {})

    def test_rooms_of_others_cannot_be_subscribed_to(self):
        alice, eve = self.user(), self.user()
        room = self.room(alice, name="private")
        self.send(alice, room, "secret words")
        reply = self.sliding_ok(eve, {"room_subscriptions": {
            room: {"timeline_limit": 10, "required_state": [["*", "*"]]},
            "!unknown:" + self.server.server_name: {"timeline_limit": 1, "required_state": []}}})
        self.assertEqual(reply["rooms"], {})
        self.assertNotIn("secret", str(reply))


class RequiredStateTest(SlidingTestCase):
    def test_wildcards_me_and_lazy_members(self):
        alice, bob, carol = self.user(), self.user(), self.user()
        room = self.room(alice, preset="public_chat", name="lazy", topic="t")
        self.join(bob, room)
        self.join(carol, room)
        self.send(bob, room, "from bob")
        sub = {room: {"timeline_limit": 1,
                      "required_state": [["*", "*"], ["m.room.member", "$LAZY"],
                                         ["m.room.member", "$ME"]]}}
        data = self.sliding_ok(alice, {"room_subscriptions": sub})["rooms"][room]
        members = {e["state_key"] for e in data["required_state"] if e["type"] == "m.room.member"}
        self.assertEqual(members, {alice["user_id"], bob["user_id"]})  # $ME and the sender
        types = {e["type"] for e in data["required_state"]}
        self.assertTrue({"m.room.create", "m.room.name", "m.room.topic",
                         "m.room.power_levels"} <= types)
        # Without $LAZY, "*" brings every member.
        everyone = self.sliding_ok(alice, {"room_subscriptions": {
            room: {"timeline_limit": 1, "required_state": [["*", "*"]]}}}, conn_id="all")
        members = {e["state_key"] for e in everyone["rooms"][room]["required_state"]
                   if e["type"] == "m.room.member"}
        self.assertEqual(members, {alice["user_id"], bob["user_id"], carol["user_id"]})

    def test_msc_object_form_with_include_exclude(self):
        alice = self.user()
        room = self.room(alice, name="objects", topic="t")
        data = self.sliding_ok(alice, {"room_subscriptions": {room: {
            "timeline_limit": 0,
            "required_state": {"include": [{}], "exclude": [{"type": "m.room.create"}],
                               "lazy_members": True}}}})["rooms"][room]
        types = {e["type"] for e in data["required_state"]}
        self.assertIn("m.room.topic", types)
        self.assertNotIn("m.room.create", types)
        self.assertNotIn("m.room.member", types)  # lazy, and no timeline

    def test_state_changes_and_config_changes_between_requests(self):
        alice = self.user()
        room = self.room(alice, name="before", topic="old topic")
        lists = {"all": room_list(state=[["m.room.name", ""]])}
        first = self.sliding_ok(alice, {"lists": lists})
        self.assertEqual([e["type"] for e in first["rooms"][room]["required_state"]],
                         ["m.room.name"])
        # The config asks for more: the room comes back at once with only the new state.
        wider = {"all": room_list(state=[["m.room.name", ""], ["m.room.topic", ""]])}
        second = self.sliding_ok(alice, {"lists": wider}, pos=first["pos"])
        data = second["rooms"][room]
        self.assertEqual([e["type"] for e in data["required_state"]], ["m.room.topic"])
        self.assertNotIn("timeline", data)
        # A state change in the room: only that piece.
        self.ok(alice, "PUT", f"/rooms/{quote(room)}/state/m.room.name/", {"name": "after"})
        third = self.sliding_ok(alice, {"lists": wider}, pos=second["pos"])
        data = third["rooms"][room]
        self.assertEqual([(e["type"], e["content"]["name"]) for e in data["required_state"]],
                         [("m.room.name", "after")])
        self.assertEqual(data["name"], "after")
        # Asking for less sends nothing.
        fourth = self.sliding_ok(alice, {"lists": lists}, pos=third["pos"])
        self.assertEqual(fourth["rooms"], {})

    def test_heroes_name_an_unnamed_room(self):
        alice, bob = self.user(), self.user()
        self.ok(bob, "PUT", f"/profile/{quote(bob['user_id'])}/displayname",
                {"displayname": "Bobby"})
        room = self.room(alice, invite=[bob["user_id"]])
        self.join(bob, room)
        data = self.sliding_ok(alice, {"lists": {"all": room_list()}})["rooms"][room]
        self.assertNotIn("name", data)
        self.assertEqual(data["heroes"], [{"user_id": bob["user_id"], "displayname": "Bobby"}])


class TimelineTest(SlidingTestCase):
    def test_limited_timeline_and_expansion_when_the_limit_grows(self):
        alice = self.user()
        room = self.room(alice)
        sent = [self.send(alice, room, f"m{i}") for i in range(6)]
        small = {room: {"timeline_limit": 2, "required_state": []}}
        first = self.sliding_ok(alice, {"room_subscriptions": small})
        self.assertEqual(self.timeline_ids(first["rooms"][room]), sent[-2:])
        self.assertTrue(first["rooms"][room]["limited"])
        big = {room: {"timeline_limit": 5, "required_state": []}}
        second = self.sliding_ok(alice, {"room_subscriptions": big}, pos=first["pos"])
        data = second["rooms"][room]
        self.assertEqual(self.timeline_ids(data), sent[-5:])
        self.assertTrue(data["expanded_timeline"])
        self.assertEqual(data["num_live"], 0)

    def test_subscriptions_are_sticky_until_unsubscribed(self):
        alice = self.user()
        room = self.room(alice)
        sub = {room: {"timeline_limit": 3, "required_state": []}}
        first = self.sliding_ok(alice, {"room_subscriptions": sub})
        self.assertIn(room, first["rooms"])
        msg = self.send(alice, room, "hello")
        second = self.sliding_ok(alice, {}, pos=first["pos"])
        self.assertEqual(self.timeline_ids(second["rooms"][room]), [msg])
        third = self.sliding_ok(alice, {"unsubscribe_rooms": [room]}, pos=second["pos"])
        self.send(alice, room, "unheard")
        fourth = self.sliding_ok(alice, {}, pos=third["pos"])
        self.assertEqual(fourth["rooms"], {})

    def test_long_poll_wakes_on_a_new_message(self):
        alice, bob = self.user(), self.user()
        room = self.room(alice, invite=[bob["user_id"]])
        self.join(bob, room)
        lists = {"all": room_list()}
        pos = self.sliding_ok(bob, {"lists": lists})["pos"]
        result = {}

        def poll():
            result["reply"] = self.sliding(bob, {"lists": lists}, pos=pos, timeout=20000)

        thread = threading.Thread(target=poll)
        thread.start()
        time.sleep(0.3)
        self.assertTrue(thread.is_alive(), "the long-poll answered before anything happened")
        msg = self.send(alice, room, "wake")
        thread.join(20)
        status, reply = result["reply"]
        self.assertEqual(status, 200, reply)
        self.assertEqual(self.timeline_ids(reply["rooms"][room]), [msg])

    def test_timeout_without_news_answers_empty_with_a_usable_pos(self):
        alice = self.user()
        self.room(alice)
        first = self.sliding_ok(alice, {"lists": {"all": room_list()}})
        second = self.sliding_ok(alice, {"lists": {"all": room_list()}}, pos=first["pos"],
                                 timeout=100)
        self.assertEqual(second["rooms"], {})
        self.sliding_ok(alice, {"lists": {"all": room_list()}}, pos=second["pos"])

    def test_pos_works_as_a_messages_token(self):
        alice = self.user()
        room = self.room(alice)
        msg = self.send(alice, room, "old")
        pos = self.sliding_ok(alice, {"lists": {"all": room_list()}})["pos"]
        page = self.ok(alice, "GET", f"/rooms/{quote(room)}/messages?dir=b&limit=1&from="
                       + quote(pos))
        self.assertEqual([e["event_id"] for e in page["chunk"]], [msg])


class ConnectionTest(SlidingTestCase):
    def test_a_retry_with_the_same_pos_gets_the_lost_response_again(self):
        alice = self.user()
        room = self.room(alice)
        lists = {"all": room_list(limit=5)}
        first = self.sliding_ok(alice, {"lists": lists})
        msg = self.send(alice, room, "lost on the way")
        lost = self.sliding_ok(alice, {"lists": lists}, pos=first["pos"])
        self.assertEqual(self.timeline_ids(lost["rooms"][room]), [msg])
        # The connection dropped before the client saw `lost`: it resumes from its last pos.
        again = self.sliding_ok(alice, {"lists": lists}, pos=first["pos"])
        self.assertEqual(self.timeline_ids(again["rooms"][room]), [msg])
        nothing = self.sliding_ok(alice, {"lists": lists}, pos=again["pos"])
        self.assertEqual(nothing["rooms"], {})
        # Once `again`'s pos is used, the pos before it is gone.
        self.assertError(self.sliding(alice, {"lists": lists}, pos=first["pos"]), 400,
                         "M_UNKNOWN_POS")

    def test_unknown_pos_is_refused_so_the_client_restarts(self):
        alice, bob = self.user(), self.user()
        reply = self.sliding_ok(alice, {"lists": {"all": room_list()}})
        for pos in ["garbage", "s1_2_3~99", reply["pos"] + "0", "~"]:
            self.assertError(self.sliding(alice, {}, pos=pos), 400, "M_UNKNOWN_POS")
        # Another user, another device or another conn_id cannot use it.
        self.assertError(self.sliding(bob, {}, pos=reply["pos"]), 400, "M_UNKNOWN_POS")
        self.assertError(self.sliding(alice, {}, pos=reply["pos"], conn_id="other"), 400,
                         "M_UNKNOWN_POS")
        second_device = self.client.login_ok(alice["user_id"])
        self.assertError(self.sliding(second_device, {}, pos=reply["pos"]), 400, "M_UNKNOWN_POS")
        # The pos in the body (the MSC's form) is checked the same way.
        self.assertError(self.sliding(alice, {"pos": "garbage"}), 400, "M_UNKNOWN_POS")
        # Starting again without a pos works.
        self.sliding_ok(alice, {"lists": {"all": room_list()}})

    def test_connections_are_independent(self):
        alice = self.user()
        room = self.room(alice)
        one = self.sliding_ok(alice, {"lists": {"all": room_list()}}, conn_id="one")
        two = self.sliding_ok(alice, {"lists": {"all": room_list()}}, conn_id="two")
        msg = self.send(alice, room, "to both")
        for conn, first in (("one", one), ("two", two)):
            reply = self.sliding_ok(alice, {"lists": {"all": room_list()}}, pos=first["pos"],
                                    conn_id=conn)
            self.assertEqual(self.timeline_ids(reply["rooms"][room]), [msg])

    def test_a_device_keeps_a_bounded_number_of_connections(self):
        alice = self.user()
        self.room(alice)
        first = self.sliding_ok(alice, {"lists": {"all": room_list()}}, conn_id="c0")
        for i in range(1, 12):
            self.sliding_ok(alice, {"lists": {"all": room_list()}}, conn_id=f"c{i}")
        self.assertError(self.sliding(alice, {}, pos=first["pos"], conn_id="c0"), 400,
                         "M_UNKNOWN_POS")


class RestartTest(SlidingTestCase):
    def test_pos_from_before_a_restart_is_unknown(self):
        alice = self.user()
        self.room(alice)
        pos = self.sliding_ok(alice, {"lists": {"all": room_list()}})["pos"]
        self.server.restart()
        self.assertError(self.sliding(alice, {}, pos=pos), 400, "M_UNKNOWN_POS")
        self.assertEqual(len(self.sliding_ok(alice, {"lists": {"all": room_list()}})["rooms"]), 1)


class ExtensionsTest(SlidingTestCase):
    def test_to_device_messages_are_delivered_then_acknowledged(self):
        alice, bob = self.user(), self.user()
        self.ok(alice, "PUT", f"/sendToDevice/m.test/{unique('t')}",
                {"messages": {bob["user_id"]: {bob["device_id"]: {"n": 1}}}})
        ext = {"to_device": {"enabled": True}}
        first = self.sliding_ok(bob, {"extensions": ext})
        td = first["extensions"]["to_device"]
        self.assertEqual([(e["type"], e["content"]) for e in td["events"]], [("m.test", {"n": 1})])
        again = self.sliding_ok(bob, {"extensions": {"to_device": {
            "enabled": True, "since": td["next_batch"]}}}, pos=first["pos"])
        self.assertEqual(again["extensions"]["to_device"]["events"], [])
        # Acknowledged messages are deleted (a writer job queued before the next write, which
        # therefore waits for it): gone even for a fresh connection.
        self.ok(bob, "PUT", f"/user/{quote(bob['user_id'])}/account_data/org.example.barrier", {})
        fresh = self.sliding_ok(bob, {"extensions": ext}, conn_id="fresh")
        self.assertEqual(fresh["extensions"]["to_device"]["events"], [])

    def test_e2ee_counts_and_device_list_changes(self):
        alice, bob = self.user(), self.user()
        room = self.room(alice, invite=[bob["user_id"]])
        self.join(bob, room)
        ext = {"e2ee": {"enabled": True}}
        first = self.sliding_ok(alice, {"extensions": ext})
        e2ee = first["extensions"]["e2ee"]
        self.assertEqual(e2ee["device_one_time_keys_count"], {})
        self.assertEqual(e2ee["device_unused_fallback_key_types"], [])
        self.assertNotIn("device_lists", e2ee)  # nothing to compare with on a fresh connection
        uid, dev, key = alice["user_id"], alice["device_id"], SigningKey()
        self.ok(alice, "POST", "/keys/upload", {
            "device_keys": device_keys(uid, dev, key),
            "one_time_keys": one_time_keys(uid, dev, key, ["A1", "A2"]),
            "fallback_keys": one_time_keys(uid, dev, key, ["F1"], fallback=True)})
        bob_key = SigningKey()
        self.ok(bob, "POST", "/keys/upload",
                {"device_keys": device_keys(bob["user_id"], bob["device_id"], bob_key)})
        second = self.sliding_ok(alice, {"extensions": ext}, pos=first["pos"])
        e2ee = second["extensions"]["e2ee"]
        self.assertEqual(e2ee["device_one_time_keys_count"], {"signed_curve25519": 2})
        self.assertEqual(e2ee["device_unused_fallback_key_types"], ["signed_curve25519"])
        self.assertIn(bob["user_id"], e2ee["device_lists"]["changed"])
        third = self.sliding_ok(alice, {"extensions": ext}, pos=second["pos"])
        self.assertEqual(third["extensions"]["e2ee"]["device_lists"]["changed"], [])

    def test_account_data_receipts_and_typing(self):
        alice, bob = self.user(), self.user()
        room = self.room(alice, invite=[bob["user_id"]])
        self.join(bob, room)
        msg = self.send(alice, room, "read me")
        ext = {"account_data": {"enabled": True}, "receipts": {"enabled": True},
               "typing": {"enabled": True}}
        lists = {"all": room_list()}
        first = self.sliding_ok(bob, {"lists": lists, "extensions": ext})
        types = [e["type"] for e in first["extensions"]["account_data"]["global"]]
        self.assertIn("m.push_rules", types)
        self.ok(bob, "PUT", f"/user/{quote(bob['user_id'])}/account_data/org.example.x",
                {"a": 1})
        self.ok(bob, "PUT", f"/user/{quote(bob['user_id'])}/rooms/{quote(room)}/account_data/"
                "org.example.y", {"b": 2})
        self.ok(alice, "POST", f"/rooms/{quote(room)}/receipt/m.read/{quote(msg)}", {})
        self.ok(alice, "PUT", f"/rooms/{quote(room)}/typing/{quote(alice['user_id'])}",
                {"typing": True, "timeout": 30000})
        second = self.sliding_ok(bob, {"lists": lists, "extensions": ext}, pos=first["pos"])
        ext_out = second["extensions"]
        self.assertEqual(ext_out["account_data"]["global"],
                         [{"type": "org.example.x", "content": {"a": 1}}])
        self.assertEqual(ext_out["account_data"]["rooms"][room],
                         [{"type": "org.example.y", "content": {"b": 2}}])
        receipt = ext_out["receipts"]["rooms"][room]
        self.assertEqual(receipt["type"], "m.receipt")
        self.assertIn(alice["user_id"], receipt["content"][msg]["m.read"])
        typing = ext_out["typing"]["rooms"][room]
        self.assertEqual(typing["content"]["user_ids"], [alice["user_id"]])
        # Extensions scoped to lists that do not hold the room leave it out.
        third = self.sliding_ok(bob, {"lists": lists, "extensions": {
            "typing": {"enabled": True, "lists": ["elsewhere"]}}}, conn_id="scoped")
        self.assertEqual(third["extensions"]["typing"]["rooms"], {})


class BadInputTest(SlidingTestCase):
    def test_refusals(self):
        alice = self.user()
        good = room_list()
        cases = [
            ({"lists": []}, "M_BAD_JSON"),
            ({"lists": {f"l{i}": good for i in range(101)}}, "M_INVALID_PARAM"),
            ({"lists": {"x" * 65: good}}, "M_INVALID_PARAM"),
            ({"lists": {"a": {"ranges": [[0, 1]], "required_state": []}}}, "M_MISSING_PARAM"),
            ({"lists": {"a": {"ranges": [[0, 1]], "timeline_limit": 1}}}, "M_MISSING_PARAM"),
            ({"lists": {"a": room_list(ranges=[(5, 1)])}}, "M_INVALID_PARAM"),
            ({"lists": {"a": room_list(ranges=[(-1, 1)])}}, "M_INVALID_PARAM"),
            ({"lists": {"a": dict(good, ranges=[[0]])}}, "M_BAD_JSON"),
            ({"lists": {"a": dict(good, ranges="0-1")}}, "M_BAD_JSON"),
            ({"lists": {"a": dict(good, timeline_limit=-1)}}, "M_INVALID_PARAM"),
            ({"lists": {"a": dict(good, timeline_limit="5")}}, "M_BAD_JSON"),
            ({"lists": {"a": dict(good, required_state=[["m.room.name"]])}}, "M_BAD_JSON"),
            ({"lists": {"a": dict(good, required_state="all")}}, "M_BAD_JSON"),
            ({"lists": {"a": dict(good, filters={"is_dm": "yes"})}}, "M_BAD_JSON"),
            ({"lists": {"a": dict(good, filters={"room_types": [1]})}}, "M_BAD_JSON"),
            ({"room_subscriptions": {"not-a-room": {"timeline_limit": 1, "required_state": []}}},
             "M_INVALID_PARAM"),
            ({"room_subscriptions": {f"!r{i}:x": {"timeline_limit": 1, "required_state": []}
                                     for i in range(101)}}, "M_INVALID_PARAM"),
            ({"extensions": {"to_device": {"enabled": True, "since": "abc"}}},
             "M_INVALID_PARAM"),
            ({"extensions": {"e2ee": {"enabled": "yes"}}}, "M_BAD_JSON"),
            ({"conn_id": 5}, "M_BAD_JSON"),
            ({"conn_id": "c" * 300}, "M_INVALID_PARAM"),
            ({"set_presence": "away"}, "M_INVALID_PARAM"),
            ({"timeout": -5}, "M_INVALID_PARAM"),
        ]
        for body, errcode in cases:
            with self.subTest(body=str(body)[:80]):
                self.assertError(self.sliding(alice, body, conn_id=None), 400, errcode)
        self.assertError(self.req(alice, "POST", SS, raw_body="{not json"), 400, "M_NOT_JSON")
        self.assertError(self.req(alice, "POST", SS + "?timeout=soon", {}), 400,
                         "M_INVALID_PARAM")
        self.assertError(self.req(alice, "POST", SS + "?set_presence=away", {}), 400,
                         "M_INVALID_PARAM")
        # Unknown extensions and fields are ignored; an empty body is a valid request.
        reply = self.sliding_ok(alice, {"extensions": {"org.example.unknown": {"enabled": True}}})
        self.assertEqual(reply["extensions"], {})
        self.assertServerAlive()

    def test_huge_ranges_and_limits_are_capped(self):
        alice = self.user()
        room = self.room(alice)
        for i in range(3):
            self.send(alice, room, f"m{i}")
        reply = self.sliding_ok(alice, {"lists": {"all": room_list(
            ranges=[(0, 2**62)], limit=10**9)}})
        self.assertEqual(self.window(reply), [room])


class AnonymityTest(CareTestCase):
    """The care rules' anonymity holds in sliding sync too: heroes, required_state and the
    timeline show non-contacts by nickname or as "Anonymous"."""

    def test_non_contacts_are_anonymous_in_sliding_sync(self):
        p1, p2 = self.person("professional", "Dr One"), self.person("professional", "Dr Two")
        c = self.person("client", "Carla Client")
        self.link(p1, c)
        room = self.create_room(p1)
        for m in (c, p2):
            self.assertEqual(self.invite(p1, room, m)[0], 200)
            self.join(m, room)
        self.send(c, room, "hello from carla")
        body = {"conn_id": "x", "lists": {"all": {
            "ranges": [[0, 9]], "timeline_limit": 5,
            "required_state": [["m.room.member", "*"], ["m.room.name", ""]]}}}
        status, seen_by_p2 = self.req(p2, "POST", SS, body)
        self.assertEqual(status, 200, seen_by_p2)
        self.assertNotIn("Carla", str(seen_by_p2["rooms"][room]))
        self.assertIn("Anonymous", str(seen_by_p2["rooms"][room]))
        status, seen_by_p1 = self.req(p1, "POST", SS, body)
        self.assertEqual(status, 200, seen_by_p1)
        self.assertIn("Carla", str(seen_by_p1["rooms"][room]))


if __name__ == "__main__":
    unittest.main()
