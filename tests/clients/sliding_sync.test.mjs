// Simplified sliding sync (MSC4186) through matrix-js-sdk's SlidingSync and SlidingSyncSdk, the
// code Element Web runs against servers that advertise org.matrix.simplified_msc3575: a room
// list window over 25 rooms, a room bumping into the window when a message arrives, a room
// subscription for a conversation with history, typing and read receipts through the
// extensions, an invite accepted from the list, and a grown window. Bob uses /sync v2, so the
// two sync APIs are also checked against each other.
// Run: HAVEN_BIN=.../haven node --test sliding_sync.test.mjs (ctest does this).

import assert from "node:assert/strict";
import { after, before, describe } from "node:test";

import { SlidingSync } from "matrix-js-sdk/lib/sliding-sync.js";

import { HavenServer } from "./lib/haven.mjs";
import {
  clientLogger, describeError, liveEvents, makeSteps, registerUser, sdk, startSyncingClient, waitFor,
  withTimeout,
} from "./lib/matrix.mjs";

const STEP_TIMEOUT_MS = 90_000;
const PASSWORD = "correct horse battery staple";
const ROOMS = 24; // alice's own rooms, plus bob's conversation: 25 in all
const WINDOW = 20;

const step = makeSteps(STEP_TIMEOUT_MS);

/** A MatrixClient syncing through sliding sync with one list, "all", over `ranges`. */
async function startSlidingClient(baseUrl, creds) {
  const client = sdk.createClient({
    baseUrl,
    accessToken: creds.access_token,
    userId: creds.user_id,
    deviceId: creds.device_id,
    timelineSupport: true,
    logger: clientLogger(`[${creds.user_id} sliding]`),
  });
  client.syncErrors = [];
  const lists = new Map([["all", {
    ranges: [[0, WINDOW - 1]],
    timeline_limit: 1,
    required_state: [["m.room.name", ""], ["m.room.create", ""], ["m.room.member", "$ME"],
                     ["m.room.power_levels", ""]],
  }]]);
  const subscription = {
    timeline_limit: 20,
    required_state: [["*", "*"], ["m.room.member", "$LAZY"]],
  };
  const slidingSync = new SlidingSync(baseUrl, lists, subscription, client, 10_000);
  const prepared = new Promise((resolve, reject) => {
    client.on(sdk.ClientEvent.Sync, (state, _prev, data) => {
      if (state === sdk.SyncState.Error) {
        const message = describeError(data?.error);
        client.syncErrors.push(message);
        reject(new Error(`sliding sync failed during start-up: ${message}`));
      } else if (state === sdk.SyncState.Prepared) {
        resolve();
      }
    });
  });
  prepared.catch(() => {});
  await client.startClient({ slidingSync });
  await withTimeout(`${creds.user_id}: first sliding sync`, prepared);
  client.slidingSyncHandle = slidingSync;
  return client;
}

function roomNames(client) {
  return client.getRooms().map((r) => r.name).sort();
}

