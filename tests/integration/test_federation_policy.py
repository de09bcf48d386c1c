"""This server's rules applied to what other servers push: the care rules on remote joins and
invites that arrive as PDUs in /send (soft failure), the checks of invite_room_state in an
inbound invite, and server ACLs (m.room.server_acl) on inbound federation requests.

Two `haven` instances on loopback (hs1.test, hs2.test) from federation_harness; PDUs are built
and signed here with the servers' own signing keys."""

import unittest

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation_harness import FederationTestCase, b64encode, canonical, make_pdu, redact
from harness import quote, unique

HS1, HS2 = "hs1.test", "hs2.test"
ADMIN = "/_haven/admin/v1"


def cosign(pdu, server, key):
    """Adds `server`'s signature (with `key`: key id, private key) to a hashed PDU."""
    key_id, private = key
    signed = redact(pdu)
    signed.pop("signatures", None)
    pdu["signatures"].setdefault(server, {})[key_id] = b64encode(private.sign(canonical(signed)))
    return pdu


class FederatedCareRulesOnSendTest(FederationTestCase):
    """Care rules on remote membership events that arrive in a transaction instead of through
    make_join/send_join or invite."""

    options = {"care.enabled": "true", "rooms.encryption_enabled_by_default": "false"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        client = cls.servers[HS1].client()
        status, body = client.shared_secret_register(unique("admin"), admin=True)
        assert status == 200, body
        body["server"] = HS1
        cls.admin = body

    def professional(self):
        made = self.ok(self.admin, "POST", ADMIN + "/users",
                       {"role": "professional", "displayname": unique("pro"),
                        "password": "correct horse battery"})
        session = self.servers[HS1].client().login_ok(made["user_id"])
        session["server"] = HS1
        return session

    def state_ids(self, who, room_id):
        return {(e["type"], e["state_key"]): e["event_id"]
                for e in self.ok(who, "GET", f"/rooms/{quote(room_id)}/state")}

    def latest(self, who, room_id):
        reply = self.ok(who, "GET", f"/rooms/{quote(room_id)}/messages?dir=b&limit=1")
        return reply["chunk"][0]["event_id"]

    def members(self, who, room_id):
        return {e["state_key"]: e["content"]["membership"]
                for e in self.ok(who, "GET", f"/rooms/{quote(room_id)}/state")
                if e["type"] == "m.room.member"}

    def restricted_room(self, owner):
        """A room of `owner` that only members of another room may join (restricted), so the
        auth rules let in a join that `owner` authorises, whatever the care rules say."""
        other = self.create_room(owner, name="other")
        return self.create_room(owner, name="restricted", initial_state=[{
            "type": "m.room.join_rules", "state_key": "",
            "content": {"join_rule": "restricted",
                        "allow": [{"type": "m.room_membership", "room_id": other}]}}])

    def forced_join(self, owner, room_id, user_id):
        """A join of `user_id` (hs2) authorised by `owner` (hs1), signed by both servers."""
        ids = self.state_ids(owner, room_id)
        fields = {"type": "m.room.member", "state_key": user_id, "sender": user_id,
                  "room_id": room_id,
                  "content": {"membership": "join",
                              "join_authorised_via_users_server": owner["user_id"]},
                  "prev_events": [self.latest(owner, room_id)],
                  "auth_events": [ids[("m.room.power_levels", "")],
                                  ids[("m.room.join_rules", "")],
                                  ids[("m.room.member", owner["user_id"])]],
                  "depth": 100}
        create = self.state(owner, room_id, "m.room.create")[1]
        if create.get("room_version", "1") != "12":  # before v12 the create event is cited too
            fields["auth_events"].append(ids[("m.room.create", "")])
        pdu, event_id = make_pdu(HS2, self.signing_key(HS2), fields)
        return cosign(pdu, HS1, self.signing_key(HS1)), event_id

    def test_a_join_pushed_in_send_by_a_non_contact_is_soft_failed(self):
        owner = self.professional()
        room_id = self.restricted_room(owner)
        stranger = f"@stranger_{unique()}:{HS2}"
        pdu, event_id = self.forced_join(owner, room_id, stranger)
        results = self.send_pdus(HS2, HS1, [pdu])
        # Soft failure is no error for the sender: the event is stored, not applied.
        self.assertNotIn("error", results.get(event_id, {}), results)
        self.assertNotIn(stranger, self.members(owner, room_id))
        # Not in the timeline either: a soft-failed event is not sent to clients.
        self.assertNotEqual(self.latest(owner, room_id), event_id)

    def joined_contact(self, owner, room_id):
        """A remote user linked to `owner` as a contact, joined by a join pushed in /send."""
        friend = f"@friend_{unique()}:{HS2}"
        self.ok(self.admin, "PUT",
                f"{ADMIN}/users/{quote(owner['user_id'])}/contacts/{quote(friend)}", {})
        pdu, event_id = self.forced_join(owner, room_id, friend)
        results = self.send_pdus(HS2, HS1, [pdu])
        self.assertNotIn("error", results.get(event_id, {}), results)
        self.assertEqual(self.members(owner, room_id).get(friend), "join")
        return friend

    def test_a_join_pushed_in_send_by_the_owners_contact_is_accepted(self):
        owner = self.professional()
        self.joined_contact(owner, self.restricted_room(owner))

    def forced_invite(self, owner, room_id, sender, target):
        """An invite of `target` by `sender` (a member from hs2), signed by hs2."""
        ids = self.state_ids(owner, room_id)
        fields = {"type": "m.room.member", "state_key": target, "sender": sender,
                  "room_id": room_id, "content": {"membership": "invite"},
                  "prev_events": [self.latest(owner, room_id)],
                  "auth_events": [ids[("m.room.power_levels", "")],
                                  ids[("m.room.join_rules", "")],
                                  ids[("m.room.member", sender)]],
                  "depth": 200}
        create = self.state(owner, room_id, "m.room.create")[1]
        if create.get("room_version", "1") != "12":
            fields["auth_events"].append(ids[("m.room.create", "")])
        return make_pdu(HS2, self.signing_key(HS2), fields)

    def test_an_invite_pushed_in_send_needs_the_inviter_to_be_a_contact(self):
        owner = self.professional()
        room_id = self.restricted_room(owner)
        friend = self.joined_contact(owner, room_id)
        power = self.state(owner, room_id, "m.room.power_levels")[1]
        power.setdefault("users", {})[friend] = power.get("invite", 0)
        self.ok(owner, "PUT", f"/rooms/{quote(room_id)}/state/m.room.power_levels/", power)
        # A local user who is not the remote member's contact: the invite is soft-failed.
        stranger = self.user(HS1, "stranger")
        pdu, event_id = self.forced_invite(owner, room_id, friend, stranger["user_id"])
        results = self.send_pdus(HS2, HS1, [pdu])
        self.assertNotIn("error", results.get(event_id, {}), results)
        self.assertNotIn(stranger["user_id"], self.members(owner, room_id))
        invites = self.sync(stranger).get("rooms", {}).get("invite", {})
        self.assertNotIn(room_id, invites)
        # One who is: the invite stands.
        linked = self.user(HS1, "linked")
        self.ok(self.admin, "PUT",
                f"{ADMIN}/users/{quote(linked['user_id'])}/contacts/{quote(friend)}", {})
        pdu, event_id = self.forced_invite(owner, room_id, friend, linked["user_id"])
        self.assertNotIn("error", self.send_pdus(HS2, HS1, [pdu]).get(event_id, {}))
        self.assertEqual(self.members(owner, room_id).get(linked["user_id"]), "invite")
        self.wait_for_invite(linked, room_id)


class InviteRoomStateTest(FederationTestCase):
    """invite_room_state of an inbound invite (spec v1.16+): full PDUs of the invite's room,
    the create event among them, signed; refused with 400 M_INVALID_PARAM otherwise."""

    def v12_room(self, sender, name="Somewhere"):
        """(room id, create PDU, name PDU) of a room version 12 room made up here as hs2."""
        key = self.signing_key(HS2)
        create, create_id = make_pdu(HS2, key, {
            "type": "m.room.create", "state_key": "", "sender": sender,
            "content": {"room_version": "12", "org.example.nonce": unique()},
            "prev_events": [], "auth_events": [],
            "depth": 1})
        room_id = "!" + create_id[1:]
        name_pdu, _ = self.state_pdu(room_id, sender, "m.room.name", {"name": name},
                                     [create_id])
        return room_id, create, name_pdu, create_id

    def state_pdu(self, room_id, sender, event_type, content, prev, key=None):
        return make_pdu(HS2, key or self.signing_key(HS2), {
            "type": event_type, "state_key": "", "sender": sender, "room_id": room_id,
            "content": content, "prev_events": prev, "auth_events": [], "depth": 2})

    def invite_with(self, room_id, sender, invitee, prev, room_state):
        invite, invite_id = make_pdu(HS2, self.signing_key(HS2), {
            "type": "m.room.member", "state_key": invitee, "sender": sender,
            "room_id": room_id, "content": {"membership": "invite"}, "prev_events": prev,
            "auth_events": [], "depth": 3})
        body = {"room_version": "12", "event": invite}
        if room_state is not None:
            body["invite_room_state"] = room_state
        target = f"/_matrix/federation/v2/invite/{quote(room_id)}/{quote(invite_id)}"
        return self.fed_as(HS2, HS1, "PUT", target, body)

    def assertInvalid(self, result, words):
        status, reply = result
        self.assertEqual((status, reply.get("errcode")), (400, "M_INVALID_PARAM"), reply)
        self.assertIn(words, reply["error"])

    def test_an_invite_with_full_pdus_reaches_the_invitee_as_stripped_state(self):
        bob = self.user(HS1, "bob")
        alice = f"@alice_{unique()}:{HS2}"
        room_id, create, name_pdu, create_id = self.v12_room(alice, "Full PDUs")
        status, reply = self.invite_with(room_id, alice, bob["user_id"], [create_id],
                                         [create, name_pdu])
        self.assertEqual(status, 200, reply)
        self.assertIn(HS1, reply["event"]["signatures"])
        state = self.wait_for_invite(bob, room_id)
        for event in state:
            self.assertEqual(set(event), {"type", "state_key", "sender", "content"}, event)
        by_type = {e["type"]: e for e in state}
        self.assertEqual(by_type["m.room.create"]["content"]["room_version"], "12")
        self.assertEqual(by_type["m.room.name"]["content"], {"name": "Full PDUs"})
        self.assertEqual(by_type["m.room.member"]["sender"], alice)

    def test_an_invite_without_the_create_event_is_refused(self):
        bob = self.user(HS1, "bob")
        alice = f"@alice_{unique()}:{HS2}"
        room_id, _, name_pdu, create_id = self.v12_room(alice)
        self.assertInvalid(self.invite_with(room_id, alice, bob["user_id"], [create_id],
                                            [name_pdu]), "m.room.create")
        self.assertInvalid(self.invite_with(room_id, alice, bob["user_id"], [create_id], None),
                           "m.room.create")

    def test_an_invite_with_stripped_events_is_refused(self):
        bob = self.user(HS1, "bob")
        alice = f"@alice_{unique()}:{HS2}"
        room_id, create, _, create_id = self.v12_room(alice)
        stripped = {"type": "m.room.name", "state_key": "", "sender": alice,
                    "content": {"name": "Stripped"}}
        self.assertInvalid(self.invite_with(room_id, alice, bob["user_id"], [create_id],
                                            [create, stripped]), "not a PDU")

    def test_an_invite_with_state_of_another_room_is_refused(self):
        bob = self.user(HS1, "bob")
        alice = f"@alice_{unique()}:{HS2}"
        room_id, create, name_pdu, create_id = self.v12_room(alice)
        other_id, other_create, other_name, _ = self.v12_room(alice, "Elsewhere")
        self.assertNotEqual(room_id, other_id)
        # Another room's name event, then another room's create event.
        self.assertInvalid(self.invite_with(room_id, alice, bob["user_id"], [create_id],
                                            [create, other_name]), "another room")
        self.assertInvalid(self.invite_with(room_id, alice, bob["user_id"], [create_id],
                                            [other_create, name_pdu]), "another room")

    def test_an_invite_with_a_badly_signed_state_event_is_refused(self):
        bob = self.user(HS1, "bob")
        alice = f"@alice_{unique()}:{HS2}"
        room_id, create, _, create_id = self.v12_room(alice)
        key_id, _ = self.signing_key(HS2)
        forged, _ = self.state_pdu(room_id, alice, "m.room.name", {"name": "Forged"},
                                   [create_id], key=(key_id, Ed25519PrivateKey.generate()))
        self.assertInvalid(self.invite_with(room_id, alice, bob["user_id"], [create_id],
                                            [create, forged]), "signature")
        # No invite reached bob.
        reply = self.sync(bob)
        self.assertNotIn(room_id, reply.get("rooms", {}).get("invite", {}))


class ServerAclTest(FederationTestCase):
    """m.room.server_acl on hs1's room denying hs2: hs2's federation requests for the room are
    refused, its PDUs dropped, its typing and receipts ignored."""

    def joined_room(self, alice, bob):
        room_id = self.create_room(alice, preset="public_chat")
        status, reply = self.req(bob, "POST", f"/join/{quote(room_id)}?server_name={HS1}", {})
        self.assertEqual(status, 200, reply)
        return room_id

    def deny_hs2(self, alice, room_id):
        self.ok(alice, "PUT", f"/rooms/{quote(room_id)}/state/m.room.server_acl/",
                {"allow": ["*"], "deny": ["HS2.*"], "allow_ip_literals": False})

    def message_from(self, alice, bob, room_id, body):
        latest = self.ok(alice, "GET", f"/rooms/{quote(room_id)}/messages?dir=b&limit=1")
        state = {(e["type"], e["state_key"]): e["event_id"]
                 for e in self.ok(alice, "GET", f"/rooms/{quote(room_id)}/state")}
        return make_pdu(HS2, self.signing_key(HS2), {
            "type": "m.room.message", "room_id": room_id, "sender": bob["user_id"],
            "content": {"msgtype": "m.text", "body": body},
            "prev_events": [latest["chunk"][0]["event_id"]],
            "auth_events": [state[("m.room.power_levels", "")],
                            state[("m.room.member", bob["user_id"])]],
            "depth": 1000})

    def test_a_denied_server_cannot_join(self):
        alice = self.user(HS1, "alice")
        room_id = self.create_room(alice, preset="public_chat")
        self.deny_hs2(alice, room_id)
        carol = self.user(HS2, "carol")
        status, reply = self.req(carol, "POST", f"/join/{quote(room_id)}?server_name={HS1}", {})
        self.assertNotEqual(status, 200, reply)
        members = {e["state_key"] for e in self.ok(alice, "GET", f"/rooms/{quote(room_id)}/state")
                   if e["type"] == "m.room.member"}
        self.assertNotIn(carol["user_id"], members)
        user_id = f"@someone:{HS2}"
        for method, target in [
                ("GET", f"/_matrix/federation/v1/make_join/{quote(room_id)}/{quote(user_id)}"
                        "?ver=12"),
                ("GET", f"/_matrix/federation/v1/make_leave/{quote(room_id)}/{quote(user_id)}")]:
            status, reply = self.fed_as(HS2, HS1, method, target)
            self.assertEqual((status, reply.get("errcode")), (403, "M_FORBIDDEN"), target)
            self.assertIn("ACL", reply["error"])

    def test_a_denied_member_server_cannot_send_or_read(self):
        alice = self.user(HS1, "alice")
        bob = self.user(HS2, "bob")
        room_id = self.joined_room(alice, bob)
        pdu, event_id = self.message_from(alice, bob, room_id, "before the ACL")
        self.assertNotIn("error", self.send_pdus(HS2, HS1, [pdu]).get(event_id, {}))
        self.deny_hs2(alice, room_id)
        pdu, event_id = self.message_from(alice, bob, room_id, "after the ACL")
        results = self.send_pdus(HS2, HS1, [pdu])
        self.assertIn("ACL", results.get(event_id, {}).get("error", ""), results)
        self.assertEqual(self.req(alice, "GET",
                                  f"/rooms/{quote(room_id)}/event/{quote(event_id)}")[0], 404)
        latest = self.ok(alice, "GET", f"/rooms/{quote(room_id)}/messages?dir=b&limit=1")
        for target in [f"/_matrix/federation/v1/state_ids/{quote(room_id)}"
                       f"?event_id={quote(latest['chunk'][0]['event_id'])}",
                       f"/_matrix/federation/v1/backfill/{quote(room_id)}"
                       f"?v={quote(latest['chunk'][0]['event_id'])}&limit=5",
                       f"/_matrix/federation/v1/event/{quote(latest['chunk'][0]['event_id'])}"]:
            status, reply = self.fed_as(HS2, HS1, "GET", target)
            self.assertEqual((status, reply.get("errcode")), (403, "M_FORBIDDEN"), target)

    def test_typing_and_receipts_of_a_denied_server_are_ignored(self):
        alice = self.user(HS1, "alice")
        bob = self.user(HS2, "bob")
        denied = self.joined_room(alice, bob)
        open_room = self.joined_room(alice, bob)
        self.deny_hs2(alice, denied)
        latest = {room: self.ok(alice, "GET", f"/rooms/{quote(room)}/messages?dir=b&limit=1")
                  ["chunk"][0]["event_id"] for room in (denied, open_room)}
        since = self.sync(alice)["next_batch"]
        body = {"origin": HS2, "origin_server_ts": 1, "pdus": [], "edus": [
            {"edu_type": "m.typing",
             "content": {"room_id": room, "user_id": bob["user_id"], "typing": True}}
            for room in (denied, open_room)] + [
            {"edu_type": "m.receipt", "content": {room: {"m.read": {bob["user_id"]: {
                "event_ids": [latest[room]], "data": {"ts": 1234}}}} for room in (denied,
                                                                                   open_room)}}]}
        status, reply = self.fed_as(HS2, HS1, "PUT",
                                    f"/_matrix/federation/v1/send/{unique('txn')}", body)
        self.assertEqual(status, 200, reply)
        rooms = self.sync(alice, since=since)["rooms"]["join"]
        open_types = {e["type"] for e in rooms[open_room]["ephemeral"]["events"]}
        self.assertEqual(open_types, {"m.typing", "m.receipt"})
        denied_events = rooms.get(denied, {}).get("ephemeral", {}).get("events", [])
        self.assertFalse([e for e in denied_events
                          if e["type"] == "m.receipt" or e["content"].get("user_ids")],
                         denied_events)


if __name__ == "__main__":
    unittest.main()
