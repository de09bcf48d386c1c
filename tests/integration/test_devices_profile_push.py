"""Devices, profiles, push rules and the user directory over the Client-Server API: listing,
renaming and deleting devices (with user-interactive auth), profile changes and their
propagation into rooms, push rule management and unread counts, and directory search — and
the refusals for each. Each expectation is the specification's
(data/api/client-server/{device_management,profile,pushrules,users}.yaml)."""

import unittest

from harness import HomeserverTestCase, quote, unique

V3 = "/_matrix/client/v3"
PASSWORD = "correct horse battery"


class Base(HomeserverTestCase):
    options = {"rooms.encryption_enabled_by_default": "false"}

    def user(self, prefix="user", extra=None):
        return self.client.register(unique(prefix), PASSWORD, extra)

    def create_room(self, who, **body):
        return self.ok(who, "POST", "/createRoom", body)["room_id"]

    def send(self, who, room, content, type_="m.room.message"):
        return self.ok(who, "PUT", f"/rooms/{quote(room)}/send/{type_}/{unique('txn')}",
                       content)["event_id"]

    def password_auth(self, who, password=PASSWORD, session=None):
        auth = {"type": "m.login.password", "password": password,
                "identifier": {"type": "m.id.user", "user": who["user_id"]}}
        if session:
            auth["session"] = session
        return auth


