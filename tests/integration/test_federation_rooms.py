"""Rooms shared between two servers: invites of remote users, joining by room id (with
server_name / via) and by alias, leaving and rejecting invites through the resident server,
the resident side of make_join / send_join / make_leave / send_leave / invite and their
refusals, and the care rules across servers.

Two `haven` instances on loopback (hs1.test, hs2.test) with TLS federation listeners and
test certificates, from federation_harness."""

import hashlib
import json
import unittest

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation_harness import (FederationTestCase, b64encode, canonical, make_pdu,
                                yaml_list)
from harness import quote, unique

HS1, HS2 = "hs1.test", "hs2.test"
ADMIN = "/_haven/admin/v1"


def members(reply_state):
    return {e["state_key"]: e["content"]["membership"]
            for e in reply_state if e["type"] == "m.room.member"}


class FederatedRoomsTest(FederationTestCase):

    # --- helpers ------------------------------------------------------------------------

    def room_members(self, who, room_id):
        return members(self.ok(who, "GET", f"/rooms/{quote(room_id)}/state"))

    def invite(self, who, room_id, target):
        return self.req(who, "POST", f"/rooms/{quote(room_id)}/invite",
                        {"user_id": target["user_id"]})

    def join(self, who, room, query=""):
        return self.req(who, "POST", f"/join/{quote(room)}{query}", {})

    def joined_room_sync(self, who, room_id):
        """Syncs as `who` until `room_id` is in rooms.join; returns that room's entry."""
        reply = self.sync_until(who, lambda r: room_id in r.get("rooms", {}).get("join", {}),
                                f"the join to {room_id}")
        return reply["rooms"]["join"][room_id]

    # --- invites ------------------------------------------------------------------------

    def test_remote_invite_reaches_the_invitee_with_stripped_state(self):
        alice = self.user(HS1, "alice", "Alice")
        bob = self.user(HS2, "bob")
        room_id = self.create_room(alice, name="Across servers", topic="federation")
        status, reply = self.invite(alice, room_id, bob)
        self.assertEqual(status, 200, reply)
        self.assertEqual(self.room_members(alice, room_id)[bob["user_id"]], "invite")
        state = self.wait_for_invite(bob, room_id)
        by_type = {e["type"]: e for e in state}
        self.assertEqual(by_type["m.room.name"]["content"]["name"], "Across servers")
        self.assertIn("m.room.create", by_type)
        invites = [e for e in state if e["type"] == "m.room.member"
                   and e["state_key"] == bob["user_id"]]
        self.assertEqual(len(invites), 1, state)
        self.assertEqual(invites[0]["sender"], alice["user_id"])
        self.assertEqual(invites[0]["content"]["membership"], "invite")

    def test_create_room_invites_remote_invitees_through_their_server(self):
        alice = self.user(HS1, "alice")
        bob = self.user(HS2, "bob")
        carol = self.user(HS1, "carol")
        room_id = self.create_room(alice, name="Direct", is_direct=True,
                                   invite=[bob["user_id"], carol["user_id"]])
        members = self.room_members(alice, room_id)
        self.assertEqual(members[bob["user_id"]], "invite")
        self.assertEqual(members[carol["user_id"]], "invite")
        state = self.wait_for_invite(bob, room_id)
        invite = [e for e in state if e["type"] == "m.room.member"
                  and e["state_key"] == bob["user_id"]][0]
        self.assertTrue(invite["content"].get("is_direct"), invite)
        self.assertEqual(self.req(bob, "POST", f"/join/{quote(room_id)}", {})[0], 200)

    def test_invite_of_a_remote_user_that_does_not_exist_fails(self):
        alice = self.user(HS1, "alice")
        room_id = self.create_room(alice)
        status, reply = self.req(alice, "POST", f"/rooms/{quote(room_id)}/invite",
                                 {"user_id": f"@nobody_{unique()}:{HS2}"})
        self.assertEqual(status, 403, reply)
        self.assertNotIn(f"@nobody", json.dumps(self.room_members(alice, room_id)))

    def test_invited_remote_user_joins_and_sees_the_room(self):
        alice = self.user(HS1, "alice", "Alice")
        bob = self.user(HS2, "bob", "Bob")
        room_id = self.create_room(alice, name="Invited")
        self.assertEqual(self.invite(alice, room_id, bob)[0], 200)
        self.wait_for_invite(bob, room_id)
        # No server named: the inviting server is asked.
        status, reply = self.join(bob, room_id)
        self.assertEqual(status, 200, reply)
        self.assertEqual(reply["room_id"], room_id)
        room = self.joined_room_sync(bob, room_id)
        state = {(e["type"], e["state_key"]): e for e in room["state"]["events"]}
        self.assertEqual(state[("m.room.name", "")]["content"]["name"], "Invited")
        self.assertEqual(state[("m.room.member", alice["user_id"])]["content"]["membership"],
                         "join")
        timeline = room["timeline"]["events"]
        self.assertEqual(timeline[-1]["type"], "m.room.member")
        self.assertEqual(timeline[-1]["state_key"], bob["user_id"])
        self.assertEqual(timeline[-1]["content"]["displayname"], "Bob")
        # Both servers agree on the members.
        self.assertEqual(self.room_members(alice, room_id)[bob["user_id"]], "join")
        self.assertEqual(self.room_members(bob, room_id),
                         {alice["user_id"]: "join", bob["user_id"]: "join"})
        self.assertIn(room_id, self.ok(bob, "GET", "/joined_rooms")["joined_rooms"])

    def test_rejecting_a_remote_invite_goes_through_the_inviting_server(self):
        alice = self.user(HS1, "alice")
        bob = self.user(HS2, "bob")
        room_id = self.create_room(alice)
        self.assertEqual(self.invite(alice, room_id, bob)[0], 200)
        self.wait_for_invite(bob, room_id)
        status, reply = self.req(bob, "POST", f"/rooms/{quote(room_id)}/leave", {})
        self.assertEqual(status, 200, reply)
        self.assertEqual(self.room_members(alice, room_id)[bob["user_id"]], "leave")
        self.sync_until(bob, lambda r: room_id in r.get("rooms", {}).get("leave", {}),
                        "the rejected invite in rooms.leave")
        # The rejected invite cannot be used to join: it has to be sent again.
        self.assertError(self.join(bob, room_id, f"?server_name={HS1}"), 403, "M_FORBIDDEN")

    # --- joins ----------------------------------------------------------------------------

    def test_join_public_room_by_remote_alias(self):
        alice = self.user(HS1, "alice")
        bob = self.user(HS2, "bob")
        alias_name = unique("lobby")
        room_id = self.create_room(alice, preset="public_chat", room_alias_name=alias_name)
        alias = f"#{alias_name}:{HS1}"
        resolved = self.ok(bob, "GET", f"/directory/room/{quote(alias)}")
        self.assertEqual(resolved["room_id"], room_id)
        self.assertEqual(resolved["servers"], [HS1])
        status, reply = self.join(bob, alias)
        self.assertEqual(status, 200, reply)
        self.assertEqual(reply["room_id"], room_id)
        self.joined_room_sync(bob, room_id)
        self.assertEqual(self.room_members(alice, room_id)[bob["user_id"]], "join")
        # Now both servers are in the room: hs2 is listed for the alias too.
        self.assertEqual(self.ok(bob, "GET", f"/directory/room/{quote(alias)}")["servers"],
                         [HS1, HS2])

    def test_join_public_room_by_id_through_server_name(self):
        alice = self.user(HS1, "alice")
        bob = self.user(HS2, "bob")
        room_id = self.create_room(alice, preset="public_chat")
        # Room ids of version 12 name no server: without one to ask, there is no way in.
        self.assertError(self.join(bob, room_id), 404, "M_NOT_FOUND")
        status, reply = self.join(bob, room_id, f"?server_name={HS1}")
        self.assertEqual(status, 200, reply)
        self.joined_room_sync(bob, room_id)
        self.assertEqual(self.room_members(alice, room_id)[bob["user_id"]], "join")

    def test_join_by_id_with_via_skips_servers_that_cannot_help(self):
        alice = self.user(HS1, "alice")
        bob = self.user(HS2, "bob")
        room_id = self.create_room(alice, preset="public_chat")
        # hs3.test is not an allowed server; hs2 itself is not in the room.
        status, reply = self.req(bob, "POST",
                                 f"/rooms/{quote(room_id)}/join?via=hs3.test&via={HS1}", {})
        self.assertEqual(status, 200, reply)
        self.joined_room_sync(bob, room_id)

    def test_remote_join_to_an_invite_only_room_is_refused(self):
        alice = self.user(HS1, "alice")
        bob = self.user(HS2, "bob")
        room_id = self.create_room(alice, preset="private_chat")
        self.assertError(self.join(bob, room_id, f"?server_name={HS1}"), 403, "M_FORBIDDEN")
        self.assertNotIn(bob["user_id"], self.room_members(alice, room_id))
        self.assertNotIn(room_id, self.ok(bob, "GET", "/joined_rooms")["joined_rooms"])

    def test_join_by_unknown_remote_alias_is_not_found(self):
        bob = self.user(HS2, "bob")
        self.assertError(self.join(bob, f"#nothing_{unique()}:{HS1}"), 404, "M_NOT_FOUND")
        self.assertError(self.req(bob, "GET", f"/directory/room/{quote('#nothing:' + HS1)}"),
                         404, "M_NOT_FOUND")

    def test_remote_user_without_power_cannot_rename_the_room_at_their_server(self):
        alice = self.user(HS1, "alice")
        bob = self.user(HS2, "bob")
        room_id = self.create_room(alice, preset="public_chat", name="Fixed")
        self.assertEqual(self.join(bob, room_id, f"?server_name={HS1}")[0], 200)
        self.assertError(self.req(bob, "PUT", f"/rooms/{quote(room_id)}/state/m.room.name/",
                                  {"name": "Mine"}), 403, "M_FORBIDDEN")
        self.assertEqual(self.state(alice, room_id, "m.room.name")[1]["name"], "Fixed")

    # --- events across servers -------------------------------------------------------------

    def shared_room(self, **create):
        """A public room alice made on hs1 that bob of hs2 joined: (alice, bob, room_id)."""
        alice = self.user(HS1, "alice", "Alice")
        bob = self.user(HS2, "bob", "Bob")
        create.setdefault("preset", "public_chat")
        room_id = self.create_room(alice, **create)
        self.assertEqual(self.join(bob, room_id, f"?server_name={HS1}")[0], 200)
        self.joined_room_sync(bob, room_id)
        return alice, bob, room_id

    def is_text(self, body):
        return lambda e: e["type"] == "m.room.message" and e["content"].get("body") == body

    def test_messages_go_both_ways(self):
        alice, bob, room_id = self.shared_room()
        self.send_text(alice, room_id, "hello from hs1")
        event = self.wait_for_timeline_event(bob, room_id, self.is_text("hello from hs1"))
        self.assertEqual(event["sender"], alice["user_id"])
        self.send_text(bob, room_id, "hello from hs2")
        event = self.wait_for_timeline_event(alice, room_id, self.is_text("hello from hs2"))
        self.assertEqual(event["sender"], bob["user_id"])

    def test_remote_member_leaves(self):
        alice, bob, room_id = self.shared_room()
        self.assertEqual(self.req(bob, "POST", f"/rooms/{quote(room_id)}/leave", {})[0], 200)
        event = self.wait_for_timeline_event(
            alice, room_id, lambda e: e["type"] == "m.room.member" and
            e["state_key"] == bob["user_id"] and e["content"]["membership"] == "leave",
            "bob's leave")
        self.assertEqual(event["sender"], bob["user_id"])
        self.assertEqual(self.room_members(alice, room_id)[bob["user_id"]], "leave")
        self.assertNotIn(room_id, self.ok(bob, "GET", "/joined_rooms")["joined_rooms"])

    def test_kick_of_a_remote_member_reaches_their_server(self):
        alice, bob, room_id = self.shared_room()
        status, reply = self.req(alice, "POST", f"/rooms/{quote(room_id)}/kick",
                                 {"user_id": bob["user_id"], "reason": "testing"})
        self.assertEqual(status, 200, reply)
        reply = self.sync_until(bob, lambda r: room_id in r.get("rooms", {}).get("leave", {}),
                                "the kick in rooms.leave")
        events = reply["rooms"]["leave"][room_id]["timeline"]["events"]
        kick = [e for e in events if e["type"] == "m.room.member"
                and e["state_key"] == bob["user_id"]]
        self.assertEqual(kick[-1]["sender"], alice["user_id"], events)
        self.assertEqual(kick[-1]["content"]["membership"], "leave")
        self.assertEqual(self.room_members(alice, room_id)[bob["user_id"]], "leave")
        # bob's server now knows he is out: he cannot send there either.
        status, _ = self.req(bob, "PUT", f"/rooms/{quote(room_id)}/send/m.room.message/"
                             f"{unique('t')}", {"msgtype": "m.text", "body": "still here?"})
        self.assertEqual(status, 403)

    # --- events forced on the resident ------------------------------------------------------

    def room_ids(self, who, room_id, member):
        """(latest event id, power levels id, `member`'s member event id) as `who` sees them."""
        latest = self.ok(who, "GET", f"/rooms/{quote(room_id)}/messages?dir=b&limit=1")
        state = self.ok(who, "GET", f"/rooms/{quote(room_id)}/state")
        by_key = {(e["type"], e["state_key"]): e["event_id"] for e in state}
        return (latest["chunk"][0]["event_id"], by_key[("m.room.power_levels", "")],
                by_key[("m.room.member", member["user_id"])])

    def pdu_from_bob(self, alice, bob, room_id, fields, key=None, tamper_content=None):
        latest, power, member = self.room_ids(alice, room_id, bob)
        event = {"room_id": room_id, "sender": bob["user_id"], "prev_events": [latest],
                 "auth_events": [power, member], "depth": 1000}
        event.update(fields)
        return make_pdu(HS2, key or self.signing_key(HS2), event, tamper_content)

    def test_name_change_without_power_forced_on_the_resident_is_rejected(self):
        alice, bob, room_id = self.shared_room(name="Fixed")
        pdu, event_id = self.pdu_from_bob(alice, bob, room_id, {
            "type": "m.room.name", "state_key": "", "content": {"name": "Forced"}})
        results = self.send_pdus(HS2, HS1, [pdu])
        self.assertIn("error", results.get(event_id, {}), results)
        self.assertEqual(self.state(alice, room_id, "m.room.name")[1]["name"], "Fixed")
        # A message from bob built the same way is accepted: the refusal was the power level.
        pdu, event_id = self.pdu_from_bob(alice, bob, room_id, {
            "type": "m.room.message", "content": {"msgtype": "m.text", "body": "raw"}})
        self.assertNotIn("error", self.send_pdus(HS2, HS1, [pdu]).get(event_id, {}))
        self.wait_for_timeline_event(alice, room_id, self.is_text("raw"))

    def test_event_with_a_forged_signature_is_rejected(self):
        alice, bob, room_id = self.shared_room()
        key_id, _ = self.signing_key(HS2)
        pdu, event_id = self.pdu_from_bob(
            alice, bob, room_id, {"type": "m.room.message",
                                  "content": {"msgtype": "m.text", "body": "forged"}},
            key=(key_id, Ed25519PrivateKey.generate()))
        results = self.send_pdus(HS2, HS1, [pdu])
        self.assertIn("error", results.get(event_id, {}), results)
        self.assertEqual(self.req(alice, "GET",
                                  f"/rooms/{quote(room_id)}/event/{quote(event_id)}")[0], 404)

    def test_event_with_a_wrong_content_hash_is_stored_redacted(self):
        alice, bob, room_id = self.shared_room()
        pdu, event_id = self.pdu_from_bob(
            alice, bob, room_id, {"type": "m.room.message",
                                  "content": {"msgtype": "m.text", "body": "original"}},
            tamper_content={"msgtype": "m.text", "body": "tampered"})
        results = self.send_pdus(HS2, HS1, [pdu])
        self.assertNotIn("error", results.get(event_id, {}), results)
        event = self.ok(alice, "GET", f"/rooms/{quote(room_id)}/event/{quote(event_id)}")
        self.assertEqual(event["sender"], bob["user_id"])
        self.assertEqual(event["content"], {})

    # --- the resident side directly -------------------------------------------------------

    def make_join(self, origin, room_id, user_id, versions=("10", "11", "12")):
        query = "&".join(f"ver={v}" for v in versions)
        target = f"/_matrix/federation/v1/make_join/{quote(room_id)}/{quote(user_id)}?{query}"
        return self.fed_as(origin, HS1, "GET", target)

    def test_make_join_gives_a_template_on_the_current_state(self):
        alice = self.user(HS1, "alice")
        room_id = self.create_room(alice, preset="public_chat")
        user_id = f"@someone:{HS2}"
        status, reply = self.make_join(HS2, room_id, user_id)
        self.assertEqual(status, 200, reply)
        self.assertEqual(reply["room_version"], "12")
        event = reply["event"]
        self.assertEqual((event["room_id"], event["sender"], event["state_key"], event["type"]),
                         (room_id, user_id, user_id, "m.room.member"))
        self.assertEqual(event["content"], {"membership": "join"})
        self.assertEqual(len(event["prev_events"]), 1)
        self.assertGreaterEqual(len(event["auth_events"]), 2)
        self.assertNotIn("signatures", event)

    def test_make_join_refusals(self):
        alice = self.user(HS1, "alice")
        room_id = self.create_room(alice, preset="public_chat")
        # A user of another server than the one asking.
        status, reply = self.make_join(HS2, room_id, f"@someone:{HS1}")
        self.assertEqual((status, reply["errcode"]), (403, "M_FORBIDDEN"), reply)
        # A room version the joining server does not know.
        status, reply = self.make_join(HS2, room_id, f"@someone:{HS2}", versions=("9",))
        self.assertEqual((status, reply["errcode"]), (400, "M_INCOMPATIBLE_ROOM_VERSION"))
        self.assertEqual(reply["room_version"], "12")
        # An unknown room.
        status, reply = self.make_join(HS2, "!unknown:" + HS1, f"@someone:{HS2}")
        self.assertEqual((status, reply["errcode"]), (404, "M_NOT_FOUND"), reply)
        # Unsigned.
        status, reply = self.fed(HS1, "GET", f"/_matrix/federation/v1/make_join/"
                                 f"{quote(room_id)}/{quote('@someone:' + HS2)}?ver=12")
        self.assertEqual((status, reply["errcode"]), (401, "M_UNAUTHORIZED"), reply)

    def signed_join(self, room_id, user_id, key=None):
        """A join event from make_join, hashed and signed here as hs2 (or with `key`)."""
        status, reply = self.make_join(HS2, room_id, user_id)
        self.assertEqual(status, 200, reply)
        event = reply["event"]
        event["origin_server_ts"] = event["origin_server_ts"] + 1
        unhashed = {k: v for k, v in event.items() if k not in ("signatures", "unsigned", "hashes")}
        event["hashes"] = {"sha256": b64encode(hashlib.sha256(canonical(unhashed)).digest())}
        key_id, private = key or self.signing_key(HS2)
        redacted = {k: event[k] for k in ("auth_events", "depth", "hashes", "origin_server_ts",
                                          "prev_events", "room_id", "sender", "state_key",
                                          "type")}
        redacted["content"] = {"membership": "join"}
        event["signatures"] = {HS2: {key_id: b64encode(private.sign(canonical(redacted)))}}
        # The event id: the reference hash of the redacted event without signatures.
        reference = hashlib.sha256(canonical(redacted)).digest()
        event_id = "$" + b64encode(reference).replace("+", "-").replace("/", "_")
        return event, event_id

    def test_send_join_with_a_forged_signature_is_refused(self):
        alice = self.user(HS1, "alice")
        room_id = self.create_room(alice, preset="public_chat")
        user_id = f"@mallory_{unique()}:{HS2}"
        key_id, _ = self.signing_key(HS2)
        event, event_id = self.signed_join(room_id, user_id, key=(key_id, Ed25519PrivateKey.generate()))
        target = f"/_matrix/federation/v2/send_join/{quote(room_id)}/{quote(event_id)}"
        status, reply = self.fed_as(HS2, HS1, "PUT", target, event)
        self.assertEqual((status, reply["errcode"]), (400, "M_INVALID_PARAM"), reply)
        self.assertNotIn(user_id, self.room_members(alice, room_id))

    def test_send_join_signed_here_as_the_joining_server_is_accepted(self):
        alice = self.user(HS1, "alice")
        room_id = self.create_room(alice, preset="public_chat", name="Raw")
        user_id = f"@raw_{unique()}:{HS2}"
        event, event_id = self.signed_join(room_id, user_id)
        target = f"/_matrix/federation/v2/send_join/{quote(room_id)}/{quote(event_id)}"
        # The path must name the event's own id.
        status, reply = self.fed_as(HS2, HS1, "PUT", target.replace(quote(event_id),
                                                                     quote("$other")), event)
        self.assertEqual((status, reply["errcode"]), (400, "M_INVALID_PARAM"), reply)
        status, reply = self.fed_as(HS2, HS1, "PUT", target, event)
        self.assertEqual(status, 200, reply)
        types = {(e["type"], e["state_key"]) for e in reply["state"]}
        self.assertIn(("m.room.create", ""), types)
        self.assertIn(("m.room.name", ""), types)
        self.assertIn(("m.room.member", alice["user_id"]), types)
        self.assertNotIn(("m.room.member", user_id), types, "the state before the join")
        # Room version 12 never names the create event as an auth event; the rest is there.
        chain = {(e["type"], e["state_key"]) for e in reply["auth_chain"]}
        self.assertIn(("m.room.power_levels", ""), chain)
        self.assertIn(("m.room.member", alice["user_id"]), chain)
        self.assertEqual(reply["event"]["signatures"][HS2], event["signatures"][HS2])
        self.assertEqual(self.room_members(alice, room_id)[user_id], "join")

    def test_invite_for_a_user_of_another_server_is_refused(self):
        alice = self.user(HS2, "alice")
        room_id = self.create_room(alice)
        # hs2 asks hs1 to countersign an invite of one of hs2's own users.
        event = {"type": "m.room.member", "state_key": alice["user_id"],
                 "sender": alice["user_id"], "room_id": room_id,
                 "content": {"membership": "invite"}}
        status, reply = self.fed_as(HS2, HS1, "PUT",
                                    f"/_matrix/federation/v2/invite/{quote(room_id)}/%24x",
                                    {"room_version": "12", "event": event})
        self.assertEqual(status, 400, reply)
        status, reply = self.fed_as(HS2, HS1, "PUT",
                                    f"/_matrix/federation/v2/invite/{quote(room_id)}/%24x",
                                    {"room_version": "1", "event": event})
        self.assertEqual((status, reply["errcode"]), (400, "M_INCOMPATIBLE_ROOM_VERSION"))


