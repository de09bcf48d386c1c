"""Pushers: GET /pushers and POST /pushers/set with their refusals, and the notifications a
test push gateway (a Python HTTP server standing in for Sygnal) receives: event_id_only, no
content, sender or room name; retried when the gateway fails; rejected pushkeys removed."""

import json
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import HomeserverTestCase, quote, unique

V3 = "/_matrix/client/v3"
GATEWAY_PATH = "/_matrix/push/v1/notify"


class Gateway:
    """A push gateway on a free loopback port that records what it receives. `fail_next`
    answers that many requests with 500; `reject` lists pushkeys it answers as rejected."""

    def __init__(self):
        self.received = []
        self.fail_next = 0
        self.reject = set()
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with gateway.lock:
                    if self.path != GATEWAY_PATH:
                        code, reply = 404, {}
                    elif gateway.fail_next > 0:
                        gateway.fail_next -= 1
                        code, reply = 500, {}
                    else:
                        gateway.received.append(body)
                        keys = [d["pushkey"] for d in body["notification"]["devices"]]
                        code, reply = 200, {"rejected": [k for k in keys if k in gateway.reject]}
                data = json.dumps(reply).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{GATEWAY_PATH}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, predicate, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [n["notification"] for n in self.received
                         if predicate(n["notification"])]
            if found:
                return found
            time.sleep(0.05)
        return []

    def close(self):
        self.server.shutdown()