class DevicesTest(Base):
    def test_list_shows_every_device_of_the_user_only(self):
        name = unique("dev")
        alice = self.client.register(name, PASSWORD, {"initial_device_display_name": "phone"})
        second = self.client.login_ok(name)
        bob = self.user()
        devices = self.ok(alice, "GET", "/devices")["devices"]
        ids = {d["device_id"] for d in devices}
        self.assertEqual(ids, {alice["device_id"], second["device_id"]})
        first = next(d for d in devices if d["device_id"] == alice["device_id"])
        self.assertEqual(first["display_name"], "phone")
        self.assertNotIn(bob["device_id"], ids)

    def test_get_one_device_and_unknown_device(self):
        alice, bob = self.user(), self.user()
        dev = self.ok(alice, "GET", f"/devices/{quote(alice['device_id'])}")
        self.assertEqual(dev["device_id"], alice["device_id"])
        self.assertError(self.req(alice, "GET", "/devices/NOSUCHDEVICE"), 404, "M_NOT_FOUND")
        # Another user's device is not there for alice.
        self.assertError(self.req(alice, "GET", f"/devices/{quote(bob['device_id'])}"), 404,
                         "M_NOT_FOUND")

    def test_rename_device(self):
        alice = self.user()
        path = f"/devices/{quote(alice['device_id'])}"
        self.ok(alice, "PUT", path, {"display_name": "laptop"})
        self.assertEqual(self.ok(alice, "GET", path)["display_name"], "laptop")
        # No display_name: unchanged.
        self.ok(alice, "PUT", path, {})
        self.assertEqual(self.ok(alice, "GET", path)["display_name"], "laptop")

    def test_rename_refusals(self):
        alice = self.user()
        path = f"/devices/{quote(alice['device_id'])}"
        self.assertError(self.req(alice, "PUT", "/devices/NOSUCHDEVICE", {"display_name": "x"}),
                         404, "M_NOT_FOUND")
        self.assertError(self.req(alice, "PUT", path, {"display_name": 5}), 400, "M_BAD_JSON")
        self.assertError(self.req(alice, "PUT", path, {"display_name": "x" * 257}), 400,
                         "M_INVALID_PARAM")
        self.assertError(self.req(alice, "PUT", path, raw_body="{not json"), 400, "M_NOT_JSON")
        self.assertError(self.client.request("GET", V3 + "/devices"), 401, "M_MISSING_TOKEN")

    def test_delete_needs_password_auth(self):
        name = unique("del")
        alice = self.client.register(name, PASSWORD)
        other = self.client.login_ok(name)
        path = f"/devices/{quote(other['device_id'])}"
        status, challenge = self.req(alice, "DELETE", path, {})
        self.assertEqual(status, 401, challenge)
        self.assertIn(["m.login.password"], [f["stages"] for f in challenge["flows"]])
        self.assertTrue(challenge["session"])
        # Still there, and its token still works.
        self.ok(alice, "GET", path)
        self.assertEqual(self.client.whoami(other["access_token"])[0], 200)

    def test_delete_with_wrong_password_is_refused(self):
        name = unique("del")
        alice = self.client.register(name, PASSWORD)
        other = self.client.login_ok(name)
        path = f"/devices/{quote(other['device_id'])}"
        status, challenge = self.req(alice, "DELETE", path, {})
        self.assertEqual(status, 401)
        status, body = self.req(alice, "DELETE", path, {
            "auth": self.password_auth(alice, "wrong password", challenge["session"])})
        self.assertEqual(status, 401, body)
        self.assertEqual(body.get("errcode"), "M_FORBIDDEN")
        self.ok(alice, "GET", path)

    def test_delete_with_password_removes_device_and_token(self):
        name = unique("del")
        alice = self.client.register(name, PASSWORD)
        other = self.client.login_ok(name)
        path = f"/devices/{quote(other['device_id'])}"
        status, challenge = self.req(alice, "DELETE", path, {})
        self.assertEqual(status, 401)
        self.ok(alice, "DELETE", path,
                {"auth": self.password_auth(alice, session=challenge["session"])})
        self.assertError(self.req(alice, "GET", path), 404, "M_NOT_FOUND")
        self.assertError(self.client.whoami(other["access_token"]), 401, "M_UNKNOWN_TOKEN")
        self.assertEqual(self.client.whoami(alice["access_token"])[0], 200)
        # Deleting it again is fine: the spec answers 200 for a device removed before.
        self.ok(alice, "DELETE", path, {"auth": self.password_auth(alice)})

    def test_password_of_another_user_does_not_authorise(self):
        alice, bob = self.user(), self.user()
        status, body = self.req(alice, "DELETE", f"/devices/{quote(alice['device_id'])}",
                                {"auth": self.password_auth(bob)})
        self.assertEqual(status, 401, body)
        self.assertEqual(body.get("errcode"), "M_FORBIDDEN")
        self.assertEqual(self.client.whoami(alice["access_token"])[0], 200)

    def test_bulk_delete(self):
        name = unique("bulk")
        alice = self.client.register(name, PASSWORD)
        a, b = self.client.login_ok(name), self.client.login_ok(name)
        body = {"devices": [a["device_id"], b["device_id"], "NEVEREXISTED"]}
        status, challenge = self.req(alice, "POST", "/delete_devices", body)
        self.assertEqual(status, 401, challenge)
        body["auth"] = self.password_auth(alice, session=challenge["session"])
        self.ok(alice, "POST", "/delete_devices", body)
        ids = {d["device_id"] for d in self.ok(alice, "GET", "/devices")["devices"]}
        self.assertEqual(ids, {alice["device_id"]})
        self.assertError(self.client.whoami(a["access_token"]), 401, "M_UNKNOWN_TOKEN")
        self.assertError(self.client.whoami(b["access_token"]), 401, "M_UNKNOWN_TOKEN")

    def test_bulk_delete_refusals(self):
        alice = self.user()
        self.assertError(self.req(alice, "POST", "/delete_devices", {}), 400, "M_MISSING_PARAM")
        self.assertError(self.req(alice, "POST", "/delete_devices", {"devices": "ABC"}), 400,
                         "M_BAD_JSON")
        self.assertError(self.req(alice, "POST", "/delete_devices", {"devices": [1]}), 400,
                         "M_BAD_JSON")


