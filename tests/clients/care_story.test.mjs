// The care organisation's story of R3-R11, played by real matrix-js-sdk clients against Haven
// with its care rules on: the operator provisions a professional, a colleague, a client and the
// client's relative; the professional starts a group conversation with the client and the
// colleague and changes its subject; the client starts their own conversation and adds their
// relative (but cannot add a stranger); the owner removes someone; a member leaves and reads
// nothing after; someone edits a message; the owner cannot leave; the colleague, who is not the
// client's contact, sees the client only as "Anonymous" until the client picks a nickname.
// Run: HAVEN_BIN=.../haven tests/clients/run-test.sh tests/clients/care_story.test.mjs

import assert from "node:assert/strict";
import { after, before, describe } from "node:test";

import { HavenServer, havenRequest as request, registerAdmin } from "./lib/haven.mjs";
import {
  describeError, liveEvents, loginUser, makeSteps, sdk, startSyncingClient, waitFor, withTimeout,
} from "./lib/matrix.mjs";

const STEP_TIMEOUT_MS = 60_000;
const PASSWORD = "correct horse battery staple";

const step = makeSteps(STEP_TIMEOUT_MS);

/** Rejects with the server's errcode when `promise` does not fail as expected. */
async function assertRefused(what, promise, errcode) {
  try {
    await promise;
  } catch (err) {
    assert.equal(err.errcode, errcode, `${what}: ${describeError(err)}`);
    return err;
  }
  assert.fail(`${what} was allowed`);
}

function findMessage(client, roomId, body) {
  return liveEvents(client, roomId).find(
    (e) => e.getType() === "m.room.message" && e.getContent().body === body && !e.status);
}

