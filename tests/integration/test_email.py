"""New-message emails (R4-R6) against a real SMTP server (aiosmtpd, run by smtp_sink.py):
a neutral notice with no room content, none while the recipient is online or has read the
message, never two for one message, hourly and daily digests at the right (fake) times,
frequency off, retries after the mail server was down, a restart that loses nothing, the
/account/3pid validation flow, the test clock, and the refusals of bad input.

What did not arrive is shown with a barrier: a marker user, idle and on "immediate", gets a
message after the action under test; notices are queued in the order their messages are
processed and sent oldest first, so once the marker's mail is there any notice the action
could have caused would be there too."""

import email
import email.policy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from harness import HomeserverTestCase, free_port, quote, unique

V3 = "/_matrix/client/v3"
ADMIN = "/_haven/admin/v1"
PASSWORD = "correct horse battery"
CLIENT_URL = "https://chat.haven.test/"
FROM = "noreply@haven.test"
MINUTE = 60 * 1000
HOUR = 60 * MINUTE
WAIT_S = 20
# Debian installs aiosmtpd for the system Python, which may not be the python3 on PATH.
SYSTEM_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
SINK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "smtp_sink.py")


class SmtpSink:
    """smtp_sink.py as a child process on a fixed port, restartable (the mail server going
    down and coming back), keeping what it received in a directory."""

    def __init__(self, auth=None, tls=None, implicit_tls=False):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="haven-smtp-")
        self.auth = auth
        self.tls = tls  # (certificate path, key path): offer and require STARTTLS
        self.implicit_tls = implicit_tls  # with tls: TLS from the start (smtps://) instead
        self.process = None

    def start(self):
        cmd = [SYSTEM_PYTHON, SINK, "--port", str(self.port), "--dir", self.dir]
        if self.auth:
            cmd += ["--auth", self.auth]
        if self.tls:
            cmd += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
            if self.implicit_tls:
                cmd.append("--implicit-tls")
        log_path = os.path.join(self.dir, "sink.log")
        with open(log_path, "a") as log:
            self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True)
        line = self.process.stdout.readline()  # "" when the process exits
        if line.strip() == "ready":
            return self
        self.process.wait()
        self.process.stdout.close()
        self.process = None
        with open(log_path) as log:
            raise RuntimeError(f"smtp_sink did not start: {line}{log.read()}")

    def stop(self):
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process.stdout.close()
            self.process = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def received(self):
        """Every mail so far: dicts with mail_from, rcpt_tos, data and the parsed message."""
        out = []
        for name in sorted(os.listdir(self.dir)):
            if not name.endswith(".json"):
                continue
            with open(os.path.join(self.dir, name)) as f:
                record = json.load(f)
            record["message"] = email.message_from_string(record["data"],
                                                          policy=email.policy.default)
            out.append(record)
        return out

    def to(self, address):
        return [m for m in self.received() if address in m["rcpt_tos"]]

    def wait_for(self, address, count=1):
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            mails = self.to(address)
            if len(mails) >= count:
                return mails
            time.sleep(0.05)
        raise AssertionError(f"{count} mail(s) to {address} did not arrive; got "
                             f"{len(self.to(address))}")


