// matrix-js-sdk helpers shared by the client tests: register and log in the way a real client
// does, start a syncing client, and wait for a condition with a deadline. Main thread only.

import { it } from "node:test";

import * as sdk from "matrix-js-sdk";
import { logger as sdkLogger } from "matrix-js-sdk/lib/logger.js";

export const WAIT_TIMEOUT_MS = 20_000;

// The SDK logs every request and sync at debug level; keep test output to warnings and
// errors unless HAVEN_TEST_VERBOSE is set. The global logger covers InteractiveAuth; clients
// get their own, since each SDK child logger starts at debug level whatever its parent says.
const verbose = Boolean(process.env.HAVEN_TEST_VERBOSE);
sdkLogger.setLevel(verbose ? "debug" : "warn");

export function clientLogger(prefix) {
  const quiet = () => {};
  return {
    trace: verbose ? console.debug.bind(console, prefix) : quiet,
    debug: verbose ? console.debug.bind(console, prefix) : quiet,
    info: verbose ? console.info.bind(console, prefix) : quiet,
    warn: console.warn.bind(console, prefix),
    error: console.error.bind(console, prefix),
    getChild: (name) => clientLogger(`${prefix} ${name}`),
  };
}

/** Describes an SDK error (MatrixError or otherwise) in one line, errcode and status included. */
export function describeError(err) {
  if (!err) return String(err);
  const parts = [];
  if (err.httpStatus) parts.push(`HTTP ${err.httpStatus}`);
  if (err.errcode) parts.push(err.errcode);
  parts.push(err.message ?? String(err));
  if (err.url) parts.push(`(${err.url})`);
  return parts.join(" ");
}

/**
 * Registers `username` through POST /register with user-interactive auth, as Element does:
 * the SDK's InteractiveAuth reads the flows from the 401 answer and completes the
 * m.login.dummy stage itself. Resolves to the /register response (user_id, access_token, ...).
 */
export async function registerUser(baseUrl, username, password) {
  const client = sdk.createClient({ baseUrl, logger: clientLogger(`[register ${username}]`) });
  const auth = new sdk.InteractiveAuth({
    matrixClient: client,
    // Only dummy auth is offered to these tests; a flow needing anything else must fail.
    supportedStages: [sdk.AuthType.Dummy],
    doRequest: (authDict) =>
      client.registerRequest({
        username,
        password,
        initial_device_display_name: `${username} test device`,
        ...(authDict ? { auth: authDict } : {}),
      }),
    stateUpdated: (stage, status) => {
      throw new Error(
        `registration asked for stage ${stage} (${JSON.stringify(status)}); ` +
          "only m.login.dummy can be completed here");
    },
    requestEmailToken: () => {
      throw new Error("registration asked for an email token");
    },
  });
  return withTimeout(`register ${username}`, auth.attemptAuth());
}

/** Logs in with m.login.password; resolves to the /login response. */
export async function loginUser(baseUrl, username, password) {
  const client = sdk.createClient({ baseUrl, logger: clientLogger(`[login ${username}]`) });
  return withTimeout(
    `log in ${username}`,
    client.loginRequest({
      type: "m.login.password",
      identifier: { type: "m.id.user", user: username },
      password,
      initial_device_display_name: `${username} login`,
    }),
  );
}

/**
 * A MatrixClient for `creds` (a /register or /login response) that has finished its first
 * /sync (state PREPARED). Rejects at once when the SDK reports a sync error during start-up
 * (for example an endpoint it needs answered 404) instead of letting it retry for ever.
 * `syncErrors` on the returned client lists every later sync error for failure messages.
 * `beforeStart(client)` runs (and is awaited) before the client starts, e.g. to set up crypto.
 */
export async function startSyncingClient(baseUrl, creds, { beforeStart } = {}) {
  const client = sdk.createClient({
    baseUrl,
    accessToken: creds.access_token,
    userId: creds.user_id,
    deviceId: creds.device_id,
    timelineSupport: true,
    logger: clientLogger(`[${creds.user_id}]`),
  });
  client.syncErrors = [];
  const prepared = new Promise((resolve, reject) => {
    client.on(sdk.ClientEvent.Sync, (state, _prev, data) => {
      if (state === sdk.SyncState.Error) {
        const message = describeError(data?.error);
        client.syncErrors.push(message);
        reject(new Error(`sync failed during start-up: ${message}`));
      } else if (state === sdk.SyncState.Prepared) {
        resolve();
      }
    });
  });
  prepared.catch(() => {}); // awaited below; an early rejection is not "unhandled"
  if (beforeStart) await beforeStart(client);
  await client.startClient({ initialSyncLimit: 50, lazyLoadMembers: false });
  try {
    await withTimeout(`${creds.user_id}: first sync`, prepared);
  } catch (err) {
    client.stopClient();
    throw err;
  }
  return client;
}

/** Resolves `promise` or rejects when it takes longer than `timeoutMs`. */
export async function withTimeout(what, promise, timeoutMs = WAIT_TIMEOUT_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith(`${what}:`)) throw err;
    throw new Error(`${what}: ${describeError(err)}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls `predicate` (which may be async) until it returns a truthy value, which is returned. Fails after
 * `timeoutMs` with `what`, the last value seen through `describe` (when given) and any sync
 * errors of `clients`, so a broken server fails the test quickly and says why.
 */
export async function waitFor(what, predicate, { timeoutMs = WAIT_TIMEOUT_MS, describe,
                                                  clients = [] } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() >= deadline) {
      const details = [];
      if (describe) details.push(`last seen: ${describe()}`);
      for (const c of clients) {
        if (c.syncErrors?.length) {
          details.push(`${c.getUserId()} sync errors: ${c.syncErrors.slice(-3).join("; ")}`);
        }
      }
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}` +
        (details.length ? `\n  ${details.join("\n  ")}` : ""));
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A `step(name, fn)` for node:test whose steps build on each other: once one fails, the rest
 * are skipped rather than failing with errors that only echo the first one.
 */
export function makeSteps(timeoutMs = 60_000) {
  let broken = null;
  return function step(name, fn) {
    it(name, { timeout: timeoutMs }, async (t) => {
      if (broken) {
        t.skip(`an earlier step failed: ${broken}`);
        return;
      }
      try {
        await fn(t);
      } catch (err) {
        broken = name;
        throw err;
      }
    });
  };
}

/** The events of a room's live timeline (empty when the client does not know the room). */
export function liveEvents(client, roomId) {
  return client.getRoom(roomId)?.getLiveTimeline().getEvents() ?? [];
}

export { sdk };

/** The decrypted m.room.message with `body` in the room's live timeline, if there is one. */
export function decrypted(client, roomId, body) {
  return liveEvents(client, roomId).find((e) =>
    e.isEncrypted() && !e.isDecryptionFailure() && e.getType() === "m.room.message" &&
    e.getContent().body === body);
}

/** The room's encrypted events as bodies or UTD(reason), for failure messages. */
function describeEncrypted(client, roomId) {
  return JSON.stringify(liveEvents(client, roomId).filter((e) => e.isEncrypted()).map((e) =>
    e.isDecryptionFailure() ? `UTD(${e.decryptionFailureReason})` : e.getContent().body));
}

/** Waits until `client` has decrypted the message with `body` in the room. */
export async function waitDecrypted(client, roomId, body, timeoutMs = WAIT_TIMEOUT_MS) {
  return waitFor(`${client.getUserId()}/${client.getDeviceId()} to decrypt "${body}"`,
    () => decrypted(client, roomId, body),
    { clients: [client], timeoutMs, describe: () => describeEncrypted(client, roomId) });
}