describe("sliding sync with matrix-js-sdk", () => {
  let server;
  let alice; // sliding sync
  let bob; // /sync v2
  let aliceCreds;
  let conversation;
  const ownRooms = [];

  before(async () => {
    server = await HavenServer.start({ "rooms.encryption_enabled_by_default": "false" });
  });

  after(async () => {
    alice?.slidingSyncHandle?.stop();
    alice?.stopClient();
    bob?.stopClient();
    if (server) await server.cleanup();
  });

  step("the server advertises simplified sliding sync", async () => {
    const res = await fetch(`${server.baseUrl}/_matrix/client/versions`);
    const body = await res.json();
    assert.equal(body.unstable_features["org.matrix.simplified_msc3575"], true);
  });

  step("alice is in 25 rooms; bob's conversation with her is the oldest", async () => {
    aliceCreds = await registerUser(server.baseUrl, "alice", PASSWORD);
    const bobCreds = await registerUser(server.baseUrl, "bob", PASSWORD);
    bob = await startSyncingClient(server.baseUrl, bobCreds);
    const maker = sdk.createClient({
      baseUrl: server.baseUrl, accessToken: aliceCreds.access_token, userId: aliceCreds.user_id,
    });
    conversation = (await bob.createRoom({ name: "bob and alice",
                                           invite: [aliceCreds.user_id] })).room_id;
    await maker.joinRoom(conversation);
    for (const text of ["first words", "second words", "third words"]) {
      await bob.sendTextMessage(conversation, text);
    }
    for (let i = 0; i < ROOMS; i++) {
      ownRooms.push((await maker.createRoom({ name: `room ${String(i).padStart(2, "0")}` }))
        .room_id);
    }
  });

  step("the first window holds the 20 most recent rooms and the list counts all 25",
    async () => {
      alice = await startSlidingClient(server.baseUrl, aliceCreds);
      await waitFor("20 rooms in alice's client", () => alice.getRooms().length === WINDOW, {
        describe: () => roomNames(alice).join(", "), clients: [alice],
      });
      assert.equal(alice.slidingSyncHandle.getListData("all").joinedCount, ROOMS + 1);
      const expected = ownRooms.slice(ROOMS - WINDOW).map((id) => alice.getRoom(id)?.name);
      assert.deepEqual(roomNames(alice), expected.sort());
      assert.equal(alice.getRoom(conversation), null, "the oldest room is outside the window");
      const newest = alice.getRoom(ownRooms[ROOMS - 1]);
      assert.equal(newest.getMyMembership(), "join");
      assert.ok(newest.getBumpStamp() > alice.getRoom(ownRooms[ROOMS - WINDOW]).getBumpStamp());
    });

  step("a message from bob brings the conversation into the window", async () => {
    await bob.sendTextMessage(conversation, "are you there?");
    const room = await waitFor("the conversation in alice's list", () => alice.getRoom(conversation),
      { describe: () => roomNames(alice).join(", "), clients: [alice] });
    assert.equal(room.name, "bob and alice");
    await waitFor("bob's message in alice's timeline", () =>
      liveEvents(alice, conversation).some((e) => e.getContent().body === "are you there?"));
  });

  step("opening the conversation subscribes to it and loads its history", async () => {
    alice.slidingSyncHandle.modifyRoomSubscriptions(new Set([conversation]));
    await waitFor("the history of the conversation", () => {
      const bodies = liveEvents(alice, conversation).map((e) => e.getContent().body);
      return ["first words", "second words", "third words", "are you there?"]
        .every((b) => bodies.includes(b));
    }, { describe: () => liveEvents(alice, conversation).map((e) => e.getType()).join(","),
         clients: [alice] });
    const bodies = liveEvents(alice, conversation).map((e) => e.getContent().body)
      .filter(Boolean);
    assert.deepEqual(bodies.slice(-4),
                     ["first words", "second words", "third words", "are you there?"]);
    const bobMember = alice.getRoom(conversation).getMember(bob.getUserId());
    assert.ok(bobMember, "lazy loading brought the sender's membership");
  });

  step("alice and bob talk: replies arrive on both sides in order", async () => {
    await alice.sendTextMessage(conversation, "yes, here");
    await waitFor("alice's answer at bob", () =>
      liveEvents(bob, conversation).some((e) => e.getContent().body === "yes, here" && !e.status));
    await bob.sendTextMessage(conversation, "great");
    await bob.sendTextMessage(conversation, "let's talk");
    await waitFor("bob's two messages at alice, in order", () => {
      const bodies = liveEvents(alice, conversation).map((e) => e.getContent().body)
        .filter(Boolean);
      return bodies.slice(-3).join("|") === "yes, here|great|let's talk";
    }, { describe: () => liveEvents(alice, conversation).map((e) => e.getContent().body)
         .join("|"), clients: [alice] });
  });

  step("typing and read receipts come through the extensions", async () => {
    await bob.sendTyping(conversation, true, 30_000);
    await waitFor("bob typing at alice", () =>
      alice.getRoom(conversation)?.getMember(bob.getUserId())?.typing === true);
    const last = liveEvents(alice, conversation).at(-1);
    await alice.sendReadReceipt(last);
    await waitFor("alice's receipt at bob", () =>
      bob.getRoom(conversation)?.getEventReadUpTo(alice.getUserId()) === last.getId());
    await bob.sendTyping(conversation, false);
  });

  step("an invite shows in the list and alice joins from it", async () => {
    const invited = (await bob.createRoom({ name: "bob's new room",
                                            invite: [alice.getUserId()] })).room_id;
    const room = await waitFor("the invite at alice", () =>
      alice.getRoom(invited)?.getMyMembership() === "invite" && alice.getRoom(invited),
    { clients: [alice] });
    assert.equal(room.name, "bob's new room");
    await alice.joinRoom(invited);
    await bob.sendTextMessage(invited, "welcome");
    await waitFor("bob's welcome at alice", () =>
      liveEvents(alice, invited).some((e) => e.getContent().body === "welcome"),
    { clients: [alice] });
    assert.equal(alice.getRoom(invited).getMyMembership(), "join");
  });

  step("growing the window brings in the remaining rooms", async () => {
    alice.slidingSyncHandle.setListRanges("all", [[0, 49]]);
    await waitFor("every room at alice", () => alice.getRooms().length === ROOMS + 2, {
      describe: () => `${alice.getRooms().length} rooms`, clients: [alice],
    });
    for (const id of ownRooms) assert.ok(alice.getRoom(id), `${id} missing`);
    assert.equal(alice.slidingSyncHandle.getListData("all").joinedCount, ROOMS + 2);
    assert.deepEqual(alice.syncErrors, []);
  });
});