class FederatedCatchUpTest(FederationTestCase):
    """A server that was stopped gets what was sent to it meanwhile once it is back."""

    def test_messages_sent_while_a_server_was_down_arrive_after_its_restart(self):
        alice = self.user(HS1, "alice")
        bob = self.user(HS2, "bob")
        room_id = self.create_room(alice, preset="public_chat")
        status, reply = self.req(bob, "POST", f"/join/{quote(room_id)}?server_name={HS1}", {})
        self.assertEqual(status, 200, reply)
        bodies = [f"while hs2 was down {i}" for i in range(3)]
        self.servers[HS2].stop()
        try:
            for body in bodies:
                self.send_text(alice, room_id, body)
        finally:
            self.servers[HS2].start()
        seen = []

        def all_arrived(reply):
            room = reply.get("rooms", {}).get("join", {}).get(room_id, {})
            seen.extend(e["content"].get("body") for e in room.get("timeline", {}).get("events", [])
                        if e["type"] == "m.room.message")
            return all(b in seen for b in bodies)

        self.sync_until(bob, all_arrived, "the messages sent while hs2 was down")
        self.assertEqual([b for b in seen if b in bodies], bodies, "in the order sent")
        # And the other way round: hs1 down while bob writes.
        self.servers[HS1].stop()
        try:
            self.send_text(bob, room_id, "while hs1 was down")
        finally:
            self.servers[HS1].start()
        self.wait_for_timeline_event(
            alice, room_id, lambda e: e["type"] == "m.room.message" and
            e["content"].get("body") == "while hs1 was down", "bob's message")


