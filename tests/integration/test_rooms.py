"""Rooms over the Client-Server API: createRoom presets and options, membership (invite,
join, leave, kick, ban, unban, forget), aliases, state, send with transaction ids, redaction,
single events, context, messages and relations — and the refusals for each."""

import threading
import unittest

from harness import HomeserverTestCase, quote, unique

V3 = "/_matrix/client/v3"


class RoomsTestCase(HomeserverTestCase):
    options = {"rooms.encryption_enabled_by_default": "false"}

    def create_room(self, who, **body):
        return self.ok(who, "POST", "/createRoom", body)["room_id"]

    def send(self, who, room, body, txn=None, type_="m.room.message"):
        txn = txn or unique("txn")
        return self.ok(who, "PUT", f"/rooms/{quote(room)}/send/{type_}/{txn}", body)["event_id"]

    def state(self, who, room, type_, key=""):
        return self.req(who, "GET", f"/rooms/{quote(room)}/state/{type_}/{quote(key)}")


class CreateRoomTest(RoomsTestCase):
    def test_private_chat_gives_invite_join_rule_and_creator_power_100(self):
        alice = self.user()
        room = self.create_room(alice, preset="private_chat", name="Care plan", topic="Week 4")
        self.assertEqual(self.state(alice, room, "m.room.join_rules")[1]["join_rule"], "invite")
        self.assertEqual(self.state(alice, room, "m.room.name")[1]["name"], "Care plan")
        self.assertEqual(self.state(alice, room, "m.room.topic")[1]["topic"], "Week 4")
        create = self.state(alice, room, "m.room.create")[1]
        self.assertEqual(create.get("room_version"), "12")
        pl = self.state(alice, room, "m.room.power_levels")[1]
        # Room v12: the creator's power is implied by the create event, not listed.
        self.assertNotIn(alice["user_id"], pl.get("users", {}))

    def test_public_chat_is_joinable_without_invite(self):
        alice, bob = self.user(), self.user()
        room = self.create_room(alice, preset="public_chat")
        self.ok(bob, "POST", f"/join/{quote(room)}", {})
        joined = self.ok(bob, "GET", "/joined_rooms")["joined_rooms"]
        self.assertIn(room, joined)

    def test_room_version_10_and_11_are_supported(self):
        alice = self.user()
        for version in ("10", "11"):
            room = self.create_room(alice, room_version=version)
            self.assertEqual(self.state(alice, room, "m.room.create")[1]["room_version"], version)

    def test_unknown_room_version_is_refused(self):
        alice = self.user()
        self.assertError(self.req(alice, "POST", "/createRoom", {"room_version": "999"}),
                         400, "M_UNSUPPORTED_ROOM_VERSION")

    def test_initial_state_and_power_level_override_apply(self):
        alice = self.user()
        room = self.create_room(
            alice,
            initial_state=[{"type": "m.room.history_visibility", "state_key": "",
                            "content": {"history_visibility": "joined"}}],
            power_level_content_override={"events_default": 50})
        hv = self.state(alice, room, "m.room.history_visibility")[1]
        self.assertEqual(hv["history_visibility"], "joined")
        self.assertEqual(self.state(alice, room, "m.room.power_levels")[1]["events_default"], 50)

    def test_invite_list_and_is_direct(self):
        alice, bob = self.user(), self.user()
        room = self.create_room(alice, invite=[bob["user_id"]], is_direct=True)
        member = self.state(alice, room, "m.room.member", bob["user_id"])[1]
        self.assertEqual(member["membership"], "invite")
        self.assertTrue(member.get("is_direct"))

    def test_alias_is_created_and_taken_alias_refused(self):
        alice = self.user()
        name = unique("alias")
        room = self.create_room(alice, room_alias_name=name)
        alias = f"#{name}:{self.server.server_name}"
        status, reply = self.client.request("GET", f"{V3}/directory/room/{quote(alias)}")
        self.assertEqual(status, 200)
        self.assertEqual(reply["room_id"], room)
        self.assertError(self.req(alice, "POST", "/createRoom", {"room_alias_name": name}),
                         400, "M_ROOM_IN_USE")

    def test_bad_create_room_bodies_are_refused(self):
        alice = self.user()
        self.assertError(self.req(alice, "POST", "/createRoom", {"invite": "not-a-list"}),
                         400, "M_BAD_JSON")
        self.assertError(self.req(alice, "POST", "/createRoom", {"preset": "party"}),
                         400, "M_INVALID_PARAM")
        status, _ = self.req(alice, "POST", "/createRoom", {"invite": ["not a user id"]})
        self.assertEqual(status, 400)

    def test_encryption_is_on_by_default_when_configured(self):
        # This class's server has it off; the default config turns it on (see test_config).
        alice = self.user()
        room = self.create_room(alice)
        self.assertError(self.state(alice, room, "m.room.encryption"), 404, "M_NOT_FOUND")

    def test_encryption_cannot_be_turned_off_changed_or_redacted(self):
        alice = self.user()
        room = self.create_room(alice)
        path = f"/rooms/{quote(room)}/state/m.room.encryption/"
        event_id = self.ok(alice, "PUT", path, {"algorithm": "m.megolm.v1.aes-sha2"})["event_id"]
        # Rotation settings may change; the algorithm may not, nor may it go.
        self.ok(alice, "PUT", path, {"algorithm": "m.megolm.v1.aes-sha2",
                                     "rotation_period_ms": 3600000})
        self.assertError(self.req(alice, "PUT", path, {}), 403, "M_FORBIDDEN")
        self.assertError(self.req(alice, "PUT", path, {"algorithm": "m.none"}), 403,
                         "M_FORBIDDEN")
        current = self.ok(alice, "GET", f"/rooms/{quote(room)}/state/m.room.encryption/")
        self.assertEqual(current["algorithm"], "m.megolm.v1.aes-sha2")
        current_id = [e for e in self.ok(alice, "GET", f"/rooms/{quote(room)}/state")
                      if e["type"] == "m.room.encryption"][0]["event_id"]
        self.assertError(self.req(alice, "PUT", f"/rooms/{quote(room)}/redact/{quote(current_id)}"
                                  f"/{unique('t')}", {}), 403, "M_FORBIDDEN")
        self.assertTrue(event_id)


