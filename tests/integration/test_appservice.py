"""Application Service API: registration files (bad ones stop start-up with one clear line),
as_token authentication and user_id/device_id masquerading, m.login.application_service
registration and login, exclusive namespaces (M_EXCLUSIVE), rate_limited: false, the ping both
ways, user and alias queries, MSC4190 device management, and the transactions a test
appservice (a Python HTTP server standing in for a bridge) receives: events in its scope, in
order, retried unchanged under the same id, kept while it is down and across a haven restart,
with to-device messages and ephemeral events when it asks for them."""

import json
import os
import socket
import tempfile
import threading
import time
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import Homeserver, HomeserverTestCase, free_port, quote, unique

WAIT_S = 60


class TestAppservice:
    """An application service double on a loopback port: checks the hs_token, records
    transactions, pings and queries. `fail_next` answers that many transactions with 500;
    stop()/start() make it unreachable and reachable again on the same port. `on_user_query`
    (user_id -> bool) decides the answer to user queries."""

    def __init__(self, hs_token):
        self.hs_token = hs_token
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.transactions = []  # (txn_id, body) in arrival order, duplicates included
        self.pings = []
        self.user_queries = []
        self.alias_queries = []
        self.fail_next = 0
        self.ping_status = 200
        self.on_user_query = lambda user_id: False
        self.lock = threading.Lock()
        self.httpd = None

    def _handler(self):
        service = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, code, reply):
                data = json.dumps(reply).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self):
                if self.headers.get("Authorization") != f"Bearer {service.hs_token}":
                    self._answer(403, {"errcode": "M_FORBIDDEN", "error": "bad hs_token"})
                    return False
                return True

            def _body(self):
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length)) if length else {}

            def do_PUT(self):
                body = self._body()
                if not self._authorised():
                    return
                prefix = "/_matrix/app/v1/transactions/"
                if not self.path.startswith(prefix):
                    return self._answer(404, {"errcode": "M_UNRECOGNIZED"})
                txn_id = urllib.parse.unquote(self.path[len(prefix):])
                with service.lock:
                    service.transactions.append((txn_id, body))
                    if service.fail_next > 0:
                        service.fail_next -= 1
                        return self._answer(500, {"errcode": "M_UNKNOWN"})
                self._answer(200, {})

            def do_POST(self):
                body = self._body()
                if self.path != "/_matrix/app/v1/ping":
                    return self._answer(404, {"errcode": "M_UNRECOGNIZED"})
                if service.ping_status != 200:
                    return self._answer(service.ping_status, {"errcode": "M_FORBIDDEN"})
                if not self._authorised():
                    return
                with service.lock:
                    service.pings.append(body)
                self._answer(200, {})

            def do_GET(self):
                if not self._authorised():
                    return
                path = urllib.parse.unquote(self.path)
                if path.startswith("/_matrix/app/v1/users/"):
                    user_id = path[len("/_matrix/app/v1/users/"):]
                    with service.lock:
                        service.user_queries.append(user_id)
                    if service.on_user_query(user_id):
                        return self._answer(200, {})
                elif path.startswith("/_matrix/app/v1/rooms/"):
                    with service.lock:
                        service.alias_queries.append(path[len("/_matrix/app/v1/rooms/"):])
                self._answer(404, {"errcode": "M_NOT_FOUND"})

            def log_message(self, *args):
                pass

        return Handler

    def start(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.httpd.allow_reuse_address = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def events(self):
        """Every event delivered in accepted transactions, once per transaction id."""
        seen, out = set(), []
        with self.lock:
            for txn_id, body in self.transactions:
                if txn_id in seen:
                    continue
                seen.add(txn_id)
                out.extend(body.get("events", []))
        return out

    def bodies(self):
        with self.lock:
            return [body for _, body in self.transactions]

    def wait_for(self, predicate, what):
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(0.05)
        raise AssertionError(f"the appservice never received {what}")


def write_registration(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def registration_yaml(service_id, url, as_token, hs_token, extra=""):
    return (f"id: {service_id}\n"
            f"url: {url}\n"
            f"as_token: {as_token}\n"
            f"hs_token: {hs_token}\n"
            f"sender_localpart: _{service_id}_bot\n"
            f"rate_limited: false\n"
            f"receive_ephemeral: true\n"
            f"namespaces:\n"
            f"  users:\n"
            f"    - exclusive: true\n"
            f"      regex: '@_{service_id}_.*'\n"
            f"  aliases:\n"
            f"    - exclusive: true\n"
            f"      regex: '#_{service_id}_.*'\n"
            f"  rooms: []\n" + extra)


class AppserviceTestCase(HomeserverTestCase):
    """A haven with one registered appservice ("bridge") whose double runs beside it."""

    service_id = "bridge"
    as_token = "as_token_for_the_bridge_0123456789"
    hs_token = "hs_token_for_the_bridge_9876543210"
    extra_options = {}
    registration_extra = ""

    @classmethod
    def setUpClass(cls):
        cls.service = TestAppservice(cls.hs_token)
        cls.service.start()
        cls.reg_dir = tempfile.mkdtemp(prefix="haven-as-")
        path = write_registration(cls.reg_dir, "bridge.yaml", registration_yaml(
            cls.service_id, cls.service.url, cls.as_token, cls.hs_token, cls.registration_extra))
        cls.options = {"app_service_config_files": json.dumps([path]), **cls.extra_options}
        super().setUpClass()
        cls.domain = cls.server.server_name

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.service.stop()

    def bridge_user(self, name=None):
        """Registers @_bridge_<name> through the appservice; returns its user id."""
        localpart = f"_{self.service_id}_{name or unique('u')}"
        status, reply = self.as_req("POST", "/_matrix/client/v3/register",
                                    {"type": "m.login.application_service",
                                     "username": localpart, "inhibit_login": True})
        self.assertEqual(status, 200, reply)
        return reply["user_id"]

    def as_req(self, method, path, body=None, user_id=None, token=None, device_id=None):
        full = path if path.startswith("/_") else "/_matrix/client/v3" + path
        query = {}
        if user_id:
            query["user_id"] = user_id
        if device_id:
            query["device_id"] = device_id
        if query:
            full += ("&" if "?" in full else "?") + urllib.parse.urlencode(query)
        return self.client.request(method, full, body, token=token or self.as_token)

    def as_ok(self, method, path, body=None, user_id=None, device_id=None):
        status, reply = self.as_req(method, path, body, user_id, device_id=device_id)
        self.assertEqual(status, 200, f"{method} {path}: {reply}")
        return reply

    def room_with_bridge_user(self):
        """A room made by a normal user with a bridge user joined; returns (alice, room, bot)."""
        alice = self.user("alice")
        room = self.ok(alice, "POST", "/createRoom", {"preset": "private_chat"})["room_id"]
        bot = self.bridge_user()
        self.ok(alice, "POST", f"/rooms/{quote(room)}/invite", {"user_id": bot})
        self.as_ok("POST", f"/rooms/{quote(room)}/join", {}, user_id=bot)
        return alice, room, bot

    def send_text(self, who, room, text):
        txn = unique("t")
        return self.ok(who, "PUT", f"/rooms/{quote(room)}/send/m.room.message/{txn}",
                       {"msgtype": "m.text", "body": text})["event_id"]

    def delivered_ids(self):
        return [e["event_id"] for e in self.service.events()]


class AuthenticationTest(AppserviceTestCase):
    extra_options = {"rate_limits.rc_message.per_second": "0.001",
                     "rate_limits.rc_message.burst_count": "3"}

    def test_the_as_token_acts_as_the_sender_user(self):
        reply = self.as_ok("GET", "/account/whoami")
        self.assertEqual(reply["user_id"], f"@_bridge_bot:{self.domain}")

    def test_a_wrong_as_token_is_an_unknown_token(self):
        self.assertError(self.as_req("GET", "/account/whoami", token="not_the_as_token"),
                         401, "M_UNKNOWN_TOKEN")

    def test_masquerading_outside_the_namespace_is_forbidden(self):
        alice = self.user("alice")
        self.assertError(self.as_req("GET", "/account/whoami", user_id=alice["user_id"]),
                         403, "M_FORBIDDEN")

    def test_masquerading_as_an_unregistered_user_is_forbidden(self):
        self.assertError(self.as_req("GET", "/account/whoami",
                                     user_id=f"@_bridge_nobody:{self.domain}"),
                         403, "M_FORBIDDEN")

    def test_register_and_masquerade_as_a_namespace_user(self):
        bot = self.bridge_user("masq")
        self.assertEqual(self.as_ok("GET", "/account/whoami", user_id=bot)["user_id"], bot)

    def test_register_outside_the_namespace_is_exclusive(self):
        status, reply = self.as_req("POST", "/register", {
            "type": "m.login.application_service", "username": unique("plain"),
            "inhibit_login": True})
        self.assertError((status, reply), 400, "M_EXCLUSIVE")

    def test_register_needs_a_valid_as_token(self):
        body = {"type": "m.login.application_service", "username": "_bridge_x1",
                "inhibit_login": True}
        self.assertError(self.client.request("POST", "/_matrix/client/v3/register", body),
                         401, "M_MISSING_TOKEN")
        self.assertError(self.as_req("POST", "/register", body, token="wrong"),
                         401, "M_UNKNOWN_TOKEN")

    def test_normal_users_cannot_take_an_exclusive_user_id(self):
        status, reply = self.client.register_flow("_bridge_squatter", "pw-pw-pw-pw")
        self.assertError((status, reply), 400, "M_EXCLUSIVE")
        self.assertError(self.client.request(
            "GET", "/_matrix/client/v3/register/available?username=_bridge_squatter"),
            400, "M_EXCLUSIVE")

    def test_exclusive_aliases(self):
        alice = self.user("alice")
        room = self.ok(alice, "POST", "/createRoom", {})["room_id"]
        self.assertError(self.req(alice, "PUT", f"/directory/room/{quote('#_bridge_x:' + self.domain)}",
                                  {"room_id": room}), 400, "M_EXCLUSIVE")
        # The service itself, outside its alias namespace.
        self.assertError(self.as_req("PUT", f"/directory/room/{quote('#plain:' + self.domain)}",
                                     {"room_id": room}), 400, "M_EXCLUSIVE")

    def test_device_id_masquerading(self):
        bot = self.bridge_user()
        self.assertError(self.as_req("GET", "/account/whoami", user_id=bot, device_id="NOPE"),
                         400, "M_UNKNOWN_DEVICE")
        status, _ = self.as_req("PUT", "/devices/BRIDGEDEV", {"display_name": "bridge"},
                                user_id=bot)
        self.assertEqual(status, 201)
        reply = self.as_ok("GET", "/account/whoami", user_id=bot, device_id="BRIDGEDEV")
        self.assertEqual((reply["user_id"], reply["device_id"]), (bot, "BRIDGEDEV"))

    def test_appservice_device_management_needs_no_uia(self):
        bot = self.bridge_user()
        status, _ = self.as_req("PUT", "/devices/D1", {}, user_id=bot)
        self.assertEqual(status, 201)
        status, _ = self.as_req("PUT", "/devices/D1", {"display_name": "renamed"}, user_id=bot)
        self.assertEqual(status, 200)
        devices = self.as_ok("GET", "/devices", user_id=bot)["devices"]
        self.assertEqual([(d["device_id"], d.get("display_name")) for d in devices],
                         [("D1", "renamed")])
        self.as_ok("DELETE", "/devices/D1", {}, user_id=bot)
        self.assertEqual(self.as_ok("GET", "/devices", user_id=bot)["devices"], [])
        # A normal user still meets UIA, and cannot create devices this way.
        alice = self.user("alice")
        self.assertError(self.req(alice, "PUT", "/devices/NEWONE", {}), 404, "M_NOT_FOUND")
        status, reply = self.req(alice, "DELETE", f"/devices/{alice['device_id']}", {})
        self.assertEqual(status, 401)
        self.assertIn("flows", reply)

    def test_login_as_a_namespace_user(self):
        bot = self.bridge_user()
        status, reply = self.as_req("POST", "/login", {
            "type": "m.login.application_service",
            "identifier": {"type": "m.id.user", "user": bot}})
        self.assertEqual(status, 200, reply)
        self.assertEqual(self.client.whoami(reply["access_token"])[1]["user_id"], bot)
        alice = self.user("alice")
        self.assertError(self.as_req("POST", "/login", {
            "type": "m.login.application_service",
            "identifier": {"type": "m.id.user", "user": alice["user_id"]}}), 400, "M_EXCLUSIVE")
        self.assertError(self.client.request("POST", "/_matrix/client/v3/login", {
            "type": "m.login.application_service",
            "identifier": {"type": "m.id.user", "user": bot}}), 401, "M_MISSING_TOKEN")

    def test_rate_limited_false_exempts_the_services_users(self):
        alice, room, bot = self.room_with_bridge_user()
        for i in range(8):
            status, reply = self.as_req("PUT", f"/rooms/{quote(room)}/send/m.room.message/r{i}",
                                        {"msgtype": "m.text", "body": "x"}, user_id=bot)
            self.assertEqual(status, 200, reply)
        codes = []
        for i in range(8):
            codes.append(self.req(alice, "PUT", f"/rooms/{quote(room)}/send/m.room.message/a{i}",
                                  {"msgtype": "m.text", "body": "x"})[0])
        self.assertIn(429, codes)

    def test_thirdparty_lookups_are_empty(self):
        alice = self.user("alice")
        self.assertEqual(self.ok(alice, "GET", "/thirdparty/protocols"), {})
        self.assertEqual(self.ok(alice, "GET", "/thirdparty/location/irc"), [])
        self.assertEqual(self.ok(alice, "GET", "/thirdparty/user"), [])


class PingAndQueryTest(AppserviceTestCase):

    def test_ping_reaches_the_service_with_its_hs_token(self):
        reply = self.as_ok("POST", "/_matrix/client/v1/appservice/bridge/ping",
                           {"transaction_id": "meow"})
        self.assertIsInstance(reply["duration_ms"], int)
        self.assertIn({"transaction_id": "meow"}, self.service.pings)

    def test_ping_of_another_service_is_forbidden(self):
        self.assertError(self.as_req("POST", "/_matrix/client/v1/appservice/other/ping", {}),
                         403, "M_FORBIDDEN")
        alice = self.user("alice")
        self.assertError(self.req(alice, "POST", "/_matrix/client/v1/appservice/bridge/ping", {}),
                         403, "M_FORBIDDEN")

    def test_ping_reports_a_bad_status(self):
        self.service.ping_status = 403
        try:
            status, reply = self.as_req("POST", "/_matrix/client/v1/appservice/bridge/ping", {})
        finally:
            self.service.ping_status = 200
        self.assertError((status, reply), 502, "M_BAD_STATUS")
        self.assertEqual(reply["status"], 403)
        self.assertIn("M_FORBIDDEN", reply["body"])

    def test_user_query_lets_the_service_create_the_user(self):
        wanted = f"@_bridge_queried:{self.domain}"

        def create(user_id):
            if user_id != wanted:
                return False
            status, _ = self.as_req("POST", "/register", {
                "type": "m.login.application_service", "username": "_bridge_queried",
                "inhibit_login": True})
            return status == 200

        self.service.on_user_query = create
        status, reply = self.client.request("GET", f"/_matrix/client/v3/profile/{quote(wanted)}")
        self.assertEqual(status, 200, reply)
        self.assertIn(wanted, self.service.user_queries)
        # A user outside every namespace is not asked about.
        self.client.request("GET", f"/_matrix/client/v3/profile/{quote('@nobody:' + self.domain)}")
        self.assertNotIn(f"@nobody:{self.domain}", self.service.user_queries)

    def test_alias_query_asks_the_service(self):
        alias = f"#_bridge_chan:{self.domain}"
        status, reply = self.client.request(
            "GET", f"/_matrix/client/v3/directory/room/{quote(alias)}")
        self.assertError((status, reply), 404, "M_NOT_FOUND")
        self.assertIn(alias, self.service.alias_queries)


class TransactionsTest(AppserviceTestCase):

    def test_messages_in_rooms_of_its_users_arrive_in_order(self):
        alice, room, bot = self.room_with_bridge_user()
        ids = [self.send_text(alice, room, f"hello {i}") for i in range(5)]
        self.service.wait_for(lambda: set(ids) <= set(self.delivered_ids()), "the messages")
        delivered = [i for i in self.delivered_ids() if i in ids]
        self.assertEqual(delivered, ids)
        event = next(e for e in self.service.events() if e["event_id"] == ids[0])
        self.assertEqual(event["room_id"], room)
        self.assertEqual(event["sender"], alice["user_id"])
        self.assertEqual(event["content"]["body"], "hello 0")

    def test_rooms_without_its_users_are_not_sent(self):
        bob = self.user("bob")
        room = self.ok(bob, "POST", "/createRoom", {})["room_id"]
        private = self.send_text(bob, room, "not for bridges")
        alice, shared, _ = self.room_with_bridge_user()
        marker = self.send_text(alice, shared, "marker")
        self.service.wait_for(lambda: marker in self.delivered_ids(), "the marker")
        self.assertNotIn(private, self.delivered_ids())

    def test_a_failed_transaction_is_retried_unchanged(self):
        alice, room, bot = self.room_with_bridge_user()
        self.service.wait_for(lambda: any(e.get("state_key") == bot and e["type"] == "m.room.member"
                                          and e["content"].get("membership") == "join"
                                          for e in self.service.events()), "the join")
        with self.service.lock:
            before = len(self.service.transactions)
            self.service.fail_next = 1
        sent = self.send_text(alice, room, "retry me")
        self.service.wait_for(lambda: len(self.service.transactions) >= before + 2, "a retry")
        with self.service.lock:
            first, second = self.service.transactions[before], self.service.transactions[before + 1]
        self.assertEqual(first, second)
        self.assertIn(sent, [e["event_id"] for e in first[1]["events"]])

    def test_typing_and_receipts_reach_a_service_receiving_ephemeral(self):
        alice, room, _ = self.room_with_bridge_user()
        event_id = self.send_text(alice, room, "read me")
        self.ok(alice, "PUT", f"/rooms/{quote(room)}/typing/{quote(alice['user_id'])}",
                {"typing": True, "timeout": 10000})
        self.ok(alice, "POST", f"/rooms/{quote(room)}/receipt/m.read/{quote(event_id)}", {})

        def ephemeral():
            return [e for b in self.service.bodies() for e in b.get("ephemeral", [])
                    if e.get("room_id") == room]

        self.service.wait_for(lambda: {"m.typing", "m.receipt"} <= {e["type"] for e in ephemeral()},
                              "typing and a receipt")
        typing = next(e for e in ephemeral() if e["type"] == "m.typing")
        self.assertEqual(typing["content"]["user_ids"], [alice["user_id"]])
        receipt = next(e for e in ephemeral() if e["type"] == "m.receipt")
        self.assertIn(alice["user_id"], receipt["content"][event_id]["m.read"])

    def test_to_device_messages_for_its_users_go_in_transactions(self):
        alice, room, bot = self.room_with_bridge_user()
        status, _ = self.as_req("PUT", "/devices/BOTDEV", {}, user_id=bot)
        self.assertEqual(status, 201)
        self.ok(alice, "PUT", f"/sendToDevice/m.test/{unique('td')}",
                {"messages": {bot: {"BOTDEV": {"secret": "s3"}}}})

        def to_device():
            return [m for b in self.service.bodies()
                    for m in b.get("de.sorunome.msc2409.to_device", []) if m["to_user_id"] == bot]

        self.service.wait_for(to_device, "the to-device message")
        message = to_device()[0]
        self.assertEqual((message["to_user_id"], message["to_device_id"]), (bot, "BOTDEV"))
        self.assertEqual((message["sender"], message["type"]), (alice["user_id"], "m.test"))
        self.assertEqual(message["content"], {"secret": "s3"})
        # A message for a device only the service can reach leaves the inbox: a restart does
        # not send it again.
        self.server.restart()
        self.as_ok("POST", "/_matrix/client/v1/appservice/bridge/ping", {})
        self.assertEqual(len(to_device()), 1)

    def test_a_device_with_its_own_token_syncs_and_the_service_gets_a_copy(self):
        alice, room, bot = self.room_with_bridge_user()
        status, login = self.as_req("POST", "/login", {
            "type": "m.login.application_service", "device_id": "SYNCDEV",
            "identifier": {"type": "m.id.user", "user": bot}})
        self.assertEqual(status, 200, login)
        self.ok(alice, "PUT", f"/sendToDevice/m.test/{unique('td')}",
                {"messages": {bot: {"SYNCDEV": {"secret": "s4"}}}})

        def copies():
            return [m["content"] for b in self.service.bodies()
                    for m in b.get("de.sorunome.msc2409.to_device", [])
                    if (m["to_user_id"], m["to_device_id"]) == (bot, "SYNCDEV")]

        self.service.wait_for(copies, "the service's copy")
        synced = self.ok(login, "GET", "/sync?timeout=0")
        self.assertEqual([e["content"] for e in synced["to_device"]["events"]], [{"secret": "s4"}])
        self.assertEqual(copies(), [{"secret": "s4"}])


    def test_no_device_lists_without_msc3202(self):
        alice, room, bot = self.room_with_bridge_user()
        second = self.client.login_ok(alice["user_id"])
        self.ok(second, "POST", "/logout", {})
        event_id = self.send_text(alice, room, "after the device change")
        self.service.wait_for(lambda: event_id in self.delivered_ids(), "the message")
        for body in self.service.bodies():
            self.assertNotIn("org.matrix.msc3202.device_lists", body)


class Msc3202Test(AppserviceTestCase):
    registration_extra = "org.matrix.msc3202: true\n"

    def test_key_counts_of_its_users_devices_come_with_transactions(self):
        alice, room, bot = self.room_with_bridge_user()
        status, _ = self.as_req("PUT", "/devices/KEYDEV", {}, user_id=bot)
        self.assertEqual(status, 201)
        # Keys belong to a device: without device_id the upload is refused.
        self.assertError(self.as_req("POST", "/keys/upload", {"one_time_keys": {}}, user_id=bot),
                         400, "M_INVALID_PARAM")
        self.as_ok("POST", "/keys/upload", {
            "one_time_keys": {"signed_curve25519:AAAA": {"key": "a"},
                              "signed_curve25519:AAAB": {"key": "b"}},
            "fallback_keys": {"signed_curve25519:FFFF": {"key": "f", "fallback": True}}},
            user_id=bot, device_id="KEYDEV")
        self.ok(alice, "PUT", f"/sendToDevice/m.test/{unique('td')}",
                {"messages": {bot: {"KEYDEV": {"hello": 1}}}})

        def with_to_device():  # the transaction carrying the message, sent after the upload
            for body in self.service.bodies():
                if body.get("de.sorunome.msc2409.to_device"):
                    return body
            return None

        body = self.service.wait_for(with_to_device, "the to-device message")
        self.assertEqual(body["org.matrix.msc3202.device_one_time_keys_count"][bot]["KEYDEV"],
                         {"signed_curve25519": 2})
        self.assertEqual(
            body["org.matrix.msc3202.device_unused_fallback_key_types"][bot]["KEYDEV"],
            ["signed_curve25519"])
        self.assertNotIn(alice["user_id"], body["org.matrix.msc3202.device_one_time_keys_count"])


    # --- org.matrix.msc3202.device_lists --------------------------------------------------------

    def device_lists(self, since_body=0):
        """The merged device_lists of the transactions received after the first `since_body`."""
        changed, left = set(), set()
        for body in self.service.bodies()[since_body:]:
            lists = body.get("org.matrix.msc3202.device_lists")
            if lists:
                for u in lists["changed"]:
                    changed.add(u)
                    left.discard(u)
                for u in lists["left"]:
                    left.add(u)
                    changed.discard(u)
        return changed, left

    def change_devices(self, who):
        """A new login and its logout: the user's device list changes twice."""
        second = self.client.login_ok(who["user_id"])
        self.ok(second, "POST", "/logout", {})

    def test_device_changes_of_users_sharing_a_room_are_sent(self):
        alice, room, bot = self.room_with_bridge_user()
        carol = self.user("carol")  # shares no room with any of the service's users
        mark = len(self.service.bodies())
        self.change_devices(carol)
        self.change_devices(alice)
        changed, _ = self.service.wait_for(
            lambda: alice["user_id"] in self.device_lists(mark)[0] and self.device_lists(mark),
            "alice's device change")
        self.assertNotIn(carol["user_id"], changed)
        self.assertNotIn(carol["user_id"], self.device_lists()[0])

    def test_a_user_who_shares_no_room_any_more_is_left(self):
        alice, room, bot = self.room_with_bridge_user()
        mark = len(self.service.bodies())
        self.ok(alice, "POST", f"/rooms/{quote(room)}/leave", {})
        self.service.wait_for(lambda: alice["user_id"] in self.device_lists(mark)[1],
                              "alice in device_lists.left")
        self.assertNotIn(alice["user_id"], self.device_lists(mark)[0])

    def test_device_list_changes_survive_the_service_being_down_and_a_restart(self):
        alice, room, bot = self.room_with_bridge_user()
        self.service.wait_for(lambda: self.service.events(), "the join")
        self.service.stop()
        mark = len(self.service.bodies())
        self.change_devices(alice)
        self.server.restart()
        self.service.start()
        self.as_ok("POST", "/_matrix/client/v1/appservice/bridge/ping", {})
        self.service.wait_for(lambda: alice["user_id"] in self.device_lists(mark)[0],
                              "alice's device change after the restart")


class QueueDurabilityTest(AppserviceTestCase):

    def test_nothing_is_lost_while_the_service_is_down_or_haven_restarts(self):
        alice, room, bot = self.room_with_bridge_user()
        status, _ = self.as_req("PUT", "/devices/BOTDEV", {}, user_id=bot)
        self.assertEqual(status, 201)
        self.service.wait_for(lambda: self.service.events(), "the join")
        self.service.stop()
        ids = [self.send_text(alice, room, f"while down {i}") for i in range(3)]
        self.ok(alice, "PUT", f"/sendToDevice/m.test/{unique('td')}",
                {"messages": {bot: {"BOTDEV": {"n": 1}}}})
        self.server.restart()
        ids += [self.send_text(alice, room, f"after restart {i}") for i in range(2)]
        self.service.start()
        self.as_ok("POST", "/_matrix/client/v1/appservice/bridge/ping", {})
        self.service.wait_for(lambda: set(ids) <= set(self.delivered_ids()), "every message")
        self.assertEqual([i for i in self.delivered_ids() if i in ids], ids)
        to_device = [m for b in self.service.bodies()
                     for m in b.get("de.sorunome.msc2409.to_device", [])]
        self.assertEqual([m["content"] for m in to_device], [{"n": 1}])


class BadRegistrationTest(unittest.TestCase):
    """A bad registration file stops `haven serve` with one line naming the file and key."""

    def start_with(self, *texts):
        directory = tempfile.mkdtemp(prefix="haven-as-bad-")
        paths = [write_registration(directory, f"r{i}.yaml", t) for i, t in enumerate(texts)]
        server = Homeserver({"app_service_config_files": json.dumps(paths)})
        self.addCleanup(server.cleanup)
        with self.assertRaises(RuntimeError):
            server.start()
        lines = [l for l in server.log_text().splitlines() if "app_service_config_files" in l]
        self.assertEqual(len(lines), 1, server.log_text())
        return lines[0]

    def good(self, service_id="a", as_token="at_aaaa", hs_token="ht_aaaa"):
        return registration_yaml(service_id, "http://127.0.0.1:9", as_token, hs_token)

    def test_missing_as_token(self):
        text = self.good().replace("as_token: at_aaaa\n", "")
        self.assertIn("as_token: is required", self.start_with(text))

    def test_invalid_regex(self):
        text = self.good().replace("'@_a_.*'", "'@_a_(['")
        self.assertIn("namespaces.users[0].regex: invalid regular expression",
                      self.start_with(text))

    def test_exclusive_must_be_given(self):
        text = self.good().replace("    - exclusive: true\n      regex: '@_a_.*'",
                                   "    - regex: '@_a_.*'")
        self.assertIn("namespaces.users[0].exclusive: is required", self.start_with(text))

    def test_url_must_be_http(self):
        text = self.good().replace("http://127.0.0.1:9", "ftp://example.org")
        self.assertIn("url: expected an http:// or https:// URL", self.start_with(text))

    def test_duplicate_ids_and_tokens(self):
        self.assertIn("have the same id 'a'",
                      self.start_with(self.good(), self.good(as_token="at_b", hs_token="ht_b")))
        self.assertIn("have the same as_token",
                      self.start_with(self.good(), self.good(service_id="b", hs_token="ht_b")))

    def test_missing_file_and_bad_yaml(self):
        directory = tempfile.mkdtemp(prefix="haven-as-bad-")
        server = Homeserver({"app_service_config_files":
                             json.dumps([os.path.join(directory, "absent.yaml")])})
        self.addCleanup(server.cleanup)
        with self.assertRaises(RuntimeError):
            server.start()
        self.assertIn("absent.yaml: cannot read", server.log_text())
        self.assertIn("invalid YAML", self.start_with("id: [unclosed\n"))


if __name__ == "__main__":
    unittest.main()
