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

from federation_harness import FederationTestCase, b64encode, canonical
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
