"""Test harness for Haven's integration tests: runs the real `haven` binary and talks HTTP to it.

`Homeserver` starts one `haven serve` on a free loopback port with a fresh data directory,
`Client` sends Client-Server API requests to it, and `HomeserverTestCase` gives each test
class its own server. Standard library only. The binary comes from $HAVEN_BIN (ctest sets it).
"""

import hashlib
import hmac
import http.client
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import weakref

# The buffered reader of each raw test socket (HomeserverTestCase.read_response).
_socket_readers = weakref.WeakKeyDictionary()

START_TIMEOUT_S = 20
STOP_TIMEOUT_S = 20


def haven_bin():
    """The path of the `haven` binary under test."""
    path = os.environ.get("HAVEN_BIN")
    if not path:
        raise RuntimeError("HAVEN_BIN is not set: run these tests through ctest, or export "
                           "HAVEN_BIN=/path/to/build/homeserver/haven")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"HAVEN_BIN={path} is not an executable file")
    return path


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def set_yaml_option(text, dotted_key, value):
    """Replaces the value of `dotted_key` (e.g. "registration.enable_registration") in YAML
    text laid out the way `haven generate-config` writes it (two spaces per level, one key per
    line). Raises KeyError when the key is not there, so a renamed option fails loudly."""
    wanted = dotted_key.split(".")
    path = []
    lines = text.split("\n")
    for i, line in enumerate(lines):
        m = re.match(r"^( *)([A-Za-z0-9_]+):(.*)$", line)
        if not m:
            continue
        depth = len(m.group(1)) // 2
        path = path[:depth] + [m.group(2)]
        if path == wanted:
            lines[i] = f"{m.group(1)}{m.group(2)}: {value}"
            return "\n".join(lines)
    raise KeyError(dotted_key)


def get_yaml_option(text, dotted_key):
    """The raw value text of `dotted_key` in generated YAML, without surrounding quotes."""
    wanted = dotted_key.split(".")
    path = []
    for line in text.split("\n"):
        m = re.match(r"^( *)([A-Za-z0-9_]+):(.*)$", line)
        if not m:
            continue
        depth = len(m.group(1)) // 2
        path = path[:depth] + [m.group(2)]
        if path == wanted:
            value = m.group(3).strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            return value
    raise KeyError(dotted_key)


