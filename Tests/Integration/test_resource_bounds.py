"""Resource bounds: max_connections + 100 clients at once. The first max_connections are greeted, the rest get
`421 4.7.0` and are closed at once; relayd's memory stays bounded while they are connected, and every
descriptor they used is released when they leave, so the next client is served as before.

Memory and descriptors are read from /proc/<pid>/status and /proc/<pid>/fd of the relayd this test started.
"""

from __future__ import annotations

import os
import socket
import time

LIMIT = 200
EXTRA = 100


def rss_kib(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def first_line(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(512)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0]


def test_max_connections_plus_100_are_refused_bounded_and_released(relay_factory):
    relay = relay_factory({"inbound": {"max_connections": LIMIT}})
    pid = relay.proc.pid
    time.sleep(0.5)  # the start-up probe's session has ended
    base_fds, base_rss = descriptors(pid), rss_kib(pid)

    clients = []
    try:
        for _ in range(LIMIT + EXTRA):
            s = socket.create_connection((relay.host, relay.port), timeout=15)
            clients.append(s)
        greetings = [first_line(s) for s in clients]
        greeted = [g for g in greetings if g.startswith(b"220 ")]
        refused = [g for g in greetings if g.startswith(b"421 4.7.0")]
        assert (len(greeted), len(refused)) == (LIMIT, EXTRA), {g[:20] for g in greetings}
        # The refused ones are closed by relayd: reading on gives end of stream.
        for s, g in zip(clients, greetings):
            if g.startswith(b"421"):
                assert s.recv(512) == b""
        peak_fds, peak_rss = descriptors(pid), rss_kib(pid)
        assert peak_fds - base_fds <= LIMIT + 10, f"{peak_fds - base_fds} descriptors for {LIMIT} sessions"
        # ~8 KiB per idle session (docs/ARCHITECTURE.md "Memory"); 32 MiB is far above that and far below
        # what buffering per refused client would cost.
        assert peak_rss - base_rss < 32 * 1024, f"RSS grew {peak_rss - base_rss} KiB for {LIMIT} idle sessions"
    finally:
        for s in clients:
            s.close()

    deadline = time.monotonic() + 15
    while descriptors(pid) > base_fds + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert descriptors(pid) <= base_fds + 2, f"{descriptors(pid)} descriptors open after the clients left, {base_fds} before"
    with socket.create_connection((relay.host, relay.port), timeout=15) as again:
        assert first_line(again).startswith(b"220 "), "the next client is served"
    assert relay.proc.poll() is None
