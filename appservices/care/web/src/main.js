// The guest page: ask for access with a name, wait for the owner's answer, then chat.
// Reloading the page resumes the wait or the conversation (sessionStorage).

import { askAccess, CareError, saved, waitForAnswer } from "./access.js";
import { renderTimeline, startChat, watchTimeline } from "./chat.js";

const $ = (id) => document.getElementById(id);
const say = (text) => { $("state").textContent = text; };

const ENDED = "Your access to this conversation has ended. " +
  "You can ask again with the link while it is still valid.";

function showAskForm(message) {
  $("chat").hidden = true;
  $("ask").hidden = false;
  say(message ?? "");
}

async function wait(request) {
  $("ask").hidden = true;
  say("Waiting for the owner of the conversation to let you in…");
  let answer;
  try {
    answer = await waitForAnswer(request);
  } catch (err) {
    saved.forget();
    return showAskForm(err instanceof CareError && err.status === 404
      ? "Your request is no longer known. Please ask again." : `Something went wrong: ${err.message}`);
  }
  if (answer.status === "accepted" && answer.access_token) {
    saved.setCredentials(answer);
    return openChat(answer);
  }
  saved.forget();
  if (answer.status === "accepted") {
    return say("You were let in, but the conversation was opened in another window.");
  }
  if (answer.status === "rejected") return say("Your request was declined.");
  return showAskForm(ENDED);
}

async function ask(event) {
  event.preventDefault();
  const button = $("ask").querySelector("button");
  button.disabled = true;
  try {
    const request = await askAccess($("name").value.trim());
    saved.setRequest(request);
    await wait(request);
  } catch (err) {
    if (!(err instanceof CareError)) return say(`Could not reach the server: ${err.message}`);
    // 403: expired or switched off, 404: revoked or unknown; the link is of no more use.
    if (err.status === 403 || err.status === 404) $("ask").hidden = true;
    say(err.message);
  } finally {
    button.disabled = false;
  }
}

let chat = null; // { client, roomId } while the conversation is open

function ended() {
  chat = null;
  $("message").disabled = true;
  $("send").disabled = true;
  saved.forget();
  showAskForm(ENDED);
}

async function openChat(creds) {
  $("ask").hidden = true;
  say("Opening the conversation…");
  let client;
  try {
    client = await startChat(creds, { onEnded: ended });
  } catch (err) {
    if (err?.errcode === "M_UNKNOWN_TOKEN") return; // ended() has said so
    return say(`Could not open the conversation: ${err.message}`);
  }
  chat = { client, roomId: creds.room_id };
  const room = client.getRoom(creds.room_id);
  if (room?.name) $("title").textContent = room.name;
  $("chat").hidden = false;
  watchTimeline(client, creds.room_id, () => renderTimeline(client, creds.room_id, $("timeline")));
  $("message").disabled = false;
  $("send").disabled = false;
  say("You are in the conversation. Messages are end-to-end encrypted.");
  $("message").focus();
}

function send(event) {
  event.preventDefault();
  const message = $("message");
  const text = message.value.trim();
  if (!chat || !text) return;
  message.value = "";
  chat.client.sendTextMessage(chat.roomId, text)
    .catch((err) => say(`Your message was not sent: ${err.message}`));
}

function start() {
  $("ask").addEventListener("submit", ask);
  $("compose").addEventListener("submit", send);
  $("message").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("compose").requestSubmit();
    }
  });
  const creds = saved.credentials();
  if (creds) return openChat(creds);
  const request = saved.request();
  if (request) return wait(request);
  showAskForm();
}

start();
