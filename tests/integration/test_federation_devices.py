"""Devices and end-to-end keys across servers: GET /user/devices, POST /user/keys/query and
POST /user/keys/claim of the federation API, a client's /keys/query and /keys/claim for a user
of another server, which haven answers by asking that server, and to-device messages to a user
of another server through the outbox, which keeps them while that server is down.

Two real `haven` instances on loopback, hs1.test and hs2.test, with TLS federation listeners
(self-signed certificates made here) that find each other through
federation.test_host_overrides and federate only with each other.
"""

import http.client
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import time
import unittest

from harness import Homeserver, free_port, haven_bin, quote, unique
from federation_harness import b64decode, b64encode, canonical, make_certificate, yaml_list
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from test_keys import SigningKey, cross_signing_key, device_keys, one_time_keys

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


    def send_transaction_as(self, origin, destination, edus):
        """PUT /send/{txnId} to `destination`, signed with `origin`'s own key (X-Matrix)."""
        path = os.path.join(self.servers[origin].data_dir, "signing.key")
        with open(path) as f:
            algorithm, version, seed = f.read().split()
        private = Ed25519PrivateKey.from_private_bytes(b64decode(seed))
        uri = f"/_matrix/federation/v1/send/{unique('txn')}"
        body = {"origin": origin, "origin_server_ts": int(time.time() * 1000), "pdus": [],
                "edus": edus}
        signed = {"method": "PUT", "uri": uri, "origin": origin, "destination": destination,
                  "content": body}
        sig = b64encode(private.sign(canonical(signed)))
        auth = (f'X-Matrix origin="{origin}",destination="{destination}",'
                f'key="{algorithm}:{version}",sig="{sig}"')
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", self.fed_port[destination],
                                           context=context, timeout=60)
        try:
            conn.request("PUT", uri, body=canonical(body),
                         headers={"Content-Type": "application/json", "Authorization": auth})
            response = conn.getresponse()
            payload = response.read()
        finally:
            conn.close()
        self.assertEqual(response.status, 200, payload)

    def wait_for_log(self, name, text, seen_before):
        """Waits until `name` logged `text` more often than `seen_before` times."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.servers[name].log_text().count(text) > seen_before:
                return
            time.sleep(0.1)
        self.fail(f"{name} never logged {text!r} again")

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

    def test_a_device_list_update_fills_the_cache_that_answers_while_the_server_is_down(self):
        alice = self.user("hs1.test", "alice")
        bob = self.user("hs2.test", "bob")
        self.upload(bob)
        update = {"user_id": bob["user_id"], "device_id": bob["device_id"], "stream_id": 1,
                  "prev_id": [], "keys": bob["device_keys"]}
        # Not cached yet: hs1 fetches bob's whole list from hs2 (GET /user/devices).
        served = "GET /_matrix/federation/v1/user/devices/{userId} 200"
        before = self.servers["hs2.test"].log_text().count(served)
        self.send_transaction_as("hs2.test", "hs1.test",
                                 [{"edu_type": "m.device_list_update", "content": update}])
        self.wait_for_log("hs2.test", served, before)
        deadline = time.monotonic() + 60
        self.servers["hs2.test"].stop()
        try:
            while True:
                reply = self.client_ok("hs1.test", alice, "POST", "/keys/query",
                                       {"device_keys": {bob["user_id"]: []}, "timeout": 2000})
                if reply["failures"] == {} or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            self.assertEqual(reply["failures"], {})
            got = reply["device_keys"][bob["user_id"]][bob["device_id"]]
            self.assertEqual(got["keys"], bob["device_keys"]["keys"])
        finally:
            self.servers["hs2.test"].start()

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


class OutboxRetryTest(unittest.TestCase):
    """The outbox keeps what the other server did not take, across restarts of either side,
    and delivers it once that server is back: a to-device message to a user of a stopped
    server arrives after it restarts. hs1's clock is moved (testing.fake_clock) past the retry
    backoff instead of waiting it out."""

    @classmethod
    def setUpClass(cls):
        start_two_servers(cls, {"testing.fake_clock": "true"})

    @classmethod
    def tearDownClass(cls):
        for server in cls.servers.values():
            if server.running():
                server.stop()

    def register(self, name, prefix, admin=False):
        client = self.servers[name].client()
        if admin:
            status, reply = client.shared_secret_register(unique(prefix), admin=True)
            self.assertEqual(status, 200, reply)
        else:
            reply = client.register(unique(prefix))
        return {"token": reply["access_token"], "user_id": reply["user_id"],
                "device_id": reply["device_id"]}

    def request(self, name, who, method, path, body=None):
        return self.servers[name].client().request(method, path, body, token=who["token"])

    def advance_clock(self, admin, ms):
        status, reply = self.request("hs1.test", admin, "POST",
                                     "/_haven/admin/v1/testing/clock", {"advance_ms": ms})
        self.assertEqual(status, 200, reply)

    def send_to_device(self, sender, recipient, txn_id, body):
        status, reply = self.request(
            "hs1.test", sender, "PUT", f"{V3}/sendToDevice/m.test/{txn_id}",
            {"messages": {recipient["user_id"]: {recipient["device_id"]: body}}})
        self.assertEqual(status, 200, reply)

    def to_device_events(self, who, since=None, timeout_ms=0):
        path = f"{V3}/sync?timeout={timeout_ms}" + (f"&since={since}" if since else "")
        status, reply = self.request("hs2.test", who, "GET", path)
        self.assertEqual(status, 200, reply)
        return reply["to_device"]["events"] if "to_device" in reply else [], reply["next_batch"]

    def wait_for_messages(self, admin, who, count, since=None):
        """Syncs (moving hs1's clock past every backoff) until `count` messages came."""
        got = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(got) < count:
            self.advance_clock(admin, 11 * 60 * 1000)
            events, since = self.to_device_events(who, since, timeout_ms=2000)
            got += events
        return got

    def test_a_message_to_a_stopped_server_arrives_after_it_restarts(self):
        admin = self.register("hs1.test", "admin", admin=True)
        alice = self.register("hs1.test", "alice")
        bob = self.register("hs2.test", "bob")
        _, since = self.to_device_events(bob)
        self.servers["hs2.test"].stop()
        try:
            self.send_to_device(alice, bob, "t1", {"n": 1})
            # hs1 tries, fails and backs off; a restart of hs1 keeps the queue.
            time.sleep(1)
            self.servers["hs1.test"].restart()
            self.send_to_device(alice, bob, "t2", {"n": 2})
        finally:
            self.servers["hs2.test"].start()
        got = self.wait_for_messages(admin, bob, 2, since)
        self.assertEqual([e["content"] for e in got], [{"n": 1}, {"n": 2}])
        for event in got:
            self.assertEqual(event["sender"], alice["user_id"])
            self.assertEqual(event["type"], "m.test")


    def test_a_server_heard_from_gets_its_queue_at_once(self):
        admin = self.register("hs1.test", "admin", admin=True)
        alice = self.register("hs1.test", "alice")
        bob = self.register("hs2.test", "bob")
        _, since = self.to_device_events(bob)
        self.servers["hs2.test"].stop()
        try:
            self.send_to_device(alice, bob, "t1", {"n": 1})
            # Failed attempts, one after another (the clock moved past each backoff), until
            # hs1 waits minutes before the next one.
            for _ in range(12):
                self.advance_clock(admin, 11 * 60 * 1000)
                time.sleep(0.5)
        finally:
            self.servers["hs2.test"].start()
        # hs2 asks hs1 something (a signed request): hs1 retries hs2 right away, without the
        # clock moving.
        args = [haven_bin(), "federation-request", "-c", self.servers["hs2.test"].config_path,
                "--destination", "hs1.test",
                "/_matrix/federation/v1/query/profile?user_id=%40nobody%3Ahs1.test"]
        out = subprocess.run(args, capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        got = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not got:
            got, since = self.to_device_events(bob, since, timeout_ms=2000)
        self.assertEqual([e["content"] for e in got], [{"n": 1}])


if __name__ == "__main__":
    unittest.main()
