"""Relay policy and limits: who may relay, sizes, recipients, connections, timeouts, bad input."""

from __future__ import annotations

import time

import pytest

from smtp_wire import ConnectionClosed, message

KIB = 1024
MIB = 1024 * 1024


# -- who may relay ---------------------------------------------------------------------------

def test_only_allowed_networks_may_relay(relay_factory, wire):
    relay = relay_factory({"inbound": {"allowed_networks": ["127.0.0.1/32"]}})

    outsider = wire(relay, source="127.0.0.2")
    outsider.start()
    assert outsider.cmd("MAIL FROM:<a@example.com>").code == 250
    r = outsider.cmd("RCPT TO:<b@example.com>")
    assert r.status == "554 5.7.1", r
    assert outsider.cmd("DATA").status == "503 5.5.1", "no recipient was accepted"

    insider = wire(relay, source="127.0.0.1")
    insider.start()
    r = insider.send_message("a@example.com", ["b@example.com"], message("allowed", "from 127.0.0.1"))
    assert r.status == "250 2.0.0", r
    relay.wait_for_outbox(1)


def _relay_attempt(c) -> str:
    c.start()
    assert c.cmd("MAIL FROM:<a@example.com>").code == 250
    return c.cmd("RCPT TO:<b@example.com>").status


def test_ipv6_clients_are_matched_against_ipv6_networks(relay_factory, wire):
    relay = relay_factory({"inbound": {"allowed_networks": ["::1/128"]}}, start=False)
    v6_port = free_port_v6()
    relay.config["listen"]["smtp"].append(f"[::1]:{v6_port}")
    relay.start()
    assert _relay_attempt(SMTPWireAt(wire, "::1", v6_port)) == "250 2.1.5"
    assert _relay_attempt(wire(relay)) == "554 5.7.1", "127.0.0.1 is not in ::1/128"


def free_port_v6(host: str = "::1") -> int:
    import socket
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def SMTPWireAt(wire, host: str, port: int, **kw):
    """A raw connection to an address other than the relay's first listener (closed by `wire`)."""
    from types import SimpleNamespace
    return wire(SimpleNamespace(host=host, port=port), **kw)


# -- sizes -------------------------------------------------------------------------------------

@pytest.fixture
def small_relay(relay_factory):
    return relay_factory({"inbound": {"max_message_size": "100KiB"}})


def test_declared_size_over_the_limit_is_refused_at_mail(small_relay, wire):
    c = wire(small_relay)
    c.start()
    r = c.cmd(f"MAIL FROM:<a@example.com> SIZE={MIB}")
    assert r.status == "552 5.3.4", r
    r = c.cmd(f"MAIL FROM:<a@example.com> SIZE={50 * KIB}")
    assert r.code == 250, r


