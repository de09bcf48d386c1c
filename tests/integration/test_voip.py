"""GET /voip/turnServer: time-limited TURN credentials in coturn's REST API form, checked
against a real coturn turnserver (use-auth-secret) on loopback with turnutils_uclient; an
empty answer when no TURN server is configured."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from harness import HomeserverTestCase, free_port

SECRET = "turn-shared-secret-for-tests"
TURNSERVER = shutil.which("turnserver")
UCLIENT = shutil.which("turnutils_uclient")
NOT_INSTALLED = "coturn is not installed (scripts/install-deps.sh installs it)"
TURN_PORT = free_port()


def wait_for_udp_listener(port, process, deadline_s=15):
    """Waits until a STUN binding request on `port` is answered."""
    request = bytes.fromhex("000100002112a442") + os.urandom(12)
    deadline = time.monotonic() + deadline_s
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"turnserver exited with {process.returncode}")
            s.sendto(request, ("127.0.0.1", port))
            try:
                s.recvfrom(2048)
                return
            except OSError:
                time.sleep(0.1)
    raise RuntimeError("turnserver did not answer")


@unittest.skipUnless(TURNSERVER and UCLIENT, NOT_INSTALLED)
class TurnServerTest(HomeserverTestCase):
    options = {"voip.turn_uris": f'["turn:127.0.0.1:{TURN_PORT}?transport=udp"]',
               "voip.turn_shared_secret": SECRET,
               "voip.turn_user_lifetime_seconds": "600",
               "voip.turn_allow_guests": "false"}  # haven has no guest accounts yet

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.turn_dir = tempfile.mkdtemp(prefix="haven-turn-")
        cls.addClassCleanup(shutil.rmtree, cls.turn_dir, True)
        relay = 50000 + (os.getpid() % 100) * 100
        cls.turn_log = open(os.path.join(cls.turn_dir, "turn.log"), "wb")
        cls.addClassCleanup(cls.turn_log.close)
        cls.turn = subprocess.Popen(
            [TURNSERVER, "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
             f"--listening-port={TURN_PORT}", f"--min-port={relay}", f"--max-port={relay + 99}",
             "--use-auth-secret", f"--static-auth-secret={SECRET}", "--realm=haven.test",
             "--no-tls", "--no-dtls", "--no-cli", "--allow-loopback-peers",
             "--log-file=stdout", "--simple-log",
             f"--pidfile={cls.turn_dir}/turn.pid", f"--userdb={cls.turn_dir}/turndb"],
            stdout=cls.turn_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        cls.addClassCleanup(cls.stop_turn)
        wait_for_udp_listener(TURN_PORT, cls.turn)

    @classmethod
    def stop_turn(cls):
        cls.turn.terminate()
        try:
            cls.turn.wait(10)
        except subprocess.TimeoutExpired:
            cls.turn.kill()
            cls.turn.wait()

    def relay_through_turn(self, username, password):
        """Allocates on the TURN server and relays a few packets between two clients."""
        run = subprocess.run(
            [UCLIENT, "-y", "-n", "3", "-m", "1", "-l", "100", "-u", username, "-w", password,
             "-p", str(TURN_PORT), "127.0.0.1"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        return run.returncode, run.stdout.decode(errors="replace")

    def test_credentials_work_on_a_real_turn_server(self):
        alice = self.user()
        creds = self.ok(alice, "GET", "/voip/turnServer")
        self.assertEqual(creds["uris"], [f"turn:127.0.0.1:{TURN_PORT}?transport=udp"])
        self.assertEqual(creds["ttl"], 600)
        expiry, user_id = creds["username"].split(":", 1)
        self.assertEqual(user_id, alice["user_id"])
        self.assertGreater(int(expiry), time.time())
        self.assertLessEqual(int(expiry), time.time() + 600 + 60)
        code, out = self.relay_through_turn(creds["username"], creds["password"])
        self.assertEqual(code, 0, f"turnutils_uclient failed:\n{out}")
        self.assertIn("Total lost packets 0", out)

    def test_wrong_password_or_altered_username_is_refused_by_turn(self):
        creds = self.ok(self.user(), "GET", "/voip/turnServer")
        code, out = self.relay_through_turn(creds["username"], creds["password"][:-2] + "xx")
        self.assertNotEqual(code, 0, f"a wrong password was accepted:\n{out}")
        expiry, user_id = creds["username"].split(":", 1)
        code, out = self.relay_through_turn(f"{int(expiry) + 3600}:{user_id}", creds["password"])
        self.assertNotEqual(code, 0, f"an extended expiry was accepted:\n{out}")

    def test_needs_an_access_token(self):
        self.assertError(self.req(None, "GET", "/voip/turnServer"), 401, "M_MISSING_TOKEN")


class NoTurnServerTest(HomeserverTestCase):
    def test_without_configuration_the_answer_is_empty(self):
        self.assertEqual(self.ok(self.user(), "GET", "/voip/turnServer"), {})


if __name__ == "__main__":
    unittest.main()
