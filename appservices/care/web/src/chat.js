// The conversation itself: a matrix-js-sdk client with its Rust crypto (WebAssembly) for the
// guest's credentials, the room's timeline rendered as a list, and sending text messages.

import * as RustCrypto from "@matrix-org/matrix-sdk-crypto-wasm";
import {
  ClientEvent, createClient, HttpApiEvent, MatrixEventEvent, RoomEvent, SyncState,
} from "matrix-js-sdk";

// Served beside this bundle by haven-care; loaded before matrix-js-sdk asks for it, since the
// package's default location (pkg/ beside the module) is not where the build puts it.
const WASM_URL = new URL("matrix_sdk_crypto_wasm_bg.wasm", import.meta.url);

const quietLogger = {
  trace() {}, debug() {}, info() {},
  warn: (...a) => console.warn(...a),
  error: (...a) => console.error(...a),
  getChild: () => quietLogger,
};

/**
 * Starts a client for `creds` ({user_id, access_token, device_id, room_id, homeserver_url})
 * and resolves once its first sync is done. `onEnded(err)` is called when the server no
 * longer accepts the token (the guest was removed) or the sync fails for good.
 */
export async function startChat(creds, { onEnded }) {
  await RustCrypto.initAsync(WASM_URL);
  const client = createClient({
    baseUrl: creds.homeserver_url,
    accessToken: creds.access_token,
    userId: creds.user_id,
    deviceId: creds.device_id,
    timelineSupport: true,
    logger: quietLogger,
  });
  // The SDK emits this when any request answers 401 M_UNKNOWN_TOKEN.
  const loggedOut = new Promise((_, reject) => {
    client.once(HttpApiEvent.SessionLoggedOut, (err) => {
      client.stopClient();
      onEnded(err);
      reject(err);
    });
  });
  loggedOut.catch(() => {});
  const prepared = new Promise((resolve) => {
    client.on(ClientEvent.Sync, (state) => {
      if (state === SyncState.Prepared) resolve();
    });
  });
  await client.initRustCrypto({ cryptoDatabasePrefix: `haven-guest-${creds.user_id}` });
  await client.startClient({ initialSyncLimit: 50, lazyLoadMembers: true });
  await Promise.race([prepared, loggedOut]);
  return client;
}

/** Text of one timeline event for display, or null for events the page does not show. */
function describe(event) {
  if (event.isDecryptionFailure()) {
    return { unreadable: true,
      text: "This message cannot be read here (it may have been sent before you joined)." };
  }
  if (event.isEncrypted() && event.getType() === "m.room.encrypted") return null; // decrypting
  if (event.getType() !== "m.room.message" || event.isRedacted()) return null;
  const body = event.getContent().body;
  return typeof body === "string" ? { text: body } : null;
}

const items = new WeakMap(); // MatrixEvent -> its <li>, kept while the event is shown

/** Makes `item` show `event`; leaves it alone when it already does. */
function fillItem(item, event, shown, senderName, mine) {
  const signature = JSON.stringify([event.getId(), shown.text, senderName, event.status ?? ""]);
  if (item.dataset.signature === signature) return;
  item.dataset.signature = signature;
  item.dataset.eventId = event.getId() ?? "";
  item.classList.toggle("mine", mine);
  item.classList.toggle("unreadable", Boolean(shown.unreadable));
  const sender = document.createElement("span");
  sender.className = "sender";
  sender.textContent = senderName;
  const body = document.createElement("span");
  body.className = "body";
  body.textContent = shown.text;
  item.replaceChildren(sender, body);
  if (event.status) {
    const pending = document.createElement("span");
    pending.className = "pending";
    pending.textContent = event.status === "not_sent" ? " (not sent)" : " (sending…)";
    item.append(pending);
  }
}

/**
 * Renders the room's live timeline into the <ol> `list`; call again on every change. Items
 * of events already shown are updated in place and new ones inserted, so that assistive
 * technology announces only what is new.
 */
export function renderTimeline(client, roomId, list) {
  const room = client.getRoom(roomId);
  let position = list.firstElementChild;
  for (const event of room?.getLiveTimeline().getEvents() ?? []) {
    const shown = describe(event);
    if (!shown) continue;
    const mine = event.getSender() === client.getUserId();
    const senderName = mine ? "You" : (room.getMember(event.getSender())?.name ?? "Someone");
    let item = items.get(event);
    if (!item) {
      item = document.createElement("li");
      items.set(event, item);
    }
    fillItem(item, event, shown, senderName, mine);
    if (item === position) {
      position = position.nextElementSibling;
    } else {
      list.insertBefore(item, position);
    }
  }
  while (position) {
    const next = position.nextElementSibling;
    position.remove();
    position = next;
  }
}

/** Calls `render()` (at most once a frame) whenever the room's timeline changes. */
export function watchTimeline(client, roomId, render) {
  let queued = false;
  const schedule = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      render();
    });
  };
  client.on(RoomEvent.Timeline, (_event, room) => {
    if (room?.roomId === roomId) schedule();
  });
  client.on(RoomEvent.LocalEchoUpdated, schedule);
  client.on(MatrixEventEvent.Decrypted, schedule);
  client.on(RoomEvent.Redaction, schedule);
  schedule();
}
