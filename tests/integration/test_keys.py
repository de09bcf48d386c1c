"""Integration tests of the end-to-end encryption key endpoints of the Client-Server API:
/keys/upload, /keys/query, /keys/claim, /keys/changes, /keys/device_signing/upload and
/keys/signatures/upload, with real ed25519 signatures, plus device deletion and logout
removing a device's keys. Each expectation is the specification's (keys.yaml,
cross_signing.yaml)."""

import base64
import hashlib
import json
import os
import unittest

from harness import HomeserverTestCase, quote, unique

V3 = "/_matrix/client/v3"
PASSWORD = "correct horse battery"

# --- ed25519 (RFC 8032), pure Python so the tests need only the standard library ------------

_P = 2 ** 255 - 19
_L = 2 ** 252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _inv(x):
    return pow(x, _P - 2, _P)


def _add(p, q):
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % _P
    b = (y1 + x1) * (y2 + x2) % _P
    c = 2 * t1 * t2 * _D % _P
    d = 2 * z1 * z2 % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _mul(s, p):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
    return q


def _x_of(y):
    x2 = (y * y - 1) * _inv(_D * y * y + 1) % _P
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    return _P - x if x & 1 else x


_GY = 4 * _inv(5) % _P
_G = (_x_of(_GY), _GY, 1, _x_of(_GY) * _GY % _P)


def _encode(p):
    x, y, z, _ = p
    zi = _inv(z)
    x, y = x * zi % _P, y * zi % _P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def _h(data):
    return int.from_bytes(hashlib.sha512(data).digest(), "little")


class SigningKey:
    """An ed25519 key from a 32-byte seed."""

    def __init__(self, seed=None):
        self.seed = seed or os.urandom(32)
        digest = hashlib.sha512(self.seed).digest()
        a = int.from_bytes(digest[:32], "little")
        self._a = (a & ((1 << 254) - 8)) | (1 << 254)
        self._prefix = digest[32:]
        self.public = _encode(_mul(self._a, _G))
        self.public_b64 = b64(self.public)

    def sign(self, message):
        r = _h(self._prefix + message) % _L
        big_r = _encode(_mul(r, _G))
        s = (r + _h(big_r + self.public + message) * self._a) % _L
        return big_r + s.to_bytes(32, "little")


def b64(data):
    return base64.b64encode(data).decode().rstrip("=")


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_json(obj, user_id, key_id, key):
    """Adds signatures[user_id][key_id] as the spec's "Signing JSON" appendix says."""
    unsigned = {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}
    signature = b64(key.sign(canonical(unsigned)))
    obj.setdefault("signatures", {}).setdefault(user_id, {})[key_id] = signature
    return obj


def device_keys(user_id, device_id, key):
    keys = {"user_id": user_id, "device_id": device_id,
            "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
            "keys": {f"curve25519:{device_id}": b64(os.urandom(32)),
                     f"ed25519:{device_id}": key.public_b64}}
    return sign_json(keys, user_id, f"ed25519:{device_id}", key)


def one_time_keys(user_id, device_id, key, ids, fallback=False):
    out = {}
    for key_id in ids:
        value = {"key": b64(os.urandom(32))}
        if fallback:
            value["fallback"] = True
        out[f"signed_curve25519:{key_id}"] = sign_json(value, user_id, f"ed25519:{device_id}",
                                                       key)
    return out


def cross_signing_key(user_id, usage, key, signer=None):
    obj = {"user_id": user_id, "usage": [usage],
           "keys": {f"ed25519:{key.public_b64}": key.public_b64}}
    if signer is not None:
        sign_json(obj, user_id, f"ed25519:{signer.public_b64}", signer)
    return obj


