"""Federation transport and trust between real servers: the TLS federation listener, server
keys (self-signed, notary co-signed, fetched directly or through a notary, rotated), X-Matrix
signed requests both ways, and federation.allowed_servers.

Three `haven` instances on loopback, named hs1.test, hs2.test and hs3.test, each with a
self-signed certificate made here with the openssl command. They find each other through
federation.test_host_overrides. hs1 and hs2 federate with each other and skip certificate
checks for each other (federation.insecure_test_servers); hs3 federates with everyone but is
allowed by nobody, checks hs1's certificate (and so cannot reach hs1 directly) and has hs2 as
its notary. Signatures are checked here independently with the `cryptography` package.
"""

import http.client
import json
import os
import time
import unittest

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation_harness import (FederationTestCase, b64decode, b64encode, signature_valid)
from harness import quote, unique

NAMES = ["hs1.test", "hs2.test", "hs3.test"]


class FederationTransportTest(FederationTestCase):

    NAMES = NAMES
    federation = {
        "hs1.test": {"allowed_servers": ["hs2.test"],
                     "insecure_test_servers": ["hs2.test", "hs3.test"]},
        "hs2.test": {"allowed_servers": ["hs1.test"],
                     "insecure_test_servers": ["hs1.test"]},
        "hs3.test": {"allowed_servers": ["*"], "insecure_test_servers": ["hs2.test"],
                     "trusted_key_servers": ["hs2.test"]},
    }

    # --- helpers ------------------------------------------------------------------------

    def own_keys(self, name):
        """`name`'s key object, after checking it is self-signed by every verify key."""
        keys = self.fed_ok(name, "GET", "/_matrix/key/v2/server")
        self.assertEqual(keys["server_name"], name)
        for key_id, entry in keys["verify_keys"].items():
            self.assertTrue(signature_valid(keys, name, key_id, b64decode(entry["key"])),
                            f"{name}'s key object is not signed by {key_id}")
        return keys

    def public_keys(self, name):
        keys = self.own_keys(name)
        return {k: b64decode(v["key"]) for k, v in keys["verify_keys"].items()}

    def register_with_name(self, name, localpart, displayname):
        client = self.servers[name].client()
        user = client.register(unique(localpart))
        status, reply = client.request(
            "PUT", f"/_matrix/client/v3/profile/{quote(user['user_id'])}/displayname",
            {"displayname": displayname}, token=user["access_token"])
        self.assertEqual(status, 200, reply)
        return user["user_id"]

    # --- the listener and this server's keys ----------------------------------------------

    def test_version_is_served_over_tls(self):
        reply = self.fed_ok("hs1.test", "GET", "/_matrix/federation/v1/version")
        self.assertEqual(reply["server"]["name"], "Haven")
        status, reply = self.fed("hs1.test", "GET", "/_matrix/federation/v1/nonexistent")
        self.assertEqual((status, reply["errcode"]), (404, "M_UNRECOGNIZED"))

    def test_listener_refuses_plain_http(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.fed_port["hs1.test"], timeout=10)
        with self.assertRaises((http.client.HTTPException, OSError)):
            conn.request("GET", "/_matrix/federation/v1/version")
            conn.getresponse().read()
        conn.close()

    def test_server_keys_are_self_signed_and_valid_for_a_while(self):
        keys = self.own_keys("hs1.test")
        self.assertEqual(len(keys["verify_keys"]), 1)
        self.assertGreater(keys["valid_until_ts"], time.time() * 1000)
        self.assertEqual(keys["old_verify_keys"], {})

    # --- signed requests -------------------------------------------------------------------

    def test_signed_request_from_another_haven_is_accepted(self):
        user_id = self.register_with_name("hs1.test", "alice", "Alice")
        target = f"/_matrix/federation/v1/query/profile?user_id={quote(user_id)}"
        code, out, err = self.haven_request("hs2.test", "hs1.test", target)
        self.assertEqual(code, 0, err)
        status, body = out.split("\n", 1)
        self.assertEqual(status, "200", body)
        self.assertEqual(json.loads(body), {"displayname": "Alice"})
        # and the other way round: hs1 signs, hs2 checks with hs1's key
        code, out, err = self.haven_request(
            "hs1.test", "hs2.test", "/_matrix/federation/v1/query/profile?user_id=%40nobody%3Ahs2.test")
        self.assertEqual(code, 0, err)
        self.assertEqual(out.split("\n", 1)[0], "404", out)

    def test_request_signed_here_with_the_origins_key_is_accepted(self):
        user_id = self.register_with_name("hs1.test", "bob", "Bob")
        uri = f"/_matrix/federation/v1/query/profile?user_id={quote(user_id)}&field=displayname"
        auth = self.x_matrix("hs2.test", "hs1.test", "GET", uri)
        status, reply = self.fed("hs1.test", "GET", uri, headers={"Authorization": auth})
        self.assertEqual((status, reply), (200, {"displayname": "Bob"}))

    def test_forged_signature_is_rejected(self):
        uri = "/_matrix/federation/v1/query/profile?user_id=%40alice%3Ahs1.test"
        key_id, _ = self.signing_key("hs2.test")
        forged = (f'X-Matrix origin="hs2.test",destination="hs1.test",key="{key_id}",'
                  f'sig="{b64encode(bytes(64))}"')
        status, reply = self.fed("hs1.test", "GET", uri, headers={"Authorization": forged})
        self.assertEqual((status, reply["errcode"]), (401, "M_UNAUTHORIZED"), reply)
        # A real signature over another request does not carry over.
        other = self.x_matrix("hs2.test", "hs1.test", "GET", uri + "&field=avatar_url")
        status, reply = self.fed("hs1.test", "GET", uri, headers={"Authorization": other})
        self.assertEqual((status, reply["errcode"]), (401, "M_UNAUTHORIZED"), reply)
        # Signed with a key that is not hs2's.
        intruder = ("ed25519:" + key_id.split(":")[1], Ed25519PrivateKey.generate())
        fake = self.x_matrix("hs2.test", "hs1.test", "GET", uri, key=intruder)
        status, reply = self.fed("hs1.test", "GET", uri, headers={"Authorization": fake})
        self.assertEqual((status, reply["errcode"]), (401, "M_UNAUTHORIZED"), reply)

    def test_missing_malformed_or_misaddressed_authorization_is_rejected(self):
        uri = "/_matrix/federation/v1/query/profile?user_id=%40alice%3Ahs1.test"
        for headers in ({}, {"Authorization": "X-Matrix origin=hs2.test"},
                        {"Authorization": "Bearer abc"},
                        {"Authorization": self.x_matrix("hs2.test", "hs3.test", "GET", uri)},
                        {"Authorization": self.x_matrix("hs2.test", "hs1.test", "GET", uri,
                                                        key=("ed25519:unknown",
                                                             Ed25519PrivateKey.generate()))}):
            with self.subTest(headers=headers):
                status, reply = self.fed("hs1.test", "GET", uri, headers=headers)
                self.assertEqual((status, reply["errcode"]), (401, "M_UNAUTHORIZED"), reply)

    def test_server_not_in_allowed_servers_is_refused_both_ways(self):
        uri = "/_matrix/federation/v1/query/profile?user_id=%40alice%3Ahs1.test"
        # Correctly signed by hs3, with its real key: refused before any key lookup.
        status, reply = self.fed("hs1.test", "GET", uri,
                                 headers={"Authorization": self.x_matrix("hs3.test", "hs1.test",
                                                                         "GET", uri)})
        self.assertEqual((status, reply["errcode"]), (403, "M_FORBIDDEN"))
        # hs1 does not send anything to hs3 either.
        code, out, err = self.haven_request("hs1.test", "hs3.test",
                                            "/_matrix/federation/v1/version")
        self.assertEqual(code, 1, out)
        self.assertIn("M_FORBIDDEN", err)

    # --- keys of other servers: direct, notary, rotation -----------------------------------

    def test_notary_returns_keys_co_signed(self):
        hs1_keys = self.public_keys("hs1.test")
        hs2_keys = self.public_keys("hs2.test")
        for method, target, body in (
                ("POST", "/_matrix/key/v2/query", {"server_keys": {"hs1.test": {}}}),
                ("GET", "/_matrix/key/v2/query/hs1.test", None)):
            with self.subTest(method=method):
                reply = self.fed_ok("hs2.test", method, target, body)
                self.assertEqual(len(reply["server_keys"]), 1, reply)
                obj = reply["server_keys"][0]
                self.assertEqual(obj["server_name"], "hs1.test")
                for key_id, key in hs1_keys.items():
                    self.assertEqual(b64decode(obj["verify_keys"][key_id]["key"]), key)
                    self.assertTrue(signature_valid(obj, "hs1.test", key_id, key))
                for key_id, key in hs2_keys.items():
                    self.assertTrue(signature_valid(obj, "hs2.test", key_id, key),
                                    "the notary's co-signature")

    def test_notary_answers_for_itself_and_not_for_servers_it_does_not_federate_with(self):
        reply = self.fed_ok("hs2.test", "POST", "/_matrix/key/v2/query",
                            {"server_keys": {"hs2.test": {}, "hs3.test": {}, "bad name": {}}})
        self.assertEqual([o["server_name"] for o in reply["server_keys"]], ["hs2.test"])
        reply = self.fed_ok("hs2.test", "POST", "/_matrix/key/v2/query", {"server_keys": {}})
        self.assertEqual(reply, {"server_keys": []})

    def test_notary_refuses_bad_queries(self):
        for body, errcode in (({}, "M_MISSING_PARAM"), ({"server_keys": []}, "M_BAD_JSON"),
                              ({"server_keys": {"a.test": {"ed25519:x": 5}}}, "M_BAD_JSON"),
                              ({"server_keys": {f"s{i}.test": {} for i in range(101)}},
                               "M_INVALID_PARAM")):
            with self.subTest(body=str(body)[:60]):
                status, reply = self.fed("hs2.test", "POST", "/_matrix/key/v2/query", body)
                self.assertEqual((status, reply["errcode"]), (400, errcode), reply)
        status, reply = self.fed("hs2.test", "GET",
                                 "/_matrix/key/v2/query/hs1.test?minimum_valid_until_ts=x")
        self.assertEqual((status, reply["errcode"]), (400, "M_INVALID_PARAM"))

    def test_keys_unreachable_directly_are_fetched_through_the_notary(self):
        # hs3 checks hs1's self-signed certificate, so it cannot fetch hs1's keys itself;
        # its notary hs2 can. hs3's own notary answer then carries all three signatures.
        reply = self.fed_ok("hs3.test", "POST", "/_matrix/key/v2/query",
                            {"server_keys": {"hs1.test": {}}})
        self.assertEqual(len(reply["server_keys"]), 1, self.servers["hs3.test"].log_tail())
        obj = reply["server_keys"][0]
        for name in NAMES:
            for key_id, key in self.public_keys(name).items():
                self.assertTrue(signature_valid(obj, name, key_id, key), f"signed by {name}")
        # hs3 really did try hs1 itself first and stopped at its certificate.
        self.assertIn("certificate", self.servers["hs3.test"].log_text().lower())

    def test_rotated_key_is_published_as_an_old_key(self):
        server = self.servers["hs2.test"]
        old_id, _ = self.signing_key("hs2.test")
        old_public = self.public_keys("hs2.test")[old_id]
        server.stop()
        seed = os.urandom(32)
        with open(os.path.join(server.data_dir, "signing.key"), "w") as f:
            f.write(f"ed25519 rotated {b64encode(seed)}\n")
        server.start()
        keys = self.own_keys("hs2.test")
        self.assertEqual(list(keys["verify_keys"]), ["ed25519:rotated"])
        self.assertIn(old_id, keys["old_verify_keys"])
        old = keys["old_verify_keys"][old_id]
        self.assertEqual(b64decode(old["key"]), old_public)
        self.assertLessEqual(old["expired_ts"], time.time() * 1000)
        # Requests are signed with the new key and accepted by hs1, which fetches it.
        code, out, err = self.haven_request("hs2.test", "hs1.test",
                                            "/_matrix/federation/v1/query/profile"
                                            "?user_id=%40nobody%3Ahs1.test")
        self.assertEqual(code, 0, err)
        self.assertEqual(out.split("\n", 1)[0], "404", out)


if __name__ == "__main__":
    unittest.main()
