"""/sync: initial and incremental syncs, long-polling woken by new events, invites, leaves,
limited timelines, filters, and durability of acknowledged sends across kill -9."""

import threading
import time
import unittest

from harness import HomeserverTestCase, quote, unique

V3 = "/_matrix/client/v3"


class SyncTestCase(HomeserverTestCase):
    options = {"rooms.encryption_enabled_by_default": "false"}

    def user(self):
        return self.client.register(unique("sync"))

    def sync(self, who, since=None, timeout=0, extra=""):
        q = f"?timeout={timeout}" + (f"&since={since}" if since else "") + extra
        return self.ok(who, "GET", "/sync" + q)

    def quiet_since(self, who):
        """A since token after which nothing is pending for `who` (the first sync also marks
        the user online, which later syncs report)."""
        since = self.sync(who)["next_batch"]
        for _ in range(10):
            s = self.sync(who, since, timeout=200)
            if not s["rooms"]["join"] and not s["presence"]["events"]:
                return s["next_batch"]
            since = s["next_batch"]
        self.fail("sync never settled")

    def send(self, who, room, body):
        return self.ok(who, "PUT", f"/rooms/{quote(room)}/send/m.room.message/{unique('t')}",
                       body)["event_id"]

    def timeline_ids(self, sync, room, section="join"):
        room_data = sync["rooms"][section].get(room)
        if not room_data:
            return []
        return [e["event_id"] for e in room_data["timeline"]["events"]]


