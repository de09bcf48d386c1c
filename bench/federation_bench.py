#!/usr/bin/env python3
"""Federation benchmark rows: two Release `haven` servers on loopback, federating over TLS.

1. A user of hs2.test joins (by room id, via hs1.test) a public room of hs1.test that holds
   --state-events custom state events: seconds from POST /join to its 200, and hs2's peak RSS.
2. --senders users of hs2.test, joined to a room of hs1.test, send --messages messages as fast
   as they can; hs2's outbox batches them into transactions (at most 50 PDUs each) and the
   figure is PDUs/s until the last one can be read on hs1.

Prints Markdown table rows (| Measure | Result | Target | Notes |) on stdout, progress on
stderr; bench/run.sh appends them to haven_bench's table. Measures, never passes or fails on a
figure. The servers are configured the way tests/integration/federation_harness.py does it
(whose code this uses): openssl test certificates, federation.test_host_overrides,
insecure_test_servers and allowed_servers naming each other. See bench/README.md.
"""

import argparse
import os
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("HAVEN_BIN", os.path.join(ROOT, "build", "release", "homeserver", "haven"))

from federation_harness import FederatedServers  # noqa: E402
from harness import quote, unique  # noqa: E402

RESIDENT, JOINER = "hs1.test", "hs2.test"
REQUEST_TIMEOUT_S = 900  # the join of a big room is one request

OPTIONS = {  # as bench/run.sh: rate limits off, plain rooms, request lines only at info
    "logging.level": "info",
    "rooms.encryption_enabled_by_default": "false",
    "rate_limits.rc_login.per_second": "0",
    "rate_limits.rc_registration.per_second": "0",
    "rate_limits.rc_message.per_second": "0",
}


def progress(line):
    print(f"federation_bench: {line}", file=sys.stderr, flush=True)


def row(measure, result, notes):
    print(f"| {measure} | {result} |  | {notes} |", flush=True)


