"""Integration tests of the account endpoints of the Client-Server API: discovery (versions,
well-known, capabilities), registration with user-interactive auth, login, whoami, logout,
password change, deactivation, shared-secret registration and login rate limiting.
Each expectation is the specification's (data/api/client-server/*.yaml)."""

import re
import time
import unittest

from harness import HomeserverTestCase, quote, unique

V3 = "/_matrix/client/v3"
PASSWORD = "correct horse battery"


class DiscoveryTest(HomeserverTestCase):
    def test_versions_lists_spec_versions_without_auth(self):
        status, body = self.client.request("GET", "/_matrix/client/versions")
        self.assertEqual(status, 200)
        self.assertIsInstance(body["versions"], list)
        self.assertTrue(body["versions"], "at least one version")
        for v in body["versions"]:
            self.assertRegex(v, r"^(r\d+\.\d+\.\d+|v\d+\.\d+)$")
        self.assertIn("v1.1", body["versions"])
        if "unstable_features" in body:
            self.assertIsInstance(body["unstable_features"], dict)

    def test_well_known_client_points_at_a_working_base_url(self):
        status, body = self.client.request("GET", "/.well-known/matrix/client")
        self.assertEqual(status, 200)
        base = body["m.homeserver"]["base_url"]
        self.assertRegex(base, r"^https?://")
        # The advertised base URL reaches this server's client API.
        m = re.match(r"^http://([^/:]+):(\d+)/?$", base)
        self.assertIsNotNone(m, f"base_url {base!r} is not this plain-HTTP listener")
        self.assertEqual(int(m.group(2)), self.server.port)

    def test_capabilities_requires_an_access_token(self):
        self.assertError(self.client.request("GET", V3 + "/capabilities"), 401,
                         "M_MISSING_TOKEN")

    def test_capabilities_lists_room_versions_and_password_change(self):
        token = self.client.register(unique("caps"))["access_token"]
        status, body = self.client.request("GET", V3 + "/capabilities", token=token)
        self.assertEqual(status, 200)
        caps = body["capabilities"]
        versions = caps["m.room_versions"]
        self.assertIn(versions["default"], versions["available"])
        for stability in versions["available"].values():
            self.assertIn(stability, ("stable", "unstable"))
        # Password change works on this server (tested below), so it must not be disabled.
        self.assertTrue(caps.get("m.change_password", {"enabled": True})["enabled"])


