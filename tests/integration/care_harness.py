"""haven-care for integration tests: `CareService` runs one `haven-care serve` (generated
config and registration, fake clock on) beside the harness's haven, `CareClient` talks to its
REST API, and `CareTestCase` gives each test class a haven with haven-care's registration,
haven-care itself and a server admin. The binary comes from $HAVEN_CARE_BIN (ctest sets it)."""

import http.client
import json
import os
import shutil
import subprocess
import tempfile
import time

from harness import Homeserver, HomeserverTestCase, free_port, set_yaml_option, unique

ADMIN = "/_haven/admin/v1"
CARE = "/_haven/care/v1"
PASSWORD = "correct horse battery"


def care_bin():
    path = os.environ.get("HAVEN_CARE_BIN")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("HAVEN_CARE_BIN is not set to the haven-care binary (run via ctest)")
    return path


class CareService:
    """One `haven-care serve` process configured for `server` (generated config and
    registration, fake clock on)."""

    def __init__(self, tmp, server_name, homeserver_url):
        self.port = free_port()
        self.tmp = tmp
        self.registration = os.path.join(tmp, "care-registration.yaml")
        config = subprocess.run(
            [care_bin(), "generate-config", "--server-name", server_name, "--data-dir",
             os.path.join(tmp, "data-care"), "--homeserver-url", homeserver_url, "--port",
             str(self.port), "--registration", self.registration],
            check=True, capture_output=True, text=True).stdout
        config = config.replace("fake_clock: false", "fake_clock: true")
        config = config.replace("idle_check_interval_ms: 60000", "idle_check_interval_ms: 3600000")
        self.config_path = os.path.join(tmp, "care.yaml")
        with open(self.config_path, "w") as f:
            f.write(config)
        self.log_path = os.path.join(tmp, "care.log")
        self.process = None

    def start(self):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen([care_bin(), "serve", "-c", self.config_path],
                                        stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("haven-care exited:\n" + open(self.log_path).read())
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", CARE + "/guest_links/x")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("haven-care did not start")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            code = self.process.wait(timeout=20)
            assert code == 0, f"haven-care exited with {code}:\n" + open(self.log_path).read()


class CareClient:
    def __init__(self, port):
        self.port = port

    def request(self, method, path, body=None, token=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=None if body is None else json.dumps(body),
                     headers=headers)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        try:
            return r.status, json.loads(data) if data else None
        except ValueError:
            return r.status, data.decode("utf-8", "replace")


class CareTestCase(HomeserverTestCase):
    """A haven (options as in HomeserverTestCase) listing haven-care's registration, with
    haven-care running beside it and `cls.admin` a server admin's login."""

    @classmethod
    def setUpClass(cls):
        cls.care_tmp = tempfile.mkdtemp(prefix="haven-care-it-")
        if not os.environ.get("HAVEN_KEEP_TMP"):
            cls.addClassCleanup(shutil.rmtree, cls.care_tmp, True)
        # The registration must exist before haven starts, and haven-care's config names
        # haven's URL: make the Homeserver first, then haven-care's files, then start both.
        cls.server = Homeserver(dict(cls.options))
        cls.addClassCleanup(cls.server.cleanup)
        cls.care_service = CareService(cls.care_tmp, cls.server.server_name, cls.server.url)
        with open(cls.server.config_path) as f:
            text = f.read()
        text = set_yaml_option(text, "app_service_config_files",
                               json.dumps([cls.care_service.registration]))
        with open(cls.server.config_path, "w") as f:
            f.write(text)
        cls.server.start()
        cls.client = cls.server.client()
        cls.care_service.start()
        cls.addClassCleanup(cls.care_service.stop)
        cls.care_client = CareClient(cls.care_service.port)
        status, body = cls.client.shared_secret_register(unique("admin"), PASSWORD, admin=True)
        assert status == 200, body
        cls.admin = body

    def care(self, who, method, path, body=None):
        """A haven-care REST call with `who`'s access token (a login dict or a token)."""
        token = who["access_token"] if isinstance(who, dict) else who
        return self.care_client.request(method, CARE + path, body, token)

    def care_ok(self, who, method, path, body=None):
        status, reply = self.care(who, method, path, body)
        self.assertEqual(status, 200, f"{method} {path}: {reply}")
        return reply

    def person(self, role, name):
        """A user with a care role made through the admin API, logged in."""
        made = self.ok(self.admin, "POST", ADMIN + "/users",
                       {"role": role, "displayname": name, "password": PASSWORD})
        status, session = self.client.login(made["user_id"], PASSWORD)
        self.assertEqual(status, 200, session)
        return session

    def advance_both(self, ms):
        """Moves haven's and haven-care's fake clocks (haven-care sweeps before it answers)."""
        self.ok(self.admin, "POST", ADMIN + "/testing/clock", {"advance_ms": ms})
        self.care_ok(None, "POST", "/testing/clock", {"advance_ms": ms})

    def wait_for(self, what, fetch, ready, deadline_s=30):
        """Polls fetch() until ready(answer); fails with the last answer after the deadline."""
        deadline = time.monotonic() + deadline_s
        while True:
            got = fetch()
            if ready(got):
                return got
            if time.monotonic() > deadline:
                self.fail(f"{what} never happened; last answer: {got}")
            time.sleep(0.05)
