// End-to-end encryption through Haven with matrix-js-sdk and its Rust crypto
// (@matrix-org/matrix-sdk-crypto-wasm): two users exchange messages in an encrypted room that
// decrypt on the other side; a second device of one user logs in later and decrypts new
// messages; cross-signing and key backup are set up, and a fresh device restores the backup
// and decrypts the old messages; SAS verification between two devices of one user completes.
// Haven sees only m.room.encrypted events; everything else is the clients' doing over the
// keys, to-device and room_keys APIs.
// Run: HAVEN_BIN=.../haven tests/clients/run-test.sh tests/clients/e2ee.test.mjs

import assert from "node:assert/strict";
import { after, before, describe } from "node:test";

import { CryptoEvent, VerificationPhase, VerifierEvent } from "matrix-js-sdk/lib/crypto-api/index.js";

import { HavenServer } from "./lib/haven.mjs";
import {
  decrypted, liveEvents, loginUser, makeSteps, registerUser, sdk, startSyncingClient, waitDecrypted,
  waitFor, withTimeout,
} from "./lib/matrix.mjs";

const PASSWORD = "correct horse battery staple";
const step = makeSteps();

/** A syncing client with Rust crypto for `creds` (a /register or /login response). */
async function startCryptoClient(server, creds) {
  return startSyncingClient(server.baseUrl, creds, {
    beforeStart: (client) => client.initRustCrypto({ useIndexedDB: false }),
  });
}

async function send(client, roomId, body) {
  const res = await withTimeout(`${client.getUserId()} sends "${body}"`,
    client.sendTextMessage(roomId, body), 30_000);
  return res.event_id;
}

