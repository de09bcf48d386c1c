"""haven-care's own device in encrypted temporary conversations, at the protocol level: the
test is a client doing Olm and Megolm with libolm (Debian's python3-olm), as Element does with
vodozemac. It claims a one-time key of haven-care's device, opens an Olm session to it, shares
a Megolm room key as an encrypted to-device m.room_key, and sends m.room.encrypted events.
haven-care must count the legacy calls inside them and tie the attachments they name to the
room, also when the key comes after the events, and must not be fooled by forgeries: a key
meant for another device, another user's session, encrypted state, garbage."""

import base64
import json
import os
import sys
import time
import unittest

try:
    import olm
except ImportError:  # Debian's python3-olm lives in the system Python
    if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

from care_harness import CareTestCase
from harness import quote, unique

ADMIN = "/_haven/admin/v1"
V3 = "/_matrix/client/v3"
PASSWORD = "correct horse battery"
MINUTE_MS = 60 * 1000
HOUR_MS = 60 * MINUTE_MS
OLM = "m.olm.v1.curve25519-aes-sha2"
MEGOLM = "m.megolm.v1.aes-sha2"


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Device:
    """One client device of `who` (a login): an Olm account and a Megolm session per room."""

    def __init__(self, test, who):
        self.test, self.who = test, who
        self.account = olm.Account()
        self.curve = self.account.identity_keys["curve25519"]
        self.ed = self.account.identity_keys["ed25519"]
        self.groups = {}
        self.session_keys = {}  # the room key as it was when the session was made (index 0)

    def group(self, room):
        if room not in self.groups:
            self.use_group(room, olm.OutboundGroupSession())
        return self.groups[room]

    def use_group(self, room, session):
        self.groups[room] = session
        self.session_keys[room] = session.session_key

    def room_key_plaintext(self, room, care, recipient_ed=None):
        g = self.group(room)
        return {"type": "m.room_key", "sender": self.who["user_id"],
                "sender_device": self.who["device_id"], "keys": {"ed25519": self.ed},
                "recipient": care["user_id"],
                "recipient_keys": {"ed25519": recipient_ed or care["ed25519"]},
                "content": {"algorithm": MEGOLM, "room_id": room, "session_id": g.id,
                            "session_key": self.session_keys[room]}}

    def send_olm(self, care, plaintext):
        """Claims a one-time key of haven-care's device and sends `plaintext` Olm-encrypted."""
        claimed = self.test.ok(self.who, "POST", "/keys/claim", {"one_time_keys": {
            care["user_id"]: {care["device_id"]: "signed_curve25519"}}})
        [key] = claimed["one_time_keys"][care["user_id"]][care["device_id"]].values()
        session = olm.OutboundSession(self.account, care["curve25519"], key["key"])
        message = session.encrypt(canonical(plaintext))
        self.send_to_device(care, {"algorithm": OLM, "sender_key": self.curve, "ciphertext": {
            care["curve25519"]: {"type": message.message_type, "body": message.ciphertext}}})

    def send_to_device(self, care, content):
        self.test.ok(self.who, "PUT", f"/sendToDevice/m.room.encrypted/{unique('td')}",
                     {"messages": {care["user_id"]: {care["device_id"]: content}}})

    def share_key(self, room, care):
        self.send_olm(care, self.room_key_plaintext(room, care))

    def encrypted_content(self, room, type_, content, session=None):
        g = session or self.group(room)
        ciphertext = g.encrypt(canonical({"type": type_, "content": content, "room_id": room}))
        return {"algorithm": MEGOLM, "sender_key": self.curve, "ciphertext": ciphertext,
                "session_id": g.id, "device_id": self.who["device_id"]}

    def send(self, room, type_, content, session=None):
        return self.test.ok(self.who, "PUT",
                            f"{V3}/rooms/{quote(room)}/send/m.room.encrypted/{unique('t')}",
                            self.encrypted_content(room, type_, content, session))["event_id"]