def proc_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def reset_peak_rss(pid):
    """Resets VmHWM to the current RSS (5 into clear_refs); False where the kernel refuses."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def mib(kib):
    return f"{kib / 1024:.1f} MiB"


class Bench:
    def __init__(self, cluster):
        self.cluster = cluster
        self.servers = cluster.servers

    def request(self, who, method, path, body=None, expect=200):
        full = path if path.startswith("/_") else "/_matrix/client/v3" + path
        status, reply = self.servers[who["server"]].client().request(
            method, full, body, token=who["access_token"], timeout=REQUEST_TIMEOUT_S)
        if expect is not None and status != expect:
            raise RuntimeError(f"{method} {path.split('?')[0]} on {who['server']}: "
                               f"HTTP {status} {reply}")
        return status, reply

    def user(self, server, prefix):
        reply = self.servers[server].client().register(unique(prefix))
        reply["server"] = server
        return reply

    def pid(self, server):
        return self.servers[server].process.pid

    def public_room(self, owner):
        _, reply = self.request(owner, "POST", "/createRoom", {"preset": "public_chat"})
        return reply["room_id"]

    def log_size(self, server):
        return os.path.getsize(self.servers[server].log_path)

    def log_since(self, server, offset):
        with open(self.servers[server].log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")

    # --- 1. joining a big room ----------------------------------------------------------------

    def fill_state(self, owner, room_id, count, workers=16):
        """`count` state events of one custom type with distinct state keys, `workers` PUTs in
        flight."""
        def put(i):
            self.request(owner, "PUT",
                         f"/rooms/{quote(room_id)}/state/org.example.bench.state/key{i}",
                         {"n": i, "text": f"state event number {i}"})

        with ThreadPoolExecutor(workers) as pool:
            for _ in pool.map(put, range(count)):
                pass

    def big_room_join(self, state_events):
        alice = self.user(RESIDENT, "alice")
        bob = self.user(JOINER, "bob")
        room_id = self.public_room(alice)
        progress(f"sending {state_events} state events into {room_id} on {RESIDENT}")
        start = time.monotonic()
        self.fill_state(alice, room_id, state_events)
        fill_s = time.monotonic() - start

        pid = self.pid(JOINER)
        hwm_before, rss_before = proc_kib(pid, "VmHWM"), proc_kib(pid, "VmRSS")
        reset = reset_peak_rss(pid)
        progress(f"{bob['user_id']} joins {room_id} via {RESIDENT}")
        start = time.monotonic()
        self.request(bob, "POST", f"/join/{quote(room_id)}?server_name={RESIDENT}", {})
        join_s = time.monotonic() - start
        hwm_after, rss_after = proc_kib(pid, "VmHWM"), proc_kib(pid, "VmRSS")
        anon_after, file_after = proc_kib(pid, "RssAnon"), proc_kib(pid, "RssFile")

        _, state = self.request(bob, "GET", f"/rooms/{quote(room_id)}/state")
        custom = sum(1 for e in state if e.get("type") == "org.example.bench.state")
        row(f"Federated join of a room with {state_events:,} state events",
            f"{join_s:.2f} s",
            f"POST /join/{{roomId}}?server_name=hs1.test on hs2 until its 200 (make_join, "
            f"send_join, checks and storage of the room state; both servers on this machine). "
            f"Afterwards hs2 serves {custom:,} of the {state_events:,} custom state events in "
            f"GET /state. hs2 peak RSS (VmHWM): {mib(hwm_before)} before (since start-up: "
            f"password hashing of registration), "
            f"{mib(hwm_after)} {'during the join (VmHWM reset to VmRSS just before)' if reset else 'after'}"
            f"; VmRSS {mib(rss_before)} → {mib(rss_after)} (after: RssAnon "
            f"{mib(anon_after)}, RssFile {mib(file_after)}). Filling the room on hs1: "
            f"{state_events:,} PUT /state, 16 in flight, {fill_s:.1f} s")

    # --- 2. inbound /send ------------------------------------------------------------------------

    def inbound_send(self, senders, messages):
        alice = self.user(RESIDENT, "owner")
        room_id = self.public_room(alice)
        users = [self.user(JOINER, "sender") for _ in range(senders)]
        for u in users:
            self.request(u, "POST", f"/join/{quote(room_id)}?server_name={RESIDENT}", {})
        time.sleep(2)  # let the joins' own transactions settle before the log is cut
        per_sender = messages // senders
        total = per_sender * senders
        last_ids = [None] * senders
        progress(f"{senders} users of {JOINER} send {total} messages into {room_id}")
        log_offset = self.log_size(RESIDENT)

        def send_all(k):
            for i in range(per_sender):
                _, reply = self.request(
                    users[k], "PUT",
                    f"/rooms/{quote(room_id)}/send/m.room.message/{unique('txn')}",
                    {"msgtype": "m.text", "body": f"message {i} from sender {k}"})
                last_ids[k] = reply["event_id"]

        start = time.monotonic()
        threads = [threading.Thread(target=send_all, args=(k,)) for k in range(senders)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        sent_s = time.monotonic() - start
        if any(e is None for e in last_ids):
            raise RuntimeError("a sender thread failed (see above)")

        # One GET in flight at a time, every 10 ms at most, so the polling barely loads hs1.
        waiting = list(last_ids)
        deadline = time.monotonic() + 600
        while waiting and time.monotonic() < deadline:
            status, _ = self.request(alice, "GET",
                                     f"/rooms/{quote(room_id)}/event/{quote(waiting[0])}",
                                     expect=None)
            if status == 200:
                waiting.pop(0)
            else:
                time.sleep(0.01)
        arrived_s = time.monotonic() - start
        log = self.log_since(RESIDENT, log_offset)
        txns = len(re.findall(r"PUT /_matrix/federation/v1/send/\S+ 200", log))
        received = self.count_messages(alice, room_id, {u["user_id"] for u in users})
        timed_out = " (time limit: not every sender's last message arrived)" if waiting else ""
        row(f"Inbound federation /send, {senders} remote senders",
            f"{received / arrived_s:,.0f} PDUs/s{timed_out}",
            f"{total:,} m.room.message sent on hs2 by {senders} users ({per_sender} each, one "
            f"request at a time per user; hs2 accepted them in {sent_s:.1f} s = "
            f"{total / sent_s:,.0f}/s), until each sender's last event is readable with GET "
            f"/rooms/{{roomId}}/event on hs1: {arrived_s:.1f} s. hs1 holds {received:,} of "
            f"them afterwards (GET /messages). hs2's outbox filled {txns:,} PUT /send "
            f"transactions answered 200 by hs1 in that time, "
            f"{(total / txns if txns else 0):.1f} PDUs per transaction on average (at most "
            f"50)")

    def count_messages(self, who, room_id, senders):
        count, token = 0, None
        while True:
            path = f"/rooms/{quote(room_id)}/messages?dir=b&limit=1000"
            if token:
                path += f"&from={quote(token)}"
            _, reply = self.request(who, "GET", path)
            chunk = reply.get("chunk", [])
            count += sum(1 for e in chunk
                         if e.get("type") == "m.room.message" and e.get("sender") in senders)
            token = reply.get("end")
            if not chunk or not token:
                return count


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--state-events", type=int, default=10000)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--senders", type=int, default=8)
    args = parser.parse_args()
    if not (0 < args.senders <= 100 and args.senders <= args.messages <= 1_000_000
            and 0 <= args.state_events <= 1_000_000):
        parser.error("sizes out of range")

    cluster = FederatedServers([RESIDENT, JOINER], options=OPTIONS)
    status = 0
    try:
        cluster.start()
        for name in cluster.names:
            progress(f"{name}: pid {cluster.servers[name].process.pid}, log "
                     f"{cluster.servers[name].log_path}")
        bench = Bench(cluster)
        bench.big_room_join(args.state_events)
        bench.inbound_send(args.senders, args.messages)
    except Exception as e:  # the rows so far stand; say why the rest is missing
        row("Federation run stopped early", "—", str(e).replace("|", "/")[:300])
        for name in cluster.names:
            progress(f"{name} log tail:\n{cluster.servers[name].log_tail(20)}")
        status = 1
    finally:
        for name, server in cluster.servers.items():
            try:
                code = server.terminate() if server.running() else 0
                if code:
                    progress(f"{name} exited with {code} after SIGTERM")
            except AssertionError as e:  # did not exit in time; cleanup() kills it
                progress(str(e))
        cluster.cleanup()
    return status


if __name__ == "__main__":
    sys.exit(main())