class ProfileTest(Base):
    def test_new_user_profile_and_public_lookup(self):
        name = unique("prof")
        alice = self.client.register(name, PASSWORD)
        # No token needed to read profiles.
        status, body = self.client.request("GET", V3 + f"/profile/{quote(alice['user_id'])}")
        self.assertEqual(status, 200, body)
        self.assertEqual(body.get("displayname"), name)
        self.assertNotIn("avatar_url", body)
        self.assertError(self.client.request(
            "GET", V3 + f"/profile/{quote(alice['user_id'])}/avatar_url"), 404, "M_NOT_FOUND")

    def test_set_and_read_displayname_and_avatar(self):
        alice = self.user()
        me = quote(alice["user_id"])
        self.ok(alice, "PUT", f"/profile/{me}/displayname", {"displayname": "Alice W"})
        self.ok(alice, "PUT", f"/profile/{me}/avatar_url",
                {"avatar_url": "mxc://example.org/SEsfnsuifSDFSSEF"})
        self.assertEqual(self.ok(None, "GET", f"/profile/{me}/displayname"),
                         {"displayname": "Alice W"})
        self.assertEqual(self.ok(None, "GET", f"/profile/{me}/avatar_url"),
                         {"avatar_url": "mxc://example.org/SEsfnsuifSDFSSEF"})
        self.assertEqual(self.ok(None, "GET", f"/profile/{me}"),
                         {"displayname": "Alice W",
                          "avatar_url": "mxc://example.org/SEsfnsuifSDFSSEF"})
        # An empty avatar_url clears it; DELETE clears a field too.
        self.ok(alice, "PUT", f"/profile/{me}/avatar_url", {"avatar_url": ""})
        self.assertNotIn("avatar_url", self.ok(None, "GET", f"/profile/{me}"))
        self.ok(alice, "DELETE", f"/profile/{me}/displayname")
        self.assertEqual(self.ok(None, "GET", f"/profile/{me}"), {})

    def test_displayname_of_256_bytes_is_the_limit(self):
        alice = self.user()
        me = quote(alice["user_id"])
        self.ok(alice, "PUT", f"/profile/{me}/displayname", {"displayname": "é" * 128})
        self.assertError(self.req(alice, "PUT", f"/profile/{me}/displayname",
                                  {"displayname": "x" * 257}), 400, "M_INVALID_PARAM")
        self.assertEqual(self.ok(None, "GET", f"/profile/{me}/displayname")["displayname"],
                         "é" * 128)

    def test_changing_someone_elses_profile_is_forbidden(self):
        alice, bob = self.user(), self.user()
        bob_id = quote(bob["user_id"])
        self.assertError(self.req(alice, "PUT", f"/profile/{bob_id}/displayname",
                                  {"displayname": "pwned"}), 403, "M_FORBIDDEN")
        self.assertError(self.req(alice, "PUT", f"/profile/{bob_id}/avatar_url",
                                  {"avatar_url": "mxc://a.b/c"}), 403, "M_FORBIDDEN")
        self.assertError(self.req(alice, "DELETE", f"/profile/{bob_id}/displayname"), 403,
                         "M_FORBIDDEN")
        self.assertNotEqual(self.ok(None, "GET", f"/profile/{bob_id}").get("displayname"), "pwned")

    def test_bad_profile_values_are_refused(self):
        alice = self.user()
        me = quote(alice["user_id"])
        for bad in ["http://example.org/a.png", "mxc://", "mxc://example.org", "mxc://example.org/",
                    "mxc://example.org/a/b", "mxc://exa mple.org/abc", "MXC://example.org/abc"]:
            self.assertError(self.req(alice, "PUT", f"/profile/{me}/avatar_url",
                                      {"avatar_url": bad}), 400, "M_INVALID_PARAM")
        self.assertError(self.req(alice, "PUT", f"/profile/{me}/avatar_url", {"avatar_url": 7}),
                         400, "M_BAD_JSON")
        self.assertError(self.req(alice, "PUT", f"/profile/{me}/displayname", {}), 400,
                         "M_MISSING_PARAM")
        self.assertError(self.req(alice, "PUT", f"/profile/{me}/displayname",
                                  {"displayname": None}), 400, "M_BAD_JSON")
        self.assertError(self.req(alice, "PUT", f"/profile/{me}/displayname", raw_body="nope"),
                         400, "M_NOT_JSON")
        self.assertError(self.client.request("PUT", V3 + f"/profile/{me}/displayname",
                                             {"displayname": "x"}), 401, "M_MISSING_TOKEN")

    def test_unknown_users_have_no_profile(self):
        nobody = quote(f"@{unique('ghost')}:{self.server.server_name}")
        self.assertError(self.client.request("GET", V3 + f"/profile/{nobody}"), 404, "M_NOT_FOUND")
        self.assertError(self.client.request("GET", V3 + f"/profile/{nobody}/displayname"), 404,
                         "M_NOT_FOUND")
        self.assertError(self.client.request("GET", V3 + "/profile/not-a-user-id"), 404,
                         "M_NOT_FOUND")

    def test_profile_change_reaches_joined_rooms_only(self):
        alice, bob = self.user(), self.user()
        joined = self.create_room(bob, preset="public_chat")
        left = self.create_room(bob, preset="public_chat")
        for room in (joined, left):
            self.ok(alice, "POST", f"/join/{quote(room)}", {})
        self.ok(alice, "POST", f"/rooms/{quote(left)}/leave", {})
        me = quote(alice["user_id"])
        self.ok(alice, "PUT", f"/profile/{me}/displayname", {"displayname": "Alice Renamed"})
        self.ok(alice, "PUT", f"/profile/{me}/avatar_url", {"avatar_url": "mxc://a.b/new"})
        member = self.ok(bob, "GET", f"/rooms/{quote(joined)}/state/m.room.member/{me}")
        self.assertEqual(member, {"membership": "join", "displayname": "Alice Renamed",
                                  "avatar_url": "mxc://a.b/new"})
        gone = self.ok(bob, "GET", f"/rooms/{quote(left)}/state/m.room.member/{me}")
        self.assertEqual(gone["membership"], "leave")
        names = self.ok(bob, "GET", f"/rooms/{quote(joined)}/joined_members")["joined"]
        self.assertEqual(names[alice["user_id"]].get("display_name"), "Alice Renamed")