class SyncTest(SyncTestCase):
    def test_initial_sync_has_the_room_state_and_timeline(self):
        alice = self.user()
        room = self.ok(alice, "POST", "/createRoom", {"name": "Hello"})["room_id"]
        msg = self.send(alice, room, {"msgtype": "m.text", "body": "first"})
        s = self.sync(alice)
        self.assertIn("next_batch", s)
        joined = s["rooms"]["join"][room]
        events = joined["timeline"]["events"]
        self.assertEqual(events[-1]["event_id"], msg)
        self.assertNotIn("room_id", events[-1])
        types = {e["type"] for e in joined["state"]["events"]} | {e["type"] for e in events}
        self.assertIn("m.room.name", types)
        self.assertIn("m.room.create", types)
        self.assertEqual(joined["summary"]["m.joined_member_count"], 1)

    def test_incremental_sync_returns_only_new_events(self):
        alice = self.user()
        room = self.ok(alice, "POST", "/createRoom", {})["room_id"]
        s1 = self.sync(alice)
        msg = self.send(alice, room, {"msgtype": "m.text", "body": "new"})
        s2 = self.sync(alice, s1["next_batch"])
        self.assertEqual(self.timeline_ids(s2, room), [msg])
        s3 = self.sync(alice, s2["next_batch"])
        self.assertEqual(s3["rooms"]["join"], {})

    def test_long_poll_wakes_on_a_new_message(self):
        alice, bob = self.user(), self.user()
        room = self.ok(alice, "POST", "/createRoom", {"invite": [bob["user_id"]]})["room_id"]
        self.ok(bob, "POST", f"/rooms/{quote(room)}/join", {})
        since = self.quiet_since(bob)
        result = {}

        def poll():
            started = time.monotonic()
            result["sync"] = self.sync(bob, since, timeout=20000)
            result["seconds"] = time.monotonic() - started
        t = threading.Thread(target=poll)
        t.start()
        time.sleep(0.5)
        msg = self.send(alice, room, {"msgtype": "m.text", "body": "wake up"})
        t.join(25)
        self.assertFalse(t.is_alive())
        self.assertEqual(self.timeline_ids(result["sync"], room), [msg])
        self.assertLess(result["seconds"], 15)

    def test_long_poll_times_out_with_an_empty_response(self):
        alice = self.user()
        since = self.quiet_since(alice)
        started = time.monotonic()
        s = self.sync(alice, since, timeout=1000)
        self.assertGreaterEqual(time.monotonic() - started, 0.9)
        self.assertEqual(s["rooms"]["join"], {})

    def test_invites_then_join_then_leave_show_in_their_sections(self):
        alice, bob = self.user(), self.user()
        room = self.ok(alice, "POST", "/createRoom", {"name": "Invite me"})["room_id"]
        since = self.sync(bob)["next_batch"]
        self.ok(alice, "POST", f"/rooms/{quote(room)}/invite", {"user_id": bob["user_id"]})
        s = self.sync(bob, since)
        invite = s["rooms"]["invite"][room]["invite_state"]["events"]
        self.assertTrue(any(e["type"] == "m.room.name" for e in invite))
        self.assertTrue(any(e["type"] == "m.room.member" and e["state_key"] == bob["user_id"]
                            for e in invite))
        self.ok(bob, "POST", f"/rooms/{quote(room)}/join", {})
        s = self.sync(bob, s["next_batch"])
        self.assertIn(room, s["rooms"]["join"])
        self.ok(bob, "POST", f"/rooms/{quote(room)}/leave", {})
        s = self.sync(bob, s["next_batch"])
        self.assertIn(room, s["rooms"]["leave"])
        after = self.send(alice, room, {"msgtype": "m.text", "body": "after leave"})
        s = self.sync(bob, s["next_batch"])
        self.assertNotIn(room, s["rooms"]["join"])
        self.assertNotIn(after, self.timeline_ids(s, room, "leave"))

    def test_limited_timeline_has_prev_batch_for_messages(self):
        alice = self.user()
        room = self.ok(alice, "POST", "/createRoom", {})["room_id"]
        since = self.sync(alice)["next_batch"]
        sent = [self.send(alice, room, {"msgtype": "m.text", "body": str(i)}) for i in range(15)]
        s = self.sync(alice, since, extra="&filter=" + quote('{"room":{"timeline":{"limit":5}}}'))
        tl = s["rooms"]["join"][room]["timeline"]
        self.assertTrue(tl["limited"])
        self.assertEqual([e["event_id"] for e in tl["events"]], sent[-5:])
        back = self.ok(alice, "GET", f"/rooms/{quote(room)}/messages?dir=b&limit=5&from={tl['prev_batch']}")
        self.assertEqual([e["event_id"] for e in back["chunk"]], sent[-6:-11:-1])

    def test_stored_filter_and_lazy_loading(self):
        alice, bob = self.user(), self.user()
        room = self.ok(alice, "POST", "/createRoom", {"preset": "public_chat"})["room_id"]
        self.ok(bob, "POST", f"/join/{quote(room)}", {})
        fid = self.ok(alice, "POST", f"/user/{quote(alice['user_id'])}/filter",
                      {"room": {"state": {"lazy_load_members": True}, "timeline": {"limit": 1}}})["filter_id"]
        self.send(alice, room, {"msgtype": "m.text", "body": "only alice speaks"})
        s = self.sync(alice, extra=f"&filter={fid}")
        members = [e["state_key"] for e in s["rooms"]["join"][room]["state"]["events"]
                   if e["type"] == "m.room.member"]
        self.assertNotIn(bob["user_id"], members)

    def test_bad_sync_parameters(self):
        alice = self.user()
        self.assertError(self.req(alice, "GET", "/sync?since=nonsense"), 400, "M_INVALID_PARAM")
        self.assertError(self.req(alice, "GET", "/sync?timeout=-5"), 400, "M_INVALID_PARAM")
        self.assertError(self.req(alice, "GET", "/sync?set_presence=dancing"), 400, "M_INVALID_PARAM")
        status, _ = self.req(alice, "GET", "/sync?filter=999999")
        self.assertEqual(status, 404)
        status, _ = self.req(alice, "GET", "/sync?filter=" + quote("{bad json"))
        self.assertEqual(status, 400)
        self.assertError(self.client.request("GET", V3 + "/sync"), 401, "M_MISSING_TOKEN")

    def test_a_client_disconnecting_mid_poll_does_not_hurt_the_server(self):
        alice = self.user()
        since = self.sync(alice)["next_batch"]
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=1)
        conn.request("GET", f"{V3}/sync?timeout=30000&since={since}",
                     headers={"Authorization": f"Bearer {alice['access_token']}"})
        time.sleep(0.2)
        conn.close()
        room = self.ok(alice, "POST", "/createRoom", {})["room_id"]
        self.send(alice, room, {"msgtype": "m.text", "body": "still here"})
        self.assertServerAlive()


class DurabilityTest(SyncTestCase):
    def test_kill_9_during_sends_loses_nothing_acknowledged(self):
        alice = self.user()
        room = self.ok(alice, "POST", "/createRoom", {})["room_id"]
        acknowledged = []
        stop = threading.Event()

        def sender(n):
            i = 0
            while not stop.is_set() and i < 2000:
                try:
                    status, reply = self.req(alice, "PUT",
                                             f"/rooms/{quote(room)}/send/m.room.message/w{n}_{i}",
                                             {"msgtype": "m.text", "body": f"{n}-{i}"})
                except OSError:
                    return
                if status == 200:
                    acknowledged.append(reply["event_id"])
                i += 1
        threads = [threading.Thread(target=sender, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        self.server.kill9()
        stop.set()
        for t in threads:
            t.join(10)
        self.assertGreater(len(acknowledged), 10)
        self.server.start()
        for event_id in acknowledged:
            status, _ = self.req(alice, "GET", f"/rooms/{quote(room)}/event/{quote(event_id)}")
            self.assertEqual(status, 200, f"acknowledged {event_id} was lost")


if __name__ == "__main__":
    unittest.main()
