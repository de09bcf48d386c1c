// An end-to-end encrypted temporary conversation (R19-R23) with real matrix-js-sdk clients and
// their Rust crypto: haven-care's user, a member of the room, has a device of its own, so the
// professionals' clients share their room keys with it as with any member's device. haven-care
// then sees what haven cannot: the legacy call signals (m.call.invite/answer/hangup, which the
// clients encrypt) go in its ledger, and the encrypted attachment an event names is deleted with
// the room. An upload no event named stays. Haven and haven-care run with fake clocks.
// Run: HAVEN_BIN=.../haven HAVEN_CARE_BIN=.../haven-care tests/clients/run-test.sh \
//        tests/clients/care_encrypted_temporary.test.mjs

import assert from "node:assert/strict";
import { createCipheriv, createHash, randomBytes } from "node:crypto";
import fsp from "node:fs/promises";
import path from "node:path";
import { after, before, describe } from "node:test";

import { CareService } from "./lib/care.mjs";
import { HavenServer, havenRequest, registerAdmin } from "./lib/haven.mjs";
import { loginUser, makeSteps, startSyncingClient, waitFor, withTimeout } from "./lib/matrix.mjs";

const PASSWORD = "correct horse battery staple";
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const step = makeSteps(120_000);

/** An attachment as Element encrypts it (AES-256-CTR, v2): the ciphertext and its `file`. */
function encryptAttachment(plain) {
  const key = randomBytes(32);
  const iv = Buffer.concat([randomBytes(8), Buffer.alloc(8)]);
  const cipher = createCipheriv("aes-256-ctr", key, iv);
  const data = Buffer.concat([cipher.update(plain), cipher.final()]);
  const b64 = (b) => b.toString("base64").replace(/=+$/, "");
  const file = {
    v: "v2", iv: b64(iv),
    key: { kty: "oct", alg: "A256CTR", ext: true, key_ops: ["encrypt", "decrypt"],
      k: key.toString("base64url") },
    hashes: { sha256: b64(createHash("sha256").update(data).digest()) },
  };
  return { data, file };
}

/** The files under `dir` whose bytes contain `needle`. */
async function filesHolding(dir, needle) {
  const found = [];
  for (const entry of await fsp.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath ?? entry.path, entry.name);
    if ((await fsp.readFile(file)).includes(needle)) found.push(file);
  }
  return found;
}