class FederatedForkTest(FederationTestCase):
    """Both servers change the same state while they cannot reach each other; once they can,
    each resolves the fork, and to the same state."""

    def name_event(self, who, room_id):
        state = self.ok(who, "GET", f"/rooms/{quote(room_id)}/state")
        return [e for e in state if e["type"] == "m.room.name"][0]

    def test_a_fork_resolves_to_the_same_state_on_both_servers(self):
        alice = self.user(HS1, "alice")
        bob = self.user(HS2, "bob")
        room_id = self.create_room(alice, preset="public_chat", name="Before")
        status, reply = self.req(bob, "POST", f"/join/{quote(room_id)}?server_name={HS1}", {})
        self.assertEqual(status, 200, reply)
        power = self.state(alice, room_id, "m.room.power_levels")[1]
        power["users"][bob["user_id"]] = 100
        self.ok(alice, "PUT", f"/rooms/{quote(room_id)}/state/m.room.power_levels/", power)
        self.sync_until(bob, lambda r: any(
            e["type"] == "m.room.power_levels" and
            e["content"]["users"].get(bob["user_id"]) == 100
            for e in r.get("rooms", {}).get("join", {}).get(room_id, {})
                      .get("timeline", {}).get("events", [])), "bob's power")
        # Partition: hs1 federates with nobody for a while.
        self.restart_with(HS1, {"federation.allowed_servers": "[]"})
        try:
            self.ok(alice, "PUT", f"/rooms/{quote(room_id)}/state/m.room.name/",
                    {"name": "Named on hs1"})
            self.ok(bob, "PUT", f"/rooms/{quote(room_id)}/state/m.room.name/",
                    {"name": "Named on hs2"})
        finally:
            self.restart_with(HS1, {"federation.allowed_servers": yaml_list([HS2])})
        # hs2 delivers bob's name to hs1 on its next retry; alice's next message names both
        # branches, so hs2 fetches alice's name as a missing event.
        self.sync_until(alice, lambda r: any(
            e["type"] == "m.room.name" and e["sender"] == bob["user_id"]
            for e in r.get("rooms", {}).get("join", {}).get(room_id, {})
                      .get("timeline", {}).get("events", [])), "bob's name on hs1")
        self.send_text(alice, room_id, "after the fork")
        self.wait_for_timeline_event(
            bob, room_id, lambda e: e["type"] == "m.room.message" and
            e["content"].get("body") == "after the fork", "the message after the fork")
        on_hs1 = self.name_event(alice, room_id)
        on_hs2 = self.name_event(bob, room_id)
        self.assertIn(on_hs1["content"]["name"], ("Named on hs1", "Named on hs2"))
        self.assertEqual(on_hs1["event_id"], on_hs2["event_id"])
        # Not only the name: the whole state is the same on both servers.
        def state_ids(who):
            return {(e["type"], e["state_key"]): e["event_id"]
                    for e in self.ok(who, "GET", f"/rooms/{quote(room_id)}/state")}
        self.assertEqual(state_ids(alice), state_ids(bob))


