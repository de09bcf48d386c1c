// Two people chat through Haven with the real matrix-js-sdk: register, log in, create a named
// room, invite, join, messages both ways, a reply, an edit, leave. Every step waits on what the
// other client receives through /sync, with a deadline, so a broken server fails, never hangs.
// Run: HAVEN_BIN=.../haven node --test basic_messaging.test.mjs (ctest does this).

import assert from "node:assert/strict";
import { after, before, describe } from "node:test";

import { HavenServer } from "./lib/haven.mjs";
import {
  liveEvents, loginUser, makeSteps, registerUser, sdk, startSyncingClient, waitFor, withTimeout,
} from "./lib/matrix.mjs";

const STEP_TIMEOUT_MS = 60_000;
const ROOM_NAME = "Haven basic messaging";
const PASSWORD = "correct horse battery staple";

const step = makeSteps(STEP_TIMEOUT_MS);

/** The plain messages (no edits) of a room's live timeline as "sender: body" lines. */
function messageLines(client, roomId) {
  return liveEvents(client, roomId)
    .filter((e) => e.getType() === "m.room.message" && !e.isRelation("m.replace"))
    .map((e) => `${e.getSender()}: ${e.getOriginalContent().body}`);
}

/** A received (remote-echoed) m.room.message with `body` in the room's live timeline. */
function findMessage(client, roomId, body) {
  return liveEvents(client, roomId).find(
    (e) => e.getType() === "m.room.message" && e.getOriginalContent().body === body &&
      !e.status); // status is set only on local echoes not yet confirmed by the server
}

