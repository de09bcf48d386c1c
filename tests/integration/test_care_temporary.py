"""Temporary conversations (R19-R22): haven's care rules for rooms created with the
creation_content marker {"org.haven.temporary": true} (only professionals, only while the
operator switched them on, never federated, no clients, only the owner's professional contacts
and the room's guests), and haven-care's POST /_haven/care/v1/temporary_rooms with the
org.haven.temporary {deletes_at} state event and the deletion 7 days later: every event
redacted, then the room purged from haven, leaving nothing of it in the data files. haven and
haven-care run with fake clocks."""

import base64
import os
import unittest

from care_harness import CareTestCase
from harness import quote, unique

ADMIN = "/_haven/admin/v1"
SYNAPSE_ADMIN = "/_synapse/admin/v1"
CARE = "/_haven/care/v1"
V3 = "/_matrix/client/v3"
PASSWORD = "correct horse battery"
MARKER = {"org.haven.temporary": True}
DAY_MS = 24 * 3600 * 1000


class TemporaryRoomTests(CareTestCase):
    options = {"care.enabled": "true", "rooms.encryption_enabled_by_default": "false",
               "testing.fake_clock": "true"}

    def setUp(self):
        self.set_temporary_rooms(True)

    # --- helpers ---
    def set_temporary_rooms(self, on):
        self.ok(self.admin, "PUT", ADMIN + "/features", {"temporary_rooms": on})

    def create_marked(self, who, extra=None):
        body = {"name": "temporary", "creation_content": dict(MARKER)}
        body.update(extra or {})
        return self.req(who, "POST", V3 + "/createRoom", body)

    def data_files_hold(self, needle):
        return self.data_files_hold_bytes(needle.encode())

    def data_files_hold_bytes(self, needle):
        found = []
        for root in (self.server.data_dir, os.path.join(self.care_tmp, "data-care")):
            for dirpath, _, files in os.walk(root):
                for name in files:
                    path = os.path.join(dirpath, name)
                    with open(path, "rb") as f:
                        if needle in f.read():
                            found.append(path)
        return found

    # --- haven's care rules for the marker ---
    def test_refused_while_switched_off(self):
        pro = self.person("professional", "Dr Off")
        self.set_temporary_rooms(False)
        self.assertError(self.create_marked(pro), 403, "M_FORBIDDEN")
        status, reply = self.care(pro, "POST", "/temporary_rooms", {"name": "x"})
        self.assertEqual(status, 403, reply)
        self.assertEqual(reply["errcode"], "M_FORBIDDEN")

    def test_only_professionals_create(self):
        client = self.person("client", "Carl Client")
        self.assertError(self.create_marked(client), 403, "M_FORBIDDEN")
        status, reply = self.care(client, "POST", "/temporary_rooms", {"name": "x"})
        self.assertEqual(status, 403, reply)
        # An ordinary room is still fine for a client.
        self.ok(client, "POST", V3 + "/createRoom", {"name": "plain"})

    def test_never_federated(self):
        pro = self.person("professional", "Dr Fed")
        status, reply = self.create_marked(
            pro, {"creation_content": {"org.haven.temporary": True, "m.federate": True}})
        self.assertEqual(status, 200, reply)
        create = self.ok(pro, "GET", f"{V3}/rooms/{quote(reply['room_id'])}/state/m.room.create/")
        self.assertIs(create["m.federate"], False)
        self.assertIs(create["org.haven.temporary"], True)

    def test_clients_refused_professional_contacts_allowed(self):
        owner = self.person("professional", "Dr Owner")
        colleague = self.person("professional", "Dr Colleague")
        client = self.person("client", "Cleo Client")
        # A contact link would let the owner invite the client to an ordinary room.
        self.ok(self.admin, "PUT", f"{ADMIN}/users/{quote(owner['user_id'])}/contacts/"
                                   f"{quote(client['user_id'])}")
        room = self.create_marked(owner)[1]["room_id"]
        self.assertError(self.req(owner, "POST", f"{V3}/rooms/{quote(room)}/invite",
                                  {"user_id": client["user_id"]}), 403, "M_FORBIDDEN")
        self.ok(owner, "PUT", f"{V3}/rooms/{quote(room)}/state/m.room.join_rules/",
                {"join_rule": "public"})
        self.assertError(self.req(client, "POST", f"{V3}/rooms/{quote(room)}/join", {}),
                         403, "M_FORBIDDEN")
        self.ok(owner, "POST", f"{V3}/rooms/{quote(room)}/invite",
                {"user_id": colleague["user_id"]})
        self.ok(colleague, "POST", f"{V3}/rooms/{quote(room)}/join", {})
        # createRoom's own invites obey the same rule.
        self.assertError(self.create_marked(owner, {"invite": [client["user_id"]]}),
                         403, "M_FORBIDDEN")

    def test_bad_requests(self):
        pro = self.person("professional", "Dr Bad")
        status, reply = self.care(None, "POST", "/temporary_rooms", {})
        self.assertEqual(status, 401, reply)
        status, reply = self.care("not-a-token", "POST", "/temporary_rooms", {})
        self.assertEqual(status, 401, reply)
        for body in ({"invite": "x"}, {"invite": ["not-a-user"]}, {"name": 5},
                     {"name": "n" * 256}, {"invite": [f"@u{i}:x" for i in range(51)]}):
            status, reply = self.care(pro, "POST", "/temporary_rooms", body)
            self.assertEqual(status, 400, f"{body}: {reply}")

    # --- haven-care: create, announce, delete ---
    def deleted_room_with_secrets(self):
        """A temporary room with a unique name, topic, message and uploaded picture, deleted by
        haven-care after 7 days. Returns those unique strings and the picture's bytes."""
        owner = self.person("professional", "Dr Temp")
        colleague = self.person("professional", "Dr Mate")
        name = unique("temporary-room-name")
        made = self.care(owner, "POST", "/temporary_rooms",
                         {"name": name, "invite": [colleague["user_id"]]})
        self.assertEqual(made[0], 200, made[1])
        room, deletes_at = made[1]["room_id"], made[1]["deletes_at"]
        notice = self.ok(owner, "GET", f"{V3}/rooms/{quote(room)}/state/org.haven.temporary/")
        self.assertEqual(notice["deletes_at"], deletes_at)
        owner_of = self.ok(self.admin, "GET", f"{ADMIN}/rooms/{quote(room)}/owner")
        self.assertEqual(owner_of["user_id"], owner["user_id"])
        self.ok(colleague, "POST", f"{V3}/rooms/{quote(room)}/join", {})
        topic = unique("temporary-room-topic")
        self.ok(owner, "PUT", f"{V3}/rooms/{quote(room)}/state/m.room.topic/", {"topic": topic})
        secret = unique("temporary-secret-text")
        self.ok(colleague, "PUT", f"{V3}/rooms/{quote(room)}/send/m.room.message/{unique('t')}",
                {"msgtype": "m.text", "body": secret})
        picture = unique("temporary-picture-bytes").encode() * 64
        status, uploaded = self.client.request(
            "POST", "/_matrix/media/v3/upload", raw_body=picture, token=colleague["access_token"],
            headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(status, 200, uploaded)
        self.ok(colleague, "PUT", f"{V3}/rooms/{quote(room)}/send/m.room.message/{unique('t')}",
                {"msgtype": "m.file", "body": "notes.bin", "url": uploaded["content_uri"]})
        self.assertTrue(self.data_files_hold_bytes(picture))
        self.advance_both(6 * DAY_MS)
        self.ok(self.admin, "GET", f"{SYNAPSE_ADMIN}/rooms/{quote(room)}")
        self.advance_both(DAY_MS + 60 * 1000)
        self.assertError(self.req(self.admin, "GET", f"{SYNAPSE_ADMIN}/rooms/{quote(room)}"),
                         404, "M_NOT_FOUND")
        status, _ = self.req(owner, "GET", f"{V3}/rooms/{quote(room)}/messages?dir=b")
        self.assertIn(status, (403, 404))
        media_id = uploaded["content_uri"].rsplit("/", 1)[1]
        status, _ = self.client.request(
            "GET", f"/_matrix/client/v1/media/download/{self.server.server_name}/{media_id}",
            token=owner["access_token"])
        self.assertEqual(status, 404)
        return {"text": secret, "name": name, "topic": topic}, picture

    def test_created_announced_and_deleted_after_seven_days(self):
        self.deleted_room_with_secrets()

    # R22: the purge destroys the room's at-rest key before deleting its rows, so the copies
    # LMDB keeps in freed pages are ciphertext without a key; its media files are deleted. The
    # room id itself may stay (the members' final leave records keep it, as do ids in freed
    # pages), and haven-care's ledger keeps it on purpose.
    def test_data_files_hold_nothing_of_a_deleted_room(self):
        secrets, picture = self.deleted_room_with_secrets()
        for what, needle in secrets.items():
            self.assertEqual(self.data_files_hold(needle), [], what)
        self.assertEqual(self.data_files_hold_bytes(picture), [])

    # --- an encrypted temporary conversation with a guest ---
    def upload_async(self, who, data):
        """POST /_matrix/media/v1/create, then PUT the bytes to the reserved mxc URI."""
        created = self.ok(who, "POST", "/_matrix/media/v1/create", {})
        server_and_id = created["content_uri"][len("mxc://"):]
        status, reply = self.client.request(
            "PUT", f"/_matrix/media/v3/upload/{server_and_id}", raw_body=data,
            token=who["access_token"], headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(status, 200, reply)
        return created["content_uri"]

    def download(self, who, mxc):
        return self.client.request("GET", "/_matrix/client/v1/media/download/" + mxc[6:],
                                   token=who["access_token"])[0], self.client.last_body

    def accepted_guest(self, owner, room):
        """A guest of `room` through haven-care's guest link, with their room-scoped token."""
        self.ok(self.admin, "PUT", ADMIN + "/features", {"guest_links": True})
        status, link = self.care(owner, "POST", f"/rooms/{quote(room)}/guest_links")
        self.assertEqual(status, 200, link)
        status, request = self.care(None, "POST", f"/guest_links/{link['token']}/requests",
                                    {"name": "Aunt Mary"})
        self.assertEqual(status, 200, request)
        status, reply = self.care(owner, "POST",
                                  f"/guest_requests/{request['request_id']}/accept", {})
        self.assertEqual(status, 200, reply)
        status, creds = self.care(None, "GET", f"/guest_requests/{request['request_id']}"
                                               f"?poll_token={request['poll_token']}")
        self.assertEqual(status, 200, creds)
        return {"access_token": creds["access_token"], "user_id": creds["user_id"]}

    def send_encrypted(self, who, room):
        """An m.room.encrypted event as a client sends it: what it names is in the ciphertext."""
        ciphertext = base64.b64encode(os.urandom(300)).decode().rstrip("=")
        self.ok(who, "PUT", f"{V3}/rooms/{quote(room)}/send/m.room.encrypted/{unique('t')}",
                {"algorithm": "m.megolm.v1.aes-sha2", "sender_key": "c2VuZGVyIGtleQ",
                 "device_id": "GUESTDEV", "session_id": "c2Vzc2lvbg", "ciphertext": ciphertext})

    # R22 for an encrypted conversation: the server cannot read which media its events name,
    # so it removes what it can tie to the room (a guest's uploads, whose token reaches only
    # this room; the room avatar and per-room member avatars, which are plain state) and
    # keeps media another room names. A professional's upload named only inside ciphertext
    # cannot be tied to the room and stays, an encrypted blob whose key was in the purged events.
    def test_encrypted_room_deletion_leaves_no_guest_upload_in_the_data_files(self):
        owner = self.person("professional", "Dr Crypt")
        made = self.care(owner, "POST", "/temporary_rooms", {"name": "encrypted"})
        self.assertEqual(made[0], 200, made[1])
        room = made[1]["room_id"]
        self.ok(owner, "PUT", f"{V3}/rooms/{quote(room)}/state/m.room.encryption/",
                {"algorithm": "m.megolm.v1.aes-sha2"})
        guest = self.accepted_guest(owner, room)
        guest_blob, guest_async_blob = os.urandom(4096), os.urandom(4096)
        self.upload_media(guest, guest_blob)
        self.upload_async(guest, guest_async_blob)
        self.send_encrypted(guest, room)

        room_avatar, member_avatar = os.urandom(2048), os.urandom(2048)
        self.ok(owner, "PUT", f"{V3}/rooms/{quote(room)}/state/m.room.avatar/",
                {"url": self.upload_media(owner, room_avatar)})
        self.ok(owner, "PUT", f"{V3}/rooms/{quote(room)}/state/m.room.member/"
                              f"{quote(owner['user_id'])}",
                {"membership": "join", "avatar_url": self.upload_media(owner, member_avatar)})

        # The same file in an ordinary room too: its purge must not take it from there.
        other_room = self.ok(owner, "POST", V3 + "/createRoom", {"name": "ordinary"})["room_id"]
        shared = os.urandom(2048)
        shared_uri = self.upload_media(owner, shared)
        for where in (room, other_room):
            self.ok(owner, "PUT", f"{V3}/rooms/{quote(where)}/send/m.room.message/{unique('t')}",
                    {"msgtype": "m.file", "body": "shared.bin", "url": shared_uri})
        untied = os.urandom(2048)
        untied_uri = self.upload_media(owner, untied)
        self.send_encrypted(owner, room)
        for blob in (guest_blob, guest_async_blob, room_avatar, member_avatar):
            self.assertTrue(self.data_files_hold_bytes(blob))

        self.advance_both(6 * DAY_MS)
        self.advance_both(DAY_MS + 60 * 1000)
        self.assertError(self.req(self.admin, "GET", f"{SYNAPSE_ADMIN}/rooms/{quote(room)}"),
                         404, "M_NOT_FOUND")
        for what, blob in (("guest upload", guest_blob), ("guest async upload", guest_async_blob),
                           ("room avatar", room_avatar), ("member avatar", member_avatar)):
            self.assertEqual(self.data_files_hold_bytes(blob), [], what)
        self.assertEqual(self.download(owner, shared_uri), (200, shared))
        self.assertEqual(self.download(owner, untied_uri), (200, untied))

    # A room that is not purged reads back from its sealed rows after a restart, when the event
    # cache is empty and the room key comes from the key file.
    def test_rooms_read_back_after_a_restart(self):
        owner = self.person("professional", "Dr Stay")
        name = unique("kept-room-name")
        made = self.care(owner, "POST", "/temporary_rooms", {"name": name})
        self.assertEqual(made[0], 200, made[1])
        room = made[1]["room_id"]
        secret = unique("kept-secret-text")
        self.ok(owner, "PUT", f"{V3}/rooms/{quote(room)}/send/m.room.message/{unique('t')}",
                {"msgtype": "m.text", "body": secret})
        self.server.restart()
        state = self.ok(owner, "GET", f"{V3}/rooms/{quote(room)}/state/m.room.name/")
        self.assertEqual(state["name"], name)
        page = self.ok(owner, "GET", f"{V3}/rooms/{quote(room)}/messages?dir=b&limit=20")
        bodies = [e["content"].get("body") for e in page["chunk"]]
        self.assertIn(secret, bodies)
        self.assertEqual(self.data_files_hold(secret), [])


if __name__ == "__main__":
    unittest.main()
