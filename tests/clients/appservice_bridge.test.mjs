// A bridge built on matrix-appservice (the Application Service HTTP framework under
// matrix-appservice-bridge) talks to Haven: its registration file comes from the framework's
// AppServiceRegistration, Haven pushes it a transaction with a normal user's message (checked
// against the hs_token by the framework), the bridge registers a user of its namespace, joins
// and answers as that user through matrix-js-sdk with the as_token and ?user_id=, and the
// normal user's matrix-js-sdk sees the answer through /sync.
// Run: HAVEN_BIN=.../haven node --test appservice_bridge.test.mjs (ctest does this).

import assert from "node:assert/strict";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe } from "node:test";

import { AppService, AppServiceRegistration } from "matrix-appservice";

import { HavenServer, freePort } from "./lib/haven.mjs";
import {
  liveEvents, makeSteps, registerUser, sdk, startSyncingClient, waitFor,
} from "./lib/matrix.mjs";

const step = makeSteps(60_000);
const PASSWORD = "correct horse battery staple";

describe("an appservice bridge built on matrix-appservice", () => {
  let server;
  let bridge; // matrix-appservice AppService (the HTTP side)
  let registration;
  let tmp;
  let alice; // MatrixClient of a normal user
  let puppet; // MatrixClient acting as the bridge user through the as_token
  let roomId;
  let puppetId;
  const received = []; // m.room.message events pushed to the bridge

  before(async () => {
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), "haven-bridge-"));
    const port = await freePort();
    registration = new AppServiceRegistration(`http://127.0.0.1:${port}`);
    registration.setId("testbridge");
    registration.setHomeserverToken(AppServiceRegistration.generateToken());
    registration.setAppServiceToken(AppServiceRegistration.generateToken());
    registration.setSenderLocalpart("_bridge_bot");
    registration.addRegexPattern("users", "@_bridge_.*", true);
    registration.setRateLimited(false);
    const file = path.join(tmp, "bridge-registration.yaml");
    registration.outputAsYaml(file);

    bridge = new AppService({ homeserverToken: registration.getHomeserverToken() });
    bridge.on("type:m.room.message", (event) => received.push(event));
    await bridge.listen(port, "127.0.0.1", 10);

    server = await HavenServer.start({
      "rooms.encryption_enabled_by_default": "false",
      "app_service_config_files": JSON.stringify([file]),
    });
  });

  after(async () => {
    alice?.stopClient();
    puppet?.stopClient();
    if (bridge) await bridge.close().catch(() => {});
    if (server) await server.cleanup();
    if (tmp) await fsp.rm(tmp, { recursive: true, force: true });
  });

  /** A request to Haven with the bridge's as_token, as the framework's users make them. */
  async function asRequest(method, urlPath, body, userId) {
    const url = new URL(urlPath, server.baseUrl);
    if (userId) url.searchParams.set("user_id", userId);
    const res = await fetch(url, {
      method,
      headers: {
        Authorization: `Bearer ${registration.getAppServiceToken()}`,
        "Content-Type": "application/json",
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  }

  step("alice registers and opens a room", async () => {
    const creds = await registerUser(server.baseUrl, "alice", PASSWORD);
    alice = await startSyncingClient(server.baseUrl, creds);
    roomId = (await alice.createRoom({ preset: "private_chat", name: "Bridged" })).room_id;
  });

  step("the bridge registers a user in its namespace; a name outside it is refused",
    async () => {
      const ok = await asRequest("POST", "/_matrix/client/v3/register",
        { type: "m.login.application_service", username: "_bridge_alice", inhibit_login: true });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      puppetId = ok.body.user_id;
      assert.equal(puppetId, `@_bridge_alice:${server.serverName}`);
      const refused = await asRequest("POST", "/_matrix/client/v3/register",
        { type: "m.login.application_service", username: "someone", inhibit_login: true });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.errcode, "M_EXCLUSIVE");
    });

  step("alice invites the bridge user, who joins through matrix-js-sdk with the as_token",
    async () => {
      await alice.invite(roomId, puppetId);
      puppet = sdk.createClient({
        baseUrl: server.baseUrl,
        accessToken: registration.getAppServiceToken(),
        userId: puppetId,
        queryParams: { user_id: puppetId },
      });
      await puppet.joinRoom(roomId);
      const who = await puppet.whoami();
      assert.equal(who.user_id, puppetId);
    });

  step("alice's message reaches the bridge in a transaction", async () => {
    const { event_id: eventId } = await alice.sendTextMessage(roomId, "hello, bridge");
    const event = await waitFor("the message in a transaction",
      () => received.find((e) => e.event_id === eventId),
      { describe: () => JSON.stringify(received.map((e) => e.content?.body)) });
    assert.equal(event.sender, alice.getUserId());
    assert.equal(event.room_id, roomId);
    assert.equal(event.content.body, "hello, bridge");
  });

  step("the bridge answers as its user and alice sees the answer", async () => {
    await puppet.sendTextMessage(roomId, "hello from the other network");
    await waitFor("the bridge user's answer at alice",
      () => liveEvents(alice, roomId).find(
        (e) => e.getSender() === puppetId && e.getContent().body === "hello from the other network"),
      { clients: [alice] });
    // The bridge's own message is in its namespace, so it is pushed back to it too.
    await waitFor("the answer echoed to the bridge",
      () => received.find((e) => e.sender === puppetId));
  });
});
