"""Guest access through haven-care (R13-R18): haven with haven-care's registration and the
care rules on, haven-care started beside it with a fake clock. The whole guest story: the
owner's link, the guest's request (a knock), the owner's task, accept (REST or a plain Matrix
invite), chat, the guest's token confined to its room, removal after an hour without activity,
expired and revoked links, reject, and the refusals (not the owner, a client, feature off)."""

import http.client
import time
import unittest

from care_harness import CareTestCase
from harness import quote, unique

ADMIN = "/_haven/admin/v1"
CARE = "/_haven/care/v1"
V3 = "/_matrix/client/v3"
PASSWORD = "correct horse battery"
HOUR_MS = 3600 * 1000
DAY_MS = 24 * HOUR_MS


class GuestLinkTests(CareTestCase):
    options = {"care.enabled": "true", "rooms.encryption_enabled_by_default": "false"}

    def setUp(self):
        self.set_guest_links(True)

    # --- helpers ---
    def set_guest_links(self, on):
        self.ok(self.admin, "PUT", ADMIN + "/features", {"guest_links": on})

    def owner_room(self):
        pro = self.person("professional", "Dr Pat")
        room = self.ok(pro, "POST", V3 + "/createRoom", {"name": "care"})["room_id"]
        return pro, room

    def link(self, owner, room):
        return self.care_ok(owner, "POST", f"/rooms/{quote(room)}/guest_links")

    def ask(self, link, name="Aunt Mary"):
        return self.care_ok(None, "POST", f"/guest_links/{link['token']}/requests", {"name": name})

    def poll(self, request):
        return self.care_ok(None, "GET", f"/guest_requests/{request['request_id']}"
                                         f"?poll_token={request['poll_token']}")

    def advance(self, ms):
        return self.care_ok(None, "POST", "/testing/clock", {"advance_ms": ms})

    def act_and_wait_until_seen(self, guest, user_id):
        """A request with the guest's token, then waits until haven's whois shows it: haven
        records last_seen in a write of its own after answering, and haven-care's idle check
        reads it from whois, so the clock may only move on once it is there."""
        whois = f"/_synapse/admin/v1/whois/{quote(user_id)}"
        before = self.ok(self.admin, "GET", whois)
        time.sleep(0.002)  # a last_seen in a later millisecond than the one before
        self.ok(guest, "GET", V3 + "/account/whoami")
        deadline = time.monotonic() + 10
        while self.ok(self.admin, "GET", whois) == before:
            self.assertLess(time.monotonic(), deadline, "haven never recorded the activity")
            time.sleep(0.02)

    def membership(self, owner, room, user_id):
        return self.ok(owner, "GET", f"{V3}/rooms/{quote(room)}/state/m.room.member/"
                                     f"{quote(user_id)}").get("membership")

    def accepted_guest(self):
        pro, room = self.owner_room()
        request = self.ask(self.link(pro, room))
        tasks = self.care_ok(pro, "GET", "/tasks")["tasks"]
        task = [t for t in tasks if t["request_id"] == request["request_id"]][0]
        self.care_ok(pro, "POST", f"/guest_requests/{task['request_id']}/accept", {})
        creds = self.poll(request)
        return pro, room, request, creds

    # --- the story ---
    def test_link_request_task_accept_and_chat(self):
        pro, room = self.owner_room()
        link = self.link(pro, room)
        self.assertTrue(link["url"].endswith("/_haven/care/v1/guest_links/" + link["token"]))
        self.assertGreater(link["expires_at"], 0)
        status, page = self.care(None, "GET", f"/guest_links/{link['token']}")
        self.assertEqual(status, 200)
        self.assertIn("Ask for access", page)
        request = self.ask(link, "Aunt Mary")
        self.assertEqual(self.poll(request)["status"], "pending")
        # The owner sees it as a task and, in Matrix, as a knock with the name as reason.
        tasks = self.care_ok(pro, "GET", "/tasks")["tasks"]
        task = [t for t in tasks if t["request_id"] == request["request_id"]][0]
        self.assertEqual(task["name"], "Aunt Mary")
        member = self.ok(pro, "GET", f"{V3}/rooms/{quote(room)}/state/m.room.member/"
                                     f"{quote(task['user_id'])}")
        self.assertEqual(member["membership"], "knock")
        self.assertEqual(member["reason"], "Aunt Mary")
        self.care_ok(pro, "POST", f"/guest_requests/{request['request_id']}/accept", {})
        creds = self.poll(request)
        self.assertEqual(creds["status"], "accepted")
        self.assertEqual(creds["room_id"], room)
        self.assertEqual(creds["user_id"], task["user_id"])
        self.assertEqual(creds["homeserver_url"], self.server.url)
        # Handed out once.
        self.assertNotIn("access_token", self.poll(request))
        guest = {"access_token": creds["access_token"]}
        self.assertEqual(self.membership(pro, room, creds["user_id"]), "join")
        nick = self.ok(pro, "GET", f"{V3}/rooms/{quote(room)}/state/m.room.member/"
                                   f"{quote(creds['user_id'])}")
        self.assertEqual(nick["displayname"], "Aunt Mary")
        self.ok(guest, "PUT", f"{V3}/rooms/{quote(room)}/send/m.room.message/{unique('t')}",
                {"msgtype": "m.text", "body": "hello"})
        self.ok(guest, "GET", V3 + "/sync?timeout=0")
        self.assertEqual(self.care_ok(pro, "GET", "/tasks")["tasks"], [])

    def test_accept_from_a_matrix_client_by_invite(self):
        pro, room = self.owner_room()
        request = self.ask(self.link(pro, room))
        task = self.care_ok(pro, "GET", "/tasks")["tasks"][0]
        self.ok(pro, "POST", f"{V3}/rooms/{quote(room)}/invite", {"user_id": task["user_id"]})
        deadline = time.monotonic() + 30
        creds = self.poll(request)
        while creds["status"] == "pending" and time.monotonic() < deadline:
            time.sleep(0.1)
            creds = self.poll(request)
        self.assertEqual(creds["status"], "accepted")
        self.assertIn("access_token", creds)
        self.assertEqual(self.membership(pro, room, task["user_id"]), "join")

    def test_guest_token_only_works_in_its_room(self):
        pro, room, _, creds = self.accepted_guest()
        guest = {"access_token": creds["access_token"]}
        other = self.ok(pro, "POST", V3 + "/createRoom", {})["room_id"]
        self.assertError(self.req(guest, "GET", f"{V3}/rooms/{quote(other)}/messages"), 403,
                         "M_FORBIDDEN")
        self.assertError(self.req(guest, "POST", V3 + "/createRoom", {}), 403, "M_FORBIDDEN")
        self.assertError(self.req(guest, "POST", V3 + "/user_directory/search",
                                  {"search_term": "Pat"}), 403, "M_FORBIDDEN")
        self.assertError(self.req(guest, "GET", f"{V3}/profile/{quote(pro['user_id'])}"), 403,
                         "M_FORBIDDEN")
        self.assertError(self.req(guest, "POST", f"{V3}/join/{quote(other)}", {}), 403,
                         "M_FORBIDDEN")
        self.ok(guest, "GET", f"{V3}/rooms/{quote(room)}/messages?dir=b")
        self.ok(guest, "GET", V3 + "/account/whoami")

    def test_idle_guest_removed_after_an_hour_active_one_kept(self):
        pro, room, request, creds = self.accepted_guest()
        guest = {"access_token": creds["access_token"]}
        self.advance(40 * 60 * 1000)
        self.ok(guest, "GET", V3 + "/sync?timeout=0")  # activity
        self.act_and_wait_until_seen(guest, creds["user_id"])
        self.advance(1)  # the idle check sees it now
        self.advance(59 * 60 * 1000)  # 99 min since accept, 59 since the activity was seen
        self.assertEqual(self.membership(pro, room, creds["user_id"]), "join")
        self.assertEqual(self.poll(request)["status"], "accepted")
        self.act_and_wait_until_seen(guest, creds["user_id"])
        self.advance(1)
        self.advance(60 * 60 * 1000)  # an hour without a request
        self.assertEqual(self.poll(request)["status"], "removed")
        self.assertEqual(self.membership(pro, room, creds["user_id"]), "leave")
        self.assertError(self.req(guest, "GET", V3 + "/account/whoami"), 401, "M_UNKNOWN_TOKEN")

    def test_removed_guest_can_ask_again_through_a_valid_link(self):
        pro, room = self.owner_room()
        link = self.link(pro, room)
        first = self.ask(link)
        self.care_ok(pro, "POST", f"/guest_requests/{first['request_id']}/accept", {})
        self.poll(first)
        self.advance(61 * 60 * 1000)
        self.assertEqual(self.poll(first)["status"], "removed")
        second = self.ask(link)
        self.assertEqual(self.poll(second)["status"], "pending")

    def test_reject(self):
        pro, room = self.owner_room()
        request = self.ask(self.link(pro, room))
        task = self.care_ok(pro, "GET", "/tasks")["tasks"][0]
        self.care_ok(pro, "POST", f"/guest_requests/{request['request_id']}/reject", {})
        self.assertEqual(self.poll(request), {"status": "rejected"})
        self.assertEqual(self.membership(pro, room, task["user_id"]), "leave")
        status, _ = self.care(pro, "POST", f"/guest_requests/{request['request_id']}/accept", {})
        self.assertEqual(status, 409)

    def test_expired_link_refused(self):
        pro, room = self.owner_room()
        link = self.link(pro, room)
        self.advance(7 * DAY_MS + 1)
        status, body = self.care(None, "POST", f"/guest_links/{link['token']}/requests",
                                 {"name": "Late"})
        self.assertEqual((status, body["errcode"]), (403, "M_FORBIDDEN"))

    def test_revoked_link_refused(self):
        pro, room = self.owner_room()
        link = self.link(pro, room)
        stranger = self.person("professional", "Other")
        status, _ = self.care(stranger, "DELETE", f"/rooms/{quote(room)}/guest_links/{link['token']}")
        self.assertEqual(status, 403)
        self.care_ok(pro, "DELETE", f"/rooms/{quote(room)}/guest_links/{link['token']}")
        status, body = self.care(None, "POST", f"/guest_links/{link['token']}/requests",
                                 {"name": "X"})
        self.assertEqual((status, body["errcode"]), (404, "M_NOT_FOUND"))

    def test_link_refused_to_non_owner_client_and_when_off(self):
        pro, room = self.owner_room()
        other = self.person("professional", "Dr Other")
        status, body = self.care(other, "POST", f"/rooms/{quote(room)}/guest_links")
        self.assertEqual((status, body["errcode"]), (403, "M_FORBIDDEN"))
        client = self.person("client", "Carla")
        croom = self.ok(client, "POST", V3 + "/createRoom", {})["room_id"]
        status, body = self.care(client, "POST", f"/rooms/{quote(croom)}/guest_links")
        self.assertEqual((status, body["errcode"]), (403, "M_FORBIDDEN"))
        status, body = self.care(None, "POST", f"/rooms/{quote(room)}/guest_links")
        self.assertEqual((status, body["errcode"]), (401, "M_MISSING_TOKEN"))
        link = self.link(pro, room)
        self.set_guest_links(False)
        status, body = self.care(pro, "POST", f"/rooms/{quote(room)}/guest_links")
        self.assertEqual((status, body["errcode"]), (403, "M_FORBIDDEN"))
        status, body = self.care(None, "POST", f"/guest_links/{link['token']}/requests",
                                 {"name": "X"})
        self.assertEqual((status, body["errcode"]), (403, "M_FORBIDDEN"))

    def test_only_guests_may_knock(self):
        pro, room = self.owner_room()
        self.link(pro, room)  # the room's join rule is now knock
        other = self.person("professional", "Dr Knock")
        self.assertError(self.req(other, "POST", f"{V3}/knock/{quote(room)}", {}), 403,
                         "M_FORBIDDEN")

    def get_raw(self, path):
        conn = http.client.HTTPConnection("127.0.0.1", self.care_service.port, timeout=30)
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        conn.close()
        return r.status, r.getheader("Content-Type"), r.getheader("Content-Security-Policy"), body

    def test_guest_page_files_served_with_their_types_and_nothing_else(self):
        status, ctype, csp, page = self.get_raw(CARE + "/guest_links/anything")
        self.assertEqual((status, ctype), (200, "text/html; charset=utf-8"))
        self.assertIn(b"Ask for access", page)
        self.assertIn(b"guest_page/guest.js", page)
        self.assertIn("connect-src 'self' " + self.server.url, csp)
        for name, wanted in [("guest.js", "text/javascript; charset=utf-8"),
                             ("guest.css", "text/css; charset=utf-8"),
                             ("matrix_sdk_crypto_wasm_bg.wasm", "application/wasm")]:
            status, ctype, _, body = self.get_raw(CARE + "/guest_page/" + name)
            self.assertEqual((status, ctype), (200, wanted), name)
            self.assertGreater(len(body), 100, name)
        self.assertEqual(self.get_raw(CARE + "/guest_page/matrix_sdk_crypto_wasm_bg.wasm")[3][:4],
                         b"\0asm")
        # Nothing outside the folder, and nothing but the page's kinds of file in it.
        for path in ["..%2Fhaven-care", "..%2F..%2F..%2Fcare.yaml", "%2e%2e", ".gitignore",
                     "care.yaml", "nothing.js", "%2Fetc%2Fpasswd", "..", "x%00.js"]:
            status, ctype, _, body = self.get_raw(CARE + "/guest_page/" + path)
            self.assertEqual(status, 404, path)
            self.assertEqual(ctype, "application/json", path)

    def test_bad_requests(self):
        pro, room = self.owner_room()
        link = self.link(pro, room)
        for name in ["", " ", "x" * 65, "a\nb"]:
            status, body = self.care(None, "POST", f"/guest_links/{link['token']}/requests",
                                     {"name": name})
            self.assertEqual((status, body["errcode"]), (400, "M_INVALID_PARAM"), name)
        status, body = self.care(None, "POST", f"/guest_links/{link['token']}/requests", {})
        self.assertEqual(status, 400)
        status, body = self.care(None, "GET", "/guest_requests/nope?poll_token=x")
        self.assertEqual((status, body["errcode"]), (404, "M_NOT_FOUND"))
        request = self.ask(link)
        status, _ = self.care(None, "GET", f"/guest_requests/{request['request_id']}?poll_token=bad")
        self.assertEqual(status, 404)
        other = self.person("professional", "Dr Nosy")
        status, _ = self.care(other, "POST", f"/guest_requests/{request['request_id']}/accept", {})
        self.assertEqual(status, 403)
        status, _ = self.care(None, "POST", f"/guest_links/{link['token']}/requests",
                              None)
        self.assertEqual(status, 400)


if __name__ == "__main__":
    unittest.main()
