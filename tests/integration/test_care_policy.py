"""The care organisation's rules (R2, R3, R7, R9-R13, R19) with care.enabled on: roles and
contacts provisioned through /_haven/admin/v1, invites only to contacts, the conversation
template, the owner who cannot leave, reading up to one's leave, anonymity between
non-contacts (nicknames, profile and directory), the operator's switches and owner transfer —
and the refusals for each."""

import unittest

from harness import HomeserverTestCase, quote, unique

V3 = "/_matrix/client/v3"
ADMIN = "/_haven/admin/v1"
ORG = "/_matrix/client/unstable/org.haven"
PASSWORD = "correct horse battery"


class CareTestCase(HomeserverTestCase):
    options = {"care.enabled": "true", "rooms.encryption_enabled_by_default": "false"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        status, body = cls.client.shared_secret_register(unique("admin"), PASSWORD, admin=True)
        assert status == 200, body
        cls.admin = body

    # --- helpers ---
    def admin_ok(self, method, path, body=None):
        return self.ok(self.admin, method, ADMIN + path, body)

    def person(self, role, name):
        """A user made through the admin API, logged in."""
        made = self.admin_ok("POST", "/users",
                             {"role": role, "displayname": name, "password": PASSWORD})
        status, session = self.client.login(made["user_id"], PASSWORD)
        self.assertEqual(status, 200, session)
        session["name"] = name
        return session

    def link(self, a, b):
        self.admin_ok("PUT", f"/users/{quote(a['user_id'])}/contacts/{quote(b['user_id'])}", {})

    def create_room(self, who, **body):
        return self.ok(who, "POST", V3 + "/createRoom", body)["room_id"]

    def invite(self, who, room, target):
        return self.req(who, "POST", f"{V3}/rooms/{quote(room)}/invite",
                        {"user_id": target["user_id"]})

    def join(self, who, room):
        return self.ok(who, "POST", f"{V3}/join/{quote(room)}", {})

    def leave(self, who, room):
        return self.req(who, "POST", f"{V3}/rooms/{quote(room)}/leave", {})

    def send(self, who, room, text):
        return self.ok(who, "PUT", f"{V3}/rooms/{quote(room)}/send/m.room.message/{unique('t')}",
                       {"msgtype": "m.text", "body": text})["event_id"]

    def member_content(self, viewer, room, member):
        state = self.ok(viewer, "GET", f"{V3}/rooms/{quote(room)}/state")
        for ev in state:
            if ev["type"] == "m.room.member" and ev["state_key"] == member["user_id"]:
                return ev["content"]
        self.fail(f"no member event for {member['user_id']}")

    def nickname_required(self, who, room):
        status, body = self.req(
            who, "GET",
            f"{V3}/user/{quote(who['user_id'])}/rooms/{quote(room)}/account_data/"
            "org.haven.nickname_required")
        return body.get("required") if status == 200 else None

    def conversation(self, owner, *members):
        """A room `owner` made and every member joined (each invited by the owner)."""
        room = self.create_room(owner, name="conversation")
        for m in members:
            self.assertEqual(self.invite(owner, room, m)[0], 200)
            self.join(m, room)
        return room


class AdminApiTest(CareTestCase):
    def test_non_admins_are_refused_everywhere(self):
        pro = self.person("professional", "Pat")
        for method, path in [("POST", "/users"), ("GET", "/features"), ("PUT", "/features"),
                             ("GET", f"/users/{quote(pro['user_id'])}/role"),
                             ("PUT", f"/users/{quote(pro['user_id'])}/role"),
                             ("GET", f"/users/{quote(pro['user_id'])}/contacts"),
                             ("PUT", f"/users/{quote(pro['user_id'])}/email"),
                             ("PUT", "/rooms/!x:y/owner")]:
            self.assertError(self.req(pro, method, ADMIN + path, {}), 403, "M_FORBIDDEN")
            self.assertError(self.client.request(method, ADMIN + path, {}), 401,
                             "M_MISSING_TOKEN")

    def test_client_user_ids_are_opaque(self):
        made = self.admin_ok("POST", "/users", {"role": "client", "displayname": "Jan Jansen"})
        localpart = made["user_id"][1:].split(":")[0]
        self.assertNotIn("jan", localpart.lower())
        self.assertRegex(localpart, r"^c[0-9a-f]{12}$")
        self.assertEqual(made["role"], "client")

    def test_clients_cannot_be_given_a_username(self):
        status, body = self.req(self.admin, "POST", ADMIN + "/users",
                                {"role": "client", "displayname": "X", "username": "jan"})
        self.assertError((status, body), 400, "M_INVALID_PARAM")

    def test_professionals_may_be_given_a_username(self):
        name = unique("dr")
        made = self.admin_ok("POST", "/users", {"role": "professional", "displayname": "Dr",
                                                "username": name})
        self.assertTrue(made["user_id"].startswith("@" + name + ":"))

    def test_bad_user_creation_input(self):
        for body in [{}, {"role": "nurse", "displayname": "X"}, {"role": "client"},
                     {"role": "client", "displayname": ""}, {"role": 1, "displayname": "X"},
                     {"role": "client", "displayname": "x" * 300}]:
            status, reply = self.req(self.admin, "POST", ADMIN + "/users", body)
            self.assertEqual(status, 400, f"{body}: {reply}")
            self.assertIn(reply["errcode"], ("M_INVALID_PARAM", "M_MISSING_PARAM", "M_BAD_JSON"))

    def test_role_is_set_read_and_seen_by_the_user(self):
        user = self.person("client", "Kim")
        self.assertEqual(self.ok(user, "GET", ORG + "/role"), {"role": "client"})
        self.admin_ok("PUT", f"/users/{quote(user['user_id'])}/role", {"role": "professional"})
        self.assertEqual(self.ok(user, "GET", ORG + "/role"), {"role": "professional"})
        got = self.admin_ok("GET", f"/users/{quote(user['user_id'])}/role")
        self.assertEqual(got, {"role": "professional", "assigned": True})

    def test_role_refusals(self):
        user = self.person("client", "Kim")
        path = f"{ADMIN}/users/{quote(user['user_id'])}/role"
        self.assertError(self.req(self.admin, "PUT", path, {"role": "doctor"}), 400,
                         "M_INVALID_PARAM")
        self.assertError(self.req(self.admin, "PUT", path, {}), 400, "M_MISSING_PARAM")
        self.assertError(self.req(self.admin, "PUT", f"{ADMIN}/users/@nobody:{self.server.server_name}/role",
                                  {"role": "client"}), 404, "M_NOT_FOUND")
        self.assertError(self.req(self.admin, "PUT", f"{ADMIN}/users/@a:elsewhere.org/role",
                                  {"role": "client"}), 400, "M_INVALID_PARAM")
        self.assertError(self.req(self.admin, "PUT", f"{ADMIN}/users/not-a-user/role",
                                  {"role": "client"}), 400, "M_INVALID_PARAM")

    def test_contacts_follow_roles_and_links(self):
        pro1, pro2 = self.person("professional", "P1"), self.person("professional", "P2")
        client, relative = self.person("client", "C"), self.person("client", "R")
        self.link(client, pro1)
        self.link(client, relative)
        mine = {c["user_id"] for c in self.ok(pro1, "GET", ORG + "/contacts")["contacts"]}
        self.assertIn(pro2["user_id"], mine)
        self.assertIn(client["user_id"], mine)
        self.assertNotIn(relative["user_id"], mine)
        theirs = {c["user_id"] for c in self.ok(client, "GET", ORG + "/contacts")["contacts"]}
        self.assertEqual(theirs, {pro1["user_id"], relative["user_id"]})
        listed = self.admin_ok("GET", f"/users/{quote(client['user_id'])}/contacts")["contacts"]
        self.assertEqual({c["user_id"] for c in listed}, theirs)
        self.admin_ok("DELETE",
                      f"/users/{quote(client['user_id'])}/contacts/{quote(relative['user_id'])}")
        theirs = {c["user_id"] for c in self.ok(client, "GET", ORG + "/contacts")["contacts"]}
        self.assertEqual(theirs, {pro1["user_id"]})

    def test_remote_users_can_be_linked_but_not_oneself(self):
        client = self.person("client", "C")
        path = f"{ADMIN}/users/{quote(client['user_id'])}/contacts/"
        self.assertEqual(self.req(self.admin, "PUT", path + quote("@dr:other.org"), {})[0], 200)
        contacts = self.ok(client, "GET", ORG + "/contacts")["contacts"]
        self.assertIn("@dr:other.org", [c["user_id"] for c in contacts])
        self.assertError(self.req(self.admin, "PUT", path + quote(client["user_id"]), {}), 400,
                         "M_INVALID_PARAM")
        self.assertError(self.req(self.admin, "PUT", path + "garbage", {}), 400,
                         "M_INVALID_PARAM")
        self.assertError(
            self.req(self.admin, "PUT", path + quote(f"@ghost:{self.server.server_name}"), {}),
            404, "M_NOT_FOUND")

    def test_features_are_off_by_default_and_switchable(self):
        self.assertEqual(self.admin_ok("GET", "/features"),
                         {"guest_links": False, "temporary_rooms": False})
        self.assertEqual(self.admin_ok("PUT", "/features", {"guest_links": True}),
                         {"guest_links": True, "temporary_rooms": False})
        self.assertEqual(self.admin_ok("GET", "/features"),
                         {"guest_links": True, "temporary_rooms": False})
        self.assertError(self.req(self.admin, "PUT", ADMIN + "/features",
                                  {"temporary_rooms": "yes"}), 400, "M_BAD_JSON")
        self.admin_ok("PUT", "/features", {"guest_links": False})

    def test_email_is_set_and_checked(self):
        user = self.person("client", "C")
        path = f"/users/{quote(user['user_id'])}/email"
        self.admin_ok("PUT", path, {"email": "c@example.org"})
        self.assertEqual(self.admin_ok("GET", path), {"email": "c@example.org"})
        for bad in ["no-at-sign", "a@b\r\nBcc: x@y", "@example.org", "a@", "a@b@c",
                    "x" * 250 + "@example.org"]:
            self.assertError(self.req(self.admin, "PUT", ADMIN + path, {"email": bad}), 400,
                             "M_INVALID_PARAM")
        self.assertEqual(self.admin_ok("GET", path), {"email": "c@example.org"})
        self.admin_ok("PUT", path, {"email": ""})
        self.assertEqual(self.admin_ok("GET", path), {"email": ""})

    def test_rules_extension_is_unrecognised_without_a_token(self):
        self.assertError(self.client.request("GET", ORG + "/role"), 401, "M_MISSING_TOKEN")


class InviteRulesTest(CareTestCase):
    def test_client_cannot_invite_a_non_contact(self):
        client, stranger = self.person("client", "C"), self.person("client", "S")
        room = self.create_room(client)
        status, body = self.invite(client, room, stranger)
        self.assertError((status, body), 403, "M_FORBIDDEN")
        self.assertIn("contacts", body["error"])

    def test_create_room_with_a_non_contact_invitee_is_refused_whole(self):
        client, stranger = self.person("client", "C"), self.person("client", "S")
        status, body = self.req(client, "POST", V3 + "/createRoom",
                                {"invite": [stranger["user_id"]]})
        self.assertError((status, body), 403, "M_FORBIDDEN")
        rooms = self.ok(client, "GET", V3 + "/joined_rooms")["joined_rooms"]
        self.assertEqual(rooms, [])

    def test_contacts_can_be_invited(self):
        pro, client, relative = (self.person("professional", "P"), self.person("client", "C"),
                                 self.person("client", "R"))
        other_pro = self.person("professional", "Q")
        self.link(client, pro)
        self.link(client, relative)
        room = self.create_room(client, invite=[pro["user_id"]])
        self.assertEqual(self.invite(client, room, relative)[0], 200)
        room2 = self.create_room(pro)
        self.assertEqual(self.invite(pro, room2, other_pro)[0], 200)
        self.assertEqual(self.invite(pro, room2, client)[0], 200)

    def test_remote_non_contacts_cannot_be_invited(self):
        client = self.person("client", "C")
        room = self.create_room(client)
        status, _ = self.req(client, "POST", f"{V3}/rooms/{quote(room)}/invite",
                             {"user_id": "@someone:other.org"})
        self.assertEqual(status, 403)

    def test_non_contact_cannot_join_a_private_room_by_id(self):
        owner, stranger = self.person("client", "C"), self.person("client", "S")
        room = self.create_room(owner)
        status, _ = self.req(stranger, "POST", f"{V3}/join/{quote(room)}", {})
        self.assertEqual(status, 403)


class TemplateTest(CareTestCase):
    def power_levels(self, who, room):
        return self.ok(who, "GET", f"{V3}/rooms/{quote(room)}/state/m.room.power_levels/")

    def test_template_makes_the_creator_the_only_admin(self):
        pro, client = self.person("professional", "P"), self.person("client", "C")
        self.link(pro, client)
        room = self.create_room(pro, preset="trusted_private_chat", invite=[client["user_id"]],
                                power_level_content_override={"users_default": 100})
        pl = self.power_levels(pro, room)
        self.assertEqual(pl["users"], {pro["user_id"]: 100})
        self.assertEqual(pl["users_default"], 0)
        self.assertEqual(pl["events_default"], 0)
        for key in ("invite", "kick", "ban", "redact", "state_default"):
            self.assertEqual(pl[key], 100, key)
        for type_ in ("m.room.name", "m.room.topic", "m.room.avatar", "m.room.power_levels",
                      "m.room.server_acl", "m.call.member", "m.call.invite"):
            self.assertEqual(pl["events"].get(type_), 100, type_)
        create = self.ok(pro, "GET", f"{V3}/rooms/{quote(room)}/state/m.room.create/")
        self.assertEqual(create.get("room_version"), "11")

    def test_room_version_12_is_refused(self):
        pro = self.person("professional", "P")
        self.assertError(self.req(pro, "POST", V3 + "/createRoom", {"room_version": "12"}), 400,
                         "M_UNSUPPORTED_ROOM_VERSION")

    def test_only_the_owner_changes_the_subject_others_send_messages(self):
        pro, client = self.person("professional", "P"), self.person("client", "C")
        self.link(pro, client)
        room = self.conversation(pro, client)
        path = f"{V3}/rooms/{quote(room)}/state/m.room.name/"
        self.assertError(self.req(client, "PUT", path, {"name": "mine"}), 403, "M_FORBIDDEN")
        self.ok(pro, "PUT", path, {"name": "Care plan"})
        self.send(client, room, "hello")
        self.assertError(self.invite(client, room, pro), 403, "M_FORBIDDEN")  # also no power

    def test_only_the_owner_starts_a_call(self):
        pro, client = self.person("professional", "P"), self.person("client", "C")
        self.link(pro, client)
        room = self.conversation(pro, client)
        status, _ = self.req(client, "PUT",
                             f"{V3}/rooms/{quote(room)}/send/m.call.invite/{unique('t')}",
                             {"call_id": "1", "version": "1", "lifetime": 1000,
                              "offer": {"type": "offer", "sdp": "x"}})
        self.assertEqual(status, 403)


class OwnerAndLeavingTest(CareTestCase):
    def test_owner_cannot_leave(self):
        pro, client = self.person("professional", "P"), self.person("client", "C")
        self.link(pro, client)
        room = self.conversation(pro, client)
        status, body = self.leave(pro, room)
        self.assertError((status, body), 403, "M_FORBIDDEN")
        self.assertIn("owner", body["error"])
        self.assertEqual(self.leave(client, room)[0], 200)

    def test_leaver_reads_history_up_to_the_leave_and_nothing_after(self):
        pro, client = self.person("professional", "P"), self.person("client", "C")
        self.link(pro, client)
        room = self.conversation(pro, client)
        self.send(pro, room, "before the leave")
        self.assertEqual(self.leave(client, room)[0], 200)
        self.send(pro, room, "after the leave")
        msgs = self.ok(client, "GET", f"{V3}/rooms/{quote(room)}/messages?dir=b&limit=50")
        bodies = [e["content"].get("body") for e in msgs["chunk"]
                  if e["type"] == "m.room.message"]
        self.assertIn("before the leave", bodies)
        self.assertNotIn("after the leave", bodies)

    def test_operator_names_a_new_owner_then_the_old_one_may_leave(self):
        pro, colleague = self.person("professional", "P"), self.person("professional", "Q")
        room = self.conversation(pro, colleague)
        self.admin_ok("PUT", f"/rooms/{quote(room)}/owner", {"user_id": colleague["user_id"]})
        self.assertEqual(self.admin_ok("GET", f"/rooms/{quote(room)}/owner"),
                         {"user_id": colleague["user_id"]})
        pl = self.ok(pro, "GET", f"{V3}/rooms/{quote(room)}/state/m.room.power_levels/")
        self.assertEqual(pl["users"], {colleague["user_id"]: 100})
        self.assertEqual(self.leave(pro, room)[0], 200)
        self.assertError(self.leave(colleague, room), 403, "M_FORBIDDEN")

    def test_operator_can_remove_the_previous_owner(self):
        pro, colleague = self.person("professional", "P"), self.person("professional", "Q")
        room = self.conversation(pro, colleague)
        self.admin_ok("PUT", f"/rooms/{quote(room)}/owner",
                      {"user_id": colleague["user_id"], "remove_previous_owner": True})
        members = self.ok(colleague, "GET", f"{V3}/rooms/{quote(room)}/joined_members")["joined"]
        self.assertEqual(set(members), {colleague["user_id"]})

    def test_owner_transfer_refusals(self):
        pro, colleague = self.person("professional", "P"), self.person("professional", "Q")
        room = self.create_room(pro)
        path = f"{ADMIN}/rooms/{quote(room)}/owner"
        self.assertError(self.req(self.admin, "PUT", path, {"user_id": colleague["user_id"]}),
                         400, "M_INVALID_PARAM")  # not a member
        self.assertError(self.req(self.admin, "PUT", path, {"user_id": "@x:other.org"}), 400,
                         "M_INVALID_PARAM")
        self.assertError(self.req(self.admin, "PUT", path, {}), 400, "M_MISSING_PARAM")
        self.assertError(self.req(self.admin, "PUT",
                                  f"{ADMIN}/rooms/{quote('!nope:' + self.server.server_name)}/owner",
                                  {"user_id": colleague["user_id"]}), 404, "M_NOT_FOUND")


class AnonymityTest(CareTestCase):
    def setUp(self):
        # P1's caseload has C; P2 is P1's colleague but not C's contact.
        self.p1, self.p2 = self.person("professional", "Dr One"), self.person("professional",
                                                                               "Dr Two")
        self.c = self.person("client", "Carla Client")
        self.link(self.p1, self.c)
        self.room = self.conversation(self.p1, self.c, self.p2)

    def test_non_contacts_see_each_other_as_anonymous(self):
        seen = self.member_content(self.p2, self.room, self.c)
        self.assertEqual(seen.get("displayname"), "Anonymous")
        self.assertNotIn("avatar_url", seen)
        self.assertEqual(self.member_content(self.c, self.room, self.p2).get("displayname"),
                         "Anonymous")
        self.assertEqual(self.member_content(self.p1, self.room, self.c).get("displayname"),
                         "Carla Client")
        joined = self.ok(self.p2, "GET", f"{V3}/rooms/{quote(self.room)}/joined_members")
        self.assertEqual(joined["joined"][self.c["user_id"]].get("display_name"), "Anonymous")

    def test_sync_timeline_hides_the_name_too(self):
        body = self.ok(self.p2, "GET", V3 + "/sync")
        self.assertNotIn("Carla", str(body["rooms"]["join"][self.room]))
        body = self.ok(self.p1, "GET", V3 + "/sync")
        self.assertIn("Carla", str(body["rooms"]["join"][self.room]))

    def test_nickname_is_asked_for_then_shown(self):
        self.assertTrue(self.nickname_required(self.c, self.room))
        self.assertTrue(self.nickname_required(self.p2, self.room))
        self.assertFalse(self.nickname_required(self.p1, self.room) or False)
        self.ok(self.c, "PUT", f"{V3}/rooms/{quote(self.room)}/state/m.room.member/"
                f"{quote(self.c['user_id'])}", {"membership": "join", "displayname": "Sunflower"})
        self.assertEqual(self.member_content(self.p2, self.room, self.c).get("displayname"),
                         "Sunflower")
        self.assertFalse(self.nickname_required(self.c, self.room))

    def test_profile_and_directory_reveal_nothing_of_non_contacts(self):
        path = f"{V3}/profile/{quote(self.c['user_id'])}"
        self.assertError(self.req(self.p2, "GET", path), 404, "M_NOT_FOUND")
        self.assertError(self.req(self.p2, "GET", path + "/displayname"), 404, "M_NOT_FOUND")
        self.assertEqual(self.ok(self.p1, "GET", path).get("displayname"), "Carla Client")
        self.assertError(self.client.request("GET", path), 401, "M_MISSING_TOKEN")
        found = self.ok(self.p2, "POST", V3 + "/user_directory/search",
                        {"search_term": "Carla"})["results"]
        self.assertEqual(found, [])
        found = self.ok(self.p1, "POST", V3 + "/user_directory/search",
                        {"search_term": "Carla"})["results"]
        self.assertEqual([r["user_id"] for r in found], [self.c["user_id"]])

    def test_linking_makes_names_visible_and_clears_the_flag(self):
        self.link(self.p2, self.c)
        self.assertEqual(self.member_content(self.p2, self.room, self.c).get("displayname"),
                         "Carla Client")
        self.assertFalse(self.nickname_required(self.c, self.room))

    def test_global_name_change_does_not_overwrite_a_nickname(self):
        member_path = (f"{V3}/rooms/{quote(self.room)}/state/m.room.member/"
                       f"{quote(self.c['user_id'])}")
        self.ok(self.c, "PUT", member_path, {"membership": "join", "displayname": "Sunflower"})
        self.ok(self.c, "PUT", f"{V3}/profile/{quote(self.c['user_id'])}/displayname",
                {"displayname": "Carla C."})
        self.assertEqual(self.member_content(self.p2, self.room, self.c).get("displayname"),
                         "Sunflower")

    def test_a_nickname_equal_to_the_real_name_is_not_a_nickname(self):
        member_path = (f"{V3}/rooms/{quote(self.room)}/state/m.room.member/"
                       f"{quote(self.c['user_id'])}")
        self.ok(self.c, "PUT", member_path,
                {"membership": "join", "displayname": "Carla Client", "org.haven.nickname": True})
        self.assertEqual(self.member_content(self.p2, self.room, self.c).get("displayname"),
                         "Anonymous")


class ToDeviceReachTest(CareTestCase):
    def to_device_count(self, who):
        body = self.ok(who, "GET", V3 + "/sync?timeout=0")
        return len(body.get("to_device", {}).get("events", []))

    def send_to(self, sender, target):
        self.ok(sender, "PUT", f"{V3}/sendToDevice/m.test/{unique('t')}",
                {"messages": {target["user_id"]: {"*": {"hello": "there"}}}})

    def test_strangers_are_skipped_room_mates_and_contacts_reached(self):
        pro, colleague = self.person("professional", "P"), self.person("professional", "Q")
        client, stranger = self.person("client", "C"), self.person("client", "S")
        self.link(pro, client)
        room = self.conversation(pro, client, colleague)  # colleague: room mate, not contact
        self.send_to(stranger, client)
        self.assertEqual(self.to_device_count(client), 0)
        self.send_to(colleague, client)
        self.send_to(pro, client)
        self.assertEqual(self.to_device_count(client), 2)
        self.assertTrue(room)


class CareOffTest(HomeserverTestCase):
    """With care.enabled false the extension says so and plain Matrix rules apply."""

    def test_extension_is_unrecognised_and_strangers_can_be_invited(self):
        a = self.client.register(unique("a"))
        b = self.client.register(unique("b"))
        status, body = self.client.request("GET", ORG + "/role", token=a["access_token"])
        self.assertError((status, body), 404, "M_UNRECOGNIZED")
        status, room = self.client.request("POST", V3 + "/createRoom",
                                           {"invite": [b["user_id"]]}, token=a["access_token"])
        self.assertEqual(status, 200, room)


if __name__ == "__main__":
    unittest.main()