class MembershipTest(RoomsTestCase):
    def test_invite_join_leave_cycle(self):
        alice, bob = self.user(), self.user()
        room = self.create_room(alice)
        self.assertError(self.req(bob, "POST", f"/rooms/{quote(room)}/join", {}), 403, "M_FORBIDDEN")
        self.ok(alice, "POST", f"/rooms/{quote(room)}/invite", {"user_id": bob["user_id"]})
        self.ok(bob, "POST", f"/rooms/{quote(room)}/join", {})
        members = self.ok(alice, "GET", f"/rooms/{quote(room)}/joined_members")["joined"]
        self.assertIn(bob["user_id"], members)
        self.ok(bob, "POST", f"/rooms/{quote(room)}/leave", {})
        members = self.ok(alice, "GET", f"/rooms/{quote(room)}/joined_members")["joined"]
        self.assertNotIn(bob["user_id"], members)

    def test_only_members_with_power_may_invite(self):
        alice, bob, carol = self.user(), self.user(), self.user()
        room = self.create_room(alice, power_level_content_override={"invite": 50})
        self.ok(alice, "POST", f"/rooms/{quote(room)}/invite", {"user_id": bob["user_id"]})
        self.ok(bob, "POST", f"/rooms/{quote(room)}/join", {})
        self.assertError(self.req(bob, "POST", f"/rooms/{quote(room)}/invite",
                                  {"user_id": carol["user_id"]}), 403, "M_FORBIDDEN")

    def test_kick_ban_unban(self):
        alice, bob = self.user(), self.user()
        room = self.create_room(alice, preset="public_chat")
        self.ok(bob, "POST", f"/join/{quote(room)}", {})
        self.assertError(self.req(bob, "POST", f"/rooms/{quote(room)}/kick",
                                  {"user_id": alice["user_id"]}), 403, "M_FORBIDDEN")
        self.ok(alice, "POST", f"/rooms/{quote(room)}/kick", {"user_id": bob["user_id"], "reason": "r"})
        self.assertEqual(self.state(alice, room, "m.room.member", bob["user_id"])[1]["membership"], "leave")
        self.ok(alice, "POST", f"/rooms/{quote(room)}/ban", {"user_id": bob["user_id"]})
        self.assertError(self.req(bob, "POST", f"/join/{quote(room)}", {}), 403, "M_FORBIDDEN")
        self.ok(alice, "POST", f"/rooms/{quote(room)}/unban", {"user_id": bob["user_id"]})
        self.ok(bob, "POST", f"/join/{quote(room)}", {})

    def test_leave_when_not_member_and_unknown_room(self):
        alice = self.user()
        self.assertError(self.req(alice, "POST", "/rooms/!nope:localhost/leave", {}), 403, "M_FORBIDDEN")
        self.assertError(self.req(alice, "POST", "/join/!nope:localhost", {}), 404, "M_NOT_FOUND")
        self.assertError(self.req(alice, "POST", "/join/not-a-room", {}), 400, "M_INVALID_PARAM")
        self.assertError(self.req(alice, "POST", "/rooms/!x:localhost/invite", {}), 400, "M_MISSING_PARAM")

    def test_forget_requires_leaving_first(self):
        alice = self.user()
        room = self.create_room(alice, preset="public_chat")
        bob = self.user()
        self.ok(bob, "POST", f"/join/{quote(room)}", {})
        self.assertError(self.req(bob, "POST", f"/rooms/{quote(room)}/forget", {}), 400, "M_UNKNOWN")
        self.ok(bob, "POST", f"/rooms/{quote(room)}/leave", {})
        self.ok(bob, "POST", f"/rooms/{quote(room)}/forget", {})
        self.assertError(self.req(bob, "GET", f"/rooms/{quote(room)}/messages"), 403, "M_FORBIDDEN")

    def test_join_by_alias(self):
        alice, bob = self.user(), self.user()
        name = unique("pub")
        room = self.create_room(alice, preset="public_chat", room_alias_name=name)
        reply = self.ok(bob, "POST", f"/join/{quote('#' + name + ':' + self.server.server_name)}", {})
        self.assertEqual(reply["room_id"], room)

    def test_members_with_membership_filter(self):
        alice, bob = self.user(), self.user()
        room = self.create_room(alice, invite=[bob["user_id"]])
        chunk = self.ok(alice, "GET", f"/rooms/{quote(room)}/members?membership=invite")["chunk"]
        self.assertEqual([e["state_key"] for e in chunk], [bob["user_id"]])
        chunk = self.ok(alice, "GET", f"/rooms/{quote(room)}/members?not_membership=invite")["chunk"]
        self.assertEqual([e["state_key"] for e in chunk], [alice["user_id"]])
        stranger = self.user()
        self.assertError(self.req(stranger, "GET", f"/rooms/{quote(room)}/members"), 403, "M_FORBIDDEN")


