"""Harness for tests with several federating `haven` instances on loopback.

Each server gets a server name (hs1.test, hs2.test, ...), its own client port, and a TLS
federation listener with a self-signed certificate made here with the openssl command. The
servers find each other through federation.test_host_overrides (name -> 127.0.0.1:port), skip
certificate checks only for each other (federation.insecure_test_servers) and list each other
in federation.allowed_servers. `FederationTestCase` starts them once per test class and gives
helpers to register users on either server, send requests as them, sync until something
shows up, and talk to a federation listener directly (signing requests here with a server's
own key). Signatures are checked here independently with the `cryptography` package.
"""

import base64
import hashlib
import http.client
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import time
import unittest

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (Ed25519PrivateKey,
                                                              Ed25519PublicKey)

from harness import Homeserver, free_port, haven_bin, quote, set_yaml_option, unique

SYNC_DEADLINE_S = 90  # how long sync_until waits for something that must come


def b64decode(text):
    return base64.b64decode(text + "=" * (-len(text) % 4))


def b64encode(raw):
    return base64.b64encode(raw).decode().rstrip("=")


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signature_valid(obj, server, key_id, public_key):
    """The spec's JSON signature check, done independently of haven."""
    signed = {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}
    try:
        sig = b64decode(obj["signatures"][server][key_id])
        Ed25519PublicKey.from_public_bytes(public_key).verify(sig, canonical(signed))
        return True
    except (KeyError, InvalidSignature, ValueError):
        return False


