"""This server's rules applied to what other servers push: the care rules on remote joins and
invites that arrive as PDUs in /send (soft failure).

Two `haven` instances on loopback (hs1.test, hs2.test) from federation_harness; PDUs are built
and signed here with the servers' own signing keys."""

import unittest

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

    def test_a_join_pushed_in_send_by_the_owners_contact_is_accepted(self):
        owner = self.professional()
        room_id = self.restricted_room(owner)
        friend = f"@friend_{unique()}:{HS2}"
        self.ok(self.admin, "PUT",
                f"{ADMIN}/users/{quote(owner['user_id'])}/contacts/{quote(friend)}", {})
        pdu, event_id = self.forced_join(owner, room_id, friend)
        results = self.send_pdus(HS2, HS1, [pdu])
        self.assertNotIn("error", results.get(event_id, {}), results)
        self.assertEqual(self.members(owner, room_id).get(friend), "join")


if __name__ == "__main__":
    unittest.main()