class PushersTest(HomeserverTestCase):
    options = {"rooms.encryption_enabled_by_default": "false"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gateway = Gateway()
        cls.addClassCleanup(cls.gateway.close)

    def pusher(self, pushkey, **extra):
        body = {"pushkey": pushkey, "kind": "http", "app_id": "org.haven.test",
                "app_display_name": "Haven test", "device_display_name": "Phone",
                "lang": "en", "data": {"url": self.gateway.url, "format": "event_id_only"}}
        body.update(extra)
        return body

    def shared_room(self, alice, bob):
        room = self.ok(alice, "POST", "/createRoom", {"invite": [bob["user_id"]]})["room_id"]
        self.ok(bob, "POST", f"/join/{quote(room)}", {})
        return room

    def send(self, who, room, text="hello"):
        return self.ok(who, "PUT", f"/rooms/{quote(room)}/send/m.room.message/{unique('t')}",
                       {"msgtype": "m.text", "body": text})["event_id"]

    def test_pusher_is_set_listed_and_deleted(self):
        bob = self.user()
        key = unique("key")
        self.ok(bob, "POST", "/pushers/set", self.pusher(key, profile_tag="tag"))
        listed = self.ok(bob, "GET", "/pushers")["pushers"]
        self.assertEqual(len(listed), 1)
        self.assertEqual(listed[0]["pushkey"], key)
        self.assertEqual(listed[0]["data"]["url"], self.gateway.url)
        self.assertEqual(listed[0]["profile_tag"], "tag")
        self.ok(bob, "POST", "/pushers/set", {"pushkey": key, "app_id": "org.haven.test",
                                              "kind": None})
        self.assertEqual(self.ok(bob, "GET", "/pushers")["pushers"], [])

    def test_same_pushkey_moves_between_users_unless_appended(self):
        alice, bob = self.user(), self.user()
        key = unique("shared")
        self.ok(alice, "POST", "/pushers/set", self.pusher(key))
        self.ok(bob, "POST", "/pushers/set", self.pusher(key))
        self.assertEqual(self.ok(alice, "GET", "/pushers")["pushers"], [])
        self.ok(alice, "POST", "/pushers/set", self.pusher(key, append=True))
        self.assertEqual(len(self.ok(bob, "GET", "/pushers")["pushers"]), 1)
        self.assertEqual(len(self.ok(alice, "GET", "/pushers")["pushers"]), 1)

    def test_bad_pushers_are_refused(self):
        bob = self.user()
        good = self.pusher(unique("k"))
        cases = [
            ({k: v for k, v in good.items() if k != "pushkey"}, 400, "M_MISSING_PARAM"),
            ({k: v for k, v in good.items() if k != "kind"}, 400, "M_MISSING_PARAM"),
            ({**good, "kind": "email"}, 400, "M_INVALID_PARAM"),
            ({**good, "kind": 5}, 400, "M_BAD_JSON"),
            ({**good, "data": {}}, 400, "M_MISSING_PARAM"),
            ({**good, "data": {"url": "ftp://x/_matrix/push/v1/notify"}}, 400, "M_INVALID_PARAM"),
            ({**good, "data": {"url": "http://127.0.0.1:1/elsewhere"}}, 400, "M_INVALID_PARAM"),
            ({**good, "pushkey": "k" * 600}, 400, "M_INVALID_PARAM"),
            ({**good, "append": "yes"}, 400, "M_BAD_JSON"),
        ]
        for body, status, errcode in cases:
            with self.subTest(body=body):
                self.assertError(self.req(bob, "POST", "/pushers/set", body), status, errcode)
        self.assertEqual(self.ok(bob, "GET", "/pushers")["pushers"], [])
        self.assertError(self.client.request("GET", V3 + "/pushers"), 401, "M_MISSING_TOKEN")

    def test_message_reaches_the_gateway_as_event_id_only(self):
        alice, bob = self.user(), self.user()
        room = self.shared_room(alice, bob)
        key = unique("bobkey")
        self.ok(bob, "POST", "/pushers/set", self.pusher(key))
        event_id = self.send(alice, room, "a private medical detail")
        got = self.gateway.wait_for(lambda n: n.get("event_id") == event_id)
        self.assertEqual(len(got), 1, "exactly one notification for bob's one pusher")
        n = got[0]
        self.assertEqual(n["room_id"], room)
        self.assertEqual(n["counts"]["unread"], 1)
        self.assertEqual(n["devices"][0]["pushkey"], key)
        self.assertEqual(n["devices"][0]["data"], {"format": "event_id_only"})
        for leak in ("content", "sender", "sender_display_name", "room_name", "type"):
            self.assertNotIn(leak, n)
        self.assertNotIn("medical", json.dumps(n))
        # The sender's own message and events the rules do not notify for push nothing.
        alice_key = unique("alicekey")
        self.ok(alice, "POST", "/pushers/set", self.pusher(alice_key))
        own = self.send(alice, room, "mine")
        topic = self.ok(alice, "PUT", f"/rooms/{quote(room)}/state/m.room.topic/",
                        {"topic": "t"})["event_id"]
        marker = self.send(bob, room, "after")
        self.assertTrue(self.gateway.wait_for(lambda n: n.get("event_id") == marker))
        self.assertEqual(self.gateway.wait_for(
            lambda n: n.get("event_id") == topic or
            (n.get("event_id") == own and n["devices"][0]["pushkey"] == alice_key),
            timeout=0.5), [])

    def test_failed_delivery_is_retried(self):
        alice, bob = self.user(), self.user()
        room = self.shared_room(alice, bob)
        self.ok(bob, "POST", "/pushers/set", self.pusher(unique("retry")))
        with self.gateway.lock:
            self.gateway.fail_next = 2
        event_id = self.send(alice, room)
        self.assertTrue(self.gateway.wait_for(lambda n: n.get("event_id") == event_id,
                                              timeout=20), "not delivered after the gateway recovered")

    def test_rejected_pushkey_is_removed(self):
        alice, bob = self.user(), self.user()
        room = self.shared_room(alice, bob)
        key = unique("stale")
        self.ok(bob, "POST", "/pushers/set", self.pusher(key))
        with self.gateway.lock:
            self.gateway.reject.add(key)
        event_id = self.send(alice, room)
        self.assertTrue(self.gateway.wait_for(lambda n: n.get("event_id") == event_id))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.ok(bob, "GET", "/pushers")["pushers"]:
            time.sleep(0.05)
        self.assertEqual(self.ok(bob, "GET", "/pushers")["pushers"], [])


if __name__ == "__main__":
    unittest.main()
