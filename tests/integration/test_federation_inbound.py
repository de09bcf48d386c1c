"""Receiving room events over federation: PUT /send (authentication, limits, PDUs checked in
the spec's order, transaction dedupe, EDUs) and the endpoints other servers read a room with
(/event, /state, /state_ids, /event_auth, /backfill, /get_missing_events).

Two `haven` instances on loopback: hs1.test holds the rooms (its local user creates them) and
hs2.test only serves its keys. The test speaks for hs2.test: it builds PDUs of hs2's users,
hashes and signs them with hs2's signing key (read from its data directory) and signs the
X-Matrix requests the same way; hs1 fetches hs2's key from hs2 to check them.
"""

import base64
import hashlib
import http.client
import json
import os
import shutil
import ssl
import tempfile
import threading
import time
import unittest

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from harness import Homeserver, free_port, quote, unique
from federation_harness import b64decode, b64encode, canonical, make_certificate, yaml_list

NAMES = ["hs1.test", "hs2.test"]

# Top-level keys a v11+ redaction keeps, and the content keys it keeps per type (the types a
# public_chat room and these tests have; the create event keeps all its content).
KEPT_KEYS = {"event_id", "type", "room_id", "sender", "state_key", "content", "hashes",
             "signatures", "depth", "prev_events", "auth_events", "origin_server_ts"}
KEPT_CONTENT = {"m.room.member": {"membership", "join_authorised_via_users_server"},
                "m.room.power_levels": {"ban", "events", "events_default", "invite", "kick",
                                        "redact", "state_default", "users", "users_default"},
                "m.room.join_rules": {"join_rule", "allow"},
                "m.room.history_visibility": {"history_visibility"}}


def redact(pdu):
    out = {k: v for k, v in pdu.items() if k in KEPT_KEYS}
    if pdu["type"] == "m.room.create":
        return out
    keep = KEPT_CONTENT.get(pdu["type"], set())
    out["content"] = {k: v for k, v in pdu["content"].items() if k in keep}
    return out


def event_id_of(pdu):
    redacted = {k: v for k, v in redact(pdu).items() if k not in ("signatures", "unsigned")}
    digest = hashlib.sha256(canonical(redacted)).digest()
    return "$" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


class FederationInboundTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="haven-fedin-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.fed_port = {name: free_port() for name in NAMES}
        cls.cert = {name: make_certificate(cls.tmp, name) for name in NAMES}
        overrides = [f"{n}=127.0.0.1:{p}" for n, p in cls.fed_port.items()]
        cls.servers = {}
        for name, other in zip(NAMES, reversed(NAMES)):
            server = Homeserver({
                "server_name": json.dumps(name),
                "listeners.federation.port": str(cls.fed_port[name]),
                "listeners.federation.tls_certificate_path": json.dumps(cls.cert[name][0]),
                "listeners.federation.tls_private_key_path": json.dumps(cls.cert[name][1]),
                "federation.verify_certificates": "false",
                "federation.test_host_overrides": yaml_list(overrides),
                "federation.allowed_servers": yaml_list([other]),
                "federation.insecure_test_servers": yaml_list([other]),
            })
            cls.addClassCleanup(server.cleanup)
            server.start()
            cls.servers[name] = server
        cls.hs1 = cls.servers["hs1.test"].client()
        path = os.path.join(cls.servers["hs2.test"].data_dir, "signing.key")
        with open(path) as f:
            algorithm, version, seed = f.read().split()
        cls.key_id = f"{algorithm}:{version}"
        cls.key = Ed25519PrivateKey.from_private_bytes(b64decode(seed))
        cls.depth = 1000

    @classmethod
    def tearDownClass(cls):
        for server in cls.servers.values():
            if server.running():
                server.stop()

    # --- speaking for hs2.test --------------------------------------------------------------

    def fed(self, method, target, body=None, origin="hs2.test", key=None, auth=True):
        """A request to hs1's federation listener, X-Matrix signed as `origin`."""
        headers = {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if auth:
            key_id, private = key or (self.key_id, self.key)
            request = {"method": method, "uri": target, "origin": origin,
                       "destination": "hs1.test"}
            if body is not None:
                request["content"] = body
            sig = b64encode(private.sign(canonical(request)))
            headers["Authorization"] = (f'X-Matrix origin="{origin}",destination="hs1.test",'
                                        f'key="{key_id}",sig="{sig}"')
        context = ssl.create_default_context(cafile=self.cert["hs1.test"][0])
        context.check_hostname = False
        conn = http.client.HTTPSConnection("127.0.0.1", self.fed_port["hs1.test"],
                                           context=context, timeout=120)
        try:
            conn.request(method, target, body=canonical(body) if body is not None else None,
                         headers=headers)
            response = conn.getresponse()
            payload = response.read()
        finally:
            conn.close()
        return response.status, (json.loads(payload) if payload else None)

    def fed_ok(self, method, target, body=None):
        status, reply = self.fed(method, target, body)
        self.assertEqual(status, 200, f"{method} {target}: {reply}")
        return reply

    def send(self, pdus=(), edus=(), txn_id=None):
        """PUT /send with these PDUs and EDUs; the answer's "pdus"."""
        txn_id = txn_id or unique("txn")
        body = {"origin": "hs2.test", "origin_server_ts": int(time.time() * 1000),
                "pdus": list(pdus), "edus": list(edus)}
        reply = self.fed_ok("PUT", f"/_matrix/federation/v1/send/{txn_id}", body)
        return reply["pdus"]

    def pdu(self, room, sender, type_, content, state_key=None, prev_events=None,
            auth_types=None, key=None, extra_auth=()):
        """A PDU of hs2, its auth events taken from hs1's current state (as the client API
        shows it) plus `extra_auth`, hashed and signed with hs2's key (or `key`)."""
        state = {(e["type"], e["state_key"]): e["event_id"] for e in self.room_state(room)}
        if auth_types is None:
            auth_types = [("m.room.power_levels", ""), ("m.room.member", sender)]
            if type_ == "m.room.member":
                auth_types.append(("m.room.join_rules", ""))
        pdu = {
            "auth_events": [state[t] for t in auth_types if t in state] + list(extra_auth),
            "content": content,
            "depth": self.next_depth(),
            "origin_server_ts": int(time.time() * 1000),
            "prev_events": prev_events or [self.latest_event(room)],
            "room_id": room,
            "sender": sender,
            "type": type_,
        }
        if state_key is not None:
            pdu["state_key"] = state_key
        hashed = {k: v for k, v in pdu.items() if k not in ("unsigned", "signatures", "hashes")}
        pdu["hashes"] = {"sha256": b64encode(hashlib.sha256(canonical(hashed)).digest())}
        key_id, private = key or (self.key_id, self.key)
        signed = {k: v for k, v in redact(pdu).items() if k not in ("signatures", "unsigned")}
        pdu["signatures"] = {"hs2.test": {key_id: b64encode(private.sign(canonical(signed)))}}
        return pdu

    @classmethod
    def next_depth(cls):
        cls.depth += 1
        return cls.depth

    # --- hs1's side, through its client API ---------------------------------------------

    def alice_room(self):
        """A public room on hs1 created by a new local user: (user, room id)."""
        alice = self.hs1.register(unique("alice"))
        status, reply = self.hs1.request("POST", "/_matrix/client/v3/createRoom",
                                         {"preset": "public_chat"}, token=alice["access_token"])
        self.assertEqual(status, 200, reply)
        return alice, reply["room_id"]

    def room_state(self, room):
        status, reply = self.hs1.request("GET", f"/_matrix/client/v3/rooms/{quote(room)}/state",
                                         token=self.owner[room]["access_token"])
        self.assertEqual(status, 200, reply)
        return reply

    def latest_event(self, room):
        return self.messages(room, 1)[0]["event_id"]

    def messages(self, room, limit=20):
        status, reply = self.hs1.request(
            "GET", f"/_matrix/client/v3/rooms/{quote(room)}/messages?dir=b&limit={limit}",
            token=self.owner[room]["access_token"])
        self.assertEqual(status, 200, reply)
        return reply["chunk"]

    def joined_room(self):
        """alice's room with @bob:hs2.test joined through /send: (alice, room, bob, join id)."""
        alice, room = self.alice_room()
        self.owner[room] = alice
        bob = f"@{unique('bob')}:hs2.test"
        join = self.pdu(room, bob, "m.room.member", {"membership": "join"}, state_key=bob)
        result = self.send([join])
        self.assertEqual(result, {event_id_of(join): {}})
        return alice, room, bob, event_id_of(join)

    def setUp(self):
        if not hasattr(type(self), "owner"):
            type(self).owner = {}

    # --- /send: who may send, and what ------------------------------------------------------

    def test_send_needs_a_signed_request_from_an_allowed_server(self):
        target = "/_matrix/federation/v1/send/t1"
        body = {"origin": "hs2.test", "origin_server_ts": 1, "pdus": []}
        status, reply = self.fed("PUT", target, body, auth=False)
        self.assertEqual((status, reply["errcode"]), (401, "M_UNAUTHORIZED"))
        status, reply = self.fed("PUT", target, body,
                                 key=(self.key_id, Ed25519PrivateKey.generate()))
        self.assertEqual((status, reply["errcode"]), (401, "M_UNAUTHORIZED"))
        status, reply = self.fed("PUT", target, body, origin="hs3.test")
        self.assertEqual((status, reply["errcode"]), (403, "M_FORBIDDEN"))

    def test_transactions_are_bounded_and_must_hold_pdus(self):
        for body, errcode in (({"origin": "hs2.test", "origin_server_ts": 1}, "M_MISSING_PARAM"),
                              ({"pdus": {}}, "M_BAD_JSON"),
                              ({"pdus": [{}] * 51}, "M_BAD_JSON"),
                              ({"pdus": [], "edus": [{}] * 101}, "M_BAD_JSON")):
            with self.subTest(errcode=errcode, keys=sorted(body)):
                status, reply = self.fed("PUT", f"/_matrix/federation/v1/send/{unique('t')}",
                                         body)
                self.assertEqual((status, reply["errcode"]), (400, errcode), reply)

    def test_a_remote_user_joins_and_talks(self):
        alice, room, bob, join_id = self.joined_room()
        members = self.room_state(room)
        self.assertIn((bob, "join"), [(e["state_key"], e["content"].get("membership"))
                                      for e in members if e["type"] == "m.room.member"])
        message = self.pdu(room, bob, "m.room.message", {"msgtype": "m.text", "body": "hello"})
        txn_id = unique("txn")
        first = self.send([message], txn_id=txn_id)
        self.assertEqual(first, {event_id_of(message): {}})
        latest = self.messages(room, 1)[0]
        self.assertEqual((latest["event_id"], latest["sender"], latest["content"]["body"]),
                         (event_id_of(message), bob, "hello"))
        # The same transaction again gets the same answer and appends nothing.
        self.assertEqual(self.send([message], txn_id=txn_id), first)
        ids = [e["event_id"] for e in self.messages(room)]
        self.assertEqual(ids.count(event_id_of(message)), 1)

    def test_a_received_message_wakes_a_waiting_sync(self):
        alice, room, bob, join_id = self.joined_room()
        since = self.sync(alice)["next_batch"]
        result = {}

        def long_poll():
            # Each sync waits up to 90 s for news, but the client gives up after 30 s: only
            # wake-ups answer in time (other news may come first; then it syncs again).
            token = since
            for _ in range(10):
                status, reply = self.hs1.request(
                    "GET", f"/_matrix/client/v3/sync?timeout=90000&since={token}",
                    token=alice["access_token"], timeout=30)
                if status != 200:
                    result["error"] = reply
                    return
                token = reply["next_batch"]
                timeline = reply.get("rooms", {}).get("join", {}).get(room, {})
                events = timeline.get("timeline", {}).get("events", [])
                result.setdefault("seen", []).extend(e["event_id"] for e in events)
                if events:
                    return

        waiter = threading.Thread(target=long_poll)
        waiter.start()
        time.sleep(0.5)  # let the sync start waiting; it answers either way
        message = self.pdu(room, bob, "m.room.message", {"msgtype": "m.text", "body": "wake"})
        self.send([message])
        waiter.join()
        self.assertNotIn("error", result)
        self.assertIn(event_id_of(message), result.get("seen", []))

    def test_forged_signatures_are_dropped_and_tampered_content_is_redacted(self):
        alice, room, bob, join_id = self.joined_room()
        forged = self.pdu(room, bob, "m.room.message", {"msgtype": "m.text", "body": "forged"},
                          key=(self.key_id, Ed25519PrivateKey.generate()))
        tampered = self.pdu(room, bob, "m.room.message", {"msgtype": "m.text", "body": "real"})
        tampered["content"]["body"] = "changed after signing"
        result = self.send([forged, tampered])
        self.assertIn("signature", result[event_id_of(forged)]["error"])
        self.assertEqual(result[event_id_of(tampered)], {})
        events = {e["event_id"]: e for e in self.messages(room)}
        self.assertNotIn(event_id_of(forged), events)
        self.assertEqual(events[event_id_of(tampered)]["content"], {})

    def test_events_the_auth_rules_refuse_are_rejected(self):
        alice, room, bob, join_id = self.joined_room()
        power = self.pdu(room, bob, "m.room.power_levels", {"users": {bob: 100}}, state_key="")
        outsider = f"@{unique('eve')}:hs2.test"
        intruder = self.pdu(room, outsider, "m.room.message", {"msgtype": "m.text", "body": "x"})
        result = self.send([power, intruder])
        for pdu in (power, intruder):
            self.assertTrue(result[event_id_of(pdu)]["error"].startswith("Rejected"), result)
        ids = [e["event_id"] for e in self.messages(room)]
        self.assertNotIn(event_id_of(power), ids)
        self.assertNotIn(event_id_of(intruder), ids)

    def test_one_transaction_builds_on_itself_across_rooms(self):
        alice, room, bob, join_id = self.joined_room()
        other_alice, other_room, other_bob, other_join = self.joined_room()
        carol = f"@{unique('carol')}:hs2.test"
        # carol's join and her message citing it (prev and auth): hs1 has neither before.
        join = self.pdu(room, carol, "m.room.member", {"membership": "join"}, state_key=carol)
        message = self.pdu(room, carol, "m.room.message", {"msgtype": "m.text", "body": "hi"},
                           prev_events=[event_id_of(join)],
                           auth_types=[("m.room.power_levels", "")],
                           extra_auth=[event_id_of(join)])
        grab = self.pdu(room, bob, "m.room.power_levels", {"users": {bob: 100}}, state_key="",
                        prev_events=[event_id_of(message)])
        reply = self.pdu(room, bob, "m.room.message", {"msgtype": "m.text", "body": "hello C"},
                         prev_events=[event_id_of(message)])
        elsewhere = self.pdu(other_room, other_bob, "m.room.message",
                             {"msgtype": "m.text", "body": "other room"})
        result = self.send([join, elsewhere, message, grab, reply])
        for pdu in (join, elsewhere, message, reply):
            self.assertEqual(result[event_id_of(pdu)], {}, result)
        self.assertTrue(result[event_id_of(grab)]["error"].startswith("Rejected"), result)
        latest = [e["event_id"] for e in self.messages(room, 3)]
        self.assertEqual(latest, [event_id_of(p) for p in (reply, message, join)])
        members = {e["state_key"]: e["content"].get("membership")
                   for e in self.room_state(room) if e["type"] == "m.room.member"}
        self.assertEqual(members.get(carol), "join")
        self.assertEqual(self.latest_event(other_room), event_id_of(elsewhere))

    def test_a_pdu_of_an_unknown_room_is_not_taken(self):
        status, reply = self.fed("PUT", f"/_matrix/federation/v1/send/{unique('t')}",
                                 {"pdus": [{"room_id": "!nowhere:hs2.test", "type": "x"}]})
        self.assertEqual((status, reply), (200, {"pdus": {}}))

    # --- EDUs -----------------------------------------------------------------------------

    def sync(self, user, since=None):
        path = "/_matrix/client/v3/sync?timeout=0" + (f"&since={since}" if since else "")
        status, reply = self.hs1.request("GET", path, token=user["access_token"])
        self.assertEqual(status, 200, reply)
        return reply

    def test_typing_and_to_device_edus_reach_local_users(self):
        alice, room, bob, join_id = self.joined_room()
        since = self.sync(alice)["next_batch"]
        mallory = f"@{unique('mallory')}:hs1.test"  # not hs2's to speak for
        self.send(edus=[
            {"edu_type": "m.typing", "content": {"room_id": room, "user_id": bob, "typing": True}},
            {"edu_type": "m.direct_to_device",
             "content": {"sender": bob, "type": "m.test", "message_id": unique("m"),
                         "messages": {alice["user_id"]: {"*": {"hello": "device"}}}}},
            {"edu_type": "m.direct_to_device",
             "content": {"sender": mallory, "type": "m.test", "message_id": unique("m"),
                         "messages": {alice["user_id"]: {"*": {"hello": "forged"}}}}},
            {"edu_type": "m.unknown.type", "content": {}},
        ])
        reply = self.sync(alice, since)
        typing = [e for e in reply["rooms"]["join"][room]["ephemeral"]["events"]
                  if e["type"] == "m.typing"]
        self.assertEqual(typing[0]["content"]["user_ids"], [bob])
        to_device = reply["to_device"]["events"]
        self.assertEqual([(e["sender"], e["content"]) for e in to_device],
                         [(bob, {"hello": "device"})])

    def test_receipts_of_remote_users_reach_local_users(self):
        alice, room, bob, join_id = self.joined_room()
        since = self.sync(alice)["next_batch"]
        self.send(edus=[{"edu_type": "m.receipt", "content": {room: {"m.read": {
            bob: {"event_ids": [join_id], "data": {"ts": 1234}}}}}}])
        reply = self.sync(alice, since)
        receipts = [e for e in reply["rooms"]["join"][room]["ephemeral"]["events"]
                    if e["type"] == "m.receipt"]
        self.assertEqual(receipts[0]["content"][join_id]["m.read"][bob]["ts"], 1234)

    # --- reading a room ---------------------------------------------------------------------

    def test_a_server_in_the_room_reads_events_state_and_history(self):
        alice, room, bob, join_id = self.joined_room()
        message = self.pdu(room, bob, "m.room.message", {"msgtype": "m.text", "body": "hi"})
        self.send([message])
        msg_id = event_id_of(message)
        v1 = "/_matrix/federation/v1"

        reply = self.fed_ok("GET", f"{v1}/event/{quote(msg_id)}")
        self.assertEqual(reply["origin"], "hs1.test")
        self.assertEqual(event_id_of(reply["pdus"][0]), msg_id)

        state_ids = self.fed_ok("GET", f"{v1}/state_ids/{quote(room)}?event_id={quote(msg_id)}")
        client_state = {e["event_id"] for e in self.room_state(room)}
        self.assertEqual(set(state_ids["pdu_ids"]), client_state)
        self.assertIn(join_id, state_ids["pdu_ids"])
        state = self.fed_ok("GET", f"{v1}/state/{quote(room)}?event_id={quote(msg_id)}")
        self.assertEqual({event_id_of(p) for p in state["pdus"]}, client_state)
        self.assertEqual({event_id_of(p) for p in state["auth_chain"]},
                         set(state_ids["auth_chain_ids"]))

        chain = self.fed_ok("GET", f"{v1}/event_auth/{quote(room)}/{quote(msg_id)}")
        self.assertIn(join_id, {event_id_of(p) for p in chain["auth_chain"]})

        backfill = self.fed_ok("GET", f"{v1}/backfill/{quote(room)}?v={quote(msg_id)}&limit=3")
        ids = [event_id_of(p) for p in backfill["pdus"]]
        self.assertEqual(ids[:2], [msg_id, join_id])
        self.assertEqual(len(ids), 3)

        missing = self.fed_ok("POST", f"{v1}/get_missing_events/{quote(room)}",
                              {"earliest_events": [join_id], "latest_events": [msg_id],
                               "limit": 10})
        self.assertEqual(missing["events"], [])
        create = [e["event_id"] for e in self.room_state(room) if e["type"] == "m.room.create"]
        missing = self.fed_ok("POST", f"{v1}/get_missing_events/{quote(room)}",
                              {"earliest_events": create, "latest_events": [msg_id],
                               "limit": 2})
        self.assertEqual([event_id_of(p) for p in missing["events"]][:1], [join_id])
        self.assertEqual(len(missing["events"]), 2)

    def test_reads_are_refused_to_servers_outside_the_room_and_for_bad_requests(self):
        alice, room = self.alice_room()
        self.owner[room] = alice
        latest = self.latest_event(room)
        v1 = "/_matrix/federation/v1"
        for method, target, body in (
                ("GET", f"{v1}/state_ids/{quote(room)}?event_id={quote(latest)}", None),
                ("GET", f"{v1}/state/{quote(room)}?event_id={quote(latest)}", None),
                ("GET", f"{v1}/event_auth/{quote(room)}/{quote(latest)}", None),
                ("GET", f"{v1}/backfill/{quote(room)}?v={quote(latest)}&limit=5", None),
                ("POST", f"{v1}/get_missing_events/{quote(room)}",
                 {"earliest_events": [], "latest_events": [latest]})):
            with self.subTest(target=target):
                status, reply = self.fed(method, target, body)
                self.assertEqual((status, reply["errcode"]), (403, "M_FORBIDDEN"), reply)
        # The room is not world readable: its events are not shown to hs2 either.
        status, reply = self.fed("GET", f"{v1}/event/{quote(latest)}")
        self.assertEqual((status, reply["errcode"]), (403, "M_FORBIDDEN"), reply)

        alice, room, bob, join_id = self.joined_room()
        for method, target, body, expected in (
                ("GET", f"{v1}/state_ids/{quote(room)}", None, (400, "M_MISSING_PARAM")),
                ("GET", f"{v1}/state_ids/{quote('!nope:hs1.test')}?event_id={quote(join_id)}",
                 None, (404, "M_NOT_FOUND")),
                ("GET", f"{v1}/state_ids/{quote(room)}?event_id=%24nope", None,
                 (404, "M_NOT_FOUND")),
                ("GET", f"{v1}/event/%24nope", None, (404, "M_NOT_FOUND")),
                ("GET", f"{v1}/backfill/{quote(room)}?v={quote(join_id)}", None,
                 (400, "M_MISSING_PARAM")),
                ("GET", f"{v1}/backfill/{quote(room)}?v={quote(join_id)}&limit=x", None,
                 (400, "M_INVALID_PARAM")),
                ("POST", f"{v1}/get_missing_events/{quote(room)}", {"latest_events": []},
                 (400, "M_MISSING_PARAM")),
                ("POST", f"{v1}/get_missing_events/{quote(room)}",
                 {"earliest_events": [], "latest_events": [], "limit": -1},
                 (400, "M_INVALID_PARAM"))):
            with self.subTest(target=target, body=body):
                status, reply = self.fed(method, target, body)
                self.assertEqual((status, reply["errcode"]), expected, reply)


if __name__ == "__main__":
    unittest.main()