class PushRulesTest(Base):
    def rule_path(self, kind, rule_id, suffix=""):
        return f"/pushrules/global/{kind}/{quote(rule_id)}{suffix}"

    def test_default_ruleset(self):
        alice = self.user()
        body = self.ok(alice, "GET", "/pushrules/")
        glob = body["global"]
        self.assertEqual(glob, self.ok(alice, "GET", "/pushrules/global/"))
        for kind in ("override", "content", "room", "sender", "underride"):
            self.assertIsInstance(glob[kind], list)
        override = [r["rule_id"] for r in glob["override"]]
        self.assertEqual(override[0], ".m.rule.master")
        for rule_id in (".m.rule.suppress_notices", ".m.rule.invite_for_me",
                        ".m.rule.member_event", ".m.rule.is_user_mention",
                        ".m.rule.is_room_mention", ".m.rule.tombstone", ".m.rule.reaction",
                        ".m.rule.room.server_acl", ".m.rule.suppress_edits"):
            self.assertIn(rule_id, override)
        underride = [r["rule_id"] for r in glob["underride"]]
        self.assertEqual(underride, [".m.rule.call", ".m.rule.encrypted_room_one_to_one",
                                     ".m.rule.room_one_to_one", ".m.rule.message",
                                     ".m.rule.encrypted"])
        master = glob["override"][0]
        self.assertEqual(master, {"rule_id": ".m.rule.master", "default": True, "enabled": False,
                                  "conditions": [], "actions": []})
        mention = next(r for r in glob["override"] if r["rule_id"] == ".m.rule.is_user_mention")
        self.assertEqual(mention["conditions"][0]["value"], alice["user_id"])

    def test_add_read_and_delete_a_content_rule(self):
        alice = self.user()
        path = self.rule_path("content", "nocake")
        self.ok(alice, "PUT", path, {"pattern": "cake*lie", "actions": ["notify"]})
        rule = self.ok(alice, "GET", path)
        self.assertEqual(rule, {"rule_id": "nocake", "default": False, "enabled": True,
                                "pattern": "cake*lie", "actions": ["notify"]})
        content = self.ok(alice, "GET", "/pushrules/global/")["content"]
        self.assertEqual(content[0]["rule_id"], "nocake", "new rules come first")
        self.ok(alice, "DELETE", path)
        self.assertError(self.req(alice, "GET", path), 404, "M_NOT_FOUND")
        self.assertError(self.req(alice, "DELETE", path), 404, "M_NOT_FOUND")

    def test_before_and_after(self):
        alice = self.user()
        rule = {"conditions": [{"kind": "event_match", "key": "content.body", "pattern": "x"}],
                "actions": []}
        self.ok(alice, "PUT", self.rule_path("override", "a"), rule)
        self.ok(alice, "PUT", self.rule_path("override", "b") + "?after=a", rule)
        self.ok(alice, "PUT", self.rule_path("override", "c") + "?before=a", rule)
        ids = [r["rule_id"] for r in self.ok(alice, "GET", "/pushrules/global/")["override"]]
        self.assertEqual(ids[:4], [".m.rule.master", "c", "a", "b"])
        status, body = self.req(alice, "PUT", self.rule_path("override", "d") + "?before=zzz", rule)
        self.assertEqual(status, 400, body)
        status, body = self.req(alice, "PUT",
                                self.rule_path("override", "d") + "?after=.m.rule.master", rule)
        self.assertEqual(status, 400, body)

    def test_room_and_sender_rules(self):
        alice = self.user()
        room = f"!quiet:{self.server.server_name}"
        self.ok(alice, "PUT", self.rule_path("room", room), {"actions": []})
        self.ok(alice, "PUT", self.rule_path("sender", "@spam:example.org"), {"actions": []})
        glob = self.ok(alice, "GET", "/pushrules/global/")
        self.assertEqual([r["rule_id"] for r in glob["room"]], [room])
        self.assertEqual([r["rule_id"] for r in glob["sender"]], ["@spam:example.org"])
        self.assertError(self.req(alice, "PUT", self.rule_path("room", "not-a-room"),
                                  {"actions": []}), 400, "M_INVALID_PARAM")
        self.assertError(self.req(alice, "PUT", self.rule_path("sender", "not-a-user"),
                                  {"actions": []}), 400, "M_INVALID_PARAM")

    def test_enabled_and_actions_of_default_and_user_rules(self):
        alice = self.user()
        master = self.rule_path("override", ".m.rule.master")
        self.assertEqual(self.ok(alice, "GET", master + "/enabled"), {"enabled": False})
        self.ok(alice, "PUT", master + "/enabled", {"enabled": True})
        self.assertEqual(self.ok(alice, "GET", master + "/enabled"), {"enabled": True})
        message = self.rule_path("underride", ".m.rule.message")
        self.assertEqual(self.ok(alice, "GET", message + "/actions"), {"actions": ["notify"]})
        new_actions = ["notify", {"set_tweak": "sound", "value": "bing"}]
        self.ok(alice, "PUT", message + "/actions", {"actions": new_actions})
        self.assertEqual(self.ok(alice, "GET", message + "/actions"), {"actions": new_actions})
        rule = self.ok(alice, "GET", message)
        self.assertTrue(rule["default"])
        self.assertEqual(rule["actions"], new_actions)
        mine = self.rule_path("underride", "mine")
        self.ok(alice, "PUT", mine, {"actions": ["notify"]})
        self.ok(alice, "PUT", mine + "/enabled", {"enabled": False})
        self.assertEqual(self.ok(alice, "GET", mine + "/enabled"), {"enabled": False})
        # Updating a rule keeps its enabled state.
        self.ok(alice, "PUT", mine, {"actions": []})
        self.assertEqual(self.ok(alice, "GET", mine),
                         {"rule_id": "mine", "default": False, "enabled": False,
                          "conditions": [], "actions": []})

    def test_rules_are_per_user(self):
        alice, bob = self.user(), self.user()
        self.ok(alice, "PUT", self.rule_path("override", "secret"), {"actions": []})
        self.assertError(self.req(bob, "GET", self.rule_path("override", "secret")), 404,
                         "M_NOT_FOUND")

    def test_refusals(self):
        alice = self.user()
        self.assertError(self.req(alice, "PUT", self.rule_path("override", ".m.rule.master"),
                                  {"actions": []}), 400, "M_INVALID_PARAM")
        self.assertError(self.req(alice, "PUT", self.rule_path("override", ".mine"),
                                  {"actions": []}), 400, "M_INVALID_PARAM")
        self.assertError(self.req(alice, "PUT", self.rule_path("override", "a\\b"),
                                  {"actions": []}), 400, "M_INVALID_PARAM")
        self.assertError(self.req(alice, "DELETE", self.rule_path("override", ".m.rule.master")),
                         400, "M_INVALID_PARAM")
        for kind in ("bogus", "global"):
            self.assertError(self.req(alice, "GET", self.rule_path(kind, "x")), 400,
                             "M_INVALID_PARAM")
            self.assertError(self.req(alice, "PUT", self.rule_path(kind, "x"), {"actions": []}),
                             400, "M_INVALID_PARAM")
        for suffix in ("", "/enabled", "/actions"):
            self.assertError(self.req(alice, "GET", self.rule_path("override", "nope", suffix)),
                             404, "M_NOT_FOUND")
        self.assertError(self.req(alice, "PUT", self.rule_path("override", "nope", "/enabled"),
                                  {"enabled": True}), 404, "M_NOT_FOUND")
        self.assertError(self.req(alice, "PUT", self.rule_path("override", "nope", "/actions"),
                                  {"actions": []}), 404, "M_NOT_FOUND")
        self.assertError(self.req(alice, "PUT", self.rule_path("override", ".m.rule.nope",
                                                               "/enabled"),
                                  {"enabled": True}), 404, "M_NOT_FOUND")
        path = self.rule_path("override", "x")
        self.assertError(self.req(alice, "PUT", path, {}), 400, "M_MISSING_PARAM")
        self.assertError(self.req(alice, "PUT", path, {"actions": "notify"}), 400, "M_BAD_JSON")
        self.assertError(self.req(alice, "PUT", path, {"actions": ["explode"]}), 400,
                         "M_INVALID_PARAM")
        self.assertError(self.req(alice, "PUT", path, {"actions": [{"value": 1}]}), 400,
                         "M_INVALID_PARAM")
        self.assertError(self.req(alice, "PUT", path, {"actions": [], "conditions": {}}), 400,
                         "M_BAD_JSON")
        self.assertError(self.req(alice, "PUT", path, {"actions": [], "conditions": [
            {"kind": "event_match", "key": "type"}]}), 400, "M_INVALID_PARAM")
        self.assertError(self.req(alice, "PUT", self.rule_path("content", "c"),
                                  {"actions": []}), 400, "M_MISSING_PARAM")
        master = self.rule_path("override", ".m.rule.master")
        self.assertError(self.req(alice, "PUT", master + "/enabled", {}), 400, "M_MISSING_PARAM")
        self.assertError(self.req(alice, "PUT", master + "/enabled", {"enabled": "yes"}), 400,
                         "M_BAD_JSON")
        self.assertError(self.req(alice, "PUT", master + "/actions", {}), 400, "M_MISSING_PARAM")
        self.assertError(self.req(alice, "PUT", master + "/actions", {"actions": [7]}), 400,
                         "M_INVALID_PARAM")
        self.assertError(self.client.request("GET", V3 + "/pushrules/"), 401, "M_MISSING_TOKEN")
        # Nothing above changed the rules.
        glob = self.ok(alice, "GET", "/pushrules/global/")
        self.assertFalse(glob["override"][0]["enabled"])
        self.assertNotIn("x", [r["rule_id"] for r in glob["override"]])

    def test_changes_reach_sync_as_account_data(self):
        alice = self.user()
        since = self.ok(alice, "GET", "/sync?timeout=0")["next_batch"]
        self.ok(alice, "PUT", self.rule_path("override", "synced"), {"actions": []})
        body = self.ok(alice, "GET", f"/sync?timeout=0&since={quote(since)}")
        events = body.get("account_data", {}).get("events", [])
        rules = [e for e in events if e["type"] == "m.push_rules"]
        self.assertTrue(rules, f"no m.push_rules in {events}")
        ids = [r["rule_id"] for r in rules[-1]["content"]["global"]["override"]]
        self.assertIn("synced", ids)

    def test_unread_counts_in_sync(self):
        alice, bob = self.user(), self.user()
        room = self.create_room(alice, preset="public_chat")
        self.ok(bob, "POST", f"/join/{quote(room)}", {})
        self.send(alice, room, {"msgtype": "m.text", "body": "hello"})
        self.send(alice, room, {"msgtype": "m.text", "body": "hey",
                                "m.mentions": {"user_ids": [bob["user_id"]]}})
        self.send(bob, room, {"msgtype": "m.text", "body": "mine"})
        joined = self.ok(bob, "GET", "/sync?timeout=0")["rooms"]["join"][room]
        self.assertEqual(joined["unread_notifications"],
                         {"notification_count": 2, "highlight_count": 1})
        # A room rule mutes the room, but the mention matched an override rule, which
        # outranks room rules.
        self.ok(bob, "PUT", self.rule_path("room", room), {"actions": []})
        joined = self.ok(bob, "GET", "/sync?timeout=0")["rooms"]["join"][room]
        self.assertEqual(joined["unread_notifications"],
                         {"notification_count": 1, "highlight_count": 1})
        self.ok(bob, "PUT", self.rule_path("override", ".m.rule.master", "/enabled"),
                {"enabled": True})
        joined = self.ok(bob, "GET", "/sync?timeout=0")["rooms"]["join"][room]
        self.assertEqual(joined["unread_notifications"],
                         {"notification_count": 0, "highlight_count": 0})


