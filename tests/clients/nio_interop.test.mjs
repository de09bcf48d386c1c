// A second, independent client: matrix-nio (Python, with libolm through python3-olm) and
// matrix-js-sdk (with its Rust crypto) in one encrypted room on Haven. A message sent by
// matrix-js-sdk decrypts in nio, and nio's answer decrypts in matrix-js-sdk.
// Run: HAVEN_BIN=.../haven tests/clients/run-test.sh tests/clients/nio_interop.test.mjs

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { after, before, describe } from "node:test";
import { fileURLToPath } from "node:url";

import { HavenServer } from "./lib/haven.mjs";
import {
  liveEvents, makeSteps, registerUser, sdk, startSyncingClient, waitFor, withTimeout,
} from "./lib/matrix.mjs";

const PASSWORD = "correct horse battery staple";
const PEER = path.join(path.dirname(fileURLToPath(import.meta.url)), "nio", "nio_peer.py");
const FROM_JS = "Sent by matrix-js-sdk, read by nio";
const FROM_NIO = "Sent by matrix-nio, read by matrix-js-sdk";
const step = makeSteps(120_000);
// Debian's python3-matrix-nio and python3-olm live in the system Python, which another python3
// earlier on PATH (pyenv, a virtualenv) would not see.
const PYTHON = fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

/** Starts nio_peer.py; `reports` collects its JSON lines, `exit` resolves to its exit code. */
function startNioPeer(args) {
  const child = spawn(PYTHON, [PEER, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const peer = { reports: [], stderr: "" };
  readline.createInterface({ input: child.stdout }).on("line", (line) => {
    try {
      peer.reports.push(JSON.parse(line));
    } catch {
      peer.stderr += `${line}\n`;
    }
  });
  child.stderr.on("data", (d) => { peer.stderr += d; });
  peer.exit = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
  peer.kill = () => child.kill("SIGKILL");
  peer.has = (stepName) => peer.reports.find((r) => r.step === stepName);
  peer.describe = () => `${JSON.stringify(peer.reports)}\n${peer.stderr.slice(-2000)}`;
  return peer;
}

describe("matrix-nio and matrix-js-sdk in one encrypted room", () => {
  let server;
  let alice;
  let nina; // nio's account
  let peer;
  let roomId;

  before(async () => {
    server = await HavenServer.start();
  });

  after(async () => {
    peer?.kill();
    alice?.stopClient();
    if (server) await server.cleanup();
  });

  step("alice (matrix-js-sdk) invites nina (matrix-nio) into an encrypted room; nina joins",
    async () => {
      alice = await startSyncingClient(server.baseUrl,
        await registerUser(server.baseUrl, "alice", PASSWORD),
        { beforeStart: (c) => c.initRustCrypto({ useIndexedDB: false }) });
      nina = await registerUser(server.baseUrl, "nina", PASSWORD);
      const created = await withTimeout("createRoom",
        alice.createRoom({ name: "Interop", invite: [nina.user_id] }));
      roomId = created.room_id;
      peer = startNioPeer([server.baseUrl, nina.user_id, PASSWORD, roomId, FROM_JS, FROM_NIO]);
      await waitFor("nio to join", () => peer.has("joined") || peer.has("error"),
        { timeoutMs: 60_000, describe: peer.describe });
      assert.ok(peer.has("joined"), peer.describe());
      await waitFor("alice to see nina joined", () =>
        alice.getRoom(roomId)?.getMember(nina.user_id)?.membership === "join",
      { clients: [alice] });
    });

  step("a message from matrix-js-sdk decrypts in nio", async () => {
    await waitFor("alice to know nio's device", async () => {
      const devices = await alice.getCrypto().getUserDeviceInfo([nina.user_id], true);
      return devices.get(nina.user_id)?.size > 0;
    }, { clients: [alice], timeoutMs: 30_000 });
    await withTimeout("alice sends", alice.sendTextMessage(roomId, FROM_JS), 30_000);
    await waitFor("nio to decrypt it", () => peer.has("decrypted") || peer.has("error"),
      { timeoutMs: 90_000, describe: peer.describe });
    const got = peer.has("decrypted");
    assert.ok(got, peer.describe());
    assert.equal(got.body, FROM_JS);
    assert.equal(got.sender, alice.getUserId());
  });

  step("nio's answer decrypts in matrix-js-sdk", async () => {
    await waitFor("alice to decrypt nio's message", () => liveEvents(alice, roomId).find((e) =>
      e.isEncrypted() && !e.isDecryptionFailure() && e.getContent().body === FROM_NIO),
    { clients: [alice], timeoutMs: 60_000, describe: peer.describe });
    assert.equal(await withTimeout("nio exits", peer.exit), 0, peer.describe());
  });
});