class RegistrationTest(HomeserverTestCase):
    def test_register_without_auth_returns_uia_flows_and_session(self):
        status, body = self.client.request("POST", V3 + "/register",
                                           {"username": unique("uia"), "password": PASSWORD})
        self.assertEqual(status, 401, body)
        self.assertIsInstance(body["session"], str)
        self.assertTrue(body["session"])
        self.assertIsInstance(body["flows"], list)
        self.assertIn(["m.login.dummy"], [flow["stages"] for flow in body["flows"]])
        self.assertIsInstance(body.get("params", {}), dict)

    def test_register_with_dummy_stage_creates_account_and_logs_in(self):
        name = unique("dummy")
        first_status, first = self.client.request("POST", V3 + "/register",
                                                  {"username": name, "password": PASSWORD})
        self.assertEqual(first_status, 401)
        status, body = self.client.request(
            "POST", V3 + "/register",
            {"username": name, "password": PASSWORD,
             "auth": {"type": "m.login.dummy", "session": first["session"]}})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["user_id"], f"@{name}:{self.server.server_name}")
        self.assertTrue(body["access_token"])
        self.assertTrue(body["device_id"])
        status, me = self.client.whoami(body["access_token"])
        self.assertEqual(status, 200, me)
        self.assertEqual(me["user_id"], body["user_id"])
        self.assertEqual(me["device_id"], body["device_id"])

    def test_register_uses_the_device_id_the_client_gives(self):
        body = self.client.register(unique("dev"), extra={"device_id": "MYPHONE",
                                                          "initial_device_display_name": "Phone"})
        self.assertEqual(body["device_id"], "MYPHONE")
        status, me = self.client.whoami(body["access_token"])
        self.assertEqual(me["device_id"], "MYPHONE")

    def test_register_with_inhibit_login_returns_no_access_token(self):
        name = unique("inhibit")
        body = self.client.register(name, extra={"inhibit_login": True})
        self.assertEqual(body["user_id"], f"@{name}:{self.server.server_name}")
        self.assertNotIn("access_token", body)
        self.assertNotIn("device_id", body)
        self.client.login_ok(name)

    def test_register_taken_username_is_user_in_use(self):
        name = unique("taken")
        self.client.register(name)
        self.assertError(self.client.register_flow(name, PASSWORD), 400, "M_USER_IN_USE")

    def test_register_uppercase_username_is_lowercased(self):
        name = unique("Upper")
        body = self.client.register(name)
        self.assertEqual(body["user_id"], f"@{name.lower()}:{self.server.server_name}")
        # The lowercased name is now taken, in any case.
        self.assertError(self.client.register_flow(name.lower(), PASSWORD), 400, "M_USER_IN_USE")

    def test_register_name_with_space_is_invalid_username(self):
        self.assertError(self.client.register_flow("bad name", PASSWORD), 400,
                         "M_INVALID_USERNAME")

    def test_register_name_with_colon_is_invalid_username(self):
        self.assertError(self.client.register_flow("bad:name", PASSWORD), 400,
                         "M_INVALID_USERNAME")

    def test_register_without_username_generates_one(self):
        status, first = self.client.request("POST", V3 + "/register", {"password": PASSWORD})
        self.assertEqual(status, 401, first)
        status, body = self.client.request(
            "POST", V3 + "/register",
            {"password": PASSWORD, "auth": {"type": "m.login.dummy", "session": first["session"]}})
        self.assertEqual(status, 200, body)
        self.assertRegex(body["user_id"], r"^@[a-z0-9._=\-/+]+:" + re.escape(self.server.server_name) + "$")

    def test_register_username_wrong_type_is_bad_json(self):
        self.assertError(self.client.request("POST", V3 + "/register",
                                             {"username": 5, "password": PASSWORD}),
                         400, "M_BAD_JSON")

    def test_register_guest_kind_is_refused(self):
        # Guest access is off: the spec's 403 for a kind the server does not permit.
        status, body = self.client.request("POST", V3 + "/register?kind=guest", {})
        self.assertEqual(status, 403, body)
        self.assertEqual(body["errcode"], "M_FORBIDDEN")

    def test_available_for_a_free_name(self):
        status, body = self.client.request(
            "GET", V3 + "/register/available?username=" + quote(unique("free")))
        self.assertEqual(status, 200, body)
        self.assertIs(body["available"], True)

    def test_available_for_a_taken_name_is_user_in_use(self):
        name = unique("avail")
        self.client.register(name)
        self.assertError(self.client.request(
            "GET", V3 + "/register/available?username=" + quote(name)), 400, "M_USER_IN_USE")

    def test_available_for_an_invalid_name_is_invalid_username(self):
        self.assertError(self.client.request(
            "GET", V3 + "/register/available?username=" + quote("bad name")), 400,
            "M_INVALID_USERNAME")

    def test_available_without_username_is_missing_param(self):
        self.assertError(self.client.request("GET", V3 + "/register/available"), 400,
                         "M_MISSING_PARAM")