class UserDirectoryTest(Base):
    def search(self, who, term, limit=None):
        body = {"search_term": term}
        if limit is not None:
            body["limit"] = limit
        return self.ok(who, "POST", "/user_directory/search", body)

    def test_finds_self_and_users_sharing_a_room_only(self):
        tag = unique("dir")
        alice = self.user(tag + "a")
        bob = self.user(tag + "b")
        carol = self.user(tag + "c")
        room = self.create_room(alice, preset="public_chat")
        self.ok(bob, "POST", f"/join/{quote(room)}", {})
        found = {r["user_id"] for r in self.search(alice, tag)["results"]}
        self.assertEqual(found, {alice["user_id"], bob["user_id"]})
        self.assertNotIn(carol["user_id"], found)
        self.assertEqual([r["user_id"] for r in self.search(carol, tag)["results"]],
                         [carol["user_id"]])

    def test_matches_display_names_case_insensitively_and_returns_profile(self):
        alice, bob = self.user(), self.user()
        self.ok(bob, "PUT", f"/profile/{quote(bob['user_id'])}/displayname",
                {"displayname": "Zebediah Quux"})
        self.ok(bob, "PUT", f"/profile/{quote(bob['user_id'])}/avatar_url",
                {"avatar_url": "mxc://a.b/zq"})
        room = self.create_room(alice, preset="public_chat")
        self.ok(bob, "POST", f"/join/{quote(room)}", {})
        results = self.search(alice, "zEBEDIAH")["results"]
        self.assertEqual(results, [{"user_id": bob["user_id"], "display_name": "Zebediah Quux",
                                    "avatar_url": "mxc://a.b/zq"}])

    def test_limit_and_limited(self):
        tag = unique("lim")
        alice = self.user(tag)
        room = self.create_room(alice, preset="public_chat")
        for _ in range(2):
            self.ok(self.user(tag), "POST", f"/join/{quote(room)}", {})
        body = self.search(alice, tag, limit=2)
        self.assertEqual(len(body["results"]), 2)
        self.assertTrue(body["limited"])
        body = self.search(alice, tag)
        self.assertEqual(len(body["results"]), 3)
        self.assertFalse(body["limited"])

    def test_refusals(self):
        alice = self.user()
        self.assertError(self.req(alice, "POST", "/user_directory/search", {}), 400,
                         "M_MISSING_PARAM")
        self.assertError(self.req(alice, "POST", "/user_directory/search",
                                  {"search_term": 3}), 400, "M_BAD_JSON")
        self.assertError(self.req(alice, "POST", "/user_directory/search",
                                  {"search_term": "a", "limit": "ten"}), 400, "M_BAD_JSON")
        self.assertError(self.client.request("POST", V3 + "/user_directory/search",
                                             {"search_term": "a"}), 401, "M_MISSING_TOKEN")


if __name__ == "__main__":
    unittest.main()