describe("an encrypted temporary conversation read by haven-care's device", () => {
  let server, care, adminToken, roomId;
  const people = {}; // name -> { creds, client }
  let careDevice;

  before(async () => {
    server = await HavenServer.start({ "care.enabled": "true", "testing.fake_clock": "true" }, {
      beforeLaunch: async (s) => {
        const prepared = await CareService.prepare(s);
        care = prepared.care;
        return prepared.havenOptions;
      },
    });
    await care.start();
  });

  after(async () => {
    for (const p of Object.values(people)) p.client?.stopClient();
    await care?.stop();
    if (server) await server.cleanup();
  });

  async function admin(method, apiPath, body) {
    const res = await havenRequest(server, method, apiPath, body, adminToken);
    assert.equal(res.status, 200, `${method} ${apiPath}: ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async function careOk(method, apiPath, body, token) {
    const res = await care.request(method, apiPath, body, token);
    assert.equal(res.status, 200, `${method} ${apiPath}: ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async function advanceBoth(ms) {
    await admin("POST", "/_haven/admin/v1/testing/clock", { advance_ms: ms });
    await careOk("POST", "/testing/clock", { advance_ms: ms });
  }

  const token = (name) => people[name].creds.access_token;
  const careUser = () => `@care:${server.serverName}`;

  async function callsOf(name) {
    return careOk("GET", "/call_minutes", undefined, token(name));
  }

  async function download(name, mxc) {
    const res = await fetch(`${server.baseUrl}/_matrix/client/v1/media/download/${mxc.slice(6)}`,
      { headers: { Authorization: `Bearer ${token(name)}` } });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  }

  step("two professionals with Rust crypto; haven-care's device keys are published", async () => {
    adminToken = await registerAdmin(server, "operator", PASSWORD);
    await admin("PUT", "/_haven/admin/v1/features", { temporary_rooms: true });
    // haven-care publishes its device's keys, then its cross-signing: the last step done.
    await waitFor("haven-care's cross-signing keys", async () => {
      const res = await havenRequest(server, "POST", "/_matrix/client/v3/keys/query",
        { device_keys: { [careUser()]: [] } }, adminToken);
      return res.body.self_signing_keys?.[careUser()];
    }, { timeoutMs: 30_000 });
    for (const [name, displayname] of [["pro", "Dr Ada Smit"], ["colleague", "Dr Bo Visser"]]) {
      const made = await admin("POST", "/_haven/admin/v1/users",
        { role: "professional", displayname, password: PASSWORD });
      const creds = await loginUser(server.baseUrl, made.user_id, PASSWORD);
      const client = await startSyncingClient(server.baseUrl, creds, {
        beforeStart: (c) => c.initRustCrypto({ useIndexedDB: false }),
      });
      people[name] = { creds, client };
    }
    const devices = await waitFor("haven-care's device in /keys/query", async () => {
      const info = await people.pro.client.getCrypto().getUserDeviceInfo([careUser()], true);
      const mine = info.get(careUser());
      return mine && mine.size > 0 && mine;
    }, { clients: [people.pro.client], timeoutMs: 30_000 });
    const [device] = [...devices.values()];
    assert.ok(device.getIdentityKey() && device.getFingerprint(), "no Curve25519/Ed25519 keys");
    careDevice = device.deviceId;
  });

  step("the professional starts an encrypted temporary conversation; the colleague joins",
    async () => {
      const made = await careOk("POST", "/temporary_rooms",
        { name: "Consult", invite: [people.colleague.creds.user_id] }, token("pro"));
      roomId = made.room_id;
      const { client } = people.colleague;
      await waitFor("the colleague's invite", () => client.getRoom(roomId), { clients: [client] });
      await withTimeout("the colleague joins", client.joinRoom(roomId));
      await waitFor("the professional sees the colleague and haven-care joined", () => {
        const room = people.pro.client.getRoom(roomId);
        return room?.getMember(people.colleague.creds.user_id)?.membership === "join" &&
          room?.getMember(careUser())?.membership === "join";
      }, { clients: [people.pro.client] });
      assert.ok(await people.pro.client.getCrypto().isEncryptionEnabledInRoom(roomId));
      // Its owner cross-signed it (clients that share keys only with such devices share).
      const status = await waitFor("haven-care's device cross-signed by its owner", async () => {
        const s = await people.pro.client.getCrypto().getDeviceVerificationStatus(careUser(),
          careDevice);
        return s?.signedByOwner && s;
      }, { clients: [people.pro.client], timeoutMs: 30_000 });
      assert.ok(!status.isVerified(), "nobody verified haven-care's user");
    });

  let attachment, untied;
  /** During the call the professional sends an encrypted attachment (and uploads a file that
   * no event names); haven-care reads the hang-up after it, so by then the file is tied. */
  async function sendAttachment() {
    const pro = people.pro.client;
    attachment = encryptAttachment(randomBytes(4096));
    const uploaded = await withTimeout("upload", pro.uploadContent(attachment.data,
      { type: "application/octet-stream", name: "encrypted" }));
    attachment.mxc = uploaded.content_uri;
    await withTimeout("the m.file message", pro.sendMessage(roomId, {
      msgtype: "m.file", body: "report.pdf",
      file: { ...attachment.file, url: attachment.mxc },
      info: { mimetype: "application/pdf", size: 4096 },
    }));
    untied = { data: randomBytes(4096) };
    untied.mxc = (await withTimeout("second upload", pro.uploadContent(untied.data,
      { type: "application/octet-stream", name: "kept" }))).content_uri;
    assert.equal((await download("pro", attachment.mxc)).status, 200);
  }

  step("a legacy call and an attachment, encrypted by the clients, are read by haven-care",
    async () => {
      const callId = `c${Date.now()}`;
      const pro = people.pro.client;
      const colleague = people.colleague.client;
      const sent = await withTimeout("m.call.invite", pro.sendEvent(roomId, "m.call.invite", {
        call_id: callId, party_id: pro.getDeviceId(), version: "1", lifetime: 60_000,
        offer: { type: "offer", sdp: "v=0\r\n" },
      }));
      const raw = await withTimeout("the stored invite", pro.fetchRoomEvent(roomId, sent.event_id));
      assert.equal(raw.type, "m.room.encrypted", "the client did not encrypt its call signal");
      await withTimeout("m.call.answer", colleague.sendEvent(roomId, "m.call.answer", {
        call_id: callId, party_id: colleague.getDeviceId(), version: "1",
        answer: { type: "answer", sdp: "v=0\r\n" },
      }));
      await waitFor("haven-care to see the call in progress", async () =>
        (await callsOf("pro")).ongoing.some((c) => c.room_id === roomId), { timeoutMs: 30_000 });
      await sendAttachment();
      await advanceBoth(12 * MINUTE_MS);
      await withTimeout("m.call.hangup", colleague.sendEvent(roomId, "m.call.hangup", {
        call_id: callId, party_id: colleague.getDeviceId(), version: "1", reason: "user_hangup",
      }));
      const ended = await waitFor("the call in the ledger", async () =>
        (await callsOf("pro")).calls.find((c) => c.room_id === roomId), { timeoutMs: 30_000 });
      assert.equal(ended.kind, "legacy");
      assert.equal(ended.call_id, callId);
      assert.deepEqual(ended.participants,
        [people.pro.creds.user_id, people.colleague.creds.user_id]);
      assert.ok(ended.ended_at - ended.started_at >= 12 * MINUTE_MS, JSON.stringify(ended));
    });

  step("an hour after the call the room is deleted with its attachment; the ledger stays",
    async () => {
      const before = (await callsOf("pro")).calls.filter((c) => c.room_id === roomId);
      await advanceBoth(HOUR_MS + MINUTE_MS);
      await waitFor("the room to be gone from haven", async () => {
        const res = await havenRequest(server, "GET",
          `/_synapse/admin/v1/rooms/${encodeURIComponent(roomId)}`, undefined, adminToken);
        return res.status === 404;
      }, { timeoutMs: 30_000 });
      assert.equal((await download("pro", attachment.mxc)).status, 404,
        "the attachment named inside the encrypted event survived the purge");
      assert.deepEqual(await filesHolding(server.dataDir, attachment.data.subarray(0, 64)), []);
      const kept = await download("pro", untied.mxc);
      assert.equal(kept.status, 200, "an upload no event of the room named was deleted");
      assert.deepEqual(kept.body, untied.data);
      const after = (await callsOf("pro")).calls.filter((c) => c.room_id === roomId);
      assert.deepEqual(after, before, "the ledger changed with the deletion");
    });
});
