"""Delayed events (MSC4140, unstable prefix org.matrix.msc4140): scheduling through /send and
/state with the delay query parameter (as Synapse and matrix-js-sdk do) and through the MSC's
own endpoint; listing; the cancel, restart and send actions in both their forms; other users'
state cancelling a delayed state event; sending what fell due while the server was down; and
bad input. Delays are short; nothing asserts on timing, results are polled with a deadline."""

import time
import unittest

from harness import HomeserverTestCase, quote, unique

UNSTABLE = "/_matrix/client/unstable/org.matrix.msc4140"
DELAY = "org.matrix.msc4140.delay"
DEADLINE_S = 30
HOUR_MS = 3600 * 1000


class DelayedEventsBase(HomeserverTestCase):
    options = {"rooms.encryption_enabled_by_default": "false"}

    def room(self, owner, *members):
        room = self.ok(owner, "POST", "/createRoom", {"preset": "public_chat"})["room_id"]
        for m in members:
            self.ok(m, "POST", f"/join/{quote(room)}", {})
        return room

    def send_delayed(self, who, room, body, delay_ms):
        path = f"/rooms/{quote(room)}/send/m.room.message/{unique('t')}?{DELAY}={delay_ms}"
        reply = self.ok(who, "PUT", path, {"msgtype": "m.text", "body": body})
        self.assertNotIn("event_id", reply)
        self.assertIsInstance(reply["delay_id"], str)
        return reply["delay_id"]

    def state_delayed(self, who, room, type_, key, content, delay_ms):
        path = f"/rooms/{quote(room)}/state/{type_}/{quote(key)}?{DELAY}={delay_ms}"
        return self.ok(who, "PUT", path, content)["delay_id"]

    def bodies(self, who, room):
        chunk = self.ok(who, "GET", f"/rooms/{quote(room)}/messages?dir=b&limit=100")["chunk"]
        return [e["content"].get("body") for e in chunk if e["type"] == "m.room.message"]

    def wait_for_body(self, who, room, body):
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            if body in self.bodies(who, room):
                return
            time.sleep(0.1)
        self.fail(f"{body!r} was never sent into the room:\n{self.server.log_tail()}")

    def scheduled_ids(self, who):
        listed = self.ok(who, "GET", f"{UNSTABLE}/delayed_events")["delayed_events"]
        return [e["delay_id"] for e in listed]

    def lookup(self, who, delay_id):
        return self.ok(who, "GET", f"{UNSTABLE}/delayed_events/{delay_id}")

    def act(self, who, delay_id, action):
        return self.req(who, "POST", f"{UNSTABLE}/delayed_events/{delay_id}", {"action": action})


