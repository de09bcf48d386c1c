"""Calls in temporary conversations (R22, R23): haven-care follows MatrixRTC call memberships
(m.call.member as Element Call sends it, and the older `memberships` array) and legacy 1:1 VoIP
(m.call.invite/answer/hangup/reject) through its appservice transactions, records every call in
its ledger, keeps the conversation while a call runs and deletes it one hour after the call
ended (org.haven.temporary moves), ends the call of a client that vanished when its MSC4140
delayed leave fires, and answers GET /_haven/care/v1/call_minutes (professionals) and
/_haven/care/v1/admin/call_minutes (server admins). haven and haven-care run with fake clocks
that the tests move together; results that travel through a transaction are polled."""

import math
import unittest

from care_harness import CareTestCase
from harness import quote, unique

ADMIN = "/_haven/admin/v1"
SYNAPSE_ADMIN = "/_synapse/admin/v1"
V3 = "/_matrix/client/v3"
DELAYED = "/_matrix/client/unstable/org.matrix.msc4140/delayed_events"
DELAY_PARAM = "org.matrix.msc4140.delay"
PASSWORD = "correct horse battery"
RTC_MEMBER = "org.matrix.msc3401.call.member"
MINUTE_MS = 60 * 1000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS


class CallMinutesTests(CareTestCase):
    options = {"care.enabled": "true", "rooms.encryption_enabled_by_default": "false",
               "testing.fake_clock": "true"}

    def setUp(self):
        self.ok(self.admin, "PUT", ADMIN + "/features",
                {"temporary_rooms": True, "guest_links": True})

    # --- helpers ---
    def temporary_room(self, owner, *colleagues):
        made = self.care_ok(owner, "POST", "/temporary_rooms",
                            {"name": "call", "invite": [c["user_id"] for c in colleagues]})
        for c in colleagues:
            self.ok(c, "POST", f"{V3}/rooms/{quote(made['room_id'])}/join", {})
        return made["room_id"]

    def care_now(self):
        return self.care_ok(None, "POST", "/testing/clock", {"advance_ms": 0})["now_ms"]

    def slot(self, who):
        return f"_{who['user_id']}_{who['device_id']}"

    def member_path(self, room, key):
        return f"{V3}/rooms/{quote(room)}/state/{RTC_MEMBER}/{quote(key)}"

    def join_call(self, who, room):
        """Element Call's per-device membership (MSC4143)."""
        self.ok(who, "PUT", self.member_path(room, self.slot(who)), {
            "application": "m.call", "call_id": "", "scope": "m.room",
            "device_id": who["device_id"], "expires": 4 * HOUR_MS,
            "focus_active": {"type": "livekit", "focus_selection": "oldest_membership"},
            "foci_preferred": [{"type": "livekit", "livekit_alias": room,
                                "livekit_service_url": "https://livekit.example"}]})

    def leave_call(self, who, room):
        self.ok(who, "PUT", self.member_path(room, self.slot(who)), {})

    def voip(self, who, room, type_, call_id, extra=None):
        content = {"call_id": call_id, "version": "1", "party_id": who["device_id"]}
        content.update(extra or {})
        self.ok(who, "PUT", f"{V3}/rooms/{quote(room)}/send/{type_}/{unique('txn')}", content)

    def minutes(self, who, query=""):
        return self.care_ok(who, "GET", "/call_minutes" + query)

    def ended_call(self, who, room, count=1):
        """Waits until haven-care has `count` ended calls of `room` in who's ledger."""
        got = self.wait_for(f"{count} ended call(s) in {room}", lambda: self.minutes(who),
                            lambda m: len([c for c in m["calls"] if c["room_id"] == room]) >= count)
        return [c for c in got["calls"] if c["room_id"] == room]

    def wait_ongoing(self, who, room):
        self.wait_for(f"a call in progress in {room}", lambda: self.minutes(who),
                      lambda m: any(c["room_id"] == room for c in m["ongoing"]))

    def room_exists(self, room):
        status, _ = self.req(self.admin, "GET", f"{SYNAPSE_ADMIN}/rooms/{quote(room)}")
        self.assertIn(status, (200, 404))
        return status == 200

    def deletes_at(self, who, room):
        return self.ok(who, "GET", f"{V3}/rooms/{quote(room)}/state/org.haven.temporary/")[
            "deletes_at"]

    def assert_minutes_rule(self, call):
        duration = call["ended_at"] - call["started_at"]
        self.assertEqual(call["minutes"], max(1, math.ceil(duration / MINUTE_MS)), call)

    def guest_in(self, owner, room):
        link = self.care_ok(owner, "POST", f"/rooms/{quote(room)}/guest_links")
        request = self.care_ok(None, "POST", f"/guest_links/{link['token']}/requests",
                               {"name": "Aunt Mary"})
        self.care_ok(owner, "POST", f"/guest_requests/{request['request_id']}/accept", {})
        creds = self.care_ok(None, "GET", f"/guest_requests/{request['request_id']}"
                                          f"?poll_token={request['poll_token']}")
        self.assertEqual(creds["status"], "accepted", creds)
        return creds

    # --- MatrixRTC ---
    def test_matrixrtc_call_recorded_and_room_deleted_an_hour_after_it(self):
        owner = self.person("professional", "Dr Rtc")
        colleague = self.person("professional", "Dr Rtc Mate")
        room = self.temporary_room(owner, colleague)
        created_deletes_at = self.deletes_at(owner, room)
        self.join_call(owner, room)
        # The colleague's client uses the older form: one event per user, a list of devices.
        array_path = self.member_path(room, colleague["user_id"])
        self.ok(colleague, "PUT", array_path, {"memberships": [{
            "application": "m.call", "call_id": "", "scope": "m.room",
            "device_id": colleague["device_id"], "expires": HOUR_MS,
            "foci_active": [{"type": "livekit"}], "membershipID": unique("m")}]})
        self.wait_ongoing(owner, room)
        self.advance_both(10 * MINUTE_MS)
        self.leave_call(owner, room)
        self.advance_both(5 * MINUTE_MS)
        self.ok(colleague, "PUT", array_path, {"memberships": []})
        [call] = self.ended_call(owner, room)
        self.assertEqual(call["kind"], "matrixrtc")
        self.assertEqual(call["call_id"], "")
        self.assertEqual(call["owner"], owner["user_id"])
        self.assertEqual(call["end_reason"], "left")
        self.assertEqual(call["participants"], [owner["user_id"], colleague["user_id"]])
        self.assertGreaterEqual(call["ended_at"] - call["started_at"], 15 * MINUTE_MS)
        self.assert_minutes_rule(call)
        # deletes_at moved to one hour after the call, for every member to see.
        self.assertEqual(self.deletes_at(colleague, room), call["ended_at"] + HOUR_MS)
        self.assertLess(self.deletes_at(owner, room), created_deletes_at)
        self.advance_both(59 * MINUTE_MS)
        self.assertTrue(self.room_exists(room), "deleted before the hour was over")
        self.advance_both(2 * MINUTE_MS)
        self.assertFalse(self.room_exists(room), "not deleted an hour after the call")
        # The ledger keeps the call after the room is gone.
        self.assertEqual(self.ended_call(owner, room), [call])

    def test_room_kept_past_seven_days_while_a_call_runs(self):
        owner = self.person("professional", "Dr Long")
        room = self.temporary_room(owner)
        self.advance_both(7 * DAY_MS - 10 * MINUTE_MS)
        self.join_call(owner, room)
        self.wait_ongoing(owner, room)
        self.advance_both(20 * MINUTE_MS)  # past creation + 7 days, in the call
        self.assertTrue(self.room_exists(room), "deleted during a call")
        self.leave_call(owner, room)
        [call] = self.ended_call(owner, room)
        self.assertEqual(self.deletes_at(owner, room), call["ended_at"] + HOUR_MS)
        self.assertTrue(self.room_exists(room))
        self.advance_both(HOUR_MS + MINUTE_MS)
        self.assertFalse(self.room_exists(room))
        self.assertEqual(self.ended_call(owner, room), [call])

    def test_vanished_client_ended_by_its_delayed_leave(self):
        owner = self.person("professional", "Dr Vanish")
        room = self.temporary_room(owner)
        # As Element Call does: schedule the leave, join, then keep restarting the delay.
        path = self.member_path(room, self.slot(owner)) + f"?{DELAY_PARAM}={MINUTE_MS}"
        delay_id = self.ok(owner, "PUT", path, {})["delay_id"]
        self.join_call(owner, room)
        self.wait_ongoing(owner, room)
        for _ in range(2):
            self.advance_both(40 * 1000)
            self.assertEqual(self.req(owner, "POST", f"{DELAYED}/{delay_id}",
                                      {"action": "restart"}), (200, {}))
        # The client is gone: no more restarts. Past the delay haven sends the leave.
        self.advance_both(MINUTE_MS + 1000)
        [call] = self.ended_call(owner, room)
        self.assertEqual(call["end_reason"], "left")
        sent = self.ok(owner, "GET", f"{DELAYED}/{delay_id}")
        self.assertIn("event_id", sent)
        leave = self.ok(owner, "GET", f"{V3}/rooms/{quote(room)}/event/{quote(sent['event_id'])}")
        self.assertEqual(leave["content"], {})
        self.assertEqual(call["ended_at"], leave["origin_server_ts"])
        # Joined, two restarts 40 s apart, then a minute of silence: over 2, under 3 minutes.
        self.assertGreaterEqual(call["ended_at"] - call["started_at"], 140 * 1000)
        self.assertEqual(call["minutes"], 3)
        self.assertEqual(self.ok(owner, "GET", self.member_path(room, self.slot(owner))), {})

    def restart_care(self):
        """Stops and starts haven-care; its fake clock starts from the wall clock again, so it
        is moved on to haven's."""
        self.care_service.stop()
        self.care_service.start()
        haven_now = self.ok(self.admin, "GET", ADMIN + "/testing/clock")["now_ms"]
        behind = haven_now - self.care_now()
        if behind > 0:
            self.care_ok(None, "POST", "/testing/clock", {"advance_ms": behind})

    def test_calls_survive_a_restart_of_haven_care(self):
        owner = self.person("professional", "Dr Restart")
        room = self.temporary_room(owner)
        self.join_call(owner, room)
        self.wait_ongoing(owner, room)
        self.restart_care()
        self.assertTrue(any(c["room_id"] == room for c in self.minutes(owner)["ongoing"]))
        self.advance_both(3 * MINUTE_MS)
        # The leave while haven-care is down reaches it when haven sends the transaction again.
        self.care_service.stop()
        self.leave_call(owner, room)
        self.restart_care()
        [call] = self.ended_call(owner, room)
        self.assertGreaterEqual(call["ended_at"] - call["started_at"], 3 * MINUTE_MS)
        self.assertEqual(self.deletes_at(owner, room), call["ended_at"] + HOUR_MS)
        self.advance_both(HOUR_MS + MINUTE_MS)
        self.assertFalse(self.room_exists(room))

    # --- legacy 1:1 VoIP ---
    def test_legacy_call_recorded_from_answer_to_hangup(self):
        owner = self.person("professional", "Dr Legacy")
        colleague = self.person("professional", "Dr Legacy Mate")
        room = self.temporary_room(owner, colleague)
        # Rung and rejected: no call.
        self.voip(owner, room, "m.call.invite", "rejected", {"lifetime": 60000, "offer": {
            "type": "offer", "sdp": "v=0"}})
        self.voip(colleague, room, "m.call.reject", "rejected")
        # Rung, answered, talked, hung up.
        self.voip(owner, room, "m.call.invite", "talked", {"lifetime": 60000, "offer": {
            "type": "offer", "sdp": "v=0"}})
        self.advance_both(20 * 1000)
        self.voip(colleague, room, "m.call.answer", "talked", {"answer": {
            "type": "answer", "sdp": "v=0"}})
        self.wait_ongoing(owner, room)
        self.advance_both(3 * MINUTE_MS)
        self.voip(colleague, room, "m.call.hangup", "talked", {"reason": "user_hangup"})
        [call] = self.ended_call(owner, room)
        self.assertEqual(call["kind"], "legacy")
        self.assertEqual(call["call_id"], "talked")
        self.assertEqual(call["end_reason"], "hangup")
        self.assertEqual(call["participants"], [owner["user_id"], colleague["user_id"]])
        self.assertGreaterEqual(call["ended_at"] - call["started_at"], 3 * MINUTE_MS)
        self.assertLess(call["ended_at"] - call["started_at"], 3 * MINUTE_MS + 20 * 1000,
                        "the call starts at the answer, not the invite")
        self.assert_minutes_rule(call)
        self.assertEqual(self.deletes_at(owner, room), call["ended_at"] + HOUR_MS)

    # --- who may ask, and what ---
    def test_call_minutes_refused_to_clients_guests_and_strangers(self):
        owner = self.person("professional", "Dr Guarded")
        client = self.person("client", "Cleo Calls")
        room = self.temporary_room(owner)
        guest = self.guest_in(owner, room)
        # The guest takes part in a call...
        self.join_call(guest, room)
        self.wait_ongoing(owner, room)
        self.leave_call(guest, room)
        [call] = self.ended_call(owner, room)
        self.assertEqual(call["participants"], [guest["user_id"]])
        # ...but sees no minutes, nor does a client.
        for who in (client, guest["access_token"]):
            for path in ("/call_minutes", "/admin/call_minutes"):
                status, reply = self.care(who, "GET", path)
                self.assertEqual((status, reply.get("errcode")), (403, "M_FORBIDDEN"),
                                 f"{path}: {reply}")
        status, reply = self.care(owner, "GET", "/admin/call_minutes")
        self.assertEqual((status, reply.get("errcode")), (403, "M_FORBIDDEN"), reply)
        status, reply = self.care(None, "GET", "/call_minutes")
        self.assertEqual((status, reply.get("errcode")), (401, "M_MISSING_TOKEN"), reply)
        status, reply = self.care("not-a-token", "GET", "/admin/call_minutes")
        self.assertEqual((status, reply.get("errcode")), (401, "M_UNKNOWN_TOKEN"), reply)

    def test_bad_from_and_to_refused(self):
        owner = self.person("professional", "Dr Params")
        for query in ("?from=abc", "?to=-5", "?from=10&to=5", "?from=1e3", "?from=",
                      "?to=1.5", "?from=" + "9" * 20):
            for who, path in ((owner, "/call_minutes"), (self.admin, "/admin/call_minutes")):
                status, reply = self.care(who, "GET", path + query)
                self.assertEqual((status, reply.get("errcode")), (400, "M_INVALID_PARAM"),
                                 f"{path}{query}: {reply}")
        status, reply = self.care(self.admin, "GET", "/admin/call_minutes?user_id=nobody")
        self.assertEqual((status, reply.get("errcode")), (400, "M_INVALID_PARAM"), reply)

    def test_from_to_filtering_and_organisation_totals(self):
        first = self.person("professional", "Dr First")
        second = self.person("professional", "Dr Second")
        since = self.care_now()
        room_a = self.temporary_room(first)
        self.join_call(first, room_a)
        self.wait_ongoing(first, room_a)
        self.advance_both(2 * MINUTE_MS)
        self.leave_call(first, room_a)
        [early] = self.ended_call(first, room_a)
        self.advance_both(DAY_MS)
        room_b = self.temporary_room(first)
        self.join_call(first, room_b)
        self.wait_ongoing(first, room_b)
        self.advance_both(5 * MINUTE_MS)
        self.leave_call(first, room_b)
        [late] = self.ended_call(first, room_b)
        room_c = self.temporary_room(second)
        self.join_call(second, room_c)
        self.wait_ongoing(second, room_c)
        self.advance_both(MINUTE_MS)
        self.leave_call(second, room_c)
        [other] = self.ended_call(second, room_c)
        until = self.care_now() + 1

        mine = self.minutes(first, f"?from={since}&to={until}")
        self.assertEqual(mine["calls"], [early, late])
        self.assertEqual(mine["total_calls"], 2)
        self.assertEqual(mine["total_minutes"], early["minutes"] + late["minutes"])
        self.assertIs(mine["limited"], False)
        only_late = self.minutes(first, f"?from={late['started_at']}")
        self.assertEqual(only_late["calls"], [late])
        only_early = self.minutes(first, f"?from={since}&to={late['started_at']}")
        self.assertEqual(only_early["calls"], [early])
        self.assertEqual(self.minutes(first, f"?from={since}&to={since}")["calls"], [])
        self.assertEqual(self.minutes(second, f"?from={since}")["calls"], [other])

        org = self.care_ok(self.admin, "GET", f"/admin/call_minutes?from={since}&to={until}")
        self.assertEqual(org["calls"], [early, late, other])
        self.assertEqual(org["total_calls"], 3)
        self.assertEqual(org["total_minutes"],
                         early["minutes"] + late["minutes"] + other["minutes"])
        totals = {p["user_id"]: p for p in org["professionals"]}
        self.assertEqual(totals[first["user_id"]],
                         {"user_id": first["user_id"], "calls": 2,
                          "minutes": early["minutes"] + late["minutes"]})
        self.assertEqual(totals[second["user_id"]]["minutes"], other["minutes"])
        self.assertEqual(len(totals), 2)
        one = self.care_ok(self.admin, "GET", f"/admin/call_minutes?from={since}&user_id="
                                              f"{quote(second['user_id'])}")
        self.assertEqual(one["calls"], [other])
        self.assertEqual([p["user_id"] for p in one["professionals"]], [second["user_id"]])


if __name__ == "__main__":
    unittest.main()
