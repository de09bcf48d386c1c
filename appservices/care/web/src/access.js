// The guest's side of haven-care's REST API: ask for access through a guest link, then poll
// the request until the owner answers. Also remembers the request and the credentials in
// sessionStorage, so that reloading the page resumes where the guest was.

const API = "../../v1"; // relative to /_haven/care/v1/guest_links/{token}
const POLL_INTERVAL_MS = 2000;
const POLL_RETRY_MAX_MS = 30000;

/** The link token: the last segment of /_haven/care/v1/guest_links/{token}. */
export function linkToken() {
  return decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() ?? "");
}

function storageKey(kind) {
  return `haven-guest:${kind}:${linkToken()}`;
}

export const saved = {
  request: () => JSON.parse(sessionStorage.getItem(storageKey("request")) ?? "null"),
  credentials: () => JSON.parse(sessionStorage.getItem(storageKey("credentials")) ?? "null"),
  setRequest: (r) => sessionStorage.setItem(storageKey("request"), JSON.stringify(r)),
  setCredentials: (c) => sessionStorage.setItem(storageKey("credentials"), JSON.stringify(c)),
  forget: () => {
    sessionStorage.removeItem(storageKey("request"));
    sessionStorage.removeItem(storageKey("credentials"));
  },
};

/** An error haven-care answered with; `message` is its readable `error` text. */
export class CareError extends Error {
  constructor(status, body) {
    super(body?.error ?? `The server answered ${status}`);
    this.status = status;
    this.errcode = body?.errcode;
  }
}

async function call(method, path, body) {
  const url = new URL(`${API}${path}`, location.href);
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let answer = null;
  try {
    answer = await res.json();
  } catch {
    // not JSON: a proxy's error page
  }
  if (!res.ok) throw new CareError(res.status, answer);
  return answer;
}

/** POST .../guest_links/{token}/requests {"name"} -> {request_id, poll_token}. */
export function askAccess(name) {
  return call("POST", `/guest_links/${encodeURIComponent(linkToken())}/requests`, { name });
}

/**
 * Polls GET .../guest_requests/{id}?poll_token= until the status is no longer "pending" and
 * resolves to the last answer. Network failures and server errors (5xx) are retried with a
 * growing pause; any other error answer (e.g. 404 for an unknown request) rejects.
 */
export async function waitForAnswer({ request_id: id, poll_token: pollToken }) {
  const path = `/guest_requests/${encodeURIComponent(id)}?poll_token=` +
    encodeURIComponent(pollToken);
  let pause = POLL_INTERVAL_MS;
  for (;;) {
    try {
      const answer = await call("GET", path);
      if (answer.status !== "pending") return answer;
      pause = POLL_INTERVAL_MS;
    } catch (err) {
      if (err instanceof CareError && err.status < 500) throw err;
      pause = Math.min(pause * 2, POLL_RETRY_MAX_MS);
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