def self_signed_certificate(directory):
    """A certificate for 127.0.0.1 and its key, made with the openssl command."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
    return cert, key


class EmailTestCase(HomeserverTestCase):
    sink_auth = None
    sink_tls = False  # the sink offers and requires STARTTLS; haven trusts its certificate
    sink_smtps = False  # with sink_tls: TLS from the start, and haven uses smtps://
    idle_minutes = 10

    @classmethod
    def setUpClass(cls):
        tls = None
        if cls.sink_tls:
            cls.cert_dir = tempfile.mkdtemp(prefix="haven-cert-")
            cls.addClassCleanup(shutil.rmtree, cls.cert_dir, True)
            tls = self_signed_certificate(cls.cert_dir)
        cls.sink = SmtpSink(cls.sink_auth, tls, cls.sink_smtps).start()
        cls.addClassCleanup(cls.sink.cleanup)
        scheme = "smtps" if cls.sink_smtps else "smtp"
        cls.options = dict(cls.options)
        cls.options.update({
            "email.smtp_url": f'"{scheme}://127.0.0.1:{cls.sink.port}"',
            "email.from": f'"{FROM}"',
            "email.client_base_url": f'"{CLIENT_URL}"',
            "email.idle_minutes": str(cls.idle_minutes),
            "testing.fake_clock": "true",
            "rooms.encryption_enabled_by_default": "false",
        })
        if tls:
            cls.options["email.smtp_ca_file"] = f'"{tls[0]}"'
        if cls.sink_auth:
            user, password = cls.sink_auth.split(":", 1)
            cls.options["email.smtp_username"] = f'"{user}"'
            cls.options["email.smtp_password"] = f'"{password}"'
        super().setUpClass()
        status, body = cls.client.shared_secret_register(unique("admin"), PASSWORD, admin=True)
        assert status == 200, body
        cls.admin = body

    # --- helpers ---
    def admin_ok(self, method, path, body=None):
        return self.ok(self.admin, method, ADMIN + path, body)

    def person(self, prefix="user", frequency=None, displayname=None):
        """A registered user with an email address (and a frequency, when given)."""
        who = self.user(prefix)
        who["email"] = f"{who['user_id'][1:].split(':')[0]}@mail.haven.test"
        self.admin_ok("PUT", f"/users/{quote(who['user_id'])}/email", {"email": who["email"]})
        if frequency:
            self.set_frequency(who, frequency)
        if displayname:
            self.ok(who, "PUT", f"/profile/{quote(who['user_id'])}/displayname",
                    {"displayname": displayname})
        return who

    def set_frequency(self, who, frequency):
        self.ok(who, "PUT", f"/user/{quote(who['user_id'])}/account_data/org.haven.notifications",
                {"email_frequency": frequency})

    def room(self, owner, *members, name="conversation"):
        room = self.ok(owner, "POST", "/createRoom",
                       {"name": name, "invite": [m["user_id"] for m in members]})["room_id"]
        for m in members:
            self.ok(m, "POST", f"/join/{quote(room)}", {})
        return room

    def send(self, who, room, text):
        return self.ok(who, "PUT", f"/rooms/{quote(room)}/send/m.room.message/{unique('t')}",
                       {"msgtype": "m.text", "body": text})["event_id"]

    def read(self, who, room, event_id):
        self.ok(who, "POST", f"/rooms/{quote(room)}/receipt/m.read/{quote(event_id)}", {})

    def be_active(self, who):
        """What a client does while open: sync, which sets presence online."""
        self.ok(who, "GET", "/sync?timeout=0")

    def advance(self, ms):
        return self.admin_ok("POST", "/testing/clock", {"advance_ms": ms})["now_ms"]

    def barrier(self):
        """Returns once every notice caused so far has reached the sink (see the module doc)."""
        sender, marker = self.user("barrier"), self.person("marker")
        room = self.room(sender, marker)
        self.send(sender, room, "marker")
        self.sink.wait_for(marker["email"])

    def assertNoMail(self, who):
        self.barrier()
        self.assertEqual(self.sink.to(who["email"]), [], f"unexpected mail to {who['user_id']}")


class NoticeTest(EmailTestCase):

    def test_idle_recipient_gets_a_neutral_notice_with_no_room_content(self):
        alice = self.person("alice", displayname="Alice Wonderland")
        bob = self.person("bob")
        room = self.room(alice, bob, name="Diagnosis of Bob")
        text = "the test results are in: nothing serious"
        self.send(alice, room, text)
        [mail] = self.sink.wait_for(bob["email"])
        self.assertEqual(mail["rcpt_tos"], [bob["email"]])
        self.assertEqual(mail["mail_from"], FROM)
        msg = mail["message"]
        self.assertEqual(msg["From"], FROM)
        self.assertEqual(msg["To"], bob["email"])
        for header in ("Subject", "Date", "Message-ID", "MIME-Version"):
            self.assertTrue(msg[header], f"missing {header}")
        self.assertEqual(msg.get_content_type(), "text/plain")
        self.assertEqual(msg.get_content_charset(), "utf-8")
        body = msg.get_content()
        self.assertIn("You have unread messages in 1 conversation.", body)
        self.assertIn(CLIENT_URL, body)
        everything = mail["data"]
        for secret in (text, "test results", "Diagnosis", "Alice", "Wonderland",
                       alice["user_id"], alice["user_id"][1:].split(":")[0], room,
                       room.split(":")[0][1:]):
            self.assertNotIn(secret, everything)

    def test_no_notice_while_the_recipient_is_online_then_one_once_idle(self):
        alice, bob = self.person("alice"), self.person("bob")
        room = self.room(alice, bob)
        self.be_active(bob)
        self.send(alice, room, "hello")
        self.assertNoMail(bob)
        self.advance(self.idle_minutes * MINUTE + MINUTE)
        self.sink.wait_for(bob["email"])

    def test_no_notice_when_the_message_was_read(self):
        alice, bob = self.person("alice"), self.person("bob")
        room = self.room(alice, bob)
        self.be_active(bob)
        event = self.send(alice, room, "hello")
        self.read(bob, room, event)
        self.advance(self.idle_minutes * MINUTE + MINUTE)
        self.assertNoMail(bob)

    def test_never_two_notices_for_the_same_unread_message(self):
        alice, bob = self.person("alice"), self.person("bob")
        room = self.room(alice, bob)
        self.send(alice, room, "one")
        self.sink.wait_for(bob["email"])
        self.advance(2 * HOUR)
        self.barrier()
        self.advance(2 * 24 * HOUR)
        self.barrier()
        self.assertEqual(len(self.sink.to(bob["email"])), 1)
        # A new message is a new notice.
        self.send(alice, room, "two")
        self.sink.wait_for(bob["email"], 2)
        self.barrier()
        self.assertEqual(len(self.sink.to(bob["email"])), 2)

    def test_own_messages_and_other_users_bring_no_notice(self):
        alice, bob, carol = self.person("alice"), self.person("bob"), self.person("carol")
        room = self.room(alice, bob)
        self.send(alice, room, "to bob only")
        self.sink.wait_for(bob["email"])
        self.assertNoMail(alice)
        self.assertEqual(self.sink.to(carol["email"]), [])

    def test_no_address_means_no_mail(self):
        alice, bob = self.person("alice"), self.person("bob")
        self.admin_ok("PUT", f"/users/{quote(bob['user_id'])}/email", {"email": ""})
        room = self.room(alice, bob)
        self.send(alice, room, "hello")
        self.assertNoMail(bob)

    def test_frequency_off_sends_nothing(self):
        alice, bob = self.person("alice"), self.person("bob", frequency="off")
        room = self.room(alice, bob)
        self.send(alice, room, "hello")
        self.advance(2 * 24 * HOUR)
        self.assertNoMail(bob)

    def test_hourly_digest_goes_out_when_the_hour_is_over(self):
        alice, bob = self.person("alice"), self.person("bob", frequency="hourly")
        first, second = self.room(alice, bob), self.room(alice, bob)
        self.send(alice, first, "one")
        self.assertNoMail(bob)
        self.advance(30 * MINUTE)
        self.send(alice, second, "two")
        self.advance(29 * MINUTE)
        self.assertNoMail(bob)
        self.advance(2 * MINUTE)
        [mail] = self.sink.wait_for(bob["email"])
        self.assertIn("unread messages in 2 conversations.", mail["message"].get_content())
        self.barrier()
        self.assertEqual(len(self.sink.to(bob["email"])), 1)

    def test_daily_digest_set_by_the_admin_goes_out_after_a_day(self):
        alice, bob = self.person("alice"), self.person("bob")
        path = f"/users/{quote(bob['user_id'])}/notifications"
        self.assertEqual(self.admin_ok("GET", path), {"email_frequency": "immediate"})
        self.assertEqual(self.admin_ok("PUT", path, {"email_frequency": "daily"}),
                         {"email_frequency": "daily"})
        self.assertEqual(self.admin_ok("GET", path), {"email_frequency": "daily"})
        # The user's clients see the setting in their account data.
        content = self.ok(bob, "GET",
                          f"/user/{quote(bob['user_id'])}/account_data/org.haven.notifications")
        self.assertEqual(content, {"email_frequency": "daily"})
        room = self.room(alice, bob)
        self.send(alice, room, "hello")
        self.advance(23 * HOUR)
        self.assertNoMail(bob)
        self.advance(HOUR + MINUTE)
        self.sink.wait_for(bob["email"])

    def test_digest_read_before_it_is_due_is_not_sent(self):
        alice, bob = self.person("alice"), self.person("bob", frequency="hourly")
        room = self.room(alice, bob)
        event = self.send(alice, room, "hello")
        self.advance(10 * MINUTE)
        self.read(bob, room, event)
        self.advance(HOUR)
        self.assertNoMail(bob)


class SettingsInputTest(EmailTestCase):

    def test_account_data_refuses_unknown_frequencies(self):
        bob = self.person("bob")
        path = f"/user/{quote(bob['user_id'])}/account_data/org.haven.notifications"
        self.assertError(self.req(bob, "PUT", path, {"email_frequency": "weekly"}), 400,
                         "M_INVALID_PARAM")
        self.assertError(self.req(bob, "PUT", path, {"email_frequency": True}), 400, "M_BAD_JSON")
        self.assertError(self.req(bob, "PUT", path, {"email_frequency": ["off"]}), 400,
                         "M_BAD_JSON")
        self.assertError(self.req(bob, "PUT", path, raw_body=b"[]"), 400, "M_BAD_JSON")
        self.ok(bob, "PUT", path, {"email_frequency": "hourly", "client_field": 1})
        self.assertEqual(self.ok(bob, "GET", path),
                         {"email_frequency": "hourly", "client_field": 1})
        # The admin API reads it, and keeps the client's other fields when it writes.
        admin_path = f"/users/{quote(bob['user_id'])}/notifications"
        self.assertEqual(self.admin_ok("GET", admin_path), {"email_frequency": "hourly"})
        self.admin_ok("PUT", admin_path, {"email_frequency": "off"})
        self.assertEqual(self.ok(bob, "GET", path), {"email_frequency": "off", "client_field": 1})

    def test_admin_api_refuses_bad_input(self):
        bob = self.person("bob")
        path = ADMIN + f"/users/{quote(bob['user_id'])}/notifications"
        for body, errcode in (({"email_frequency": "weekly"}, "M_INVALID_PARAM"),
                              ({"email_frequency": 5}, "M_BAD_JSON"),
                              ({}, "M_MISSING_PARAM")):
            self.assertError(self.req(self.admin, "PUT", path, body), 400, errcode)
        self.assertError(self.req(self.admin, "PUT", path, raw_body=b"{"), 400, "M_NOT_JSON")
        self.assertError(self.req(bob, "PUT", path, {"email_frequency": "off"}), 403,
                         "M_FORBIDDEN")
        self.assertError(self.req(bob, "GET", path), 403, "M_FORBIDDEN")
        missing = ADMIN + f"/users/{quote('@nobody:' + self.server.server_name)}/notifications"
        self.assertError(self.req(self.admin, "GET", missing), 404, "M_NOT_FOUND")
        self.assertError(self.req(self.admin, "GET", ADMIN + "/users/not-a-user/notifications"),
                         400, "M_INVALID_PARAM")
        remote = ADMIN + f"/users/{quote('@x:elsewhere.test')}/notifications"
        self.assertError(self.req(self.admin, "PUT", remote, {"email_frequency": "off"}), 400,
                         "M_INVALID_PARAM")
        email_path = ADMIN + f"/users/{quote(bob['user_id'])}/email"
        for bad in ("not-an-email", "a@b@c", "x@y\r\nBcc: z@w", 7):
            status, body = self.req(self.admin, "PUT", email_path, {"email": bad})
            self.assertEqual(status, 400, body)

    def test_clock_refuses_bad_input_and_non_admins(self):
        bob = self.user("bob")
        path = ADMIN + "/testing/clock"
        for body, errcode in (({"advance_ms": -5}, "M_INVALID_PARAM"),
                              ({"advance_ms": 0}, "M_INVALID_PARAM"),
                              ({"advance_ms": 10 ** 15}, "M_INVALID_PARAM"),
                              ({"advance_ms": "60000"}, "M_BAD_JSON"),
                              ({"advance_ms": 1.5}, "M_BAD_JSON"),
                              ({}, "M_MISSING_PARAM")):
            self.assertError(self.req(self.admin, "POST", path, body), 400, errcode)
        self.assertError(self.req(bob, "POST", path, {"advance_ms": 1000}), 403, "M_FORBIDDEN")
        before = self.admin_ok("GET", "/testing/clock")["now_ms"]
        after = self.advance(HOUR)
        self.assertGreaterEqual(after, before + HOUR)
        # Server timestamps follow the clock.
        alice = self.user("alice")
        room = self.ok(alice, "POST", "/createRoom", {})["room_id"]
        event = self.send(alice, room, "when")
        ts = self.ok(alice, "GET", f"/rooms/{quote(room)}/event/{quote(event)}")[
            "origin_server_ts"]
        self.assertGreaterEqual(ts, after)


class SmtpOutageTest(EmailTestCase):
    """The mail server goes down; haven keeps the notice and delivers it when it is back,
    also across a restart of haven. SMTP AUTH is required by this sink."""

    sink_auth = "haven:smtp-secret"

    def wait_for_log(self, pattern):
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if re.search(pattern, self.server.log_text()):
                return
            time.sleep(0.05)
        self.fail(f"log never matched {pattern!r}:\n{self.server.log_tail()}")

    def test_mail_arrives_after_the_smtp_server_comes_back(self):
        alice, bob = self.person("alice"), self.person("bob")
        room = self.room(alice, bob)
        self.sink.stop()
        try:
            self.send(alice, room, "while the mail server is down")
            self.wait_for_log(re.escape(bob["user_id"]) + r" failed \(attempt 1\)")
        finally:
            self.sink.start()
        self.assertEqual(self.sink.to(bob["email"]), [])
        self.advance(2 * MINUTE)  # past the first retry delay
        [mail] = self.sink.wait_for(bob["email"])
        self.assertIn("1 conversation", mail["message"].get_content())

    def test_queued_mail_survives_a_restart(self):
        alice, bob = self.person("alice"), self.person("bob")
        room = self.room(alice, bob)
        self.sink.stop()
        try:
            self.send(alice, room, "before the restart")
            self.wait_for_log(re.escape(bob["user_id"]) + r" failed \(attempt 1\)")
            clock = self.admin_ok("GET", "/testing/clock")["now_ms"]
            self.server.restart()
        finally:
            self.sink.start()
        # The test clock starts afresh with the process: catch up with where it was.
        now = self.admin_ok("GET", "/testing/clock")["now_ms"]
        self.advance(max(1, clock - now) + 2 * MINUTE)
        self.sink.wait_for(bob["email"])
        self.barrier()
        self.assertEqual(len(self.sink.to(bob["email"])), 1)


class StartTlsTest(EmailTestCase):
    """A mail server that requires STARTTLS (and AUTH): haven upgrades the connection,
    verifies the certificate against smtp_ca_file and authenticates."""

    sink_tls = True
    sink_auth = "haven:smtp-secret"
    options = {"email.require_starttls": "true"}

    def test_mail_goes_over_starttls(self):
        alice, bob = self.person("alice"), self.person("bob")
        room = self.room(alice, bob)
        self.send(alice, room, "over TLS")
        [mail] = self.sink.wait_for(bob["email"])
        self.assertIn("1 conversation", mail["message"].get_content())


class SmtpsTest(EmailTestCase):
    """smtps://: TLS from the first byte, the certificate verified against smtp_ca_file."""

    sink_tls = True
    sink_smtps = True

    def test_mail_goes_over_smtps(self):
        alice, bob = self.person("alice"), self.person("bob")
        room = self.room(alice, bob)
        self.send(alice, room, "over SMTPS")
        self.sink.wait_for(bob["email"])