class DelayedEventsTest(DelayedEventsBase):
    def test_versions_and_capabilities_advertise_msc4140(self):
        status, versions = self.client.request("GET", "/_matrix/client/versions")
        self.assertEqual(status, 200)
        self.assertIs(versions["unstable_features"].get("org.matrix.msc4140"), True)
        caps = self.ok(self.user(), "GET", "/capabilities")["capabilities"]
        self.assertEqual(caps["org.matrix.msc4140.delayed_events"]["max_delay_ms"], 24 * HOUR_MS)

    def test_delayed_message_is_listed_then_sent(self):
        alice, bob = self.user(), self.user()
        room = self.room(alice, bob)
        delay_id = self.send_delayed(alice, room, "later", 1000)
        listed = self.ok(alice, "GET", f"{UNSTABLE}/delayed_events")["delayed_events"]
        mine = [e for e in listed if e["delay_id"] == delay_id]
        if mine:  # it may already have been sent on a slow machine
            self.assertEqual(mine[0]["room_id"], room)
            self.assertEqual(mine[0]["type"], "m.room.message")
            self.assertEqual(mine[0]["content"]["body"], "later")
            self.assertEqual(mine[0]["delay"], 1000)
            self.assertNotIn("state_key", mine[0])
        self.assertEqual(self.scheduled_ids(bob), [], "bob sees none of alice's")
        self.wait_for_body(bob, room, "later")
        self.assertNotIn(delay_id, self.scheduled_ids(alice))
        info = self.lookup(alice, delay_id)
        self.assertIn("finalised_ts", info)
        event = self.ok(bob, "GET", f"/rooms/{quote(room)}/event/{quote(info['event_id'])}")
        self.assertEqual(event["sender"], alice["user_id"])
        self.assertEqual(event["content"]["body"], "later")

    def test_delayed_state_ends_call_membership(self):
        alice, bob = self.user(), self.user()
        room = self.room(alice, bob)
        key = f"_{alice['user_id']}_DEVICE"
        self.state_delayed(alice, room, "org.matrix.msc3401.call.member", key, {}, 1000)
        # The client joins the call after scheduling its hang-up, as Element Call does: its own
        # state does not cancel its own delayed event.
        self.ok(alice, "PUT", f"/rooms/{quote(room)}/state/org.matrix.msc3401.call.member/"
                f"{quote(key)}", {"application": "m.call", "call_id": ""})
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            state = self.ok(bob, "GET", f"/rooms/{quote(room)}/state/"
                            f"org.matrix.msc3401.call.member/{quote(key)}")
            if state == {}:
                return
            time.sleep(0.1)
        self.fail("the delayed hang-up never replaced the call membership")

    def test_cancel_keeps_the_event_from_being_sent(self):
        alice = self.user()
        room = self.room(alice)
        cancelled = self.send_delayed(alice, room, "never", 1000)
        status, reply = self.act(alice, cancelled, "cancel")
        self.assertEqual((status, reply), (200, {}))
        self.assertEqual(self.act(alice, cancelled, "cancel")[0], 200, "cancel is idempotent")
        self.assertError(self.act(alice, cancelled, "send"), 409, "M_UNKNOWN")
        self.assertError(self.act(alice, cancelled, "restart"), 409, "M_UNKNOWN")
        # Events go out soonest first, so once a later one is in the room the cancelled one
        # would be there too had it not been cancelled.
        self.send_delayed(alice, room, "marker", 1500)
        self.wait_for_body(alice, room, "marker")
        self.assertNotIn("never", self.bodies(alice, room))
        info = self.lookup(alice, cancelled)
        self.assertIn("finalised_ts", info)
        self.assertNotIn("event_id", info)
        self.assertNotIn("error", info)

    def test_send_action_sends_at_once(self):
        alice = self.user()
        room = self.room(alice)
        delay_id = self.send_delayed(alice, room, "now please", HOUR_MS)
        self.assertIn(delay_id, self.scheduled_ids(alice))
        self.assertEqual(self.act(alice, delay_id, "send"), (200, {}))
        self.assertIn("now please", self.bodies(alice, room))
        self.assertNotIn(delay_id, self.scheduled_ids(alice))
        self.assertEqual(self.act(alice, delay_id, "send")[0], 200, "send is idempotent")
        self.assertError(self.act(alice, delay_id, "cancel"), 409, "M_UNKNOWN")
        self.assertTrue(self.lookup(alice, delay_id)["event_id"].startswith("$"))

    def test_restart_moves_the_send_time(self):
        alice = self.user()
        room = self.room(alice)
        delay_id = self.send_delayed(alice, room, "heartbeat", HOUR_MS)
        before = self.lookup(alice, delay_id)["scheduled_at"]
        time.sleep(0.05)
        self.assertEqual(self.act(alice, delay_id, "restart"), (200, {}))
        after = self.lookup(alice, delay_id)
        self.assertGreater(after["scheduled_at"], before)
        self.assertNotIn("finalised_ts", after)
        self.assertIn(delay_id, self.scheduled_ids(alice))

    def test_msc_endpoints_schedule_and_manage(self):
        alice = self.user()
        room = self.room(alice)
        txn = unique("txn")
        path = f"{UNSTABLE}/rooms/{quote(room)}/delayed_event/m.room.message/{txn}"
        body = {"delay_ms": HOUR_MS, "content": {"msgtype": "m.text", "body": "via msc"}}
        delay_id = self.ok(alice, "PUT", path, body)["delay_id"]
        self.assertEqual(self.ok(alice, "PUT", path, body)["delay_id"], delay_id,
                         "a repeated transaction id schedules nothing new")
        self.assertEqual(self.scheduled_ids(alice).count(delay_id), 1)
        listed = self.ok(alice, "GET", f"{UNSTABLE}/delayed_events")["delayed_events"][0]
        self.assertEqual(listed["delay_ms"], HOUR_MS)
        self.assertIsInstance(listed["scheduled_at"], int)
        self.assertEqual(self.req(alice, "POST", f"{UNSTABLE}/delayed_events/{delay_id}/send",
                                  {}), (200, {}))
        self.assertIn("via msc", self.bodies(alice, room))
        state = self.ok(alice, "PUT", f"{UNSTABLE}/rooms/{quote(room)}/delayed_event/m.room.topic/"
                        f"{unique('txn')}", {"delay_ms": HOUR_MS, "state_key": "",
                                            "content": {"topic": "later"}})["delay_id"]
        self.assertEqual(self.lookup(alice, state)["state_key"], "")
        self.assertEqual(self.req(alice, "POST", f"{UNSTABLE}/delayed_events/{state}/cancel",
                                  {}), (200, {}))
        self.assertNotIn(state, self.scheduled_ids(alice))

    def test_other_users_state_cancels_a_delayed_state_event(self):
        alice, bob = self.user(), self.user()
        room = self.room(alice, bob)
        pl = self.ok(alice, "GET", f"/rooms/{quote(room)}/state/m.room.power_levels")
        pl["users"][bob["user_id"]] = 100
        self.ok(alice, "PUT", f"/rooms/{quote(room)}/state/m.room.power_levels", pl)
        delay_id = self.state_delayed(alice, room, "m.room.topic", "", {"topic": "stale"}, HOUR_MS)
        self.ok(alice, "PUT", f"/rooms/{quote(room)}/state/m.room.topic", {"topic": "mine"})
        self.assertIn(delay_id, self.scheduled_ids(alice), "the owner's own state keeps it")
        self.ok(bob, "PUT", f"/rooms/{quote(room)}/state/m.room.topic", {"topic": "bob's"})
        deadline = time.monotonic() + DEADLINE_S
        while delay_id in self.scheduled_ids(alice):
            self.assertLess(time.monotonic(), deadline, "bob's topic never cancelled it")
            time.sleep(0.05)
        info = self.lookup(alice, delay_id)
        self.assertIn("finalised_ts", info)
        self.assertNotIn("event_id", info)

    def test_event_that_cannot_be_sent_is_finalised_with_the_error(self):
        alice, bob = self.user(), self.user()
        room = self.room(alice, bob)
        delay_id = self.send_delayed(bob, room, "after leaving", 1000)
        self.ok(bob, "POST", f"/rooms/{quote(room)}/leave", {})
        deadline = time.monotonic() + DEADLINE_S
        info = self.lookup(bob, delay_id)
        while "finalised_ts" not in info:
            self.assertLess(time.monotonic(), deadline, "never finalised")
            time.sleep(0.1)
            info = self.lookup(bob, delay_id)
        self.assertEqual(info["error"]["errcode"], "M_FORBIDDEN")
        self.assertNotIn("event_id", info)
        self.assertNotIn("after leaving", self.bodies(alice, room))

    def test_send_action_that_fails_answers_the_error_and_keeps_it(self):
        alice, bob = self.user(), self.user()
        room = self.room(alice, bob)
        delay_id = self.send_delayed(bob, room, "not allowed", HOUR_MS)
        self.ok(bob, "POST", f"/rooms/{quote(room)}/leave", {})
        self.assertError(self.act(bob, delay_id, "send"), 403, "M_FORBIDDEN")
        self.assertIn(delay_id, self.scheduled_ids(bob))

    def test_bad_delays_are_refused(self):
        alice = self.user()
        room = self.room(alice)
        base = f"/rooms/{quote(room)}/send/m.room.message/"
        for bad in ["-5", "0", "abc", "1.5", "", "-99999999999999999999"]:
            self.assertError(self.req(alice, "PUT", f"{base}{unique('t')}?{DELAY}={bad}",
                                      {"body": "x"}), 400, "M_INVALID_PARAM")
        for huge in [str(24 * HOUR_MS + 1), "99999999999999999999999"]:
            status, reply = self.req(alice, "PUT", f"{base}{unique('t')}?{DELAY}={huge}",
                                     {"body": "x"})
            self.assertError((status, reply), 400, "M_MAX_DELAY_EXCEEDED")
            self.assertEqual(reply["org.matrix.msc4140.max_delay"], 24 * HOUR_MS)
        path = f"{UNSTABLE}/rooms/{quote(room)}/delayed_event/m.room.message/"
        self.assertError(self.req(alice, "PUT", path + unique("t"), {"content": {}}), 400,
                         "M_MISSING_PARAM")
        self.assertError(self.req(alice, "PUT", path + unique("t"),
                                  {"delay_ms": "1000", "content": {}}), 400, "M_BAD_JSON")
        self.assertError(self.req(alice, "PUT", path + unique("t"),
                                  {"delay_ms": -1, "content": {}}), 400, "M_INVALID_PARAM")
        self.assertError(self.req(alice, "PUT", path + unique("t"), {"delay_ms": 1000}), 400,
                         "M_MISSING_PARAM")
        self.assertError(self.req(alice, "PUT", f"/rooms/!nope/send/m.room.message/t?{DELAY}=5",
                                  {}), 400, "M_INVALID_PARAM")
        self.assertEqual(self.scheduled_ids(alice), [])
        self.assertServerAlive()

    def test_unknown_and_foreign_delay_ids_are_not_found(self):
        alice, mallory = self.user(), self.user()
        room = self.room(alice)
        delay_id = self.send_delayed(alice, room, "private", HOUR_MS)
        for who, target in [(alice, "syd_nosuchid"), (mallory, delay_id)]:
            for action in ["cancel", "restart", "send"]:
                self.assertError(self.act(who, target, action), 404, "M_NOT_FOUND")
                self.assertError(self.req(who, "POST", f"{UNSTABLE}/delayed_events/{target}/"
                                          f"{action}", {}), 404, "M_NOT_FOUND")
            self.assertError(self.req(who, "GET", f"{UNSTABLE}/delayed_events/{target}"), 404,
                             "M_NOT_FOUND")
        self.assertIn(delay_id, self.scheduled_ids(alice), "mallory changed nothing")
        self.assertError(self.act(alice, delay_id, "explode"), 400, "M_INVALID_PARAM")
        self.assertError(self.req(alice, "POST", f"{UNSTABLE}/delayed_events/{delay_id}", {}),
                         400, "M_MISSING_PARAM")
        self.assertError(self.req(None, "GET", f"{UNSTABLE}/delayed_events"), 401,
                         "M_MISSING_TOKEN")

    def test_due_events_are_sent_after_a_restart(self):
        alice = self.user()
        room = self.room(alice)
        self.send_delayed(alice, room, "while down", 1500)
        pending = self.send_delayed(alice, room, "much later", HOUR_MS)
        self.server.stop()
        time.sleep(2)  # past the first one's send time while the server is down
        self.server.start()
        self.wait_for_body(alice, room, "while down")
        self.assertEqual(self.scheduled_ids(alice), [pending])
        self.assertNotIn("much later", self.bodies(alice, room))