describe("the care story with matrix-js-sdk", () => {
  let server;
  let adminToken;
  const people = {}; // name -> { userId, client }
  let group; // the professional's group conversation
  let own; // the client's own conversation

  before(async () => {
    // Without the SDK's crypto a client cannot send into an encrypted room; the E2EE client
    // tests cover encryption, this one the care rules.
    server = await HavenServer.start({
      "care.enabled": "true",
      "rooms.encryption_enabled_by_default": "false",
    });
  });

  after(async () => {
    for (const p of Object.values(people)) p.client?.stopClient();
    if (server) await server.cleanup();
  });

  async function admin(method, path, body) {
    const res = await request(server, method, `/_haven/admin/v1${path}`, body, adminToken);
    assert.equal(res.status, 200, `${method} ${path}: ${JSON.stringify(res.body)}`);
    return res.body;
  }

  function c(name) {
    return people[name].client;
  }

  step("the operator provisions roles and contacts; everyone logs in", async () => {
    adminToken = await registerAdmin(server, "operator", PASSWORD);
    for (const [name, role, displayname] of [
      ["pro", "professional", "Dr Pat Jansen"], ["colleague", "professional", "Dr Quinn"],
      ["client", "client", "Carla de Vries"], ["relative", "client", "Rob de Vries"],
    ]) {
      const made = await admin("POST", "/users", { role, displayname, password: PASSWORD });
      people[name] = { userId: made.user_id };
    }
    assert.match(people.client.userId, /^@c[0-9a-f]{12}:/, "client ids are opaque");
    await admin("PUT", `/users/${encodeURIComponent(people.client.userId)}/contacts/` +
      encodeURIComponent(people.pro.userId), {});
    await admin("PUT", `/users/${encodeURIComponent(people.client.userId)}/contacts/` +
      encodeURIComponent(people.relative.userId), {});
    for (const p of Object.values(people)) {
      const creds = await loginUser(server.baseUrl, p.userId, PASSWORD);
      p.client = await startSyncingClient(server.baseUrl, creds);
    }
  });

  step("the professional starts a group conversation with the client and the colleague",
    async () => {
      const created = await withTimeout("createRoom", c("pro").createRoom({
        name: "Care plan", invite: [people.client.userId, people.colleague.userId],
      }));
      group = created.room_id;
      await withTimeout("first message",
        c("pro").sendTextMessage(group, "Welcome to your care plan conversation"));
      for (const name of ["client", "colleague"]) {
        await waitFor(`${name} to be invited`,
          () => c(name).getRoom(group)?.getMyMembership() === sdk.KnownMembership.Invite,
          { clients: [c(name)] });
        await withTimeout(`${name} joins`, c(name).joinRoom(group));
        await waitFor(`${name} to read the first message`,
          () => findMessage(c(name), group, "Welcome to your care plan conversation"),
          { clients: [c(name)] });
      }
      const room = c("client").getRoom(group);
      assert.equal(room.name, "Care plan");
      assert.equal(room.getMember(people.pro.userId).powerLevel, 100, "the owner has 100");
      assert.equal(room.getMember(people.client.userId).powerLevel, 0);
    });

  step("the colleague sees the client only as Anonymous until the client picks a nickname",
    async () => {
      const seen = () => c("colleague").getRoom(group).getMember(people.client.userId);
      assert.equal(seen().rawDisplayName, "Anonymous");
      assert.equal(c("pro").getRoom(group).getMember(people.client.userId).rawDisplayName,
        "Carla de Vries", "the client's own professional sees the name");
      const flag = await waitFor("the client's nickname_required flag",
        () => c("client").getRoom(group)?.getAccountData("org.haven.nickname_required"),
        { clients: [c("client")] });
      assert.equal(flag.getContent().required, true, "the client is asked for a nickname");
      await withTimeout("set nickname", c("client").sendStateEvent(group, "m.room.member",
        { membership: "join", displayname: "Sunflower" }, people.client.userId));
      await waitFor("the colleague to see the nickname",
        () => seen()?.rawDisplayName === "Sunflower",
        { clients: [c("colleague")], describe: () => seen()?.rawDisplayName });
    });

  step("only the owner changes the subject", async () => {
    await assertRefused("the client renaming the conversation",
      c("client").setRoomName(group, "Mine now"), "M_FORBIDDEN");
    await withTimeout("owner renames", c("pro").setRoomName(group, "Care plan, week 2"));
    await waitFor("the client to see the new subject",
      () => c("client").getRoom(group)?.name === "Care plan, week 2",
      { clients: [c("client")] });
  });

  step("the client starts a conversation, adds their relative, but cannot add a stranger",
    async () => {
      const created = await withTimeout("client createRoom",
        c("client").createRoom({ name: "Family", invite: [people.pro.userId] }));
      own = created.room_id;
      await withTimeout("invite relative", c("client").invite(own, people.relative.userId));
      const refused = await assertRefused("inviting the colleague, who is not a contact",
        c("client").invite(own, people.colleague.userId), "M_FORBIDDEN");
      assert.match(refused.data?.error ?? refused.message, /contacts/);
      await waitFor("the relative to be invited",
        () => c("relative").getRoom(own)?.getMyMembership() === sdk.KnownMembership.Invite,
        { clients: [c("relative")] });
      await withTimeout("relative joins", c("relative").joinRoom(own));
    });

  step("someone edits a message and the others see the edit", async () => {
    const { event_id: original } = await withTimeout("relative sends",
      c("relative").sendTextMessage(own, "See you on Tuesday"));
    await waitFor("the client to receive it", () => findMessage(c("client"), own,
      "See you on Tuesday"), { clients: [c("client")] });
    await withTimeout("relative edits", c("relative").sendMessage(own, {
      msgtype: "m.text", body: "* See you on Wednesday",
      "m.new_content": { msgtype: "m.text", body: "See you on Wednesday" },
      "m.relates_to": { rel_type: "m.replace", event_id: original },
    }));
    await waitFor("the client to show the edited text",
      () => c("client").getRoom(own)?.findEventById(original)?.getContent().body ===
        "See you on Wednesday",
      { clients: [c("client")],
        describe: () => c("client").getRoom(own)?.findEventById(original)?.getContent().body });
  });

  step("the owner removes the colleague from the group conversation", async () => {
    await assertRefused("the client removing someone",
      c("client").kick(group, people.colleague.userId), "M_FORBIDDEN");
    await withTimeout("owner kicks", c("pro").kick(group, people.colleague.userId, "Handover"));
    await waitFor("the colleague to see they were removed",
      () => c("colleague").getRoom(group)?.getMyMembership() === sdk.KnownMembership.Leave,
      { clients: [c("colleague")] });
  });

  step("the owner cannot leave; the client can, and reads nothing after", async () => {
    const refused = await assertRefused("the owner leaving", c("pro").leave(group),
      "M_FORBIDDEN");
    assert.match(refused.data?.error ?? refused.message, /owner/);
    await withTimeout("before", c("pro").sendTextMessage(group, "Before you go"));
    await waitFor("the client to read it", () => findMessage(c("client"), group,
      "Before you go"), { clients: [c("client")] });
    await withTimeout("client leaves", c("client").leave(group));
    await withTimeout("after", c("pro").sendTextMessage(group, "After you left"));
    const history = await withTimeout("client reads history", request(server, "GET",
      `/_matrix/client/v3/rooms/${encodeURIComponent(group)}/messages?dir=b&limit=50`,
      undefined, c("client").getAccessToken()));
    assert.equal(history.status, 200, JSON.stringify(history.body));
    const bodies = history.body.chunk.map((e) => e.content?.body).filter(Boolean);
    assert.ok(bodies.includes("Before you go"), JSON.stringify(bodies));
    assert.ok(!bodies.includes("After you left"), JSON.stringify(bodies));
  });
});