def test_data_over_the_limit_is_refused_after_the_dot_and_the_session_survives(small_relay, wire):
    c = wire(small_relay)
    c.start()
    assert c.cmd("MAIL FROM:<a@example.com>").code == 250
    assert c.cmd("RCPT TO:<b@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    line = b"x" * 998 + b"\r\n"
    big = message("too-big", "") + line * (MIB // len(line))
    c.send(big)
    # the reply must wait for the end of the data, not cut the client off mid-message
    assert c.nothing_within(0.5), f"replied before the final dot: {c.buf!r}"
    c.send(b".\r\n")
    r = c.reply(timeout=30)
    assert r.status == "552 5.3.4", r

    small = message("small-after-big", "fits")
    r = c.send_message("a@example.com", ["b@example.com"], small)
    assert r.status == "250 2.0.0", r
    [path] = small_relay.wait_for_outbox(1)
    assert b"small-after-big" in path.read_bytes(), "only the small message may be queued"


def test_message_just_under_the_limit_is_accepted(small_relay, wire):
    c = wire(small_relay)
    c.start()
    head = message("just-fits", "")
    line = b"y" * 78 + b"\r\n"
    body = line * ((90 * KIB) // len(line))
    r = c.send_message("a@example.com", ["b@example.com"], head + body)
    assert r.status == "250 2.0.0", r
    small_relay.wait_for_outbox(1)


def _message_of_exactly(size: int, subject: str) -> bytes:
    head = f"Subject: {subject}\r\n\r\n".encode()
    room = size - len(head)
    line = b"z" * 98 + b"\r\n"
    body = line * (room // len(line))
    rest = room - len(body)
    if rest:
        assert rest >= 2
        body += b"z" * (rest - 2) + b"\r\n"
    data = head + body
    assert len(data) == size
    return data


def test_size_limit_boundaries(small_relay, wire):
    """max_message_size is the largest message accepted: SIZE=limit and exactly limit octets pass,
    one octet more is refused (SIZE at MAIL, data after the dot)."""
    limit = 100 * KIB
    c = wire(small_relay)
    c.start()
    assert c.cmd(f"MAIL FROM:<a@example.com> SIZE={limit + 1}").status == "552 5.3.4"
    assert c.cmd(f"MAIL FROM:<a@example.com> SIZE={limit}").code == 250
    assert c.cmd("RSET").code == 250

    over = _message_of_exactly(limit + 1, "one-octet-over")
    assert c.cmd("MAIL FROM:<a@example.com>").code == 250
    assert c.cmd("RCPT TO:<b@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(over + b".\r\n")
    assert c.reply().status == "552 5.3.4"

    exact = _message_of_exactly(limit, "exactly-the-limit")
    r = c.send_message("a@example.com", ["b@example.com"], exact)
    assert r.status == "250 2.0.0", r
    [path] = small_relay.wait_for_outbox(1)
    assert b"exactly-the-limit" in path.read_bytes()


# -- recipients --------------------------------------------------------------------------------

def test_recipients_over_the_limit_get_452_and_the_rest_is_delivered(relay_factory, wire):
    relay = relay_factory({"inbound": {"max_recipients": 3}})
    c = wire(relay)
    c.start()
    assert c.cmd("MAIL FROM:<a@example.com>").code == 250
    for i in range(3):
        assert c.cmd(f"RCPT TO:<r{i}@example.com>").code == 250
    r = c.cmd("RCPT TO:<r3@example.com>")
    assert r.status == "452 4.5.3", r
    assert c.cmd("DATA").code == 354, "the three accepted recipients still get the message"
    c.send(message("three-rcpts", "x") + b".\r\n")
    assert c.reply().status == "250 2.0.0"
    relay.wait_for_outbox(1)


# -- connections -------------------------------------------------------------------------------

def _open_greeted(relay, wire, attempts: int = 20):
    """A connection that got 220 (retrying briefly while an earlier slot is still being freed)."""
    for _ in range(attempts):
        c = wire(relay)
        g = c.greeting()
        if g.code == 220:
            return c
        c.close()
        time.sleep(0.1)
    raise AssertionError(f"no 220 after {attempts} attempts, last: {g}")


def test_connections_over_the_limit_get_421_and_are_closed(relay_factory, wire):
    relay = relay_factory({"inbound": {"max_connections": 5}})
    held = [_open_greeted(relay, wire) for _ in range(5)]
    for c in held:
        assert c.cmd("NOOP").code == 250

    sixth = wire(relay)
    r = sixth.greeting()
    assert r.status == "421 4.7.0", r
    assert sixth.wait_closed(5), "the refused connection must be closed"

    held[0].cmd("QUIT")
    held[0].wait_closed(5)
    held[0].close()
    again = _open_greeted(relay, wire)
    assert again.cmd("NOOP").code == 250, "a freed slot is usable again"


def test_the_default_limit_of_1000_connections_is_reachable(relay, wire):
    """With the default max_connections (1000), 1000 clients at once are all greeted (relayd has
    the file descriptors for them) and the 1001st gets 421 4.7.0."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        if hard != resource.RLIM_INFINITY and hard < 1200:
            pytest.skip(f"this process may only open {hard} files")
        resource.setrlimit(resource.RLIMIT_NOFILE, (1200, hard))
    held = [wire(relay, timeout=30) for _ in range(1000)]
    for i, c in enumerate(held):
        g = c.greeting()
        assert g.code == 220, f"connection {i + 1} of 1000: {g}"
    extra = wire(relay)
    r = extra.greeting()
    assert r.status == "421 4.7.0", r
    assert held[-1].cmd("NOOP").code == 250


# -- timeouts ----------------------------------------------------------------------------------

def test_idle_client_gets_421_and_is_closed(relay_factory, wire):
    relay = relay_factory({"inbound": {"command_timeout": "2s"}})
    c = wire(relay)
    c.start()
    t0 = time.monotonic()
    r = c.reply(timeout=15)
    waited = time.monotonic() - t0
    assert r.status == "421 4.4.2", r
    assert 1.5 <= waited <= 10, f"timed out after {waited:.1f}s, configured 2s"
    assert c.wait_closed(5), "the connection must be closed after the 421"


def test_idle_before_ehlo_also_times_out(relay_factory, wire):
    relay = relay_factory({"inbound": {"command_timeout": "2s"}})
    c = wire(relay)
    assert c.greeting().code == 220
    r = c.reply(timeout=15)
    assert r.status == "421 4.4.2", r
    assert c.wait_closed(5)


def test_stalled_data_times_out_and_nothing_is_queued(relay_factory, wire):
    relay = relay_factory({"inbound": {"data_timeout": "2s"}})
    c = wire(relay)
    c.start()
    assert c.cmd("MAIL FROM:<a@example.com>").code == 250
    assert c.cmd("RCPT TO:<b@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(b"Subject: stalled\r\n\r\nhalf a message")
    t0 = time.monotonic()
    r = c.reply(timeout=15)
    waited = time.monotonic() - t0
    assert r.status == "421 4.4.2", r
    assert 1.5 <= waited <= 10, f"timed out after {waited:.1f}s, configured 2s"
    assert c.wait_closed(5)
    time.sleep(1.0)
    assert relay.outbox_files() == [], "a message cut off by a timeout must not be queued"


def test_client_vanishing_mid_data_queues_nothing(relay, wire):
    c = wire(relay)
    c.start()
    assert c.cmd("MAIL FROM:<a@example.com>").code == 250
    assert c.cmd("RCPT TO:<b@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(b"Subject: vanished\r\n\r\n" + b"partial line\r\n" * 1000)
    c.close()
    d = wire(relay)
    d.start()
    assert d.send_message("a@example.com", ["b@example.com"], message("survivor", "x")).code == 250
    [path] = relay.wait_for_outbox(1, settle=1.0)
    assert b"survivor" in path.read_bytes()


# -- bad input -----------------------------------------------------------------------------------

def test_command_line_limit_is_1000_octets_including_crlf(relay, wire):
    c = wire(relay)
    c.start()
    exactly = "NOOP " + "a" * (1000 - len("NOOP ") - 2)
    assert len(exactly) + 2 == 1000
    r = c.cmd(exactly)
    assert r.code == 250, f"a 1000-octet line is legal: {r}"
    one_more = exactly + "a"
    r = c.cmd(one_more)
    assert r.status == "500 5.5.2", r
    assert c.cmd("NOOP").code == 250, "the session goes on after a long line"


def test_very_long_line_gets_one_error_and_the_session_goes_on(relay, wire):
    c = wire(relay)
    c.start()
    c.send(b"MAIL FROM:<" + b"a" * 64 * KIB + b"@example.com>\r\n")
    r = c.reply()
    assert r.status == "500 5.5.2", r
    r = c.cmd("NOOP")
    assert r.code == 250, f"expected exactly one error for the long line, then NOOP's 250: {r}"


def test_nul_in_a_command_is_rejected(relay, wire):
    c = wire(relay)
    c.start()
    r = c.cmd(b"MAIL FROM:<a\x00@example.com>")
    assert r.status == "501 5.5.2", r
    r = c.cmd(b"NO\x00OP")
    assert r.status == "501 5.5.2", r
    assert c.cmd("NOOP").code == 250


def test_unknown_command(relay, wire):
    c = wire(relay)
    c.start()
    assert c.cmd("FROB").status == "500 5.5.1"
    assert c.cmd("NOOP").code == 250


def test_ten_errors_close_the_connection(relay, wire):
    c = wire(relay)
    c.start()
    codes = []
    for i in range(12):
        try:
            r = c.cmd(f"BOGUS{i}")
        except (ConnectionClosed, BrokenPipeError, ConnectionResetError):
            break
        codes.append(r.status)
        if r.code == 421:
            break
    assert codes[-1].startswith("421"), f"expected a 421 before the close: {codes}"
    rejected = codes[:-1]
    assert rejected and all(s == "500 5.5.1" for s in rejected), codes
    assert len(rejected) in (9, 10), f"the 10th error (or the command after it) must end the session: {codes}"
    assert c.wait_closed(5), "connection must be closed after the 421"


def test_broken_connections_give_their_slot_back(relay_factory, wire):
    """max_connections counts live sessions only: 40 clients that vanish in every state (reset right
    away, after EHLO, inside MAIL, in the middle of DATA) leave all 5 slots usable."""
    import socket
    import struct

    relay = relay_factory({"inbound": {"max_connections": 5}})
    steps = [
        [],
        [b"EHLO x\r\n"],
        [b"EHLO x\r\n", b"MAIL FROM:<a@example.com>\r\n"],
        [b"EHLO x\r\n", b"MAIL FROM:<a@example.com>\r\n", b"RCPT TO:<b@example.com>\r\n", b"DATA\r\n",
         b"Subject: cut\r\n\r\nhalf"],
    ]
    for i in range(40):
        c = _open_greeted(relay, wire, attempts=50)
        for line in steps[i % len(steps)]:
            c.send(line)
            time.sleep(0.005)
        if i % 2:
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
        c.close()
    time.sleep(1.0)
    held = [_open_greeted(relay, wire, attempts=50) for _ in range(5)]
    for h in held:
        assert h.cmd("NOOP").code == 250
    assert relay.outbox_files() == [], "no cut-off message may be queued"