class DelayedEventLimitsTest(DelayedEventsBase):
    options = {"rooms.encryption_enabled_by_default": "false",
               "delayed_events.max_delay_ms": "60000", "delayed_events.max_per_user": "2"}

    def test_configured_maximum_delay(self):
        alice = self.user()
        room = self.room(alice)
        status, reply = self.req(alice, "PUT", f"/rooms/{quote(room)}/state/m.room.topic/"
                                 f"?{DELAY}=60001", {"topic": "x"})
        self.assertError((status, reply), 400, "M_MAX_DELAY_EXCEEDED")
        self.assertEqual(reply["org.matrix.msc4140.max_delay"], 60000)
        self.state_delayed(alice, room, "m.room.topic", "", {"topic": "x"}, 60000)

    def test_scheduled_events_per_user_are_bounded(self):
        alice = self.user()
        room = self.room(alice)
        first = self.send_delayed(alice, room, "one", 60000)
        self.send_delayed(alice, room, "two", 60000)
        self.assertError(self.req(alice, "PUT", f"/rooms/{quote(room)}/send/m.room.message/"
                                  f"{unique('t')}?{DELAY}=60000", {"body": "three"}), 429,
                         "M_LIMIT_EXCEEDED")
        self.assertEqual(self.act(alice, first, "cancel")[0], 200)
        self.send_delayed(alice, room, "three", 60000)


class DelayedEventsOffTest(DelayedEventsBase):
    options = {"delayed_events.max_delay_ms": "0"}

    def test_turned_off_refuses_and_does_not_advertise(self):
        _, versions = self.client.request("GET", "/_matrix/client/versions")
        self.assertIs(versions["unstable_features"].get("org.matrix.msc4140"), False)
        alice = self.user()
        room = self.room(alice)
        self.assertError(self.req(alice, "PUT", f"/rooms/{quote(room)}/send/m.room.message/"
                                  f"{unique('t')}?{DELAY}=1000", {"body": "x"}), 403,
                         "M_FORBIDDEN")


if __name__ == "__main__":
    unittest.main()