def make_certificate(directory, name):
    key = os.path.join(directory, f"{name}.key")
    cert = os.path.join(directory, f"{name}.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", f"/CN={name}", "-addext",
                    f"subjectAltName=DNS:{name}"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def yaml_list(values):
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


# Room versions 11 and 12: what redaction keeps (the spec's v11 redaction algorithm).
_KEPT_TOP_LEVEL = ("event_id", "type", "room_id", "sender", "state_key", "content", "hashes",
                   "signatures", "depth", "prev_events", "auth_events", "origin_server_ts")
_KEPT_CONTENT = {
    "m.room.member": ("membership", "join_authorised_via_users_server"),
    "m.room.join_rules": ("join_rule", "allow"),
    "m.room.power_levels": ("ban", "events", "events_default", "invite", "kick", "redact",
                            "state_default", "users", "users_default"),
    "m.room.history_visibility": ("history_visibility",),
    "m.room.redaction": ("redacts",),
}


def redact(event):
    """The redacted form of a v11/v12 PDU (m.room.create keeps all of its content)."""
    out = {k: v for k, v in event.items() if k in _KEPT_TOP_LEVEL}
    content = event.get("content", {})
    if event["type"] == "m.room.create":
        out["content"] = dict(content)
    else:
        kept = _KEPT_CONTENT.get(event["type"], ())
        out["content"] = {k: v for k, v in content.items() if k in kept}
    return out


def make_pdu(server, key, fields, tamper_content=None):
    """A v11/v12 PDU from `fields` (type, room_id, sender, content, prev_events, auth_events,
    depth, state_key...), hashed and signed here as `server` with `key` (key id, private key).
    `tamper_content` replaces the content after hashing and signing (a wrong content hash).
    Returns (pdu, event_id)."""
    event = dict(fields)
    event.setdefault("origin_server_ts", int(time.time() * 1000))
    unhashed = {k: v for k, v in event.items() if k not in ("signatures", "unsigned", "hashes")}
    event["hashes"] = {"sha256": b64encode(hashlib.sha256(canonical(unhashed)).digest())}
    redacted = redact(event)
    key_id, private = key
    event["signatures"] = {server: {key_id: b64encode(private.sign(canonical(redacted)))}}
    event_id = "$" + b64encode(hashlib.sha256(canonical(redacted)).digest()).replace(
        "+", "-").replace("/", "_")
    if tamper_content is not None:
        event["content"] = tamper_content
    return event, event_id


class FederatedServers:
    """Homeservers named `names`, each federating with the servers `federation[name]` says
    (dotted federation.* keys without the prefix -> lists); by default every server allows
    and skips certificate checks for every other one."""

    def __init__(self, names, federation=None, options=None, server_options=None):
        self.names = list(names)
        self.tmp = tempfile.mkdtemp(prefix="haven-fed-")
        self.fed_port = {name: free_port() for name in self.names}
        self.cert = {name: make_certificate(self.tmp, name) for name in self.names}
        overrides = [f"{n}=127.0.0.1:{p}" for n, p in self.fed_port.items()]
        self.servers = {}
        for name in self.names:
            others = [n for n in self.names if n != name]
            settings = {"allowed_servers": others, "insecure_test_servers": others}
            settings.update((federation or {}).get(name, {}))
            config = {
                "server_name": json.dumps(name),
                "listeners.federation.port": str(self.fed_port[name]),
                "listeners.federation.tls_certificate_path": json.dumps(self.cert[name][0]),
                "listeners.federation.tls_private_key_path": json.dumps(self.cert[name][1]),
                "federation.verify_certificates": "false",
                "federation.test_host_overrides": yaml_list(overrides),
            }
            for key, values in settings.items():
                config[f"federation.{key}"] = yaml_list(values)
            config.update(options or {})
            config.update((server_options or {}).get(name, {}))
            self.servers[name] = Homeserver(config)

    def start(self):
        for server in self.servers.values():
            server.start()

    def stop(self):
        for server in self.servers.values():
            if server.running():
                server.stop()

    def cleanup(self):
        for server in self.servers.values():
            server.cleanup()
        if not os.environ.get("HAVEN_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)


class FederationTestCase(unittest.TestCase):
    """Servers named NAMES, started once per test class. Users are dicts from /register with
    "server" (the server name) added; `req`/`ok` send Client-Server requests as them."""

    NAMES = ["hs1.test", "hs2.test"]
    federation = {}      # name -> {federation option: list}
    options = {}         # config options of every server
    server_options = {}  # name -> config options of that server

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cluster = FederatedServers(cls.NAMES, cls.federation, cls.options,
                                       cls.server_options)
        cls.addClassCleanup(cls.cluster.cleanup)
        cls.servers = cls.cluster.servers
        cls.fed_port = cls.cluster.fed_port
        cls.cert = cls.cluster.cert
        cls.cluster.start()

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()
        super().tearDownClass()

    def restart_with(self, name, options):
        """Restarts `name` with these config options (dotted key -> YAML text) changed from
        the config it was started with."""
        server = self.servers[name]
        server.stop()
        text = server.config_text
        for key, value in options.items():
            text = set_yaml_option(text, key, value)
        with open(server.config_path, "w") as f:
            f.write(text)
        server.start()

    # --- client API ---------------------------------------------------------------------

    def user(self, name, prefix="user", displayname=None):
        reply = self.servers[name].client().register(unique(prefix))
        reply["server"] = name
        if displayname is not None:
            self.ok(reply, "PUT", f"/profile/{quote(reply['user_id'])}/displayname",
                    {"displayname": displayname})
        return reply

    def req(self, who, method, path, body=None, **kw):
        """A Client-Server request as `who` on their server; paths not starting with "/_"
        are under /_matrix/client/v3."""
        full = path if path.startswith("/_") else "/_matrix/client/v3" + path
        return self.servers[who["server"]].client().request(
            method, full, body, token=who["access_token"], **kw)

    def ok(self, who, method, path, body=None, **kw):
        status, reply = self.req(who, method, path, body, **kw)
        self.assertEqual(status, 200, f"{method} {path} on {who['server']}: {reply}")
        return reply

    def assertError(self, result, status, errcode):
        got_status, body = result
        self.assertEqual(got_status, status, f"body: {body}")
        self.assertIsInstance(body, dict)
        self.assertEqual(body.get("errcode"), errcode, f"body: {body}")

    def create_room(self, who, **body):
        return self.ok(who, "POST", "/createRoom", body)["room_id"]

    def send_text(self, who, room_id, text):
        txn = unique("txn")
        return self.ok(who, "PUT", f"/rooms/{quote(room_id)}/send/m.room.message/{txn}",
                       {"msgtype": "m.text", "body": text})["event_id"]

    def state(self, who, room_id, event_type, state_key=""):
        return self.req(who, "GET",
                        f"/rooms/{quote(room_id)}/state/{quote(event_type)}/{quote(state_key)}")

    def sync(self, who, timeout_ms=0, since=None):
        path = f"/sync?timeout={timeout_ms}"
        if since:
            path += f"&since={quote(since)}"
        return self.ok(who, "GET", path, timeout=timeout_ms / 1000 + 60)

    def sync_until(self, who, predicate, what="the expected sync", deadline_s=SYNC_DEADLINE_S):
        """Long-polls /sync as `who` (from their last token) until predicate(response) is
        true; returns that response. Fails with `what` when nothing matching comes."""
        end = time.monotonic() + deadline_s
        while True:
            reply = self.sync(who, 2000, who.get("next_batch"))
            who["next_batch"] = reply["next_batch"]
            if predicate(reply):
                return reply
            if time.monotonic() > end:
                self.fail(f"{who['user_id']} never saw {what}")

    def wait_for_timeline_event(self, who, room_id, predicate, what="the event"):
        """Syncs as `who` until an event of `room_id`'s timeline matches; returns it."""
        found = []

        def check(reply):
            room = reply.get("rooms", {}).get("join", {}).get(room_id, {})
            for event in room.get("timeline", {}).get("events", []):
                if predicate(event):
                    found.append(event)
                    return True
            return False

        self.sync_until(who, check, what)
        return found[0]

    def wait_for_invite(self, who, room_id):
        """Syncs as `who` until the invite to `room_id` shows; returns its invite_state."""
        reply = self.sync_until(
            who, lambda r: room_id in r.get("rooms", {}).get("invite", {}),
            f"the invite to {room_id}")
        return reply["rooms"]["invite"][room_id]["invite_state"]["events"]

    # --- federation API directly ----------------------------------------------------------

    def fed(self, name, method, target, body=None, headers=None, raw_body=None):
        """A request to `name`'s federation listener over TLS, checking its certificate."""
        context = ssl.create_default_context(cafile=self.cert[name][0])
        context.check_hostname = False  # we connect to 127.0.0.1; the chain is still checked
        conn = http.client.HTTPSConnection("127.0.0.1", self.fed_port[name], context=context,
                                           timeout=60)
        data = raw_body if raw_body is not None else (
            canonical(body) if body is not None else None)
        send = {"Content-Type": "application/json"} if data is not None else {}
        send.update(headers or {})
        try:
            conn.request(method, target, body=data, headers=send)
            response = conn.getresponse()
            payload = response.read()
        finally:
            conn.close()
        return response.status, (json.loads(payload) if payload else None)

    def fed_ok(self, name, method, target, body=None):
        status, reply = self.fed(name, method, target, body)
        self.assertEqual(status, 200, f"{method} {target} on {name}: {reply}")
        return reply

    def signing_key(self, name):
        """(key id, private key) from `name`'s signing key file."""
        path = os.path.join(self.servers[name].data_dir, "signing.key")
        with open(path) as f:
            algorithm, version, seed = f.read().split()
        return f"{algorithm}:{version}", Ed25519PrivateKey.from_private_bytes(b64decode(seed))

    def x_matrix(self, origin, destination, method, uri, content=None, key=None):
        """An X-Matrix header signed here, as `origin` would sign it."""
        key_id, private = key or self.signing_key(origin)
        request = {"method": method, "uri": uri, "origin": origin, "destination": destination}
        if content is not None:
            request["content"] = content
        sig = b64encode(private.sign(canonical(request)))
        return (f'X-Matrix origin="{origin}",destination="{destination}",key="{key_id}",'
                f'sig="{sig}"')

    def fed_as(self, origin, destination, method, target, body=None):
        """A request to `destination`'s federation listener signed here as `origin`."""
        auth = self.x_matrix(origin, destination, method, target, body)
        return self.fed(destination, method, target, body, headers={"Authorization": auth})

    def send_pdus(self, origin, destination, pdus):
        """PUT /send with `pdus`, signed here as `origin`: returns the per-PDU results."""
        target = f"/_matrix/federation/v1/send/{unique('txn')}"
        body = {"origin": origin, "origin_server_ts": int(time.time() * 1000), "pdus": pdus}
        status, reply = self.fed_as(origin, destination, "PUT", target, body)
        self.assertEqual(status, 200, reply)
        return reply["pdus"]

    def haven_request(self, name, destination, target, method="GET", body=None):
        """`haven federation-request` run with `name`'s config: (exit code, stdout, stderr)."""
        args = [haven_bin(), "federation-request", "-c", self.servers[name].config_path,
                "--destination", destination, "--method", method, target]
        if body is not None:
            args += ["--body", json.dumps(body)]
        out = subprocess.run(args, capture_output=True, text=True, timeout=120)
        return out.returncode, out.stdout, out.stderr
