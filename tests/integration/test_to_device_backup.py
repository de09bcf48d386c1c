"""Integration tests of send-to-device messaging (PUT /sendToDevice and the to_device section
of /sync) and server-side key backups (/room_keys/version, /room_keys/keys). Each expectation
is the specification's (to_device.yaml, key_backup.yaml, the Send-to-Device module)."""

import json
import threading
import time
import unittest

from harness import HomeserverTestCase, quote, unique

V3 = "/_matrix/client/v3"
PASSWORD = "correct horse battery"
ALGORITHM = "m.megolm_backup.v1.curve25519-aes-sha2"


class ToDeviceCase(HomeserverTestCase):
    def ok(self, token, method, path, body=None):
        status, reply = self.client.request(method, V3 + path, body, token=token)
        self.assertEqual(status, 200, f"{method} {path}: {reply}")
        return reply

    def user(self, prefix="td"):
        reply = self.client.register(unique(prefix))
        return {"token": reply["access_token"], "user_id": reply["user_id"],
                "device_id": reply["device_id"]}

    def second_device(self, who, device_id=None):
        reply = self.client.login_ok(who["user_id"], device_id=device_id)
        return {"token": reply["access_token"], "user_id": who["user_id"],
                "device_id": reply["device_id"]}

    def send(self, sender, messages, txn=None, event_type="m.test"):
        txn = txn or unique("txn")
        return self.client.request(
            "PUT", f"{V3}/sendToDevice/{quote(event_type)}/{quote(txn)}",
            {"messages": messages}, token=sender["token"])

    def send_ok(self, sender, messages, txn=None, event_type="m.test"):
        status, reply = self.send(sender, messages, txn, event_type)
        self.assertEqual(status, 200, reply)
        self.assertEqual(reply, {})

    def sync(self, who, since=None, timeout=0):
        path = f"/sync?timeout={timeout}"
        if since is not None:
            path += f"&since={quote(since)}"
        return self.ok(who["token"], "GET", path)

    @staticmethod
    def to_device(reply):
        return reply["to_device"]["events"]

    def wait_for_empty_inbox(self, who):
        """Initial syncs (no token) until the inbox is empty: the deletion after an
        acknowledgement is its own write, finished shortly after the acknowledging sync."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if not self.to_device(self.sync(who)):
                return
            time.sleep(0.05)
        self.fail("acknowledged to-device messages were not deleted")


class SendToDeviceTest(ToDeviceCase):
    def test_messages_arrive_in_order_as_events_and_go_once_acknowledged(self):
        alice, bob = self.user("alice"), self.user("bob")
        for n in range(3):
            self.send_ok(alice, {bob["user_id"]: {bob["device_id"]: {"n": n}}},
                         event_type="m.room_key_request")
        first = self.sync(bob)
        events = self.to_device(first)
        self.assertEqual([e["content"] for e in events], [{"n": 0}, {"n": 1}, {"n": 2}])
        for e in events:
            self.assertEqual(e, {"type": "m.room_key_request", "sender": alice["user_id"],
                                 "content": e["content"]})
        # Not acknowledged yet: a sync from the same point gets them again.
        self.assertEqual(len(self.to_device(self.sync(bob))), 3)
        second = self.sync(bob, first["next_batch"])
        self.assertEqual(self.to_device(second), [])
        self.wait_for_empty_inbox(bob)
        # The next one comes after the acknowledged ones, alone.
        self.send_ok(alice, {bob["user_id"]: {bob["device_id"]: {"n": 3}}})
        self.assertEqual([e["content"] for e in self.to_device(self.sync(bob,
                                                                        second["next_batch"]))],
                         [{"n": 3}])

    def test_a_repeated_transaction_is_sent_once(self):
        alice, bob = self.user("alice"), self.user("bob")
        messages = {bob["user_id"]: {bob["device_id"]: {"once": True}}}
        self.send_ok(alice, messages, txn="same")
        self.send_ok(alice, messages, txn="same")
        self.assertEqual(len(self.to_device(self.sync(bob))), 1)
        # The same txn id from another device of the sender is another transaction.
        alice2 = self.second_device(alice)
        self.send_ok(alice2, messages, txn="same")
        self.assertEqual(len(self.to_device(self.sync(bob))), 2)

    def test_star_reaches_every_device_of_the_user(self):
        alice, bob = self.user("alice"), self.user("bob")
        bob2 = self.second_device(bob)
        self.send_ok(alice, {bob["user_id"]: {"*": {"all": 1}}})
        for device in (bob, bob2):
            self.assertEqual([e["content"] for e in self.to_device(self.sync(device))],
                             [{"all": 1}])
        # Only the device named gets a message sent to it.
        self.send_ok(alice, {bob["user_id"]: {bob2["device_id"]: {"one": 1}}})
        self.assertEqual(len(self.to_device(self.sync(bob))), 1)
        self.assertEqual(len(self.to_device(self.sync(bob2))), 2)

    def test_a_long_inbox_comes_a_hundred_at_a_time(self):
        alice, bob = self.user("alice"), self.user("bob")
        for n in range(150):
            self.send_ok(alice, {bob["user_id"]: {bob["device_id"]: {"n": n}}})
        first = self.sync(bob)
        self.assertEqual([e["content"]["n"] for e in self.to_device(first)], list(range(100)))
        second = self.sync(bob, first["next_batch"])
        self.assertEqual([e["content"]["n"] for e in self.to_device(second)],
                         list(range(100, 150)))
        third = self.sync(bob, second["next_batch"])
        self.assertEqual(self.to_device(third), [])

    def test_a_new_message_wakes_a_waiting_sync(self):
        alice, bob = self.user("alice"), self.user("bob")
        since = self.sync(bob)["next_batch"]
        result = {}

        def wait():
            # Other news (bob's own presence) may end a wait first: wait again from there.
            start = time.monotonic()
            token = since
            while time.monotonic() - start < 25:
                reply = self.sync(bob, token, timeout=20000)
                if self.to_device(reply):
                    break
                token = reply["next_batch"]
            result["reply"] = reply
            result["took"] = time.monotonic() - start

        waiter = threading.Thread(target=wait)
        waiter.start()
        time.sleep(0.5)
        self.send_ok(alice, {bob["user_id"]: {bob["device_id"]: {"wake": 1}}})
        waiter.join(30)
        self.assertFalse(waiter.is_alive())
        self.assertLess(result["took"], 10)
        self.assertEqual([e["content"] for e in self.to_device(result["reply"])], [{"wake": 1}])

    def test_unknown_and_remote_recipients_are_skipped(self):
        alice, bob = self.user("alice"), self.user("bob")
        self.send_ok(alice, {
            bob["user_id"]: {"NOSUCHDEVICE": {"x": 1}, bob["device_id"]: {"x": 2}},
            "@nobody_here:" + self.server.server_name: {"*": {"x": 3}},
            "@someone:remote.example": {"DEV": {"x": 4}},
        })
        self.assertEqual([e["content"] for e in self.to_device(self.sync(bob))], [{"x": 2}])

    def test_bad_requests_are_refused(self):
        alice, bob = self.user("alice"), self.user("bob")
        target = {bob["user_id"]: {bob["device_id"]: {}}}
        path = f"{V3}/sendToDevice/m.test/"
        self.assertError(self.client.request("PUT", path + "t1", {"messages": target}), 401,
                         "M_MISSING_TOKEN")
        self.assertError(self.client.request("PUT", path + "t2", raw_body="{not json",
                                             token=alice["token"]), 400, "M_NOT_JSON")
        self.assertError(self.client.request("PUT", path + "t3", {}, token=alice["token"]),
                         400, "M_MISSING_PARAM")
        cases = [
            ({"messages": []}, "M_BAD_JSON"),
            ({"messages": {bob["user_id"]: "text"}}, "M_BAD_JSON"),
            ({"messages": {bob["user_id"]: {bob["device_id"]: "text"}}}, "M_BAD_JSON"),
            ({"messages": {bob["user_id"]: {bob["device_id"]: [1]}}}, "M_BAD_JSON"),
            ({"messages": {"not-a-user": {"D": {}}}}, "M_INVALID_PARAM"),
            ({"messages": {bob["user_id"]: {"": {}}}}, "M_INVALID_PARAM"),
        ]
        for i, (body, errcode) in enumerate(cases):
            self.assertError(self.client.request("PUT", path + f"bad{i}", body,
                                                 token=alice["token"]), 400, errcode)
        self.assertError(self.client.request("PUT", path + quote("a\u0000b"),
                                             {"messages": target}, token=alice["token"]),
                         400, "M_INVALID_PARAM")
        self.assertError(self.client.request("PUT", f"{V3}/sendToDevice/{'t' * 300}/x",
                                             {"messages": target}, token=alice["token"]),
                         400, "M_INVALID_PARAM")
        # Nothing of the refused requests was delivered.
        self.assertEqual(self.to_device(self.sync(bob)), [])
        self.assertServerAlive()

    def test_a_huge_fan_out_is_refused(self):
        alice, bob = self.user("alice"), self.user("bob")
        messages = {f"@u{i}:{self.server.server_name}": {"D": {}} for i in range(10000)}
        messages[bob["user_id"]] = {bob["device_id"]: {"big": 1}}
        self.assertError(self.send(alice, messages), 413, "M_TOO_LARGE")
        self.assertEqual(self.to_device(self.sync(bob)), [])
        # Just within the limit is fine.
        del messages["@u0:" + self.server.server_name]
        self.send_ok(alice, messages)
        self.assertEqual(len(self.to_device(self.sync(bob))), 1)


class DeviceRemovalDropsInboxTest(ToDeviceCase):
    def test_a_deleted_devices_inbox_is_gone(self):
        alice, bob = self.user("alice"), self.user("bob")
        bob2 = self.second_device(bob, device_id="BOBTWO")
        self.send_ok(alice, {bob["user_id"]: {"BOBTWO": {"lost": 1}}})
        path = f"{V3}/devices/BOBTWO"
        status, reply = self.client.request("DELETE", path, {}, token=bob["token"])
        self.assertEqual(status, 401)
        self.ok(bob["token"], "DELETE", "/devices/BOBTWO", {"auth": {
            "type": "m.login.password", "session": reply["session"], "password": PASSWORD,
            "identifier": {"type": "m.id.user", "user": bob["user_id"]}}})
        again = self.second_device(bob, device_id="BOBTWO")
        self.assertNotEqual(again["token"], bob2["token"])
        self.assertEqual(self.to_device(self.sync(again)), [])

    def test_logging_out_drops_the_inbox(self):
        alice, bob = self.user("alice"), self.user("bob")
        bob2 = self.second_device(bob, device_id="BOBOUT")
        self.send_ok(alice, {bob["user_id"]: {"BOBOUT": {"lost": 1}}})
        self.ok(bob2["token"], "POST", "/logout", {})
        self.assertEqual(self.to_device(self.sync(self.second_device(bob, "BOBOUT"))), [])


class ToDeviceRateLimitTest(ToDeviceCase):
    options = {"rate_limits.rc_message.per_second": "0.1",
               "rate_limits.rc_message.burst_count": "3"}

    def test_a_flood_is_rate_limited(self):
        alice, bob = self.user("alice"), self.user("bob")
        messages = {bob["user_id"]: {bob["device_id"]: {}}}
        statuses = [self.send(alice, messages)[0] for _ in range(3)]
        self.assertEqual(statuses, [200, 200, 200])
        status, reply = self.send(alice, messages)
        self.assertEqual(status, 429, reply)
        self.assertEqual(reply["errcode"], "M_LIMIT_EXCEEDED")
        self.assertGreater(reply["retry_after_ms"], 0)
        # Another sender has its own budget.
        self.send_ok(bob, {alice["user_id"]: {alice["device_id"]: {}}})


def session(first=0, forwarded=0, verified=False, marker="c"):
    return {"first_message_index": first, "forwarded_count": forwarded, "is_verified": verified,
            "session_data": {"ephemeral": "e", "ciphertext": marker, "mac": "m"}}


class KeyBackupCase(ToDeviceCase):
    def create(self, who, auth=None):
        reply = self.ok(who["token"], "POST", "/room_keys/version",
                        {"algorithm": ALGORITHM, "auth_data": auth or {"public_key": "pk"}})
        self.assertIsInstance(reply["version"], str)
        return reply["version"]

    def req(self, who, method, path, body=None, raw_body=None):
        return self.client.request(method, V3 + path, body, token=who["token"],
                                   raw_body=raw_body)


class BackupVersionTest(KeyBackupCase):
    def test_create_read_update_and_delete_versions(self):
        alice = self.user("alice")
        self.assertError(self.req(alice, "GET", "/room_keys/version"), 404, "M_NOT_FOUND")
        auth = {"public_key": "pk1", "signatures": {alice["user_id"]: {"ed25519:D": "sig"}}}
        v1 = self.create(alice, auth)
        info = self.ok(alice["token"], "GET", "/room_keys/version")
        self.assertEqual(info["version"], v1)
        self.assertEqual(info["algorithm"], ALGORITHM)
        self.assertEqual(info["auth_data"], auth)
        self.assertEqual(info["count"], 0)
        self.assertIsInstance(info["etag"], str)
        self.assertEqual(self.ok(alice["token"], "GET", f"/room_keys/version/{v1}"), info)
        # Update: only auth_data changes; the version in the body may repeat the path's.
        self.ok(alice["token"], "PUT", f"/room_keys/version/{v1}",
                {"algorithm": ALGORITHM, "auth_data": {"public_key": "pk2"}, "version": v1})
        self.assertEqual(self.ok(alice["token"], "GET", f"/room_keys/version/{v1}")["auth_data"],
                         {"public_key": "pk2"})
        # A second version is the latest; the first is still readable.
        v2 = self.create(alice)
        self.assertNotEqual(v1, v2)
        self.assertEqual(self.ok(alice["token"], "GET", "/room_keys/version")["version"], v2)
        self.ok(alice["token"], "GET", f"/room_keys/version/{v1}")
        # Deleting: gone for good, deleting again is fine, the number is not reused.
        self.ok(alice["token"], "DELETE", f"/room_keys/version/{v2}")
        self.assertError(self.req(alice, "GET", f"/room_keys/version/{v2}"), 404, "M_NOT_FOUND")
        self.assertEqual(self.ok(alice["token"], "GET", "/room_keys/version")["version"], v1)
        self.ok(alice["token"], "DELETE", f"/room_keys/version/{v2}")
        v3 = self.create(alice)
        self.assertNotIn(v3, (v1, v2))

    def test_bad_version_requests_are_refused(self):
        alice = self.user("alice")
        v = self.create(alice)
        for body, status, errcode in [
            ({"auth_data": {"public_key": "pk"}}, 400, "M_MISSING_PARAM"),
            ({"algorithm": ALGORITHM}, 400, "M_MISSING_PARAM"),
            ({"algorithm": 5, "auth_data": {"public_key": "pk"}}, 400, "M_BAD_JSON"),
            ({"algorithm": ALGORITHM, "auth_data": "pk"}, 400, "M_BAD_JSON"),
            ({"algorithm": ALGORITHM, "auth_data": {}}, 400, "M_MISSING_PARAM"),
            ({"algorithm": "m.unknown", "auth_data": {"public_key": "pk"}}, 400,
             "M_INVALID_PARAM"),
        ]:
            self.assertError(self.req(alice, "POST", "/room_keys/version", body), status,
                             errcode)
        self.assertError(self.req(alice, "POST", "/room_keys/version", raw_body="[1,"), 400,
                         "M_NOT_JSON")
        for version in ("999", "abc", "0", "01", "-1"):
            self.assertError(self.req(alice, "GET", f"/room_keys/version/{version}"), 404,
                             "M_NOT_FOUND")
            self.assertError(self.req(alice, "DELETE", f"/room_keys/version/{version}"), 404,
                             "M_NOT_FOUND")
        update = {"algorithm": ALGORITHM, "auth_data": {"public_key": "x"}}
        self.assertError(self.req(alice, "PUT", "/room_keys/version/999", update), 404,
                         "M_NOT_FOUND")
        self.assertError(self.req(alice, "PUT", f"/room_keys/version/{v}",
                                  dict(update, version=v + "0")), 400, "M_INVALID_PARAM")
        self.assertError(self.req(alice, "PUT", f"/room_keys/version/{v}",
                                  {"algorithm": "m.other", "auth_data": {"public_key": "x"}}),
                         400, "M_INVALID_PARAM")
        self.assertError(self.client.request("GET", V3 + "/room_keys/version"), 401,
                         "M_MISSING_TOKEN")
        # None of it changed the backup.
        self.assertEqual(self.ok(alice["token"], "GET", "/room_keys/version")["auth_data"],
                         {"public_key": "pk"})


class BackupKeysTest(KeyBackupCase):
    def test_keys_at_every_level_with_count_and_etag(self):
        alice = self.user("alice")
        v = self.create(alice)
        etag0 = self.ok(alice["token"], "GET", "/room_keys/version")["etag"]
        q = f"?version={v}"
        r1 = self.ok(alice["token"], "PUT", f"/room_keys/keys/{quote('!a:x')}/s1{q}",
                     session(marker="a1"))
        self.assertEqual(r1["count"], 1)
        self.assertNotEqual(r1["etag"], etag0)
        r2 = self.ok(alice["token"], "PUT", f"/room_keys/keys/{quote('!a:x')}{q}",
                     {"sessions": {"s2": session(marker="a2")}})
        self.assertEqual(r2["count"], 2)
        r3 = self.ok(alice["token"], "PUT", f"/room_keys/keys{q}",
                     {"rooms": {"!b:x": {"sessions": {"s1": session(marker="b1")}}}})
        self.assertEqual(r3["count"], 3)
        self.assertEqual(len({etag0, r1["etag"], r2["etag"], r3["etag"]}), 4)
        info = self.ok(alice["token"], "GET", "/room_keys/version")
        self.assertEqual((info["count"], info["etag"]), (3, r3["etag"]))

        self.assertEqual(self.ok(alice["token"], "GET", f"/room_keys/keys/{quote('!a:x')}/s1{q}"),
                         session(marker="a1"))
        self.assertEqual(self.ok(alice["token"], "GET", f"/room_keys/keys/{quote('!a:x')}{q}"),
                         {"sessions": {"s1": session(marker="a1"), "s2": session(marker="a2")}})
        self.assertEqual(self.ok(alice["token"], "GET", f"/room_keys/keys{q}"), {"rooms": {
            "!a:x": {"sessions": {"s1": session(marker="a1"), "s2": session(marker="a2")}},
            "!b:x": {"sessions": {"s1": session(marker="b1")}}}})
        self.assertError(self.req(alice, "GET", f"/room_keys/keys/{quote('!a:x')}/nope{q}"), 404,
                         "M_NOT_FOUND")
        self.assertEqual(self.ok(alice["token"], "GET", f"/room_keys/keys/{quote('!zz:x')}{q}"),
                         {"sessions": {}})

        d1 = self.ok(alice["token"], "DELETE", f"/room_keys/keys/{quote('!a:x')}/s1{q}")
        self.assertEqual(d1["count"], 2)
        self.assertNotEqual(d1["etag"], r3["etag"])
        d2 = self.ok(alice["token"], "DELETE", f"/room_keys/keys/{quote('!b:x')}{q}")
        self.assertEqual(d2["count"], 1)
        d3 = self.ok(alice["token"], "DELETE", f"/room_keys/keys{q}")
        self.assertEqual(d3["count"], 0)
        self.assertEqual(self.ok(alice["token"], "GET", f"/room_keys/keys{q}"), {"rooms": {}})

    def test_the_better_copy_of_a_session_is_kept(self):
        alice = self.user("alice")
        v = self.create(alice)
        path = f"/room_keys/keys/{quote('!r:x')}/s?version={v}"

        def put(key):
            return self.ok(alice["token"], "PUT", path, key)

        def held():
            return self.ok(alice["token"], "GET", path)["session_data"]["ciphertext"]

        first = put(session(first=5, forwarded=2, marker="start"))
        same = put(session(first=6, forwarded=0, marker="later index"))
        self.assertEqual(held(), "start")
        self.assertEqual(same["etag"], first["etag"])
        put(session(first=5, forwarded=1, marker="fewer forwards"))
        self.assertEqual(held(), "fewer forwards")
        put(session(first=4, forwarded=9, marker="earlier index"))
        self.assertEqual(held(), "earlier index")
        put(session(first=9, forwarded=9, verified=True, marker="verified"))
        self.assertEqual(held(), "verified")
        last = put(session(first=0, forwarded=0, verified=False, marker="unverified"))
        self.assertEqual(held(), "verified")
        self.assertEqual(last["count"], 1)

    def test_uploads_need_the_current_version(self):
        alice = self.user("alice")
        old = self.create(alice)
        current = self.create(alice)
        path = f"/room_keys/keys/{quote('!r:x')}/s"
        status, reply = self.req(alice, "PUT", f"{path}?version={old}", session())
        self.assertEqual(status, 403, reply)
        self.assertEqual(reply["errcode"], "M_WRONG_ROOM_KEYS_VERSION")
        self.assertEqual(reply["current_version"], current)
        self.assertError(self.req(alice, "PUT", path, session()), 400, "M_MISSING_PARAM")
        self.assertError(self.req(alice, "GET", path), 400, "M_MISSING_PARAM")
        self.assertError(self.req(alice, "DELETE", path), 400, "M_MISSING_PARAM")
        for version in ("999", "abc"):
            for method in ("PUT", "GET", "DELETE"):
                self.assertError(self.req(alice, method, f"{path}?version={version}",
                                          session() if method == "PUT" else None),
                                 404, "M_NOT_FOUND")
        # A deleted version's keys are gone with it.
        self.ok(alice["token"], "PUT", f"{path}?version={current}", session())
        self.ok(alice["token"], "DELETE", f"/room_keys/version/{current}")
        self.assertError(self.req(alice, "GET", f"/room_keys/keys?version={current}"), 404,
                         "M_NOT_FOUND")
        self.assertError(self.req(alice, "PUT", f"{path}?version={current}", session()), 404,
                         "M_NOT_FOUND")

    def test_bad_key_uploads_are_refused(self):
        alice = self.user("alice")
        v = self.create(alice)
        q = f"?version={v}"
        one = f"/room_keys/keys/{quote('!r:x')}/s{q}"
        missing = session()
        del missing["is_verified"]
        for body, errcode in [
            (missing, "M_MISSING_PARAM"),
            (dict(session(), first_message_index="1"), "M_BAD_JSON"),
            (dict(session(), forwarded_count=1.5), "M_BAD_JSON"),
            (dict(session(), is_verified="yes"), "M_BAD_JSON"),
            (dict(session(), session_data="text"), "M_BAD_JSON"),
            (dict(session(), first_message_index=-1), "M_INVALID_PARAM"),
        ]:
            self.assertError(self.req(alice, "PUT", one, body), 400, errcode)
        self.assertError(self.req(alice, "PUT", one, raw_body="{"), 400, "M_NOT_JSON")
        self.assertError(self.req(alice, "PUT", f"/room_keys/keys/{quote('not-a-room')}/s{q}",
                                  session()), 400, "M_INVALID_PARAM")
        self.assertError(self.req(alice, "PUT", f"/room_keys/keys/{quote('!r:x')}{q}",
                                  {"sessions": []}), 400, "M_BAD_JSON")
        self.assertError(self.req(alice, "PUT", f"/room_keys/keys{q}", {}), 400,
                         "M_MISSING_PARAM")
        self.assertError(self.req(alice, "PUT", f"/room_keys/keys{q}",
                                  {"rooms": {"bad": {"sessions": {}}}}), 400, "M_INVALID_PARAM")
        self.assertError(self.req(alice, "PUT", f"/room_keys/keys{q}",
                                  {"rooms": {"!r:x": {"sessions": {"s": 5}}}}), 400,
                         "M_BAD_JSON")
        self.assertEqual(self.ok(alice["token"], "GET", "/room_keys/version")["count"], 0)
        self.assertServerAlive()


class BackupPrivacyTest(KeyBackupCase):
    def test_another_user_cannot_read_change_or_delete_a_backup(self):
        alice, mallory = self.user("alice"), self.user("mallory")
        v = self.create(alice)
        q = f"?version={v}"
        self.ok(alice["token"], "PUT", f"/room_keys/keys/{quote('!r:x')}/s{q}", session())
        self.assertError(self.req(mallory, "GET", "/room_keys/version"), 404, "M_NOT_FOUND")
        self.assertError(self.req(mallory, "GET", f"/room_keys/version/{v}"), 404, "M_NOT_FOUND")
        self.assertError(self.req(mallory, "GET", f"/room_keys/keys{q}"), 404, "M_NOT_FOUND")
        self.assertError(self.req(mallory, "GET", f"/room_keys/keys/{quote('!r:x')}/s{q}"), 404,
                         "M_NOT_FOUND")
        self.assertError(self.req(mallory, "PUT", f"/room_keys/keys/{quote('!r:x')}/s{q}",
                                  session(verified=True, marker="evil")), 404, "M_NOT_FOUND")
        self.assertError(self.req(mallory, "DELETE", f"/room_keys/keys{q}"), 404, "M_NOT_FOUND")
        self.assertError(self.req(mallory, "PUT", f"/room_keys/version/{v}",
                                  {"algorithm": ALGORITHM, "auth_data": {"public_key": "evil"}}),
                         404, "M_NOT_FOUND")
        self.assertError(self.req(mallory, "DELETE", f"/room_keys/version/{v}"), 404,
                         "M_NOT_FOUND")
        # Mallory's own backup is separate, even with the same version number.
        mine = self.create(mallory)
        self.ok(mallory["token"], "DELETE", f"/room_keys/keys?version={mine}")
        info = self.ok(alice["token"], "GET", "/room_keys/version")
        self.assertEqual((info["version"], info["count"], info["auth_data"]),
                         (v, 1, {"public_key": "pk"}))
        self.assertEqual(self.ok(alice["token"], "GET", f"/room_keys/keys/{quote('!r:x')}/s{q}"),
                         session())


if __name__ == "__main__":
    unittest.main()
