"""The published room directory across servers: a client of hs2 listing hs1's rooms with
/publicRooms?server=hs1.test (GET and POST with a filter, paging), both servers' own
GET/POST /_matrix/federation/v1/publicRooms answers, rooms with "m.federate": false kept from
other servers, and the refusals (unsigned requests, servers not allowed, unreachable servers).

Two `haven` instances on loopback (hs1.test, hs2.test) with TLS federation listeners, from
federation_harness."""

import unittest

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation_harness import FederationTestCase
from harness import quote, unique

HS1, HS2 = "hs1.test", "hs2.test"
# A server hs2 may talk to that nobody answers for: connecting to it is refused at once.
DEAD = "127.0.0.1:1"
FED_PUBLIC_ROOMS = "/_matrix/federation/v1/publicRooms"


class FederatedDirectoryTest(FederationTestCase):
    options = {"rooms.encryption_enabled_by_default": "false"}
    federation = {HS2: {"allowed_servers": [HS1, DEAD], "insecure_test_servers": [HS1, DEAD]}}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.term = unique("harbour")

    def setUp(self):
        # Rooms of hs1 made once: two federating rooms (one with two members), one that is not
        # federated, one unlisted.
        if hasattr(type(self), "alice"):
            return
        cls = type(self)
        cls.alice = self.user(HS1, "alice")
        carol = self.user(HS1, "carol")
        cls.big = self.create_room(cls.alice, visibility="public", preset="public_chat",
                                   name=f"{cls.term} big", topic="Boats")
        self.ok(carol, "POST", f"/join/{quote(cls.big)}", {})
        cls.small = self.create_room(cls.alice, visibility="public", preset="public_chat",
                                     topic=f"A small {cls.term}")
        cls.local_only = self.create_room(cls.alice, visibility="public", name=f"{cls.term} local",
                                          creation_content={"m.federate": False})
        cls.unlisted = self.create_room(cls.alice, preset="public_chat", name=f"{cls.term} hidden")
        cls.bob = self.user(HS2, "bob")

    def ids(self, reply):
        return [r["room_id"] for r in reply["chunk"]]

    def test_hs2_client_lists_hs1_rooms(self):
        reply = self.ok(self.bob, "GET", f"/publicRooms?server={HS1}")
        ids = self.ids(reply)
        self.assertEqual([i for i in ids if i in (self.big, self.small)], [self.big, self.small])
        self.assertNotIn(self.local_only, ids)
        self.assertNotIn(self.unlisted, ids)
        entry = next(r for r in reply["chunk"] if r["room_id"] == self.big)
        self.assertEqual(entry["name"], f"{self.term} big")
        self.assertEqual(entry["num_joined_members"], 2)
        self.assertEqual(entry["join_rule"], "public")
        # The non-federated room is still in hs1's own listing for its users.
        self.assertIn(self.local_only, self.ids(self.ok(self.alice, "GET", "/publicRooms")))

    def test_hs2_client_filters_and_pages_hs1_rooms(self):
        body = {"limit": 1, "filter": {"generic_search_term": self.term.upper()}}
        first = self.ok(self.bob, "POST", f"/publicRooms?server={HS1}", body)
        self.assertEqual(self.ids(first), [self.big])
        self.assertEqual(first["total_room_count_estimate"], 2)
        second = self.ok(self.bob, "POST", f"/publicRooms?server={HS1}",
                         dict(body, since=first["next_batch"]))
        self.assertEqual(self.ids(second), [self.small])
        self.assertNotIn("next_batch", second)
        # GET pages with the same tokens.
        page = self.ok(self.bob, "GET",
                       f"/publicRooms?server={HS1}&limit=1&since={quote(second['prev_batch'])}")
        self.assertEqual(self.ids(page), [self.big])

    def test_hs2_client_sees_hs1_refusals_and_unreachable_servers(self):
        self.assertError(self.req(self.bob, "GET", f"/publicRooms?server={HS1}&since=bad"),
                         400, "M_INVALID_PARAM")
        status, reply = self.req(self.bob, "GET", f"/publicRooms?server={quote(DEAD)}")
        self.assertEqual(status, 502, reply)
        self.assertError(self.req(self.bob, "GET", "/publicRooms?server=hs3.test"),
                         403, "M_FORBIDDEN")

    def test_federation_public_rooms_answers_signed_requests(self):
        status, reply = self.fed_as(HS2, HS1, "GET", FED_PUBLIC_ROOMS + "?limit=10")
        self.assertEqual(status, 200, reply)
        self.assertIn(self.big, self.ids(reply))
        self.assertNotIn(self.local_only, self.ids(reply))
        status, reply = self.fed_as(HS2, HS1, "POST", FED_PUBLIC_ROOMS,
                                    {"filter": {"generic_search_term": f"small {self.term}"}})
        self.assertEqual(status, 200, reply)
        self.assertEqual(self.ids(reply), [self.small])
        status, reply = self.fed_as(HS2, HS1, "POST", FED_PUBLIC_ROOMS, {"limit": "x"})
        self.assertEqual((status, reply["errcode"]), (400, "M_BAD_JSON"), reply)

    def test_hs2_answers_with_its_own_rooms(self):
        dave = self.user(HS2, "dave")
        term = unique("mill")
        mine = self.create_room(dave, visibility="public", name=term)
        status, reply = self.fed_as(HS1, HS2, "POST", FED_PUBLIC_ROOMS,
                                    {"filter": {"generic_search_term": term}})
        self.assertEqual(status, 200, reply)
        self.assertEqual(self.ids(reply), [mine])
        # hs2 lists only what hs2 published, never hs1's rooms.
        status, reply = self.fed_as(HS1, HS2, "GET", FED_PUBLIC_ROOMS)
        self.assertEqual(status, 200, reply)
        self.assertNotIn(self.big, self.ids(reply))
        # And hs1's client sees it through hs1.
        reply = self.ok(self.alice, "POST", f"/publicRooms?server={HS2}",
                        {"filter": {"generic_search_term": term}})
        self.assertEqual(self.ids(reply), [mine])

    def test_unsigned_and_unallowed_requests_are_refused(self):
        status, reply = self.fed(HS1, "GET", FED_PUBLIC_ROOMS)
        self.assertEqual((status, reply["errcode"]), (401, "M_UNAUTHORIZED"), reply)
        stranger = self.x_matrix("hs3.test", HS1, "GET", FED_PUBLIC_ROOMS,
                                 key=("ed25519:x", Ed25519PrivateKey.generate()))
        status, reply = self.fed(HS1, "GET", FED_PUBLIC_ROOMS, headers={"Authorization": stranger})
        self.assertEqual((status, reply["errcode"]), (403, "M_FORBIDDEN"), reply)


if __name__ == "__main__":
    unittest.main()
