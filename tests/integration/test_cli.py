"""Integration tests of the `haven` command line and process lifecycle: config errors at
start-up, clean exit on SIGTERM, durability across restarts and crashes, and
`haven register-user` against a running server."""

import os
import socket
import subprocess
import tempfile
import unittest

from harness import (Homeserver, HomeserverTestCase, free_port, generate_config, haven_bin,
                     set_yaml_option, unique)

PASSWORD = "correct horse battery"
EXIT_TIMEOUT_S = 20


class ConfigErrorsTest(unittest.TestCase):
    """`haven serve -c FILE` with a bad FILE exits non-zero with one line naming the problem."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="haven-it-cfg-")
        self.addCleanup(self.tmp.cleanup)
        self.port = free_port()
        self.text = generate_config("localhost", os.path.join(self.tmp.name, "data"), self.port, 0)

    def serve(self, text):
        path = os.path.join(self.tmp.name, "homeserver.yaml")
        with open(path, "w") as f:
            f.write(text)
        return self.serve_path(path)

    def serve_path(self, path):
        try:
            return subprocess.run([haven_bin(), "serve", "-c", path], capture_output=True,
                                  text=True, timeout=EXIT_TIMEOUT_S, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            self.fail(f"haven serve kept running on a bad config ({EXIT_TIMEOUT_S}s)")

    def assertOneLineError(self, result, *needles):
        self.assertNotEqual(result.returncode, 0, "must exit non-zero")
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, f"expected one line on stderr, got:\n{result.stderr}")
        for needle in needles:
            self.assertIn(needle, lines[0])

    def test_missing_config_file(self):
        path = os.path.join(self.tmp.name, "nope.yaml")
        self.assertOneLineError(self.serve_path(path), path)

    def test_unknown_top_level_key(self):
        self.assertOneLineError(self.serve(self.text + "bogus_option: 1\n"), "bogus_option")

    def test_misspelled_nested_key_names_the_full_key(self):
        text = self.text.replace("  enable_registration:", "  enable_registraton:")
        self.assertNotEqual(text, self.text)
        self.assertOneLineError(self.serve(text), "registration.enable_registraton")

    def test_port_out_of_range_names_the_key(self):
        text = set_yaml_option(self.text, "listeners.client.port", "70000")
        self.assertOneLineError(self.serve(text), "listeners.client.port")

    def test_port_not_a_number_names_the_key(self):
        text = set_yaml_option(self.text, "listeners.client.port", "eighty")
        self.assertOneLineError(self.serve(text), "listeners.client.port")

    def test_bad_boolean_names_the_key(self):
        text = set_yaml_option(self.text, "registration.enable_registration", "maybe")
        self.assertOneLineError(self.serve(text), "registration.enable_registration")

    def test_invalid_server_name_names_the_key(self):
        text = set_yaml_option(self.text, "server_name", '"not a server name"')
        self.assertOneLineError(self.serve(text), "server_name")

    def test_invalid_yaml_is_one_line(self):
        self.assertOneLineError(self.serve(self.text + "\nserver_name: [unclosed\n"))

    def test_port_already_in_use_exits_non_zero(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
            busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            busy.bind(("127.0.0.1", self.port))
            busy.listen()
            result = self.serve(self.text)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(str(self.port), result.stderr + result.stdout)

    def test_generate_config_requires_server_name(self):
        result = subprocess.run([haven_bin(), "generate-config", "--data-dir", self.tmp.name],
                                capture_output=True, text=True, timeout=EXIT_TIMEOUT_S)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("server-name", result.stderr + result.stdout)

    def test_generated_configs_have_different_shared_secrets(self):
        other = generate_config("localhost", self.tmp.name, self.port, 0)
        secret = [line for line in self.text.splitlines() if "registration_shared_secret:" in line]
        other_secret = [line for line in other.splitlines()
                        if "registration_shared_secret:" in line]
        self.assertEqual(len(secret), 1)
        self.assertNotEqual(secret, other_secret)

    def test_generated_config_keeps_registration_closed(self):
        lines = [line.strip() for line in self.text.splitlines()]
        self.assertIn("enable_registration: false", lines)


class LifecycleTest(unittest.TestCase):
    """Each test runs its own server."""

    def setUp(self):
        self.server = Homeserver()
        self.addCleanup(self.server.cleanup)
        self.server.start()
        self.client = self.server.client()

    def test_sigterm_exits_zero(self):
        self.assertEqual(self.server.terminate(), 0, self.server.log_tail())

    def test_sigterm_with_an_idle_connection_open_exits_zero(self):
        idle = socket.create_connection(("127.0.0.1", self.server.port))
        self.addCleanup(idle.close)
        idle.sendall(b"GET /_matrix/client/versions HTTP/1.1\r\nHost: x\r\n\r\n")
        idle.recv(65536)  # the answer; the connection stays open (keep-alive)
        self.assertEqual(self.server.terminate(), 0, self.server.log_tail())

    def test_sigterm_with_a_half_sent_request_exits_zero(self):
        half = socket.create_connection(("127.0.0.1", self.server.port))
        self.addCleanup(half.close)
        half.sendall(b"POST /_matrix/client/v3/login HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: 100\r\n\r\n{\"type\":")
        self.assertEqual(self.server.terminate(), 0, self.server.log_tail())

    def test_accounts_and_tokens_survive_a_restart(self):
        name = unique("durable")
        session = self.client.register(name)
        self.server.restart()
        status, me = self.client.whoami(session["access_token"])
        self.assertEqual(status, 200, me)
        self.assertEqual(me["user_id"], session["user_id"])
        self.client.login_ok(name)

    def test_acknowledged_registration_survives_kill9(self):
        name = unique("crash")
        session = self.client.register(name)
        self.server.kill9()
        self.server.start()
        self.assertEqual(self.client.whoami(session["access_token"])[0], 200)
        self.client.login_ok(name)

    def test_logout_survives_a_restart(self):
        session = self.client.register(unique("bye"))
        self.assertEqual(self.client.request("POST", "/_matrix/client/v3/logout", {},
                                             token=session["access_token"])[0], 200)
        self.server.restart()
        status, body = self.client.whoami(session["access_token"])
        self.assertEqual((status, body["errcode"]), (401, "M_UNKNOWN_TOKEN"))

    def test_password_change_survives_kill9(self):
        name = unique("pwcrash")
        token = self.client.register(name)["access_token"]
        path = "/_matrix/client/v3/account/password"
        status, first = self.client.request("POST", path, {"new_password": "new one"},
                                            token=token)
        status, body = self.client.request(
            "POST", path,
            {"new_password": "new one",
             "auth": {"type": "m.login.password", "session": first["session"],
                      "identifier": {"type": "m.id.user", "user": name}, "password": PASSWORD}},
            token=token)
        self.assertEqual(status, 200, body)
        self.server.kill9()
        self.server.start()
        self.client.login_ok(name, "new one")


class RegisterUserCliTest(HomeserverTestCase):
    """`haven register-user -c FILE --user NAME [--admin] [--password P]` against a running
    server whose open registration is off."""

    enable_registration = False

    def register_user(self, *args, stdin=""):
        return subprocess.run([haven_bin(), "register-user", "-c", self.server.config_path,
                               *args], input=stdin, capture_output=True, text=True, timeout=60)

    def test_with_password_flag(self):
        name = unique("cli")
        result = self.register_user("--user", name, "--password", PASSWORD)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(f"@{name}:{self.server.server_name}", result.stdout)
        self.client.login_ok(name, PASSWORD)

    def test_admin_flag(self):
        name = unique("cliadmin")
        result = self.register_user("--user", name, "--password", PASSWORD, "--admin")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.client.login_ok(name, PASSWORD)

    def test_password_twice_on_stdin(self):
        name = unique("clistdin")
        result = self.register_user("--user", name, stdin="stdin secret\nstdin secret\n")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.client.login_ok(name, "stdin secret")

    def test_mismatched_passwords_on_stdin_create_nothing(self):
        name = unique("climismatch")
        result = self.register_user("--user", name, stdin="one\ntwo\n")
        self.assertNotEqual(result.returncode, 0)
        self.assertTrue(result.stderr.strip())
        status, body = self.client.login(name, "one")
        self.assertEqual((status, body["errcode"]), (403, "M_FORBIDDEN"))

    def test_empty_stdin_creates_nothing(self):
        name = unique("cliempty")
        result = self.register_user("--user", name, stdin="")
        self.assertNotEqual(result.returncode, 0)
        self.assertTrue(result.stderr.strip())

    def test_existing_user_fails(self):
        name = unique("clidup")
        self.assertEqual(self.register_user("--user", name, "--password", PASSWORD).returncode, 0)
        result = self.register_user("--user", name, "--password", "other password")
        self.assertNotEqual(result.returncode, 0)
        self.assertTrue(result.stderr.strip())
        self.client.login_ok(name, PASSWORD)

    def test_invalid_name_fails(self):
        result = self.register_user("--user", "bad name", "--password", PASSWORD)
        self.assertNotEqual(result.returncode, 0)
        self.assertTrue(result.stderr.strip())

    def test_no_running_server_fails_with_a_message(self):
        with tempfile.TemporaryDirectory(prefix="haven-it-cli-") as tmp:
            path = os.path.join(tmp, "homeserver.yaml")
            with open(path, "w") as f:
                f.write(generate_config("localhost", tmp, free_port(), 0))
            result = subprocess.run([haven_bin(), "register-user", "-c", path, "--user",
                                     unique("x"), "--password", PASSWORD],
                                    capture_output=True, text=True, timeout=60)
        self.assertNotEqual(result.returncode, 0)
        self.assertTrue(result.stderr.strip())


if __name__ == "__main__":
    unittest.main(verbosity=2)
