// The guest's web page (R15): asks the name, requests access and polls for the owner's answer.
// A static text; the in-browser Matrix chat client is a later step.
#pragma once

#include <string_view>

namespace haven::care {

inline constexpr std::string_view kGuestPageHtml = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Join the conversation</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<h1>Join the conversation</h1>
<form id="ask"><label>Your name <input id="name" maxlength="64" required></label>
<button type="submit">Ask for access</button></form>
<p id="state" role="status"></p>
<script>
const token = location.pathname.split('/').pop();
const base = '/_haven/care/v1';
const state = document.getElementById('state');
async function poll(id, pollToken) {
  const r = await fetch(`${base}/guest_requests/${encodeURIComponent(id)}?poll_token=${encodeURIComponent(pollToken)}`);
  const body = await r.json();
  if (body.status === 'pending') { setTimeout(() => poll(id, pollToken), 3000); return; }
  if (body.status === 'accepted') {
    if (body.access_token) sessionStorage.setItem('haven-guest', JSON.stringify(body));
    state.textContent = 'You are in. The chat opens here in a later version.';
  } else if (body.status === 'rejected') {
    state.textContent = 'Your request was declined.';
  } else {
    state.textContent = 'Your access has ended. Ask again with the link if it is still valid.';
  }
}
document.getElementById('ask').addEventListener('submit', async (e) => {
  e.preventDefault();
  const r = await fetch(`${base}/guest_links/${encodeURIComponent(token)}/requests`, {
    method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({name: document.getElementById('name').value})});
  const body = await r.json();
  if (!r.ok) { state.textContent = body.error || 'This link cannot be used.'; return; }
  state.textContent = 'Waiting for the owner of the conversation to let you in...';
  poll(body.request_id, body.poll_token);
});
</script></body></html>
)HTML";

}  // namespace haven::care
