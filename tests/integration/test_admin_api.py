"""The Synapse-compatible admin API (/_synapse/admin/...): server version, users v2 (create,
modify, list, admin flag, deactivation), whois, password reset, rooms (list, details, members,
state) and room deletion with purge and block — and non-admins refused everywhere."""

import time
import unittest

from harness import HomeserverTestCase, quote, unique

V1 = "/_synapse/admin/v1"
V2 = "/_synapse/admin/v2"
PASSWORD = "correct horse battery"


class AdminApiTest(HomeserverTestCase):
    options = {"rooms.encryption_enabled_by_default": "false"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        status, body = cls.client.shared_secret_register(unique("admin"), PASSWORD, admin=True)
        assert status == 200, body
        cls.admin = body

    def local(self, localpart):
        return f"@{localpart}:{self.server.server_name}"

    def test_server_version_is_public(self):
        status, body = self.client.request("GET", V1 + "/server_version")
        self.assertEqual(status, 200)
        self.assertIn("haven", body["server_version"])

    def test_non_admins_are_refused(self):
        user = self.user()
        for method, path in [("GET", V2 + "/users"), ("PUT", V2 + f"/users/{quote(self.local('x'))}"),
                             ("GET", V1 + "/rooms"),
                             ("POST", V1 + f"/reset_password/{quote(user['user_id'])}"),
                             ("DELETE", V2 + "/rooms/!a:b")]:
            self.assertError(self.req(user, method, path, {}), 403, "M_FORBIDDEN")
            self.assertError(self.req(None, method, path, {}), 401, "M_MISSING_TOKEN")

    def test_create_modify_and_log_in(self):
        user_id = self.local(unique("made"))
        status, body = self.req(self.admin, "PUT", V2 + f"/users/{quote(user_id)}",
                                {"password": PASSWORD, "displayname": "Made By Admin"})
        self.assertEqual(status, 201, body)
        self.assertEqual(body["name"], user_id)
        self.assertEqual(body["displayname"], "Made By Admin")
        status, session = self.client.login(user_id, PASSWORD)
        self.assertEqual(status, 200, session)
        status, body = self.req(self.admin, "PUT", V2 + f"/users/{quote(user_id)}",
                                {"displayname": "Renamed", "admin": True})
        self.assertEqual(status, 200, body)
        got = self.ok(self.admin, "GET", V2 + f"/users/{quote(user_id)}")
        self.assertEqual(got["displayname"], "Renamed")
        self.assertTrue(got["admin"])
        self.assertEqual(self.ok(self.admin, "GET", V1 + f"/users/{quote(user_id)}/admin"),
                         {"admin": True})

    def test_bad_user_requests(self):
        self.assertError(self.req(self.admin, "PUT", V2 + "/users/@x:elsewhere.org",
                                  {"password": PASSWORD}), 400, "M_INVALID_PARAM")
        self.assertError(self.req(self.admin, "GET", V2 + "/users/not-a-user"), 400,
                         "M_INVALID_PARAM")
        self.assertError(self.req(self.admin, "GET", V2 + f"/users/{quote(self.local('nobody9'))}"),
                         404, "M_NOT_FOUND")
        self.assertError(self.req(self.admin, "PUT", V2 + f"/users/{quote(self.local(unique('b')))}",
                                  {"admin": "yes"}), 400, "M_BAD_JSON")
        self.assertError(self.req(self.admin, "GET", V2 + "/users?limit=-1"), 400,
                         "M_INVALID_PARAM")
        self.assertError(self.req(self.admin, "GET", V2 + "/users?order_by=shoe_size"), 400,
                         "M_INVALID_PARAM")

    def test_list_pages_through_every_user(self):
        made = {self.user(unique("list"))["user_id"] for _ in range(3)}
        seen, token = set(), None
        for _ in range(100):
            path = V2 + "/users?limit=2" + (f"&from={token}" if token else "")
            page = self.ok(self.admin, "GET", path)
            self.assertLessEqual(len(page["users"]), 2)
            seen.update(u["name"] for u in page["users"])
            token = page.get("next_token")
            if not token:
                break
        self.assertTrue(made <= seen, f"missing {made - seen}")
        self.assertGreaterEqual(page["total"], len(made))

    def test_deactivation_refuses_login(self):
        user = self.user(unique("gone"))
        status, body = self.req(self.admin, "PUT", V2 + f"/users/{quote(user['user_id'])}",
                                {"deactivated": True})
        self.assertEqual(status, 200, body)
        self.assertError(self.client.login(user["user_id"], PASSWORD), 403, "M_USER_DEACTIVATED")
        self.assertError(self.req(user, "GET", "/account/whoami"), 401, "M_UNKNOWN_TOKEN")

    def test_reset_password_logs_devices_out(self):
        user = self.user(unique("reset"))
        self.ok(self.admin, "POST", V1 + f"/reset_password/{quote(user['user_id'])}",
                {"new_password": "a whole new password"})
        self.assertError(self.req(user, "GET", "/account/whoami"), 401, "M_UNKNOWN_TOKEN")
        self.assertEqual(self.client.login(user["user_id"], "a whole new password")[0], 200)
        self.assertError(self.req(self.admin, "POST", V1 + f"/reset_password/{quote(user['user_id'])}",
                                  {}), 400, "M_MISSING_PARAM")

    def test_whois_lists_sessions(self):
        user = self.user(unique("whois"))
        self.ok(user, "GET", "/account/whoami")
        got = self.ok(self.admin, "GET", V1 + f"/whois/{quote(user['user_id'])}")
        self.assertEqual(got["user_id"], user["user_id"])
        self.assertIn(user["device_id"], got["devices"])

    def test_rooms_list_details_members_and_state(self):
        alice, bob = self.user(unique("ra")), self.user(unique("rb"))
        room = self.ok(alice, "POST", "/createRoom",
                       {"name": unique("Listed"), "invite": [bob["user_id"]]})["room_id"]
        self.ok(bob, "POST", f"/join/{quote(room)}", {})
        listed = self.ok(self.admin, "GET", V1 + "/rooms?limit=500")
        self.assertIn(room, [r["room_id"] for r in listed["rooms"]])
        self.assertGreaterEqual(listed["total_rooms"], 1)
        details = self.ok(self.admin, "GET", V1 + f"/rooms/{quote(room)}")
        self.assertEqual(details["joined_members"], 2)
        self.assertEqual(details["creator"], alice["user_id"])
        members = self.ok(self.admin, "GET", V1 + f"/rooms/{quote(room)}/members")
        self.assertEqual(set(members["members"]), {alice["user_id"], bob["user_id"]})
        self.assertEqual(members["total"], 2)
        state = self.ok(self.admin, "GET", V1 + f"/rooms/{quote(room)}/state")
        self.assertIn("m.room.create", [e["type"] for e in state["state"]])
        self.assertError(self.req(self.admin, "GET", V1 + f"/rooms/{quote('!nope:' + self.server.server_name)}"),
                         404, "M_NOT_FOUND")

    def delete_room(self, room, block):
        reply = self.ok(self.admin, "DELETE", V2 + f"/rooms/{quote(room)}",
                        {"purge": True, "block": block})
        delete_id = reply["delete_id"]
        deadline = time.monotonic() + 20
        status = None
        while time.monotonic() < deadline:
            status = self.ok(self.admin, "GET", V2 + f"/rooms/delete_status/{delete_id}")
            if status["status"] in ("complete", "failed"):
                break
            time.sleep(0.1)
        self.assertEqual(status["status"], "complete", status)

    def download_status(self, who, mxc):
        return self.client.request("GET", "/_matrix/client/v1/media/download/" + mxc[6:],
                                   token=who["access_token"])[0]

    # The member event carries the profile's avatar into the room; purging the user's only room
    # must not take the avatar their profile still shows. The room's own file goes.
    def test_purge_keeps_the_avatar_a_profile_names(self):
        carol = self.user(unique("pa"))
        avatar = self.upload_media(carol, unique("profile-avatar").encode() * 32)
        self.ok(carol, "PUT", f"/profile/{quote(carol['user_id'])}/avatar_url",
                {"avatar_url": avatar})
        room = self.ok(carol, "POST", "/createRoom", {})["room_id"]
        attachment = self.upload_media(carol, unique("room-file").encode() * 32)
        self.ok(carol, "PUT", f"/rooms/{quote(room)}/send/m.room.message/{unique('t')}",
                {"msgtype": "m.file", "body": "f.bin", "url": attachment})
        self.delete_room(room, block=False)
        self.assertEqual(self.download_status(carol, avatar), 200)
        self.assertEqual(self.download_status(carol, attachment), 404)

    def test_media_named_inside_encrypted_events_can_be_tied_to_the_room(self):
        carol, dave = self.user(unique("ma")), self.user(unique("mb"))
        room = self.ok(carol, "POST", "/createRoom", {"invite": [dave["user_id"]]})["room_id"]
        self.ok(dave, "POST", f"/join/{quote(room)}", {})
        hidden = self.upload_media(carol, unique("ciphertext-blob").encode() * 32)
        daves = self.upload_media(dave, unique("daves-file").encode() * 32)
        outsider = self.user(unique("mc"))
        theirs = self.upload_media(outsider, unique("outsider-file").encode() * 32)
        path = f"/_haven/admin/v1/rooms/{quote(room)}/media"
        # Only the files the named member uploaded are tied: not dave's, not an outsider's, not
        # another server's, and an outsider's own files not either.
        linked = self.ok(self.admin, "POST", path, {
            "user_id": carol["user_id"],
            "media": [hidden, daves, theirs, "mxc://elsewhere.example/abc", "not a uri"]})
        self.assertEqual(linked["linked"], [hidden])
        self.assertEqual(self.ok(self.admin, "POST", path, {
            "user_id": outsider["user_id"], "media": [theirs]})["linked"], [])
        self.assertError(self.req(carol, "POST", path, {"user_id": carol["user_id"],
                                                        "media": [hidden]}), 403, "M_FORBIDDEN")
        self.assertError(self.req(self.admin, "POST", path, {"user_id": carol["user_id"]}),
                         400, "M_BAD_JSON")
        self.assertError(self.req(self.admin, "POST", path, {
            "user_id": carol["user_id"], "media": [hidden] * 101}), 400, "M_INVALID_PARAM")
        self.assertError(self.req(self.admin, "POST", path, {
            "user_id": carol["user_id"], "media": [7]}), 400, "M_BAD_JSON")
        self.assertError(self.req(self.admin, "POST", path, {
            "user_id": "carol", "media": []}), 400, "M_INVALID_PARAM")
        self.assertError(self.req(self.admin, "POST", "/_haven/admin/v1/rooms/"
                                  f"{quote('!nope:' + self.server.server_name)}/media",
                                  {"user_id": carol["user_id"], "media": []}), 404, "M_NOT_FOUND")
        self.delete_room(room, block=False)
        self.assertEqual(self.download_status(carol, hidden), 404)
        self.assertEqual(self.download_status(dave, daves), 200)
        self.assertEqual(self.download_status(outsider, theirs), 200)

    def test_delete_room_with_purge_and_block(self):
        alice, bob = self.user(unique("da")), self.user(unique("db"))
        room = self.ok(alice, "POST", "/createRoom", {"invite": [bob["user_id"]],
                                                      "preset": "public_chat"})["room_id"]
        self.ok(bob, "POST", f"/join/{quote(room)}", {})
        self.ok(alice, "PUT", f"/rooms/{quote(room)}/send/m.room.message/{unique('t')}",
                {"msgtype": "m.text", "body": "soon gone"})
        # Alice's key backup holds a session of this room and one of another; she also has a
        # delayed message for it. The purge takes the room's, and only those.
        version = self.ok(alice, "POST", "/room_keys/version", {
            "algorithm": "m.megolm_backup.v1.curve25519-aes-sha2",
            "auth_data": {"public_key": "pk"}})["version"]
        backed_up = {"first_message_index": 0, "forwarded_count": 0, "is_verified": False,
                     "session_data": {"ephemeral": "e", "ciphertext": "c", "mac": "m"}}
        self.ok(alice, "PUT", f"/room_keys/keys?version={version}", {"rooms": {
            room: {"sessions": {"s1": backed_up}}, "!kept:x": {"sessions": {"s1": backed_up}}}})
        delayed = self.ok(alice, "PUT", f"/rooms/{quote(room)}/send/m.room.message/{unique('d')}"
                          "?org.matrix.msc4140.delay=3600000",
                          {"msgtype": "m.text", "body": "later"})["delay_id"]
        since = self.ok(bob, "GET", "/sync?timeout=0")["next_batch"]
        self.delete_room(room, block=True)
        self.assertNotIn(room, self.ok(bob, "GET", "/joined_rooms")["joined_rooms"])
        later = self.ok(bob, "GET", f"/sync?timeout=0&since={since}")
        self.assertIn(room, later["rooms"]["leave"])
        self.assertNotIn("soon gone", str(later))
        self.assertEqual(self.req(bob, "POST", f"/join/{quote(room)}", {})[0], 403)
        self.assertError(self.req(self.admin, "GET", V1 + f"/rooms/{quote(room)}"), 404,
                         "M_NOT_FOUND")
        keys = self.ok(alice, "GET", f"/room_keys/keys?version={version}")
        self.assertEqual(list(keys["rooms"]), ["!kept:x"])
        self.assertEqual(self.ok(alice, "GET", "/room_keys/version")["count"], 1)
        scheduled = self.ok(alice, "GET", "/_matrix/client/unstable/org.matrix.msc4140/"
                            "delayed_events")["delayed_events"]
        self.assertNotIn(delayed, [e["delay_id"] for e in scheduled])


if __name__ == "__main__":
    unittest.main()