class Ed25519SelfTest(unittest.TestCase):
    def test_rfc8032_test_vector_1(self):
        key = SigningKey(bytes.fromhex(
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
        self.assertEqual(key.public.hex(),
                         "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        self.assertEqual(key.sign(b"").hex(),
                         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                         "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")


class KeysTestCase(HomeserverTestCase):
    def ok(self, token, method, path, body=None):
        status, reply = self.client.request(method, V3 + path, body, token=token)
        self.assertEqual(status, 200, f"{method} {path}: {reply}")
        return reply

    def user(self, prefix="k"):
        """A registered user with a signing key for its device: dict with token, user_id,
        device_id, key."""
        reply = self.client.register(unique(prefix))
        return {"token": reply["access_token"], "user_id": reply["user_id"],
                "device_id": reply["device_id"], "key": SigningKey()}

    def upload(self, who, otk_ids=(), fallback_ids=(), with_device_keys=True):
        body = {}
        if with_device_keys:
            who.setdefault("device_keys",
                           device_keys(who["user_id"], who["device_id"], who["key"]))
            body["device_keys"] = who["device_keys"]
        if otk_ids:
            body["one_time_keys"] = one_time_keys(who["user_id"], who["device_id"], who["key"],
                                                  otk_ids)
        if fallback_ids:
            body["fallback_keys"] = one_time_keys(who["user_id"], who["device_id"], who["key"],
                                                  fallback_ids, fallback=True)
        return self.client.request("POST", V3 + "/keys/upload", body, token=who["token"])

    def query(self, who, users):
        return self.ok(who["token"], "POST", "/keys/query",
                       {"device_keys": {u: [] for u in users}})

    def claim(self, who, target, device_id, algorithm="signed_curve25519"):
        return self.ok(who["token"], "POST", "/keys/claim",
                       {"one_time_keys": {target["user_id"]: {device_id: algorithm}}})


class UploadQueryClaimTest(KeysTestCase):
    def test_upload_query_claim_round_trip(self):
        alice, bob = self.user("alice"), self.user("bob")
        status, reply = self.upload(alice, ["A1", "A2"], ["F1"])
        self.assertEqual(status, 200, reply)
        self.assertEqual(reply["one_time_key_counts"], {"signed_curve25519": 2})

        result = self.query(bob, [alice["user_id"]])
        self.assertEqual(result["failures"], {})
        got = result["device_keys"][alice["user_id"]][alice["device_id"]]
        sent = device_keys(alice["user_id"], alice["device_id"], alice["key"])
        self.assertEqual(got["keys"][f"ed25519:{alice['device_id']}"], alice["key"].public_b64)
        self.assertEqual(got["user_id"], alice["user_id"])
        self.assertEqual(set(got["signatures"][alice["user_id"]]),
                         set(sent["signatures"][alice["user_id"]]))

        claimed = set()
        for _ in range(2):
            keys = self.claim(bob, alice, alice["device_id"])["one_time_keys"]
            (key_id, key), = keys[alice["user_id"]][alice["device_id"]].items()
            self.assertNotIn("fallback", key)
            claimed.add(key_id)
        self.assertEqual(claimed, {"signed_curve25519:A1", "signed_curve25519:A2"})
        # Exhausted: the fallback key, again and again.
        for _ in range(2):
            keys = self.claim(bob, alice, alice["device_id"])["one_time_keys"]
            (key_id, key), = keys[alice["user_id"]][alice["device_id"]].items()
            self.assertEqual(key_id, "signed_curve25519:F1")
            self.assertTrue(key["fallback"])
        status, reply = self.upload(alice, with_device_keys=False)
        self.assertEqual(reply["one_time_key_counts"], {})

    def test_claim_of_unknown_users_devices_and_algorithms_is_simply_absent(self):
        alice, bob = self.user(), self.user()
        self.upload(alice, ["X1"])
        reply = self.ok(bob["token"], "POST", "/keys/claim", {"one_time_keys": {
            "@nobody:" + self.server.server_name: {"DEV": "signed_curve25519"},
            alice["user_id"]: {"NODEVICE": "signed_curve25519"}}})
        self.assertEqual(reply["one_time_keys"], {})
        reply = self.claim(bob, alice, alice["device_id"], "curve25519")
        self.assertEqual(reply["one_time_keys"], {})

    def test_remote_users_are_failures_for_query_and_claim(self):
        alice = self.user()
        reply = self.query(alice, ["@bob:remote.example"])
        self.assertIn("remote.example", reply["failures"])
        reply = self.ok(alice["token"], "POST", "/keys/claim", {
            "one_time_keys": {"@bob:remote.example": {"D": "signed_curve25519"}}})
        self.assertIn("remote.example", reply["failures"])
        self.assertEqual(reply["one_time_keys"], {})

    def test_query_for_named_devices_only(self):
        alice, bob = self.user(), self.user()
        self.upload(alice)
        reply = self.ok(bob["token"], "POST", "/keys/query",
                        {"device_keys": {alice["user_id"]: ["OTHER"]}})
        self.assertEqual(reply["device_keys"][alice["user_id"]], {})

    def test_device_keys_for_another_user_or_device_are_refused(self):
        alice = self.user()
        other_user = device_keys("@mallory:" + self.server.server_name, alice["device_id"],
                                 alice["key"])
        other_device = device_keys(alice["user_id"], "NOTMINE", alice["key"])
        for keys in (other_user, other_device):
            self.assertError(self.client.request("POST", V3 + "/keys/upload",
                                                 {"device_keys": keys}, token=alice["token"]),
                             400, "M_INVALID_PARAM")

    def test_bad_signature_is_refused(self):
        alice = self.user()
        keys = device_keys(alice["user_id"], alice["device_id"], alice["key"])
        keys["algorithms"].append("tampered.after.signing")
        self.assertError(self.client.request("POST", V3 + "/keys/upload", {"device_keys": keys},
                                             token=alice["token"]), 400, "M_INVALID_SIGNATURE")
        keys = device_keys(alice["user_id"], alice["device_id"], alice["key"])
        keys["signatures"] = {}
        self.assertError(self.client.request("POST", V3 + "/keys/upload", {"device_keys": keys},
                                             token=alice["token"]), 400, "M_INVALID_SIGNATURE")

    def test_device_keys_cannot_be_replaced_but_may_be_resent(self):
        alice = self.user()
        keys = device_keys(alice["user_id"], alice["device_id"], alice["key"])
        for _ in range(2):
            self.ok(alice["token"], "POST", "/keys/upload", {"device_keys": keys})
        alice["key"] = SigningKey()
        alice["device_keys"] = device_keys(alice["user_id"], alice["device_id"], alice["key"])
        self.assertError(self.upload(alice), 400, "M_INVALID_PARAM")

    def test_one_time_key_reused_with_different_content_is_refused(self):
        alice = self.user()
        first = one_time_keys(alice["user_id"], alice["device_id"], alice["key"], ["R1"])
        self.ok(alice["token"], "POST", "/keys/upload", {"one_time_keys": first})
        reply = self.ok(alice["token"], "POST", "/keys/upload", {"one_time_keys": first})
        self.assertEqual(reply["one_time_key_counts"], {"signed_curve25519": 1})
        second = one_time_keys(alice["user_id"], alice["device_id"], alice["key"], ["R1", "R2"])
        self.assertError(self.client.request("POST", V3 + "/keys/upload",
                                             {"one_time_keys": second}, token=alice["token"]),
                         400, "M_INVALID_PARAM")
        # Nothing of the refused upload was kept.
        reply = self.ok(alice["token"], "POST", "/keys/upload", {})
        self.assertEqual(reply["one_time_key_counts"], {"signed_curve25519": 1})

    def test_malformed_and_oversize_uploads_are_refused(self):
        alice = self.user()
        too_many = {f"curve25519:K{i}": "a" * 43 for i in range(1001)}
        self.assertError(self.client.request("POST", V3 + "/keys/upload",
                                             {"one_time_keys": too_many}, token=alice["token"]),
                         413, "M_TOO_LARGE")
        huge = {"signed_curve25519:H": {"key": "a" * (65 * 1024)}}
        self.assertError(self.client.request("POST", V3 + "/keys/upload",
                                             {"one_time_keys": huge}, token=alice["token"]),
                         413, "M_TOO_LARGE")
        self.assertError(self.client.request("POST", V3 + "/keys/upload",
                                             {"one_time_keys": {"nocolon": "x"}},
                                             token=alice["token"]), 400, "M_INVALID_PARAM")
        self.assertError(self.client.request("POST", V3 + "/keys/upload",
                                             {"one_time_keys": {"curve25519:A": 5}},
                                             token=alice["token"]), 400, "M_INVALID_PARAM")
        self.assertError(self.client.request("POST", V3 + "/keys/upload",
                                             {"one_time_keys": []}, token=alice["token"]),
                         400, "M_BAD_JSON")
        status, _ = self.client.request("POST", V3 + "/keys/query", {"device_keys": {
            alice["user_id"]: "notalist"}}, token=alice["token"])
        self.assertEqual(status, 400)
        status, _ = self.client.request("POST", V3 + "/keys/claim", {}, token=alice["token"])
        self.assertEqual(status, 400)
        self.assertError(self.client.request("POST", V3 + "/keys/upload", {}), 401,
                         "M_MISSING_TOKEN")


class DeviceRemovalTest(KeysTestCase):
    def test_deleting_a_device_removes_its_keys(self):
        alice, bob = self.user(), self.user()
        second = self.client.login_ok(alice["user_id"])
        alice2 = {"token": second["access_token"], "user_id": alice["user_id"],
                  "device_id": second["device_id"], "key": SigningKey()}
        self.upload(alice2, ["D1"])
        self.assertIn(alice2["device_id"], self.query(bob, [alice["user_id"]])["device_keys"][
            alice["user_id"]])
        path = f"/devices/{quote(alice2['device_id'])}"
        status, reply = self.client.request("DELETE", V3 + path, {}, token=alice["token"])
        self.assertEqual(status, 401)
        self.ok(alice["token"], "DELETE", path, {"auth": {
            "type": "m.login.password", "session": reply["session"], "password": PASSWORD,
            "identifier": {"type": "m.id.user", "user": alice["user_id"]}}})
        self.assertNotIn(alice2["device_id"],
                         self.query(bob, [alice["user_id"]])["device_keys"][alice["user_id"]])
        self.assertEqual(self.claim(bob, alice2, alice2["device_id"])["one_time_keys"], {})

    def test_logout_removes_the_devices_keys(self):
        alice, bob = self.user(), self.user()
        self.upload(alice, ["L1"])
        self.ok(alice["token"], "POST", "/logout", {})
        self.assertEqual(self.query(bob, [alice["user_id"]])["device_keys"][alice["user_id"]], {})
        self.assertEqual(self.claim(bob, alice, alice["device_id"])["one_time_keys"], {})


class KeyChangesTest(KeysTestCase):
    def sync_token(self, who):
        return self.ok(who["token"], "GET", "/sync?timeout=0")["next_batch"]

    def changes(self, who, since, to):
        return self.ok(who["token"], "GET",
                       f"/keys/changes?from={quote(since)}&to={quote(to)}")

    def test_changes_between_tokens_for_users_sharing_a_room(self):
        alice, bob, carol = self.user(), self.user(), self.user()
        room = self.ok(alice["token"], "POST", "/createRoom", {"preset": "public_chat"})["room_id"]
        self.ok(bob["token"], "POST", f"/join/{quote(room)}", {})
        before = self.sync_token(bob)
        self.upload(alice)
        self.upload(carol)  # shares no room with bob
        after = self.sync_token(bob)
        reply = self.changes(bob, before, after)
        self.assertIn(alice["user_id"], reply["changed"])
        self.assertNotIn(carol["user_id"], reply["changed"])
        if after.split("_")[5] != "0":
            # Only once /sync puts the device-list position in its tokens.
            self.assertEqual(self.changes(bob, after, after)["changed"], [])
        # Carol joins: bob must now hear of her keys.
        self.ok(carol["token"], "POST", f"/join/{quote(room)}", {})
        self.assertIn(carol["user_id"], self.changes(bob, after, self.sync_token(bob))["changed"])
        # Bob leaves: alice and carol are left.
        before_leave = self.sync_token(bob)
        self.ok(bob["token"], "POST", f"/rooms/{quote(room)}/leave", {})
        reply = self.changes(bob, before_leave, self.sync_token(bob))
        self.assertIn(alice["user_id"], reply["left"])
        self.assertIn(carol["user_id"], reply["left"])

    def test_bad_tokens_are_refused(self):
        alice = self.user()
        status, _ = self.client.request("GET", V3 + "/keys/changes?from=x&to=y",
                                        token=alice["token"])
        self.assertEqual(status, 400)
        self.assertError(self.client.request("GET", V3 + "/keys/changes", token=alice["token"]),
                         400, "M_MISSING_PARAM")


class CrossSigningTest(KeysTestCase):
    def cross_signing_set(self, who):
        master, ssk, usk = SigningKey(), SigningKey(), SigningKey()
        uid = who["user_id"]
        body = {"master_key": cross_signing_key(uid, "master", master),
                "self_signing_key": cross_signing_key(uid, "self_signing", ssk, master),
                "user_signing_key": cross_signing_key(uid, "user_signing", usk, master)}
        return body, master, ssk, usk

    def upload_cs(self, who, body):
        return self.client.request("POST", V3 + "/keys/device_signing/upload", body,
                                   token=who["token"])

    def test_first_upload_without_auth_then_replacing_needs_password(self):
        alice, bob = self.user(), self.user()
        body, master, _, _ = self.cross_signing_set(alice)
        status, reply = self.upload_cs(alice, body)
        self.assertEqual(status, 200, reply)
        # The same keys again: idempotent, no UIA.
        self.assertEqual(self.upload_cs(alice, body)[0], 200)
        own = self.query(alice, [alice["user_id"]])
        self.assertEqual(own["master_keys"][alice["user_id"]]["keys"],
                         body["master_key"]["keys"])
        self.assertIn(alice["user_id"], own["self_signing_keys"])
        self.assertIn(alice["user_id"], own["user_signing_keys"])
        theirs = self.query(bob, [alice["user_id"]])
        self.assertIn(alice["user_id"], theirs["master_keys"])
        self.assertIn(alice["user_id"], theirs["self_signing_keys"])
        self.assertNotIn(alice["user_id"], theirs.get("user_signing_keys", {}))

        new_body, new_master, _, _ = self.cross_signing_set(alice)
        status, reply = self.upload_cs(alice, new_body)
        self.assertEqual(status, 401, reply)
        self.assertIn(["m.login.password"], [f["stages"] for f in reply["flows"]])
        new_body["auth"] = {"type": "m.login.password", "session": reply["session"],
                            "password": "wrong password",
                            "identifier": {"type": "m.id.user", "user": alice["user_id"]}}
        self.assertEqual(self.upload_cs(alice, new_body)[0], 401)
        new_body["auth"]["password"] = PASSWORD
        status, reply = self.upload_cs(alice, new_body)
        self.assertEqual(status, 200, reply)
        own = self.query(alice, [alice["user_id"]])
        self.assertEqual(own["master_keys"][alice["user_id"]]["keys"],
                         {f"ed25519:{new_master.public_b64}": new_master.public_b64})

    def test_bad_cross_signing_uploads_are_refused(self):
        alice = self.user()
        uid = alice["user_id"]
        ssk = SigningKey()
        self.assertError(self.upload_cs(alice, {
            "self_signing_key": cross_signing_key(uid, "self_signing", ssk, SigningKey())}),
            400, "M_MISSING_PARAM")
        master = SigningKey()
        self.assertError(self.upload_cs(alice, {
            "master_key": cross_signing_key(uid, "master", master),
            "self_signing_key": cross_signing_key(uid, "self_signing", ssk, SigningKey())}),
            400, "M_INVALID_SIGNATURE")
        self.assertError(self.upload_cs(alice, {
            "master_key": cross_signing_key("@someone:else", "master", master)}),
            400, "M_INVALID_PARAM")
        self.assertError(self.upload_cs(alice, {
            "master_key": cross_signing_key(uid, "self_signing", master)}),
            400, "M_INVALID_PARAM")
        # Nothing was stored by the refused uploads: a first upload still needs no auth.
        body, _, _, _ = self.cross_signing_set(alice)
        self.assertEqual(self.upload_cs(alice, body)[0], 200)

    def test_signatures_upload_verifies_and_merges_signatures(self):
        alice, bob, carol = self.user(), self.user(), self.user()
        self.upload(alice)
        body, master, ssk, usk = self.cross_signing_set(alice)
        self.assertEqual(self.upload_cs(alice, body)[0], 200)
        bob_body, bob_master, _, _ = self.cross_signing_set(bob)
        self.assertEqual(self.upload_cs(bob, bob_body)[0], 200)
        uid, dev = alice["user_id"], alice["device_id"]

        # Alice's self-signing key signs her device; her device signs her master key; her
        # user-signing key signs Bob's master key.
        signed_device = sign_json({**alice["device_keys"], "signatures": {}}, uid,
                                  f"ed25519:{ssk.public_b64}", ssk)
        signed_master = sign_json(dict(body["master_key"]), uid, f"ed25519:{dev}", alice["key"])
        signed_bob = sign_json(dict(bob_body["master_key"]), uid, f"ed25519:{usk.public_b64}",
                               usk)
        bad = sign_json(dict(bob_body["master_key"]), uid, f"ed25519:{usk.public_b64}",
                        SigningKey())
        reply = self.ok(alice["token"], "POST", "/keys/signatures/upload", {
            uid: {dev: signed_device, master.public_b64: signed_master,
                  "UNKNOWNKEY": signed_device},
            bob["user_id"]: {bob_master.public_b64: signed_bob}})
        self.assertEqual(set(reply["failures"].get(uid, {})), {"UNKNOWNKEY"})
        self.assertNotIn(bob["user_id"], reply["failures"])

        theirs = self.query(carol, [uid, bob["user_id"]])
        device = theirs["device_keys"][uid][dev]
        self.assertEqual(device["signatures"][uid][f"ed25519:{ssk.public_b64}"],
                         signed_device["signatures"][uid][f"ed25519:{ssk.public_b64}"])
        self.assertIn(f"ed25519:{dev}", theirs["master_keys"][uid]["signatures"][uid])
        # A signature on another user's key is for the signer's eyes only.
        self.assertNotIn(uid, theirs["master_keys"][bob["user_id"]].get("signatures", {}))
        mine = self.query(alice, [bob["user_id"]])
        self.assertIn(f"ed25519:{usk.public_b64}",
                      mine["master_keys"][bob["user_id"]]["signatures"][uid])

        reply = self.ok(alice["token"], "POST", "/keys/signatures/upload", {
            bob["user_id"]: {bob_master.public_b64: bad}})
        self.assertEqual(reply["failures"][bob["user_id"]][bob_master.public_b64]["errcode"],
                         "M_INVALID_SIGNATURE")
        # The signed object must be the stored key.
        changed = sign_json({**bob_body["master_key"], "usage": ["master", "extra"],
                             "signatures": {}}, uid, f"ed25519:{usk.public_b64}", usk)
        reply = self.ok(alice["token"], "POST", "/keys/signatures/upload", {
            bob["user_id"]: {bob_master.public_b64: changed}})
        self.assertIn(bob_master.public_b64, reply["failures"][bob["user_id"]])

    def test_malformed_signatures_payloads(self):
        alice = self.user()
        self.assertError(self.client.request("POST", V3 + "/keys/signatures/upload",
                                             {alice["user_id"]: "nope"}, token=alice["token"]),
                         400, "M_BAD_JSON")
        reply = self.ok(alice["token"], "POST", "/keys/signatures/upload",
                        {alice["user_id"]: {"DEV": "not an object", "DEV2": {}}})
        self.assertEqual(set(reply["failures"][alice["user_id"]]), {"DEV", "DEV2"})
        reply = self.ok(alice["token"], "POST", "/keys/signatures/upload",
                        {"@x:remote.example": {"K": {"signatures": {}}}})
        self.assertIn("K", reply["failures"]["@x:remote.example"])


if __name__ == "__main__":
    unittest.main()