describe("basic messaging with matrix-js-sdk", () => {
  let server;
  let alice; // MatrixClient
  let bob;
  let roomId;
  const sent = {}; // body -> event_id

  before(async () => {
    // Without the SDK's crypto, a client cannot send into an encrypted room, so this test
    // runs with Haven's encrypt-by-default turned off (the E2EE tests cover the other case).
    server = await HavenServer.start({ "rooms.encryption_enabled_by_default": "false" });
  });

  after(async () => {
    alice?.stopClient();
    bob?.stopClient();
    if (server) await server.cleanup();
  });

  step("alice and bob register with the dummy auth flow; bob logs in with his password",
    async () => {
      const aliceReg = await registerUser(server.baseUrl, "alice", PASSWORD);
      assert.equal(aliceReg.user_id, `@alice:${server.serverName}`);
      assert.ok(aliceReg.access_token, "registration returned no access_token");
      assert.ok(aliceReg.device_id, "registration returned no device_id");

      const bobReg = await registerUser(server.baseUrl, "bob", PASSWORD);
      assert.equal(bobReg.user_id, `@bob:${server.serverName}`);

      const bobLogin = await loginUser(server.baseUrl, "bob", PASSWORD);
      assert.equal(bobLogin.user_id, bobReg.user_id);
      assert.ok(bobLogin.access_token, "login returned no access_token");
      assert.notEqual(bobLogin.access_token, bobReg.access_token, "login reused a token");
      assert.notEqual(bobLogin.device_id, bobReg.device_id, "login reused the device");

      alice = await startSyncingClient(server.baseUrl, aliceReg);
      bob = await startSyncingClient(server.baseUrl, bobLogin);
      assert.equal(alice.getUserId(), aliceReg.user_id);
      assert.equal(bob.getUserId(), bobLogin.user_id);
    });

  step("alice creates a named, unencrypted room and sees it through sync", async () => {
    const created = await withTimeout("createRoom",
      alice.createRoom({ name: ROOM_NAME, preset: sdk.Preset.PrivateChat }));
    roomId = created.room_id;
    assert.match(roomId, /^!/);

    const room = await waitFor("alice's client to show the room with its name",
      () => {
        const r = alice.getRoom(roomId);
        return r?.getMyMembership() === sdk.KnownMembership.Join && r.name === ROOM_NAME && r;
      },
      { clients: [alice],
        describe: () => `name=${alice.getRoom(roomId)?.name} ` +
          `membership=${alice.getRoom(roomId)?.getMyMembership()}` });
    assert.equal(room.hasEncryptionStateEvent(), false,
      "the room has m.room.encryption although encryption_enabled_by_default is false");
    assert.equal(room.getCreator(), alice.getUserId());
  });

  step("alice invites bob; bob sees the invite with the room name through sync", async () => {
    await withTimeout("invite", alice.invite(roomId, bob.getUserId()));
    const room = await waitFor("bob's client to show the invite",
      () => bob.getRoom(roomId)?.getMyMembership() === sdk.KnownMembership.Invite &&
        bob.getRoom(roomId),
      { clients: [bob],
        describe: () => `membership=${bob.getRoom(roomId)?.getMyMembership()}` });
    const inviter = room.getMember(bob.getUserId())?.events.member?.getSender();
    assert.equal(inviter, alice.getUserId(), "the invite does not name alice as its sender");
    // The spec says the stripped invite_state SHOULD carry m.room.name: Element shows it.
    assert.equal(room.name, ROOM_NAME, "the invite does not carry the room's name");
  });

  step("bob joins; both see two joined members and the room name", async () => {
    await withTimeout("join", bob.joinRoom(roomId));
    await waitFor("bob's client to show him joined",
      () => bob.getRoom(roomId)?.getMyMembership() === sdk.KnownMembership.Join,
      { clients: [bob] });
    await waitFor("alice's client to see bob joined",
      () => alice.getRoom(roomId)?.getMember(bob.getUserId())?.membership ===
        sdk.KnownMembership.Join,
      { clients: [alice] });
    for (const client of [alice, bob]) {
      const room = client.getRoom(roomId);
      assert.equal(room.name, ROOM_NAME, `${client.getUserId()} sees another room name`);
      assert.deepEqual(
        room.getJoinedMembers().map((m) => m.userId).sort(),
        [alice.getUserId(), bob.getUserId()].sort(),
        `${client.getUserId()} sees other joined members`);
    }
  });

  step("they exchange messages both ways and each receives the other's in order", async () => {
    const exchange = [
      [alice, bob, "Hello Bob"],
      [bob, alice, "Hi Alice"],
      [alice, bob, "How are you?"],
    ];
    for (const [from, to, body] of exchange) {
      const res = await withTimeout(`${from.getUserId()} sends "${body}"`,
        from.sendMessage(roomId, { msgtype: sdk.MsgType.Text, body }));
      assert.match(res.event_id, /^\$/);
      sent[body] = res.event_id;
      const got = await waitFor(`${to.getUserId()} to receive "${body}"`,
        () => findMessage(to, roomId, body),
        { clients: [to], describe: () => JSON.stringify(messageLines(to, roomId)) });
      assert.equal(got.getId(), res.event_id);
      assert.equal(got.getSender(), from.getUserId());
      assert.equal(got.getContent().msgtype, "m.text");
    }
    const expected = [
      `${alice.getUserId()}: Hello Bob`,
      `${bob.getUserId()}: Hi Alice`,
      `${alice.getUserId()}: How are you?`,
    ];
    assert.deepEqual(messageLines(bob, roomId), expected, "bob's timeline order");
    await waitFor("alice's timeline to hold the three messages in order",
      () => JSON.stringify(messageLines(alice, roomId)) === JSON.stringify(expected),
      { clients: [alice], describe: () => JSON.stringify(messageLines(alice, roomId)) });
  });

  step("bob replies to alice's question and alice receives the reply", async () => {
    const body = "> <" + alice.getUserId() + "> How are you?\n\nFine, thanks";
    const res = await withTimeout("bob sends a reply", bob.sendMessage(roomId, {
      msgtype: sdk.MsgType.Text,
      body,
      "m.relates_to": { "m.in_reply_to": { event_id: sent["How are you?"] } },
    }));
    sent.reply = res.event_id;
    const got = await waitFor("alice to receive bob's reply",
      () => findMessage(alice, roomId, body),
      { clients: [alice], describe: () => JSON.stringify(messageLines(alice, roomId)) });
    assert.equal(got.getId(), res.event_id);
    assert.equal(got.replyEventId, sent["How are you?"], "the reply lost its m.in_reply_to");
    const lines = messageLines(alice, roomId);
    assert.equal(lines.at(-1), `${bob.getUserId()}: ${body}`, "the reply is not the newest");
    assert.equal(lines.length, 4);
  });

  step("alice edits her first message (m.replace) and bob sees the edit", async () => {
    const original = sent["Hello Bob"];
    const res = await withTimeout("alice sends an edit", alice.sendMessage(roomId, {
      msgtype: sdk.MsgType.Text,
      body: "* Hello Bob!",
      "m.new_content": { msgtype: sdk.MsgType.Text, body: "Hello Bob!" },
      "m.relates_to": { rel_type: sdk.RelationType.Replace, event_id: original },
    }));
    const edit = await waitFor("bob to receive the edit event",
      () => liveEvents(bob, roomId).find((e) => e.getId() === res.event_id),
      { clients: [bob] });
    assert.equal(edit.getSender(), alice.getUserId());
    assert.equal(edit.getRelation()?.rel_type, "m.replace");
    assert.equal(edit.getRelation()?.event_id, original);
    assert.equal(edit.getOriginalContent()["m.new_content"]?.body, "Hello Bob!");

    // The SDK applies the edit to the original event, as a timeline would show it.
    const shown = await waitFor("bob's copy of the first message to show the edited text",
      () => {
        const e = bob.getRoom(roomId)?.findEventById(original);
        return e?.replacingEventId() === res.event_id && e;
      },
      { clients: [bob],
        describe: () => {
          const e = bob.getRoom(roomId)?.findEventById(original);
          return `replacing=${e?.replacingEventId()} body=${e?.getContent().body}`;
        } });
    assert.equal(shown.getContent().body, "Hello Bob!");
    assert.equal(shown.getOriginalContent().body, "Hello Bob", "the original was overwritten");
    // An edit is not a new message: the plain message list is unchanged.
    assert.deepEqual(messageLines(bob, roomId).map((l) => l.split(": ")[1]).slice(0, 3),
      ["Hello Bob", "Hi Alice", "How are you?"]);
  });

  step("bob leaves, then alice; each sees the other's departure", async () => {
    await withTimeout("bob leaves", bob.leave(roomId));
    await waitFor("alice to see bob's membership become leave",
      () => alice.getRoom(roomId)?.getMember(bob.getUserId())?.membership ===
        sdk.KnownMembership.Leave,
      { clients: [alice] });
    await waitFor("bob's client to show the room as left",
      () => bob.getRoom(roomId)?.getMyMembership() === sdk.KnownMembership.Leave,
      { clients: [bob],
        describe: () => `membership=${bob.getRoom(roomId)?.getMyMembership()}` });
    assert.deepEqual(alice.getRoom(roomId).getJoinedMembers().map((m) => m.userId),
      [alice.getUserId()]);

    await withTimeout("alice leaves", alice.leave(roomId));
    await waitFor("alice's client to show the room as left",
      () => alice.getRoom(roomId)?.getMyMembership() === sdk.KnownMembership.Leave,
      { clients: [alice],
        describe: () => `membership=${alice.getRoom(roomId)?.getMyMembership()}` });
  });

  step("the server exits with code 0 on SIGTERM", async () => {
    alice.stopClient();
    bob.stopClient();
    const code = await server.stop();
    assert.equal(code, 0, `haven exited with ${code} after SIGTERM:\n${server.logTail()}`);
  });
});