class LoginTest(HomeserverTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.name = unique("login")
        cls.user_id = cls.client.register(cls.name)["user_id"]

    def test_get_login_offers_password_flow(self):
        status, body = self.client.request("GET", V3 + "/login")
        self.assertEqual(status, 200)
        self.assertIn("m.login.password", [flow["type"] for flow in body["flows"]])

    def test_login_with_user_identifier_localpart(self):
        status, body = self.client.login(self.name)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["user_id"], self.user_id)
        self.assertTrue(body["access_token"])
        self.assertTrue(body["device_id"])
        self.assertEqual(self.client.whoami(body["access_token"])[1]["user_id"], self.user_id)

    def test_login_with_full_user_id(self):
        status, body = self.client.login(self.user_id)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["user_id"], self.user_id)

    def test_login_is_case_insensitive_for_the_localpart(self):
        status, body = self.client.login(self.name.upper())
        self.assertEqual(status, 200, body)
        self.assertEqual(body["user_id"], self.user_id)

    def test_each_login_gets_its_own_device_and_token(self):
        a = self.client.login_ok(self.name)
        b = self.client.login_ok(self.name)
        self.assertNotEqual(a["access_token"], b["access_token"])
        self.assertNotEqual(a["device_id"], b["device_id"])
        self.assertEqual(self.client.whoami(a["access_token"])[0], 200)
        self.assertEqual(self.client.whoami(b["access_token"])[0], 200)

    def test_login_with_device_id_reuses_that_device(self):
        body = self.client.login_ok(self.name, device_id="LAPTOP")
        self.assertEqual(body["device_id"], "LAPTOP")
        self.assertEqual(self.client.whoami(body["access_token"])[1]["device_id"], "LAPTOP")

    def test_login_wrong_password_is_forbidden(self):
        self.assertError(self.client.login(self.name, "not the password"), 403, "M_FORBIDDEN")

    def test_login_unknown_user_is_forbidden(self):
        self.assertError(self.client.login(unique("nobody")), 403, "M_FORBIDDEN")

    def test_login_user_on_another_server_is_forbidden(self):
        self.assertError(self.client.login(f"@{self.name}:other.example.org"), 403, "M_FORBIDDEN")

    def test_login_unknown_type_is_rejected(self):
        status, body = self.client.request("POST", V3 + "/login",
                                           {"type": "m.login.bogus", "user": self.name})
        self.assertEqual(status, 400, body)
        self.assertIn(body["errcode"], ("M_UNKNOWN", "M_BAD_JSON"))

    def test_login_password_wrong_type_is_bad_json(self):
        self.assertError(self.client.request(
            "POST", V3 + "/login",
            {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": self.name},
             "password": 5}), 400, "M_BAD_JSON")

    def test_login_identifier_user_wrong_type_is_bad_json(self):
        self.assertError(self.client.request(
            "POST", V3 + "/login",
            {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": 5},
             "password": PASSWORD}), 400, "M_BAD_JSON")

    def test_login_without_password_is_rejected(self):
        status, body = self.client.request(
            "POST", V3 + "/login",
            {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": self.name}})
        self.assertEqual(status, 400, body)
        self.assertIn(body["errcode"], ("M_MISSING_PARAM", "M_BAD_JSON"))


class TokenTest(HomeserverTestCase):
    def setUp(self):
        self.name = unique("tok")
        self.session = self.client.register(self.name)
        self.token = self.session["access_token"]

    def test_whoami_with_token_in_header(self):
        status, body = self.client.whoami(self.token)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["user_id"], self.session["user_id"])
        self.assertEqual(body["device_id"], self.session["device_id"])
        self.assertIs(body.get("is_guest", False), False)

    def test_whoami_with_token_in_query(self):
        status, body = self.client.request(
            "GET", V3 + "/account/whoami?access_token=" + quote(self.token))
        self.assertEqual(status, 200, body)
        self.assertEqual(body["user_id"], self.session["user_id"])

    def test_whoami_without_token_is_missing_token(self):
        self.assertError(self.client.request("GET", V3 + "/account/whoami"), 401,
                         "M_MISSING_TOKEN")

    def test_whoami_with_unknown_token_is_unknown_token(self):
        self.assertError(self.client.whoami("syt_not_a_real_token"), 401, "M_UNKNOWN_TOKEN")

    def test_whoami_with_non_bearer_authorization_is_missing_token(self):
        self.assertError(self.client.request("GET", V3 + "/account/whoami",
                                             headers={"Authorization": "Basic " + self.token}),
                         401, "M_MISSING_TOKEN")

    def test_logout_makes_the_token_unknown(self):
        status, body = self.client.request("POST", V3 + "/logout", {}, token=self.token)
        self.assertEqual(status, 200, body)
        self.assertEqual(body, {})
        self.assertError(self.client.whoami(self.token), 401, "M_UNKNOWN_TOKEN")

    def test_logout_leaves_other_devices_logged_in(self):
        other = self.client.login_ok(self.name)["access_token"]
        self.assertEqual(self.client.request("POST", V3 + "/logout", {}, token=self.token)[0], 200)
        self.assertEqual(self.client.whoami(other)[0], 200)

    def test_logout_without_token_is_missing_token(self):
        self.assertError(self.client.request("POST", V3 + "/logout", {}), 401, "M_MISSING_TOKEN")

    def test_logout_all_ends_every_session(self):
        other = self.client.login_ok(self.name)["access_token"]
        status, body = self.client.request("POST", V3 + "/logout/all", {}, token=self.token)
        self.assertEqual(status, 200, body)
        self.assertError(self.client.whoami(self.token), 401, "M_UNKNOWN_TOKEN")
        self.assertError(self.client.whoami(other), 401, "M_UNKNOWN_TOKEN")
        # The account itself still works.
        self.client.login_ok(self.name)


class PasswordChangeTest(HomeserverTestCase):
    def setUp(self):
        self.name = unique("pw")
        self.session = self.client.register(self.name)
        self.token = self.session["access_token"]

    def change(self, new_password, auth_password=None, session=None, **extra):
        body = {"new_password": new_password, **extra}
        if auth_password is not None:
            body["auth"] = {"type": "m.login.password",
                            "identifier": {"type": "m.id.user", "user": self.name},
                            "password": auth_password}
            if session:
                body["auth"]["session"] = session
        return self.client.request("POST", V3 + "/account/password", body, token=self.token)

    def test_password_change_asks_for_password_stage(self):
        status, body = self.change("new secret")
        self.assertEqual(status, 401, body)
        self.assertTrue(body["session"])
        self.assertIn(["m.login.password"], [flow["stages"] for flow in body["flows"]])

    def test_password_change_with_wrong_password_is_forbidden_in_uia_body(self):
        status, first = self.change("new secret")
        self.assertEqual(status, 401)
        status, body = self.change("new secret", "wrong password", first["session"])
        self.assertEqual(status, 401, body)
        self.assertEqual(body["errcode"], "M_FORBIDDEN")
        self.assertIn("flows", body)
        self.assertNotIn("m.login.password", body.get("completed", []))
        # Nothing changed.
        self.client.login_ok(self.name, PASSWORD)

    def test_password_change_then_login_with_new_password(self):
        status, first = self.change("new secret")
        status, body = self.change("new secret", PASSWORD, first["session"])
        self.assertEqual(status, 200, body)
        self.assertError(self.client.login(self.name, PASSWORD), 403, "M_FORBIDDEN")
        self.client.login_ok(self.name, "new secret")

    def test_password_change_logs_out_other_devices_but_not_this_one(self):
        other = self.client.login_ok(self.name)["access_token"]
        status, first = self.change("new secret")
        status, body = self.change("new secret", PASSWORD, first["session"])
        self.assertEqual(status, 200, body)
        self.assertEqual(self.client.whoami(self.token)[0], 200)
        self.assertError(self.client.whoami(other), 401, "M_UNKNOWN_TOKEN")

    def test_password_change_with_logout_devices_false_keeps_other_devices(self):
        other = self.client.login_ok(self.name)["access_token"]
        status, first = self.change("new secret", logout_devices=False)
        status, body = self.change("new secret", PASSWORD, first["session"], logout_devices=False)
        self.assertEqual(status, 200, body)
        self.assertEqual(self.client.whoami(other)[0], 200)

    def test_password_stage_for_another_user_is_refused(self):
        victim = unique("victim")
        self.client.register(victim)
        status, first = self.change("new secret")
        body = {"new_password": "new secret",
                "auth": {"type": "m.login.password", "session": first["session"],
                         "identifier": {"type": "m.id.user", "user": victim},
                         "password": PASSWORD}}
        status, reply = self.client.request("POST", V3 + "/account/password", body,
                                            token=self.token)
        self.assertIn(status, (401, 403), reply)
        self.assertEqual(reply["errcode"], "M_FORBIDDEN")
        self.client.login_ok(self.name, PASSWORD)
        self.client.login_ok(victim, PASSWORD)


class DeactivationTest(HomeserverTestCase):
    def deactivate(self, name, token):
        status, first = self.client.request("POST", V3 + "/account/deactivate", {}, token=token)
        self.assertEqual(status, 401, first)
        self.assertIn(["m.login.password"], [flow["stages"] for flow in first["flows"]])
        return self.client.request(
            "POST", V3 + "/account/deactivate",
            {"auth": {"type": "m.login.password", "session": first["session"],
                      "identifier": {"type": "m.id.user", "user": name},
                      "password": PASSWORD}},
            token=token)

    def test_deactivate_then_login_is_user_deactivated(self):
        name = unique("gone")
        token = self.client.register(name)["access_token"]
        status, body = self.deactivate(name, token)
        self.assertEqual(status, 200, body)
        self.assertIn(body["id_server_unbind_result"], ("success", "no-support"))
        self.assertError(self.client.login(name), 403, "M_USER_DEACTIVATED")

    def test_deactivate_kills_every_token(self):
        name = unique("gone")
        token = self.client.register(name)["access_token"]
        other = self.client.login_ok(name)["access_token"]
        self.assertEqual(self.deactivate(name, token)[0], 200)
        self.assertError(self.client.whoami(token), 401, "M_UNKNOWN_TOKEN")
        self.assertError(self.client.whoami(other), 401, "M_UNKNOWN_TOKEN")

    def test_deactivated_user_id_cannot_be_registered_again(self):
        name = unique("gone")
        token = self.client.register(name)["access_token"]
        self.assertEqual(self.deactivate(name, token)[0], 200)
        self.assertError(self.client.register_flow(name, PASSWORD), 400, "M_USER_IN_USE")

    def test_deactivate_with_wrong_password_keeps_the_account(self):
        name = unique("stay")
        token = self.client.register(name)["access_token"]
        status, first = self.client.request("POST", V3 + "/account/deactivate", {}, token=token)
        status, body = self.client.request(
            "POST", V3 + "/account/deactivate",
            {"auth": {"type": "m.login.password", "session": first["session"],
                      "identifier": {"type": "m.id.user", "user": name},
                      "password": "wrong"}},
            token=token)
        self.assertEqual(status, 401, body)
        self.assertEqual(body["errcode"], "M_FORBIDDEN")
        self.assertEqual(self.client.whoami(token)[0], 200)
        self.client.login_ok(name)

    def test_deactivate_without_token_is_missing_token(self):
        self.assertError(self.client.request("POST", V3 + "/account/deactivate", {}), 401,
                         "M_MISSING_TOKEN")


class SharedSecretRegistrationTest(HomeserverTestCase):
    # Shared-secret registration works whatever enable_registration says.
    enable_registration = False

    def test_open_registration_is_off_here(self):
        self.assertError(self.client.register_flow(unique("open"), PASSWORD), 403, "M_FORBIDDEN")

    def test_nonce_is_issued_fresh_each_time(self):
        a, b = self.client.nonce(), self.client.nonce()
        self.assertTrue(a)
        self.assertNotEqual(a, b)

    def test_register_with_correct_mac(self):
        name = unique("ss")
        status, body = self.client.shared_secret_register(name)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["user_id"], f"@{name}:{self.server.server_name}")
        self.assertEqual(self.client.whoami(body["access_token"])[1]["user_id"], body["user_id"])
        self.client.login_ok(name)

    def test_register_admin_with_correct_mac(self):
        name = unique("ssadmin")
        status, body = self.client.shared_secret_register(name, admin=True)
        self.assertEqual(status, 200, body)
        self.client.login_ok(name)

    def test_admin_flag_is_covered_by_the_mac(self):
        name = unique("sneaky")
        nonce = self.client.nonce()
        mac = self.client.shared_secret_mac(self.server.shared_secret, nonce, name, PASSWORD,
                                            admin=False)
        status, body = self.client.shared_secret_register(name, admin=True, nonce=nonce, mac=mac)
        self.assertEqual(status, 403, body)
        self.assertError(self.client.login(name), 403, "M_FORBIDDEN")

    def test_wrong_mac_is_forbidden(self):
        name = unique("wrongmac")
        status, body = self.client.shared_secret_register(name, secret="not the secret")
        self.assertEqual(status, 403, body)
        self.assertEqual(body["errcode"], "M_FORBIDDEN")
        self.assertError(self.client.login(name), 403, "M_FORBIDDEN")

    def test_reused_nonce_is_rejected(self):
        nonce = self.client.nonce()
        status, body = self.client.shared_secret_register(unique("once"), nonce=nonce)
        self.assertEqual(status, 200, body)
        name = unique("twice")
        status, body = self.client.shared_secret_register(name, nonce=nonce)
        self.assertEqual(status, 400, body)
        self.assertError(self.client.login(name), 403, "M_FORBIDDEN")

    def test_made_up_nonce_is_rejected(self):
        status, body = self.client.shared_secret_register(unique("madeup"), nonce="abcdef")
        self.assertEqual(status, 400, body)

    def test_taken_name_is_user_in_use(self):
        name = unique("dup")
        self.assertEqual(self.client.shared_secret_register(name)[0], 200)
        self.assertError(self.client.shared_secret_register(name), 400, "M_USER_IN_USE")

    def test_missing_mac_is_rejected(self):
        nonce = self.client.nonce()
        status, body = self.client.request(
            "POST", "/_synapse/admin/v1/register",
            {"nonce": nonce, "username": unique("nomac"), "password": PASSWORD})
        self.assertEqual(status, 400, body)