class RequireStartTlsTest(EmailTestCase):
    """require_starttls against a server that offers no STARTTLS: nothing is sent in the
    clear; the mail stays queued and is retried."""

    options = {"email.require_starttls": "true"}

    def test_no_mail_without_starttls(self):
        alice, bob = self.person("alice"), self.person("bob")
        room = self.room(alice, bob)
        self.send(alice, room, "must not go in the clear")
        deadline = time.monotonic() + WAIT_S
        pattern = re.escape(bob["user_id"]) + r" failed \(attempt 1\)"
        while not re.search(pattern, self.server.log_text()):
            self.assertLess(time.monotonic(), deadline, self.server.log_tail())
            time.sleep(0.05)
        self.assertEqual(self.sink.received(), [])


class ThreepidTest(EmailTestCase):

    def request_token(self, address, secret="s3cret", attempt=1):
        return self.client.request("POST", V3 + "/account/3pid/email/requestToken",
                                   {"client_secret": secret, "email": address,
                                    "send_attempt": attempt})

    def token_from_mail(self, address, count=1):
        mail = self.sink.wait_for(address, count)[-1]
        body = mail["message"].get_content()
        return re.search(r"code in the app: (\S+)", body).group(1), body

    def add(self, who, sid, secret="s3cret"):
        body = {"client_secret": secret, "sid": sid,
                "auth": {"type": "m.login.password", "password": PASSWORD,
                         "identifier": {"type": "m.id.user", "user": who["user_id"]}}}
        return self.req(who, "POST", "/account/3pid/add", body)

    def test_address_is_validated_by_mail_then_added(self):
        bob = self.user("bob")
        address = f"{unique('b')}@mail.haven.test"
        status, reply = self.request_token(address)
        self.assertEqual(status, 200, reply)
        sid = reply["sid"]
        self.assertTrue(reply["submit_url"].endswith("/add_threepid/email/submit_token"))
        token, body = self.token_from_mail(address)
        # The same send_attempt again: the same session, no second mail.
        self.assertEqual(self.request_token(address)[1]["sid"], sid)
        self.assertError(self.add(bob, sid), 400, "M_THREEPID_AUTH_FAILED")
        submit = "/_matrix/client/unstable/add_threepid/email/submit_token"
        self.assertError(self.client.request("POST", submit, {"sid": sid, "client_secret": "s3cret",
                                                              "token": "wrong"}),
                         400, "M_THREEPID_AUTH_FAILED")
        self.assertError(self.client.request("POST", submit, {"sid": sid, "client_secret": "other",
                                                              "token": token}),
                         404, "M_NO_VALID_SESSION")
        # The link in the mail confirms it.
        link = re.search(r"http://\S+", body).group(0)
        status, _ = self.client.request("GET", link[link.index("/_matrix"):])
        self.assertEqual(status, 200)
        self.assertEqual(self.add(bob, sid)[0], 200)
        threepids = self.ok(bob, "GET", "/account/3pid")["threepids"]
        self.assertEqual([(t["medium"], t["address"]) for t in threepids], [("email", address)])
        self.assertGreater(threepids[0]["added_at"], 0)
        self.assertEqual(len(self.sink.to(address)), 1)
        # Someone else cannot take it.
        self.assertError(self.request_token(address.upper(), "other"), 400, "M_THREEPID_IN_USE")
        # And the notices now go there.
        alice = self.user("alice")
        room = self.room(alice, bob)
        self.send(alice, room, "hi")
        self.sink.wait_for(address, 2)
        self.ok(bob, "POST", "/account/3pid/delete", {"medium": "email", "address": address})
        self.assertEqual(self.ok(bob, "GET", "/account/3pid")["threepids"], [])

    def test_submit_by_post_and_bad_requests(self):
        bob = self.user("bob")
        address = f"{unique('c')}@mail.haven.test"
        sid = self.request_token(address, "sec")[1]["sid"]
        token, _ = self.token_from_mail(address)
        submit = "/_matrix/client/unstable/add_threepid/email/submit_token"
        status, reply = self.client.request("POST", submit,
                                            {"sid": sid, "client_secret": "sec", "token": token})
        self.assertEqual((status, reply), (200, {"success": True}))
        self.assertError(self.add(bob, sid, "wrong-secret"), 400, "M_THREEPID_AUTH_FAILED")
        self.assertError(self.add(bob, "no-such-sid", "sec"), 400, "M_THREEPID_AUTH_FAILED")
        self.assertEqual(self.add(bob, sid, "sec")[0], 200)
        for body, errcode in (({"client_secret": "s", "email": "not-an-email", "send_attempt": 1},
                               "M_INVALID_PARAM"),
                              ({"client_secret": "bad secret!", "email": "a@b.test",
                                "send_attempt": 1}, "M_INVALID_PARAM"),
                              ({"client_secret": "s", "email": "a@b.test"}, "M_MISSING_PARAM"),
                              ({"client_secret": "s", "email": 5, "send_attempt": 1},
                               "M_BAD_JSON"),
                              ({"email": "a@b.test", "send_attempt": 1}, "M_MISSING_PARAM")):
            status, reply = self.client.request("POST", V3 + "/account/3pid/email/requestToken",
                                                body)
            self.assertError((status, reply), 400, errcode)
        self.assertError(self.req(bob, "POST", "/account/3pid/add", {"sid": sid}), 400,
                         "M_MISSING_PARAM")
        self.assertError(self.req(bob, "POST", "/account/3pid/delete", {"medium": "fax",
                                                                        "address": "x"}),
                         400, "M_INVALID_PARAM")
        caps = self.ok(bob, "GET", "/capabilities")["capabilities"]
        self.assertTrue(caps["m.3pid_changes"]["enabled"])


class WithoutEmailTest(HomeserverTestCase):
    """No email section: no 3PID changes, and no test clock without testing.fake_clock."""

    def test_no_email_no_3pid_and_no_clock(self):
        status, body = self.client.request("POST", V3 + "/account/3pid/email/requestToken",
                                           {"client_secret": "s", "email": "a@b.test",
                                            "send_attempt": 1})
        self.assertError((status, body), 400, "M_THREEPID_MEDIUM_NOT_SUPPORTED")
        bob = self.user("bob")
        caps = self.ok(bob, "GET", "/capabilities")["capabilities"]
        self.assertFalse(caps["m.3pid_changes"]["enabled"])
        self.assertEqual(self.ok(bob, "GET", "/account/3pid"), {"threepids": []})
        status, admin = self.client.shared_secret_register(unique("admin"), PASSWORD, admin=True)
        self.assertEqual(status, 200, admin)
        self.assertError(self.req(admin, "POST", ADMIN + "/testing/clock", {"advance_ms": 1000}),
                         404, "M_UNRECOGNIZED")
        self.assertError(self.req(admin, "GET", ADMIN + "/testing/clock"), 404, "M_UNRECOGNIZED")


if __name__ == "__main__":
    unittest.main()
