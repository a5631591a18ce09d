"""The spool's file system failing under a running relayd: full during DATA, and remounted read-only. The spool
lives on a small tmpfs this test mounts (root only) and unmounts; the outbox stays outside it.

Full: a message bigger than the free space gets `452 4.3.1`, nothing of it is left behind, and the next
message that fits is accepted. Read-only: MAIL..DATA end in a 4.3.x refusal instead of a 250, /readyz says
503 naming the spool, and both recover once the file system is writable again.
"""

from __future__ import annotations

import http.client
import os
import subprocess
from pathlib import Path

import pytest

from relayd_harness import free_port
from smtp_wire import SMTPWire, message


@pytest.fixture
def small_fs(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "spoolfs"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def readyz(port: int) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/readyz")
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def send(relay, subject: str, body: bytes):
    with SMTPWire(relay.host, relay.port, timeout=30) as c:
        c.start()
        assert c.cmd("MAIL FROM:<a@example.org>").code == 250
        assert c.cmd("RCPT TO:<b@example.net>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(message(subject, body) + b".\r\n")
        return c.reply(timeout=30)


def leftovers(spool: Path) -> list[str]:
    return sorted(str(p.relative_to(spool)) for folder in ("incoming", "queue") for p in (spool / folder).iterdir()
                  if p.stat().st_size > 1)  # retired files are kept as 1-byte stubs for reuse (InodeRecycler)


def test_a_full_spool_gives_452_leaves_nothing_and_recovers(relay_factory, small_fs):
    spool = small_fs / "spool"
    relay = relay_factory({"spool": {"path": str(spool)}, "inbound": {"max_message_size": "20MiB"}})
    big = (b"x" * 998 + b"\r\n") * 6000  # ~6 MB into a 4 MB file system
    reply = send(relay, "too big for the disk", big)
    assert (reply.code, reply.enhanced) == (452, "4.3.1"), reply
    assert leftovers(spool) == [], "nothing half-committed"
    assert send(relay, "fits", b"small\r\n").code == 250
    relay.wait_for_outbox(1)
    assert relay.proc.poll() is None


def test_a_read_only_spool_refuses_with_4xx_fails_readiness_and_recovers(relay_factory, small_fs):
    admin = free_port()
    spool = small_fs / "spool"
    relay = relay_factory({"spool": {"path": str(spool)}, "listen": {"admin": f"127.0.0.1:{admin}"}})
    assert readyz(admin)[0] == 200
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    try:
        status, body = readyz(admin)
        assert status == 503 and "not writable" in body and str(spool) in body, (status, body)
        reply = send(relay, "read-only", b"hello\r\n")
        assert reply.code in (451, 452) and reply.enhanced.startswith("4.3."), reply
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_fs)], check=True)
    assert readyz(admin)[0] == 200
    assert send(relay, "writable again", b"hello\r\n").code == 250
    relay.wait_for_outbox(1)
    assert relay.proc.poll() is None
