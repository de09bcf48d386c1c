"""Devices and end-to-end keys across servers: GET /user/devices, POST /user/keys/query and
POST /user/keys/claim of the federation API, and a client's /keys/query and /keys/claim for a
user of another server, which haven answers by asking that server.

Two real `haven` instances on loopback, hs1.test and hs2.test, with TLS federation listeners
(self-signed certificates made here) that find each other through
federation.test_host_overrides and federate only with each other.
"""

import json
import shutil
import tempfile
import unittest

from harness import Homeserver, free_port, haven_bin, quote, unique
from federation_harness import make_certificate, yaml_list
from test_keys import SigningKey, cross_signing_key, device_keys, one_time_keys

import subprocess

NAMES = ["hs1.test", "hs2.test"]
V3 = "/_matrix/client/v3"


def start_two_servers(test_class, extra_options=None):
    """Starts hs1.test and hs2.test for `test_class` (in setUpClass)."""
    test_class.tmp = tempfile.mkdtemp(prefix="haven-fed-devices-")
    test_class.addClassCleanup(shutil.rmtree, test_class.tmp, True)
    test_class.fed_port = {name: free_port() for name in NAMES}
    cert = {name: make_certificate(test_class.tmp, name) for name in NAMES}
    overrides = [f"{n}=127.0.0.1:{p}" for n, p in test_class.fed_port.items()]
    test_class.servers = {}
    for name in NAMES:
        other = [n for n in NAMES if n != name]
        options = {
            "server_name": json.dumps(name),
            "listeners.federation.port": str(test_class.fed_port[name]),
            "listeners.federation.tls_certificate_path": json.dumps(cert[name][0]),
            "listeners.federation.tls_private_key_path": json.dumps(cert[name][1]),
            "federation.verify_certificates": "false",
            "federation.test_host_overrides": yaml_list(overrides),
            "federation.allowed_servers": yaml_list(other),
            "federation.insecure_test_servers": yaml_list(other),
        }
        options.update(extra_options or {})
        server = Homeserver(options)
        test_class.addClassCleanup(server.cleanup)
        server.start()
        test_class.servers[name] = server


class FederationDevicesTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        start_two_servers(cls)

    @classmethod
    def tearDownClass(cls):
        for server in cls.servers.values():
            if server.running():
                server.stop()

    # --- helpers ------------------------------------------------------------------------

    def client_ok(self, name, who, method, path, body=None):
        status, reply = self.servers[name].client().request(method, V3 + path, body,
                                                            token=who["token"])
        self.assertEqual(status, 200, f"{method} {path} on {name}: {reply}")
        return reply

    def user(self, name, prefix="u"):
        reply = self.servers[name].client().register(unique(prefix))
        return {"token": reply["access_token"], "user_id": reply["user_id"],
                "device_id": reply["device_id"], "key": SigningKey(), "server": name}

    def upload(self, who, otk_ids=()):
        who["device_keys"] = device_keys(who["user_id"], who["device_id"], who["key"])
        body = {"device_keys": who["device_keys"]}
        if otk_ids:
            body["one_time_keys"] = one_time_keys(who["user_id"], who["device_id"], who["key"],
                                                  otk_ids)
        self.client_ok(who["server"], who, "POST", "/keys/upload", body)

    def upload_cross_signing(self, who):
        master, ssk = SigningKey(), SigningKey()
        uid = who["user_id"]
        body = {"master_key": cross_signing_key(uid, "master", master),
                "self_signing_key": cross_signing_key(uid, "self_signing", ssk, master)}
        self.client_ok(who["server"], who, "POST", "/keys/device_signing/upload", body)
        return master, ssk

    def federation_request(self, origin, destination, target, method="GET", body=None):
        """A request signed by `origin` (haven federation-request): (status, body)."""
        args = [haven_bin(), "federation-request", "-c", self.servers[origin].config_path,
                "--destination", destination, "--method", method, target]
        if body is not None:
            args += ["--body", json.dumps(body)]
        out = subprocess.run(args, capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        status, text = out.stdout.split("\n", 1)
        return int(status), json.loads(text)

    # --- the federation API ---------------------------------------------------------------

    def test_user_devices_lists_every_device_with_its_keys_and_cross_signing_keys(self):
        bob = self.user("hs2.test", "bob")
        self.upload(bob)
        # A second device without keys is listed too.
        second = self.servers["hs2.test"].client().login_ok(bob["user_id"].split(":")[0][1:])
        master, ssk = self.upload_cross_signing(bob)
        status, reply = self.federation_request(
            "hs1.test", "hs2.test", f"/_matrix/federation/v1/user/devices/{quote(bob['user_id'])}")
        self.assertEqual(status, 200, reply)
        self.assertEqual(reply["user_id"], bob["user_id"])
        self.assertIsInstance(reply["stream_id"], int)
        devices = {d["device_id"]: d for d in reply["devices"]}
        self.assertEqual(set(devices), {bob["device_id"], second["device_id"]})
        keys = devices[bob["device_id"]]["keys"]
        self.assertEqual(keys["keys"], bob["device_keys"]["keys"])
        self.assertEqual(keys["signatures"][bob["user_id"]],
                         bob["device_keys"]["signatures"][bob["user_id"]])
        self.assertNotIn("keys", devices[second["device_id"]])
        self.assertEqual(reply["master_key"]["keys"], {f"ed25519:{master.public_b64}":
                                                       master.public_b64})
        self.assertEqual(reply["self_signing_key"]["keys"], {f"ed25519:{ssk.public_b64}":
                                                             ssk.public_b64})

    def test_user_devices_only_for_users_of_the_server(self):
        status, reply = self.federation_request(
            "hs1.test", "hs2.test",
            f"/_matrix/federation/v1/user/devices/{quote('@someone:hs1.test')}")
        self.assertEqual((status, reply["errcode"]), (400, "M_INVALID_PARAM"))
        status, reply = self.federation_request(
            "hs1.test", "hs2.test", f"/_matrix/federation/v1/user/devices/{quote('not-a-user')}")
        self.assertEqual((status, reply["errcode"]), (400, "M_INVALID_PARAM"))

    def test_user_keys_query_answers_for_the_servers_own_users_only(self):
        bob = self.user("hs2.test", "bob")
        self.upload(bob)
        master, _ = self.upload_cross_signing(bob)
        status, reply = self.federation_request(
            "hs1.test", "hs2.test", "/_matrix/federation/v1/user/keys/query", "POST",
            {"device_keys": {bob["user_id"]: [], "@mallory:hs1.test": []}})
        self.assertEqual(status, 200, reply)
        self.assertEqual(set(reply["device_keys"]), {bob["user_id"]})
        got = reply["device_keys"][bob["user_id"]][bob["device_id"]]
        self.assertEqual(got["keys"], bob["device_keys"]["keys"])
        self.assertIn(bob["user_id"], reply["master_keys"])
        self.assertNotIn("user_signing_keys", reply)
        # Named devices only.
        status, reply = self.federation_request(
            "hs1.test", "hs2.test", "/_matrix/federation/v1/user/keys/query", "POST",
            {"device_keys": {bob["user_id"]: ["NOSUCHDEVICE"]}})
        self.assertEqual(reply["device_keys"][bob["user_id"]], {})

    def test_user_keys_query_and_claim_refuse_malformed_bodies(self):
        for target in ("/_matrix/federation/v1/user/keys/query",
                       "/_matrix/federation/v1/user/keys/claim"):
            status, reply = self.federation_request("hs1.test", "hs2.test", target, "POST", {})
            self.assertEqual((status, reply["errcode"]), (400, "M_MISSING_PARAM"), target)
        status, reply = self.federation_request(
            "hs1.test", "hs2.test", "/_matrix/federation/v1/user/keys/query", "POST",
            {"device_keys": {"@bob:hs2.test": "DEVICE"}})
        self.assertEqual((status, reply["errcode"]), (400, "M_BAD_JSON"))
        status, reply = self.federation_request(
            "hs1.test", "hs2.test", "/_matrix/federation/v1/user/keys/claim", "POST",
            {"one_time_keys": {"@bob:hs2.test": {"DEVICE": 5}}})
        self.assertEqual((status, reply["errcode"]), (400, "M_BAD_JSON"))

    def test_user_keys_claim_hands_each_one_time_key_out_once(self):
        bob = self.user("hs2.test", "bob")
        self.upload(bob, ["K1", "K2"])
        claimed = set()
        for _ in range(3):
            status, reply = self.federation_request(
                "hs1.test", "hs2.test", "/_matrix/federation/v1/user/keys/claim", "POST",
                {"one_time_keys": {bob["user_id"]: {bob["device_id"]: "signed_curve25519"}}})
            self.assertEqual(status, 200, reply)
            claimed.update(reply["one_time_keys"].get(bob["user_id"], {})
                           .get(bob["device_id"], {}).keys())
        self.assertEqual(claimed, {"signed_curve25519:K1", "signed_curve25519:K2"})

    # --- the client API for users of another server ----------------------------------------

    def test_a_remote_users_keys_through_the_client_api(self):
        alice = self.user("hs1.test", "alice")
        bob = self.user("hs2.test", "bob")
        self.upload(bob, ["B1"])
        master, _ = self.upload_cross_signing(bob)
        reply = self.client_ok("hs1.test", alice, "POST", "/keys/query",
                               {"device_keys": {bob["user_id"]: []}, "timeout": 20000})
        self.assertEqual(reply["failures"], {})
        got = reply["device_keys"][bob["user_id"]][bob["device_id"]]
        self.assertEqual(got["keys"], bob["device_keys"]["keys"])
        self.assertEqual(got["signatures"][bob["user_id"]],
                         bob["device_keys"]["signatures"][bob["user_id"]])
        self.assertIn(f"ed25519:{master.public_b64}",
                      reply["master_keys"][bob["user_id"]]["keys"])
        reply = self.client_ok("hs1.test", alice, "POST", "/keys/claim",
                               {"one_time_keys": {bob["user_id"]: {bob["device_id"]:
                                                                   "signed_curve25519"}}})
        self.assertEqual(reply["failures"], {})
        self.assertEqual(list(reply["one_time_keys"][bob["user_id"]][bob["device_id"]]),
                         ["signed_curve25519:B1"])
        # Local and remote users in one query.
        self.upload(alice)
        reply = self.client_ok("hs1.test", alice, "POST", "/keys/query",
                               {"device_keys": {bob["user_id"]: [], alice["user_id"]: []}})
        self.assertEqual(set(reply["device_keys"]), {alice["user_id"], bob["user_id"]})

    def test_a_server_not_federated_with_is_a_failure(self):
        alice = self.user("hs1.test", "alice")
        reply = self.client_ok("hs1.test", alice, "POST", "/keys/query",
                               {"device_keys": {"@carol:elsewhere.test": []}})
        self.assertIn("elsewhere.test", reply["failures"])
        self.assertNotIn("@carol:elsewhere.test", reply["device_keys"])
        reply = self.client_ok("hs1.test", alice, "POST", "/keys/claim",
                               {"one_time_keys": {"@carol:elsewhere.test":
                                                  {"D": "signed_curve25519"}}})
        self.assertIn("elsewhere.test", reply["failures"])
        self.assertEqual(reply["one_time_keys"], {})


if __name__ == "__main__":
    unittest.main()
