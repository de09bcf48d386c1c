// End-to-end encryption across two servers with matrix-js-sdk and its Rust crypto: alice on
// hs1.test and bob on hs2.test (two `haven` instances federating over TLS on loopback). Each
// downloads the other's device keys through their own server, which asks the other one over
// federation; bob joins alice's encrypted room through hs1; the room keys travel as to-device
// messages between the servers; the messages decrypt on the other side, also for a device
// bob adds later.
// Run: HAVEN_BIN=.../haven tests/clients/run-test.sh tests/clients/e2ee_federation.test.mjs

import assert from "node:assert/strict";
import { after, before, describe } from "node:test";

import { HavenServer } from "./lib/haven.mjs";
import {
  liveEvents, loginUser, makeSteps, registerUser, sdk, startSyncingClient, waitDecrypted, waitFor,
  withTimeout,
} from "./lib/matrix.mjs";

const PASSWORD = "correct horse battery staple";
const TIMEOUT_MS = 60_000; // deliveries between the servers may wait for a retry
const step = makeSteps(120_000);

async function send(client, roomId, body) {
  const res = await withTimeout(`${client.getUserId()} sends "${body}"`,
    client.sendTextMessage(roomId, body), 30_000);
  return res.event_id;
}

describe("end-to-end encryption between users of two servers", () => {
  let hs1, hs2;
  const clients = [];
  let alice, bob, bob2;
  let roomId;

  before(async () => {
    [hs1, hs2] = await HavenServer.startFederated(["hs1.test", "hs2.test"]);
  });

  after(async () => {
    for (const c of clients) c.stopClient();
    for (const server of [hs1, hs2]) if (server) await server.cleanup();
  });

  async function start(server, creds) {
    const client = await startSyncingClient(server.baseUrl, creds, {
      beforeStart: (c) => c.initRustCrypto({ useIndexedDB: false }),
    });
    clients.push(client);
    return client;
  }

  step("alice (hs1) and bob (hs2) sign up; each gets the other's keys over federation",
    async () => {
      alice = await start(hs1, await registerUser(hs1.baseUrl, "alice", PASSWORD));
      bob = await start(hs2, await registerUser(hs2.baseUrl, "bob", PASSWORD));
      assert.match(alice.getUserId(), /:hs1\.test$/);
      assert.match(bob.getUserId(), /:hs2\.test$/);
      await waitFor("bob to download alice's keys", async () => {
        const keys = await bob.getCrypto().getUserDeviceInfo([alice.getUserId()], true);
        return keys.get(alice.getUserId())?.has(alice.getDeviceId());
      }, { clients: [bob], timeoutMs: TIMEOUT_MS });
      await waitFor("alice to download bob's keys", async () => {
        const keys = await alice.getCrypto().getUserDeviceInfo([bob.getUserId()], true);
        return keys.get(bob.getUserId())?.has(bob.getDeviceId());
      }, { clients: [alice], timeoutMs: TIMEOUT_MS });
    });

  step("alice creates an encrypted room and invites bob, who joins through hs1", async () => {
    const created = await withTimeout("createRoom",
      alice.createRoom({ name: "Across servers", invite: [bob.getUserId()] }), 30_000);
    roomId = created.room_id;
    await waitFor("bob's invite", () =>
      bob.getRoom(roomId)?.getMyMembership() === sdk.KnownMembership.Invite,
    { clients: [bob], timeoutMs: TIMEOUT_MS });
    await withTimeout("bob joins", bob.joinRoom(roomId), 30_000);
    await waitFor("alice to see bob joined", () =>
      alice.getRoom(roomId)?.getMember(bob.getUserId())?.membership === "join",
    { clients: [alice], timeoutMs: TIMEOUT_MS });
    assert.ok(await alice.getCrypto().isEncryptionEnabledInRoom(roomId), "room not encrypted");
    assert.ok(await bob.getCrypto().isEncryptionEnabledInRoom(roomId),
      "bob's server did not get the room's encryption state");
  });

  step("they exchange messages that decrypt on the other server", async () => {
    await send(alice, roomId, "Hello Bob, from hs1");
    await waitDecrypted(bob, roomId, "Hello Bob, from hs1", TIMEOUT_MS);
    await send(bob, roomId, "Hi Alice, from hs2");
    await waitDecrypted(alice, roomId, "Hi Alice, from hs2", TIMEOUT_MS);
    const raw = await withTimeout("raw event", bob.fetchRoomEvent(roomId,
      liveEvents(bob, roomId).find((e) => e.isEncrypted())?.getId()));
    assert.equal(raw.type, "m.room.encrypted", "hs2 holds the event encrypted");
    assert.ok(!JSON.stringify(raw).includes("Hello Bob"), "plaintext on hs2");
  });

  step("bob's second device logs in later; alice learns of it and it decrypts", async () => {
    bob2 = await start(hs2, await loginUser(hs2.baseUrl, "bob", PASSWORD));
    await waitFor("alice to learn of bob's new device", async () => {
      const devices = await alice.getCrypto().getUserDeviceInfo([bob.getUserId()], true);
      return devices.get(bob.getUserId())?.has(bob2.getDeviceId());
    }, { clients: [alice], timeoutMs: TIMEOUT_MS });
    await send(alice, roomId, "For both of Bob's devices");
    await waitDecrypted(bob2, roomId, "For both of Bob's devices", TIMEOUT_MS);
    await waitDecrypted(bob, roomId, "For both of Bob's devices", TIMEOUT_MS);
  });
});