class AliasTest(RoomsTestCase):
    def test_put_get_delete_alias(self):
        alice, bob = self.user(), self.user()
        room = self.create_room(alice)
        alias = f"#{unique('a')}:{self.server.server_name}"
        self.ok(alice, "PUT", f"/directory/room/{quote(alias)}", {"room_id": room})
        self.assertError(self.req(alice, "PUT", f"/directory/room/{quote(alias)}", {"room_id": room}),
                         409, "M_UNKNOWN")
        self.assertIn(alias, self.ok(alice, "GET", f"/rooms/{quote(room)}/aliases")["aliases"])
        self.assertError(self.req(bob, "DELETE", f"/directory/room/{quote(alias)}"), 403, "M_FORBIDDEN")
        self.ok(alice, "DELETE", f"/directory/room/{quote(alias)}")
        self.assertError(self.client.request("GET", f"{V3}/directory/room/{quote(alias)}"),
                         404, "M_NOT_FOUND")

    def test_alias_on_another_server_or_malformed_is_refused(self):
        alice = self.user()
        room = self.create_room(alice)
        self.assertError(self.req(alice, "PUT", f"/directory/room/{quote('#x:elsewhere.org')}",
                                  {"room_id": room}), 400, "M_INVALID_PARAM")
        self.assertError(self.req(alice, "PUT", f"/directory/room/{quote('nohash')}",
                                  {"room_id": room}), 400, "M_INVALID_PARAM")