describe("end-to-end encryption with matrix-js-sdk and its Rust crypto", () => {
  let server;
  const clients = [];
  let alice, bob, bob2, alice2;
  let roomId;

  before(async () => {
    server = await HavenServer.start(); // rooms are encrypted by default
  });

  after(async () => {
    for (const c of clients) c.stopClient();
    if (server) await server.cleanup();
  });

  async function start(creds) {
    const client = await startCryptoClient(server, creds);
    clients.push(client);
    return client;
  }

  step("alice and bob sign up with Rust crypto; their device keys reach the server", async () => {
    alice = await start(await registerUser(server.baseUrl, "alice", PASSWORD));
    bob = await start(await registerUser(server.baseUrl, "bob", PASSWORD));
    const keys = await withTimeout("bob downloads alice's keys",
      bob.getCrypto().getUserDeviceInfo([alice.getUserId()], true));
    assert.ok(keys.get(alice.getUserId())?.has(alice.getDeviceId()),
      "alice's device keys are not in /keys/query");
  });

  step("alice creates a room (encrypted by default), bob joins", async () => {
    const created = await withTimeout("createRoom",
      alice.createRoom({ name: "Encrypted", invite: [bob.getUserId()] }));
    roomId = created.room_id;
    await waitFor("bob's invite", () =>
      bob.getRoom(roomId)?.getMyMembership() === sdk.KnownMembership.Invite, { clients: [bob] });
    await withTimeout("bob joins", bob.joinRoom(roomId));
    await waitFor("alice to see bob joined", () =>
      alice.getRoom(roomId)?.getMember(bob.getUserId())?.membership === "join",
    { clients: [alice] });
    assert.ok(await alice.getCrypto().isEncryptionEnabledInRoom(roomId), "room not encrypted");
  });

  step("they exchange messages that decrypt on the other side", async () => {
    await send(alice, roomId, "Hello Bob, this is secret");
    await waitDecrypted(bob, roomId, "Hello Bob, this is secret");
    await send(bob, roomId, "Hi Alice, got it");
    await waitDecrypted(alice, roomId, "Hi Alice, got it");
    const raw = await withTimeout("raw event", alice.fetchRoomEvent(roomId,
      liveEvents(alice, roomId).find((e) => e.isEncrypted())?.getId()));
    assert.equal(raw.type, "m.room.encrypted", "the server holds the event encrypted");
    assert.equal(raw.content.algorithm, "m.megolm.v1.aes-sha2");
    assert.ok(!JSON.stringify(raw).includes("secret"), "plaintext on the server");
  });

  step("bob's second device logs in later and decrypts new messages", async () => {
    bob2 = await start(await loginUser(server.baseUrl, "bob", PASSWORD));
    await waitFor("alice to learn of bob's new device", async () => {
      const devices = await alice.getCrypto().getUserDeviceInfo([bob.getUserId()], true);
      return devices.get(bob.getUserId())?.has(bob2.getDeviceId());
    }, { clients: [alice] });
    await send(alice, roomId, "For both of Bob's devices");
    await waitDecrypted(bob2, roomId, "For both of Bob's devices");
    await waitDecrypted(bob, roomId, "For both of Bob's devices");
  });

  let backup; // { version, key }
  step("alice bootstraps cross-signing (password auth) and key backup; her keys are uploaded",
    async () => {
      const crypto = alice.getCrypto();
      await withTimeout("bootstrapCrossSigning", crypto.bootstrapCrossSigning({
        authUploadDeviceSigningKeys: (makeRequest) => makeRequest({
          type: "m.login.password",
          identifier: { type: "m.id.user", user: alice.getUserId() },
          password: PASSWORD,
        }),
      }), 30_000);
      const status = await crypto.getCrossSigningStatus();
      assert.ok(status.publicKeysOnDevice && status.privateKeysInSecretStorage !== undefined);
      assert.ok(await crypto.isCrossSigningReady(), "cross-signing is not ready");
      await withTimeout("resetKeyBackup", crypto.resetKeyBackup(), 30_000);
      const version = await crypto.getActiveSessionBackupVersion();
      assert.ok(version, "no active backup version");
      const key = await crypto.getSessionBackupPrivateKey();
      assert.ok(key, "no backup decryption key");
      backup = { version, key };
      // Both sessions alice knows (hers and bob's) reach the server's backup.
      await waitFor("the server's backup to hold alice's room keys", async () => {
        const info = await alice.http.authedRequest("GET", "/room_keys/version", undefined,
          undefined, { prefix: "/_matrix/client/v3" });
        return info.version === version && info.count >= 2 && info;
      }, { clients: [alice], timeoutMs: 30_000 });
    });

  step("a fresh device of alice restores the backup and decrypts the old messages", async () => {
    alice2 = await start(await loginUser(server.baseUrl, "alice", PASSWORD));
    assert.ok(!decrypted(alice2, roomId, "Hello Bob, this is secret"),
      "a fresh device should not be able to decrypt old messages before the restore");
    const crypto = alice2.getCrypto();
    await crypto.storeSessionBackupPrivateKey(backup.key, backup.version);
    const result = await withTimeout("restoreKeyBackup", crypto.restoreKeyBackup(), 30_000);
    assert.ok(result.imported >= 2, `imported ${result.imported} of ${result.total} keys`);
    await waitDecrypted(alice2, roomId, "Hello Bob, this is secret");
    await waitDecrypted(alice2, roomId, "Hi Alice, got it");
  });

  step("SAS verification between alice's two devices completes on both sides", async () => {
    const received = new Promise((resolve) => {
      alice.on(CryptoEvent.VerificationRequestReceived, resolve);
    });
    const outgoing = await withTimeout("request verification",
      alice2.getCrypto().requestOwnUserVerification());
    const incoming = await withTimeout("alice receives the request", received);
    await withTimeout("accept", incoming.accept());
    await waitFor("the request to be ready",
      () => outgoing.phase === VerificationPhase.Ready, { clients: [alice2] });
    const verifier2 = await withTimeout("start SAS", outgoing.startVerification("m.sas.v1"));
    await waitFor("alice's side to see the SAS start", () => incoming.verifier,
      { clients: [alice] });
    const verifier1 = incoming.verifier;
    const shown = (verifier) => new Promise((resolve) => {
      verifier.on(VerifierEvent.ShowSas, resolve);
    });
    const sas1 = shown(verifier1);
    const sas2 = shown(verifier2);
    const done1 = verifier1.verify();
    const done2 = verifier2.verify();
    const [s1, s2] = await withTimeout("both sides show the SAS", Promise.all([sas1, sas2]));
    assert.deepEqual(s1.sas.decimal, s2.sas.decimal, "the two devices show different numbers");
    assert.deepEqual(s1.sas.emoji?.map((e) => e[1]), s2.sas.emoji?.map((e) => e[1]));
    await Promise.all([s1.confirm(), s2.confirm()]);
    await withTimeout("both verifiers finish", Promise.all([done1, done2]), 30_000);
    await waitFor("both requests done",
      () => incoming.phase === VerificationPhase.Done &&
        outgoing.phase === VerificationPhase.Done, { clients: [alice, alice2] });
    const status = await alice.getCrypto().getDeviceVerificationStatus(alice.getUserId(),
      alice2.getDeviceId());
    assert.ok(status?.isVerified(), "alice's first device does not trust the second");
  });
});