class LoginRateLimitTest(HomeserverTestCase):
    # The generated config's default limits (rc_login: burst 3, then about one per 6 s).
    relaxed_limits = False
    enable_registration = False

    def test_fourth_quick_login_is_rate_limited(self):
        results = [self.client.login(unique("nobody"), "x") for _ in range(5)]
        for status, body in results[:3]:
            self.assertEqual((status, body["errcode"]), (403, "M_FORBIDDEN"))
        for status, body in results[3:]:
            self.assertEqual(status, 429, body)
            self.assertEqual(body["errcode"], "M_LIMIT_EXCEEDED")
            self.assertIsInstance(body["retry_after_ms"], int)
            self.assertGreater(body["retry_after_ms"], 0)
        # Waiting as told lets the next attempt through.
        wait_ms = results[-1][1]["retry_after_ms"]
        self.assertLess(wait_ms, 30_000)
        time.sleep(wait_ms / 1000 + 0.2)
        status, body = self.client.login(unique("nobody"), "x")
        self.assertEqual((status, body["errcode"]), (403, "M_FORBIDDEN"))


class RetryAfterHeaderTest(HomeserverTestCase):
    relaxed_limits = False
    enable_registration = False

    def test_rate_limited_response_has_retry_after_header(self):
        for _ in range(6):
            status, body = self.client.login(unique("nobody"), "x")
            if status == 429:
                break
        self.assertEqual(status, 429, body)
        self.assertRegex(self.client.last_headers.get("retry-after", ""), r"^\d+$")


if __name__ == "__main__":
    unittest.main(verbosity=2)