class EventsTest(RoomsTestCase):
    def test_send_with_same_txn_id_gives_same_event(self):
        alice = self.user()
        room = self.create_room(alice)
        first = self.send(alice, room, {"msgtype": "m.text", "body": "hi"}, txn="t1")
        again = self.send(alice, room, {"msgtype": "m.text", "body": "hi"}, txn="t1")
        self.assertEqual(first, again)
        other = self.send(alice, room, {"msgtype": "m.text", "body": "hi"}, txn="t2")
        self.assertNotEqual(first, other)

    def test_concurrent_sends_with_one_txn_id_make_one_event(self):
        alice = self.user()
        room = self.create_room(alice)
        results = []

        def send():
            results.append(self.req(alice, "PUT", f"/rooms/{quote(room)}/send/m.room.message/same",
                                    {"msgtype": "m.text", "body": "once"}))
        threads = [threading.Thread(target=send) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ids = {r[1]["event_id"] for r in results if r[0] == 200}
        self.assertEqual(len(results), 8)
        self.assertTrue(all(r[0] == 200 for r in results), results)
        self.assertEqual(len(ids), 1)
        chunk = self.ok(alice, "GET", f"/rooms/{quote(room)}/messages?dir=b&limit=50")["chunk"]
        bodies = [e["content"].get("body") for e in chunk if e["type"] == "m.room.message"]
        self.assertEqual(bodies.count("once"), 1)

    def test_transaction_id_shows_only_to_the_sending_device(self):
        alice = self.user()
        room = self.create_room(alice)
        event_id = self.send(alice, room, {"msgtype": "m.text", "body": "x"}, txn="mine")
        ev = self.ok(alice, "GET", f"/rooms/{quote(room)}/event/{quote(event_id)}")
        self.assertEqual(ev["unsigned"].get("transaction_id"), "mine")
        other = self.client.login_ok(alice["user_id"])
        ev = self.ok(other, "GET", f"/rooms/{quote(room)}/event/{quote(event_id)}")
        self.assertNotIn("transaction_id", ev["unsigned"])

    def test_non_member_cannot_send_or_read(self):
        alice, mallory = self.user(), self.user()
        room = self.create_room(alice)
        event_id = self.send(alice, room, {"msgtype": "m.text", "body": "secret"})
        status, _ = self.req(mallory, "PUT", f"/rooms/{quote(room)}/send/m.room.message/x",
                             {"body": "hi"})
        self.assertEqual(status, 403)
        self.assertError(self.req(mallory, "GET", f"/rooms/{quote(room)}/event/{quote(event_id)}"),
                         403, "M_FORBIDDEN")
        self.assertError(self.req(mallory, "GET", f"/rooms/{quote(room)}/messages"), 403, "M_FORBIDDEN")
        self.assertError(self.req(mallory, "GET", f"/rooms/{quote(room)}/state"), 403, "M_FORBIDDEN")

    def test_oversize_and_malformed_events_are_refused(self):
        alice = self.user()
        room = self.create_room(alice)
        big = {"msgtype": "m.text", "body": "x" * 70000}
        status, reply = self.req(alice, "PUT", f"/rooms/{quote(room)}/send/m.room.message/big", big)
        self.assertEqual(status, 413, reply)
        self.assertEqual(reply["errcode"], "M_TOO_LARGE")
        status, reply = self.req(alice, "PUT", f"/rooms/{quote(room)}/send/m.room.message/bad",
                                 raw_body=b"{not json")
        self.assertEqual((status, reply["errcode"]), (400, "M_NOT_JSON"))
        status, reply = self.req(alice, "PUT", f"/rooms/{quote(room)}/send/m.room.message/flt",
                                 {"body": "x", "n": 1.5})
        self.assertEqual(status, 400, reply)
        status, reply = self.req(alice, "PUT", f"/rooms/{quote(room)}/send/m.room.message/nul",
                                 raw_body=b'{"body": "a\\u0000b"}')
        self.assertEqual(status, 400, reply)
        self.assertServerAlive()

    def test_state_put_get_and_power(self):
        alice, bob = self.user(), self.user()
        room = self.create_room(alice, preset="public_chat")
        self.ok(bob, "POST", f"/join/{quote(room)}", {})
        self.ok(alice, "PUT", f"/rooms/{quote(room)}/state/m.room.topic/", {"topic": "new"})
        self.assertEqual(self.state(bob, room, "m.room.topic")[1]["topic"], "new")
        status, reply = self.req(bob, "PUT", f"/rooms/{quote(room)}/state/m.room.topic", {"topic": "x"})
        self.assertEqual((status, reply["errcode"]), (403, "M_FORBIDDEN"))
        self.ok(alice, "PUT", f"/rooms/{quote(room)}/state/org.example.custom/key1", {"a": 1})
        self.assertEqual(self.state(bob, room, "org.example.custom", "key1")[1], {"a": 1})
        self.assertError(self.state(bob, room, "org.example.custom", "missing"), 404, "M_NOT_FOUND")
        all_state = self.ok(bob, "GET", f"/rooms/{quote(room)}/state")
        types = {e["type"] for e in all_state}
        self.assertTrue({"m.room.create", "m.room.member", "m.room.power_levels"} <= types)
        ev = self.ok(bob, "GET", f"/rooms/{quote(room)}/state/m.room.topic/?format=event")
        self.assertEqual(ev["type"], "m.room.topic")

    def test_redaction_by_sender_and_by_moderator_only(self):
        alice, bob, carol = self.user(), self.user(), self.user()
        room = self.create_room(alice, preset="public_chat")
        self.ok(bob, "POST", f"/join/{quote(room)}", {})
        self.ok(carol, "POST", f"/join/{quote(room)}", {})
        mine = self.send(bob, room, {"msgtype": "m.text", "body": "oops"})
        self.assertError(self.req(carol, "PUT", f"/rooms/{quote(room)}/redact/{quote(mine)}/r1",
                                  {}), 403, "M_FORBIDDEN")
        self.ok(bob, "PUT", f"/rooms/{quote(room)}/redact/{quote(mine)}/r2", {"reason": "typo"})
        ev = self.ok(alice, "GET", f"/rooms/{quote(room)}/event/{quote(mine)}")
        self.assertEqual(ev["content"], {})
        self.assertEqual(ev["unsigned"]["redacted_because"]["type"], "m.room.redaction")
        theirs = self.send(carol, room, {"msgtype": "m.text", "body": "spam"})
        self.ok(alice, "PUT", f"/rooms/{quote(room)}/redact/{quote(theirs)}/r3", {})
        self.assertError(self.req(alice, "PUT", f"/rooms/{quote(room)}/redact/{quote('$nope')}/r4",
                                  {}), 404, "M_NOT_FOUND")

    def test_messages_paginate_both_directions(self):
        alice = self.user()
        room = self.create_room(alice)
        sent = [self.send(alice, room, {"msgtype": "m.text", "body": str(i)}) for i in range(25)]
        page1 = self.ok(alice, "GET", f"/rooms/{quote(room)}/messages?dir=b&limit=10")
        self.assertEqual([e["event_id"] for e in page1["chunk"]], sent[::-1][:10])
        page2 = self.ok(alice, "GET", f"/rooms/{quote(room)}/messages?dir=b&limit=10&from={page1['end']}")
        self.assertEqual([e["event_id"] for e in page2["chunk"]], sent[::-1][10:20])
        fwd = self.ok(alice, "GET", f"/rooms/{quote(room)}/messages?dir=f&limit=100")
        ids = [e["event_id"] for e in fwd["chunk"]]
        self.assertEqual(ids[-25:], sent)
        self.assertEqual(fwd["chunk"][0]["type"], "m.room.create")
        self.assertError(self.req(alice, "GET", f"/rooms/{quote(room)}/messages?dir=x"), 400, "M_INVALID_PARAM")
        self.assertError(self.req(alice, "GET", f"/rooms/{quote(room)}/messages?from=garbage"),
                         400, "M_INVALID_PARAM")
        flt = quote('{"types":["m.room.member"]}')
        only_members = self.ok(alice, "GET", f"/rooms/{quote(room)}/messages?dir=b&filter={flt}")
        self.assertTrue(all(e["type"] == "m.room.member" for e in only_members["chunk"]))

    def test_context_around_an_event(self):
        alice = self.user()
        room = self.create_room(alice)
        sent = [self.send(alice, room, {"msgtype": "m.text", "body": str(i)}) for i in range(9)]
        ctx = self.ok(alice, "GET", f"/rooms/{quote(room)}/context/{quote(sent[4])}?limit=4")
        self.assertEqual(ctx["event"]["event_id"], sent[4])
        self.assertEqual([e["event_id"] for e in ctx["events_before"]], [sent[3], sent[2]])
        self.assertEqual([e["event_id"] for e in ctx["events_after"]], [sent[5], sent[6]])
        self.assertTrue(any(e["type"] == "m.room.create" for e in ctx["state"]))

    def test_edits_reactions_threads_and_bundled_relations(self):
        alice, bob = self.user(), self.user()
        room = self.create_room(alice, preset="public_chat")
        self.ok(bob, "POST", f"/join/{quote(room)}", {})
        root = self.send(alice, room, {"msgtype": "m.text", "body": "original"})
        edit = self.send(alice, room, {"msgtype": "m.text", "body": "* edited",
                                       "m.new_content": {"msgtype": "m.text", "body": "edited"},
                                       "m.relates_to": {"rel_type": "m.replace", "event_id": root}})
        # An edit by someone else is not a valid replacement.
        self.send(bob, room, {"msgtype": "m.text", "body": "* hijack",
                              "m.new_content": {"msgtype": "m.text", "body": "hijack"},
                              "m.relates_to": {"rel_type": "m.replace", "event_id": root}})
        self.send(bob, room, {"m.relates_to": {"rel_type": "m.annotation", "event_id": root, "key": "+1"}},
                  type_="m.reaction")
        reply = self.send(bob, room, {"msgtype": "m.text", "body": "in thread",
                                      "m.relates_to": {"rel_type": "m.thread", "event_id": root}})
        ev = self.ok(alice, "GET", f"/rooms/{quote(room)}/event/{quote(root)}")
        rel = ev["unsigned"]["m.relations"]
        self.assertEqual(rel["m.replace"]["event_id"], edit)
        self.assertEqual(rel["m.thread"]["count"], 1)
        self.assertEqual(rel["m.thread"]["latest_event"]["event_id"], reply)
        path = f"/_matrix/client/v1/rooms/{quote(room)}/relations/{quote(root)}"
        status, all_rel = self.client.request("GET", path, token=alice["access_token"])
        self.assertEqual(status, 200)
        self.assertEqual(len(all_rel["chunk"]), 4)
        status, ann = self.client.request("GET", path + "/m.annotation", token=alice["access_token"])
        self.assertEqual([e["type"] for e in ann["chunk"]], ["m.reaction"])
        status, ann = self.client.request("GET", path + "/m.annotation/m.room.message",
                                          token=alice["access_token"])
        self.assertEqual(ann["chunk"], [])
        status, threads = self.client.request(
            "GET", f"/_matrix/client/v1/rooms/{quote(room)}/threads", token=alice["access_token"])
        self.assertEqual([e["event_id"] for e in threads["chunk"]], [root])


class LeaverHistoryTest(RoomsTestCase):
    def test_a_leaver_reads_history_up_to_the_leave_and_nothing_after(self):
        alice, bob = self.user(), self.user()
        room = self.create_room(alice, preset="public_chat")
        self.ok(bob, "POST", f"/join/{quote(room)}", {})
        before = self.send(alice, room, {"msgtype": "m.text", "body": "before"})
        self.ok(bob, "POST", f"/rooms/{quote(room)}/leave", {})
        after = self.send(alice, room, {"msgtype": "m.text", "body": "after"})
        chunk = self.ok(bob, "GET", f"/rooms/{quote(room)}/messages?dir=b&limit=50")["chunk"]
        ids = [e["event_id"] for e in chunk]
        self.assertIn(before, ids)
        self.assertNotIn(after, ids)
        self.assertError(self.req(bob, "GET", f"/rooms/{quote(room)}/event/{quote(after)}"),
                         404, "M_NOT_FOUND")
        self.ok(bob, "GET", f"/rooms/{quote(room)}/event/{quote(before)}")


if __name__ == "__main__":
    unittest.main()