class CareDeviceTests(CareTestCase):
    options = {"care.enabled": "true", "testing.fake_clock": "true"}

    def setUp(self):
        self.ok(self.admin, "PUT", ADMIN + "/features", {"temporary_rooms": True})

    # --- helpers ---
    def care_device(self):
        """haven-care's device as /keys/query shows it, waiting until it is published."""
        user = f"@care:{self.server.server_name}"
        someone = self.person("professional", "Dr Query")
        def cross_signed_device():  # the last thing haven-care's set-up publishes
            reply = self.ok(someone, "POST", "/keys/query", {"device_keys": {user: []}})
            devices = reply["device_keys"].get(user) or {}
            signed = [d for d in devices.values() if len(d["signatures"][user]) == 2]
            return signed and devices

        got = self.wait_for("haven-care's cross-signed device", cross_signed_device, bool)
        [(device_id, keys)] = got.items()
        return {"user_id": user, "device_id": device_id, "keys": keys,
                "curve25519": keys["keys"][f"curve25519:{device_id}"],
                "ed25519": keys["keys"][f"ed25519:{device_id}"]}

    def temporary_room(self, owner, *colleagues):
        made = self.care_ok(owner, "POST", "/temporary_rooms",
                            {"name": "encrypted", "invite": [c["user_id"] for c in colleagues]})
        room = made["room_id"]
        for c in colleagues:
            self.ok(c, "POST", f"{V3}/rooms/{quote(room)}/join", {})
        state = self.ok(owner, "GET", f"{V3}/rooms/{quote(room)}/state/m.room.encryption/")
        self.assertEqual(state["algorithm"], MEGOLM)
        return room

    def calls(self, owner, room):
        return [c for c in self.care_ok(owner, "GET", "/call_minutes")["calls"]
                if c["room_id"] == room]

    def legacy_call(self, caller, callee, room, call_id, during=None, readable=True):
        """Invite, answer, five minutes (and `during()`), hang-up: all encrypted. When haven-care
        can read them, the clocks move only once it saw the answer (else the ring lapses)."""
        caller.send(room, "m.call.invite", {"call_id": call_id, "version": "1",
                                            "party_id": caller.who["device_id"],
                                            "lifetime": 60000,
                                            "offer": {"type": "offer", "sdp": "v=0"}})
        callee.send(room, "m.call.answer", {"call_id": call_id, "version": "1",
                                            "party_id": callee.who["device_id"],
                                            "answer": {"type": "answer", "sdp": "v=0"}})
        if readable:
            self.wait_for("the call in progress", lambda: self.care_ok(
                caller.who, "GET", "/call_minutes")["ongoing"],
                lambda ongoing: any(c["room_id"] == room for c in ongoing))
        if during:
            during()
        self.advance_both(5 * MINUTE_MS)
        callee.send(room, "m.call.hangup", {"call_id": call_id, "version": "1",
                                            "party_id": callee.who["device_id"]})

    def download_status(self, who, mxc):
        return self.client.request("GET", "/_matrix/client/v1/media/download/" + mxc[6:],
                                   token=who["access_token"])[0]

    def as_token(self):
        with open(self.care_service.registration) as f:
            for line in f:
                if line.startswith("as_token:"):
                    return line.split(":", 1)[1].strip()
        raise AssertionError("no as_token in the registration")

    # --- tests ---
    def test_the_device_publishes_signed_keys(self):
        care = self.care_device()
        keys = care["keys"]
        self.assertEqual(set(keys["algorithms"]), {OLM, MEGOLM})
        signature = keys["signatures"][care["user_id"]][f"ed25519:{care['device_id']}"]
        signed = {k: v for k, v in keys.items() if k not in ("signatures", "unsigned")}
        olm.ed25519_verify(care["ed25519"], canonical(signed), signature)  # raises if bad
        # The device is cross-signed by its owner (clients that share keys only with such
        # devices, MSC4153, share with it): master -> self-signing -> device.
        someone = self.person("professional", "Dr Claim")
        queried = self.ok(someone, "POST", "/keys/query", {"device_keys": {care["user_id"]: []}})
        master = queried["master_keys"][care["user_id"]]
        ssk = queried["self_signing_keys"][care["user_id"]]
        [master_pub] = master["keys"].values()
        [ssk_pub] = ssk["keys"].values()
        self.assertEqual((master["usage"], ssk["usage"]), (["master"], ["self_signing"]))
        unsigned_ssk = {k: v for k, v in ssk.items() if k not in ("signatures", "unsigned")}
        olm.ed25519_verify(master_pub, canonical(unsigned_ssk),
                           ssk["signatures"][care["user_id"]][f"ed25519:{master_pub}"])
        device = queried["device_keys"][care["user_id"]][care["device_id"]]
        olm.ed25519_verify(ssk_pub, canonical(signed),
                           device["signatures"][care["user_id"]][f"ed25519:{ssk_pub}"])
        claimed = self.ok(someone, "POST", "/keys/claim", {"one_time_keys": {
            care["user_id"]: {care["device_id"]: "signed_curve25519"}}})
        [otk] = claimed["one_time_keys"][care["user_id"]][care["device_id"]].values()
        olm.ed25519_verify(care["ed25519"], canonical({"key": otk["key"]}),
                           otk["signatures"][care["user_id"]][f"ed25519:{care['device_id']}"])

    def test_legacy_call_and_attachment_read_from_encrypted_events(self):
        care = self.care_device()
        owner, colleague = self.person("professional", "Dr Owner"), self.person("professional", "Dr Mate")
        room = self.temporary_room(owner, colleague)
        me, mate = Device(self, owner), Device(self, colleague)
        me.share_key(room, care)
        mate.share_key(room, care)
        blob, thumb = os.urandom(3000), os.urandom(1000)
        blob_uri, thumb_uri = self.upload_media(owner, blob), self.upload_media(owner, thumb)
        kept_uri = self.upload_media(owner, os.urandom(1000))
        mates_uri = self.upload_media(colleague, os.urandom(1000))

        def send_attachment():  # during the call: the hang-up is read after it
            me.send(room, "m.room.message", {
                "msgtype": "m.image", "body": "scan.png",
                "file": {"url": blob_uri, "v": "v2", "iv": "AAAAAAAAAAAAAAAAAAAAAA",
                         "key": {"kty": "oct", "alg": "A256CTR", "k": "x", "ext": True,
                                 "key_ops": ["encrypt", "decrypt"]},
                         "hashes": {"sha256": "x"}},
                "info": {"thumbnail_file": {"url": thumb_uri}, "thumbnail_url": mates_uri}})

        self.legacy_call(me, mate, room, "enc-call", during=send_attachment)
        [call] = self.wait_for("the encrypted call in the ledger",
                               lambda: self.calls(owner, room), lambda c: len(c) == 1)
        self.assertEqual((call["kind"], call["call_id"], call["end_reason"]),
                         ("legacy", "enc-call", "hangup"))
        self.assertEqual(call["participants"], [owner["user_id"], colleague["user_id"]])
        self.advance_both(HOUR_MS + MINUTE_MS)
        self.wait_for("the room's purge", lambda: self.req(
            self.admin, "GET", f"/_synapse/admin/v1/rooms/{quote(room)}")[0], lambda s: s == 404)
        self.assertEqual(self.download_status(owner, blob_uri), 404)
        self.assertEqual(self.download_status(owner, thumb_uri), 404)
        self.assertEqual(self.download_status(owner, kept_uri), 200)
        # The owner's event named the colleague's file: not the owner's to have deleted.
        self.assertEqual(self.download_status(colleague, mates_uri), 200)
        self.assertEqual(len(self.calls(owner, room)), 1, "the ledger keeps the call")

    def test_a_restart_keeps_the_device_and_the_room_keys(self):
        care = self.care_device()
        owner, colleague = self.person("professional", "Dr Before"), self.person(
            "professional", "Dr After")
        room = self.temporary_room(owner, colleague)
        me, mate = Device(self, owner), Device(self, colleague)
        me.share_key(room, care)
        mate.share_key(room, care)
        mark = unique("before-restart")
        me.send(room, "m.room.message", {"msgtype": "m.text", "body": mark})
        self.care_service.stop()
        self.care_service.start()
        self.assertEqual(self.care_device()["curve25519"], care["curve25519"])
        self.legacy_call(me, mate, room, "after-restart")
        [call] = self.wait_for("the call after the restart", lambda: self.calls(owner, room),
                               lambda c: len(c) == 1)
        self.assertEqual(call["call_id"], "after-restart")

    def test_events_that_come_before_their_key_wait_for_it(self):
        care = self.care_device()
        owner, colleague = self.person("professional", "Dr Early"), self.person("professional", "Dr Late")
        room = self.temporary_room(owner, colleague)
        me, mate = Device(self, owner), Device(self, colleague)
        self.legacy_call(me, mate, room, "keys-later", readable=False)
        time.sleep(0.5)  # haven-care has the events and no key: nothing counted yet
        self.assertEqual(self.calls(owner, room), [])
        me.share_key(room, care)
        mate.share_key(room, care)
        [call] = self.wait_for("the call once the keys came", lambda: self.calls(owner, room),
                               lambda c: len(c) == 1)
        self.assertEqual(call["call_id"], "keys-later")

    def test_forgeries_and_garbage_are_not_read(self):
        care = self.care_device()
        owner, colleague = self.person("professional", "Dr Honest"), self.person("professional", "Dr Forger")
        room = self.temporary_room(owner, colleague)
        me, mate = Device(self, owner), Device(self, colleague)
        # Garbage first: haven-care carries on.
        me.send_to_device(care, {"algorithm": OLM, "sender_key": me.curve, "ciphertext": {
            care["curve25519"]: {"type": 0, "body": "not base64 at all!"}}})
        me.send_to_device(care, {"algorithm": OLM, "sender_key": me.curve,
                                 "ciphertext": {care["curve25519"]: {"type": 7, "body": "AAAA"}}})
        me.send_to_device(care, {"algorithm": OLM, "sender_key": me.curve, "ciphertext": "x"})
        self.ok(owner, "PUT", f"{V3}/rooms/{quote(room)}/send/m.room.encrypted/{unique('t')}",
                {"algorithm": MEGOLM, "ciphertext": "////", "session_id": "nope"})
        # A key addressed to another device's Ed25519 key is not taken.
        misaddressed = Device(self, owner)
        misaddressed.send_olm(care, misaddressed.room_key_plaintext(room, care,
                                                                    recipient_ed=me.ed))
        # The colleague shares a session of their own and rings. Answers that haven-care must
        # not read: one "from the owner" encrypted with the colleague's session, one with the
        # misaddressed key, an encrypted state event. Any of them read would make a call.
        forged = olm.OutboundGroupSession()
        mate.use_group(room, forged)
        mate.share_key(room, care)
        mate.send(room, "m.call.invite", {"call_id": "forged", "version": "1", "party_id": "X",
                                          "lifetime": 60000, "offer": {"type": "offer",
                                                                       "sdp": "v=0"}})
        me.send(room, "m.call.answer", {"call_id": "forged", "version": "1", "party_id": "Z",
                                        "answer": {"type": "answer", "sdp": "v=0"}},
                session=forged)
        misaddressed.send(room, "m.call.answer", {"call_id": "forged", "version": "1",
                                                  "party_id": "W",
                                                  "answer": {"type": "answer", "sdp": "v=0"}})
        me.share_key(room, care)
        self.ok(owner, "PUT", f"{V3}/rooms/{quote(room)}/state/m.room.encrypted/{unique('sk')}",
                me.encrypted_content(room, "m.call.answer", {
                    "call_id": "forged", "version": "1", "party_id": "Y",
                    "answer": {"type": "answer", "sdp": "v=0"}}))
        self.advance_both(5 * MINUTE_MS)
        mate.send(room, "m.call.hangup", {"call_id": "forged", "version": "1", "party_id": "X"})
        # Afterwards an honest call in the same room still counts, and only it.
        self.legacy_call(me, mate, room, "honest")
        calls = self.wait_for("the honest call", lambda: self.calls(owner, room),
                              lambda c: len(c) >= 1)
        self.assertEqual([c["call_id"] for c in calls], ["honest"])

    def test_one_time_keys_are_topped_up(self):
        care = self.care_device()
        someone = self.person("professional", "Dr Drain")
        self.temporary_room(someone)  # to-device reaches those who share a room
        device = {care["user_id"]: {care["device_id"]: "signed_curve25519"}}

        def claim():
            got = self.ok(someone, "POST", "/keys/claim", {"one_time_keys": device})
            [(key_id, key)] = got["one_time_keys"][care["user_id"]][care["device_id"]].items()
            return key_id, key

        claimed = [claim() for _ in range(40)]
        self.assertFalse(any(k.get("fallback") for _, k in claimed))
        # A to-device message for the device brings the key counts in a transaction.
        Device(self, someone).send_to_device(care, {"algorithm": OLM, "ciphertext": {}})

        def published():
            status, reply = self.client.request(
                "POST", f"{V3}/keys/upload?user_id={quote(care['user_id'])}"
                        f"&device_id={quote(care['device_id'])}", {}, token=self.as_token())
            self.assertEqual(status, 200, reply)
            return reply["one_time_key_counts"].get("signed_curve25519", 0)

        self.wait_for("the one-time keys topped up", published, lambda n: n >= 40)
        more = [claim() for _ in range(30)]
        self.assertFalse(any(k.get("fallback") for _, k in more))
        self.assertEqual(len({k for k, _ in claimed + more}), 70, "a one-time key given twice")


if __name__ == "__main__":
    unittest.main()