def generate_config(server_name, data_dir, client_port, federation_port=0):
    """The text `haven generate-config` prints for these settings."""
    out = subprocess.run(
        [haven_bin(), "generate-config", "--server-name", server_name, "--data-dir", data_dir,
         "--client-port", str(client_port), "--federation-port", str(federation_port)],
        capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise RuntimeError(f"generate-config failed ({out.returncode}): {out.stderr}")
    return out.stdout


class ServerCrashed(ConnectionError):
    """The server process exited by itself while a test talked to it. A ConnectionError, so
    code that expects a dropped connection still catches it."""


RELAXED_LIMITS = {
    "rate_limits.rc_login.per_second": "1000",
    "rate_limits.rc_login.burst_count": "1000",
    "rate_limits.rc_registration.per_second": "1000",
    "rate_limits.rc_registration.burst_count": "1000",
    "rate_limits.rc_message.per_second": "1000",
    "rate_limits.rc_message.burst_count": "1000",
}


class Homeserver:
    """One `haven serve` process on 127.0.0.1 with its own temporary data directory.

    options: dotted config keys -> YAML value text, applied over the generated config.
    relaxed_limits: raise every rate limit so tests are not slowed or refused.
    """

    def __init__(self, options=None, relaxed_limits=True, enable_registration=True):
        self.port = free_port()
        self.server_name = f"localhost:{self.port}"
        self.url = f"http://127.0.0.1:{self.port}"
        self.tmp = tempfile.mkdtemp(prefix="haven-it-")
        self.data_dir = os.path.join(self.tmp, "data")
        self.config_path = os.path.join(self.tmp, "homeserver.yaml")
        self.log_path = os.path.join(self.tmp, "haven.log")
        text = generate_config(self.server_name, self.data_dir, self.port, 0)
        # The care rules are off unless a test turns them on: most tests exercise the plain
        # Matrix APIs between users who have no contact links.
        settings = {"registration.enable_registration": "true" if enable_registration else "false",
                    "logging.level": "debug", "care.enabled": "false"}
        if relaxed_limits:
            settings.update(RELAXED_LIMITS)
        settings.update(options or {})
        for key, value in settings.items():
            text = set_yaml_option(text, key, value)
        with open(self.config_path, "w") as f:
            f.write(text)
        self.config_text = text
        self.shared_secret = get_yaml_option(text, "registration.registration_shared_secret")
        self.process = None
        self._log = None

    def start(self):
        """Starts the server and waits until GET /_matrix/client/versions answers."""
        assert self.process is None, "already running"
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen([haven_bin(), "serve", "-c", self.config_path],
                                        stdout=self._log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                self._closed()
                raise RuntimeError(f"haven exited with {code} during start-up:\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/_matrix/client/versions")
                if conn.getresponse().status == 200:
                    conn.close()
                    return self
                conn.close()
            except OSError:
                pass
            time.sleep(0.05)
        self.kill9()
        raise RuntimeError(f"haven did not answer within {START_TIMEOUT_S}s:\n{self.log_tail()}")

    def stop(self):
        """SIGTERM, wait, and return the exit code; raises AssertionError unless it is 0."""
        code = self.terminate()
        if code != 0:
            raise AssertionError(f"haven exited with {code} after SIGTERM:\n{self.log_tail()}")
        return code

    def terminate(self):
        """SIGTERM and wait; returns the exit code (None if it was not running)."""
        if self.process is None:
            return None
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            self._closed()
            raise AssertionError(
                f"haven did not exit within {STOP_TIMEOUT_S}s of SIGTERM:\n{self.log_tail()}")
        self._closed()
        return code

    def kill9(self):
        """SIGKILL: a crash, with no chance to flush anything."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait()
        self._closed()

    def restart(self):
        self.stop()
        return self.start()

    def raise_if_crashed(self, context):
        """Raises ServerCrashed, with the end of the log, when the process this harness started
        has exited on its own; a no-op while it runs or after stop()/kill9()."""
        if self.process is None:
            return
        try:
            code = self.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            return
        self._closed()
        raise ServerCrashed(f"haven exited with {code} during {context}:\n{self.log_tail()}")

    def running(self):
        return self.process is not None and self.process.poll() is None

    def _closed(self):
        self.process = None
        if self._log:
            self._log.close()
            self._log = None

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines=60):
        return "\n".join(self.log_text().splitlines()[-lines:])

    def cleanup(self):
        """Kills the server if still running and removes its files (unless HAVEN_KEEP_TMP)."""
        if self.process is not None:
            self.kill9()
        if not os.environ.get("HAVEN_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def client(self):
        return Client(self)


class Client:
    """A minimal Client-Server API client bound to one server."""

    def __init__(self, server):
        self.server = server
        self.last_headers = {}
        self.last_body = b""

    def request(self, method, path, body=None, token=None, raw_body=None, headers=None,
                timeout=60):
        """Sends one request. `body` is JSON-encoded; `raw_body` (bytes) is sent as is.
        Returns (status, parsed JSON or None); the response headers are in last_headers and
        the raw response body in last_body."""
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=timeout)
        send_headers = {}
        data = None
        if raw_body is not None:
            data = raw_body if isinstance(raw_body, bytes) else raw_body.encode()
        elif body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            send_headers["Content-Type"] = "application/json"
        if token is not None:
            send_headers["Authorization"] = f"Bearer {token}"
        send_headers.update(headers or {})
        try:
            conn.request(method, path, body=data, headers=send_headers)
            response = conn.getresponse()
            payload = response.read()
            self.last_body = payload
            self.last_headers = {k.lower(): v for k, v in response.getheaders()}
            status = response.status
        except (OSError, http.client.HTTPException) as e:
            self.server.raise_if_crashed(f"{method} {path.split('?')[0]}: {e!r}")
            raise
        finally:
            conn.close()
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = None
        return status, parsed

    # --- registration and login -------------------------------------------------------------

    def register_flow(self, username, password, extra=None):
        """POST /register through the m.login.dummy stage. Returns the final (status, body):
        the server may refuse (e.g. M_USER_IN_USE) before or after the UIA stage."""
        body = {"username": username, "password": password}
        body.update(extra or {})
        status, reply = self.request("POST", "/_matrix/client/v3/register", body)
        if status != 401 or not isinstance(reply, dict) or "session" not in reply:
            return status, reply
        body["auth"] = {"type": "m.login.dummy", "session": reply["session"]}
        return self.request("POST", "/_matrix/client/v3/register", body)

    def register(self, username, password="correct horse battery", extra=None):
        """Registers an account and returns the 200 body (user_id, access_token, device_id)."""
        status, reply = self.register_flow(username, password, extra)
        if status != 200:
            raise AssertionError(f"register {username!r} failed: {status} {reply}")
        return reply

    def login(self, user, password="correct horse battery", device_id=None):
        """Password login with an m.id.user identifier. Returns (status, body)."""
        body = {"type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": user},
                "password": password}
        if device_id is not None:
            body["device_id"] = device_id
        return self.request("POST", "/_matrix/client/v3/login", body)

    def login_ok(self, user, password="correct horse battery", device_id=None):
        status, reply = self.login(user, password, device_id)
        if status != 200:
            raise AssertionError(f"login {user!r} failed: {status} {reply}")
        return reply

    def whoami(self, token):
        return self.request("GET", "/_matrix/client/v3/account/whoami", token=token)

    # --- shared-secret registration (Synapse admin API) -------------------------------------

    def nonce(self):
        status, reply = self.request("GET", "/_synapse/admin/v1/register")
        if status != 200:
            raise AssertionError(f"GET nonce failed: {status} {reply}")
        return reply["nonce"]

    @staticmethod
    def shared_secret_mac(secret, nonce, username, password, admin):
        message = b"\x00".join([nonce.encode(), username.encode(), password.encode(),
                                b"admin" if admin else b"notadmin"])
        return hmac.new(secret.encode(), message, hashlib.sha1).hexdigest()

    def shared_secret_register(self, username, password="correct horse battery", admin=False,
                               nonce=None, mac=None, secret=None):
        """POST /_synapse/admin/v1/register with a correct mac unless one is given."""
        nonce = nonce if nonce is not None else self.nonce()
        secret = secret if secret is not None else self.server.shared_secret
        if mac is None:
            mac = self.shared_secret_mac(secret, nonce, username, password, admin)
        body = {"nonce": nonce, "username": username, "password": password, "admin": admin,
                "mac": mac}
        return self.request("POST", "/_synapse/admin/v1/register", body)


def quote(value):
    return urllib.parse.quote(value, safe="")


_names = itertools.count(1)


def unique(prefix="user"):
    """A localpart no other test in this process has used."""
    return f"{prefix}{next(_names)}_{os.getpid()}"


class HomeserverTestCase(unittest.TestCase):
    """One server per test class (started in setUpClass, stopped with SIGTERM in
    tearDownClass, which also checks the exit code is 0). Override the class attributes to
    change its config."""

    options = {}
    relaxed_limits = True
    enable_registration = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = Homeserver(cls.options, cls.relaxed_limits, cls.enable_registration)
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()
        cls.client = cls.server.client()

    @classmethod
    def tearDownClass(cls):
        if cls.server.running():
            cls.server.stop()
        super().tearDownClass()

    # Client API requests as a user (a /register or /login answer). Paths that do not start
    # with "/_" are under /_matrix/client/v3; `who` None sends no token.
    def user(self, prefix="user", extra=None):
        return self.client.register(unique(prefix), extra=extra)

    def req(self, who, method, path, body=None, **kw):
        full = path if path.startswith("/_") else "/_matrix/client/v3" + path
        token = who["access_token"] if who else None
        return self.client.request(method, full, body, token=token, **kw)

    def ok(self, who, method, path, body=None, **kw):
        status, reply = self.req(who, method, path, body, **kw)
        self.assertEqual(status, 200, f"{method} {path}: {reply}")
        return reply

    def connect(self, timeout=60):
        """A raw socket to the client listener, closed when the test ends."""
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=timeout)
        self.addCleanup(sock.close)
        return sock

    @staticmethod
    def read_response(sock):
        """The next HTTP response off a raw socket: (status, lower-cased headers, body). All
        reads of a socket share one buffered reader, so pipelined answers that arrive together
        are not lost between calls."""
        reader = _socket_readers.get(sock)
        if reader is None:
            reader = _socket_readers[sock] = sock.makefile("rb")
        status_line = reader.readline()
        if not status_line:
            raise ConnectionError("the server closed the connection")
        status = int(status_line.split()[1])
        headers = {}
        while (line := reader.readline()) not in (b"\r\n", b"\n", b""):
            name, value = line.decode("iso-8859-1").split(":", 1)
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() != "chunked":
            return status, headers, reader.read(int(headers.get("content-length", "0")))
        body = b""
        while (size := int(reader.readline().split(b";")[0], 16)) > 0:
            body += reader.read(size)
            reader.readline()
        reader.readline()
        return status, headers, body

    def upload_media(self, who, data):
        """POST /_matrix/media/v3/upload of `data` as `who`; the mxc URI."""
        status, reply = self.client.request(
            "POST", "/_matrix/media/v3/upload", raw_body=data, token=who["access_token"],
            headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(status, 200, reply)
        return reply["content_uri"]

    def assertError(self, result, status, errcode):
        """Asserts a Matrix error response: the HTTP status and the errcode."""
        got_status, body = result
        self.assertEqual(got_status, status, f"body: {body}")
        self.assertIsInstance(body, dict, "error responses are JSON objects")
        self.assertEqual(body.get("errcode"), errcode, f"body: {body}")
        self.assertIsInstance(body.get("error", ""), str)

    def assertServerAlive(self):
        self.assertTrue(self.server.running(), f"haven died:\n{self.server.log_tail()}")
        status, _ = self.client.request("GET", "/_matrix/client/versions")
        self.assertEqual(status, 200)
