// haven-care's guest page (appservices/care/web) in a real browser: headless Chromium (the
// Debian package) driven by playwright-core. A professional (matrix-js-sdk with Rust crypto)
// owns an encrypted conversation and makes a guest link; the guest opens it, types a name and
// asks for access; the professional lets them in from their Matrix client (an invite); the
// page decrypts the professional's message and sends a reply that the professional's client
// decrypts. A message from before the guest joined shows as unreadable (the guest's new
// device never got its key). Also: the page says so when the owner declines, and when the
// link was revoked.
// Run: HAVEN_BIN=.../haven HAVEN_CARE_BIN=.../haven-care tests/clients/run-test.sh \
//        tests/clients/guest_page.test.mjs

import assert from "node:assert/strict";
import { after, before, describe } from "node:test";

import { chromium } from "playwright-core";

import { CareService } from "./lib/care.mjs";
import { HavenServer, havenRequest, registerAdmin } from "./lib/haven.mjs";
import {
  liveEvents, loginUser, makeSteps, sdk, startSyncingClient, waitFor, withTimeout,
} from "./lib/matrix.mjs";

const PASSWORD = "correct horse battery staple";
const CHROMIUM = process.env.HAVEN_CHROMIUM ?? "/usr/bin/chromium";
// The page loads 8 MB of WebAssembly and runs its crypto under ASan-built servers: give each
// browser-side wait more room than the SDK's default 20 s.
const PAGE_TIMEOUT_MS = 60_000;
const step = makeSteps(180_000);

/** The decrypted message with `body` from `sender` in the room, if `client` has it. */
function decrypted(client, roomId, sender, body) {
  return liveEvents(client, roomId).find((e) => e.isEncrypted() && !e.isDecryptionFailure() &&
    e.getSender() === sender && e.getType() === "m.room.message" && e.getContent().body === body);
}

