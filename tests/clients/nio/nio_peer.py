#!/usr/bin/env python3
"""One side of the matrix-nio interop test (tests/clients/nio_interop.test.mjs): a matrix-nio
client with python3-olm logs in, joins the encrypted room it was invited to, waits until the
matrix-js-sdk client's message decrypts, answers with an encrypted message of its own and
waits until the server has it. Progress goes to stdout as JSON lines for the test to follow.

usage: nio_peer.py HOMESERVER_URL USER_ID PASSWORD ROOM_ID EXPECTED_BODY REPLY_BODY"""

import asyncio
import json
import sys
import tempfile
import time

from nio import AsyncClient, AsyncClientConfig, JoinError, LoginError, RoomMessageText
from nio import RoomSendError, MegolmEvent

TIMEOUT_S = 90


def report(**fields):
    print(json.dumps(fields), flush=True)


async def keep_keys_in_step(client):
    """What nio's sync_forever does around each sync: key upload, query, claim, to-device."""
    if client.should_upload_keys:
        await client.keys_upload()
    if client.should_query_keys:
        await client.keys_query()
    if client.should_claim_keys:
        await client.keys_claim(client.get_users_for_key_claiming())
    await client.send_to_device_messages()


async def run(url, user_id, password, room_id, expected, reply):
    store = tempfile.mkdtemp(prefix="nio-store-")
    config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False)
    client = AsyncClient(url, user_id, store_path=store, config=config)
    try:
        login = await client.login(password, device_name="nio interop")
        if isinstance(login, LoginError):
            raise RuntimeError(f"login failed: {login.message}")
        await client.sync(timeout=0, full_state=True)
        await keep_keys_in_step(client)
        joined = await client.join(room_id)
        if isinstance(joined, JoinError):
            raise RuntimeError(f"join failed: {joined.message}")
        report(step="joined", device_id=client.device_id)
        deadline = time.monotonic() + TIMEOUT_S
        got = None
        while got is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no decryptable message {expected!r} in time")
            sync = await client.sync(timeout=1000)
            await keep_keys_in_step(client)
            room = sync.rooms.join.get(room_id) if hasattr(sync, "rooms") else None
            for event in room.timeline.events if room else []:
                if isinstance(event, RoomMessageText) and event.body == expected:
                    got = event
                elif isinstance(event, MegolmEvent):
                    report(step="undecryptable", session_id=event.session_id)
        report(step="decrypted", body=got.body, sender=got.sender, encrypted=got.decrypted)
        if not got.decrypted:
            raise RuntimeError("the message was not end-to-end encrypted")
        sent = await client.room_send(room_id, "m.room.message",
                                      {"msgtype": "m.text", "body": reply},
                                      ignore_unverified_devices=True)
        if isinstance(sent, RoomSendError):
            raise RuntimeError(f"send failed: {sent.message}")
        await keep_keys_in_step(client)
        report(step="sent", event_id=sent.event_id)
    finally:
        await client.close()


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    try:
        asyncio.run(run(*sys.argv[1:]))
    except Exception as err:  # the test reads the reason from stdout
        report(step="error", error=str(err))
        sys.exit(1)


if __name__ == "__main__":
    main()