class FederatedCareTest(FederationTestCase):
    """The care rules across servers: users of another server are contacts only when the
    organisation provisioned the link."""

    options = {"care.enabled": "true", "rooms.encryption_enabled_by_default": "false"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admins = {}
        for name in cls.NAMES:
            client = cls.servers[name].client()
            status, body = client.shared_secret_register(unique("admin"), admin=True)
            assert status == 200, body
            body["server"] = name
            cls.admins[name] = body

    def professional(self, name):
        made = self.ok(self.admins[name], "POST", ADMIN + "/users",
                       {"role": "professional", "displayname": unique("pro"),
                        "password": "correct horse battery"})
        session = self.servers[name].client().login_ok(made["user_id"])
        session["server"] = name
        return session

    def link(self, a, b):
        self.ok(self.admins[a["server"]], "PUT",
                f"{ADMIN}/users/{quote(a['user_id'])}/contacts/{quote(b['user_id'])}", {})

    def test_remote_professionals_are_not_contacts_without_a_link(self):
        alice = self.professional(HS1)
        bob = self.professional(HS2)
        room_id = self.create_room(alice, name="care")
        status, reply = self.req(alice, "POST", f"/rooms/{quote(room_id)}/invite",
                                 {"user_id": bob["user_id"]})
        self.assertEqual((status, reply["errcode"]), (403, "M_FORBIDDEN"), reply)

    def test_a_guest_cannot_join_another_servers_room(self):
        admin = self.admins[HS1]
        owner = self.professional(HS1)
        guest_room = self.create_room(owner, name="guest room")
        guest = self.professional(HS1)
        self.ok(admin, "PUT", ADMIN + "/features", {"guest_links": True})
        self.ok(admin, "PUT", f"{ADMIN}/users/{quote(guest['user_id'])}/guest",
                {"room_id": guest_room})
        bob = self.professional(HS2)
        elsewhere = self.create_room(bob, name="elsewhere")
        status, reply = self.req(guest, "POST",
                                 f"/join/{quote(elsewhere)}?server_name={HS2}", {})
        self.assertEqual((status, reply["errcode"]), (403, "M_FORBIDDEN"), reply)
        self.assertIn("guest", reply["error"])

    def test_invite_needs_the_link_on_both_servers(self):
        alice = self.professional(HS1)
        bob = self.professional(HS2)
        room_id = self.create_room(alice, name="care")
        # Linked on hs1 only: hs1 lets alice invite, hs2 refuses to show bob the invite.
        self.link(alice, bob)
        status, reply = self.req(alice, "POST", f"/rooms/{quote(room_id)}/invite",
                                 {"user_id": bob["user_id"]})
        self.assertEqual(status, 403, reply)
        self.assertIn("contact", reply["error"])
        self.link(bob, alice)
        status, reply = self.req(alice, "POST", f"/rooms/{quote(room_id)}/invite",
                                 {"user_id": bob["user_id"]})
        self.assertEqual(status, 200, reply)
        self.wait_for_invite(bob, room_id)
        status, reply = self.req(bob, "POST", f"/join/{quote(room_id)}", {})
        self.assertEqual(status, 200, reply)
        self.sync_until(bob, lambda r: room_id in r.get("rooms", {}).get("join", {}),
                        "the joined care room")


if __name__ == "__main__":
    unittest.main()