describe("the guest page in headless Chromium", () => {
  let server, care, browser, adminToken, pro, roomId, link;
  const pageProblems = []; // uncaught errors and CSP violations in any page

  before(async () => {
    server = await HavenServer.start({ "care.enabled": "true" }, {
      beforeLaunch: async (s) => {
        const prepared = await CareService.prepare(s);
        care = prepared.care;
        return prepared.havenOptions;
      },
    });
    await care.start();
    browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"],
    });
  });

  after(async () => {
    pro?.stopClient();
    await browser?.close();
    await care?.stop();
    if (server) await server.cleanup();
  });

  async function admin(method, path, body) {
    const res = await havenRequest(server, method, `/_haven/admin/v1${path}`, body, adminToken);
    assert.equal(res.status, 200, `${method} ${path}: ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async function careOk(method, path, body) {
    const res = await care.request(method, path, body, pro.getAccessToken());
    assert.equal(res.status, 200, `${method} ${path}: ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** A fresh browser page (own storage) that records errors and CSP violations. */
  async function openPage(url) {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(PAGE_TIMEOUT_MS);
    page.on("pageerror", (err) => pageProblems.push(`page error: ${err.message}`));
    page.on("console", (msg) => {
      if (/Content Security Policy|Refused to/i.test(msg.text())) {
        pageProblems.push(`console: ${msg.text()}`);
      }
    });
    const res = await page.goto(url);
    assert.equal(res.status(), 200);
    return page;
  }

  /** Waits until `page` shows `text`; on timeout says what its status line shows instead. */
  async function pageShows(page, text) {
    try {
      await page.getByText(text).waitFor();
    } catch (err) {
      const state = await page.locator("#state").textContent().catch(() => "?");
      throw new Error(`the page never showed "${text}"; its status: "${state}"` +
        (pageProblems.length ? `; problems: ${pageProblems.join("; ")}` : ""), { cause: err });
    }
  }

  async function askAccess(page, name) {
    await page.getByLabel("Your name").fill(name);
    await page.getByRole("button", { name: "Ask for access" }).click();
  }

  /** The guest request waiting in the professional's tasks, by name. */
  async function taskFor(name) {
    return waitFor(`the task for ${name}`, async () => {
      const { tasks } = await careOk("GET", "/tasks");
      return tasks.find((t) => t.name === name && t.room_id === roomId);
    });
  }

  step("a professional owns an encrypted conversation and makes a guest link", async () => {
    adminToken = await registerAdmin(server, "operator", PASSWORD);
    await admin("PUT", "/features", { guest_links: true });
    const made = await admin("POST", "/users",
      { role: "professional", displayname: "Dr Pat Jansen", password: PASSWORD });
    const creds = await loginUser(server.baseUrl, made.user_id, PASSWORD);
    pro = await startSyncingClient(server.baseUrl, creds, {
      beforeStart: (client) => client.initRustCrypto({ useIndexedDB: false }),
    });
    const created = await withTimeout("createRoom", pro.createRoom({
      name: "Care plan",
      initial_state: [{ type: "m.room.encryption", state_key: "",
        content: { algorithm: "m.megolm.v1.aes-sha2" } }],
    }));
    roomId = created.room_id;
    await waitFor("the room in the professional's client", () => pro.getRoom(roomId),
      { clients: [pro] });
    assert.ok(await pro.getCrypto().isEncryptionEnabledInRoom(roomId), "room not encrypted");
    await withTimeout("a message before any guest", pro.sendTextMessage(roomId, "Notes before"),
      30_000);
    link = await careOk("POST", `/rooms/${encodeURIComponent(roomId)}/guest_links`);
    assert.ok(link.url.startsWith(care.baseUrl), link.url);
  });

  let guestPage, guestId;
  step("the guest opens the link in Chromium, types a name and asks for access", async () => {
    guestPage = await openPage(link.url);
    await askAccess(guestPage, "Aunt Mary");
    await pageShows(guestPage, "Waiting for the owner");
    const task = await taskFor("Aunt Mary");
    guestId = task.user_id;
    await waitFor("the knock in the professional's client", () =>
      pro.getRoom(roomId)?.getMember(guestId)?.membership === sdk.KnownMembership.Knock,
    { clients: [pro] });
  });

  step("the professional lets the guest in from their Matrix client; the page opens the " +
       "conversation and its crypto uploads the guest's device keys", async () => {
    await withTimeout("invite the guest", pro.invite(roomId, guestId));
    await pageShows(guestPage, "You are in the conversation");
    assert.equal(await guestPage.getByRole("heading").textContent(), "Care plan");
    await waitFor("the guest's device keys", async () => {
      const devices = await pro.getCrypto().getUserDeviceInfo([guestId], true);
      return devices.get(guestId)?.size > 0;
    }, { clients: [pro], timeoutMs: PAGE_TIMEOUT_MS });
    await waitFor("the guest to have joined", () =>
      pro.getRoom(roomId)?.getMember(guestId)?.membership === sdk.KnownMembership.Join,
    { clients: [pro] });
  });

  step("the page shows the professional's encrypted message decrypted", async () => {
    const text = "Welcome Mary, how is your mother today?";
    const { event_id: eventId } = await withTimeout("professional sends",
      pro.sendTextMessage(roomId, text), 30_000);
    const raw = await withTimeout("raw event", pro.fetchRoomEvent(roomId, eventId));
    assert.equal(raw.type, "m.room.encrypted", "the server holds the message encrypted");
    const item = guestPage.locator(`#timeline li[data-event-id="${eventId}"]`, { hasText: text });
    try {
      await item.waitFor();
    } catch (err) {
      const shown = await guestPage.locator("#timeline").textContent().catch(() => "?");
      throw new Error(`the page never showed the message; its timeline: ${shown}`, { cause: err });
    }
    // The guest is not the professional's contact: the care rules show "Anonymous" (no
    // per-room nickname set), never the professional's name.
    assert.match(await item.textContent(), /^Anonymous/);
    // A message from before the guest's device existed has no key for it: the page says so
    // instead of showing nothing or breaking.
    await guestPage.locator("#timeline li.unreadable", { hasText: "cannot be read" }).waitFor();
    assert.equal(await guestPage.locator("#timeline li").count(), 2);
    assert.doesNotMatch(await guestPage.locator("body").textContent(), /Pat Jansen/);
  });

  step("the guest replies on the page and the professional's client decrypts it", async () => {
    const reply = "Much better, thank you. She slept well.";
    await guestPage.getByLabel("Message", { exact: true }).fill(reply);
    await guestPage.getByRole("button", { name: "Send" }).click();
    const event = await waitFor("the professional to decrypt the guest's reply",
      () => decrypted(pro, roomId, guestId, reply),
      { clients: [pro], timeoutMs: PAGE_TIMEOUT_MS,
        describe: () => JSON.stringify(liveEvents(pro, roomId).filter((e) => e.isEncrypted())
          .map((e) => e.isDecryptionFailure() ? "UTD" : e.getContent().body)) });
    assert.equal(event.getWireType(), "m.room.encrypted");
    await guestPage.locator("#timeline li.mine", { hasText: reply })
      .filter({ hasNotText: "sending" }).waitFor();
    assert.deepEqual(pageProblems, []);
  });

  step("after a reload the page resumes the conversation and still reads it", async () => {
    await guestPage.reload();
    await pageShows(guestPage, "You are in the conversation");
    for (const text of ["Welcome Mary, how is your mother today?",
      "Much better, thank you. She slept well."]) {
      await guestPage.locator("#timeline li:not(.unreadable)", { hasText: text }).waitFor();
    }
    const answer = "I will come by on Tuesday.";
    await guestPage.getByLabel("Message", { exact: true }).fill(answer);
    await guestPage.keyboard.press("Enter");
    await waitFor("the professional to decrypt the message sent after the reload",
      () => decrypted(pro, roomId, guestId, answer), { clients: [pro], timeoutMs: PAGE_TIMEOUT_MS });
  });

  step("a declined guest reads that the request was declined", async () => {
    const page = await openPage(link.url);
    await askAccess(page, "Uncle Bob");
    await pageShows(page, "Waiting for the owner");
    const task = await taskFor("Uncle Bob");
    await careOk("POST", `/guest_requests/${encodeURIComponent(task.request_id)}/reject`, {});
    await pageShows(page, "Your request was declined.");
    await page.context().close();
  });

  step("a revoked link says so and offers no form", async () => {
    await careOk("DELETE",
      `/rooms/${encodeURIComponent(roomId)}/guest_links/${encodeURIComponent(link.token)}`);
    const page = await openPage(link.url);
    await askAccess(page, "Cousin Ann");
    await pageShows(page, "does not exist or was revoked");
    assert.equal(await page.getByLabel("Your name").isVisible(), false);
    await page.context().close();
    assert.deepEqual(pageProblems, []);
  });
});
